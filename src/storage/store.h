// The one RocksDB TransactionDB behind an Engine, on disk or on an in-memory
// Env (no files at all; the same code path otherwise).
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/transaction_db.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "docket/status.h"
#include "storage/drop_compactor.h"
#include "storage/point_cache.h"
#include "storage/record_sequencer.h"
#include "storage/storage_health.h"

namespace docket::storage {

// Version of the on-disk key layout (storage/keys.h, bson/key_encoding.h,
// storage/record_value.h). Version 1 is upgraded when opened
// (storage/format_upgrade.h); any other is refused.
inline constexpr int kFormatVersion = 2;

// Thread-safe: RocksDB's TransactionDB is.
class Store {
 public:
  // Opens or creates the database; RocksDB replays its WAL, so a crashed
  // database reopens with every acknowledged write. Errors: InvalidOptions for
  // a directory written by another format version, InternalError for I/O.
  // `cache_bytes` bounds the block cache (uncompressed table blocks; filled
  // as reads need them); `row_cache_bytes` the cache of single rows that
  // point reads fill (0: none).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, bool in_memory, size_t cache_bytes,
                                             size_t row_cache_bytes);
  ~Store();

  rocksdb::TransactionDB* db() const { return db_; }

  // The sequence number of a record about to be inserted
  // (storage/record_sequencer.h).
  Result<uint64_t> NextRecordSequence() { return sequencer_->Next(); }
  // How many records Open upgraded from format version 1 (0: none).
  uint64_t upgraded_records() const { return upgraded_records_; }

  // Removes every key in [begin, end) in one write. REQUIRES: no transaction
  // can write into that range any more (its collection id is retired).
  // A range of at most kPointDeleteLimit keys (a test suite's collections)
  // is deleted key by key: a range tombstone stays in the memtable and the
  // files until a bottommost compaction, and every iterator created after it
  // pays for the tombstones that have piled up, so that a server that ran
  // thousands of create/drop cycles answered ten times slower (bench/age_bench).
  // Every deleted range is reported to the DropCompactor, which compacts
  // them away in the background.
  Status DeleteRange(const std::string& begin, const std::string& end);
  static constexpr size_t kPointDeleteLimit = 1000;

  // Every write of records or index entries goes through one of these two
  // (or DeleteRange): they keep the point cache's stripes marked while the
  // write may be publishing (storage/point_cache.h). Catalog and metadata
  // keys, which the point cache never holds, may be written directly.
  rocksdb::Status Commit(rocksdb::Transaction* txn);
  rocksdb::Status Write(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch);

  // Group commit for j:true. Writes commit without syncing (so a hot row's
  // lock is not held across an fsync); each journaled writer then calls this
  // to make everything it committed durable before acknowledging. One caller
  // at a time runs fsync; callers whose commits that fsync covers wait for it
  // instead of issuing their own, so N concurrent committers share one sync.
  // A no-op in memory. Errors: InternalError when the sync fails.
  Status MakeCommittedWritesDurable();
  // Bracket a short journaled write (from its start to its commit returning,
  // not including MakeCommittedWritesDurable): a sync about to start waits up
  // to kGatherMicros for such writers, so that one fsync covers them all.
  void BeginJournaledWrite();
  void EndJournaledWrite();
  static constexpr int kGatherMicros = 200;

  // The caches Open made; the point cache (of single rows) is null when
  // there is none. Reads outside transactions may use the point cache.
  const rocksdb::Cache& block_cache() const { return *block_cache_; }
  PointCache* point_cache() const { return point_cache_.get(); }

  // Flushes the memtables to table files and waits for it. No-op in memory.
  Status Flush();
  // Writes a consistent copy of the database to `dir` (which must not
  // exist; its parent must) while reads and writes go on: RocksDB's
  // checkpoint, hard links to the immutable table files plus copies of the
  // rest, at one point of the commit order. A server opened on `dir` sees
  // every write committed before that point and none after. IllegalOperation
  // in memory.
  Status Checkpoint(const std::string& dir);
  // Flushes, then rewrites every table file into the last level (a full
  // compaction), and waits: afterwards a read consults one file per key.
  Status Compact();
  // Flushes, then compacts the keys in each [begin, end) of `ranges` into
  // the last level and waits. Returns how many bytes of table files those
  // ranges took less afterwards (RocksDB's estimate; 0 when they grew).
  Result<int64_t> CompactRanges(const std::vector<std::pair<std::string, std::string>>& ranges);
  // OK while the storage can write; else the error writes get (see
  // storage_health.h): the database stays open for reads.
  Status Health() const { return health_->Get(); }

  // RocksDB's estimate of the bytes each [begin, end) range takes: in table
  // files (compressed) and in memtables. Approximate by nature: it reads
  // file metadata and memtable statistics, never the data. Both estimators
  // can say 0 for a range that holds keys (one inside a single table block,
  // or a memtable skip list whose sampled path does not tell two nearby
  // keys apart): such a range is measured by reading it, its keys and
  // values summed, up to kMeasuredKeysLimit keys.
  static constexpr size_t kMeasuredKeysLimit = 100000;
  Result<std::vector<uint64_t>> ApproximateSizes(const std::vector<std::pair<std::string, std::string>>& ranges);

 private:
  Store() = default;
  Status FlushMemtables();  // every memtable to a table file, waited for (in memory too)
  // A full compaction of the keys in [begin, end] (null: unbounded), waited
  // for. `exclusive`: RocksDB's own compactions wait meanwhile.
  Status CompactKeys(const rocksdb::Slice* begin, const rocksdb::Slice* end, bool exclusive = true);
  std::unique_ptr<rocksdb::Env> memory_env_;  // outlives db_
  rocksdb::TransactionDB* db_ = nullptr;
  bool in_memory_ = false;
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::unique_ptr<PointCache> point_cache_;  // null: none
  std::shared_ptr<StorageHealth> health_;     // registered with RocksDB as a listener
  std::unique_ptr<DropCompactor> drop_compactor_;  // reset before db_ closes
  std::unique_ptr<RecordSequencer> sequencer_;
  uint64_t upgraded_records_ = 0;
  // Brackets a write of `batch` for the point cache; a no-op without one.
  rocksdb::Status MarkedWrite(rocksdb::WriteBatch* batch, const std::function<rocksdb::Status()>& write);

  // Guards the fields below; never held across the fsync itself.
  std::mutex sync_mutex_;
  std::condition_variable sync_done_;     // a sync finished
  std::condition_variable writers_done_;  // journaled_writers_ reached 0
  uint64_t synced_through_ = 0;           // every sequence number <= this is on disk
  bool sync_running_ = false;
  int journaled_writers_ = 0;             // between Begin/EndJournaledWrite
};

}  // namespace docket::storage
