// Batched point reads of records and index entries.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/utilities/transaction.h>

#include <string>
#include <vector>

#include "docket/status.h"
#include "engine/engine_impl.h"

namespace docket::engine {

// Reads `keys` into `values` and `statuses` (both sized like `keys`) with
// one MultiGet: through `user_txn` when there is one (its own writes
// included), else from the database at read_options.snapshot. Outside a
// transaction, at a snapshot, the point cache (when there is one) answers
// first, and what RocksDB reads for the rest goes into it.
void MultiGetAt(EngineImpl* engine, rocksdb::Transaction* user_txn, const rocksdb::ReadOptions& read_options,
                const std::vector<std::string>& keys, std::vector<rocksdb::PinnableSlice>* values,
                std::vector<rocksdb::Status>* statuses);

// After MultiGetAt: drops the keys whose value was not found (cannot happen
// with consistent entries: skipped rather than failed), keeping `keys`,
// `values` and `aligned` (when given) in step, and returns how many were
// kept. Stops at the first other error: *status gets it and the vectors keep
// only what came before.
size_t KeepFound(const std::vector<rocksdb::Status>& statuses, std::vector<std::string>* keys,
                 std::vector<rocksdb::PinnableSlice>* values, Status* status, std::vector<uint64_t>* aligned = nullptr);

}  // namespace docket::engine
