// Blocking notifications: the engine tells the calling thread's observer
// when it is about to wait for something other than the CPU (today: a WAL
// sync for j:true, its own or a group's), and when the wait is over. A server
// that runs commands on a small pool of threads uses this to start another
// thread, so the wait never leaves its other connections without one.
// Embedded programs need not care: with no observer nothing happens.
#pragma once

namespace docket {

class BlockingObserver {
 public:
  virtual ~BlockingObserver() = default;
  // Called on the waiting thread. Must not call back into the engine.
  virtual void Enter() = 0;
  virtual void Leave() = 0;
};

// Sets the calling thread's observer (nullptr: none). The observer must
// outlive its use by the thread.
void SetThreadBlockingObserver(BlockingObserver* observer);

// Brackets a wait: Enter() on construction, Leave() on destruction, on the
// calling thread's observer if it has one.
class BlockingRegion {
 public:
  BlockingRegion();
  ~BlockingRegion();
  BlockingRegion(const BlockingRegion&) = delete;
  BlockingRegion& operator=(const BlockingRegion&) = delete;

 private:
  BlockingObserver* observer_;
};

}  // namespace docket
