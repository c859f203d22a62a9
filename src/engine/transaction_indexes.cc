// createIndexes inside a multi-document transaction, as MongoDB 6.0 allows it:
// on a collection that does not exist yet (created by the transaction, as an
// insert would) or that the same transaction created, while it is empty. The
// indexes then become part of the pending catalog entry: they commit with
// the transaction and vanish with it. Indexes that exist already are a
// success on any collection. Everything else is OperationNotSupportedInTransaction
// (263): building over committed data would need the exclusive lock a
// transaction must not take.
#include <algorithm>
#include <mutex>

#include "engine/engine_impl.h"
#include "engine/indexes.h"
#include "engine/views.h"
#include "engine/namespace.h"
#include "engine/write_path.h"
#include "storage/catalog.h"

namespace docket::engine {
namespace {

Status NotSupported(const std::string& what, const std::string& db, const std::string& name) {
  return Status(ErrorCode::kOperationNotSupportedInTransaction,
                "Cannot create new indexes on " + what + " collection " + db + "." + name +
                    " in a multi-document transaction.");
}

bool CreatedBy(const TransactionImpl& t, const storage::EntryPtr& entry) {
  return std::find(t.created.begin(), t.created.end(), entry) != t.created.end();
}

// Whether the collection holds no record as the transaction sees it (its own
// writes included).
Result<bool> EmptyInTransaction(EngineImpl* engine, rocksdb::Transaction* txn, uint64_t collection_id) {
  RecordScan scan(engine, txn, collection_id);
  if (!scan.Valid()) {
    DOCKET_RETURN_IF_ERROR(scan.status());
    return true;
  }
  return false;
}

}  // namespace

Result<CreateIndexesResult> CreateIndexesInTransaction(EngineImpl* engine, Transaction* txn, const std::string& db,
                                                       const std::string& name, const std::vector<Document>& specs) {
  if (!txn->active()) return Status(ErrorCode::kNoSuchTransaction, "transaction is not active");
  DOCKET_RETURN_IF_ERROR(ValidateCollectionName(db, name));
  if (name.rfind("system.", 0) == 0) {
    return Status(ErrorCode::kOperationNotSupportedInTransaction,
                  "Cannot write to system collection " + db + "." + name + " within a transaction.");
  }
  auto normalized = NormalizeIndexSpecs(specs, nullptr);
  if (!normalized.ok()) return normalized.status();
  TransactionImpl* t = txn->impl();
  CreateIndexesResult result;
  storage::EntryPtr entry = engine->catalog->Find(db, name, t);
  if (entry) {
    normalized = NormalizeIndexSpecs(specs, entry->collation.get());  // the collection's default collation
    if (!normalized.ok()) return normalized.status();
  }
  if (entry && !CreatedBy(*t, entry)) {
    // Someone else's collection: only a request for indexes it has succeeds.
    std::shared_lock lock(entry->lifecycle);
    if (entry->retired) return NotSupported("existing", db, name);
    if (entry->view) return NotACollection(db, name);
    auto planned = PlanIndexes(*entry, *normalized, std::vector<uint64_t>(normalized->size(), 0), &result);
    if (!planned.ok()) return planned.status();
    if (!planned->empty()) return NotSupported("existing", db, name);
    return result;
  }
  if (!entry) {
    bool made = false;
    auto created = engine->catalog->FindOrCreatePending(db, name, t->txn, t, &made);
    if (!created.ok()) return created.status();
    entry = std::move(created).value();
    if (made) t->created.push_back(entry);
    result.created_collection_automatically = made;
  }
  // Pending and this transaction's: no one else can see it, but its
  // lifecycle is still taken as every change to `indexes` takes it.
  auto ids = AllocateIndexIds(engine, normalized->size());
  if (!ids.ok()) return ids.status();
  std::unique_lock lock(entry->lifecycle);
  auto empty = EmptyInTransaction(engine, t->txn, entry->id);
  if (!empty.ok()) return empty.status();
  if (!*empty) return NotSupported("non-empty", db, name);
  auto to_build = PlanIndexes(*entry, *normalized, *ids, &result);
  if (!to_build.ok()) return to_build.status();
  if (to_build->empty()) {
    return result;
  }
  const std::vector<storage::StoredIndex> before = entry->indexes;
  for (const storage::StoredIndex& stored : *to_build) {
    auto compiled = index::Index::Compile(stored.id, stored.spec);
    if (!compiled.ok()) return compiled.status();
    entry->indexes.push_back(stored);
  }
  Status persisted = engine->catalog->PersistEntryIn(*entry, t->txn);
  if (persisted.ok()) persisted = CompileIndexes(engine, entry.get());
  if (!persisted.ok()) {
    entry->indexes = before;
    return persisted;
  }
  // The transaction's own earlier writes to this (empty) collection need no
  // entries in the new indexes: its commit must not read the change as a
  // concurrent index build (TransactionImpl::written).
  for (auto& [written, version] : t->written) {
    if (written == entry) version = entry->index_version;
  }
  result.num_indexes_after = static_cast<int>(entry->indexes.size()) + 1;
  return result;
}

}  // namespace docket::engine
