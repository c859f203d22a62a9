// collMod's engine side: an index's expireAfterSeconds and hidden flag
// (Collection::ModifyIndex), a capped collection's limits
// (Engine::SetCappedLimits). Each holds the collection's lifecycle lock
// exclusively while it changes and persists the catalog entry (as an index
// build does), so no operation sees half a change.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "docket/engine.h"
#include "engine/capped.h"
#include "engine/engine_impl.h"
#include "engine/indexes.h"
#include "index/index.h"
#include "storage/catalog.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"
#include "engine/write_path.h"

namespace docket {

namespace {

// `spec` with `field` replaced (or added) by what `append` appends, or
// removed (no `append`).
using AppendField = std::function<void(bson::Builder*)>;

Document WithField(const Document& spec, const char* field, const AppendField& append) {
  bson::Builder out;
  bson_iter_t it;
  spec.Iterate(&it);
  bool written = false;
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) == field) {
      if (append) append(&out);
      written = true;
      continue;
    }
    bson::AppendElement(out.get(), bson_iter_key(&it), -1, &it);
  }
  if (!written && append) append(&out);
  return out.Finish();
}

// `spec` with the boolean `field` set to true, or removed (false: the
// default, which normalised specs leave out).
Document WithFlag(const Document& spec, const char* field, bool on) {
  if (!on) return WithField(spec, field, {});
  return WithField(spec, field, [field](bson::Builder* out) { BSON_APPEND_BOOL(out->get(), field, true); });
}

}  // namespace

namespace engine {

// A prepareUnique index becoming unique: finds the documents that share a
// key (CannotConvertIndexToUnique with {violations: [{ids: [...]}]}, one per
// shared key) or, when none do, rewrites the entries from the non-unique
// layout (key + key(_id) -> key(_id)) to the unique one (key -> key(_id)) in
// one batch. REQUIRES: entry.lifecycle held exclusively (no writer adds an
// entry meanwhile).
Status ConvertIndexToUnique(EngineImpl* engine, const storage::CollectionEntry& entry, uint64_t index_id) {
  const std::string prefix = storage::IndexPrefix(index_id), end = storage::IndexRangeEnd(index_id);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(engine->db()->NewIterator(read));
  rocksdb::WriteBatch batch;
  bson::Builder details;
  bson_t violations;
  BSON_APPEND_ARRAY_BEGIN(details.get(), "violations", &violations);
  size_t violation_count = 0;
  std::string group_key;
  std::vector<std::string> group;  // the key(_id)s of the entries with group_key
  auto close_group = [&]() -> Status {
    if (group.size() > 1) {
      bson_t violation, ids;
      // (The macro reads its key twice: the key is made before it.)
      const std::string violation_key = std::to_string(violation_count++);
      BSON_APPEND_DOCUMENT_BEGIN(&violations, violation_key.c_str(), &violation);
      BSON_APPEND_ARRAY_BEGIN(&violation, "ids", &ids);
      for (size_t i = 0; i < group.size(); ++i) {
        std::string record;
        DOCKET_RETURN_IF_ERROR(storage::FromRocks(
            engine->db()->Get(rocksdb::ReadOptions(), storage::RecordPrefix(entry.id) + group[i], &record), "reading a record"));
        SplitRecordValue(&record);
        const Document doc = Document::FromTrustedBytes(std::move(record));
        bson_iter_t id;
        const std::string index_key = std::to_string(i);
        if (doc.Find("_id", &id)) bson::AppendElement(&ids, index_key.c_str(), static_cast<int>(index_key.size()), &id);
      }
      bson_append_array_end(&violation, &ids);
      bson_append_document_end(&violations, &violation);
    }
    group.clear();
    return Status::OK();
  };
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    const std::string id_key = it->value().ToString();
    const rocksdb::Slice whole = it->key();
    if (whole.size() < prefix.size() + id_key.size()) return Status(ErrorCode::kInternalError, "malformed index entry");
    std::string key(whole.data() + prefix.size(), whole.size() - prefix.size() - id_key.size());
    if (key != group_key) {
      DOCKET_RETURN_IF_ERROR(close_group());
      group_key = key;
    }
    group.push_back(id_key);
    batch.Delete(whole);
    batch.Put(prefix + key, id_key);
  }
  DOCKET_RETURN_IF_ERROR(storage::FromRocks(it->status(), "reading an index"));
  DOCKET_RETURN_IF_ERROR(close_group());
  bson_append_array_end(details.get(), &violations);
  if (violation_count > 0) {
    return Status(ErrorCode::kCannotConvertIndexToUnique,
                  "Cannot convert the index to unique. Please resolve conflicting documents before running collMod again.")
        .WithDetails(details.Finish().bytes());
  }
  rocksdb::WriteOptions sync;
  sync.sync = !engine->in_memory;
  return storage::FromRocks(engine->store->Write(sync, &batch), "converting an index to unique");
}

}  // namespace engine

