#include "engine/indexes.h"

#include "text/text_index_spec.h"

#include "docket/metrics.h"
#include "engine/index_build.h"
#include "engine/views.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <unordered_set>

#include "bson/builder.h"
#include "bson/key_encoding.h"
#include "bson/value.h"
#include "engine/namespace.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"
#include "bson/append_element.h"

namespace docket::engine {
namespace {

using storage::FromRocks;
using IndexPtr = std::shared_ptr<const index::Index>;

const std::vector<IndexPtr>& NoIndexes() {
  static const std::vector<IndexPtr> none;
  return none;
}


// "{ a: 1, b: \"x\" }": the document's values for the index, for messages.
std::string DupKeyText(const index::Index& index, const Document& doc) {
  std::string out = "{ ";
  for (size_t i = 0; i < index.fields().size(); ++i) {
    const index::IndexField& field = index.fields()[i];
    std::string value = "null";
    bson::VisitPath(doc.data(), doc.size(), field.path, [&](const bson_iter_t* v) {
      if (v == nullptr || bson_iter_type(v) == BSON_TYPE_ARRAY) return false;
      value = bson::ValueToJson(*v);
      return true;
    });
    out += (i ? ", " : "") + field.dotted + ": " + value;
  }
  return out + " }";
}

// {keyPattern, keyValue}: the details a DuplicateKey carries (ODMs read them
// to name the field). keyValue holds the same values as the message.
std::string DupKeyDetails(const index::Index& index, const Document& doc) {
  bson::Builder details;
  bson::AppendDocument(details.get(), "keyPattern", index.key_pattern());
  bson_t value;
  BSON_APPEND_DOCUMENT_BEGIN(details.get(), "keyValue", &value);
  for (const index::IndexField& field : index.fields()) {
    bool appended = false;
    bson::VisitPath(doc.data(), doc.size(), field.path, [&](const bson_iter_t* v) {
      if (v == nullptr || bson_iter_type(v) == BSON_TYPE_ARRAY) return false;
      docket::bson::AppendElement(&value, field.dotted.c_str(), -1, v);
      appended = true;
      return true;
    });
    if (!appended) bson_append_null(&value, field.dotted.c_str(), -1);
  }
  bson_append_document_end(details.get(), &value);
  return details.Finish().bytes();
}

Status DuplicateKey(const storage::CollectionEntry& entry, const index::Index& index, const Document& doc) {
  return Status(ErrorCode::kDuplicateKey, "E11000 duplicate key error collection: " + entry.db + "." + entry.name +
                                              " index: " + index.name() + " dup key: " + DupKeyText(index, doc))
      .WithDetails(DupKeyDetails(index, doc));
}


bool IsIdIndex(const Document& spec) {
  bson_iter_t name, key;
  if (spec.Find("name", &name) && BSON_ITER_HOLDS_UTF8(&name) && std::string_view(bson_iter_utf8(&name, nullptr)) == "_id_") {
    return true;
  }
  if (!spec.Find("key", &key) || !BSON_ITER_HOLDS_DOCUMENT(&key)) return false;
  bson_iter_t field;
  bson_iter_recurse(&key, &field);
  if (!bson_iter_next(&field) || std::string_view(bson_iter_key(&field)) != "_id") return false;
  return !bson_iter_next(&field);
}

}  // namespace

Document IdIndexSpec(const text::Collator* collection_collation) {
  bson::Builder b;
  BSON_APPEND_INT32(b.get(), "v", 2);
  bson_t key;
  BSON_APPEND_DOCUMENT_BEGIN(b.get(), "key", &key);
  BSON_APPEND_INT32(&key, "_id", 1);
  bson_append_document_end(b.get(), &key);
  BSON_APPEND_UTF8(b.get(), "name", "_id_");
  if (collection_collation != nullptr) bson::AppendDocument(b.get(), "collation", collection_collation->spec());
  return b.Finish();
}

// A spec's collation ({locale: "simple"} when it has none).
Document CollationOf(const Document& spec) {
  bson_iter_t it;
  if (spec.Find("collation", &it) && BSON_ITER_HOLDS_DOCUMENT(&it)) {
    return Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
  }
  return text::CollationSpecOf(nullptr);
}

std::string SpecName(const Document& spec) {
  bson_iter_t name;
  return spec.Find("name", &name) && BSON_ITER_HOLDS_UTF8(&name) ? bson_iter_utf8(&name, nullptr) : "";
}

Document SpecKey(const Document& spec) {
  bson_iter_t key;
  if (!spec.Find("key", &key) || !BSON_ITER_HOLDS_DOCUMENT(&key)) return Document();
  return Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(key)));
}

