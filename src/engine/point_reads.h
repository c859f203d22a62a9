// Batched point reads of records and index entries.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/utilities/transaction.h>

#include <string>
#include <vector>

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

}  // namespace docket::engine
