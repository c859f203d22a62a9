// The catalog: which collections exist and the id that prefixes their keys.
// Persisted under the 0x01 prefix (storage/keys.h), cached in memory.
//
// Catalog entry value (BSON): {id: <int64>, db: <string>, name: <string>,
//   indexes: [{id: <int64>, spec: <index spec as listIndexes shows it>}],
//   capped: {size: <int64>, max: <int64>} (capped collections only),
//   view: {viewOn: <string>, pipeline: [<stage>...], collation: {...}} (views only: no records,
//   no indexes),
//   validation: {validator: {...}, level: <string>, action: <string>},
//   collation: <a collation's full form> (a default collation only)}
// (the _id index is implicit and not listed).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "index/access_counter.h"
#include "storage/store.h"
#include "text/collation.h"

namespace rocksdb {
class Transaction;
}

namespace docket::storage {

// A secondary index as the catalog stores it; what it means is the index
// module's business (src/index).
struct StoredIndex {
  uint64_t id;    // key prefix of its entries; from the same never-reused counter
  Document spec;  // {v: 2, key: {...}, name: "...", unique: true, ...}
  // Being built while writers run (engine/index_build.h): writers keep its
  // entries, readers do not use it yet. One found so at open is rebuilt.
  bool building = false;
};

// What the engine derives from `indexes` (compiled specs), kept with the entry
// so that writers need no lookup. Opaque to storage.
struct IndexAttachment {
  virtual ~IndexAttachment() = default;
};

// A capped collection's limits (MongoDB's create options size and max, as
// normalised by engine/capped.h), fixed when it is created.
struct CappedLimits {
  int64_t size = 0;  // bytes of documents kept at most (> 0)
  int64_t max = 0;   // documents kept at most; 0: no limit
};

// A read-only view (MongoDB's create with viewOn): reads of it run
// `pipeline` over `view_on`, a collection or view of the same database. What
// it means is the engine's business (engine/views.h); storage keeps it.
struct ViewDefinition {
  std::string view_on;
  std::vector<Document> pipeline;
  Document collation;  // the view's default collation's full form; {}: simple
};

// Document validation (MongoDB's validator, validationLevel and
// validationAction), as given; the engine compiles it (engine/validation.h).
struct ValidationRules {
  Document validator;        // a query filter; {} is no validation
  std::string level = "strict";   // "off", "strict" or "moderate"
  std::string action = "error";   // "error" or "warn"
};

// The engine's compiled form of `validation`, kept with the entry. Opaque
// to storage.
struct ValidatorAttachment {
  virtual ~ValidatorAttachment() = default;
};

// What a capped collection's writers share (engine/capped.h): each holds
// `mutex` from its first write to the collection until its commit, so that
// capped writes are serialised (as MongoDB serialises them), natural order
// is commit order, and the counters are exact.
struct CappedWriters {
  std::mutex mutex;
  bool counted = false;        // GUARDED_BY(mutex): bytes and count are known
  int64_t bytes = 0;           // GUARDED_BY(mutex): sum of the documents' BSON sizes
  int64_t count = 0;           // GUARDED_BY(mutex)
  uint64_t oldest_hint = 0;    // GUARDED_BY(mutex): no natural-order entry is below this sequence number
  // Tailable cursors wait here for the next commit (engine/tail_stream.h);
  // every commit that inserted bumps `inserts` and notifies. Not `mutex`:
  // a writer holds that for its whole write.
  std::mutex inserted_mutex;
  std::condition_variable inserted;
  uint64_t inserts = 0;  // GUARDED_BY(inserted_mutex)
};

// 16 random bytes in the shape of a version 4 UUID.
std::string RandomCollectionUuid();

// One collection. Operations hold `lifecycle` shared while they read or write
// its records; drop, rename and index builds hold it exclusively, so they wait
// for in-flight operations and no operation starts on a retired entry.
struct CollectionEntry : std::enable_shared_from_this<CollectionEntry> {
  // `uuid` starts as a new random one (RandomCollectionUuid).
  CollectionEntry(uint64_t id, std::string db, std::string name);
  const uint64_t id;        // key prefix of its records; never reused
  const std::string db;
  const std::string name;
  // MongoDB's collection UUID (16 bytes): listCollections' info.uuid, the
  // oplog's `ui`. Set before the entry is shared; kept by a rename.
  std::string uuid;
  mutable std::shared_mutex lifecycle;
  bool retired = false;  // GUARDED_BY(lifecycle): dropped or renamed away
  // GUARDED_BY(lifecycle): read with it shared, changed with it exclusive.
  std::vector<StoredIndex> indexes;
  std::shared_ptr<const IndexAttachment> compiled_indexes;
  uint64_t index_version = 0;  // bumped on every change to `indexes`
  // The transaction that created it (implicitly or with create), until that
  // transaction commits; nobody else sees it meanwhile, and if it aborts the
  // entry goes. Null once committed. GUARDED_BY(Catalog::mutex_).
  const void* pending_owner = nullptr;
  // Set before the entry is shared; the limits change (collMod) only with
  // `lifecycle` held exclusively, so that writers, which hold it shared, see
  // one set of limits.
  std::optional<CappedLimits> capped;
  std::shared_ptr<CappedWriters> capped_writers;  // non-null exactly when capped
  // Set for a view before the entry is shared, and a view stays one: only
  // the definition changes (collMod), with `lifecycle` held exclusively, so
  // that view.has_value() may be read without it.
  std::optional<ViewDefinition> view;
  // Set before the entry is shared; changed (collMod) only with `lifecycle`
  // held exclusively, so that writers, which hold it shared, see one set of
  // rules. `compiled_validator` is the engine's, made from `validation`.
  std::optional<ValidationRules> validation;
  std::shared_ptr<const ValidatorAttachment> compiled_validator;
  // The collection's default collation (create's `collation`; null:
  // simple): its operations and new indexes use it unless they name their
  // own. Set before the entry is shared, never changed.
  text::CollatorPtr collation;
  // For readers that must not wait for `lifecycle` (listCollections would
  // otherwise wait for an index build on the collection): guards `capped`,
  // `view` and `validation` too. Whoever changes them holds `lifecycle`
  // exclusively and this mutex; readers hold either.
  mutable std::mutex options_mutex;
  // $indexStats' accesses of the _id index (the others count in their
  // compiled index::Index).
  mutable index::AccessCounter id_index_accesses;
  // $collStats' queryExecStats: the collection scans operations ran on it
  // (explain excluded), and how many of them were tailable.
  mutable std::atomic<int64_t> collection_scans{0};
  mutable std::atomic<int64_t> tailable_collection_scans{0};
};

using EntryPtr = std::shared_ptr<CollectionEntry>;

// Thread-safe. Lock order: a CollectionEntry::lifecycle before Catalog::mutex_,
// and mutex_ is never held while waiting for a lifecycle lock: a drop that
// waits for one collection's operations stalls nothing else.
class Catalog {
 public:
  static Result<std::unique_ptr<Catalog>> Load(Store* store, bool durable);

