#include "storage/catalog.h"

#include <bson/bson.h>

#include <optional>
#include <random>
#include <rocksdb/iterator.h>
#include <rocksdb/utilities/transaction.h>
#include <rocksdb/write_batch.h>

#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::storage {
namespace {

void SetCapped(CollectionEntry* entry, std::optional<CappedLimits> capped) {
  entry->capped = capped;
  if (capped) entry->capped_writers = std::make_shared<CappedWriters>();
}

std::string EncodeEntry(const CollectionEntry& e) {
  bson_t doc = BSON_INITIALIZER;
  BSON_APPEND_INT64(&doc, "id", static_cast<int64_t>(e.id));
  bson_append_utf8(&doc, "db", 2, e.db.data(), static_cast<int>(e.db.size()));
  bson_append_utf8(&doc, "name", 4, e.name.data(), static_cast<int>(e.name.size()));
  BSON_APPEND_BINARY(&doc, "uuid", BSON_SUBTYPE_UUID, reinterpret_cast<const uint8_t*>(e.uuid.data()),
                     static_cast<uint32_t>(e.uuid.size()));
  bson_t array, item, spec;
  BSON_APPEND_ARRAY_BEGIN(&doc, "indexes", &array);
  for (size_t i = 0; i < e.indexes.size(); ++i) {
    std::string key = std::to_string(i);
    bson_append_document_begin(&array, key.c_str(), -1, &item);
    BSON_APPEND_INT64(&item, "id", static_cast<int64_t>(e.indexes[i].id));
    if (bson_init_static(&spec, e.indexes[i].spec.data(), e.indexes[i].spec.size())) {
      BSON_APPEND_DOCUMENT(&item, "spec", &spec);
    }
    if (e.indexes[i].building) BSON_APPEND_BOOL(&item, "building", true);
    bson_append_document_end(&array, &item);
  }
  bson_append_array_end(&doc, &array);
  if (e.capped) {
    bson_t capped;
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "capped", &capped);
    BSON_APPEND_INT64(&capped, "size", e.capped->size);
    BSON_APPEND_INT64(&capped, "max", e.capped->max);
    bson_append_document_end(&doc, &capped);
  }
  if (e.validation) {
    bson_t rules, validator;
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "validation", &rules);
    if (bson_init_static(&validator, e.validation->validator.data(), e.validation->validator.size())) {
      BSON_APPEND_DOCUMENT(&rules, "validator", &validator);
    }
    BSON_APPEND_UTF8(&rules, "level", e.validation->level.c_str());
    BSON_APPEND_UTF8(&rules, "action", e.validation->action.c_str());
    bson_append_document_end(&doc, &rules);
  }
  if (e.collation) {
    const Document& spec = e.collation->spec();
    bson_t collation;
    if (bson_init_static(&collation, spec.data(), spec.size())) BSON_APPEND_DOCUMENT(&doc, "collation", &collation);
  }
  if (e.view) {
    bson_t view, pipeline, stage;
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "view", &view);
    bson_append_utf8(&view, "viewOn", 6, e.view->view_on.data(), static_cast<int>(e.view->view_on.size()));
    BSON_APPEND_ARRAY_BEGIN(&view, "pipeline", &pipeline);
    for (size_t i = 0; i < e.view->pipeline.size(); ++i) {
      const std::string key = std::to_string(i);
      const Document& d = e.view->pipeline[i];
      if (bson_init_static(&stage, d.data(), d.size())) bson_append_document(&pipeline, key.c_str(), -1, &stage);
    }
    bson_append_array_end(&view, &pipeline);
    if (!e.view->collation.empty()) {
      bson_t collation;
      const Document& c = e.view->collation;
      if (bson_init_static(&collation, c.data(), c.size())) BSON_APPEND_DOCUMENT(&view, "collation", &collation);
    }
    bson_append_document_end(&doc, &view);
  }
  std::string out(reinterpret_cast<const char*>(bson_get_data(&doc)), doc.len);
  bson_destroy(&doc);
  return out;
}

