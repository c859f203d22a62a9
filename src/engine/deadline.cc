#include "docket/deadline.h"

#include <algorithm>

namespace docket {
namespace {

thread_local std::optional<std::chrono::steady_clock::time_point> t_deadline;

}  // namespace

DeadlineScope::DeadlineScope(std::chrono::steady_clock::time_point deadline) : outer_(t_deadline) {
  t_deadline = outer_ ? std::min(*outer_, deadline) : deadline;
}

DeadlineScope::~DeadlineScope() { t_deadline = outer_; }

Status CheckDeadline() {
  if (!t_deadline) return Status::OK();
  if (std::chrono::steady_clock::now() < *t_deadline) return Status::OK();
  return Status(ErrorCode::kMaxTimeMSExpired, "operation exceeded time limit");
}

}  // namespace docket
