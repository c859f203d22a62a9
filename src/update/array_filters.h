// The arrayFilters of an update: one condition per identifier, deciding which
// elements `$[<identifier>]` in an update path selects.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "query/filter.h"

namespace docket::update {

class ArrayFilters {
 public:
  // Each filter's top-level fields name one identifier: {"x": {$gte: 5}} or
  // {"x.grade": {$gte: 85}, "x.mean": {$lt: 90}}. Errors: BadValue (2) for a
  // malformed identifier, FailedToParse (9) for a repeated one.
  // `strings`: the update's collation (null: binary).
  static Result<ArrayFilters> Compile(const std::vector<Document>& filters, query::StringOrderPtr strings = nullptr);

  bool Has(const std::string& identifier) const { return by_identifier_.count(identifier) != 0; }
  std::vector<std::string> Identifiers() const;
  // REQUIRES: Has(identifier).
  bool Matches(const std::string& identifier, const bson_iter_t& element) const;

 private:
  struct Condition {
    std::vector<std::shared_ptr<const query::ElementMatcher>> on_value;  // {"x": cond}
    std::shared_ptr<const query::Filter> on_fields;                      // {"x.f": cond}, may be null
  };
  std::map<std::string, Condition> by_identifier_;
  query::StringOrderPtr strings_;  // the element matchers point here
};

}  // namespace docket::update
