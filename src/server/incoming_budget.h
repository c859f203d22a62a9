// The bytes all connections together may hold for messages being received
// (and decompressed). A connection's buffer grows as bytes arrive, never on a
// header's word, and each growth is charged here first; a connection that
// finds the budget spent waits (without a thread) until others finish, and
// the message timeout bounds that wait. So a flood of clients announcing
// 48 MB messages costs what they actually send, up to the budget.
#pragma once

#include <atomic>
#include <cstddef>

namespace docket::server {

// Thread-safe (lock-free).
class IncomingBudget {
 public:
  explicit IncomingBudget(size_t capacity) : capacity_(capacity) {}

  // Charges `bytes` if they fit; false (and nothing charged) otherwise.
  bool TryReserve(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    while (true) {
      if (bytes > capacity_ || used > capacity_ - bytes) return false;
      if (used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed)) return true;
    }
  }
  // REQUIRES: `bytes` were reserved and not yet released.
  void Release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  std::atomic<size_t> used_{0};
};

}  // namespace docket::server
