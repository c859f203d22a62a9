// Updates given as an aggregation pipeline (MongoDB 4.2+): a list of $set /
// $addFields, $unset, $project, $replaceRoot / $replaceWith stages applied to
// the stored document in order, with $$NOW, $$ROOT and the update's `let`
// variables. Other stages fail with InvalidOptions (72). Internal to
// src/update; Update holds one.
#pragma once

#include <memory>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "expr/expression.h"
#include "query/projection.h"

namespace docket::update {

class PipelineUpdate {
 public:
  // `let`: {name: <expression of constants>}, evaluated once here.
  // `strings`: the update's collation for the stages' expressions (null:
  // binary); kept alive by the result.
  static Result<std::shared_ptr<const PipelineUpdate>> Compile(const std::vector<Document>& stages,
                                                               const Document& let,
                                                               query::StringOrderPtr strings = nullptr);
  Result<Document> Apply(const Document& doc) const;

 private:
  struct Stage {
    std::optional<query::Projection> projection;  // $set/$addFields, $unset, $project
    expr::ExprPtr new_root;                       // $replaceRoot / $replaceWith
  };
  std::vector<Stage> stages_;
  std::vector<std::pair<int, expr::Value>> bindings_;
  int64_t now_millis_ = 0;
  query::StringOrderPtr strings_;  // the expressions point here
};

}  // namespace docket::update
