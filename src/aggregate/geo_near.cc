#include "aggregate/geo_near.h"

#include <cmath>
#include <limits>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/type_names.h"
#include "bson/value.h"
#include "docket/deadline.h"
#include "engine/geo_plan.h"
#include "engine/indexes.h"
#include "engine/scan.h"
#include "engine/sorter.h"
#include "query/filter.h"
#include "query/sort.h"

namespace docket::aggregate {
namespace {

Status TypeMismatch(std::string message) { return Status(ErrorCode::kTypeMismatch, std::move(message)); }
Status BadValue(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }

// A non-negative number option (maxDistance, minDistance, distanceMultiplier).
Result<double> NonNegative(const bson_iter_t& it, std::string_view name) {
  if (!bson::IsNumber(bson_iter_type(&it))) return TypeMismatch(std::string(name) + " must be a number");
  const double d = bson::NumberAsDouble(it);
  if (!(d >= 0)) return BadValue(std::string(name) + " must be nonnegative");
  return d;
}

// The dotted path of the geo field $geoNear uses without `key`, as mongod
// picks it: the collection's one 2d index, else its one 2dsphere index's
// (first) geo field. Errors: IndexNotFound (27) when there is none, or
// several of the kind chosen.
Result<std::string> OnlyGeoKey(const storage::CollectionEntry& entry) {
  std::string flat_key, sphere_key;
  int flat_indexes = 0, sphere_indexes = 0;
  for (const auto& index : engine::IndexesOf(entry)) {
    if (index->hidden() || index->building() || !engine::IsGeoIndex(*index)) continue;
    if (index->has_flat()) {
      ++flat_indexes;
      flat_key = index->fields()[0].dotted;
      continue;
    }
    if (++sphere_indexes > 1) continue;
    for (const auto& field : index->fields()) {
      if (field.sphere) {
        sphere_key = field.dotted;
        break;
      }
    }
  }
  if (flat_indexes > 1) {
    return Status(ErrorCode::kIndexNotFound, "There is more than one 2d index on " + entry.db + "." + entry.name +
                                                 "; unsure which to use for $geoNear");
  }
  if (flat_indexes == 1) return flat_key;
  if (sphere_indexes > 1) {
    return Status(ErrorCode::kIndexNotFound, "There is more than one 2dsphere index on " + entry.db + "." +
                                                 entry.name + "; unsure which to use for $geoNear");
  }
  if (sphere_indexes == 0) {
    return Status(ErrorCode::kIndexNotFound, "$geoNear requires a 2d or 2dsphere index, but none were found");
  }
  return sphere_key;
}

// The documents of the $near query, nearest first, with the distance (and
// location) fields set; read in full at open (a Sorter, spilling beyond the
// budget). The sorter holds each as {s: <distance>, d: <document>}: the
// distance measured once, whatever the output fields overwrite.
class GeoNearStage : public Stage {
 public:
  explicit GeoNearStage(StreamPtr sorted) : sorted_(std::move(sorted)) {}
  Result<Value> Next() override {
    auto next = sorted_->Next();
    if (!next.ok()) return next.status();
    if (!*next) return Value();
    bson_iter_t doc;
    if (!(*next)->Find("d", &doc) || !BSON_ITER_HOLDS_DOCUMENT(&doc)) {
      return Status(ErrorCode::kInternalError, "$geoNear: a sorted entry without its document");
    }
    return Value::FromDocumentBytes(bson::SubDocumentBytes(doc));
  }

