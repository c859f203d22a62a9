#include "engine/write_path.h"

#include "engine/validation.h"

#include <rocksdb/utilities/write_batch_with_index.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "bson/builder.h"
#include "bson/validate.h"
#include "bson/value.h"
#include "docket/blocking.h"
#include "engine/capped.h"
#include "engine/indexes.h"
#include "engine/oplog.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"
#include "bson/append_element.h"

namespace docket::engine {

using storage::FromRocks;

WriteUnit::WriteUnit(EngineImpl* engine, const WriteOptions& options)
    : engine_(engine), bypass_validation_(options.bypass_document_validation) {
  if (options.transaction != nullptr) {
    user_ = options.transaction->impl();
    txn_ = user_->txn;
    owned_ = false;
    return;
  }
  journal_ = options.write_concern.journal;
  may_park_ = options.may_park;
  if (journal_) engine->store->BeginJournaledWrite();
  rocksdb::TransactionOptions txn_options;
  txn_options.deadlock_detect = true;
  if (may_park_) txn_options.lock_timeout = 0;  // a held row lock: WouldBlock, not a wait
  // sync stays false: j:true syncs after the commit, with the row locks released.
  txn_ = engine->db()->BeginTransaction(rocksdb::WriteOptions(), txn_options);
}

WriteUnit::WriteUnit(EngineImpl* engine, rocksdb::Transaction* txn, SharedTransaction)
    : engine_(engine), txn_(txn), owned_(false), shared_(true) {}

WriteUnit::~WriteUnit() {
  if (!owned_) return;
  if (!committed_) txn_->Rollback();
  delete txn_;
  if (journal_ && !write_ended_) engine_->store->EndJournaledWrite();
}

const rocksdb::Snapshot* TransactionSnapshot(rocksdb::Transaction* txn) {
  if (txn->GetSnapshot() == nullptr) {
    txn->SetSnapshot();
    txn->SetLockTimeout(0);
  }
  return txn->GetSnapshot();
}

Status WriteUnit::GetForUpdate(const std::string& key, std::string* value, bool* found) {
  rocksdb::ReadOptions read_options;
  rocksdb::Status s;
  if (!owned_ && txn_->GetSnapshot() == nullptr) {
    // The first operation of a user transaction: it holds no lock yet, so
    // waiting (up to the lock timeout BeginTransaction set) cannot deadlock.
    // With no snapshot the read is not validated and sees the latest version,
    // which the lock now keeps; the snapshot taken next includes it.
    {
      BlockingRegion waiting;
      s = txn_->GetForUpdate(read_options, key, value);
    }
    TransactionSnapshot(txn_);
  } else {
    read_options.snapshot = owned_ ? nullptr : txn_->GetSnapshot();
    s = txn_->GetForUpdate(read_options, key, value);
  }
  *found = s.ok();
  if (s.IsNotFound()) return Status::OK();
  if (may_park_ && (s.IsTimedOut() || s.IsBusy())) return WouldBlock(-1, 0);
  return FromRocks(s, "reading a record");
}

Status WriteUnit::QueueAndGetForUpdate(const std::string& key, std::string* value, bool* found) {
  if (owned_ && !queue_.held() && txn_->GetNumKeys() == 0) {
    if (may_park_) {
      size_t stripe = 0;
      uint64_t generation = 0;
      auto ticket = engine_->key_queues.TryAcquire(key, &stripe, &generation);
      if (!ticket) return WouldBlock(static_cast<int64_t>(stripe), generation);
      queue_ = std::move(*ticket);
    } else {
      queue_ = engine_->key_queues.Acquire(key);
    }
  }
  return GetForUpdate(key, value, found);
}

Status WouldBlock(int64_t stripe, uint64_t generation) {
  bson::Builder details;
  BSON_APPEND_INT64(details.get(), "stripe", stripe);
  BSON_APPEND_INT64(details.get(), "generation", static_cast<int64_t>(generation));
  return Status(ErrorCode::kWouldBlock, "the document is busy; the write was not run")
      .WithDetails(details.Finish().bytes());
}

bool ReadWouldBlock(const Status& status, int64_t* stripe, uint64_t* generation) {
  if (status.code() != ErrorCode::kWouldBlock || status.details().empty()) return false;
  auto details = Document::FromBytes(reinterpret_cast<const uint8_t*>(status.details().data()), status.details().size());
  bson_iter_t s, g;
  if (!details.ok() || !details->Find("stripe", &s) || !details->Find("generation", &g)) return false;
  *stripe = bson_iter_as_int64(&s);
  *generation = static_cast<uint64_t>(bson_iter_as_int64(&g));
  return true;
}

}  // namespace docket::engine