Result<IndexModificationResult> Collection::ModifyIndex(const IndexHint& which, const IndexModification& change) {
  if (!change.expire_after_seconds && !change.hidden && !change.prepare_unique && !change.unique) {
    return Status(ErrorCode::kInvalidOptions, "no expireAfterSeconds, hidden, prepareUnique or unique field");
  }
  if (change.unique && !*change.unique) {
    return Status(ErrorCode::kBadValue, "The field 'unique' can only be set to true: an index cannot be made non-unique");
  }
  auto locked = engine::LockExclusive(engine_, db_, name_, /*create=*/false);
  if (!locked.ok()) return locked.status();
  storage::CollectionEntry& entry = *locked->entry;
  const bool id_index = which.name == "_id_" || (which.name.empty() && which.key_pattern == *Document::FromJson(R"({"_id": 1})"));
  if (id_index) {
    if (change.hidden) return Status(ErrorCode::kBadValue, "can't hide _id index");
    return Status(ErrorCode::kInvalidOptions, "the _id index cannot be a TTL index");
  }
  storage::StoredIndex* target = nullptr;
  for (storage::StoredIndex& stored : entry.indexes) {
    if (which.name.empty() ? engine::SpecKey(stored.spec) == which.key_pattern : engine::SpecName(stored.spec) == which.name) {
      target = &stored;
      break;
    }
  }
  if (target == nullptr) {
    return Status(ErrorCode::kIndexNotFound,
                  "cannot find index " + (which.name.empty() ? which.key_pattern.ToJson() : which.name) + " for ns " +
                      db_ + "." + name_);
  }
  IndexModificationResult result;
  Document spec = target->spec;
  bson_iter_t it;
  if (change.expire_after_seconds) {
    const double seconds = *change.expire_after_seconds;
    if (std::isnan(seconds) || seconds < 0 || seconds > 2147483647) {
      return Status(ErrorCode::kCannotCreateIndex, "TTL index 'expireAfterSeconds' option must be within an acceptable range");
    }
    bson_iter_t key;
    Document pattern = engine::SpecKey(spec);
    pattern.Iterate(&key);
    bson_iter_next(&key);
    if (bson_iter_next(&key)) {
      return Status(ErrorCode::kInvalidOptions, "TTL indexes are single-field indexes, compound indexes do not support TTL");
    }
    if (spec.Find("expireAfterSeconds", &it)) result.expire_after_seconds_old = bson_iter_as_double(&it);
    result.expire_after_seconds_new = seconds;
    const int64_t whole = static_cast<int64_t>(seconds);
    spec = WithField(spec, "expireAfterSeconds",
                     [whole](bson::Builder* out) { BSON_APPEND_INT64(out->get(), "expireAfterSeconds", whole); });
  }
  if (change.hidden) {
    result.hidden_old = spec.Find("hidden", &it) && bson_iter_as_bool(&it);
    result.hidden_new = *change.hidden;
    spec = WithFlag(spec, "hidden", *change.hidden);
  }
  if (change.prepare_unique) {
    const bool unique = spec.Find("unique", &it) && bson_iter_as_bool(&it);
    if (unique) return Status(ErrorCode::kInvalidOptions, "the index is unique already");
    result.prepare_unique_old = spec.Find("prepareUnique", &it) && bson_iter_as_bool(&it);
    result.prepare_unique_new = *change.prepare_unique;
    spec = WithFlag(spec, "prepareUnique", *change.prepare_unique);
  }
  if (change.unique) {
    const bool unique = spec.Find("unique", &it) && bson_iter_as_bool(&it);
    if (!unique) {
      if (!(spec.Find("prepareUnique", &it) && bson_iter_as_bool(&it))) {
        return Status(ErrorCode::kInvalidOptions,
                      "Cannot make index unique with 'prepareUnique=false'. Run collMod to set it first.");
      }
      DOCKET_RETURN_IF_ERROR(engine::ConvertIndexToUnique(engine_, entry, target->id));
      spec = WithFlag(WithFlag(spec, "prepareUnique", false), "unique", true);
    }
    result.unique_new = true;
  }
  const Document previous = target->spec;
  target->spec = spec;
  Status persisted = engine_->catalog->PersistEntry(entry);
  if (!persisted.ok()) {
    target->spec = previous;
    return persisted;
  }
  DOCKET_RETURN_IF_ERROR(engine::CompileIndexes(engine_, &entry));
  return result;
}

Status Engine::SetCappedLimits(std::string_view db, std::string_view name, std::optional<int64_t> size,
                               std::optional<int64_t> max) {
  auto locked = engine::LockExclusive(impl_.get(), std::string(db), std::string(name), /*create=*/false);
  if (!locked.ok()) return locked.status();
  storage::CollectionEntry& entry = *locked->entry;
  if (!entry.capped) {
    return Status(ErrorCode::kInvalidOptions, "Collection '" + entry.db + "." + entry.name + "' is not capped");
  }
  CollectionOptions options;
  options.capped = true;
  options.size = size.value_or(entry.capped->size);
  options.max = max ? max : std::optional<int64_t>(entry.capped->max);
  auto limits = engine::CappedLimitsFor(options);
  if (!limits.ok()) return limits.status();
  const storage::CappedLimits previous = *entry.capped;
  // Writers read the limits holding the lifecycle lock shared: none runs now.
  {
    std::lock_guard options(entry.options_mutex);
    entry.capped = **limits;
  }
  Status persisted = impl_->catalog->PersistEntry(entry);
  if (!persisted.ok()) {
    std::lock_guard options(entry.options_mutex);
    entry.capped = previous;
  }
  return persisted;
}

}  // namespace docket
