#include "server/pool.h"

#include <algorithm>

namespace docket::server {

Pool::Pool(asio::io_context& io, int base, int max) : io_(io), base_(std::max(1, base)), max_(std::max(base_, max)) {}

Pool::~Pool() { Join(); }

void Pool::Start() {
  {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < base_; ++i) AddThread(false);
  }
  monitor_ = std::thread([this] { MonitorLoop(); });
}

void Pool::Join() {
  stopping_ = true;
  wake_monitor_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  // No thread is added once stopping_ is set (checked under mutex_), so the
  // list taken here is final.
  std::vector<std::unique_ptr<Thread>> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t->thread.join();
}

Pool::BusyScope::BusyScope(Pool& pool) : pool_(pool) {
  const int now = pool_.busy_.fetch_add(1) + 1;
  int peak = pool_.peak_busy_.load(std::memory_order_relaxed);
  while (now > peak && !pool_.peak_busy_.compare_exchange_weak(peak, now)) {
  }
  // The last free thread: the monitor watches for a stall. (Without the
  // mutex a notification can be missed; the monitor also wakes every 100 ms.)
  if (now >= pool_.running_.load()) pool_.wake_monitor_.notify_one();
}

Pool::BusyScope::~BusyScope() {
  pool_.completed_.fetch_add(1, std::memory_order_relaxed);
  pool_.busy_.fetch_sub(1);
}

void Pool::Enter() {
  // About to wait for the disk inside a command. If no other thread is free
  // to poll, start one now rather than after the stall grace.
  if (busy_.load() < running_.load()) return;
  std::lock_guard lock(mutex_);
  if (!stopping_ && busy_.load() >= running_.load() && running_.load() < max_) AddThread(true);
}

void Pool::AddThread(bool extra) {
  auto slot = std::make_unique<Thread>();
  Thread* self = slot.get();
  running_.fetch_add(1);
  slot->thread = std::thread([this, self, extra] {
    SetThreadBlockingObserver(this);
    if (extra) {
      RunExtra(self);
      return;
    }
    io_.run();
    running_.fetch_sub(1);
    self->done = true;
  });
  threads_.push_back(std::move(slot));
}

void Pool::RunExtra(Thread* self) {
  while (true) {
    const size_t ran = io_.run_one_for(std::chrono::milliseconds(500));
    if (ran == 0 && io_.stopped()) break;
    if (TakeRetirement()) break;
  }
  running_.fetch_sub(1);
  self->done = true;
}

bool Pool::TakeRetirement() {
  int asked = retire_.load();
  while (asked > 0) {
    if (retire_.compare_exchange_weak(asked, asked - 1)) return true;
  }
  return false;
}

void Pool::MonitorLoop() {
  std::unique_lock lock(mutex_);
  auto next_retire_check = std::chrono::steady_clock::now() + kRetireInterval;
  while (!stopping_) {
    wake_monitor_.wait_until(lock, next_retire_check, [this] { return stopping_ || busy_.load() >= running_.load(); });
    if (stopping_) break;
    if (std::chrono::steady_clock::now() >= next_retire_check) {
      next_retire_check += kRetireInterval;
      // Retired threads have returned: join them.
      std::erase_if(threads_, [](std::unique_ptr<Thread>& t) {
        if (!t->done.load()) return false;
        t->thread.join();
        return true;
      });
      // Keep one more thread than the busiest moment needed, at least base_.
      const int peak = peak_busy_.exchange(busy_.load());
      retire_.store(std::max(0, running_.load() - std::max(base_, peak + 1)));
    }
    if (busy_.load() < running_.load()) continue;
    // Every thread is in a command. Fast ones finish in microseconds; if
    // none has finished after the grace period, they are blocked: add a
    // thread so that the sockets are served meanwhile.
    const uint64_t before = completed_.load();
    lock.unlock();
    std::this_thread::sleep_for(kStallGrace);
    lock.lock();
    if (!stopping_ && busy_.load() >= running_.load() && completed_.load() == before && running_.load() < max_) {
      retire_.store(0);
      AddThread(true);
    }
  }
}

}  // namespace docket::server
