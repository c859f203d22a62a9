// The oplog: MongoDB's local.oplog.rs, kept when EngineOptions::
// oplog_size_bytes is above 0. A capped collection of that size whose
// entries record every change to a document outside the local database (and
// outside system.profile, as MongoDB's), in MongoDB's entry format:
//
//   {op: "i", ns, ui, o: <document>, ts, t: 1, v: 2, wall}
//   {op: "u", ns, ui, o: {$v: 2, diff: <bson/update_diff.h>} or <replacement>,
//    o2: {_id}, ts, t, v, wall}
//   {op: "d", ns, ui, o: {_id}, ts, t, v, wall}
//   a transaction's changes as one entry:
//   {lsid, txnNumber, op: "c", ns: "admin.$cmd",
//    o: {applyOps: [{op, ns, ui, o, o2}...]}, ts, t, v, wall,
//    prevOpTime: {ts: Timestamp(0, 0), t: -1}}
//
// Entries have no _id; each is stored under its `ts`.
//
// Invariants: an entry is written in the same RocksDB transaction as the
// change it records, so the oplog never misses nor invents a committed
// change. Appending holds the oplog's capped-writer lock (engine/capped.h)
// from the time's reservation until after the commit, so oplog order
// (natural order) is commit order is `ts` order, and a time is published
// (ClusterClock::Publish) before the next writer reserves one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/oplog_change.h"
#include "engine/write_path.h"

namespace docket::engine {

inline constexpr std::string_view kOplogDatabase = "local";
inline constexpr std::string_view kOplogCollection = "oplog.rs";

// Whether changes to `entry` go into the engine's oplog (it has one, and
// the collection is not one MongoDB leaves out).
bool IsLogged(const EngineImpl* engine, const storage::CollectionEntry& entry);

// The record key of the oplog entry at `ts` (entries are keyed by time, so
// that key order is time order).
std::string OplogEntryKey(uint64_t oplog_id, LogicalTime ts);

// InvalidNamespace when `entry` is the engine's oplog, which only the
// engine writes; OK otherwise (null included).
Status RefuseOplogWrite(const EngineImpl* engine, const storage::EntryPtr& entry);

// At open: creates local.oplog.rs of `size_bytes` if missing (an existing
// one keeps its size), sets engine->oplog, and raises the clock above the
// newest entry's time, so that times keep growing across restarts.
Status OpenOplog(Engine* owner, EngineImpl* engine, int64_t size_bytes);

// Records a command that changed the catalog, as MongoDB's 'c' entries:
// {op: "c", ns: "<db>.$cmd", ui (when `uuid` is not empty), o, o2}, e.g.
// o {create: name, ...}, {drop: name}, {renameCollection: from, to, ...},
// {dropDatabase: 1}, {createIndexes: name, <spec>}, {dropIndexes: name,
// index: <name>}. Called right after the change, in a commit of its own
// (the catalog is not written through transactions): a crash between the
// two loses the entry, never invents one. No-op without an oplog or for
// the local database.
Status LogCommand(EngineImpl* engine, std::string_view db, const std::string& uuid, const Document& o,
                  std::optional<Document> o2 = std::nullopt);

// create's `o`: {create: name, ...its options as MongoDB logs them}.
Document CreateCommand(std::string_view name, const CollectionOptions& options);

// Where a reader of the oplog from time `t` on starts: after the entry
// with sequence number `after_sequence` (the last entry before `t`; 0:
// from the oldest), and whether entries from `t` on may be gone already
// (`t` is older than the oldest entry). Errors: the storage's.
struct OplogStart {
  uint64_t after_sequence = 0;
  bool history_lost = false;
};
Result<OplogStart> OplogStartBefore(EngineImpl* engine, LogicalTime t);

// The newest entry's sequence number and time (0 and the clock's last
// write when the oplog is empty). REQUIRES: the engine keeps an oplog.
std::pair<uint64_t, LogicalTime> NewestOplogEntry(EngineImpl* engine);

// A transaction's session, for its oplog entry (Transaction::SetSession).
struct OplogSession {
  Document lsid;           // {id: UUID, ...}; empty: none
  int64_t txn_number = -1;
};

// Writes one committing transaction's changes into the oplog, inside it.
// Use: construct over the transaction, Append, commit the transaction, then
// Committed(). Destroyed without Committed() (an error, or a failed commit),
// it abandons the reserved times and the oplog is as before.
class OplogAppender {
 public:
  OplogAppender(EngineImpl* engine, rocksdb::Transaction* txn);
  ~OplogAppender();
  OplogAppender(const OplogAppender&) = delete;
  OplogAppender& operator=(const OplogAppender&) = delete;

  // Takes the oplog's writer lock, reserves times and writes the entries:
  // one per change, or with `session` one applyOps entry for them all.
  // Errors: the storage's.
  Status Append(const std::vector<OplogChange>& changes, const OplogSession* session);
  // The transaction committed: publishes the times, updates the oplog's
  // counters, releases its lock and wakes its tailable cursors.
  void Committed();

 private:
  EngineImpl* engine_;
  WriteUnit unit_;  // over the committing transaction; holds the oplog's lock
  bool reserved_ = false;
};

}  // namespace docket::engine
