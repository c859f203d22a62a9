// The stage families and the specs the pipeline looks into when it pushes
// work down to the collection scan. Internal to src/aggregate.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "aggregate/stage.h"
#include "bson/path.h"
#include "query/filter.h"
#include "bson/value.h"
#include "query/sort.h"

namespace docket::aggregate {

// Parses a stage's argument, appending one spec or more ($sortByCount is a
// $group and a $sort).
using StageParser = Status (*)(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out);

struct StageEntry {
  std::string_view name;
  StageParser parse;
};

std::span<const StageEntry> TransformStages();  // stages_transform.cc: $match $project $addFields $set $unset $replaceRoot $replaceWith $redact
std::span<const StageEntry> FlowStages();       // stages_flow.cc: $limit $skip $sort $count $unwind $sample $documents $facet
std::span<const StageEntry> GroupStages();      // group.cc: $group $sortByCount $bucket; bucket_auto.cc: $bucketAuto
// $bucketAuto (bucket_auto.cc).
Status ParseBucketAuto(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out);
std::span<const StageEntry> WindowStages();     // window_fields.cc: $setWindowFields $fill
std::span<const StageEntry> DensifyStages();    // densify.cc: $densify
std::span<const StageEntry> JoinStages();       // lookup.cc: $lookup $unionWith $graphLookup
std::span<const StageEntry> OutputStages();     // output.cc: $out $merge

// $match: its filter, which a leading $match hands to the collection scan.
class MatchSpec : public StageSpec {
 public:
  MatchSpec(Document filter_doc, query::Filter filter) : filter_doc_(std::move(filter_doc)), filter_(std::move(filter)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$match"; }
  const Document& filter_doc() const { return filter_doc_; }
  const query::Filter& filter() const { return filter_; }

 private:
  Document filter_doc_;
  query::Filter filter_;
};

// $sort: with the first `keep` documents wanted when a $limit follows.
//
// Documents with a text score are sorted wrapped as {d: <document>, s:
// <score>} by `wrapped_` (the keys' paths under "d", a textScore key read
// from "s"), so that the score, which the sorter's documents cannot carry,
// survives the sort (and a spill).
class SortStageSpec : public StageSpec {
 public:
  SortStageSpec(Document sort_doc, query::SortSpec spec, query::SortSpec wrapped)
      : sort_doc_(std::move(sort_doc)), spec_(std::move(spec)), wrapped_(std::move(wrapped)), can_wrap_(true) {}
  // For stages whose documents never have a text score ($sortByCount, $bucket).
  SortStageSpec(Document sort_doc, query::SortSpec spec)
      : sort_doc_(std::move(sort_doc)), spec_(std::move(spec)), wrapped_(spec_) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$sort"; }
  const Document& sort_doc() const { return sort_doc_; }
  void set_keep(size_t keep) { keep_ = keep; }

 private:
  Document sort_doc_;
  query::SortSpec spec_;
  query::SortSpec wrapped_;
  bool can_wrap_ = false;
  size_t keep_ = SIZE_MAX;
};

// $limit and $skip, which pipeline optimisation reads ($sort + $limit).
class LimitSpec : public StageSpec {
 public:
  explicit LimitSpec(int64_t n) : n_(n) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$limit"; }
  bool ReadsDocuments() const override { return false; }
  bool ForwardsDocuments() const override { return true; }
  int64_t n() const { return n_; }

 private:
  int64_t n_;
};

class SkipSpec : public StageSpec {
 public:
  explicit SkipSpec(int64_t n) : n_(n) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$skip"; }
  bool ReadsDocuments() const override { return false; }
  bool ForwardsDocuments() const override { return true; }
  int64_t n() const { return n_; }

 private:
  int64_t n_;
};

// Parses a sub-pipeline given as an array value ($lookup, $facet, $unionWith).
struct Pipeline;
Result<std::shared_ptr<const Pipeline>> ParseSubPipeline(const bson_iter_t& array, ParseContext& ctx);

// `doc` with `path` (from its component i on) set to `v`, through
// sub-documents, made as needed (a non-document on the way is replaced);
// fields keep their order, a new one goes last. ($lookup's `as`,
// $graphLookup's depthField, $geoNear's distanceField and includeLocs.)
Value SetPath(const Value& doc, const bson::Path& path, size_t i, const Value& v);

// Reads an argument document's field as a string / document. Errors: `code`.
std::string_view KeyOf(const bson_iter_t& it);

}  // namespace docket::aggregate
