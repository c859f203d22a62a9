// The threads that run the server's io_context: sockets are polled and
// commands run on the same threads (no hand-offs), and the pool grows while
// commands keep its threads from polling.
//
// Invariants: `base` threads run from Start to the io_context's end; extra
// threads (up to `max` in all) are added when
//   * a thread inside a command is about to wait for the disk (the engine's
//     BlockingObserver, e.g. a j:true group commit) and no thread is free, or
//   * every thread has been inside a command for 2 ms with none finishing
//     (long scans, lock waits the engine does not report);
// and retire once the busiest moment of the last 100 ms needed fewer.
#pragma once

#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "docket/blocking.h"

namespace docket::server {

class Pool : private BlockingObserver {
 public:
  Pool(asio::io_context& io, int base, int max);
  ~Pool();  // joins (after the io_context has run out of work)

  void Start();
  // Stops growing and joins every thread; returns when the io_context has
  // run out of work (the caller closed everything).
  void Join();

  int running() const { return running_.load(); }

  // Marks the calling thread busy for a command's duration.
  class BusyScope {
   public:
    explicit BusyScope(Pool& pool);
    ~BusyScope();
    BusyScope(const BusyScope&) = delete;
    BusyScope& operator=(const BusyScope&) = delete;

   private:
    Pool& pool_;
  };

 private:
  struct Thread {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  static constexpr auto kStallGrace = std::chrono::milliseconds(2);
  static constexpr auto kRetireInterval = std::chrono::milliseconds(100);

  void Enter() override;  // BlockingObserver: a busy thread is about to wait
  void Leave() override {}
  void AddThread(bool extra);  // REQUIRES(mutex_)
  void RunExtra(Thread* self);
  bool TakeRetirement();
  void MonitorLoop();

  asio::io_context& io_;
  const int base_, max_;
  std::atomic<int> running_{0};   // threads running the io_context
  std::atomic<int> busy_{0};      // of them, inside a command
  std::atomic<int> peak_busy_{0}; // the most busy at once since the monitor last looked
  std::atomic<int> retire_{0};    // extra threads asked to retire
  std::atomic<uint64_t> completed_{0};  // commands finished
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_monitor_;  // "every thread is busy", or Join
  std::vector<std::unique_ptr<Thread>> threads_;  // GUARDED_BY(mutex_)
  std::thread monitor_;
};

}  // namespace docket::server