// `it` holds the entry's `view` document.
Result<ViewDefinition> DecodeView(const bson_iter_t& it) {
  const Status corrupt(ErrorCode::kInternalError, "corrupt view definition in catalog entry");
  ViewDefinition view;
  bool has_view_on = false;
  bson_iter_t field;
  if (!bson_iter_recurse(&it, &field)) return corrupt;
  while (bson_iter_next(&field)) {
    std::string_view key = bson_iter_key(&field);
    if (key == "viewOn" && BSON_ITER_HOLDS_UTF8(&field)) {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&field, &len);
      view.view_on.assign(s, len);
      has_view_on = true;
    } else if (key == "pipeline" && BSON_ITER_HOLDS_ARRAY(&field)) {
      bson_iter_t stage;
      if (!bson_iter_recurse(&field, &stage)) return corrupt;
      while (bson_iter_next(&stage)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&stage)) return corrupt;
        uint32_t len = 0;
        const uint8_t* data = nullptr;
        bson_iter_document(&stage, &len, &data);
        auto parsed = Document::FromBytes(data, len);
        if (!parsed.ok()) return corrupt;
        view.pipeline.push_back(std::move(parsed).value());
      }
    } else if (key == "collation" && BSON_ITER_HOLDS_DOCUMENT(&field)) {
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&field, &len, &data);
      auto parsed = Document::FromBytes(data, len);
      if (!parsed.ok()) return corrupt;
      view.collation = std::move(parsed).value();
    }
  }
  if (!has_view_on) return corrupt;
  return view;
}

Result<EntryPtr> DecodeEntry(const rocksdb::Slice& value) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(value.data()), value.size())) {
    return Status(ErrorCode::kInternalError, "corrupt catalog entry");
  }
  int64_t id = -1;
  std::string db, name;
  std::vector<StoredIndex> indexes;
  std::optional<CappedLimits> capped;
  std::optional<ViewDefinition> view;
  std::optional<ValidationRules> validation;
  text::CollatorPtr collation;
  std::string uuid;
  while (bson_iter_next(&it)) {
    std::string_view key = bson_iter_key(&it);
    uint32_t len = 0;
    if (key == "uuid" && BSON_ITER_HOLDS_BINARY(&it)) {
      bson_subtype_t subtype;
      const uint8_t* bytes = nullptr;
      bson_iter_binary(&it, &subtype, &len, &bytes);
      if (subtype != BSON_SUBTYPE_UUID || len != 16) return Status(ErrorCode::kInternalError, "corrupt uuid in catalog entry");
      uuid.assign(reinterpret_cast<const char*>(bytes), len);
      continue;
    }
    if (key == "indexes" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t item;
      bson_iter_recurse(&it, &item);
      while (bson_iter_next(&item)) {
        bson_iter_t field;
        int64_t index_id = -1;
        bool building = false;
        std::optional<Document> spec;
        if (!BSON_ITER_HOLDS_DOCUMENT(&item) || !bson_iter_recurse(&item, &field)) continue;
        while (bson_iter_next(&field)) {
          if (std::string_view(bson_iter_key(&field)) == "id" && BSON_ITER_HOLDS_INT64(&field)) {
            index_id = bson_iter_int64(&field);
          } else if (std::string_view(bson_iter_key(&field)) == "spec" && BSON_ITER_HOLDS_DOCUMENT(&field)) {
            uint32_t spec_len = 0;
            const uint8_t* data = nullptr;
            bson_iter_document(&field, &spec_len, &data);
            auto parsed = Document::FromBytes(data, spec_len);
            if (parsed.ok()) spec = *parsed;
          } else if (std::string_view(bson_iter_key(&field)) == "building" && BSON_ITER_HOLDS_BOOL(&field)) {
            building = bson_iter_bool(&field);
          }
        }
        if (index_id < 0 || !spec) return Status(ErrorCode::kInternalError, "corrupt index in catalog entry");
        indexes.push_back({static_cast<uint64_t>(index_id), *spec, building});
      }
      continue;
    }
    if (key == "capped" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      bson_iter_t field;
      CappedLimits limits;
      bson_iter_recurse(&it, &field);
      while (bson_iter_next(&field)) {
        if (std::string_view(bson_iter_key(&field)) == "size") limits.size = bson_iter_as_int64(&field);
        if (std::string_view(bson_iter_key(&field)) == "max") limits.max = bson_iter_as_int64(&field);
      }
      if (limits.size <= 0) return Status(ErrorCode::kInternalError, "corrupt capped limits in catalog entry");
      capped = limits;
      continue;
    }
    if (key == "validation" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      ValidationRules rules;
      bson_iter_t field;
      bson_iter_recurse(&it, &field);
      while (bson_iter_next(&field)) {
        const std::string_view name = bson_iter_key(&field);
        if (name == "validator" && BSON_ITER_HOLDS_DOCUMENT(&field)) {
          uint32_t len = 0;
          const uint8_t* data = nullptr;
          bson_iter_document(&field, &len, &data);
          auto parsed = Document::FromBytes(data, len);
          if (!parsed.ok()) return Status(ErrorCode::kInternalError, "corrupt validator in catalog entry");
          rules.validator = std::move(parsed).value();
        } else if (name == "level" && BSON_ITER_HOLDS_UTF8(&field)) {
          rules.level = bson_iter_utf8(&field, nullptr);
        } else if (name == "action" && BSON_ITER_HOLDS_UTF8(&field)) {
          rules.action = bson_iter_utf8(&field, nullptr);
        }
      }
      validation = std::move(rules);
      continue;
    }
    if (key == "collation" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&it, &len, &data);
      auto spec = Document::FromBytes(data, len);
      if (!spec.ok()) return Status(ErrorCode::kInternalError, "corrupt collation in catalog entry");
      auto made = text::Collator::FromStored(*spec);
      if (!made.ok()) {
        return Status(ErrorCode::kInternalError, "the collation stored for a collection cannot be made: " +
                                                     made.status().ToString());
      }
      collation = std::move(made).value();
      continue;
    }
    if (key == "view" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      auto decoded = DecodeView(it);
      if (!decoded.ok()) return decoded.status();
      view = std::move(decoded).value();
      continue;
    }
    if (key == "id" && BSON_ITER_HOLDS_INT64(&it)) id = bson_iter_int64(&it);
    else if (key == "db" && BSON_ITER_HOLDS_UTF8(&it)) { const char* s = bson_iter_utf8(&it, &len); db.assign(s, len); }
    else if (key == "name" && BSON_ITER_HOLDS_UTF8(&it)) { const char* s = bson_iter_utf8(&it, &len); name.assign(s, len); }
  }
  if (id < 0 || db.empty() || name.empty()) return Status(ErrorCode::kInternalError, "corrupt catalog entry");
  auto entry = std::make_shared<CollectionEntry>(static_cast<uint64_t>(id), db, name);
  if (!uuid.empty()) entry->uuid = std::move(uuid);
  entry->indexes = std::move(indexes);
  SetCapped(entry.get(), capped);
  entry->view = std::move(view);
  entry->validation = std::move(validation);
  entry->collation = std::move(collation);
  return entry;
}

