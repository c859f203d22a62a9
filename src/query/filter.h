// Query filters: compiled once from a filter document, then matched against
// any number of documents, with MongoDB 6.0's semantics: $eq $ne $gt $gte $lt
// $lte $in $nin (type bracketing; null matches missing), $exists $type $mod
// $regex (PCRE2; options i m s x), $all $elemMatch $size, $not, the logical
// $and $or $nor, $comment, $bitsAllSet $bitsAnySet $bitsAllClear
// $bitsAnyClear, $jsonSchema, dotted paths, numeric components and implicit
// array traversal, and $expr (aggregation expressions, src/expr). Not
// supported, failing at compile time with BadValue (2) rather than silently:
// $where. The geospatial operators ($geoWithin, $geoIntersects, $near,
// $nearSphere; geo/geometry.h) match exactly on their own; $near's order is
// the reader's. $text (text/text_search.h) is
// parsed here and matched through the collection's text index, which the
// engine binds (BindTextIndex).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <bson/bson.h>

#include "bson/string_order.h"
#include "docket/document.h"
#include "docket/status.h"
#include "text/text_search.h"

namespace docket::query {

class FilterNode;
struct LetValues;
struct TextBinding;
struct NearBinding;
struct MatchInput;
}  // namespace docket::query

namespace docket::geo {
class NearQuery;
}  // namespace docket::geo

namespace docket::expr {
class Scope;
class Variables;
}  // namespace docket::expr

namespace docket::query {

// A collation (text::Collator) as the filter keeps it alive; null: binary.
using StringOrderPtr = std::shared_ptr<const bson::StringOrder>;

// Immutable once compiled; safe to share between threads.
class Filter {
 public:
  // `scope`, when given, is where $expr expressions find variables ($$name
  // bound by the aggregation pipeline's `let`); by default only ROOT,
  // CURRENT, NOW and REMOVE exist. `strings`: the collation every string
  // comparison uses ($eq, ranges, $in, $nin, $all, $elemMatch; not $regex);
  // $expr uses the scope's (a filter's own scope gets `strings`).
  static Result<Filter> Compile(const Document& filter, expr::Scope* scope = nullptr, StringOrderPtr strings = nullptr);
  // Compile, with the variables of a command's `let` ({cutoff: 5}: each an
  // expression of constants and of the names before it) in scope for $expr,
  // which reads them as $$cutoff. Errors: as an expression's.
  static Result<Filter> CompileWithLet(const Document& filter, const Document& let, StringOrderPtr strings = nullptr);
  Filter();  // the empty filter: matches every document
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;
  ~Filter();

  // An error evaluating $expr counts as no match here; use Evaluate to see it
  // (the engine's finds, updates and deletes do).
  bool Matches(const uint8_t* doc, size_t len) const;
  // Matches, reporting $expr evaluation errors. `vars`, when given, holds the
  // variables of a pipeline with ROOT and CURRENT already set to `doc`.
  Result<bool> Evaluate(const uint8_t* doc, size_t len, expr::Variables* vars = nullptr) const;
  bool Matches(const Document& doc) const { return Matches(doc.data(), doc.size()); }
  // As Matches; on a match *position is the index of the array element the
  // match came through (the positional `$` of updates and projections), or
  // bson::kNoPosition when no array was involved.
  bool MatchesAt(const uint8_t* doc, size_t len, size_t* position) const;
  // MatchesAt, reporting $expr evaluation errors (as Evaluate).
  Result<bool> EvaluateAt(const uint8_t* doc, size_t len, size_t* position) const;

  // When the filter requires _id to equal one value (`{_id: v, ...}` or
  // `{_id: {$eq: v}}` at the top level), returns {"": v}: the engine then reads
  // that one record instead of scanning. Never under a collation when the
  // value holds a string (other _ids may equal it).
  const std::optional<Document>& id_equality() const { return id_equality_; }

  bool matches_everything() const { return root_ == nullptr; }

  // $text (at most one; at the top level, under $and or $or; Too many
  // text expressions, or BadValue under $nor / $elemMatch, at compile
  // time): its options, null when the filter has none.
  const text::TextSearchOptions* text_search() const;
  // Binds the $text to the collection's text index: matching needs it (an
  // unbound $text fails the match with IndexNotFound, 27). Call once, after
  // Compile and before the filter is shared. Errors: an unsupported
  // $language. Does nothing without $text.
  Status BindTextIndex(std::shared_ptr<const text::TextIndexSpec> spec);
  // A matching document's {$meta: "textScore"}; 0 without a bound $text.
  double TextScore(const Document& doc) const;
  double TextScore(std::string_view doc_bytes) const;
  // $near / $nearSphere / $geoNear (at most one, at the top level or under
  // $and, never with $text; BadValue otherwise): its query and field, null
  // / empty when the filter has none. A filter with one matches documents
  // within its bounds; readers that may return them (find, count, the
  // $geoNear stage) read them nearest first (NearDistance), the others
  // refuse it (NearNotAllowed).
  const geo::NearQuery* near_query() const;
  const std::string& near_path() const;
  // The document's distance from the $near centre: the smallest over the
  // geometries at its field (none: nullopt). *location, when given, gets
  // the stored value that gave it ({"": value} bytes, bson::HoldValue).
  std::optional<double> NearDistance(std::string_view doc, std::string* location = nullptr) const;

  // Whether the filter holds an $expr (whose evaluation may want variables).
  bool has_expr() const { return has_expr_; }

 private:
  static Result<Filter> CompileIn(const Document& filter, expr::Scope* scope, std::shared_ptr<const LetValues> let,
                                  StringOrderPtr strings);
  // Runs the filter on `in`, turning an $expr evaluation error into the result.
  Result<bool> EvaluateIn(MatchInput in) const;

  std::unique_ptr<FilterNode> root_;  // null: the empty filter
  std::optional<Document> id_equality_;
  bool has_expr_ = false;
  std::shared_ptr<const LetValues> let_;  // CompileWithLet's values; the $expr nodes point here
  StringOrderPtr strings_;                // the predicates point here
  std::shared_ptr<TextBinding> text_;     // the $text node points here
  std::shared_ptr<NearBinding> near_;     // the $near node points here
};

// Location5626500: $near in a context that cannot order by distance (an
// aggregation $match, a validator, a partial index's filter).
Status NearNotAllowed();

// A condition on single array elements, as $pull and arrayFilters use them:
// an operator document ({$gte: 6}) tests the element itself; a plain document
// ({score: 8}) is, for $pull (`documents_are_filters`), a filter the element
// (a document) must match, and otherwise an equality; any other value is an
// equality (or, for a regex, a pattern match).
class ElementMatcher {
 public:
  // `strings`: the collation (null: binary); must outlive the matcher.
  static Result<ElementMatcher> Compile(const bson_iter_t& condition, bool documents_are_filters = true,
                                        const bson::StringOrder* strings = nullptr);
  ElementMatcher(ElementMatcher&&) noexcept;
  ElementMatcher& operator=(ElementMatcher&&) noexcept;
  ~ElementMatcher();

  bool Matches(const bson_iter_t& element) const;

 private:
  ElementMatcher();
  std::unique_ptr<FilterNode> node_;
  bool document_form_ = false;
};

}  // namespace docket::query