namespace {

// Writes every existing document's entries for `index`. The caller holds the
// collection's lifecycle exclusively, so no writer runs meanwhile. On failure
// the index's range is deleted again.
Status BuildIndex(EngineImpl* engine, const storage::CollectionEntry& entry, const index::Index& index) {
  constexpr size_t kBatchDocuments = 1000;
  rocksdb::WriteBatch batch;
  std::unordered_set<std::string> batch_keys;  // unique keys in the batch not yet written
  size_t in_batch = 0;
  auto flush = [&]() -> Status {
    if (batch.Count() == 0) return Status::OK();
    Status s = FromRocks(engine->store->Write(rocksdb::WriteOptions(), &batch), "building an index");
    batch.Clear();
    batch_keys.clear();
    in_batch = 0;
    return s;
  };
  Status status;
  {
    RecordScan scan(engine, nullptr, entry.id);
    std::vector<std::string> keys;
    for (; status.ok() && scan.Valid(); scan.Next()) {
      Document doc = Document::FromTrustedBytes(scan.value().ToString());
      bool multikey = false;
      status = index.KeysFor(doc, &keys, &multikey);
      if (!status.ok()) break;
      if (multikey && !index.multikey()) {
        batch.Put(storage::MultikeyKey(index.id()), "1");
        index.MarkMultikey();
      }
      std::string id_key = IdKey(doc);
      for (const std::string& key : keys) {
        std::string entry_key = IndexEntryKey(index, key, id_key);
        if (index.unique()) {
          std::string existing;
          bool taken = !batch_keys.insert(entry_key).second;
          if (!taken) {
            rocksdb::Status get = engine->db()->Get(rocksdb::ReadOptions(), entry_key, &existing);
            if (!get.ok() && !get.IsNotFound()) {
              status = FromRocks(get, "building an index");
              break;
            }
            taken = get.ok();
          }
          if (taken) {
            status = DuplicateKey(entry, index, doc);
            break;
          }
        }
        batch.Put(entry_key, id_key);
      }
      if (status.ok() && ++in_batch >= kBatchDocuments) status = flush();
    }
    if (status.ok()) status = scan.status();
  }
  if (status.ok()) status = flush();
  if (!status.ok()) {
    Status cleanup = engine->store->DeleteRange(storage::IndexPrefix(index.id()), storage::IndexRangeEnd(index.id()));
    (void)cleanup;  // the build's own error is the one to report
  }
  return status;
}

}  // namespace

Result<ExclusiveEntry> LockExclusive(EngineImpl* engine, const std::string& db, const std::string& name,
                                     bool create) {
  DOCKET_RETURN_IF_ERROR(ValidateCollectionName(db, name));
  while (true) {
    ExclusiveEntry out;
    out.entry = engine->catalog->Find(db, name);
    if (!out.entry) {
      if (!create) return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + db + "." + name);
      auto created = engine->catalog->FindOrCreate(db, name);
      if (!created.ok()) return created.status();
      out.entry = std::move(created).value();
      out.created = true;
    }
    out.lock = std::unique_lock(out.entry->lifecycle);
    if (out.entry->retired) continue;
    if (out.entry->view) return NotACollection(db, name);
    return out;
  }
}

std::string IdKey(const Document& doc) {
  bson_iter_t id;
  std::string key;
  if (doc.Find("_id", &id)) bson::AppendKeyValue(&key, id);
  return key;
}

std::string IndexEntryKey(const index::Index& index, const std::string& key, const std::string& id_key) {
  std::string out = storage::IndexPrefix(index.id());
  out += key;
  if (!index.unique()) out += id_key;  // non-unique entries are distinct per document
  return out;
}

