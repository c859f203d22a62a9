#include "docket/metrics.h"

namespace docket {

namespace {
thread_local OperationMetrics* current = nullptr;
}  // namespace

MetricsScope::MetricsScope(OperationMetrics* sink) : outer_(current) { current = sink; }
MetricsScope::~MetricsScope() { current = outer_; }

void CountKeysExamined(int64_t n) {
  if (current != nullptr) current->keys_examined += n;
}

void CountDocsExamined(int64_t n) {
  if (current != nullptr) current->docs_examined += n;
}

}  // namespace docket
