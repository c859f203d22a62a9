// The timing loop the benchmarks share: `threads` threads call op(thread, i)
// with i = 0, 1, 2, ... until `seconds` have passed; the result is
// operations per second over all of them, by wall clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace docket::bench {

inline double OpsPerSecond(int threads, double seconds, const std::function<void(int, int64_t)>& op) {
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> total{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      int64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) op(t, n++);
      total.fetch_add(n);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  return static_cast<double>(total.load()) / std::chrono::duration<double>(Clock::now() - start).count();
}

// One thread: op(n) for `seconds` after as long again of warm-up (op(-1),
// op(-2), ...: the same kind of work on other values), so that every system
// answers from its caches; operations per second of the timed part.
inline double WarmOpsPerSecond(double seconds, const std::function<void(int64_t)>& op) {
  using Clock = std::chrono::steady_clock;
  const auto warm = Clock::now();
  for (int64_t i = 0; std::chrono::duration<double>(Clock::now() - warm).count() < seconds; ++i) op(-1 - i);
  const auto start = Clock::now();
  int64_t n = 0;
  double elapsed = 0;
  do {
    op(n++);
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

}  // namespace docket::bench