const std::vector<IndexPtr>& IndexesOf(const storage::CollectionEntry& entry) {
  auto* set = static_cast<const IndexSet*>(entry.compiled_indexes.get());
  return set != nullptr ? set->indexes : NoIndexes();
}

Status CompileIndexes(EngineImpl* engine, storage::CollectionEntry* entry) {
  auto set = std::make_shared<IndexSet>();
  const auto& previous = IndexesOf(*entry);
  for (const storage::StoredIndex& stored : entry->indexes) {
    // Keep compiled indexes that still exist unchanged: their multikey flags
    // are live. One whose spec changed (collMod) is compiled again and keeps
    // its flag.
    auto kept = std::find_if(previous.begin(), previous.end(), [&](const IndexPtr& p) { return p->id() == stored.id; });
    if (kept != previous.end() && (*kept)->spec() == stored.spec) {
      (*kept)->SetBuilding(stored.building);
      set->indexes.push_back(*kept);
      continue;
    }
    auto compiled = index::Index::Compile(stored.id, stored.spec);
    if (!compiled.ok()) return compiled.status();
    if (kept != previous.end() && (*kept)->multikey()) (*compiled)->MarkMultikey();
    if (kept != previous.end()) (*compiled)->accesses().CarryFrom((*kept)->accesses());
    std::string flag;
    rocksdb::Status s = engine->db()->Get(rocksdb::ReadOptions(), storage::MultikeyKey(stored.id), &flag);
    if (s.ok()) (*compiled)->MarkMultikey();
    else if (!s.IsNotFound()) return FromRocks(s, "reading an index flag");
    (*compiled)->SetBuilding(stored.building);
    set->indexes.push_back(std::move(compiled).value());
  }
  entry->compiled_indexes = set->indexes.empty() ? nullptr : std::shared_ptr<const storage::IndexAttachment>(set);
  ++entry->index_version;
  return Status::OK();
}

namespace {

// A prepareUnique index's check of one added key: the value's entries are
// stored as a non-unique index's (key + key(_id)); the writer locks the key
// alone (no entry has that key, but every writer of the value locks it, so
// they serialise) and then looks for an entry of another document.
Status CheckPreparedUnique(WriteUnit& unit, const storage::CollectionEntry& entry, const index::Index& index,
                           const std::string& key, const std::string& id_key, const Document& doc) {
  const std::string value_key = storage::IndexPrefix(index.id()) + key;
  std::string unused;
  bool found = false;
  DOCKET_RETURN_IF_ERROR(unit.GetForUpdate(value_key, &unused, &found));
  std::unique_ptr<rocksdb::Iterator> it(unit.txn()->GetIterator(rocksdb::ReadOptions()));
  for (it->Seek(value_key); it->Valid() && it->key().starts_with(value_key); it->Next()) {
    if (it->value() != rocksdb::Slice(id_key)) return DuplicateKey(entry, index, doc);
  }
  return FromRocks(it->status(), "reading an index");
}

}  // namespace

