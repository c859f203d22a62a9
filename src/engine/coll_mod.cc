// collMod's engine side: an index's expireAfterSeconds and hidden flag
// (Collection::ModifyIndex), a capped collection's limits
// (Engine::SetCappedLimits). Each holds the collection's lifecycle lock
// exclusively while it changes and persists the catalog entry (as an index
// build does), so no operation sees half a change.
#include <cmath>
#include <string>

#include "bson/builder.h"
#include "docket/engine.h"
#include "engine/capped.h"
#include "engine/engine_impl.h"
#include "engine/indexes.h"
#include "index/index.h"
#include "storage/catalog.h"

namespace docket {

namespace {

// `spec` with `field` replaced (or added) by `value`, or removed (no value).
Document WithField(const Document& spec, const char* field, const std::function<void(bson_t*)>& append) {
  bson::Builder out;
  bson_iter_t it;
  spec.Iterate(&it);
  bool written = false;
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) == field) {
      if (append) append(out.get());
      written = true;
      continue;
    }
    bson_append_iter(out.get(), bson_iter_key(&it), -1, &it);
  }
  if (!written && append) append(out.get());
  return out.Finish();
}

}  // namespace

Result<IndexModificationResult> Collection::ModifyIndex(const IndexHint& which, const IndexModification& change) {
  if (!change.expire_after_seconds && !change.hidden) {
    return Status(ErrorCode::kInvalidOptions, "no expireAfterSeconds or hidden field");
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
    spec = WithField(spec, "expireAfterSeconds", [whole](bson_t* out) { BSON_APPEND_INT64(out, "expireAfterSeconds", whole); });
  }
  if (change.hidden) {
    result.hidden_old = spec.Find("hidden", &it) && bson_iter_as_bool(&it);
    result.hidden_new = *change.hidden;
    spec = WithField(spec, "hidden", *change.hidden ? std::function<void(bson_t*)>([](bson_t* out) {
      BSON_APPEND_BOOL(out, "hidden", true);
    }) : std::function<void(bson_t*)>());
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
  entry.capped = **limits;
  Status persisted = impl_->catalog->PersistEntry(entry);
  if (!persisted.ok()) entry.capped = previous;
  return persisted;
}

}  // namespace docket
