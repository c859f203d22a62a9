// Finding and changing documents: the shared core of update, replace, delete
// and findAndModify. Each document changes atomically under its row lock, with
// the filter re-checked on the locked version.
#pragma once

#include <optional>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "query/filter.h"
#include "query/sort.h"
#include "update/update.h"

namespace docket::engine {

struct ModifyRequest {
  const Document* raw_filter = nullptr;     // for upsert seeding
  const query::Filter* filter = nullptr;
  const query::SortSpec* sort = nullptr;    // may be empty; ModifyOne only
  const update::Update* update = nullptr;   // null: delete
  bool upsert = false;
  const Document* raw_sort = nullptr;       // `sort` as given, for the planner (may be null)
  const IndexHint* hint = nullptr;          // the index to read through (may be null)
  const text::Collator* collation = nullptr;  // the filter's and sort's (null: simple), for the planner
};

struct ModifyOutcome {
  int64_t matched = 0;
  int64_t modified = 0;                // changed or deleted
  std::optional<Document> before;      // ModifyOne: the matched document
  std::optional<Document> after;       // ModifyOne: the document as written
  std::optional<Document> upserted_id; // {_id: v} when an upsert inserted
};

// Changes the first matching document (by sort, else by _id), or upserts.
// Concurrent upserts of the same _id never report DuplicateKey: the loser
// retries as an update, as MongoDB does since 4.2.
Result<ModifyOutcome> ModifyOne(EngineImpl* engine, EntryGuard& guard, const ModifyRequest& request,
                                const WriteOptions& options);

// Changes every matching document, each atomically (not all together, unless
// in a user transaction), then upserts if none matched.
Result<ModifyOutcome> ModifyMany(EngineImpl* engine, EntryGuard& guard, const ModifyRequest& request,
                                 const WriteOptions& options);

}  // namespace docket::engine
