// Sorter: orders documents by a sort specification within a memory budget.
// Up to the budget the rows sit in memory; past it they spill to a
// SpillArea keyed by the sort key, and RocksDB's ordered iteration does the
// merge. With a limit (keep the first N) it holds a bounded heap instead and
// never spills. Ties keep the input order (the sort is stable).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/spill.h"
#include "engine/stream.h"
#include "query/sort.h"

namespace docket::engine {

struct SortBudget {
  size_t memory_limit_bytes = 100 << 20;
  // false: going past the budget fails with QueryExceededMemoryLimitNoDiskUseAllowed (292).
  bool allow_disk_use = true;
};

// Not thread-safe. The engine outlives the Sorter and the stream it returns.
class Sorter {
 public:
  // `keep`: only the first `keep` documents in sort order are wanted
  // (SIZE_MAX: all of them).
  Sorter(EngineImpl* engine, const query::SortSpec& spec, size_t keep, SortBudget budget);

  Status Add(Document doc);
  // The documents in order. REQUIRES: called once, after the last Add.
  Result<StreamPtr> Finish();

  bool spilled() const { return spill_ != nullptr; }

 private:
  struct Row {
    query::SortSpec::SortValues values;
    uint64_t sequence;
    Document doc;
  };
  bool Before(const Row& a, const Row& b) const;
  size_t RowBytes(const Row& r) const;
  Status SpillRows();

  EngineImpl* engine_;
  const query::SortSpec& spec_;
  size_t keep_;
  SortBudget budget_;
  std::vector<Row> rows_;  // a max-heap by sort order when keep_ is bounded
  size_t bytes_ = 0;
  uint64_t sequence_ = 0;
  std::unique_ptr<SpillArea> spill_;
};

}  // namespace docket::engine