Status UpdateIndexEntries(WriteUnit& unit, const storage::CollectionEntry& entry, const Document* before,
                          const Document* after) {
  unit.NoteWrite(entry);
  // The _id index's key comes with the record (mongod counts it too).
  if (before == nullptr) CountKeysInserted(1);
  if (after == nullptr) CountKeysDeleted(1);
  const auto& indexes = IndexesOf(entry);
  if (indexes.empty()) return Status::OK();
  std::string id_key = IdKey(after != nullptr ? *after : *before);
  std::vector<std::string> old_keys, new_keys, removed, added;
  for (const IndexPtr& index : indexes) {
    old_keys.clear();
    new_keys.clear();
    bool multikey = false;
    if (before != nullptr) DOCKET_RETURN_IF_ERROR(index->KeysFor(*before, &old_keys));
    if (after != nullptr) DOCKET_RETURN_IF_ERROR(index->KeysFor(*after, &new_keys, &multikey));
    if (multikey && !index->multikey()) {
      // Set before the commit: a reader whose snapshot holds this document
      // took it after the flag was set, and plans accordingly.
      DOCKET_RETURN_IF_ERROR(FromRocks(unit.txn()->Put(storage::MultikeyKey(index->id()), "1"), "writing an index flag"));
      index->MarkMultikey();
    }
    removed.clear();
    added.clear();
    std::set_difference(old_keys.begin(), old_keys.end(), new_keys.begin(), new_keys.end(), std::back_inserter(removed));
    std::set_difference(new_keys.begin(), new_keys.end(), old_keys.begin(), old_keys.end(), std::back_inserter(added));
    CountKeysDeleted(static_cast<int64_t>(removed.size()));
    CountKeysInserted(static_cast<int64_t>(added.size()));
    for (const std::string& key : removed) {
      DOCKET_RETURN_IF_ERROR(FromRocks(unit.txn()->Delete(IndexEntryKey(*index, key, id_key)), "writing an index"));
    }
    for (const std::string& key : added) {
      std::string entry_key = IndexEntryKey(*index, key, id_key);
      if (index->unique()) {
        // Locks the key: two writers of the same value serialise here.
        std::string owner;
        bool found = false;
        DOCKET_RETURN_IF_ERROR(unit.GetForUpdate(entry_key, &owner, &found));
        if (found && owner != id_key) return DuplicateKey(entry, *index, *after);
      } else if (index->prepare_unique()) {
        DOCKET_RETURN_IF_ERROR(CheckPreparedUnique(unit, entry, *index, key, id_key, *after));
      }
      DOCKET_RETURN_IF_ERROR(FromRocks(unit.txn()->Put(entry_key, id_key), "writing an index"));
    }
  }
  return Status::OK();
}

Result<std::vector<Document>> NormalizeIndexSpecs(const std::vector<Document>& specs,
                                                  const text::Collator* collection_collation) {
  if (specs.empty()) return Status(ErrorCode::kBadValue, "Must specify at least one index to create");
  std::vector<Document> normalized;
  for (const Document& spec : specs) {
    auto n = index::NormalizeSpec(spec, collection_collation);
    if (!n.ok()) return n.status();
    normalized.push_back(std::move(n).value());
  }
  return normalized;
}

Result<std::vector<uint64_t>> AllocateIndexIds(EngineImpl* engine, size_t count) {
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < count; ++i) {
    auto id = engine->catalog->AllocateId();
    if (!id.ok()) return id.status();
    ids.push_back(*id);
  }
  return ids;
}

Result<std::vector<storage::StoredIndex>> PlanIndexes(const storage::CollectionEntry& entry,
                                                      const std::vector<Document>& normalized,
                                                      const std::vector<uint64_t>& ids, CreateIndexesResult* result,
                                                      bool* being_built) {
  result->num_indexes_before = static_cast<int>(entry.indexes.size()) + 1;
  std::vector<storage::StoredIndex> to_build;
  for (const Document& spec : normalized) {
    std::string spec_name = SpecName(spec);
    result->names.push_back(spec_name);
    if (IsIdIndex(spec)) {
      // {_id: 1} under any name is the implicit _id index: nothing to build.
      if (!(SpecKey(spec) == SpecKey(IdIndexSpec()))) {
        return Status(ErrorCode::kBadValue, "The index name '_id_' is reserved for the _id index");
      }
      if (!index::SameOptions(spec, IdIndexSpec(entry.collation.get()))) {
        return Status(ErrorCode::kBadValue,
                      "The _id index must have the same collation as the collection. Index collation: " +
                          CollationOf(spec).ToJson() +
                          ", collection collation: " + text::CollationSpecOf(entry.collation.get()).ToJson());
      }
      continue;
    }
    bool exists = false;
    auto check = [&](const storage::StoredIndex& other) -> Status {
      bool same_name = SpecName(other.spec) == spec_name;
      // The same key under another collation is another index.
      bool same_key = SpecKey(other.spec) == SpecKey(spec) && CollationOf(other.spec) == CollationOf(spec);
      if (same_name && index::SameOptions(other.spec, spec)) {
        exists = true;
        if (other.building && being_built != nullptr) *being_built = true;
        return Status::OK();
      }
      if (same_name && same_key) {
        return Status(ErrorCode::kIndexOptionsConflict,
                      "An equivalent index already exists with the same name but different options. Requested "
                      "index: " + spec.ToJson() + ", existing index: " + other.spec.ToJson());
      }
      if (same_name) {
        return Status(ErrorCode::kIndexKeySpecsConflict,
                      "An existing index has the same name as the requested index. When index names are not "
                      "specified, they are auto generated and can cause conflicts. Please refer to our "
                      "documentation. Requested index: " + spec.ToJson() + ", existing index: " + other.spec.ToJson());
      }
      if (same_key && index::SameOptions(other.spec, spec)) {
        return Status(ErrorCode::kIndexOptionsConflict,
                      "Index already exists with a different name: " + SpecName(other.spec));
      }
      if (same_key) {
        return Status(ErrorCode::kIndexOptionsConflict,
                      "An equivalent index already exists with a different name and options. Requested index: " +
                          spec.ToJson() + ", existing index: " + other.spec.ToJson());
      }
      // MongoDB allows one text index per collection.
      if (text::IsTextKeyPattern(SpecKey(spec)) && text::IsTextKeyPattern(SpecKey(other.spec))) {
        return Status(ErrorCode::kCannotCreateIndex,
                      "only one text index per collection allowed, found existing text index \"" +
                          SpecName(other.spec) + "\"");
      }
      return Status::OK();
    };
    for (const storage::StoredIndex& other : entry.indexes) DOCKET_RETURN_IF_ERROR(check(other));
    for (const storage::StoredIndex& other : to_build) DOCKET_RETURN_IF_ERROR(check(other));
    if (exists) continue;
    // MongoDB's limit: 64 indexes per collection, _id_ included.
    constexpr size_t kMaxIndexes = 64;
    if (entry.indexes.size() + to_build.size() + 1 >= kMaxIndexes) {
      return Status(ErrorCode::kCannotCreateIndex, "add index fails, too many indexes for " + entry.db + "." +
                                                       entry.name + " key:" + SpecKey(spec).ToJson());
    }
    to_build.push_back({ids.at(to_build.size()), spec});
  }
  result->num_indexes_after = result->num_indexes_before + static_cast<int>(to_build.size());
  return to_build;
}

