// Query planning: which index (if any) answers a filter, and which ranges of
// its keys to read. The plan only narrows the candidates: a document fetched
// is still matched against the whole filter, so a plan may read more than it
// must but never less; except that a plan marked `exact` reads only matches.
//
// Used: equality ($eq or a plain value), $in, and one-sided ranges ($gt $gte
// $lt $lte, within the operand's type bracket) on a prefix of an index's
// fields, from the top level of the filter or its $and; and an index whose
// field order matches the sort (after fields fixed by equality). A sparse
// index only when the filter bounds one of its fields (then no match lacks
// them all), never for a sort alone. A partial index only when the filter
// implies its expression (index/implication.h), so that no match is left
// out. Not used: null/array/regex operands and $or. On a multikey index the two sides of a range
// are not intersected (an array may match $gt and $lt through different
// elements): the side the scan starts from bounds it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "docket/document.h"
#include "index/index.h"

namespace docket::index {

// [start, end) over index keys without the storage prefix.
struct KeyRange {
  std::string start;
  std::string end;
};

struct Plan {
  std::shared_ptr<const Index> index;  // null: scan the collection
  std::vector<KeyRange> ranges;        // ascending and disjoint
  // Non-empty when the index is unique and the filter fixes every one of its
  // fields ($eq, or $in of scalars): the whole keys to look up, ascending and
  // distinct. Each matches at most one entry (a unique index stores its key
  // without the record id), so a reader may Get them instead of seeking the
  // ranges; `ranges` covers the same keys.
  std::vector<std::string> point_keys;
  // Every document the ranges point at matches the filter, so a reader need
  // not match it again (MongoDB's exact bounds). Set only when the filter
  // does nothing but fix index fields to numbers, strings, booleans, dates
  // or ObjectIds ({f: v}, {f: {$eq: v}}, {f: {$in: [...]}}, each field once,
  // every one bound by the plan) and the index is not multikey (no document
  // in a snapshot taken before planning has an array on its paths) and has
  // no numeric path component: then a document's key for each field is its
  // one value there (or null), and two such values are equal exactly when
  // their key encodings are, which are prefix-free.
  bool exact = false;
  bool reverse = false;                // read the ranges backwards
  bool provides_sort = false;          // the scan order is the requested sort
  Document bounds;                     // MongoDB-style indexBounds, for explain (when asked)
};

// The smallest key greater than every key that starts with `prefix`: the
// end of the range of keys continuing it.
std::string PrefixSuccessor(std::string prefix);

// `sort` may be empty. Deterministic: the same inputs give the same plan.
// `describe` fills Plan::bounds (explain only: rendering them costs more than
// planning). `forced`: a hint named the only index in `indexes`; it is used
// whatever the filter (a sparse one too, as MongoDB does; the caller checks
// a partial one), over its whole range if nothing bounds it.
// `collation`: the query's (null: simple). An index of that collation is
// planned as any other, on the filter's operands turned into its keys
// (CollationKeyedFilter). One of another collation stores strings in
// another order: it may bound the read only when no operand on its fields
// holds a string, never gives the sort, and a partial one is not used.
Plan ChoosePlan(const Document& filter, const Document& sort, const std::vector<std::shared_ptr<const Index>>& indexes,
                bool describe = false, bool forced = false, const text::Collator* collation = nullptr);

// The filter as ChoosePlan must see it to plan on indexes of collation
// `strings`: the operands it reads bounds from ({f: v}, $eq, $in, $gt, $gte,
// $lt, $lte, at the top level and in $and) replaced by their comparison keys
// (bson::ComparisonKey), which are what such an index stores. Everything
// else is unchanged; the result is for planning only, never for matching.
Document CollationKeyedFilter(const Document& filter, const bson::StringOrder* strings);

}  // namespace docket::index
