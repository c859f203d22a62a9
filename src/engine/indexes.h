// Secondary indexes inside the engine: the compiled set kept with each
// collection entry, the index entries every document write maintains, and
// building / dropping / listing indexes.
//
// Locking: storage/catalog.h's order (a lifecycle lock, then the catalog's
// mutex, never the other way round). A collection's indexes change only with its entry's `lifecycle`
// held exclusively (an index build blocks the collection's writers for its
// duration, like MongoDB's foreground builds); operations read them with the
// lock held shared, as they hold it for everything else. A user transaction
// that wrote to a collection whose indexes changed before it committed fails
// with WriteConflict (112) and is retried whole.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "engine/write_path.h"
#include "index/index.h"
#include "storage/catalog.h"

namespace docket::engine {

struct IndexSet : storage::IndexAttachment {
  std::vector<std::shared_ptr<const index::Index>> indexes;
};

// The compiled secondary indexes of `entry` (empty when it has none).
// REQUIRES: entry.lifecycle held.
const std::vector<std::shared_ptr<const index::Index>>& IndexesOf(const storage::CollectionEntry& entry);

// Holds a collection's lifecycle exclusively (index builds, drops, collMod),
// creating the collection if asked. Errors: NamespaceNotFound ("ns does not
// exist") when it is missing and not created.
struct ExclusiveEntry {
  storage::EntryPtr entry;
  std::unique_lock<std::shared_mutex> lock;
  bool created = false;
};
Result<ExclusiveEntry> LockExclusive(EngineImpl* engine, const std::string& db, const std::string& name, bool create);

// A stored spec's name and key pattern.
std::string SpecName(const Document& spec);
Document SpecKey(const Document& spec);

// key(_id) of a document, as record keys and index entries end with it.
std::string IdKey(const Document& doc);
// The storage key of the entry of `index` for index key `key` of the
// document whose key(_id) is `id_key`; the entry's value is `id_key`.
std::string IndexEntryKey(const index::Index& index, const std::string& key, const std::string& id_key);

// (Re)compiles entry->indexes into entry->compiled_indexes (with their
// persisted multikey flags) and bumps the version. REQUIRES: lifecycle held
// exclusively, or the entry not yet shared.
Status CompileIndexes(EngineImpl* engine, storage::CollectionEntry* entry);

// Keeps the index entries of one document in step with a write, inside the
// write's transaction: deletes the keys only `before` has, adds the keys only
// `after` has. Each added key of a unique index is locked and checked first:
// DuplicateKey (11000) with MongoDB's message when another document owns it.
// The first array-derived key of an index marks it multikey, persisted in the
// same transaction.
// `before` is null for an insert, `after` null for a delete.
Status UpdateIndexEntries(WriteUnit& unit, const storage::CollectionEntry& entry, const Document* before,
                          const Document* after);

// The specs as createIndexes stores them (index::NormalizeSpec), those
// without a collation taking `collection_collation`. Errors: BadValue for
// none; a spec's own errors.
Result<std::vector<Document>> NormalizeIndexSpecs(const std::vector<Document>& specs,
                                                  const text::Collator* collection_collation);
// `count` fresh index ids (never reused; one left unused is a gap).
Result<std::vector<uint64_t>> AllocateIndexIds(EngineImpl* engine, size_t count);
// The indexes of `normalized` that `entry` lacks, given ids from `ids` in
// order; fills result's names and index counts. An index that exists with
// the same options is left out. Errors: IndexKeySpecsConflict (86),
// IndexOptionsConflict (85), CannotCreateIndex (67) past 64 indexes,
// BadValue for a misused _id_. *being_built (when given) is set when a
// requested index exists but is still being built (engine/index_build.h).
// REQUIRES: entry.lifecycle held.
Result<std::vector<storage::StoredIndex>> PlanIndexes(const storage::CollectionEntry& entry,
                                                      const std::vector<Document>& normalized,
                                                      const std::vector<uint64_t>& ids, CreateIndexesResult* result,
                                                      bool* being_built = nullptr);

// createIndexes: normalises the specs, creates the collection if missing,
// and builds each new index over the existing documents: while writers run
// when no new index is unique (engine/index_build.h), otherwise with the
// collection held. An index whose unique constraint the data violates fails
// with DuplicateKey and leaves nothing behind. Asked for an index still
// being built, it waits for that build.
Result<CreateIndexesResult> CreateIndexes(EngineImpl* engine, const std::string& db, const std::string& name,
                                          const std::vector<Document>& specs);
// createIndexes inside `txn` (transaction_indexes.cc): see
// Collection::CreateIndexes.
Result<CreateIndexesResult> CreateIndexesInTransaction(EngineImpl* engine, Transaction* txn, const std::string& db,
                                                       const std::string& name, const std::vector<Document>& specs);

// Collection::ReIndex.
Result<std::vector<Document>> ReIndex(EngineImpl* engine, const std::string& db, const std::string& name);

// At open, before any writer: builds again, from the start, each index a
// crash left `building`; one that cannot be built (its documents have no
// valid keys) is removed. REQUIRES: the entry not yet shared.
Status FinishInterruptedBuilds(EngineImpl* engine, storage::CollectionEntry* entry);

// dropIndexes by name ("*": every index but _id_) or by key pattern.
// Errors: NamespaceNotFound, IndexNotFound (27), InvalidOptions (72) for _id_.
Status DropIndexes(EngineImpl* engine, const std::string& db, const std::string& name, const std::string& index_name,
                   const Document* key_pattern);

// {v: 2, key: {_id: 1}, name: "_id_"} and then every secondary index's spec.
Result<std::vector<Document>> ListIndexes(EngineImpl* engine, const std::string& db, const std::string& name);

// The implicit _id index's spec, as listIndexes shows it: {v: 2, key: {_id: 1}, name: "_id_"},
// and the collection's collation when it has one.
Document IdIndexSpec(const text::Collator* collection_collation = nullptr);
// Collection::IndexStats.
Result<std::vector<IndexUsage>> IndexStats(EngineImpl* engine, const std::string& db, const std::string& name);

// Deletes the entries of the indexes of a dropped collection.
Status DeleteIndexData(EngineImpl* engine, const storage::CollectionEntry& entry);

}  // namespace docket::engine
