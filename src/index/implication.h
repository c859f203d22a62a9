// Whether a query filter implies a partial index's filter expression: the
// proof the planner needs before it reads a partial index, which holds only
// the documents that match that expression.
#pragma once

#include "docket/document.h"

namespace docket::index {

// True when every document matching `filter` matches `partial` (a
// partialFilterExpression). Conservative: false whenever it cannot tell.
// Each conjunct of `partial` (its top-level fields and $and elements) must
// follow from one conjunct of `filter` on the same path (the filter's top
// level and $and; whatever else the filter says is not used):
//   {f: v}, {f: {$eq: v}}     from f equal to v
//   {f: {$gt|$gte: b}}        from f equal to, or bounded below by, a value
//                             of b's type bracket that satisfies the bound
//   {f: {$lt|$lte: b}}        likewise from above
//   {f: {$exists: true}}      from a conjunct on f that no missing field
//                             satisfies ($exists: true, $type, $eq and ranges
//                             of ordinary values)
//   {f: {$type: t}}           from the same $type
// Null, undefined, NaN, MinKey, MaxKey, array and regex operands follow only
// from the identical conjunct. Anything else in `partial` ($or, $in, $not,
// other operators): false. Implication per conjunct is sound on arrays too:
// the element that satisfies the filter's conjunct satisfies the partial's.
bool FilterImplies(const Document& filter, const Document& partial);

}  // namespace docket::index
