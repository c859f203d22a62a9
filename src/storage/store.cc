#include "storage/store.h"


#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <filesystem>

#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_batch.h>

#include "docket/blocking.h"
#include "storage/format_upgrade.h"
#include "storage/keys.h"
#include "storage/rocks_log.h"
#include "storage/status_from_rocks.h"

namespace docket::storage {

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, bool in_memory, size_t cache_bytes,
                                           size_t row_cache_bytes) {
  std::unique_ptr<Store> store(new Store());
  rocksdb::Options options;
  options.create_if_missing = true;
  store->health_ = std::make_shared<StorageHealth>(in_memory ? std::string() : path);
  options.listeners.push_back(store->health_);
  // RocksDB's own LOG writer aborts the process on the message after a failed
  // write (storage/rocks_log.h), so Docket writes that log itself.
  if (!in_memory) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
  }
  options.info_log = in_memory ? RocksLog::Discarding() : RocksLog::Open(path);
  if (!in_memory) {
    // The write-ahead log preallocates about 1.1 write buffers per file: on
    // a small volume the 64 MiB default took most of the free space, and a
    // restart (which makes a new log) then failed. A write buffer of at most
    // a sixteenth of the free space keeps that in proportion.
    struct statvfs fs {};
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (statvfs(path.c_str(), &fs) == 0) {
      const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      const uint64_t buffer = std::clamp<uint64_t>(free_bytes / 16, 1 << 20, 64 << 20);
      options.write_buffer_size = static_cast<size_t>(buffer);
      // Opening writes a new manifest, options file and log, and replays the
      // old logs into table files. RocksDB aborts (an assertion in Debian's
      // build) when that runs out of space, so refuse clearly beforehand.
      uint64_t logs = 0;
      for (const auto& file : std::filesystem::directory_iterator(path, ec)) {
        if (file.path().extension() == ".log") logs += file.file_size(ec);
      }
      const uint64_t needed = std::max<uint64_t>(uint64_t{4} << 20, logs + logs / 4 + (uint64_t{1} << 20));
      if (free_bytes < needed) {
        return Status(ErrorCode::kOutOfDiskSpace,
                      "cannot open the database at " + path + ": its device has " + std::to_string(free_bytes >> 10) +
                          " KiB free, and opening it needs about " + std::to_string(needed >> 20) +
                          " MiB (its write-ahead log is replayed into table files); free some space and start again");
      }
    }
  }
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  // A whole-key Bloom filter on the memtable: the duplicate-_id check of
  // every insert is a lookup of a key that is (almost always) absent.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::BlockBasedTableOptions table;
  store->block_cache_ = rocksdb::NewLRUCache(cache_bytes);
  table.block_cache = store->block_cache_;
  // Whole-key Bloom filters: a point lookup (_id) skips table files that
  // cannot hold the key.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // A small hash index inside each data block: point lookups skip the binary
  // search over restart points.
  table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  // Restart points every 4 keys: a point lookup parses at most 4 keys inside
  // its block (measured +25% on random reads over a million documents).
  table.block_restart_interval = 4;
  // 32 KiB data blocks (RocksDB's default is 4 KiB; 32 KiB is WiredTiger's
  // leaf page limit): a scan pays a block-cache lookup, a shard mutex and a
  // block seek per block, and point lookups find their block through a
  // smaller index. Measured over a million cached documents: collection
  // scan +13%, indexed equality +27% against 4 KiB (docs/benchmarks.md). A
  // cold read decompresses more per miss.
  table.block_size = 32 << 10;
  // The point cache (off unless asked for) answers point reads — records by
  // key, a unique index's entries — without RocksDB's MultiGet, table index,
  // block cache and block search. Over more rows than it holds, every miss
  // pays an insert and an eviction instead (docs/benchmarks.md), so it is
  // opt-in. It replaces RocksDB's row cache (options.row_cache stays unset).
  if (row_cache_bytes > 0) store->point_cache_ = std::make_unique<PointCache>(row_cache_bytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::string dir = path;
  store->in_memory_ = in_memory;
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
  if (s.IsNoSpace() || (s.IsIOError() && s.ToString().find("No space left") != std::string::npos)) {
    return Status(ErrorCode::kOutOfDiskSpace, "cannot open the database at " + path +
                                                  ": no space left on its device; free some space and start again");
  }
  if (!s.ok()) return Status(ErrorCode::kInternalError, "cannot open the database at " + path + ": " + s.ToString());

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
  } else if (version != std::to_string(kFormatVersion) && version != "1") {
    return Status(ErrorCode::kInvalidOptions,
                  "database at '" + path + "' has storage format version " + version +
                      "; this build of Docket reads versions 1 (upgraded when opened) to " +
                      std::to_string(kFormatVersion));
  }
  auto sequencer = RecordSequencer::Open(store->db_);
  if (!sequencer.ok()) return sequencer.status();
  store->sequencer_ = std::move(sequencer).value();
  if (version == "1") {
    auto upgraded = UpgradeFromVersion1(store->db_, store->sequencer_.get(), /*sync=*/!in_memory);
    if (!upgraded.ok()) {
      return Status(upgraded.status().code(), "upgrading the database at " + path + " from storage format version 1: " +
                                                  upgraded.status().message());
    }
    rocksdb::WriteOptions sync;
    sync.sync = !in_memory;
    s = store->db_->Put(sync, MetaKey("format_version"), std::to_string(kFormatVersion));
    if (!s.ok()) return FromRocks(s, "writing the format version");
    store->upgraded_records_ = *upgraded;
  }
  // Dropped collections are cleaned up once 1,024 keys or a quarter of a
  // write buffer's worth of them have been deleted (storage/drop_compactor.h).
  Store* raw = store.get();
  store->drop_compactor_ = std::make_unique<DropCompactor>(
      1024, std::max<uint64_t>(options.write_buffer_size / 4, 1 << 20),
      [raw](const std::vector<std::pair<std::string, std::string>>& spans) {
        DOCKET_RETURN_IF_ERROR(raw->FlushMemtables());
        for (const auto& [begin, end] : spans) {
          const rocksdb::Slice from(begin), to(end);
          DOCKET_RETURN_IF_ERROR(raw->CompactKeys(&from, &to, /*exclusive=*/false));
        }
        return Status::OK();
      },
      [raw] { raw->db_->DisableManualCompaction(); });
  return store;
}

