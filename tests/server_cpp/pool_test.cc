// The server's thread pool: it grows when its threads are blocked (reported
// by the engine's BlockingRegion, or stalled in a command for its grace
// period), so queued work never waits behind them, and shrinks back when the
// load goes. Real threads, real waits; the invariants are counted.
#include "server/pool.h"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <asio/executor_work_guard.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "docket/blocking.h"

namespace docket::server {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `jobs` handlers that each hold a pool thread for `hold`, inside a
// command, either reporting the wait (BlockingRegion) or not; returns how
// long they took together.
Clock::duration RunBlockingJobs(asio::io_context& io, Pool& pool, int jobs, std::chrono::milliseconds hold,
                                bool report) {
  std::atomic<int> done{0};
  auto start = Clock::now();
  for (int i = 0; i < jobs; ++i) {
    asio::post(io, [&] {
      Pool::BusyScope busy(pool);
      if (report) {
        BlockingRegion waiting;
        std::this_thread::sleep_for(hold);
      } else {
        std::this_thread::sleep_for(hold);
      }
      done.fetch_add(1);
    });
  }
  while (done.load() < jobs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Clock::now() - start;
}

class PoolTest : public ::testing::TestWithParam<bool> {};

TEST_P(PoolTest, BlockedThreadsAreReplacedAndTheExtrasRetire) {
  const bool report = GetParam();
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Pool pool(io, 1, 16);
  pool.Start();
  EXPECT_EQ(pool.running(), 1);

  // Eight jobs of 200 ms on a one-thread pool: one after another they would
  // take 1.6 s; side by side, a little over 200 ms.
  const auto took = RunBlockingJobs(io, pool, 8, std::chrono::milliseconds(200), report);
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "the pool did not grow while its threads were blocked";
  EXPECT_GE(pool.running(), 2);
  EXPECT_LE(pool.running(), 16);

  // No load: the extra threads retire, down to the base size.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (pool.running() > 1 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(pool.running(), 1);

  work.reset();
  pool.Join();
}

INSTANTIATE_TEST_SUITE_P(Waits, PoolTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Reported") : std::string("Unreported");
                         });

TEST(PoolLimitTest, NeverGrowsPastItsMaximum) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Pool pool(io, 1, 3);
  pool.Start();
  std::atomic<int> done{0}, peak{0}, inside{0};
  for (int i = 0; i < 12; ++i) {
    asio::post(io, [&] {
      Pool::BusyScope busy(pool);
      BlockingRegion waiting;
      int now = inside.fetch_add(1) + 1;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      inside.fetch_sub(1);
      done.fetch_add(1);
    });
  }
  while (done.load() < 12) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_LE(peak.load(), 3);
  EXPECT_LE(pool.running(), 3);
  work.reset();
  pool.Join();
}

}  // namespace
}  // namespace docket::server
