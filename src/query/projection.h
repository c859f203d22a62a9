// Find projections, MongoDB 6.0's find() dialect: inclusion ({a: 1, "b.c": 1})
// or exclusion ({a: 0}), the _id rule (included unless excluded), dotted paths
// through embedded documents and arrays, and the operators $slice (n or
// [skip, limit]), $elemMatch (top-level fields) and the positional "a.$"
// (the element the filter matched). Computed fields ({a: {$add: ...}}) need
// the expression engine and fail with BadValue (2) "not supported yet".
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bson/path.h"
#include "docket/document.h"
#include "docket/status.h"
#include "query/filter.h"

namespace docket::query {

class Projection {
 public:
  // `query` is the find's filter, which a positional projection must refer to
  // (Location31277 otherwise). The empty spec {} projects nothing away.
  static Result<Projection> Compile(const Document& spec, const Document* query = nullptr);

  bool empty() const { return kind_ == Kind::kNone; }
  // Whether Apply needs the array position the filter matched ("a.$").
  bool needs_position() const { return positional_; }

  // `position` is Filter::MatchesAt's answer for `doc`, when needs_position().
  // Errors: Location51246 when a positional projection finds no element.
  Result<Document> Apply(const Document& doc, size_t position = bson::kNoPosition) const;
  // Apply, asking `filter` for the position when one is needed.
  Result<Document> ApplyMatched(const Document& doc, const Filter& filter) const;

  struct Node {
    enum class Op { kNone, kSlice, kElemMatch, kPositional };
    bool leaf = false;  // the whole field is included (or excluded), or Op applies
    Op op = Op::kNone;
    int64_t skip = 0;   // kSlice: with limit; negative skip counts from the end
    int64_t limit = 0;  // kSlice: n >= 0 keeps the first n, n < 0 the last -n (when !has_skip)
    bool has_skip = false;
    std::shared_ptr<const ElementMatcher> elem_match;  // kElemMatch
    std::map<std::string, Node> children;
  };

 private:
  enum class Kind { kNone, kInclude, kExclude };
  Kind kind_ = Kind::kNone;
  bool include_id_ = true;
  bool positional_ = false;
  Node root_;
  std::vector<std::string> elem_match_fields_;  // emitted after the other fields, in spec order
};

}  // namespace docket::query
