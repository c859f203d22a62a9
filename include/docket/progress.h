// Progress of a long engine operation (an index build scanning its
// collection), for whoever shows it (the server's currentOp): a
// ProgressScope points the calling thread's reports at an OperationProgress
// while it lives. Without a scope a report costs one thread-local read.
#pragma once

#include <atomic>
#include <cstdint>

namespace docket {

struct OperationProgress {
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> total{-1};  // -1: nothing reported (yet)
};

// Scopes nest: the inner one receives the reports, the outer one comes back.
class ProgressScope {
 public:
  explicit ProgressScope(OperationProgress* sink);
  ~ProgressScope();
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;

 private:
  OperationProgress* outer_;
};

// `done` of `total` units of the current operation's work.
void ReportProgress(int64_t done, int64_t total);

}  // namespace docket
