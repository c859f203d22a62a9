// Collection::Stats and Collection::Validate: what a collection holds,
// measured, and whether its indexes agree with its records.
//
// Both hold the collection's lifecycle lock shared (no drop or index change
// meanwhile) and read at one RocksDB snapshot, so concurrent writers neither
// wait for them nor make them see half a write.
#include <rocksdb/db.h>
#include <rocksdb/utilities/transaction_db.h>

#include <algorithm>
#include <memory>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "engine/indexes.h"
#include "engine/natural_order_check.h"
#include "engine/write_path.h"
#include "storage/record_value.h"
#include "storage/key_range.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket {
namespace {

using engine::IndexesOf;
using storage::FromRocks;

// A snapshot released with the object.
class Snapshot {
 public:
  explicit Snapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~Snapshot() { db_->ReleaseSnapshot(snapshot_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  rocksdb::ReadOptions Read() const {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    return options;
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// Visits every record of the collection at the snapshot: (key, value).
template <typename Visit>
Status ForEachRecord(rocksdb::DB* db, const Snapshot& snapshot, uint64_t collection_id, Visit visit) {
  return storage::ForEachInRange(db, snapshot.Read(), storage::RecordPrefix(collection_id),
                                 storage::RecordRangeEnd(collection_id), "reading records", visit);
}

Status NotFound(const std::string& db, const std::string& name) {
  return Status(ErrorCode::kNamespaceNotFound, "Collection '" + db + "." + name + "' does not exist.");
}

std::string Printable(rocksdb::Slice bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 64; ++i) {
    out.push_back(kHex[static_cast<unsigned char>(bytes[i]) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(bytes[i]) & 15]);
  }
  return out + (bytes.size() > 64 ? "..." : "");
}

}  // namespace

Result<CollectionStats> Collection::Stats() {
  auto guard = engine::ResolveForRead(engine_, db_, name_);
  if (!guard.ok()) return guard.status();
  if (!guard->entry) return NotFound(db_, name_);
  const storage::CollectionEntry& entry = *guard->entry;
  CollectionStats stats;
  int64_t id_keys = 0;
  Snapshot snapshot(engine_->db());
  DOCKET_RETURN_IF_ERROR(ForEachRecord(engine_->db(), snapshot, entry.id, [&](rocksdb::Slice key, rocksdb::Slice value) {
    stats.count += 1;
    stats.data_size += static_cast<int64_t>(storage::RecordDocument(std::string_view(value.data(), value.size())).size());
    id_keys += static_cast<int64_t>(key.size());
    return Status::OK();
  }));
  // The records and their natural-order entries are the collection's storage.
  std::vector<std::pair<std::string, std::string>> ranges = {
      {storage::RecordPrefix(entry.id), storage::RecordRangeEnd(entry.id)},
      {storage::NaturalPrefix(entry.id), storage::NaturalRangeEnd(entry.id)}};
  const auto& indexes = IndexesOf(entry);
  for (const auto& index : indexes) {
    ranges.emplace_back(storage::IndexPrefix(index->id()), storage::IndexRangeEnd(index->id()));
  }
  auto sizes = engine_->store->ApproximateSizes(ranges);
  if (!sizes.ok()) return sizes.status();
  stats.storage_size = static_cast<int64_t>((*sizes)[0] + (*sizes)[1]);
  stats.indexes.push_back({"_id_", id_keys});
  for (size_t i = 0; i < indexes.size(); ++i) {
    stats.indexes.push_back({indexes[i]->name(), static_cast<int64_t>((*sizes)[i + 2])});
  }
  for (const IndexSize& index : stats.indexes) stats.total_index_size += index.bytes;
  if (entry.capped) {
    stats.capped = true;
    stats.max_size = entry.capped->size;
    stats.max = entry.capped->max;
  }
  return stats;
}

Status Engine::Health() const { return impl_->store->Health(); }

Result<int64_t> Engine::DatabaseStorageSize(std::string_view db) {
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const storage::EntryPtr& entry : impl_->catalog->List(db)) {
    std::shared_lock lock(entry->lifecycle);
    if (entry->retired) continue;
    ranges.emplace_back(storage::RecordPrefix(entry->id), storage::RecordRangeEnd(entry->id));
    ranges.emplace_back(storage::NaturalPrefix(entry->id), storage::NaturalRangeEnd(entry->id));
    for (const auto& index : IndexesOf(*entry)) {
      ranges.emplace_back(storage::IndexPrefix(index->id()), storage::IndexRangeEnd(index->id()));
    }
  }
  auto sizes = impl_->store->ApproximateSizes(ranges);
  if (!sizes.ok()) return sizes.status();
  int64_t total = 0;
  for (uint64_t size : *sizes) total += static_cast<int64_t>(size);
  return total;
}

Result<ValidateResult> Collection::Validate() {
  auto guard = engine::ResolveForRead(engine_, db_, name_, nullptr, engine::Views::kAllow);
  if (!guard.ok()) return guard.status();
  if (!guard->entry) return NotFound(db_, name_);
  if (guard->entry->view) return Status(ErrorCode::kCommandNotSupportedOnView, "Cannot validate a view");
  const storage::CollectionEntry& entry = *guard->entry;
  std::vector<std::shared_ptr<const index::Index>> indexes;  // the ready ones: a build in progress is incomplete
  for (const auto& index : IndexesOf(entry)) {
    if (!index->building()) indexes.push_back(index);
  }
  rocksdb::DB* db = engine_->db();
  Snapshot snapshot(db);
  const rocksdb::ReadOptions read = snapshot.Read();
  ValidateResult result;
  size_t dropped_errors = 0;
  auto error = [&](std::string message) {
    if (result.errors.size() < ValidateResult::kMaxErrors) result.errors.push_back(std::move(message));
    else ++dropped_errors;
  };
  std::vector<bool> index_invalid(indexes.size(), false);
  std::vector<int64_t> expected_keys(indexes.size(), 0);
  std::vector<std::string> keys;

  // Records -> index entries: every key a document should have is there and
  // points at it.
  DOCKET_RETURN_IF_ERROR(ForEachRecord(db, snapshot, entry.id, [&](rocksdb::Slice key, rocksdb::Slice value) {
    result.records += 1;
    const std::string_view stored(value.data(), value.size());
    const std::string_view bytes = storage::RecordDocument(stored);
    auto doc = Document::FromBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    bson_iter_t id;
    if (stored.size() < storage::kRecordSequenceSize || !doc.ok() || !doc->Find("_id", &id)) {
      result.invalid_documents += 1;
      error("record " + Printable(key) + " is not a valid BSON document with an _id");
      return Status::OK();
    }
    if (storage::RecordKey(entry.id, id) != key.ToString()) {
      result.invalid_documents += 1;
      error("record " + Printable(key) + " is stored under a key that is not its _id's");
      return Status::OK();
    }
    const std::string id_key = engine::IdKey(*doc);
    std::string named;
    rocksdb::Status natural = db->Get(read, storage::NaturalKey(entry.id, storage::RecordSequence(stored)), &named);
    if (!natural.ok() && !natural.IsNotFound()) return FromRocks(natural, "reading the natural order");
    if (natural.IsNotFound() || named != id_key) {
      result.invalid_documents += 1;
      error("the document with _id key " + Printable(id_key) + " has no natural-order entry for its sequence number " +
            std::to_string(storage::RecordSequence(stored)));
    }
    for (size_t i = 0; i < indexes.size(); ++i) {
      const index::Index& index = *indexes[i];
      keys.clear();
      bool multikey = false;
      Status s = index.KeysFor(*doc, &keys, &multikey);
      if (!s.ok()) {
        index_invalid[i] = true;
        error("index " + index.name() + ": the document with _id key " + Printable(id_key) +
              " has no valid keys: " + s.message());
        continue;
      }
      if (multikey && !index.multikey()) {
        index_invalid[i] = true;
        error("index " + index.name() + " is not multikey but the document with _id key " + Printable(id_key) +
              " has array-derived keys");
      }
      for (const std::string& k : keys) {
        expected_keys[i] += 1;
        std::string owner;
        rocksdb::Status got = db->Get(read, engine::IndexEntryKey(index, k, id_key), &owner);
        if (got.IsNotFound() || (got.ok() && owner != id_key)) {
          index_invalid[i] = true;
          result.missing_index_entries += 1;
          error("index " + index.name() + " lacks the key " + Printable(k) + " of the document with _id key " +
                Printable(id_key));
        } else if (!got.ok()) {
          return FromRocks(got, "reading an index");
        }
      }
    }
    return Status::OK();
  }));

  DOCKET_RETURN_IF_ERROR(engine::CheckNaturalEntries(db, read, entry.id, result.records, error));

  // Index entries -> records: every entry belongs to a document that has
  // that key; counted as keysPerIndex.
  result.keys_per_index.emplace_back("_id_", result.records);
  for (size_t i = 0; i < indexes.size(); ++i) {
    const index::Index& index = *indexes[i];
    int64_t entries = 0;
    auto check_entry = [&](rocksdb::Slice entry_key, rocksdb::Slice value) -> Status {
      entries += 1;
      const std::string id_key = value.ToString();
      std::string record;
      rocksdb::Status got = db->Get(read, storage::RecordPrefix(entry.id) + id_key, &record);
      bool belongs = false;
      if (got.ok()) {
        engine::SplitRecordValue(&record);
        auto doc = Document::FromBytes(reinterpret_cast<const uint8_t*>(record.data()), record.size());
        keys.clear();
        if (doc.ok() && index.KeysFor(*doc, &keys).ok()) {
          for (const std::string& k : keys) {
            if (engine::IndexEntryKey(index, k, id_key) == entry_key.ToString()) belongs = true;
          }
        }
      } else if (!got.IsNotFound()) {
        return FromRocks(got, "reading a record");
      }
      if (!belongs) {
        index_invalid[i] = true;
        result.extra_index_entries += 1;
        error("index " + index.name() + " has the entry " + Printable(entry_key) + " that no document has" +
              (got.IsNotFound() ? " (its record does not exist)" : ""));
      }
      return Status::OK();
    };
    DOCKET_RETURN_IF_ERROR(storage::ForEachInRange(db, read, storage::IndexPrefix(index.id()),
                                                   storage::IndexRangeEnd(index.id()), "reading an index", check_entry));
    result.keys_per_index.emplace_back(index.name(), entries);
    if (entries != expected_keys[i] && !index_invalid[i]) {
      index_invalid[i] = true;
      error("index " + index.name() + " has " + std::to_string(entries) + " entries; its documents have " +
            std::to_string(expected_keys[i]) + " keys");
    }
  }
  for (size_t i = 0; i < indexes.size(); ++i) {
    if (index_invalid[i]) result.invalid_indexes.push_back(indexes[i]->name());
  }
  if (dropped_errors > 0) result.errors.push_back("... and " + std::to_string(dropped_errors) + " more errors");
  return result;
}

}  // namespace docket
