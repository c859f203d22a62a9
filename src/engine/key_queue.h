// Where single-document writes queue for a document before RocksDB's row
// lock. RocksDB's lock manager wakes every waiter of a lock stripe when a lock
// is released (a condition variable's notify_all): with N writers on one hot
// document each increment wakes N threads of which one proceeds, and on a
// small machine those wake-ups, not the work, set the pace. A mutex per
// stripe of keys hands the document to one waiter at a time instead.
//
// A writer may also decline to wait (WriteOptions::may_park): it then gets
// the stripe's release count, parks a callback (Park) and holds no thread;
// the next release of the stripe calls one parked callback (FIFO), and a
// woken writer that does not take the stripe passes the turn on (PassTurn),
// so that no parked writer is forgotten.
//
// Contract (what keeps this deadlock-free): a thread takes at most one
// stripe, only for the document an update, delete or findAndModify outside
// a user transaction locks first (WriteUnit::QueueAndGetForUpdate), while
// holding no row lock, and releases it when that write commits (before any
// j:true sync) or gives up. User transactions never take them. Distinct keys
// may share a stripe; they then only queue, for the few microseconds of one
// write. Callbacks run on the releasing thread, outside every lock here:
// they must be short (a server posts them to the parked connection).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

namespace docket::engine {

class KeyQueues {
 public:
  static constexpr size_t kStripes = 512;

  // A stripe held; released (and the next parked writer woken) on
  // destruction or Release().
  class Ticket {
   public:
    Ticket() = default;
    Ticket(KeyQueues* queues, size_t stripe) : queues_(queues), stripe_(stripe) {}
    Ticket(Ticket&& other) noexcept : queues_(other.queues_), stripe_(other.stripe_) { other.queues_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept {
      if (this != &other) {
        Release();
        queues_ = other.queues_;
        stripe_ = other.stripe_;
        other.queues_ = nullptr;
      }
      return *this;
    }
    ~Ticket() { Release(); }
    bool held() const { return queues_ != nullptr; }
    void Release() {
      if (queues_ == nullptr) return;
      KeyQueues* queues = queues_;
      queues_ = nullptr;
      queues->ReleaseStripe(stripe_);
    }

   private:
    KeyQueues* queues_ = nullptr;
    size_t stripe_ = 0;
  };

  static size_t StripeOf(std::string_view key) { return std::hash<std::string_view>()(key) % kStripes; }

  // Waits for the stripe of `key`.
  Ticket Acquire(std::string_view key) {
    const size_t s = StripeOf(key);
    stripes_[s].lock.lock();
    return Ticket(this, s);
  }

  // The stripe of `key` if it is free; otherwise nullopt and, in
  // *generation, the stripe's release count to Park with.
  std::optional<Ticket> TryAcquire(std::string_view key, size_t* stripe, uint64_t* generation) {
    const size_t s = StripeOf(key);
    *stripe = s;
    Stripe& st = stripes_[s];
    {
      std::lock_guard guard(st.waiters_mutex);
      *generation = st.releases;
    }
    if (!st.lock.try_lock()) return std::nullopt;
    return Ticket(this, s);
  }

  // Calls `wake` after the stripe's next release following `generation`
  // (at once if one already happened).
  void Park(size_t stripe, uint64_t generation, std::function<void()> wake) {
    Stripe& st = stripes_[stripe % kStripes];
    {
      std::lock_guard guard(st.waiters_mutex);
      if (st.releases == generation) {
        st.waiters.push_back(std::move(wake));
        return;
      }
    }
    wake();
  }

  // Wakes the next parked writer of the stripe (a woken one that did not
  // take the stripe hands its turn on).
  void PassTurn(size_t stripe) { WakeOne(stripes_[stripe % kStripes]); }

 private:
  struct Stripe {
    std::mutex lock;           // held by the writer whose turn it is
    std::mutex waiters_mutex;  // guards the two below
    uint64_t releases = 0;
    std::deque<std::function<void()>> waiters;
  };

  void ReleaseStripe(size_t s) {
    Stripe& st = stripes_[s];
    st.lock.unlock();
    {
      std::lock_guard guard(st.waiters_mutex);
      ++st.releases;
    }
    WakeOne(st);
  }

  static void WakeOne(Stripe& st) {
    std::function<void()> wake;
    {
      std::lock_guard guard(st.waiters_mutex);
      if (st.waiters.empty()) return;
      wake = std::move(st.waiters.front());
      st.waiters.pop_front();
    }
    wake();
  }

  std::array<Stripe, kStripes> stripes_;
};

}  // namespace docket::engine
