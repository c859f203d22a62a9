#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <vector>
#include <thread>

#include "engine/engine_impl.h"
#include "storage/status_from_rocks.h"

namespace docket {

Transaction::Transaction(std::unique_ptr<TransactionImpl> impl) : impl_(std::move(impl)) {}

Transaction::~Transaction() {
  if (impl_->active) impl_->txn->Rollback();
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
      return Status(ErrorCode::kWriteConflict,
                    "Unable to write to collection '" + entry->db + "." + entry->name +
                        "' due to catalog changes; please retry the operation");
    }
  }
  Status s = storage::FromRocks(impl_->txn->Commit(), "committing the transaction");
  if (!s.ok()) {
    impl_->txn->Rollback();
    return s;
  }
  return impl_->journal ? impl_->engine->store->MakeCommittedWritesDurable() : Status::OK();
}

Status Transaction::Commit(const WriteConcern& write_concern) {
  impl_->journal = impl_->journal || write_concern.journal;
  return Commit();
}

void Transaction::Abort() {
  if (!impl_->active) return;
  impl_->active = false;
  impl_->txn->Rollback();
}

Result<std::unique_ptr<Transaction>> Engine::BeginTransaction(const WriteConcern& write_concern) {
  auto impl = std::make_unique<TransactionImpl>();
  impl->engine = impl_.get();
  impl->journal = write_concern.journal;
  rocksdb::WriteOptions write_options;  // sync stays false: see Store::MakeCommittedWritesDurable
  rocksdb::TransactionOptions txn_options;
  txn_options.set_snapshot = true;  // snapshot isolation; conflicting writes fail at GetForUpdate
  // A document another open transaction has locked was written after this
  // snapshot or soon will be: waiting for the lock would end in a
  // WriteConflict all the same, so fail at once, as MongoDB does, and let
  // the caller retry (WithTransaction backs off). No waits, no deadlocks.
  txn_options.lock_timeout = 0;
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
    if (attempt > 2) std::this_thread::sleep_for(std::chrono::microseconds(100 * std::min(attempt, 50)));
  }
  return last;
}

}  // namespace docket
