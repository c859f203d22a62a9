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

}  // namespace docket::bench
