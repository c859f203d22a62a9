// What one operation read (MongoDB's keysExamined and docsExamined, as the
// profiler and slow-operation log report them): a MetricsScope collects, on
// the calling thread, what the engine's scans examine while it lives. A
// cursor's later batches count toward the scope around the call that reads
// them (a getMore's own figures, as in MongoDB).
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <string_view>

namespace docket {

struct OperationMetrics {
  int64_t keys_examined = 0;  // index entries (and _id keys) looked at
  int64_t docs_examined = 0;  // records fetched
  int64_t keys_inserted = 0;  // index entries written, the _id index's included
  int64_t keys_deleted = 0;   // index entries removed, the _id index's included
  // The plans the operation's reads used, as mongod's planSummary:
  // "COLLSCAN", "IXSCAN { a: 1 }", "IDHACK", "COUNT_SCAN { a: 1 }", each
  // once, comma-separated in the order first used.
  std::string plan_summary;
  std::vector<std::string> plans;  // the same plans, one item each

  // Adds `other`'s counts, and its plans not listed yet.
  void Add(const OperationMetrics& other);
};

// The current scope's sink (null when none): what an inner scope adds its
// counts to when its work belongs to the outer operation as well.
OperationMetrics* CurrentMetrics();

// Adds the calling thread's engine work to `*sink` until destroyed. Scopes
// nest: the inner one collects, the outer one comes back (and does not see
// the inner one's counts). Not movable.
class MetricsScope {
 public:
  explicit MetricsScope(OperationMetrics* sink);
  ~MetricsScope();
  MetricsScope(const MetricsScope&) = delete;
  MetricsScope& operator=(const MetricsScope&) = delete;

 private:
  OperationMetrics* outer_;
};

// For the engine's scans: count into the current scope, if any (one
// thread-local read when there is none).
void CountKeysExamined(int64_t n);
void CountDocsExamined(int64_t n);
void CountKeysInserted(int64_t n);
void CountKeysDeleted(int64_t n);
// Adds a plan to the current scope's plan_summary unless it is there already.
void NotePlan(std::string_view plan);
// Whether a scope is collecting (a caller may skip building NotePlan's text).
bool MetricsCollecting();

}  // namespace docket
