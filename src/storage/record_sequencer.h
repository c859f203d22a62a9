// Hands out record sequence numbers (storage/record_value.h): unique and
// increasing within one database, for its whole life, so that a collection's
// natural order is the order its records were inserted in.
//
// The numbers come from blocks reserved in the database: a number is handed
// out only below the reserved bound (meta key "record_seq_reserved"), and the
// bound is written before any number past the old one is handed out. Since a
// write that uses a number goes into the write-ahead log after the bound that
// covers it, a database that recovers a record also recovers a bound above
// its number; numbers reserved but unused before a crash are skipped.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "docket/status.h"

namespace docket::storage {

class RecordSequencer {
 public:
  static constexpr uint64_t kBlock = 1 << 16;

  // Reads the reserved bound (none in a new database: numbers start at 1).
  static Result<std::unique_ptr<RecordSequencer>> Open(rocksdb::DB* db);

  // The next number. Thread-safe; lock-free except when a new block is
  // reserved. Errors: those of writing the bound (a full disk).
  Result<uint64_t> Next();

 private:
  explicit RecordSequencer(rocksdb::DB* db, uint64_t reserved) : db_(db), next_(reserved), reserved_(reserved) {}
  rocksdb::DB* db_;
  std::atomic<uint64_t> next_;
  std::atomic<uint64_t> reserved_;  // every number below it may be handed out
  std::mutex reserve_mutex_;        // one writer of the bound at a time
};

}  // namespace docket::storage