  // nullptr when the collection does not exist, or when a transaction other
  // than `viewer` is creating it (see CollectionEntry::pending_owner).
  EntryPtr Find(std::string_view db, std::string_view name, const void* viewer = nullptr) const;
  // Creates the collection if missing (namespace already validated by the
  // caller). If a transaction is creating it, waits until that transaction
  // ends (WriteConflict after kPendingWait).
  // `created`, when given, says whether this call created it.
  Result<EntryPtr> FindOrCreate(std::string_view db, std::string_view name, bool* created = nullptr);
  // Errors: NamespaceExists; as FindOrCreate while a transaction creates it.
  // `capped`: the limits of a capped collection (engine/capped.h checked them);
  // `view`: a view's definition (engine/views.h checked it). Not both.
  // `validation`: its rules (compiled by `prepare` before the entry is shared).
  Status Create(std::string_view db, std::string_view name, std::optional<CappedLimits> capped = std::nullopt,
                std::optional<ViewDefinition> view = std::nullopt,
                std::optional<ValidationRules> validation = std::nullopt,
                const std::function<Status(CollectionEntry*)>& prepare = nullptr);

  // Inside transaction `owner`, whose RocksDB transaction is `txn`: as
  // FindOrCreate / Create, but a new collection's catalog entry is written
  // through `txn` and the collection stays pending (invisible to others)
  // until FinishPending. *created says whether this call created it.
  // Errors: WriteConflict when another transaction is creating it.
  Result<EntryPtr> FindOrCreatePending(std::string_view db, std::string_view name, rocksdb::Transaction* txn,
                                       const void* owner, bool* created);
  Status CreatePending(std::string_view db, std::string_view name, rocksdb::Transaction* txn, const void* owner,
                       EntryPtr* created);
  // The creating transaction committed (the entry becomes visible) or ended
  // without committing (the entry goes); wakes the writers waiting for it.
  void FinishPending(const EntryPtr& entry, bool committed);
  static constexpr std::chrono::seconds kPendingWait{75};  // above the default transaction lifetime
  // Retires the entry and removes it from the catalog; returns it so that the
  // caller can delete its records. Errors: NamespaceNotFound.
  Result<EntryPtr> Drop(std::string_view db, std::string_view name);
  // Moves the collection (same id, so its records stay). The old entry is retired.
  // Returns the dropped target, if drop_target removed one.
  Result<EntryPtr> Rename(std::string_view from_db, std::string_view from_name, std::string_view to_db,
                          std::string_view to_name, bool drop_target);

  std::vector<EntryPtr> List(std::string_view db) const;  // db empty: all

  // A fresh id for an index (never reused, shared with collection ids).
  Result<uint64_t> AllocateId();
  // Writes `entry` (with its indexes) back. REQUIRES: entry->lifecycle held
  // exclusively by the caller.
  Status PersistEntry(const CollectionEntry& entry);
  // As PersistEntry, through `txn`, for an entry that transaction created
  // (pending): the entry commits or vanishes with it.
  Status PersistEntryIn(const CollectionEntry& entry, rocksdb::Transaction* txn);
  std::vector<std::string> ListDatabases() const;

 private:
  Catalog(Store* store, bool durable) : store_(store), durable_(durable) {}
  static std::string MapKey(std::string_view db, std::string_view name);
  // REQUIRES: mutex_ held exclusively.
  Result<EntryPtr> CreateLocked(std::string_view db, std::string_view name, std::optional<CappedLimits> capped,
                                std::optional<ViewDefinition> view, std::optional<ValidationRules> validation,
                                const std::function<Status(CollectionEntry*)>& prepare);
  Status PersistNew(const CollectionEntry& entry, uint64_t next_id);
  // REQUIRES: `lock` holds mutex_. Waits while another transaction creates
  // db.name; returns the entry then mapped (null: none). Errors: WriteConflict
  // on timeout.
  Result<EntryPtr> WaitUntilNotPending(std::unique_lock<std::shared_mutex>& lock, const std::string& key);

  Store* const store_;
  const bool durable_;  // sync catalog writes (off in memory)
  mutable std::shared_mutex mutex_;
  std::condition_variable_any pending_done_;  // signalled by FinishPending, under mutex_
  std::map<std::string, EntryPtr> entries_;  // GUARDED_BY(mutex_); key: db \0 name
  uint64_t next_id_ = 1;                     // GUARDED_BY(mutex_)
};

}  // namespace docket::storage
