#include "commands/cursor_registry.h"

#include <algorithm>
#include <random>

namespace docket::commands {

int64_t CursorRegistry::Register(std::string ns, int64_t connection_id, Cursor cursor) {
  std::lock_guard lock(mutex_);
  if (next_ == 0) next_ = std::random_device{}() % 1000000 + 1000;  // ids not guessable from 1
  int64_t id = static_cast<int64_t>(++next_);
  auto entry = std::make_unique<Entry>(Entry{id, std::move(ns), connection_id, std::move(cursor), Clock::now(), false});
  cursors_.emplace(id, std::move(entry));
  return id;
}

Result<CursorRegistry::Entry*> CursorRegistry::CheckOut(int64_t id, const std::string& ns) {
  std::lock_guard lock(mutex_);
  auto it = cursors_.find(id);
  if (it == cursors_.end() || it->second->ns != ns) {
    return Status(ErrorCode::kCursorNotFound, "cursor id " + std::to_string(id) + " not found");
  }
  if (it->second->checked_out) {
    return Status(ErrorCode::kCursorNotFound, "cursor id " + std::to_string(id) + " is in use by another command");
  }
  it->second->checked_out = true;
  return it->second.get();
}

void CursorRegistry::Release(Entry* entry, bool exhausted) {
  std::lock_guard lock(mutex_);
  entry->checked_out = false;
  entry->last_used = Clock::now();
  auto doomed = std::find(doomed_.begin(), doomed_.end(), entry->id);
  if (doomed != doomed_.end()) {
    doomed_.erase(doomed);
    exhausted = true;
  }
  if (exhausted) cursors_.erase(entry->id);
}

bool CursorRegistry::Kill(int64_t id) {
  std::lock_guard lock(mutex_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return false;
  if (it->second->checked_out) {
    doomed_.push_back(id);
  } else {
    cursors_.erase(it);
  }
  return true;
}

void CursorRegistry::KillConnection(int64_t connection_id) {
  std::lock_guard lock(mutex_);
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    if (it->second->connection_id != connection_id) {
      ++it;
    } else if (it->second->checked_out) {
      doomed_.push_back(it->first);
      ++it;
    } else {
      it = cursors_.erase(it);
    }
  }
}

size_t CursorRegistry::ReapIdle(Clock::duration idle) {
  std::lock_guard lock(mutex_);
  const auto cutoff = Clock::now() - idle;
  size_t reaped = 0;
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    if (!it->second->checked_out && it->second->last_used < cutoff) {
      it = cursors_.erase(it);
      ++reaped;
    } else {
      ++it;
    }
  }
  return reaped;
}

size_t CursorRegistry::size() {
  std::lock_guard lock(mutex_);
  return cursors_.size();
}

}  // namespace docket::commands
