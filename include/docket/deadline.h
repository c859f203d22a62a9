// Time limits and interruption of engine work (MongoDB's maxTimeMS and
// killOp): a DeadlineScope gives
// the calling thread a deadline, and the engine's reads check it as they go
// — once per document a scan examines, in finds, counts, aggregations
// (every stage pulls from such a scan) and the scans of updates and deletes
// — and fail with MaxTimeMSExpired (50) once it has passed. A server sets
// one per command; an embedded program may bound any call the same way.
// Work that examines no documents (sorting what was already read) is not
// interrupted; the next document it pulls is.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>

#include "docket/status.h"

namespace docket {

// Gives the calling thread `deadline` until destroyed. Scopes nest: the
// earlier deadline wins, and the outer one comes back on destruction.
// Not movable: it belongs to the thread and the block that made it.
class DeadlineScope {
 public:
  explicit DeadlineScope(std::chrono::steady_clock::time_point deadline);
  ~DeadlineScope();
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  std::optional<std::chrono::steady_clock::time_point> outer_;
};

// Lets another thread stop the calling thread's engine work (MongoDB's
// killOp): while the scope lives, once `*interrupted` becomes true the
// checks below fail with Interrupted (11601). The flag must outlive the
// scope. Nests like DeadlineScope (the outer flag comes back).
class InterruptScope {
 public:
  explicit InterruptScope(const std::atomic<bool>* interrupted);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  const std::atomic<bool>* outer_;
};

// Interrupted (11601) if the calling thread's work was interrupted,
// MaxTimeMSExpired (50) if its deadline has passed; OK otherwise, and always
// OK without either (two thread-local reads).
Status CheckDeadline();

}  // namespace docket
