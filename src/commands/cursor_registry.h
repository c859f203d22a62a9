// Server-side cursors between find/aggregate and getMore. A cursor is checked
// out by one command at a time (the engine's Cursor is not thread-safe),
// killed by killCursors, when its connection closes, or after sitting idle
// longer than the idle timeout (10 minutes by default, as MongoDB).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "docket/engine.h"

namespace docket::commands {

// Thread-safe: every member takes mutex_.
class CursorRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  struct Entry {
    int64_t id = 0;
    std::string ns;  // "db.collection"
    int64_t connection_id = 0;
    Cursor cursor;
    Clock::time_point last_used;
    bool checked_out = false;
  };

  // Keeps `cursor` and returns its new, never-zero id.
  int64_t Register(std::string ns, int64_t connection_id, Cursor cursor);

  // Takes the cursor for one getMore. Errors: CursorNotFound (43) when the id
  // is unknown or its namespace differs; when it is in use by another command
  // the error says so. REQUIRES: Release() afterwards.
  Result<Entry*> CheckOut(int64_t id, const std::string& ns);
  // Returns a checked-out cursor; an exhausted one is dropped.
  void Release(Entry* entry, bool exhausted);

  // Removes the cursor; false if it was unknown. A checked-out cursor is
  // removed when it is released.
  bool Kill(int64_t id);
  void KillConnection(int64_t connection_id);
  // Kills cursors idle for longer than `idle`; returns how many.
  size_t ReapIdle(Clock::duration idle);
  size_t size();

 private:
  std::mutex mutex_;
  std::map<int64_t, std::unique_ptr<Entry>> cursors_;  // GUARDED_BY(mutex_)
  std::vector<int64_t> doomed_;  // checked-out cursors to drop on release; GUARDED_BY(mutex_)
  uint64_t next_ = 0;            // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
