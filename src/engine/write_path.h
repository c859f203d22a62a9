// Single-document reads and writes inside one RocksDB transaction, and the
// retry loop that makes each single-document operation atomic:
//
//   begin -> GetForUpdate(record key) (row lock) -> re-check the filter on
//   the locked version -> apply -> Put/Delete -> commit
//
// Lock timeouts and deadlocks surface as WriteConflict and are retried inside
// the engine for operations outside a user transaction; inside a user
// transaction they are returned, and the transaction is retried as a whole.
#pragma once

#include <rocksdb/utilities/transaction.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "docket/engine.h"
#include "docket/metrics.h"
#include "bson/path.h"
#include "engine/engine_impl.h"
#include "engine/key_queue.h"
#include "engine/oplog_change.h"
#include "storage/record_value.h"

namespace docket::engine {

// The transaction one operation writes through: the caller's Transaction, or
// a fresh one the operation commits itself.
class WriteUnit {
 public:
  WriteUnit(EngineImpl* engine, const WriteOptions& options);
  // A unit over a transaction someone else commits (the oplog's appender,
  // engine/oplog.h): not owned, and it may enter a capped collection.
  enum SharedTransaction { kSharedTransaction };
  WriteUnit(EngineImpl* engine, rocksdb::Transaction* txn, SharedTransaction);
  ~WriteUnit();
  WriteUnit(const WriteUnit&) = delete;
  WriteUnit& operator=(const WriteUnit&) = delete;

  rocksdb::Transaction* txn() const { return txn_; }
  bool owned() const { return owned_; }
  bool shared() const { return shared_; }  // kSharedTransaction
  // WriteOptions::bypass_document_validation (engine/validation.h).
  bool bypass_validation() const { return bypass_validation_; }
  EngineImpl* engine() const { return engine_; }

  // Reads `key` and locks it until the end of the transaction. Sets *found.
  // In a user transaction whose snapshot is not taken yet (see
  // TransactionSnapshot), this is its first operation: it waits for the lock,
  // reads the latest version and only then takes the snapshot, so that a
  // transaction that starts on a hot document queues for it instead of
  // conflicting with every writer that committed while it waited.
  Status GetForUpdate(const std::string& key, std::string* value, bool* found);
  // GetForUpdate for an operation that modifies one existing document: an
  // owned unit that holds no lock yet first queues for the key behind the
  // other single-document writers of it (key_queue.h), so that writers of a
  // hot document take turns instead of all waking at each release.
  Status QueueAndGetForUpdate(const std::string& key, std::string* value, bool* found);
  // Records, in a user transaction, that it writes to `entry` (see
  // TransactionImpl::written). No-op for an owned unit, which holds the
  // entry's lifecycle lock until it commits.
  void NoteWrite(const storage::CollectionEntry& entry);
  // Writes or deletes a key no other writer can ever write (a natural-order
  // entry, an oplog entry) straight into the transaction's batch: no row
  // lock, so no lock timeout (a user transaction's locks time out at once
  // once its snapshot is taken, even on a busy lock-table stripe), and no
  // check against the snapshot. Savepoints roll them back as any write.
  Status PutUnlocked(const std::string& key, rocksdb::Slice value);
  Status DeleteUnlocked(const std::string& key);

  // Commits an owned transaction (no-op inside a user transaction); with j:true
  // it returns only once the commit is durable (Store's group commit). The
  // changes noted (NoteChange) go into the oplog in the same commit.
  Status Commit();

  // Notes a change to a document of `entry` for the oplog (engine/oplog.h):
  // `op` 'i' (o: the document), 'u' (o: the update's diff or replacement,
  // o2: {_id}) or 'd' (o: {_id}). No-op when the collection is not logged.
  // In a user transaction, the transaction keeps the changes until it commits.
  // Callers that compute `o` for it check IsLogged (engine/oplog.h) first.
  void NoteChange(const storage::CollectionEntry& entry, char op, const Document& o,
                  const std::optional<Document>& o2 = std::nullopt);
  // The changes noted so far (AllOrNothing's undo cuts them back).
  std::vector<OplogChange>& noted_changes();

