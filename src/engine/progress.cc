#include "docket/progress.h"

namespace docket {

namespace {
thread_local OperationProgress* current = nullptr;
}  // namespace

ProgressScope::ProgressScope(OperationProgress* sink) : outer_(current) { current = sink; }
ProgressScope::~ProgressScope() { current = outer_; }

void ReportProgress(int64_t done, int64_t total) {
  if (current == nullptr) return;
  current->done.store(done, std::memory_order_relaxed);
  current->total.store(total, std::memory_order_relaxed);
}

}  // namespace docket
