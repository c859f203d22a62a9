#include "update/pipeline_update.h"

#include <chrono>

#include "bson/value.h"
#include "expr/let.h"

namespace docket::update {
namespace {

Document SubDocument(const bson_iter_t& it) {
  return Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
}

}  // namespace

Result<std::shared_ptr<const PipelineUpdate>> PipelineUpdate::Compile(const std::vector<Document>& stages,
                                                                      const Document& let,
                                                                      query::StringOrderPtr strings) {
  auto out = std::make_shared<PipelineUpdate>();
  out->strings_ = strings;
  out->now_millis_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  expr::Scope scope;
  scope.set_strings(strings.get());
  DOCKET_RETURN_IF_ERROR(expr::BindLet(let, scope, out->now_millis_, &out->bindings_));
  for (const Document& stage_doc : stages) {
    bson_iter_t it;
    stage_doc.Iterate(&it);
    if (!bson_iter_next(&it)) {
      return Status(static_cast<ErrorCode>(40323), "A pipeline stage specification object must contain exactly one field.");
    }
    bson_iter_t only = it;
    if (bson_iter_next(&it)) {
      return Status(static_cast<ErrorCode>(40323), "A pipeline stage specification object must contain exactly one field.");
    }
    std::string_view name = bson_iter_key(&only);
    Stage stage;
    if (name == "$set" || name == "$addFields" || name == "$project") {
      if (bson_iter_type(&only) != BSON_TYPE_DOCUMENT) {
        return Status(static_cast<ErrorCode>(40272), std::string(name) + " specification stage must be an object");
      }
      auto p = query::Projection::Compile(SubDocument(only), nullptr,
                                          name == "$project" ? query::Projection::Dialect::kAggregate
                                                             : query::Projection::Dialect::kAddFields,
                                          &scope);
      if (!p.ok()) return p.status();
      stage.projection = std::move(p).value();
    } else if (name == "$unset") {
      std::vector<std::string> fields;
      if (bson_iter_type(&only) == BSON_TYPE_UTF8) {
        fields.emplace_back(bson_iter_utf8(&only, nullptr));
      } else if (bson_iter_type(&only) == BSON_TYPE_ARRAY) {
        bson_iter_t f;
        bson_iter_recurse(&only, &f);
        while (bson_iter_next(&f)) {
          if (bson_iter_type(&f) != BSON_TYPE_UTF8) {
            return Status(static_cast<ErrorCode>(31120), "$unset specification must be a string or an array containing only string values");
          }
          fields.emplace_back(bson_iter_utf8(&f, nullptr));
        }
      } else {
        return Status(static_cast<ErrorCode>(31002), "$unset specification must be a string or an array");
      }
      for (const std::string& f : fields) DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(f));
      auto p = query::Projection::Exclusion(fields);
      if (!p.ok()) return p.status();
      stage.projection = std::move(p).value();
    } else if (name == "$replaceWith" || name == "$replaceRoot") {
      bson_iter_t root = only;
      if (name == "$replaceRoot") {
        bson_iter_t f;
        if (bson_iter_type(&only) != BSON_TYPE_DOCUMENT || !bson_iter_recurse(&only, &f) || !bson_iter_find(&f, "newRoot")) {
          return Status(static_cast<ErrorCode>(40231), "no newRoot specified for the $replaceRoot stage");
        }
        root = f;
      }
      auto e = expr::Parse(root, scope);
      if (!e.ok()) return e.status();
      stage.new_root = std::move(e).value();
    } else {
      return Status(ErrorCode::kInvalidOptions, std::string(name) + " is not allowed to be used within an update");
    }
    out->stages_.push_back(std::move(stage));
  }
  return std::shared_ptr<const PipelineUpdate>(std::move(out));
}

Result<Document> PipelineUpdate::Apply(const Document& doc) const {
  expr::Variables vars;
  vars.SetNow(now_millis_);
  for (const auto& [slot, value] : bindings_) vars.Set(slot, value);
  expr::Value current = expr::Value::FromDocument(doc);
  for (const Stage& stage : stages_) {
    vars.SetRoot(current);
    if (stage.projection) {
      auto next = stage.projection->ApplyToValue(current, vars);
      if (!next.ok()) return next.status();
      current = std::move(next).value();
      continue;
    }
    auto next = stage.new_root->Evaluate(vars);
    if (!next.ok()) return next.status();
    if (!next->is_document()) {
      return Status(static_cast<ErrorCode>(40228), "'newRoot' expression must evaluate to an object, but resulting value was: " +
                                                       next->ToJson() + ". Type of resulting value: '" +
                                                       expr::TypeName(*next) + "'.");
    }
    current = next->Owned();
  }
  return current.AsDocument();
}

}  // namespace docket::update