Store::~Store() {
  drop_compactor_.reset();  // its thread uses db_
  if (db_ != nullptr) {
    db_->Close();
    delete db_;
  }
}

namespace {

// Collects the keys a write batch writes into a point-cache mark.
class MarkKeys : public rocksdb::WriteBatch::Handler {
 public:
  MarkKeys(const PointCache& cache, PointCache::WriteMark* mark) : cache_(cache), mark_(mark) {}
  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice&) override { return Add(key); }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice& key) override { return Add(key); }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice& key) override { return Add(key); }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice&) override { return Add(key); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    mark_->all = true;
    return rocksdb::Status::OK();
  }
  rocksdb::Status MarkBeginPrepare(bool) override { return rocksdb::Status::OK(); }
  rocksdb::Status MarkEndPrepare(const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status MarkCommit(const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status MarkRollback(const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status MarkNoop(bool) override { return rocksdb::Status::OK(); }

 private:
  rocksdb::Status Add(const rocksdb::Slice& key) {
    cache_.AddKey(mark_, std::string_view(key.data(), key.size()));
    return rocksdb::Status::OK();
  }
  const PointCache& cache_;
  PointCache::WriteMark* mark_;
};

}  // namespace

rocksdb::Status Store::MarkedWrite(rocksdb::WriteBatch* batch, const std::function<rocksdb::Status()>& write) {
  if (point_cache_ == nullptr) return write();
  PointCache::WriteMark mark;
  MarkKeys keys(*point_cache_, &mark);
  // A batch the handler cannot read (it always can) is treated as writing everything.
  if (batch == nullptr || !batch->Iterate(&keys).ok()) mark.all = true;
  point_cache_->BeginWrite(&mark);
  rocksdb::Status s = write();
  point_cache_->EndWrite(mark, db_->GetLatestSequenceNumber());
  return s;
}

rocksdb::Status Store::Commit(rocksdb::Transaction* txn) {
  if (health_->failed()) return rocksdb::Status::IOError(health_->Get().message());
  rocksdb::WriteBatchWithIndex* indexed = txn->GetWriteBatch();
  rocksdb::Status s = MarkedWrite(indexed ? indexed->GetWriteBatch() : nullptr, [&] { return txn->Commit(); });
  health_->Record(s);
  return s;
}

rocksdb::Status Store::Write(const rocksdb::WriteOptions& options, rocksdb::WriteBatch* batch) {
  if (health_->failed()) return rocksdb::Status::IOError(health_->Get().message());
  rocksdb::Status s = MarkedWrite(batch, [&] { return db_->Write(options, batch); });
  health_->Record(s);
  return s;
}

Status Store::DeleteRange(const std::string& begin, const std::string& end) {
  // TransactionDB refuses DeleteRange except through this documented path,
  // which skips row locks: safe because nothing writes to a retired range.
  rocksdb::WriteBatch batch;
  bool small = true;
  uint64_t bytes = 0;
  {
    const rocksdb::Slice upper(end);
    rocksdb::ReadOptions read_options;
    read_options.iterate_upper_bound = &upper;
    read_options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
    size_t keys = 0;
    for (it->Seek(begin); it->Valid() && small; it->Next()) {
      small = ++keys <= kPointDeleteLimit;
      if (small) {
        batch.Delete(it->key());
        bytes += it->key().size() + it->value().size();
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "range delete");
  }
  if (!small) {
    batch.Clear();
    rocksdb::Status s = batch.DeleteRange(begin, end);
    if (!s.ok()) return FromRocks(s, "range delete");
  }
  if (batch.Count() == 0) return Status::OK();
  // A range tombstone costs every later iterator until it is compacted away:
  // reported as due at once.
  const uint64_t noted_keys = small ? batch.Count() : std::numeric_limits<uint64_t>::max();
  const uint64_t noted_bytes = small ? bytes : std::numeric_limits<uint64_t>::max();
  rocksdb::TransactionDBWriteOptimizations optimizations;
  optimizations.skip_concurrency_control = true;
  Status written = FromRocks(
      MarkedWrite(&batch, [&] { return db_->Write(rocksdb::WriteOptions(), optimizations, &batch); }), "range delete");
  if (written.ok() && drop_compactor_ != nullptr) drop_compactor_->Note(begin, end, noted_keys, noted_bytes);
  return written;
}

void Store::BeginJournaledWrite() {
  if (in_memory_) return;
  std::lock_guard lock(sync_mutex_);
  ++journaled_writers_;
}

void Store::EndJournaledWrite() {
  if (in_memory_) return;
  std::lock_guard lock(sync_mutex_);
  if (--journaled_writers_ == 0) writers_done_.notify_all();
}

Status Store::FlushMemtables() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocks(db_->Flush(options), "flushing");
}

Status Store::CompactKeys(const rocksdb::Slice* begin, const rocksdb::Slice* end, bool exclusive) {
  rocksdb::CompactRangeOptions options;
  options.exclusive_manual_compaction = exclusive;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  return FromRocks(db_->CompactRange(options, begin, end), "compacting");
}

Status Store::Flush() {
  if (in_memory_) return Status::OK();
  DOCKET_RETURN_IF_ERROR(FlushMemtables());
  return MakeCommittedWritesDurable();
}

Status Store::Checkpoint(const std::string& dir) {
  if (in_memory_) {
    return Status(ErrorCode::kIllegalOperation, "a database kept in memory (--memory) has no files to back up");
  }
  rocksdb::Checkpoint* raw = nullptr;
  DOCKET_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_, &raw), "starting a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  BlockingRegion waiting;  // the memtables are flushed and files linked or copied
  // log_size_for_flush 0: the memtables are flushed first, so the copy needs
  // no write-ahead log replay beyond what it holds.
  return FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0), "writing a checkpoint");
}