 private:
  StreamPtr sorted_;
};


}  // namespace

Status GeoNearSpec::Parse(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  (void)ctx;
  if (!BSON_ITER_HOLDS_DOCUMENT(&arg)) {
    return StageError(10065, "invalid parameter: expected an object ($geoNear)");
  }
  auto spec = std::make_shared<GeoNearSpec>();
  bool has_near = false, has_distance_field = false;
  bson_iter_t it;
  bson_iter_recurse(&arg, &it);
  while (bson_iter_next(&it)) {
    const std::string_view field = KeyOf(it);
    if (field == "near") {
      const bson_type_t type = bson_iter_type(&it);
      if (type != BSON_TYPE_ARRAY && type != BSON_TYPE_DOCUMENT) {
        return StageError(5860401, "$geoNear requires near argument to be a GeoJSON object or a legacy point(array)");
      }
      spec->near_ = bson::HoldValue(it);
      has_near = true;
    } else if (field == "distanceField") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return StageError(16606, "$geoNear requires a 'distanceField' option as a String");
      spec->distance_field_ = bson::SplitPath(bson_iter_utf8(&it, nullptr));
      has_distance_field = true;
    } else if (field == "includeLocs") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return StageError(16607, "$geoNear requires that 'includeLocs' option is a String");
      spec->include_locs_ = bson::SplitPath(bson_iter_utf8(&it, nullptr));
    } else if (field == "spherical") {
      spec->spherical_ = bson_iter_as_bool(&it);
    } else if (field == "maxDistance" || field == "minDistance" || field == "distanceMultiplier") {
      auto d = NonNegative(it, field);
      if (!d.ok()) return d.status();
      if (field == "maxDistance") spec->max_distance_ = *d;
      else if (field == "minDistance") spec->min_distance_ = *d;
      else spec->distance_multiplier_ = *d;
    } else if (field == "query") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return TypeMismatch("query must be an object");
      spec->query_ = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
      auto compiled = query::Filter::Compile(spec->query_);
      if (!compiled.ok()) return compiled.status();
      if (compiled->near_query() != nullptr) return query::NearNotAllowed();
      if (compiled->text_search() != nullptr) return BadValue("text and geoNear not allowed in same query");
    } else if (field == "key") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) {
        return TypeMismatch("$geoNear parameter 'key' must be of type string but found type: " +
                            std::string(bson::TypeAlias(bson_iter_type(&it))));
      }
      spec->key_ = bson_iter_utf8(&it, nullptr);
      if (spec->key_.empty()) return BadValue("$geoNear parameter 'key' cannot be the empty string");
    } else if (field == "collation") {
      return StageError(40227, "$geoNear does not accept the 'collation' option; give it to the aggregate command");
    } else if (field == "limit") {
      return StageError(50858, "$geoNear no longer supports the 'limit' parameter: use a $limit stage instead");
    } else if (field == "num") {
      return StageError(50857, "$geoNear no longer supports the 'num' parameter: use a $limit stage instead");
    } else if (field == "start") {
      return StageError(50856, "$geoNear no longer supports the 'start' parameter");
    } else if (field == "uniqueDocs") {
      continue;  // ignored, as MongoDB does
    } else {
      return StageError(9, "unknown argument to $geoNear: " + std::string(field));
    }
  }
  if (!has_near) return StageError(5860400, "$geoNear requires a 'near' argument");
  if (!has_distance_field) return StageError(16606, "$geoNear requires a 'distanceField' option as a String");
  out->push_back(std::move(spec));
  return Status::OK();
}

Result<StagePtr> GeoNearSpec::Open(StagePtr, const RunContext&) const {
  return StageError(40602, "$geoNear is only valid as the first stage in a pipeline");
}

