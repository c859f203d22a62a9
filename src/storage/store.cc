#include "storage/store.h"

#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/write_batch.h>

#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::storage {

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, bool in_memory) {
  std::unique_ptr<Store> store(new Store());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  table.filter_policy.reset();
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::string dir = path;
  if (in_memory) {
    store->memory_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    options.env = store->memory_env_.get();
    dir = "/docket-memory";
  }
  if (dir.empty()) return Status(ErrorCode::kInvalidOptions, "a database path is required unless in_memory");

  rocksdb::TransactionDBOptions txn_options;
  txn_options.transaction_lock_timeout = 2000;  // ms; a timeout is retried as a WriteConflict
  txn_options.default_lock_timeout = 2000;
  rocksdb::Status s = rocksdb::TransactionDB::Open(options, txn_options, dir, &store->db_);
  if (!s.ok()) return FromRocks(s, "opening the database");

  // Format version: written on creation, checked on every open.
  std::string version;
  s = store->db_->Get(rocksdb::ReadOptions(), MetaKey("format_version"), &version);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions sync;
    sync.sync = !in_memory;
    s = store->db_->Put(sync, MetaKey("format_version"), std::to_string(kFormatVersion));
    if (!s.ok()) return FromRocks(s, "writing the format version");
  } else if (!s.ok()) {
    return FromRocks(s, "reading the format version");
  } else if (version != std::to_string(kFormatVersion)) {
    return Status(ErrorCode::kInvalidOptions,
                  "database at '" + path + "' has storage format version " + version +
                      "; this build of Docket reads version " + std::to_string(kFormatVersion));
  }
  return store;
}

Store::~Store() {
  if (db_ != nullptr) {
    db_->Close();
    delete db_;
  }
}

Status Store::DeleteRange(const std::string& begin, const std::string& end) {
  // TransactionDB refuses DeleteRange except through this documented path,
  // which skips row locks: safe because nothing writes to a retired range.
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.DeleteRange(begin, end);
  if (!s.ok()) return FromRocks(s, "range delete");
  rocksdb::TransactionDBWriteOptimizations optimizations;
  optimizations.skip_concurrency_control = true;
  return FromRocks(db_->Write(rocksdb::WriteOptions(), optimizations, &batch), "range delete");
}

Status Store::SyncWal() { return FromRocks(db_->SyncWAL(), "syncing the WAL"); }

}  // namespace docket::storage
