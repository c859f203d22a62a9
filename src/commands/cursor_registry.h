// Server-side cursors between find/aggregate and getMore. As in MongoDB, a
// cursor belongs to the session (lsid) that opened it, not to a connection:
// a driver's getMore may come on any pooled connection, after the first one
// closed. A cursor opened in a session is continued or killed only in that
// session (getMore elsewhere: 50736/50737/50738); one opened without a
// session only without one. A cursor ends when exhausted, by killCursors, by
// endSessions of its session, when its transaction ends, or after sitting idle
// longer than the idle timeout (10 minutes, as MongoDB; noCursorTimeout
// cursors only when their session has been idle for the session timeout).
//
// Ids are random positive 64-bit numbers, never 0 and never reused while
// the cursor lives: they cannot be guessed from one another.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
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
    std::string ns;    // "db.collection"
    std::string lsid;  // the session's id bytes; empty: opened without a session
    Cursor cursor;
    Clock::time_point last_used;
    bool no_timeout = false;  // noCursorTimeout
    bool checked_out = false;
    // What is left of the opening command's maxTimeMS (MongoDB counts the
    // time of every getMore against it); none: no limit.
    std::optional<Clock::duration> time_left;
    bool await_data = false;  // a tailable awaitData cursor: getMore waits for data
  };

  // Keeps `cursor` and returns its new id. `deadline`: the opening
  // command's (its maxTimeMS), whose remainder the getMores share.
  int64_t Register(std::string ns, std::string lsid, Cursor cursor, bool no_timeout = false,
                   std::optional<Clock::time_point> deadline = std::nullopt, bool await_data = false);

  // Takes the cursor for one getMore by the session `lsid` (empty: none).
  // Errors: CursorNotFound (43) when the id is unknown or its namespace
  // differs, or when it is in use by another command; 50736/50737/50738 when
  // the sessions differ. REQUIRES: Release() afterwards.
  Result<Entry*> CheckOut(int64_t id, const std::string& ns, const std::string& lsid);
  // Returns a checked-out cursor; an exhausted one is dropped.
  void Release(Entry* entry, bool exhausted);
  // Whether a checked-out cursor was killed meanwhile (its getMore's wait
  // for data then ends).
  bool Killed(int64_t id);

  // killCursors by the session `lsid`: removes the cursor if it exists in
  // that session; false otherwise (another session's cursor is not found).
  // A checked-out cursor is removed when it is released.
  bool Kill(int64_t id, const std::string& lsid);
  // Removes the cursor whatever its session (the server's own bookkeeping:
  // a transaction's cursors when it ends).
  void KillInternal(int64_t id);
  // endSessions: every cursor of the session.
  void KillSession(const std::string& lsid);
  // Kills cursors idle for longer than `idle` (noCursorTimeout ones: longer
  // than `session_idle`); returns how many.
  size_t ReapIdle(Clock::duration idle, Clock::duration session_idle);
  size_t size();

 private:
  void RemoveLocked(std::map<int64_t, std::unique_ptr<Entry>>::iterator it);

  std::mutex mutex_;
  std::map<int64_t, std::unique_ptr<Entry>> cursors_;  // GUARDED_BY(mutex_)
  std::vector<int64_t> doomed_;  // checked-out cursors to drop on release; GUARDED_BY(mutex_)
  std::mt19937_64 random_{std::random_device{}()};  // GUARDED_BY(mutex_)
};

// A session id as MongoDB prints it in messages (its UUID), for errors.
std::string SessionIdText(const std::string& lsid);

}  // namespace docket::commands