Result<CreateIndexesResult> CreateIndexes(EngineImpl* engine, const std::string& db, const std::string& name,
                                          const std::vector<Document>& specs) {
  // Checked before anything is allocated; normalised again below with the
  // collection's default collation.
  auto normalized = NormalizeIndexSpecs(specs, nullptr);
  if (!normalized.ok()) return normalized.status();
  // Ids come first, so that the catalog's mutex (a synced write) is not
  // taken while the collection is held exclusively. An id left unused is
  // simply never used.
  auto ids = AllocateIndexIds(engine, normalized->size());
  if (!ids.ok()) return ids.status();
  while (true) {
    auto locked = LockExclusive(engine, db, name, /*create=*/true);
    if (!locked.ok()) return locked.status();
    storage::CollectionEntry& entry = *locked->entry;
    normalized = NormalizeIndexSpecs(specs, entry.collation.get());
    if (!normalized.ok()) return normalized.status();
    CreateIndexesResult result;
    result.created_collection_automatically = locked->created;
    bool being_built = false;
    auto to_build = PlanIndexes(entry, *normalized, *ids, &result, &being_built);
    if (!to_build.ok()) return to_build.status();
    if (being_built) {  // as mongod: wait for that build, then look again
      locked->lock.unlock();
      DOCKET_RETURN_IF_ERROR(WaitForIndexBuilds(engine));
      continue;
    }
    std::vector<std::shared_ptr<const index::Index>> compiled;
    bool constrained = false;
    for (const storage::StoredIndex& stored : *to_build) {
      auto one = index::Index::Compile(stored.id, stored.spec);
      if (!one.ok()) return one.status();
      constrained = constrained || (*one)->unique() || (*one)->prepare_unique();
      compiled.push_back(std::move(one).value());
    }
    if (constrained || locked->created || to_build->empty()) {
      // With the collection held (a new collection is empty: nothing to wait for).
      for (size_t i = 0; i < to_build->size(); ++i) {
        DOCKET_RETURN_IF_ERROR(BuildIndex(engine, entry, *compiled[i]));
        entry.indexes.push_back((*to_build)[i]);
        Status persisted = engine->catalog->PersistEntry(entry);
        if (!persisted.ok()) {
          entry.indexes.pop_back();
          return persisted;
        }
        DOCKET_RETURN_IF_ERROR(CompileIndexes(engine, &entry));
      }
      result.num_indexes_after = static_cast<int>(entry.indexes.size()) + 1;
      return result;
    }
    // While writers run (index_build.h): register, release, fill, finish.
    std::vector<uint64_t> building;
    for (storage::StoredIndex stored : *to_build) {
      stored.building = true;
      building.push_back(stored.id);
      entry.indexes.push_back(std::move(stored));
    }
    Status registered = engine->catalog->PersistEntry(entry);
    if (registered.ok()) registered = CompileIndexes(engine, &entry);
    if (!registered.ok()) {
      entry.indexes.resize(entry.indexes.size() - building.size());
      (void)CompileIndexes(engine, &entry);
      return registered;
    }
    const storage::EntryPtr held = locked->entry;
    locked->lock.unlock();
    DOCKET_RETURN_IF_ERROR(BuildRegisteredIndexes(engine, held, building));
    return result;  // PlanIndexes counted the indexes after
  }
}

