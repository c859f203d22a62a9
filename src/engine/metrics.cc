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

OperationMetrics* CurrentMetrics() { return current; }

namespace {

void AddPlan(OperationMetrics* metrics, std::string_view plan) {
  for (const std::string& listed : metrics->plans) {
    if (listed == plan) return;
  }
  metrics->plans.emplace_back(plan);
  if (!metrics->plan_summary.empty()) metrics->plan_summary += ", ";
  metrics->plan_summary += plan;
}

}  // namespace

void NotePlan(std::string_view plan) {
  if (current != nullptr) AddPlan(current, plan);
}

void OperationMetrics::Add(const OperationMetrics& other) {
  keys_examined += other.keys_examined;
  docs_examined += other.docs_examined;
  keys_inserted += other.keys_inserted;
  keys_deleted += other.keys_deleted;
  for (const std::string& plan : other.plans) AddPlan(this, plan);
}

}  // namespace docket
