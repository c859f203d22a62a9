// Internals shared by the engine's source files.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "docket/engine.h"
#include "engine/key_queue.h"
#include "engine/oplog_change.h"
#include "engine/read_views.h"
#include "storage/catalog.h"
#include "storage/store.h"

namespace docket {

class EngineImpl {
 public:
  ~EngineImpl() { StopTtlMonitor(); }
  // Stops and joins the TTL thread, if running. Idempotent.
  void StopTtlMonitor() {
    {
      std::lock_guard lock(ttl_mutex);
      ttl_stop = true;
    }
    ttl_wake.notify_all();
    if (ttl_thread.joinable()) ttl_thread.join();
  }

  Engine* owner = nullptr;  // the public object (for catalog operations from inside)
  std::unique_ptr<storage::Store> store;
  // Snapshots and iterators for reads outside transactions; made right after
  // `store` and declared after it, so that it goes first.
  std::unique_ptr<engine::ReadViewPool> read_views;
  std::unique_ptr<storage::Catalog> catalog;
  bool in_memory = false;
  // EngineOptions::write_wait_seconds, in seconds (Engine::SetWriteWaitSeconds).
  std::atomic<int> write_wait_seconds{75};
  std::atomic<bool> no_table_scan{false};  // Engine::SetNoTableScan
  ClusterClock clock;  // Engine::cluster_clock
  // local.oplog.rs when the engine keeps one (engine/oplog.h); set at open.
  storage::EntryPtr oplog;
  std::string path;  // EngineOptions::path; empty in memory
  // Budget of one blocking operation (a sort, a $group) before it spills.
  size_t query_memory_limit_bytes = 100 << 20;
  std::atomic<uint64_t> next_spill_id{1};
  // Engine::SetLogSink's; empty: events are dropped.
  std::function<void(const LogEvent&)> log_sink;
  void Log(const LogEvent& event) const {
    if (log_sink) log_sink(event);
  }
  // Held by whoever checks a view definition and then stores it (create,
  // collMod), so that two of them cannot make a cycle between their checks.
  std::mutex view_definitions;
  // Single-document writers queue here for their first key (key_queue.h).
  engine::KeyQueues key_queues;

  // Index builds that let writers run (engine/index_build.h) count their
  // ends here; a createIndexes asking for an index being built waits on it.
  std::mutex index_builds_mutex;
  std::condition_variable index_builds_done;
  uint64_t index_builds_finished = 0;  // GUARDED_BY(index_builds_mutex)

  // The TTL monitor: Engine::DeleteExpired every ttl_interval while
  // ttl_enabled. A change of either notifies ttl_wake (the wait restarts).
  std::thread ttl_thread;
  mutable std::mutex ttl_mutex;
  std::condition_variable ttl_wake;
  bool ttl_stop = false;                     // GUARDED_BY(ttl_mutex)
  bool ttl_enabled = true;                   // GUARDED_BY(ttl_mutex)
  std::chrono::seconds ttl_interval{60};     // GUARDED_BY(ttl_mutex)
  uint64_t ttl_settings_version = 0;         // GUARDED_BY(ttl_mutex): bumped by every change

  rocksdb::TransactionDB* db() const { return store->db(); }

  // A handle for code inside the engine (aggregation's $lookup, $out, $merge).
  Collection collection(std::string db_name, std::string name) {
    return Collection(this, std::move(db_name), std::move(name));
  }
};

// The RocksDB side of a user Transaction.
class TransactionImpl {
 public:
  EngineImpl* engine = nullptr;
  rocksdb::Transaction* txn = nullptr;  // owned; deleted by Transaction's destructor
  bool active = false;
  bool journal = false;  // j:true: Commit returns once the commit is durable
  // Every collection the transaction wrote to, with its index version at the
  // first write: Commit fails with WriteConflict if the indexes changed since
  // (the writes would be missing from a new index). Only the owning thread
  // touches it.
  std::vector<std::pair<std::shared_ptr<const storage::CollectionEntry>, uint64_t>> written;
  // Collections the transaction created (implicitly or with create): pending
  // in the catalog until it commits, gone if it does not (EndCreated).
  std::vector<storage::EntryPtr> created;
  // The changes its statements made, for its oplog entry (engine/oplog.h),
  // and the session that entry names (Transaction::SetSession).
  std::vector<engine::OplogChange> oplog_changes;
  Document lsid;
  int64_t txn_number = -1;
  // Makes the created collections visible (committed) or removes them.
  void EndCreated(bool committed) {
    for (const storage::EntryPtr& entry : created) engine->catalog->FinishPending(entry, committed);
    created.clear();
  }
};

namespace engine {

// A collection entry held for the length of one operation: its lifecycle lock
// is held shared, so it cannot be dropped or renamed underneath. `entry` is
// null when the collection does not exist (reads then see nothing).
struct EntryGuard {
  storage::EntryPtr entry;
  std::shared_lock<std::shared_mutex> lock;
};

// Whether an operation can read a view (engine/views.h): those that can
// (find, count, aggregate, explain) get its entry and resolve it; the rest
// get CommandNotSupportedOnView.
enum class Views { kRefuse, kAllow };

// For reads: validates the namespace; does not create. Inside `txn`, a
// collection the transaction created is visible to it.
Result<EntryGuard> ResolveForRead(EngineImpl* engine, const std::string& db, const std::string& name,
                                  Transaction* txn = nullptr, Views views = Views::kRefuse);
// For writes: validates the namespace and creates the collection if missing;
// inside `txn` the creation is the transaction's (pending until it commits).
// A view is CommandNotSupportedOnView.
Result<EntryGuard> ResolveForWrite(EngineImpl* engine, const std::string& db, const std::string& name,
                                   Transaction* txn = nullptr);

}  // namespace engine
}  // namespace docket