bool HasStoredUuid(const rocksdb::Slice& value) {
  bson_iter_t it;
  return bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(value.data()), value.size()) &&
         bson_iter_find(&it, "uuid");
}

}  // namespace

std::string RandomCollectionUuid() {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::string uuid(16, '\0');
  for (int half = 0; half < 2; ++half) {
    const uint64_t bits = random();
    for (int i = 0; i < 8; ++i) uuid[half * 8 + i] = static_cast<char>(bits >> (8 * i));
  }
  uuid[6] = static_cast<char>((uuid[6] & 0x0f) | 0x40);  // version 4
  uuid[8] = static_cast<char>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid;
}

CollectionEntry::CollectionEntry(uint64_t id, std::string db, std::string name)
    : id(id), db(std::move(db)), name(std::move(name)), uuid(RandomCollectionUuid()) {}

std::string Catalog::MapKey(std::string_view db, std::string_view name) {
  std::string key(db);
  key.push_back('\0');
  key.append(name);
  return key;
}

Result<std::unique_ptr<Catalog>> Catalog::Load(Store* store, bool durable) {
  std::unique_ptr<Catalog> catalog(new Catalog(store, durable));
  std::string next;
  rocksdb::Status s = store->db()->Get(rocksdb::ReadOptions(), MetaKey("next_collection_id"), &next);
  if (s.ok()) {
    catalog->next_id_ = ReadBigEndian64(next);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the catalog");
  }
  std::unique_ptr<rocksdb::Iterator> it(store->db()->NewIterator(rocksdb::ReadOptions()));
  std::string prefix(1, kCatalogPrefix);
  std::vector<EntryPtr> without_uuid;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto entry = DecodeEntry(it->value());
    if (!entry.ok()) return entry.status();
    EntryPtr e = std::move(entry).value();
    if (!HasStoredUuid(it->value())) without_uuid.push_back(e);
    catalog->entries_[MapKey(e->db, e->name)] = e;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the catalog");
  // Entries written before collections had UUIDs keep the one just made.
  for (const EntryPtr& e : without_uuid) DOCKET_RETURN_IF_ERROR(catalog->PersistEntry(*e));
  return catalog;
}

