// Time limits on engine work (MongoDB's maxTimeMS): a DeadlineScope gives
// the calling thread a deadline, and the engine's reads check it as they go
// — once per document a scan examines, in finds, counts, aggregations
// (every stage pulls from such a scan) and the scans of updates and deletes
// — and fail with MaxTimeMSExpired (50) once it has passed. A server sets
// one per command; an embedded program may bound any call the same way.
// Work that examines no documents (sorting what was already read) is not
// interrupted; the next document it pulls is.
#pragma once

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

// MaxTimeMSExpired (50) if the calling thread's deadline has passed; OK
// otherwise, and always OK without a deadline (one thread-local read).
Status CheckDeadline();

}  // namespace docket