Status Store::Compact() {
  BlockingRegion waiting;  // for the background threads to rewrite everything
  DOCKET_RETURN_IF_ERROR(FlushMemtables());
  return CompactKeys(nullptr, nullptr);
}

Result<int64_t> Store::CompactRanges(const std::vector<std::pair<std::string, std::string>>& ranges) {
  BlockingRegion waiting;
  DOCKET_RETURN_IF_ERROR(FlushMemtables());
  std::vector<rocksdb::Range> spans;
  for (const auto& [begin, end] : ranges) spans.emplace_back(begin, end);
  auto stored_bytes = [&](uint64_t* total) -> Status {
    std::vector<uint64_t> sizes(spans.size());
    rocksdb::SizeApproximationOptions options;
    options.include_files = true;
    options.include_memtables = false;  // flushed above
    DOCKET_RETURN_IF_ERROR(FromRocks(db_->GetApproximateSizes(options, db_->DefaultColumnFamily(), spans.data(),
                                                              static_cast<int>(spans.size()), sizes.data()),
                                     "measuring"));
    *total = 0;
    for (uint64_t size : sizes) *total += size;
    return Status::OK();
  };
  uint64_t before = 0, after = 0;
  DOCKET_RETURN_IF_ERROR(stored_bytes(&before));
  for (const rocksdb::Range& span : spans) DOCKET_RETURN_IF_ERROR(CompactKeys(&span.start, &span.limit));
  DOCKET_RETURN_IF_ERROR(stored_bytes(&after));
  return static_cast<int64_t>(before > after ? before - after : 0);
}