EntryPtr Catalog::Find(std::string_view db, std::string_view name, const void* viewer) const {
  std::shared_lock lock(mutex_);
  auto it = entries_.find(MapKey(db, name));
  if (it == entries_.end()) return nullptr;
  if (it->second->pending_owner != nullptr && it->second->pending_owner != viewer) return nullptr;
  return it->second;
}

Result<EntryPtr> Catalog::WaitUntilNotPending(std::unique_lock<std::shared_mutex>& lock, const std::string& key) {
  const auto deadline = std::chrono::steady_clock::now() + kPendingWait;
  while (true) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return EntryPtr();
    if (it->second->pending_owner == nullptr) return it->second;
    if (pending_done_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return Status(ErrorCode::kWriteConflict,
                    "WriteConflict error: a transaction that is still open is creating this collection");
    }
  }
}

Status Catalog::PersistNew(const CollectionEntry& entry, uint64_t next_id) {
  rocksdb::WriteBatch batch;
  std::string next;
  AppendBigEndian64(&next, next_id);
  batch.Put(MetaKey("next_collection_id"), next);
  batch.Put(CatalogKey(entry.db, entry.name), EncodeEntry(entry));
  rocksdb::WriteOptions options;
  options.sync = durable_;
  return FromRocks(store_->db()->Write(options, &batch), "writing the catalog");
}

Result<EntryPtr> Catalog::CreateLocked(std::string_view db, std::string_view name,
                                       std::optional<CappedLimits> capped, std::optional<ViewDefinition> view,
                                       std::optional<ValidationRules> validation,
                                       const std::function<Status(CollectionEntry*)>& prepare) {
  auto entry = std::make_shared<CollectionEntry>(next_id_, std::string(db), std::string(name));
  SetCapped(entry.get(), capped);
  entry->view = std::move(view);
  entry->validation = std::move(validation);
  if (prepare) DOCKET_RETURN_IF_ERROR(prepare(entry.get()));
  DOCKET_RETURN_IF_ERROR(PersistNew(*entry, next_id_ + 1));
  ++next_id_;
  entries_[MapKey(db, name)] = entry;
  return entry;
}

Result<EntryPtr> Catalog::FindOrCreate(std::string_view db, std::string_view name, bool* created) {
  if (created != nullptr) *created = false;
  if (EntryPtr found = Find(db, name)) return found;
  std::unique_lock lock(mutex_);
  auto found = WaitUntilNotPending(lock, MapKey(db, name));
  if (!found.ok()) return found.status();
  if (*found) return *found;
  auto made = CreateLocked(db, name, std::nullopt, std::nullopt, std::nullopt, nullptr);
  if (made.ok() && created != nullptr) *created = true;
  return made;
}

Status Catalog::Create(std::string_view db, std::string_view name, std::optional<CappedLimits> capped,
                       std::optional<ViewDefinition> view, std::optional<ValidationRules> validation,
                       const std::function<Status(CollectionEntry*)>& prepare) {
  std::unique_lock lock(mutex_);
  auto found = WaitUntilNotPending(lock, MapKey(db, name));
  if (!found.ok()) return found.status();
  if (*found) {
    // MongoDB's words for each case. Whether an entry is a view never
    // changes (only its definition, under its lifecycle lock).
    const std::string full = std::string(db) + "." + std::string(name);
    if ((*found)->view.has_value()) {
      if (view) return Status(ErrorCode::kNamespaceExists, "Namespace already exists");
      return Status(ErrorCode::kNamespaceExists, "A view already exists. NS: " + full);
    }
    if (view) return Status(ErrorCode::kNamespaceExists, "Cannot create collection " + full + " - collection already exists.");
    return Status(ErrorCode::kNamespaceExists, "Collection " + full + " already exists.");
  }
  return CreateLocked(db, name, capped, std::move(view), std::move(validation), prepare).status();
}

