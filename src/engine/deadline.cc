#include "docket/deadline.h"

#include <algorithm>

namespace docket {
namespace {

thread_local std::optional<std::chrono::steady_clock::time_point> t_deadline;
thread_local const std::atomic<bool>* t_interrupted = nullptr;

}  // namespace

DeadlineScope::DeadlineScope(std::chrono::steady_clock::time_point deadline) : outer_(t_deadline) {
  t_deadline = outer_ ? std::min(*outer_, deadline) : deadline;
}

DeadlineScope::~DeadlineScope() { t_deadline = outer_; }

InterruptScope::InterruptScope(const std::atomic<bool>* interrupted) : outer_(t_interrupted) {
  t_interrupted = interrupted;
}

InterruptScope::~InterruptScope() { t_interrupted = outer_; }

Status CheckDeadline() {
  if (t_interrupted != nullptr && t_interrupted->load(std::memory_order_relaxed)) {
    return Status(ErrorCode::kInterrupted, "operation was interrupted");
  }
  if (!t_deadline) return Status::OK();
  if (std::chrono::steady_clock::now() < *t_deadline) return Status::OK();
  return Status(ErrorCode::kMaxTimeMSExpired, "operation exceeded time limit");
}

}  // namespace docket