Result<std::vector<Document>> ReIndex(EngineImpl* engine, const std::string& db, const std::string& name) {
  size_t count = 0;
  {
    auto guard = ResolveForRead(engine, db, name);
    if (!guard.ok()) return guard.status();
    if (!guard->entry) return Status(ErrorCode::kNamespaceNotFound, "collection does not exist");
    count = guard->entry->indexes.size();
  }
  while (true) {
    auto ids = AllocateIndexIds(engine, count);  // before the exclusive hold, as CreateIndexes
    if (!ids.ok()) return ids.status();
    auto locked = LockExclusive(engine, db, name, /*create=*/false);
    if (!locked.ok()) return locked.status();
    storage::CollectionEntry& entry = *locked->entry;
    if (entry.indexes.size() != count) {  // changed meanwhile: again, with enough ids
      count = entry.indexes.size();
      continue;
    }
    // Built anew under fresh ids; the old entries stay until every new
    // index is complete, so that a failure changes nothing.
    std::vector<storage::StoredIndex> rebuilt;
    Status built;
    for (size_t i = 0; i < count && built.ok(); ++i) {
      storage::StoredIndex fresh{(*ids)[i], entry.indexes[i].spec, false};
      auto compiled = index::Index::Compile(fresh.id, fresh.spec);
      built = compiled.ok() ? BuildIndex(engine, entry, **compiled) : compiled.status();
      if (built.ok()) rebuilt.push_back(std::move(fresh));
    }
    if (!built.ok()) {
      for (const storage::StoredIndex& fresh : rebuilt) {
        (void)engine->store->DeleteRange(storage::IndexPrefix(fresh.id), storage::IndexRangeEnd(fresh.id));
      }
      return built;
    }
    std::vector<storage::StoredIndex> old = std::move(entry.indexes);
    entry.indexes = rebuilt;
    Status persisted = engine->catalog->PersistEntry(entry);
    if (!persisted.ok()) {
      entry.indexes = std::move(old);
      for (const storage::StoredIndex& fresh : rebuilt) {
        (void)engine->store->DeleteRange(storage::IndexPrefix(fresh.id), storage::IndexRangeEnd(fresh.id));
      }
      return persisted;
    }
    DOCKET_RETURN_IF_ERROR(CompileIndexes(engine, &entry));
    for (const storage::StoredIndex& stale : old) {
      DOCKET_RETURN_IF_ERROR(engine->store->DeleteRange(storage::IndexPrefix(stale.id), storage::IndexRangeEnd(stale.id)));
    }
    std::vector<Document> specs = {IdIndexSpec(entry.collation.get())};
    for (const storage::StoredIndex& stored : entry.indexes) specs.push_back(stored.spec);
    return specs;
  }
}

Status FinishInterruptedBuilds(EngineImpl* engine, storage::CollectionEntry* entry) {
  bool changed = false;
  std::vector<storage::StoredIndex> kept;
  for (storage::StoredIndex stored : entry->indexes) {
    if (!stored.building) {
      kept.push_back(std::move(stored));
      continue;
    }
    changed = true;
    DOCKET_RETURN_IF_ERROR(engine->store->DeleteRange(storage::IndexPrefix(stored.id), storage::IndexRangeEnd(stored.id)));
    auto compiled = index::Index::Compile(stored.id, stored.spec);
    if (!compiled.ok() || !BuildIndex(engine, *entry, **compiled).ok()) continue;  // removed (BuildIndex cleaned up)
    stored.building = false;
    kept.push_back(std::move(stored));
  }
  if (!changed) return Status::OK();
  entry->indexes = std::move(kept);
  return engine->catalog->PersistEntry(*entry);
}