Result<EntryPtr> Catalog::FindOrCreatePending(std::string_view db, std::string_view name, rocksdb::Transaction* txn,
                                              const void* owner, bool* created) {
  *created = false;
  std::unique_lock lock(mutex_);
  const std::string key = MapKey(db, name);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (it->second->pending_owner == nullptr || it->second->pending_owner == owner) return it->second;
    return Status(ErrorCode::kWriteConflict,
                  "WriteConflict error: another transaction is creating collection " + std::string(db) + "." +
                      std::string(name));
  }
  // The id is taken for good now (ids are never reused, so an aborted
  // creation only leaves a gap); the entry itself commits with `txn`.
  std::string next;
  AppendBigEndian64(&next, next_id_ + 1);
  rocksdb::WriteOptions options;
  options.sync = durable_;
  DOCKET_RETURN_IF_ERROR(
      FromRocks(store_->db()->Put(options, MetaKey("next_collection_id"), next), "writing the catalog"));
  auto entry = std::make_shared<CollectionEntry>(next_id_++, std::string(db), std::string(name));
  DOCKET_RETURN_IF_ERROR(FromRocks(txn->Put(CatalogKey(db, name), EncodeEntry(*entry)), "writing the catalog"));
  entry->pending_owner = owner;
  entries_[key] = entry;
  *created = true;
  return entry;
}

Status Catalog::CreatePending(std::string_view db, std::string_view name, rocksdb::Transaction* txn, const void* owner,
                              EntryPtr* created) {
  {
    std::shared_lock lock(mutex_);
    if (entries_.count(MapKey(db, name))) {
      const EntryPtr& existing = entries_.at(MapKey(db, name));
      if (existing->pending_owner != nullptr && existing->pending_owner != owner) {
        return Status(ErrorCode::kWriteConflict,
                      "WriteConflict error: another transaction is creating collection " + std::string(db) + "." +
                          std::string(name));
      }
      return Status(ErrorCode::kNamespaceExists,
                    "Collection " + std::string(db) + "." + std::string(name) + " already exists.");
    }
  }
  bool made = false;
  auto entry = FindOrCreatePending(db, name, txn, owner, &made);
  if (!entry.ok()) return entry.status();
  if (!made) {
    return Status(ErrorCode::kNamespaceExists,
                  "Collection " + std::string(db) + "." + std::string(name) + " already exists.");
  }
  *created = *entry;
  return Status::OK();
}

void Catalog::FinishPending(const EntryPtr& entry, bool committed) {
  // The lifecycle lock first (the lock order), so that `retired` changes
  // with it held, as its readers expect.
  std::unique_lock retire(entry->lifecycle, std::defer_lock);
  if (!committed) retire.lock();
  {
    std::unique_lock lock(mutex_);
    if (committed) {
      entry->pending_owner = nullptr;
    } else {
      auto it = entries_.find(MapKey(entry->db, entry->name));
      if (it != entries_.end() && it->second == entry) entries_.erase(it);
      entry->retired = true;
    }
  }
  pending_done_.notify_all();
}

// Drop and Rename wait for a collection's in-flight operations (its lifecycle
// lock, exclusively) holding no catalog lock, so that the wait stalls only
// that collection; they take mutex_ once they hold it, and then check that
// the catalog still maps the names to the entries they locked.
Result<EntryPtr> Catalog::Drop(std::string_view db, std::string_view name) {
  const std::string key = MapKey(db, name);
  while (true) {
    EntryPtr entry = Find(db, name);
    if (!entry) return Status(ErrorCode::kNamespaceNotFound, "ns not found");
    std::unique_lock retire(entry->lifecycle);  // waits for in-flight operations
    if (entry->retired) continue;               // dropped or renamed meanwhile
    std::unique_lock lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second != entry) continue;
    rocksdb::WriteOptions options;
    options.sync = durable_;
    DOCKET_RETURN_IF_ERROR(FromRocks(store_->db()->Delete(options, CatalogKey(db, name)), "writing the catalog"));
    entry->retired = true;
    entries_.erase(it);
    return entry;
  }
}

