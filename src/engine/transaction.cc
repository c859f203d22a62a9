#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <vector>
#include <thread>

#include "engine/engine_impl.h"
#include "engine/oplog.h"
#include "storage/status_from_rocks.h"

namespace docket {
namespace {

// How long a transaction's first lock may wait for another transaction.
constexpr int64_t kFirstLockWaitMs = 1000;

// Sleeps before retry `attempt` (0-based) of a conflicting transaction: a
// random time up to 50 us * 2^attempt, at most 10 ms, so that transactions
// that keep colliding spread out instead of colliding again in step.
void BackOff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  const int64_t ceiling_us = std::min<int64_t>(int64_t{50} << std::min(attempt, 8), 10000);
  std::uniform_int_distribution<int64_t> pick(0, ceiling_us);
  std::this_thread::sleep_for(std::chrono::microseconds(pick(random)));
}

}  // namespace

Transaction::Transaction(std::unique_ptr<TransactionImpl> impl) : impl_(std::move(impl)) {}

Transaction::~Transaction() {
  if (impl_->active) impl_->txn->Rollback();
  impl_->EndCreated(/*committed=*/false);  // no-op once committed or aborted
  delete impl_->txn;
}

bool Transaction::active() const { return impl_->active; }

Status Transaction::Commit() {
  if (!impl_->active) return Status(ErrorCode::kNoSuchTransaction, "transaction is not active");
  impl_->active = false;
  // The indexes of every collection written must be as they were at the
  // write; the shared locks keep them so until the commit is done.
  std::vector<std::shared_lock<std::shared_mutex>> held;
  for (const auto& [entry, version] : impl_->written) {
    held.emplace_back(entry->lifecycle);
    if (entry->retired || entry->index_version != version) {
      impl_->txn->Rollback();
      held.clear();  // EndCreated takes created entries' lifecycle locks
      impl_->EndCreated(false);
      return Status(ErrorCode::kWriteConflict,
                    "Unable to write to collection '" + entry->db + "." + entry->name +
                        "' due to catalog changes; please retry the operation");
    }
  }
  // Its changes go into the oplog in the same commit, as one applyOps entry.
  std::optional<engine::OplogAppender> log;
  Status s;
  if (!impl_->oplog_changes.empty()) {
    log.emplace(impl_->engine, impl_->txn);
    const engine::OplogSession session{impl_->lsid, impl_->txn_number};
    s = log->Append(impl_->oplog_changes, &session);
  }
  if (s.ok()) s = storage::FromRocks(impl_->engine->store->Commit(impl_->txn), "committing the transaction");
  if (s.ok() && log) log->Committed();
  log.reset();
  impl_->oplog_changes.clear();
  held.clear();
  if (!s.ok()) {
    impl_->txn->Rollback();
    impl_->EndCreated(false);
    Status health = impl_->engine->store->Health();
    return health.ok() ? s : health;
  }
  impl_->EndCreated(true);
  return impl_->journal ? impl_->engine->store->MakeCommittedWritesDurable() : Status::OK();
}

Status Transaction::Commit(const WriteConcern& write_concern) {
  impl_->journal = impl_->journal || write_concern.journal;
  return Commit();
}

void Transaction::SetSession(const Document& lsid, int64_t txn_number) {
  impl_->lsid = lsid;
  impl_->txn_number = txn_number;
}

void Transaction::Abort() {
  if (!impl_->active) return;
  impl_->active = false;
  impl_->oplog_changes.clear();
  impl_->txn->Rollback();
  impl_->EndCreated(false);
}

Result<std::unique_ptr<Transaction>> Engine::BeginTransaction(const WriteConcern& write_concern) {
  auto impl = std::make_unique<TransactionImpl>();
  impl->engine = impl_.get();
  impl->journal = write_concern.journal;
  rocksdb::WriteOptions write_options;  // sync stays false: see Store::MakeCommittedWritesDurable
  rocksdb::TransactionOptions txn_options;
  // Snapshot isolation, with the snapshot taken at the first read rather
  // than here (engine::TransactionSnapshot): a transaction whose first
  // operation locks a document waits for that lock (no other lock held, so no
  // deadlock), then reads. After that, locks fail at once: a document another
  // open transaction holds was written after this snapshot or soon will be,
  // so waiting would end in a WriteConflict all the same, as in MongoDB; the
  // caller retries (WithTransaction backs off). No deadlocks either way.
  txn_options.set_snapshot = false;
  txn_options.lock_timeout = kFirstLockWaitMs;
  impl->txn = impl_->db()->BeginTransaction(write_options, txn_options);
  impl->active = true;
  return std::unique_ptr<Transaction>(new Transaction(std::move(impl)));
}

Status Engine::WithTransaction(const std::function<Status(Transaction&)>& body, const WriteConcern& write_concern,
                               int max_attempts) {
  Status last;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto txn = BeginTransaction(write_concern);
    if (!txn.ok()) return txn.status();
    Status s = body(**txn);
    if (s.ok() && (*txn)->active()) s = (*txn)->Commit();
    if (s.ok()) return s;
    (*txn)->Abort();
    if (!storage::IsRetryable(s)) return s;
    last = s;
    BackOff(attempt);
  }
  return last;
}

}  // namespace docket
