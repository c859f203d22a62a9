// $indexStats' "accesses" of one index: how many operations read it, and
// since when. Counted when a find, count, distinct, aggregation, update,
// delete or findAndModify opens a read of the index (explain does not
// count, as in mongod); `since` is when counting began: the index's
// creation, or the engine's opening (the counts live in memory only, as
// mongod's do). Thread-safe (relaxed atomics: a statistic, not a fence).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace docket::index {

class AccessCounter {
 public:
  AccessCounter() : since_ms_(NowMillis()) {}
  AccessCounter(const AccessCounter&) = delete;
  AccessCounter& operator=(const AccessCounter&) = delete;

  void Record() { ops_.fetch_add(1, std::memory_order_relaxed); }
  int64_t ops() const { return ops_.load(std::memory_order_relaxed); }
  int64_t since_ms() const { return since_ms_.load(std::memory_order_relaxed); }
  // An index compiled again (collMod changed its spec) keeps its count.
  void CarryFrom(const AccessCounter& other) {
    ops_.store(other.ops(), std::memory_order_relaxed);
    since_ms_.store(other.since_ms(), std::memory_order_relaxed);
  }

 private:
  static int64_t NowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::atomic<int64_t> ops_{0};
  std::atomic<int64_t> since_ms_;
};

}  // namespace docket::index
