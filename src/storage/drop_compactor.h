// Keeps a database that drops collections all day (a test fixture) as fast
// as a fresh one. A dropped collection's keys leave tombstones and dead
// entries in the memtable and the table files until a compaction reaches
// them, and every iterator created meanwhile seeks through them: after 3,000
// create/drop cycles an unindexed find on a new collection took 2-3 times as
// long (bench/age_bench). The store reports each deleted range here; once
// the keys or the bytes deleted since the last clean-up pass a threshold (a
// memtable seek costs the log of its entries; its flush, their bytes), a background
// thread flushes the memtables and compacts the hull of the deleted ranges
// (one span per key kind: records, index entries, ...) into the last level,
// where the tombstones and what they cover are dropped for good.
//
// Thread-safe. The clean-up runs on this object's own thread, never on the
// caller's; Note never blocks on it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "docket/status.h"

namespace docket::storage {

class DropCompactor {
 public:
  // `clean` flushes and compacts each [begin, end) it is given (Store's
  // FlushMemtables + CompactKeys); `cancel` makes a running `clean` return
  // soon (RocksDB's DisableManualCompaction), for shutdown.
  using Clean = std::function<Status(const std::vector<std::pair<std::string, std::string>>&)>;
  DropCompactor(uint64_t threshold_keys, uint64_t threshold_bytes, Clean clean, std::function<void()> cancel);
  // Stops the thread; a clean-up under way is cancelled first.
  ~DropCompactor();
  DropCompactor(const DropCompactor&) = delete;
  DropCompactor& operator=(const DropCompactor&) = delete;

  // [begin, end) was deleted: `keys` keys of about `bytes` bytes (a figure
  // at or above its threshold makes a clean-up due at once).
  void Note(const std::string& begin, const std::string& end, uint64_t keys, uint64_t bytes);

  // How many clean-ups have finished (for tests and statistics).
  uint64_t cleanups() const;

 private:
  void Run();

  bool DueLocked() const { return pending_keys_ >= threshold_keys_ || pending_bytes_ >= threshold_bytes_; }

  const uint64_t threshold_keys_;
  const uint64_t threshold_bytes_;
  const Clean clean_;
  const std::function<void()> cancel_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // GUARDED_BY(mutex_): the hull of the ranges deleted since the last
  // clean-up began, per key kind (a key's first byte).
  std::map<char, std::pair<std::string, std::string>> hulls_;
  uint64_t pending_keys_ = 0;   // GUARDED_BY(mutex_)
  uint64_t pending_bytes_ = 0;  // GUARDED_BY(mutex_)
  uint64_t cleanups_ = 0;       // GUARDED_BY(mutex_)
  bool stop_ = false;           // GUARDED_BY(mutex_)
  std::thread thread_;          // started last, joined by the destructor
};

}  // namespace docket::storage
