#include "docket/cluster_clock.h"

#include <algorithm>
#include <string>

namespace docket {
namespace {

// mongod's maxAcceptableLogicalClockDriftSecs default: a year.
constexpr uint64_t kMaxDriftSeconds = 365 * 24 * 3600;

uint32_t WallSeconds() {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// The next time above `now`: the wall clock's second when it is ahead, else
// the next increment (2^32 writes within one second: not reached).
LogicalTime Next(LogicalTime now) {
  const uint32_t wall = WallSeconds();
  if (wall > now.seconds) return LogicalTime{wall, 1};
  return LogicalTime{now.seconds, now.increment + 1};
}

thread_local LogicalTime threads_last_write;

}  // namespace

LogicalTime ClusterClock::TakeThreadsLastWrite() {
  const LogicalTime t = threads_last_write;
  threads_last_write = LogicalTime{};
  return t;
}

ClusterClock::ClusterClock() { now_ = last_write_ = LogicalTime{WallSeconds(), 1}; }

LogicalTime ClusterClock::Now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

LogicalTime ClusterClock::LastWrite() const {
  std::lock_guard lock(mutex_);
  return last_write_;
}

LogicalTime ClusterClock::TickWrite() {
  std::lock_guard lock(mutex_);
  now_ = Next(now_);
  last_write_ = std::max(last_write_, now_);
  return now_;
}

Status ClusterClock::Advance(LogicalTime t) {
  if (t.seconds > uint64_t{WallSeconds()} + kMaxDriftSeconds) {
    return Status(ErrorCode::kClusterTimeFailsRateLimiter,
                  "New $clusterTime, " + std::to_string(t.seconds) + ", is too far from this node's wall clock time, " +
                      std::to_string(WallSeconds()) + ".");
  }
  std::lock_guard lock(mutex_);
  now_ = std::max(now_, t);
  return Status::OK();
}

LogicalTime ClusterClock::Reserve(uint32_t count) {
  std::lock_guard lock(mutex_);
  const LogicalTime first = Next(now_);
  now_ = LogicalTime{first.seconds, first.increment + (count == 0 ? 0 : count - 1)};
  pending_first_ = first;
  pending_last_ = now_;
  return first;
}

void ClusterClock::Publish() {
  {
    std::lock_guard lock(mutex_);
    last_write_ = std::max(last_write_, pending_last_);
    threads_last_write = pending_last_;
    pending_first_ = pending_last_ = LogicalTime{};
  }
  published_.notify_all();
}

void ClusterClock::Abandon() {
  {
    std::lock_guard lock(mutex_);
    pending_first_ = pending_last_ = LogicalTime{};
  }
  published_.notify_all();
}

bool ClusterClock::WaitUntilVisible(LogicalTime t, std::chrono::steady_clock::time_point until) const {
  std::unique_lock lock(mutex_);
  return published_.wait_until(lock, until, [&] { return pending_first_.null() || t < pending_first_; });
}

}  // namespace docket
