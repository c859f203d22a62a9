// fsync and fsyncUnlock (admin only, as mongod): fsync flushes the engine's
// memory tables and syncs its write-ahead log (Engine::Flush); with lock:
// true it also takes one count of the fsync lock (fsync_lock.h).
#include <chrono>

#include "commands/args.h"
#include "commands/cluster_time.h"
#include "commands/fsync_lock.h"
#include "commands/handlers.h"
#include "docket/blocking.h"
#include "docket/deadline.h"

namespace docket::commands {

namespace {


// Whether the command changes data: it waits while the fsync lock is held.
bool Writes(std::string_view name, const Document& body) {
  static constexpr std::string_view kWriters[] = {
      "insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop", "dropDatabase",
      "renameCollection", "createIndexes", "dropIndexes", "collMod", "convertToCapped", "cloneCollectionAsCapped",
      "compact", "commitTransaction", "reIndex"};
  for (std::string_view writer : kWriters) {
    if (name == writer) return true;
  }
  return name == "aggregate" && PipelineWrites(body);
}

}  // namespace

int64_t FsyncLock::Lock() {
  std::lock_guard lock(mutex_);
  return ++count_;
}

Result<int64_t> FsyncLock::Unlock() {
  int64_t now = 0;
  {
    std::lock_guard lock(mutex_);
    if (count_ == 0) return Status(ErrorCode::kIllegalOperation, "fsyncUnlock called when not locked");
    now = --count_;
  }
  changed_.notify_all();
  return now;
}

int64_t FsyncLock::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

Status FsyncLock::WaitIfWriting(std::string_view name, const Document& body) {
  {
    std::lock_guard lock(mutex_);
    if (count_ == 0) return Status::OK();
  }
  if (!Writes(name, body)) return Status::OK();
  BlockingRegion blocking;  // the server's pool lends another thread meanwhile
  std::unique_lock lock(mutex_);
  while (count_ > 0) {
    lock.unlock();
    DOCKET_RETURN_IF_ERROR(CheckDeadline());  // maxTimeMS, killOp
    lock.lock();
    changed_.wait_for(lock, std::chrono::milliseconds(50), [this] { return count_ == 0; });
  }
  return Status::OK();
}

Status Fsync(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "fsync"));
  bson_iter_t it;
  const bool lock = request.body->Find("lock", &it) && bson_iter_as_bool(&it);
  DOCKET_RETURN_IF_ERROR(context.server.engine->Flush());
  BSON_APPEND_INT32(reply, "numFiles", 1);
  if (lock) {
    const int64_t count = context.server.fsync_lock.Lock();
    BSON_APPEND_UTF8(reply, "info", "now locked against writes, use db.fsyncUnlock() to unlock");
    BSON_APPEND_INT64(reply, "lockCount", count);
  }
  return Status::OK();
}

Status FsyncUnlock(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "fsyncUnlock"));
  auto count = context.server.fsync_lock.Unlock();
  if (!count.ok()) return count.status();
  BSON_APPEND_UTF8(reply, "info", "fsyncUnlock completed");
  BSON_APPEND_INT64(reply, "lockCount", *count);
  return Status::OK();
}

}  // namespace docket::commands