Result<std::vector<uint64_t>> Store::ApproximateSizes(const std::vector<std::pair<std::string, std::string>>& ranges) {
  std::vector<rocksdb::Range> spans;
  for (const auto& [begin, end] : ranges) spans.emplace_back(begin, end);
  std::vector<uint64_t> sizes(spans.size());
  if (spans.empty()) return sizes;
  rocksdb::SizeApproximationOptions options;
  options.include_files = true;
  options.include_memtables = true;
  DOCKET_RETURN_IF_ERROR(FromRocks(db_->GetApproximateSizes(options, db_->DefaultColumnFamily(), spans.data(),
                                                            static_cast<int>(spans.size()), sizes.data()),
                                   "measuring"));
  for (size_t i = 0; i < spans.size(); ++i) {
    if (sizes[i] != 0) continue;
    const rocksdb::Slice upper(ranges[i].second);
    rocksdb::ReadOptions read_options;
    read_options.iterate_upper_bound = &upper;
    read_options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
    size_t keys = 0;
    for (it->Seek(ranges[i].first); it->Valid() && keys < kMeasuredKeysLimit; it->Next(), ++keys) {
      sizes[i] += it->key().size() + it->value().size();
    }
    DOCKET_RETURN_IF_ERROR(FromRocks(it->status(), "measuring"));
  }
  return sizes;
}

Status Store::MakeCommittedWritesDurable() {
  if (in_memory_) return Status::OK();
  // After a failed write the log writer is in error: syncing it aborts
  // Debian's librocksdb (an assertion). The writes waiting for the sync fail.
  DOCKET_RETURN_IF_ERROR(health_->Get());
  // Sequence numbers are published after the WAL write, so every commit the
  // caller made has a sequence number <= this and is in the WAL file.
  const uint64_t needed = db_->GetLatestSequenceNumber();
  std::unique_lock lock(sync_mutex_);
  if (synced_through_ >= needed) return Status::OK();
  // From here the thread waits for the disk (its sync or another's).
  BlockingRegion waiting;
  while (synced_through_ < needed) {
    if (sync_running_) {
      sync_done_.wait(lock);  // that sync may cover us; re-check
      continue;
    }
    sync_running_ = true;
    // Let journaled writers that are about to commit join this sync (they
    // would otherwise wait for it and then need one of their own); bounded,
    // so a lone writer pays nothing and a slow one little.
    if (journaled_writers_ > 0) {
      writers_done_.wait_for(lock, std::chrono::microseconds(kGatherMicros), [&] { return journaled_writers_ == 0; });
    }
    const uint64_t target = db_->GetLatestSequenceNumber();
    lock.unlock();
    rocksdb::Status s = health_->failed() ? rocksdb::Status::IOError(health_->Get().message()) : db_->SyncWAL();
    health_->Record(s);
    lock.lock();
    sync_running_ = false;
    if (s.ok()) synced_through_ = std::max(synced_through_, target);
    sync_done_.notify_all();
    if (!s.ok()) return FromRocks(s, "syncing the WAL");
  }
  return Status::OK();
}

}  // namespace docket::storage
