// Update specifications: operator updates ({$set: ..., $inc: ...}) or a
// replacement document, compiled once and applied to any number of documents.
// Operators: $set $unset $inc $mul $min $max $rename $currentDate $bit
// $setOnInsert $push (with $each $position $sort $slice) $addToSet (with
// $each) $pop $pull $pullAll; paths may hold the positional `$` (the element
// the filter matched), `$[]` (every element) and `$[<id>]` (elements the
// arrayFilters select). Or a pipeline of $set/$addFields, $unset, $project,
// $replaceRoot/$replaceWith stages (update/pipeline_update.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bson/path.h"
#include "docket/document.h"
#include "docket/status.h"
#include "update/array_filters.h"
#include "update/operators.h"
#include "update/pipeline_update.h"

namespace docket::update {

class Update {
 public:
  enum class Mode { kAny, kReplacementOnly, kOperatorsOnly };
  // `strings`: the operation's collation (null: binary), for $min, $max,
  // $addToSet, $pull, $pullAll, $push's $sort and the arrayFilters.
  static Result<Update> Compile(const Document& spec, Mode mode = Mode::kAny,
                                const std::vector<Document>& array_filters = {},
                                query::StringOrderPtr strings = nullptr);
  // Errors: FailedToParse when array_filters is not empty; the stages' codes.
  static Result<Update> CompilePipeline(const std::vector<Document>& stages, const Document& let,
                                        const std::vector<Document>& array_filters = {},
                                        query::StringOrderPtr strings = nullptr);

  bool is_replacement() const { return is_replacement_; }

  // Applies the update to `doc` (the stored version, or the seed of an upsert
  // when `is_insert`). `matched_position` is the array index the filter
  // matched through (query::Filter::MatchesAt), for the positional `$`. Sets
  // *changed when the bytes differ. Enforces that _id does not change
  // (ImmutableField 66) unless `is_insert`.
  Result<Document> Apply(const Document& doc, bool is_insert, size_t matched_position, bool* changed) const;
  Result<Document> Apply(const Document& doc, bool is_insert, bool* changed) const {
    return Apply(doc, is_insert, bson::kNoPosition, changed);
  }

 private:
  Result<Document> ApplyReplacement(const Document& doc, bool is_insert) const;
  Result<Document> ApplyPipeline(const Document& doc, bool is_insert) const;
  Result<Document> ApplyOperators(const Document& doc, bool is_insert, size_t matched_position) const;

  bool is_replacement_ = false;
  Document replacement_;
  std::vector<Op> ops_;  // sorted by path, so new fields appear in MongoDB's order
  bool positional_ = false;  // some path holds $, $[] or $[<id>]
  std::shared_ptr<const ArrayFilters> array_filters_;
  std::shared_ptr<const PipelineUpdate> pipeline_;  // set for pipeline updates
  query::StringOrderPtr strings_;  // the ops point here
};

// The document an upsert starts from: the filter's equality conditions
// (`{a: 1}`, `{a: {$eq: 1}}`, inside $and too), with dotted paths expanded.
Result<Document> SeedFromFilter(const Document& filter);

}  // namespace docket::update
