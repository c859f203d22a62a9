// validate's check of a collection's natural-order entries against its
// records (storage/keys.h, 0x06; storage/record_value.h).
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <functional>
#include <string>

#include "docket/status.h"

namespace docket::engine {

// Reads every natural-order entry of the collection at `read`'s snapshot and
// reports through `error` each one whose record is missing or carries
// another sequence number, and a count that differs from `records` (the
// records the caller counted at the same snapshot; the caller checks that
// each record has its entry). Errors: those of reading.
Status CheckNaturalEntries(rocksdb::DB* db, const rocksdb::ReadOptions& read, uint64_t collection_id, int64_t records,
                           const std::function<void(std::string)>& error);

}  // namespace docket::engine
