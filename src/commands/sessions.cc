#include "commands/sessions.h"

namespace docket::commands {

void Session::AbortTransaction() {
  if (state == TxnState::kInProgress && txn) txn->Abort();
  txn.reset();
  if (state == TxnState::kInProgress) state = TxnState::kAborted;
}

std::shared_ptr<Session> SessionRegistry::Get(const std::string& lsid) {
  std::lock_guard lock(mutex_);
  Slot& slot = sessions_[lsid];
  if (!slot.session) slot.session = std::make_shared<Session>();
  slot.last_use = Session::Clock::now();
  slot.last_use_wall = std::chrono::system_clock::now();
  return slot.session;
}

std::vector<SessionRegistry::Listed> SessionRegistry::List() {
  std::lock_guard lock(mutex_);
  std::vector<Listed> out;
  out.reserve(sessions_.size());
  for (const auto& [lsid, slot] : sessions_) out.push_back({lsid, slot.last_use_wall});
  return out;
}

void SessionRegistry::End(const std::string& lsid) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(lsid);
    if (it == sessions_.end()) return;
    session = std::move(it->second.session);
    sessions_.erase(it);
  }
  std::lock_guard lock(session->mutex);  // waits for a command still using it
  session->AbortTransaction();
}

void SessionRegistry::Kill(const std::string& lsid) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(lsid);
    if (it == sessions_.end()) return;
    session = it->second.session;
  }
  std::lock_guard lock(session->mutex);  // waits for a command still using it
  session->AbortTransaction();
}

std::vector<std::string> SessionRegistry::Ids() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  ids.reserve(sessions_.size());
  for (const auto& [id, slot] : sessions_) ids.push_back(id);
  return ids;
}

std::vector<int64_t> SessionRegistry::Reap(std::chrono::seconds lifetime) {
  const auto now = Session::Clock::now();
  std::vector<int64_t> cursors;
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& s = *it->second.session;
    std::unique_lock session_lock(s.mutex, std::try_to_lock);
    if (!session_lock.owns_lock()) {  // checked out: in use, not idle
      ++it;
      continue;
    }
    if (s.state == Session::TxnState::kInProgress && now - s.txn_started > lifetime) {
      s.AbortTransaction();
      cursors.insert(cursors.end(), s.txn_cursors.begin(), s.txn_cursors.end());
      s.txn_cursors.clear();
    }
    if (now - it->second.last_use > kSessionTimeout) {
      s.AbortTransaction();
      session_lock.unlock();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  return cursors;
}

size_t SessionRegistry::size() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace docket::commands