Result<Document> GeoNearSpec::QueryFor(const storage::CollectionEntry& entry) const {
  std::string key = key_;
  if (key.empty()) {
    auto only = OnlyGeoKey(entry);
    if (!only.ok()) return only.status();
    key = std::move(only).value();
  }
  // {key: {$near | $nearSphere: ..., $minDistance, $maxDistance}}, and the
  // query beside it.
  bson_iter_t near;
  bson::IterHeldValue(near_, &near);
  const bool geojson = BSON_ITER_HOLDS_DOCUMENT(&near) && [&] {
    bson_iter_t probe;
    return Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(near))).Find("type", &probe);
  }();
  bson::Builder near_filter;
  bson_t condition, operand;
  bson_append_document_begin(near_filter.get(), key.c_str(), -1, &condition);
  const char* op = spherical_ ? "$nearSphere" : "$near";
  if (geojson) {
    bson_append_document_begin(&condition, op, -1, &operand);
    bson::AppendElement(&operand, "$geometry", -1, &near);
    if (min_distance_) BSON_APPEND_DOUBLE(&operand, "$minDistance", *min_distance_);
    if (max_distance_) BSON_APPEND_DOUBLE(&operand, "$maxDistance", *max_distance_);
    bson_append_document_end(&condition, &operand);
  } else {
    bson::AppendElement(&condition, op, -1, &near);
    if (min_distance_) BSON_APPEND_DOUBLE(&condition, "$minDistance", *min_distance_);
    if (max_distance_) BSON_APPEND_DOUBLE(&condition, "$maxDistance", *max_distance_);
  }
  bson_append_document_end(near_filter.get(), &condition);
  Document filter_doc = near_filter.Finish();
  if (!query_.empty()) {
    bson::Builder both;
    bson_t list;
    BSON_APPEND_ARRAY_BEGIN(both.get(), "$and", &list);
    bson::AppendDocument(&list, "0", filter_doc);
    bson::AppendDocument(&list, "1", query_);
    bson_append_array_end(both.get(), &list);
    filter_doc = both.Finish();
  }
  return filter_doc;
}

Result<StagePtr> GeoNearSpec::OpenSource(const storage::EntryPtr& entry, const RunContext& ctx,
                                         rocksdb::Transaction* user_txn) const {
  if (entry == nullptr) return StagePtr(std::make_unique<ValuesStage>(std::vector<Value>()));
  auto query = QueryFor(*entry);
  if (!query.ok()) return query.status();
  const Document filter_doc = std::move(query).value();
  auto filter = query::Filter::Compile(filter_doc, nullptr, ctx.collation);
  if (!filter.ok()) return filter.status();
  auto scan = engine::OpenScan(ctx.engine, user_txn, *entry, filter_doc, Document(), nullptr, /*describe=*/false,
                               /*limit_hint=*/0, /*entries_if_exact=*/false, engine::ResolvedHint(),
                               ctx.collation.get());
  if (!scan.ok()) return scan.status();
  const query::Filter& matcher = *filter;
  const query::SortSpec nearest = query::SortSpec::ByComputed([](const Document& wrapped) {
    bson_iter_t s;
    return wrapped.Find("s", &s) ? bson_iter_double(&s) : std::numeric_limits<double>::infinity();
  });
  engine::Sorter sorter(ctx.engine, nearest, SIZE_MAX, ctx.budget);
  for (auto& s = *scan; s->Valid(); s->Next()) {
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    rocksdb::Slice v = s->value();
    auto match = matcher.Evaluate(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    if (!match.ok()) return match.status();
    if (!*match) continue;
    std::string location;
    const std::optional<double> distance =
        matcher.NearDistance(std::string_view(v.data(), v.size()), include_locs_ ? &location : nullptr);
    if (!distance) continue;
    Value doc = Value::FromDocumentBytes(std::string_view(v.data(), v.size()));
    doc = SetPath(doc, distance_field_, 0, Value::Double(*distance * distance_multiplier_));
    if (include_locs_) doc = SetPath(doc, *include_locs_, 0, Value::FromHeld(std::move(location)));
    bson::Builder wrapped;
    BSON_APPEND_DOUBLE(wrapped.get(), "s", *distance);
    bson::AppendDocument(wrapped.get(), "d", doc.AsDocument());
    DOCKET_RETURN_IF_ERROR(sorter.Add(wrapped.Finish()));
  }
  DOCKET_RETURN_IF_ERROR((*scan)->status());
  auto sorted = sorter.Finish();
  if (!sorted.ok()) return sorted.status();
  return StagePtr(std::make_unique<GeoNearStage>(std::move(sorted).value()));
}

}  // namespace docket::aggregate
