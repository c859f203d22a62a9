// Cluster time (MongoDB's logical clock): the times of committed changes, as
// a replica-set member gives them to its clients and writes them into its
// oplog (EngineOptions::oplog_size_bytes).
//
// Invariant: times only grow. A write that records itself in the oplog
// reserves its time before it commits and publishes it after (Reserve /
// Publish, both under the oplog's writer lock, so at most one reservation is
// pending and oplog order is time order); until it is published, LastWrite()
// stays below it and WaitUntilVisible() for a time at or above it waits.
// A write that has no oplog entry takes TickWrite() after it committed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "docket/status.h"

namespace docket {

// A BSON Timestamp: seconds since the epoch and an increment within them.
struct LogicalTime {
  uint32_t seconds = 0;
  uint32_t increment = 0;

  uint64_t packed() const { return (uint64_t{seconds} << 32) | increment; }
  bool null() const { return packed() == 0; }
  static LogicalTime FromPacked(uint64_t p) { return {static_cast<uint32_t>(p >> 32), static_cast<uint32_t>(p)}; }
  friend bool operator<(LogicalTime a, LogicalTime b) { return a.packed() < b.packed(); }
  friend bool operator<=(LogicalTime a, LogicalTime b) { return a.packed() <= b.packed(); }
  friend bool operator==(LogicalTime a, LogicalTime b) { return a.packed() == b.packed(); }
};

// Thread-safe: one mutex around the times.
class ClusterClock {
 public:
  ClusterClock();

  // The cluster time: at least every write's time and every time gossiped in.
  LogicalTime Now() const;
  // The time of the last committed write (MongoDB's lastApplied); at most Now().
  LogicalTime LastWrite() const;
  // A new time, above Now(), for a write that has committed.
  LogicalTime TickWrite();
  // Raises the cluster time to `t` (a client's $clusterTime). Errors:
  // ClusterTimeFailsRateLimiter (205) for a time more than a year ahead of
  // this machine's clock, as mongod's maxAcceptableLogicalClockDriftSecs.
  Status Advance(LogicalTime t);

  // For the oplog's writer, which holds its lock across the three:
  // `count` consecutive new times above Now(), the first returned, for
  // changes about to commit; then Publish (they committed) or Abandon.
  LogicalTime Reserve(uint32_t count);
  void Publish();
  void Abandon();
  // Waits until no reserved time at or below `t` is still unpublished, or
  // `until` passes (false then).
  bool WaitUntilVisible(LogicalTime t, std::chrono::steady_clock::time_point until) const;
  // The newest time this thread published (its writes' entries) since its
  // last call, cleared by the call; null when none. A server answers it as
  // the operationTime of the command that wrote: its own write's time, not
  // a later one of another client's.
  static LogicalTime TakeThreadsLastWrite();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable published_;
  LogicalTime now_;         // GUARDED_BY(mutex_)
  LogicalTime last_write_;  // GUARDED_BY(mutex_)
  LogicalTime pending_first_, pending_last_;  // GUARDED_BY(mutex_); null first: nothing pending
};

}  // namespace docket
