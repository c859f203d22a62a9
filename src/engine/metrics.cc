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

void CountKeysInserted(int64_t n) {
  if (current != nullptr) current->keys_inserted += n;
}

void CountKeysDeleted(int64_t n) {
  if (current != nullptr) current->keys_deleted += n;
}

bool MetricsCollecting() { return current != nullptr; }

void NotePlan(std::string_view plan) {
  if (current == nullptr) return;
  std::string& summary = current->plan_summary;
  // Listed already: the whole summary, or an item bounded by ", " (a plan's
  // own text may hold ", " too, so items are matched whole, not split).
  const std::string item(plan);
  const bool listed = summary == item || summary.starts_with(item + ", ") || summary.ends_with(", " + item) ||
                      summary.find(", " + item + ", ") != std::string::npos;
  if (listed) return;
  if (!summary.empty()) summary += ", ";
  summary += item;
}

}  // namespace docket