  // Capped collections (engine/capped.h). Before its first write to the
  // capped collection `entry`, a unit takes the collection's writer lock and
  // keeps it until it ends (no row lock is held yet when it waits: every
  // writer of a capped collection takes this lock first). Errors:
  // OperationNotSupportedInTransaction in a user transaction. A no-op for a
  // collection that is not capped, or when the unit holds the lock already.
  Status EnterCapped(const storage::CollectionEntry& entry);
  // The unit's changes to the collection's documents and bytes, applied to
  // its counters when the unit commits; `oldest`, when not 0, is a new lower
  // bound of its natural-order sequence numbers.
  // `inserted`: the change inserts a document (tailable cursors are woken).
  void NoteCappedChange(int64_t bytes, int64_t count, uint64_t oldest = 0, bool inserted = false);
  struct CappedChange {
    int64_t bytes = 0, count = 0;
    uint64_t oldest = 0;
    bool inserted = false;
  };
  // The commit is done: applies the capped counters, releases the capped
  // lock and wakes tailable cursors. Called by Commit, and by the oplog's
  // appender for its unit.
  void PublishCapped();
  CappedChange capped_change() const { return capped_change_; }
  void set_capped_change(const CappedChange& change) { capped_change_ = change; }  // AllOrNothing's undo
  // The collection as this unit sees it. REQUIRES: EnterCapped succeeded.
  int64_t capped_bytes() const { return capped_->bytes + capped_change_.bytes; }
  int64_t capped_count() const { return capped_->count + capped_change_.count; }
  uint64_t capped_oldest() const { return std::max(capped_->oldest_hint, capped_change_.oldest); }