namespace docket {

bool Engine::WhenWorthRetrying(const Status& would_block, std::function<void()> wake) {
  int64_t stripe = -1;
  uint64_t generation = 0;
  if (!engine::ReadWouldBlock(would_block, &stripe, &generation) || stripe < 0) return false;
  impl_->key_queues.Park(static_cast<size_t>(stripe), generation, std::move(wake));
  return true;
}

void Engine::PassTurn(const Status& would_block) {
  int64_t stripe = -1;
  uint64_t generation = 0;
  if (engine::ReadWouldBlock(would_block, &stripe, &generation) && stripe >= 0) {
    impl_->key_queues.PassTurn(static_cast<size_t>(stripe));
  }
}

}  // namespace docket

namespace docket::engine {

void WriteUnit::NoteWrite(const storage::CollectionEntry& entry) {
  if (user_ == nullptr) return;
  for (const auto& [written, version] : user_->written) {
    if (written.get() == &entry) return;
  }
  user_->written.emplace_back(entry.shared_from_this(), entry.index_version);
}

Status WriteUnit::Commit() {
  if (!owned_) return Status::OK();
  std::optional<OplogAppender> log;
  if (!changes_.empty()) {
    log.emplace(engine_, txn_);
    DOCKET_RETURN_IF_ERROR(log->Append(changes_, nullptr));
  }
  Status s = FromRocks(engine_->store->Commit(txn_), "committing");
  queue_.Release();  // the row locks are released too
  if (!s.ok()) {
    Status health = engine_->store->Health();
    return health.ok() ? s : health;  // a full disk says so (OutOfDiskSpace), naming the database
  }
  committed_ = true;
  if (log) log->Committed();
  PublishCapped();
  if (!journal_) return Status::OK();
  engine_->store->EndJournaledWrite();
  write_ended_ = true;
  return engine_->store->MakeCommittedWritesDurable();
}

Status WriteUnit::PutUnlocked(const std::string& key, rocksdb::Slice value) {
  return FromRocks(txn_->GetWriteBatch()->Put(key, value), "writing a record");
}

Status WriteUnit::DeleteUnlocked(const std::string& key) {
  return FromRocks(txn_->GetWriteBatch()->Delete(key), "deleting a record");
}

void WriteUnit::NoteChange(const storage::CollectionEntry& entry, char op, const Document& o,
                           const std::optional<Document>& o2) {
  if (!IsLogged(engine_, entry)) return;
  noted_changes().push_back(OplogChange{op, entry.db + "." + entry.name, entry.uuid, o, o2});
}

std::vector<OplogChange>& WriteUnit::noted_changes() { return user_ != nullptr ? user_->oplog_changes : changes_; }

void WriteUnit::PublishCapped() {
  if (capped_ != nullptr) {
    capped_->bytes += capped_change_.bytes;
    capped_->count += capped_change_.count;
    capped_->oldest_hint = std::max(capped_->oldest_hint, capped_change_.oldest);
    capped_lock_.unlock();  // the next writer may go on; the commit is published
    if (capped_change_.inserted) {
      {
        std::lock_guard<std::mutex> lock(capped_->inserted_mutex);
        ++capped_->inserts;
      }
      capped_->inserted.notify_all();
    }
    capped_ = nullptr;
  }
}

Status WriteUnit::EnterCapped(const storage::CollectionEntry& entry) {
  if (!entry.capped || capped_ != nullptr) return Status::OK();
  if (!owned_ && !shared_) return CappedInTransaction(entry);
  if (shared_) {
    // The oplog's appender (engine/oplog.h): its lock is held only across
    // another writer's commit, never a disk sync, so the wait is short and
    // not worth another server thread (docket/blocking.h).
    capped_lock_ = std::unique_lock<std::mutex>(entry.capped_writers->mutex);
  } else {
    BlockingRegion waiting;
    capped_lock_ = std::unique_lock<std::mutex>(entry.capped_writers->mutex);
  }
  capped_ = entry.capped_writers;
  return CountCapped(engine_, entry, capped_.get());
}

void WriteUnit::NoteCappedChange(int64_t bytes, int64_t count, uint64_t oldest, bool inserted) {
  capped_change_.inserted = capped_change_.inserted || inserted;
  capped_change_.bytes += bytes;
  capped_change_.count += count;
  capped_change_.oldest = std::max(capped_change_.oldest, oldest);
}

Status RunWriteWithRetry(EngineImpl* engine, const WriteOptions& options,
                         const std::function<Status(WriteUnit&)>& body) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(engine->write_wait_seconds.load());
  for (int attempt = 0;; ++attempt) {
    Status s;
    {
      // The unit (its row locks and its place in the key queue) ends before
      // the back-off below: a retry sleeps holding nothing other work needs.
      WriteUnit unit(engine, options);
      s = body(unit);
      if (s.ok()) s = unit.Commit();
      if (s.ok() || !unit.owned() || !storage::IsRetryable(s) || Clock::now() > deadline) return s;
    }
    if (attempt > 3) std::this_thread::sleep_for(std::chrono::microseconds(50 * std::min(attempt, 100)));
  }
}

