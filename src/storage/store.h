// The one RocksDB TransactionDB behind an Engine, on disk or on an in-memory
// Env (no files at all; the same code path otherwise).
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/utilities/transaction_db.h>

#include <memory>
#include <string>

#include "docket/status.h"

namespace docket::storage {

// Version of the on-disk key layout (storage/keys.h, bson/key_encoding.h).
inline constexpr int kFormatVersion = 1;

// Thread-safe: RocksDB's TransactionDB is.
class Store {
 public:
  // Opens or creates the database; RocksDB replays its WAL, so a crashed
  // database reopens with every acknowledged write. Errors: InvalidOptions for
  // a directory written by another format version, InternalError for I/O.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, bool in_memory);
  ~Store();

  rocksdb::TransactionDB* db() const { return db_; }

  // Removes every key in [begin, end) in one write. REQUIRES: no transaction
  // can write into that range any more (its collection id is retired).
  Status DeleteRange(const std::string& begin, const std::string& end);

  // Syncs the WAL to disk (used by j:true writes that had nothing to commit).
  Status SyncWal();

 private:
  Store() = default;
  std::unique_ptr<rocksdb::Env> memory_env_;  // outlives db_
  rocksdb::TransactionDB* db_ = nullptr;
};

}  // namespace docket::storage
