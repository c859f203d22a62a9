// mongod's fsync lock: `fsync` with lock: true blocks every write until as
// many `fsyncUnlock`s have run (a count, as mongod's); reads go on. A
// writing command that arrives meanwhile waits before it runs, listed in
// currentOp, under its maxTimeMS, and killOp ends the wait.
//
// Thread-safe (mutex_ guards the count; writers wait on changed_).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

class FsyncLock {
 public:
  // Returns the count after the change.
  int64_t Lock();
  // Errors: IllegalOperation (20) when not locked.
  Result<int64_t> Unlock();
  int64_t count() const;

  // Waits while locked, if the command `name` writes (its body for an
  // aggregate's $out/$merge). Errors: the operation's deadline or killOp
  // (docket/deadline.h).
  Status WaitIfWriting(std::string_view name, const Document& body);

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t count_ = 0;  // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