namespace {

Status CheckId(const bson_iter_t& id) {
  switch (bson_iter_type(&id)) {
    case BSON_TYPE_ARRAY:
      return Status(ErrorCode::kInvalidIdField, "The '_id' value cannot be of type array");
    case BSON_TYPE_REGEX:
      return Status(ErrorCode::kInvalidIdField, "The '_id' value cannot be of type regex");
    case BSON_TYPE_UNDEFINED:
      return Status(ErrorCode::kInvalidIdField, "The '_id' value cannot be of type undefined");
    case BSON_TYPE_DOCUMENT: {
      bson_iter_t child;
      if (bson_iter_recurse(&id, &child)) {
        while (bson_iter_next(&child)) {
          if (bson_iter_key(&child)[0] == '$') {
            return Status(ErrorCode::kDollarPrefixedFieldName,
                          "_id fields may not contain '$'-prefixed fields: " + std::string(bson_iter_key(&child)) +
                              " is not valid for storage.");
          }
        }
      }
      return Status::OK();
    }
    default:
      return Status::OK();
  }
}

}  // namespace

Result<Document> PrepareForInsert(const Document& doc) {
  if (doc.size() > kMaxDocumentSize) {
    return Status(ErrorCode::kBSONObjectTooLarge,
                  "object to insert too large. size in bytes: " + std::to_string(doc.size()) +
                      ", max size: " + std::to_string(kMaxDocumentSize));
  }
  if (bson::NestingDepth(doc.data(), doc.size()) > bson::kMaxStorageDepth) {
    return Status(ErrorCode::kOverflow, "cannot insert document because it exceeds " +
                                            std::to_string(bson::kMaxStorageDepth) + " levels of nesting");
  }
  bson_iter_t it;
  doc.Iterate(&it);
  bool id_first = false;
  bool has_id = false;
  bool first = true;
  bson_iter_t id;
  while (bson_iter_next(&it)) {
    const char* key = bson_iter_key(&it);
    // Since MongoDB 5.0, field names may start with '$' (and contain dots).
    if (std::strcmp(key, "_id") == 0) {
      if (has_id) return Status(ErrorCode::kBadValue, "can't have multiple _id fields in one document");
      has_id = true;
      id_first = first;
      id = it;
      DOCKET_RETURN_IF_ERROR(CheckId(id));
    }
    first = false;
  }
  if (has_id && id_first) return doc;

  bson_t out = BSON_INITIALIZER;
  if (has_id) {
    docket::bson::AppendElement(&out, "_id", 3, &id);
  } else {
    bson_oid_t oid;
    bson_oid_init(&oid, nullptr);
    bson_append_oid(&out, "_id", 3, &oid);
  }
  doc.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (std::strcmp(bson_iter_key(&it), "_id") == 0) continue;
    docket::bson::AppendElement(&out, bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
  }
  Document prepared = Document::FromTrustedBytes(
      std::string(reinterpret_cast<const char*>(bson_get_data(&out)), out.len));
  bson_destroy(&out);
  if (prepared.size() > kMaxDocumentSize) {
    return Status(ErrorCode::kBSONObjectTooLarge,
                  "object to insert too large. size in bytes: " + std::to_string(prepared.size()) +
                      ", max size: " + std::to_string(kMaxDocumentSize));
  }
  return prepared;
}

Document IdDocument(const Document& prepared) {
  bson_iter_t id;
  bson_t out = BSON_INITIALIZER;
  if (prepared.Find("_id", &id)) docket::bson::AppendElement(&out, "_id", 3, &id);
  Document result = Document::FromTrustedBytes(
      std::string(reinterpret_cast<const char*>(bson_get_data(&out)), out.len));
  bson_destroy(&out);
  return result;
}

std::string DuplicateKeyMessage(const storage::CollectionEntry& entry, const Document& prepared) {
  bson_iter_t id;
  std::string value = prepared.Find("_id", &id) ? bson::FieldToJson("_id", id) : "{}";
  return "E11000 duplicate key error collection: " + entry.db + "." + entry.name + " index: _id_ dup key: " + value;
}

