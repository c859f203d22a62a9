// The state behind a Cursor: either a streaming scan that filters, skips,
// limits and projects record by record, or (for sorts and point lookups) a
// materialised, already-ordered list of matches.
#pragma once

#include <deque>
#include <memory>

#include "engine/engine_impl.h"
#include "engine/write_path.h"
#include "query/filter.h"
#include "query/projection.h"

namespace docket {

class CursorImpl {
 public:
  query::Filter filter;
  query::Projection projection;
  int64_t to_skip = 0;
  int64_t remaining = -1;  // documents still to return; -1: no limit
  size_t batch_size = 101;

  // Streaming mode: scan is set.
  std::unique_ptr<engine::DocumentScan> scan;
  storage::EntryPtr entry;  // keeps the id alive for the cursor's life

  // Materialised mode: results in order; skip/limit already applied.
  std::deque<Document> materialised;

  bool exhausted = false;

  Result<std::vector<Document>> NextBatch(size_t max_documents);
};

}  // namespace docket
