// Server sessions (lsid), their multi-document transactions and their
// retryable writes, as a replica-set member keeps them.
//
// A session is created by the first command that carries its lsid (as
// mongod's logical session cache registers every lsid it sees, which
// $listLocalSessions lists), and checked out by one command at a time when
// the command has a txnNumber (its mutex is held for the command). It owns at most one engine Transaction: started by a
// statement with startTransaction: true, used by the statements that follow
// with the same txnNumber, ended by commitTransaction or abortTransaction —
// or by the reaper, after the transaction lifetime (MongoDB's
// transactionLifetimeLimitSeconds, 60 by default), so an abandoned
// transaction cannot hold its row locks for long. Sessions idle for logicalSessionTimeoutMinutes
// (30) are dropped. For retryable writes (txnNumber without autocommit) the
// session keeps the last write's txnNumber and reply: a retry of that
// number gets the same reply instead of running twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "commands/api_version.h"
#include "docket/document.h"
#include "docket/engine.h"

namespace docket::commands {

struct Session {
  enum class TxnState { kNone, kInProgress, kCommitted, kAborted };
  using Clock = std::chrono::steady_clock;

  std::mutex mutex;  // held by the command that has the session checked out
  // Everything below: GUARDED_BY(mutex).
  int64_t txn_number = -1;  // the highest txnNumber seen (transactions and retryable writes)
  TxnState state = TxnState::kNone;
  std::unique_ptr<Transaction> txn;  // while kInProgress
  Clock::time_point txn_started;
  std::vector<int64_t> txn_cursors;  // cursors opened in the transaction; killed when it ends
  ApiParameters txn_api;             // what the transaction's first command declared
  bool retry_reply_valid = false;    // a retryable write ran under txn_number
  Document retry_reply;

  // Ends an in-progress transaction without committing it.
  void AbortTransaction();
};

// Thread-safe: the map takes mutex_; each Session has its own mutex.
class SessionRegistry {
 public:
  static constexpr std::chrono::minutes kSessionTimeout{30};

  // The session for `lsid` (the id's bytes), created if new; either way
  // marked as used now. Every command with an lsid calls it.
  std::shared_ptr<Session> Get(const std::string& lsid);
  // The sessions known now: their ids and when each was last used.
  struct Listed {
    std::string lsid;
    std::chrono::system_clock::time_point last_use;
  };
  std::vector<Listed> List();
  // Ends the session: its transaction is aborted. Unknown ids are ignored.
  void End(const std::string& lsid);
  // killSessions: aborts the session's transaction (waiting for a command
  // still using it) but keeps the session, whose next statement of that
  // transaction then gets NoSuchTransaction. Unknown ids are ignored.
  void Kill(const std::string& lsid);
  // The ids of every session known now.
  std::vector<std::string> Ids();
  // Aborts transactions older than `lifetime` and drops sessions idle for
  // kSessionTimeout (skipping any checked out right now). Returns the cursor
  // ids of aborted transactions, for the caller to kill.
  std::vector<int64_t> Reap(std::chrono::seconds lifetime);
  size_t size();

 private:
  struct Slot {
    std::shared_ptr<Session> session;
    Session::Clock::time_point last_use;                // for Reap
    std::chrono::system_clock::time_point last_use_wall;  // for List
  };
  std::mutex mutex_;
  std::map<std::string, Slot> sessions_;  // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