Status InsertRecord(WriteUnit& unit, const storage::CollectionEntry& entry, const Document& prepared) {
  bson_iter_t id;
  if (!prepared.Find("_id", &id)) return Status(ErrorCode::kInternalError, "document without _id");
  DOCKET_RETURN_IF_ERROR(CheckDocument(unit.engine(), entry, prepared, nullptr, unit.bypass_validation()));
  DOCKET_RETURN_IF_ERROR(unit.EnterCapped(entry));  // before any row lock
  std::string key = storage::RecordKey(entry.id, id);
  std::string existing;
  bool found = false;
  DOCKET_RETURN_IF_ERROR(unit.GetForUpdate(key, &existing, &found));
  if (found) {
    bson::Builder details;
    bson_t pattern, value;
    BSON_APPEND_DOCUMENT_BEGIN(details.get(), "keyPattern", &pattern);
    BSON_APPEND_INT32(&pattern, "_id", 1);
    bson_append_document_end(details.get(), &pattern);
    BSON_APPEND_DOCUMENT_BEGIN(details.get(), "keyValue", &value);
    docket::bson::AppendElement(&value, "_id", 3, &id);
    bson_append_document_end(details.get(), &value);
    return Status(ErrorCode::kDuplicateKey, DuplicateKeyMessage(entry, prepared)).WithDetails(details.Finish().bytes());
  }
  auto sequence = unit.engine()->store->NextRecordSequence();
  if (!sequence.ok()) return sequence.status();
  return AllOrNothing(unit, [&]() -> Status {
    DOCKET_RETURN_IF_ERROR(WriteNewRecord(unit, entry, key, prepared, *sequence));
    DOCKET_RETURN_IF_ERROR(UpdateIndexEntries(unit, entry, nullptr, &prepared));
    unit.NoteChange(entry, 'i', prepared);
    if (!entry.capped) return Status::OK();
    unit.NoteCappedChange(static_cast<int64_t>(prepared.size()), 1, 0, /*inserted=*/true);
    return RemoveOverLimits(unit, entry, *sequence);
  });
}

Status WriteNewRecord(WriteUnit& unit, const storage::CollectionEntry& entry, const std::string& key,
                      const Document& doc, uint64_t sequence, bool lock_key) {
  const std::string value = storage::EncodeRecordValue(doc.bytes(), sequence);
  DOCKET_RETURN_IF_ERROR(lock_key ? FromRocks(unit.txn()->Put(key, value), "writing a record")
                                  : unit.PutUnlocked(key, value));
  // The natural-order entry: its key is new (sequence numbers are never
  // reused), so no other writer can hold it and it needs no lock.
  return unit.PutUnlocked(storage::NaturalKey(entry.id, sequence),
                          rocksdb::Slice(key.data() + storage::kRecordPrefixSize, key.size() - storage::kRecordPrefixSize));
}

bool FailsTheWholeWrite(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kInternalError:
    case ErrorCode::kLockTimeout:
    case ErrorCode::kMaxTimeMSExpired:
    case ErrorCode::kWriteConflict:
    case ErrorCode::kNoSuchTransaction:
    case ErrorCode::kTransactionExceededLifetimeLimitSeconds:
    case ErrorCode::kInterrupted:
    case ErrorCode::kOutOfDiskSpace:
      return true;
    default:
      return false;
  }
}

Status AllOrNothing(WriteUnit& unit, bson::FunctionRef<Status()> write) {
  unit.txn()->SetSavePoint();
  const WriteUnit::CappedChange capped = unit.capped_change();
  const size_t noted = unit.noted_changes().size();
  Status s = write();
  if (!s.ok()) {
    unit.set_capped_change(capped);
    unit.noted_changes().resize(noted);
  }
  rocksdb::Status undo = s.ok() ? unit.txn()->PopSavePoint() : unit.txn()->RollbackToSavePoint();
  if (s.ok() && !undo.ok()) return FromRocks(undo, "ending a savepoint");
  if (!s.ok() && !undo.ok()) {
    return Status(ErrorCode::kInternalError, s.message() + "; and rolling back the partial write failed: " + undo.ToString());
  }
  return s;
}

RecordScan::RecordScan(EngineImpl* engine, rocksdb::Transaction* user_txn, uint64_t collection_id)
    : lower_(storage::RecordPrefix(collection_id)),
      upper_(storage::RecordRangeEnd(collection_id)),
      upper_slice_(upper_) {
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper_slice_;
  if (user_txn != nullptr) {
    read_options.snapshot = TransactionSnapshot(user_txn);
    it_.reset(user_txn->GetIterator(read_options));
  } else {
    it_.reset(engine->db()->NewIterator(read_options));
  }
  it_->Seek(lower_);
}

uint64_t SplitRecordValue(std::string* value) {
  const uint64_t sequence = storage::RecordSequence(*value);
  value->resize(storage::RecordDocument(*value).size());
  return sequence;
}

Status RecordScan::status() const { return FromRocks(it_->status(), "scanning records"); }

}  // namespace docket::engine
