// Index builds that let writers run (MongoDB's hybrid builds), for indexes
// without a uniqueness constraint:
//
//   1. register (createIndexes, collection held exclusively): the index joins
//      the collection's set marked `building`; from then on every writer
//      keeps its entries, and no reader uses it (the planner, hints,
//      listIndexes, the TTL monitor and validate skip it);
//   2. fill (collection held shared: writers run, drop/rename wait): every
//      record is visited in batches; each batch, in one RocksDB transaction,
//      locks its records, reads their latest committed version and writes
//      their entries. A writer that changed a record before the batch kept
//      its entries itself, and its version is the one read; one that changes
//      it after the batch finds the entries there and keeps them. Entries are
//      written idempotently, so both may write the same one;
//   3. finish (held exclusively, briefly): the index is marked ready, without
//      a new index version, so that transactions that wrote meanwhile (and
//      kept its entries) still commit. On failure (a document with no valid
//      keys, killOp, maxTimeMS, the collection or index dropped) the index is
//      removed and its entries deleted.
//
// A unique index is built with the collection held exclusively instead:
// a writer that meets a duplicate of a document the build has not reached
// yet could not tell which of the two the constraint refuses.
// An index found `building` when the engine opens (a crash during a build)
// is built again from the start, before any writer runs.
#pragma once

#include <cstdint>
#include <vector>

#include "docket/status.h"
#include "engine/engine_impl.h"

namespace docket::engine {

// Steps 2 and 3 for the indexes `ids`, registered as building on `entry` by
// step 1 (whose exclusive hold is released). Reports progress
// (docket/progress.h) and checks the operation's deadline (docket/deadline.h)
// between batches. Wakes WaitForIndexBuilds' waiters when done, either way.
// Errors: the fill's (IndexBuildAborted, 276, when the collection or an index
// went meanwhile).
Status BuildRegisteredIndexes(EngineImpl* engine, const storage::EntryPtr& entry, const std::vector<uint64_t>& ids);

// Waits until some index build finishes (or a short while passes), under the
// operation's deadline: for a createIndexes that asks for an index being
// built, which then looks again.
Status WaitForIndexBuilds(EngineImpl* engine);

}  // namespace docket::engine
