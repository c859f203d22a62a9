// $group's accumulators: $sum $avg $min $max $first $last $push $addToSet
// $count $mergeObjects $stdDevPop $stdDevSamp, and the N forms of 5.2+:
// $firstN $lastN $minN $maxN $top $bottom $topN $bottomN. Each keeps its
// state per group, and can write that state out as one value and merge it
// back (Partial/Merge), so that a $group past its memory budget spills whole
// groups and combines them later.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "docket/status.h"
#include "expr/expression.h"
#include "expr/value.h"

namespace docket::aggregate {

using expr::Value;

// One group's state. Not thread-safe.
class Accumulator {
 public:
  virtual ~Accumulator() = default;
  // `v` is the accumulator's argument evaluated for one input document;
  // `root` is that document ($top/$bottom sort by its fields).
  virtual Status Add(const Value& v, const Value& root) = 0;
  virtual Result<Value> Finish() const = 0;
  virtual Value Partial() const = 0;
  // Folds in a Partial() of the same accumulator, taken over later inputs.
  virtual Status Merge(const Value& partial) = 0;
  // Approximate bytes held, for the $group budget.
  virtual size_t bytes() const = 0;
};

// A parsed {$op: argument}. Immutable; Make() starts a group's state.
class AccumulatorSpec {
 public:
  virtual ~AccumulatorSpec() = default;
  // Errors: Location15952 for an unknown operator; the operator's own codes.
  static Result<std::unique_ptr<const AccumulatorSpec>> Parse(std::string_view op, const bson_iter_t& arg,
                                                              expr::Scope& scope);
  // A new group's state. `group_id` is the group's _id and `vars` the
  // pipeline's variables: the `n` of an N accumulator may be an expression
  // of the _id ({$cond: [{$eq: ["$_id", "a"]}, 1, 2]}), evaluated here.
  // Errors: that `n` is not a positive integer (5787902, 5787908).
  virtual Result<std::unique_ptr<Accumulator>> Make(const Value& group_id, const expr::Variables& vars) const = 0;
  // What Add receives as `v` for each input.
  const expr::Expression& argument() const { return *argument_; }
  // Whether the accumulator looks at its inputs beyond counting them.
  virtual bool ReadsInput() const { return !argument_->IsConstant(); }

 protected:
  expr::ExprPtr argument_;
};

// One output field of $group, $bucket or $bucketAuto: {name: {$op: arg}}.
struct AccumulatorField {
  std::string name;
  std::unique_ptr<const AccumulatorSpec> spec;
};

// Parses the accumulator fields of $group (skipping its _id when `skip_id`)
// and of $bucket's and $bucketAuto's `output`. Errors: Location40234-40238
// for a malformed field, the accumulators' own codes.
Status ParseAccumulatorFields(const bson_iter_t& fields, bool skip_id, expr::Scope& scope,
                              std::vector<AccumulatorField>* out);

}  // namespace docket::aggregate
