// Projections in MongoDB 6.0's three dialects:
//
//   kFind       find()'s projection: inclusion ({a: 1, "b.c": 1}) or exclusion
//               ({a: 0}), the _id rule, the operators $slice (n or [skip,
//               limit]), $elemMatch and the positional "a.$", and computed
//               fields ({total: {$add: ["$a", "$b"]}}, "$path", literals).
//   kAggregate  the $project stage: as kFind without the find operators
//               ({a: {$slice: ...}} is then the $slice expression).
//   kAddFields  the $addFields / $set stage: every leaf is an expression;
//               fields are replaced in place or appended.
//
// Dotted paths and sub-documents ({a: {b: 1}}) reach through embedded
// documents and arrays. In an inclusion, included fields keep the input
// document's order and computed fields follow in the specification's order,
// as in MongoDB; a computed field reached through a scalar replaces it with a
// document, through an array applies to every element.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bson/path.h"
#include "docket/document.h"
#include "docket/status.h"
#include "query/filter.h"

namespace docket::expr {
class Expression;
class Scope;
class Value;
class Variables;
}  // namespace docket::expr

namespace docket::query {

class Projection {
 public:
  enum class Dialect { kFind, kAggregate, kAddFields };

  // `query` is the find's filter, which a positional projection must refer to
  // (Location31277 otherwise). `scope` is where expressions find variables
  // (the pipeline's `let`). The empty spec {} projects nothing away in find;
  // $project needs at least one field (Location51272).
  static Result<Projection> Compile(const Document& spec, const Document* query = nullptr,
                                    Dialect dialect = Dialect::kFind, expr::Scope* scope = nullptr);
  // The exclusion of `fields` ($unset).
  static Result<Projection> Exclusion(const std::vector<std::string>& fields);

  // The metadata a find projection may set ({name: {$meta: kind}}).
  enum class Meta { kTextScore, kGeoNearDistance, kGeoNearPoint };

  bool empty() const { return kind_ == Kind::kNone && meta_fields_.empty(); }
  // Whether the projection sets {$meta: "textScore"} fields (find only; the
  // query must then have $text: Location40218 otherwise, the caller's check).
  bool needs_text_score() const { return NeedsMeta(Meta::kTextScore); }
  // Whether it sets "geoNearDistance" / "geoNearPoint" fields (the query
  // must then have $near: the caller's check).
  bool needs_geo_near() const { return NeedsMeta(Meta::kGeoNearDistance) || NeedsMeta(Meta::kGeoNearPoint); }
  // Whether Apply needs the array position the filter matched ("a.$").
  bool needs_position() const { return positional_; }
  bool has_expressions() const { return root_.has_computed; }

  // `position` is Filter::MatchesAt's answer for `doc`, when needs_position().
  // Errors: Location51246 when a positional projection finds no element;
  // expression errors.
  Result<Document> Apply(const Document& doc, size_t position = bson::kNoPosition) const;
  // Apply, asking `filter` for the position when one is needed, for the
  // text score when needs_text_score(), and for the $near distance and
  // location when needs_geo_near().
  Result<Document> ApplyMatched(const Document& doc, const Filter& filter) const;
  // For pipelines: `doc` is a document value and `vars` has ROOT and CURRENT
  // set to it (and the pipeline's variables).
  Result<expr::Value> ApplyToValue(const expr::Value& doc, expr::Variables& vars) const;

  struct Node {
    enum class Op { kNone, kSlice, kElemMatch, kPositional, kComputed };
    bool leaf = false;  // the whole field is included (or excluded), or Op applies
    Op op = Op::kNone;
    int64_t skip = 0;   // kSlice: with limit; negative skip counts from the end
    int64_t limit = 0;  // kSlice: n >= 0 keeps the first n, n < 0 the last -n (when !has_skip)
    bool has_skip = false;
    std::shared_ptr<const ElementMatcher> elem_match;  // kElemMatch
    std::shared_ptr<const expr::Expression> expr;      // kComputed
    bool has_computed = false;                         // this subtree holds a computed field
    std::map<std::string, Node> children;
    std::vector<std::string> order;                    // children names, in specification order
  };

 private:
  enum class Kind { kNone, kInclude, kExclude, kAddFields };
  bool NeedsMeta(Meta kind) const {
    for (const auto& field : meta_fields_) {
      if (field.second == kind) return true;
    }
    return false;
  }
  Document SetMetadata(const Document& doc, const Document& source, const Filter& filter) const;
  Status ApplyInto(bson_t* out, const uint8_t* data, size_t len, size_t position, expr::Variables* vars) const;

  Kind kind_ = Kind::kNone;
  bool include_id_ = true;
  bool positional_ = false;
  Node root_;
  std::vector<std::string> elem_match_fields_;  // emitted after the other fields, in spec order
  std::vector<std::pair<std::string, Meta>> meta_fields_;  // top-level fields set to metadata, in spec order
};

}  // namespace docket::query
