#include "commands/cursor_registry.h"

#include <algorithm>
#include <cstdio>

namespace docket::commands {

std::string SessionIdText(const std::string& lsid) {
  if (lsid.size() != 16) return "<" + std::to_string(lsid.size()) + "-byte id>";
  std::string out;
  char hex[3];
  for (size_t i = 0; i < lsid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(lsid[i]));
    out += hex;
  }
  return out;
}

int64_t CursorRegistry::Register(std::string ns, std::string lsid, Cursor cursor, bool no_timeout,
                                 std::optional<Clock::time_point> deadline, bool await_data) {
  std::optional<Clock::duration> time_left;
  if (deadline) time_left = std::max(Clock::duration::zero(), *deadline - Clock::now());
  std::lock_guard lock(mutex_);
  int64_t id = 0;
  do {
    id = static_cast<int64_t>(random_() & 0x7FFFFFFFFFFFFFFFull);
  } while (id == 0 || cursors_.count(id) != 0);
  cursors_.emplace(id, std::make_unique<Entry>(Entry{id, std::move(ns), std::move(lsid), std::move(cursor), Clock::now(),
                                                   no_timeout, /*checked_out=*/false, time_left, await_data}));
  return id;
}

Result<CursorRegistry::Entry*> CursorRegistry::CheckOut(int64_t id, const std::string& ns, const std::string& lsid) {
  std::lock_guard lock(mutex_);
  auto it = cursors_.find(id);
  const bool doomed = std::find(doomed_.begin(), doomed_.end(), id) != doomed_.end();
  if (it == cursors_.end() || it->second->ns != ns || doomed) {
    return Status(ErrorCode::kCursorNotFound, "cursor id " + std::to_string(id) + " not found");
  }
  const Entry& entry = *it->second;
  const std::string prefix = "Cannot run getMore on cursor " + std::to_string(id) + ", which was ";
  if (!lsid.empty() && entry.lsid.empty()) {
    return Status(static_cast<ErrorCode>(50736), prefix + "not created in a session, in session " + SessionIdText(lsid));
  }
  if (lsid.empty() && !entry.lsid.empty()) {
    return Status(static_cast<ErrorCode>(50737),
                  prefix + "created in session " + SessionIdText(entry.lsid) + ", without an lsid");
  }
  if (lsid != entry.lsid) {
    return Status(static_cast<ErrorCode>(50738), prefix + "created in session " + SessionIdText(entry.lsid) +
                                                     ", in session " + SessionIdText(lsid));
  }
  if (entry.checked_out) {
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

bool CursorRegistry::Killed(int64_t id) {
  std::lock_guard lock(mutex_);
  return std::find(doomed_.begin(), doomed_.end(), id) != doomed_.end();
}

void CursorRegistry::RemoveLocked(std::map<int64_t, std::unique_ptr<Entry>>::iterator it) {
  if (it->second->checked_out) {
    if (std::find(doomed_.begin(), doomed_.end(), it->first) == doomed_.end()) doomed_.push_back(it->first);
  } else {
    cursors_.erase(it);
  }
}

bool CursorRegistry::Kill(int64_t id, const std::string& lsid) {
  std::lock_guard lock(mutex_);
  auto it = cursors_.find(id);
  if (it == cursors_.end() || it->second->lsid != lsid) return false;
  if (std::find(doomed_.begin(), doomed_.end(), id) != doomed_.end()) return false;
  RemoveLocked(it);
  return true;
}

void CursorRegistry::KillInternal(int64_t id) {
  std::lock_guard lock(mutex_);
  auto it = cursors_.find(id);
  if (it != cursors_.end()) RemoveLocked(it);
}

void CursorRegistry::KillSession(const std::string& lsid) {
  if (lsid.empty()) return;
  std::lock_guard lock(mutex_);
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    auto next = std::next(it);
    if (it->second->lsid == lsid) RemoveLocked(it);
    it = next;
  }
}

size_t CursorRegistry::ReapIdle(Clock::duration idle, Clock::duration session_idle) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  size_t reaped = 0;
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    const Entry& e = *it->second;
    const auto limit = e.no_timeout ? session_idle : idle;
    if (!e.checked_out && now - e.last_used > limit) {
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