Result<EntryPtr> Catalog::Rename(std::string_view from_db, std::string_view from_name, std::string_view to_db,
                                 std::string_view to_name, bool drop_target) {
  const std::string from_key = MapKey(from_db, from_name);
  const std::string to_key = MapKey(to_db, to_name);
  while (true) {
    EntryPtr source = Find(from_db, from_name);
    if (!source) return Status(ErrorCode::kNamespaceNotFound, "source namespace does not exist");
    EntryPtr target = Find(to_db, to_name);
    if (target && !drop_target) return Status(ErrorCode::kNamespaceExists, "target namespace exists");
    std::unique_lock retire_source(source->lifecycle, std::defer_lock);
    std::unique_lock<std::shared_mutex> retire_target;
    if (target) {
      // Both at once, backing off rather than holding one while waiting for
      // the other: no deadlock with anyone taking them in the other order.
      retire_target = std::unique_lock(target->lifecycle, std::defer_lock);
      std::lock(retire_source, retire_target);
    } else {
      retire_source.lock();
    }
    if (source->retired || (target && target->retired)) continue;
    std::unique_lock lock(mutex_);
    auto from = entries_.find(from_key);
    auto to = entries_.find(to_key);
    if (from == entries_.end() || from->second != source) continue;
    if (to != entries_.end() && to->second->pending_owner != nullptr) {
      return Status(ErrorCode::kWriteConflict,
                    "WriteConflict error: a transaction that is still open is creating the target collection");
    }
    if ((to == entries_.end() ? nullptr : to->second) != target) continue;  // created meanwhile
    auto moved = std::make_shared<CollectionEntry>(source->id, std::string(to_db), std::string(to_name));
    moved->uuid = source->uuid;
    moved->indexes = source->indexes;  // the index entries stay under their ids
    moved->compiled_indexes = source->compiled_indexes;
    moved->index_version = source->index_version + 1;
    moved->capped = source->capped;  // and its writers' state: the same records
    moved->capped_writers = source->capped_writers;
    moved->view = source->view;
    moved->validation = source->validation;
    moved->compiled_validator = source->compiled_validator;
    moved->collation = source->collation;
    rocksdb::WriteBatch batch;
    batch.Delete(CatalogKey(from_db, from_name));
    batch.Put(CatalogKey(to_db, to_name), EncodeEntry(*moved));
    rocksdb::WriteOptions options;
    options.sync = durable_;
    DOCKET_RETURN_IF_ERROR(FromRocks(store_->db()->Write(options, &batch), "writing the catalog"));
    source->retired = true;
    if (target) target->retired = true;
    entries_.erase(from_key);
    entries_[to_key] = moved;
    return target;
  }
}

Result<uint64_t> Catalog::AllocateId() {
  std::unique_lock lock(mutex_);
  std::string next;
  AppendBigEndian64(&next, next_id_ + 1);
  rocksdb::WriteOptions options;
  options.sync = durable_;
  DOCKET_RETURN_IF_ERROR(
      FromRocks(store_->db()->Put(options, MetaKey("next_collection_id"), next), "writing the catalog"));
  return next_id_++;
}

Status Catalog::PersistEntry(const CollectionEntry& entry) {
  rocksdb::WriteOptions options;
  options.sync = durable_;
  return FromRocks(store_->db()->Put(options, CatalogKey(entry.db, entry.name), EncodeEntry(entry)),
                   "writing the catalog");
}

Status Catalog::PersistEntryIn(const CollectionEntry& entry, rocksdb::Transaction* txn) {
  return FromRocks(txn->Put(CatalogKey(entry.db, entry.name), EncodeEntry(entry)), "writing the catalog");
}

std::vector<EntryPtr> Catalog::List(std::string_view db) const {
  std::shared_lock lock(mutex_);
  std::vector<EntryPtr> out;
  for (const auto& [key, entry] : entries_) {
    if (entry->pending_owner != nullptr) continue;  // a transaction's, until it commits
    if (db.empty() || entry->db == db) out.push_back(entry);
  }
  return out;
}

std::vector<std::string> Catalog::ListDatabases() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, entry] : entries_) {
    if (entry->pending_owner != nullptr) continue;
    if (out.empty() || out.back() != entry->db) out.push_back(entry->db);
  }
  return out;
}

}  // namespace docket::storage