Status DropIndexes(EngineImpl* engine, const std::string& db, const std::string& name, const std::string& index_name,
                   const Document* key_pattern) {
  auto locked = LockExclusive(engine, db, name, /*create=*/false);
  if (!locked.ok()) return locked.status();
  storage::CollectionEntry& entry = *locked->entry;
  std::vector<storage::StoredIndex> kept, dropped;
  bool matched_id = key_pattern != nullptr ? (*key_pattern == SpecKey(IdIndexSpec())) : index_name == "_id_";
  if (matched_id) return Status(ErrorCode::kInvalidOptions, "cannot drop _id index");
  for (const storage::StoredIndex& stored : entry.indexes) {
    bool match = key_pattern != nullptr ? SpecKey(stored.spec) == *key_pattern
                                        : (index_name == "*" || SpecName(stored.spec) == index_name);
    (match ? dropped : kept).push_back(stored);
  }
  if (dropped.empty() && index_name != "*") {
    return Status(ErrorCode::kIndexNotFound,
                  key_pattern != nullptr ? "can't find index with key: " + key_pattern->ToJson()
                                         : "index not found with name [" + index_name + "]");
  }
  if (dropped.empty()) return Status::OK();
  std::vector<storage::StoredIndex> previous = entry.indexes;
  entry.indexes = kept;
  Status persisted = engine->catalog->PersistEntry(entry);
  if (!persisted.ok()) {
    entry.indexes = previous;
    return persisted;
  }
  DOCKET_RETURN_IF_ERROR(CompileIndexes(engine, &entry));
  for (const storage::StoredIndex& stored : dropped) {
    DOCKET_RETURN_IF_ERROR(engine->store->DeleteRange(storage::IndexPrefix(stored.id), storage::IndexRangeEnd(stored.id)));
    DOCKET_RETURN_IF_ERROR(FromRocks(engine->db()->Delete(rocksdb::WriteOptions(), storage::MultikeyKey(stored.id)),
                                     "deleting an index flag"));
  }
  return Status::OK();
}

Result<std::vector<Document>> ListIndexes(EngineImpl* engine, const std::string& db, const std::string& name) {
  auto guard = ResolveForRead(engine, db, name);
  if (!guard.ok()) return guard.status();
  std::vector<Document> out;
  if (!guard->entry) return out;
  out.push_back(IdIndexSpec(guard->entry->collation.get()));
  for (const storage::StoredIndex& stored : guard->entry->indexes) {
    if (!stored.building) out.push_back(stored.spec);  // as mongod 6.0: a build in progress is not listed
  }
  return out;
}

Result<std::vector<IndexUsage>> IndexStats(EngineImpl* engine, const std::string& db, const std::string& name) {
  auto guard = ResolveForRead(engine, db, name);
  if (!guard.ok()) return guard.status();
  std::vector<IndexUsage> out;
  if (!guard->entry) return out;
  const storage::CollectionEntry& entry = *guard->entry;
  const Document id_spec = IdIndexSpec(entry.collation.get());
  out.push_back({"_id_", SpecKey(id_spec), id_spec, entry.id_index_accesses.ops(), entry.id_index_accesses.since_ms()});
  for (const auto& index : IndexesOf(entry)) {
    out.push_back({index->name(), index->key_pattern(), index->spec(), index->accesses().ops(),
                   index->accesses().since_ms(), index->building()});
  }
  return out;
}

Status DeleteIndexData(EngineImpl* engine, const storage::CollectionEntry& entry) {
  for (const storage::StoredIndex& stored : entry.indexes) {
    DOCKET_RETURN_IF_ERROR(engine->store->DeleteRange(storage::IndexPrefix(stored.id), storage::IndexRangeEnd(stored.id)));
  }
  return Status::OK();
}

}  // namespace docket::engine
