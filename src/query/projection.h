// Find projections: inclusion ({a: 1, "b.c": 1}) or exclusion ({a: 0}), with
// MongoDB's _id rule (included unless excluded) and dotted paths that reach
// into embedded documents and arrays of documents. Projection operators
// ($slice, $elemMatch, positional $) and computed fields are not supported in
// this version: they fail with BadValue instead of being ignored.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::query {

class Projection {
 public:
  // The empty spec {} projects nothing away.
  static Result<Projection> Compile(const Document& spec);

  bool empty() const { return kind_ == Kind::kNone; }
  Document Apply(const Document& doc) const;

  struct Node {
    bool leaf = false;  // the whole field is included (or excluded)
    std::map<std::string, Node> children;
  };

 private:
  enum class Kind { kNone, kInclude, kExclude };
  Kind kind_ = Kind::kNone;
  bool include_id_ = true;
  Node root_;
};

}  // namespace docket::query