 private:
  EngineImpl* engine_;
  TransactionImpl* user_ = nullptr;  // the user transaction, when not owned
  rocksdb::Transaction* txn_ = nullptr;
  bool owned_ = true;
  bool shared_ = false;       // kSharedTransaction
  bool journal_ = false;      // owned and j:true: bracketed by Begin/EndJournaledWrite
  bool write_ended_ = false;  // EndJournaledWrite already called
  bool committed_ = false;
  // Owned units: the queue of the first key locked, held until the commit
  // (or the end of the unit) — see key_queue.h.
  KeyQueues::Ticket queue_;
  // Owned units of a write that may park (WriteOptions::may_park): return
  // kWouldBlock instead of waiting for the key queue or a row lock.
  bool may_park_ = false;
  bool bypass_validation_ = false;
  // A capped collection's writers (null: none entered) and their lock.
  std::shared_ptr<storage::CappedWriters> capped_;
  std::unique_lock<std::mutex> capped_lock_;
  CappedChange capped_change_;
  std::vector<OplogChange> changes_;  // owned units' NoteChange
};

// The snapshot a user transaction reads from, taken on its first read: the
// moment MongoDB establishes a transaction's snapshot too. From then on its
// locks are tried without waiting (a locked document was written after the
// snapshot, or soon will be: a WriteConflict either way).
const rocksdb::Snapshot* TransactionSnapshot(rocksdb::Transaction* txn);

// Runs `write` so that it changes all or nothing of the unit's transaction:
// on failure everything it wrote is rolled back (a RocksDB savepoint). A
// unique index that refuses a document after its record was written leaves
// neither the record nor any index entry behind, also inside a group insert
// or a user transaction. Row locks taken stay taken until the end.
Status AllOrNothing(WriteUnit& unit, bson::FunctionRef<Status()> write);

// The kWouldBlock a parking write returns: for the key queue's stripe
// (woken by its next release) or, with stripe < 0, for a row lock a
// transaction holds (nothing announces its release).
Status WouldBlock(int64_t stripe, uint64_t generation);
// Reads a WouldBlock's stripe and generation; false if it is not one.
bool ReadWouldBlock(const Status& status, int64_t* stripe, uint64_t* generation);

// Runs `body` in a WriteUnit and commits; retries on WriteConflict when the
// unit is owned (not in a user transaction), for up to
// EngineOptions::write_wait_seconds.
Status RunWriteWithRetry(EngineImpl* engine, const WriteOptions& options,
                         const std::function<Status(WriteUnit&)>& body);

// Whether a failed write of one document is a failure of the whole write
// unit (a write conflict, a lock or time limit, an interruption, the
// storage) rather than of that document (duplicate key, validation, a key
// its indexes cannot take), which an unordered insert reports and passes.
bool FailsTheWholeWrite(const Status& s);

// Validates a document for storage and returns it with _id first (a fresh
// ObjectId when it had none). Errors: BSONObjectTooLarge, Overflow (nested over 100 levels),
// InvalidIdField.
Result<Document> PrepareForInsert(const Document& doc);

// Inserts under the _id row lock, with the next record sequence number and
// its natural-order entry. Errors: DuplicateKey with MongoDB's message.
Status InsertRecord(WriteUnit& unit, const storage::CollectionEntry& entry, const Document& prepared);

// Writes a new record under `key` with its sequence number and natural-order
// entry. Indexes are the caller's. `lock_key`: take the record key's row
// lock (false when no other writer can ever write that key: an oplog
// entry's time is unique; WriteUnit::PutUnlocked).
Status WriteNewRecord(WriteUnit& unit, const storage::CollectionEntry& entry, const std::string& key,
                      const Document& doc, uint64_t sequence, bool lock_key = true);

// Cuts a stored record value (storage/record_value.h) down to its document
// and returns its sequence number.
uint64_t SplitRecordValue(std::string* value);

// {_id: value} of a prepared document.
Document IdDocument(const Document& prepared);

// The documents a query reads, one at a time: every record of a collection
// (RecordScan) or those an index range points at (IndexScan, engine/scan.h).
// Either way over one consistent view: the database as of the scan's
// creation, or a user transaction's snapshot plus its own writes.
class DocumentScan {
 public:
  virtual ~DocumentScan() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual rocksdb::Slice key() const = 0;    // the record key
  virtual rocksdb::Slice value() const = 0;  // the document (without the stored sequence number)
  virtual Status status() const = 0;
  // For explain: index entries and documents read so far.
  virtual int64_t keys_examined() const { return 0; }
  virtual int64_t docs_examined() const = 0;
  // Whether every document returned matches the filter the scan was
  // planned for (an exact index plan): a reader may skip matching it.
  virtual bool returns_only_matches() const { return false; }
};

// Iterates one collection's records in _id order (the _id index; a query's
// collection scan goes in natural order: engine/natural_scan.h). Not copyable or movable
// (RocksDB keeps a pointer to the bound); hold it in a unique_ptr. A user
// transaction must outlive its scans.
class RecordScan : public DocumentScan {
 public:
  RecordScan(EngineImpl* engine, rocksdb::Transaction* user_txn, uint64_t collection_id);
  RecordScan(const RecordScan&) = delete;
  RecordScan& operator=(const RecordScan&) = delete;

  // The bound is checked here as well as given to RocksDB: a transaction's
  // iterator (its writes merged over the database) does not apply
  // iterate_upper_bound to the transaction's own writes, and ran on into the
  // next key range (index entries read as documents).
  bool Valid() const override { return it_->Valid() && it_->key().compare(upper_slice_) < 0; }
  void Next() override {
    it_->Next();
    ++docs_examined_;
    CountDocsExamined(1);
  }
  rocksdb::Slice key() const override { return it_->key(); }
  rocksdb::Slice value() const override {
    const rocksdb::Slice stored = it_->value();
    return rocksdb::Slice(stored.data(), storage::RecordDocument(std::string_view(stored.data(), stored.size())).size());
  }
  Status status() const override;
  int64_t docs_examined() const override { return docs_examined_ + (Valid() ? 1 : 0); }

 private:
  std::string lower_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  int64_t docs_examined_ = 0;
};

std::string DuplicateKeyMessage(const storage::CollectionEntry& entry, const Document& prepared);

}  // namespace docket::engine
