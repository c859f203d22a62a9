// $geoNear (docs/design/geospatial.md §4): the first stage of a pipeline,
// reading its collection's 2dsphere index nearest first. It is the query
// {<key>: {$near | $nearSphere: near, $minDistance, $maxDistance}} (with
// `query` beside it), whose documents get the distance (times
// distanceMultiplier) at distanceField and, with includeLocs, the stored
// geometry that gave it.
#pragma once

#include <optional>
#include <string>

#include "aggregate/stage.h"
#include "aggregate/stages.h"
#include "bson/path.h"
#include "storage/catalog.h"

namespace docket::aggregate {

class GeoNearSpec : public StageSpec {
 public:
  // Errors as MongoDB 6.0's: 5860400 (no near), 5860401, 16606
  // (distanceField), 16607 (includeLocs), TypeMismatch / BadValue for the
  // numbers, query and key, 40227 (collation), 50856-50858 (start, num,
  // limit).
  static Status Parse(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out);

  // A $geoNear is opened as its collection's source (OpenSource); here it
  // would follow another stage: Location40602.
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$geoNear"; }

  // The stage reading `entry` (null: no collection, no documents) at the
  // pipeline's snapshot. Errors: IndexNotFound (27) when `key` is not given
  // and the collection has no or several 2dsphere indexes; the $near
  // query's errors (291 without a usable index). REQUIRES: entry->lifecycle
  // held (shared) by the caller while opening.
  Result<StagePtr> OpenSource(const storage::EntryPtr& entry, const RunContext& ctx,
                              rocksdb::Transaction* user_txn) const;

  // The find filter the stage stands for on `entry`: {<key>: {$near |
  // $nearSphere: ...}}, with `query` beside it (explain shows its plan).
  // Errors: as OpenSource's key choice.
  Result<Document> QueryFor(const storage::CollectionEntry& entry) const;

 private:
  std::string near_;        // {"": near} (bson::HoldValue)
  bson::Path distance_field_;
  std::optional<bson::Path> include_locs_;
  bool spherical_ = false;
  std::optional<double> min_distance_, max_distance_;
  double distance_multiplier_ = 1;
  Document query_;
  std::string key_;         // empty: the collection's one geo index decides
};

}  // namespace docket::aggregate
