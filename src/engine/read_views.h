// Read views kept for reuse by queries that read outside a transaction.
//
// A view is a snapshot and, once a scan has needed one, an iterator at that
// snapshot. Taking a snapshot locks the database's mutex (so does releasing
// it), and a new iterator allocates and pins the current files and
// memtables: a read-mostly workload would pay both for every query. A view
// whose snapshot's sequence number is still the database's latest sees
// exactly what a new snapshot would (no write has committed since), so the
// pool hands it out again; the first write makes every idle view stale, and
// stale views are freed by the next Acquire or Release.
//
// Invariants: every idle view's snapshot was the latest when it was
// released, and all idle views share one sequence number (releasing a newer
// view frees the older ones), so if one is stale, all are; idle views'
// iterators have an OK status.
// An idle view pins table files and memtables until it is freed: Clear()
// before a compaction that should reclaim them, and the pool goes before
// the database does.
//
// Thread safety: every member locks mutex_; a view belongs to one thread
// between Acquire and Release.
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <mutex>
#include <vector>

namespace docket::engine {

class ReadViewPool {
 public:
  struct View {
    const rocksdb::Snapshot* snapshot = nullptr;
    // At `snapshot`, with otherwise default ReadOptions; null until a scan
    // needs one. Positioned anywhere: seek before reading.
    std::unique_ptr<rocksdb::Iterator> iterator;
  };

  static constexpr size_t kCapacity = 16;  // idle views kept at most

  explicit ReadViewPool(rocksdb::DB* db) : db_(db) {}
  ~ReadViewPool() { Clear(); }
  ReadViewPool(const ReadViewPool&) = delete;
  ReadViewPool& operator=(const ReadViewPool&) = delete;

  // A view at the database's latest state: an idle one when no write has
  // committed since it was released, else a new snapshot without iterator.
  View Acquire();
  // Keeps the view for reuse if it is still current and there is room;
  // frees it otherwise. A view without snapshot is only dropped.
  void Release(View view);
  // Frees every idle view.
  void Clear();
  // How many views are idle (for tests).
  size_t idle();

 private:
  void Free(View& view);

  rocksdb::DB* const db_;
  std::mutex mutex_;
  std::vector<View> idle_;  // GUARDED_BY(mutex_); in release order
};

}  // namespace docket::engine
