// Stages that look at or reshape one document at a time: $match, $project,
// $addFields / $set, $unset, $replaceRoot / $replaceWith, $redact.
#include "aggregate/stages.h"
#include "query/projection.h"

namespace docket::aggregate {
namespace {

Document SubDocument(const bson_iter_t& it) { return Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it))); }

// ---- $match ----

class MatchStage : public Stage {
 public:
  MatchStage(StagePtr input, const query::Filter& filter, expr::Variables vars)
      : input_(std::move(input)), filter_(filter), vars_(std::move(vars)) {}
  Result<Value> Next() override {
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok() || doc->missing()) return doc;
      vars_.SetRoot(*doc);
      std::string_view bytes = doc->ContainerBytes();
      auto match = filter_.Evaluate(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &vars_);
      if (!match.ok()) return match.status();
      if (*match) return doc;
    }
  }

 private:
  StagePtr input_;
  const query::Filter& filter_;  // the spec outlives the stage
  expr::Variables vars_;
};

Status ParseMatch(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(15959, "the match filter must be an expression in an object");
  }
  Document doc = SubDocument(arg);
  auto filter = query::Filter::Compile(doc, ctx.scope, ctx.collation);
  if (!filter.ok()) return filter.status();
  if (filter->near_query() != nullptr) return query::NearNotAllowed();  // the $geoNear stage orders by distance
  out->push_back(std::make_shared<MatchSpec>(std::move(doc), std::move(filter).value()));
  return Status::OK();
}

// ---- $project, $addFields, $set, $unset ----

class ProjectStage : public Stage {
 public:
  ProjectStage(StagePtr input, const query::Projection& projection, expr::Variables vars)
      : input_(std::move(input)), projection_(projection), vars_(std::move(vars)) {}
  Result<Value> Next() override {
    auto doc = input_->Next();
    if (!doc.ok() || doc->missing()) return doc;
    vars_.SetRoot(*doc);
    auto projected = projection_.ApplyToValue(*doc, vars_);
    if (!projected.ok()) return projected;
    return projected->WithMetadataOf(*doc);
  }

 private:
  StagePtr input_;
  const query::Projection& projection_;
  expr::Variables vars_;
};

class ProjectSpec : public StageSpec {
 public:
  ProjectSpec(const char* name, query::Projection projection) : name_(name), projection_(std::move(projection)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<ProjectStage>(std::move(input), projection_, ctx.MakeVariables()));
  }
  const char* name() const override { return name_; }

 private:
  const char* name_;
  query::Projection projection_;
};

Status ParseProject(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) return StageError(15969, "$project specification must be an object");
  auto projection = query::Projection::Compile(SubDocument(arg), nullptr, query::Projection::Dialect::kAggregate, ctx.scope);
  if (!projection.ok()) return projection.status();
  out->push_back(std::make_shared<ProjectSpec>("$project", std::move(projection).value()));
  return Status::OK();
}

Status ParseAddFields(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(40272, std::string(KeyOf(arg)) + " specification stage must be an object, got " +
                                 TypeName(Value::Borrow(arg)));
  }
  auto projection = query::Projection::Compile(SubDocument(arg), nullptr, query::Projection::Dialect::kAddFields, ctx.scope);
  if (!projection.ok()) return projection.status();
  out->push_back(std::make_shared<ProjectSpec>(KeyOf(arg) == "$set" ? "$set" : "$addFields", std::move(projection).value()));
  return Status::OK();
}

Status ParseUnset(const bson_iter_t& arg, ParseContext&, std::vector<SpecPtr>* out) {
  std::vector<std::string> fields;
  if (bson_iter_type(&arg) == BSON_TYPE_UTF8) {
    fields.emplace_back(bson_iter_utf8(&arg, nullptr));
  } else if (bson_iter_type(&arg) == BSON_TYPE_ARRAY) {
    bson_iter_t child;
    bson_iter_recurse(&arg, &child);
    while (bson_iter_next(&child)) {
      if (bson_iter_type(&child) != BSON_TYPE_UTF8) {
        return StageError(31120, "$unset specification must be a string or an array containing only string values");
      }
      fields.emplace_back(bson_iter_utf8(&child, nullptr));
    }
    if (fields.empty()) return StageError(31119, "$unset specification must be a string or an array with at least one field");
  } else {
    return StageError(31002, "$unset specification must be a string or an array");
  }
  for (const std::string& f : fields) DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(f));
  auto projection = query::Projection::Exclusion(fields);
  if (!projection.ok()) return projection.status();
  out->push_back(std::make_shared<ProjectSpec>("$unset", std::move(projection).value()));
  return Status::OK();
}

// ---- $replaceRoot, $replaceWith ----

class ReplaceRootStage : public Stage {
 public:
  ReplaceRootStage(StagePtr input, const expr::Expression& root, expr::Variables vars)
      : input_(std::move(input)), root_(root), vars_(std::move(vars)) {}
  Result<Value> Next() override {
    auto doc = input_->Next();
    if (!doc.ok() || doc->missing()) return doc;
    vars_.SetRoot(*doc);
    auto v = root_.Evaluate(vars_);
    if (!v.ok()) return v.status();
    if (!v->is_document()) {
      return StageError(40228, "'newRoot' expression must evaluate to an object, but resulting value was: " +
                                   v->ToJson() + ". Type of resulting value: '" + TypeName(*v) +
                                   "'. Input document: " + doc->ToJson());
    }
    return v->Owned().WithMetadataOf(*doc);
  }

 private:
  StagePtr input_;
  const expr::Expression& root_;
  expr::Variables vars_;
};

class ReplaceRootSpec : public StageSpec {
 public:
  ReplaceRootSpec(const char* name, expr::ExprPtr root) : name_(name), root_(std::move(root)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<ReplaceRootStage>(std::move(input), *root_, ctx.MakeVariables()));
  }
  const char* name() const override { return name_; }

 private:
  const char* name_;
  expr::ExprPtr root_;
};

Status ParseReplaceRoot(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(40229, "expected an object as specification for $replaceRoot stage, got " + std::string(TypeName(Value::Borrow(arg))));
  }
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  std::optional<expr::ExprPtr> root;
  while (bson_iter_next(&field)) {
    if (KeyOf(field) != "newRoot") {
      return StageError(40415, "BSON field '$replaceRoot." + std::string(KeyOf(field)) + "' is an unknown field.");
    }
    auto e = expr::Parse(field, *ctx.scope);
    if (!e.ok()) return e.status();
    root = std::move(e).value();
  }
  if (!root) return StageError(40231, "no newRoot specified for the $replaceRoot stage");
  out->push_back(std::make_shared<ReplaceRootSpec>("$replaceRoot", std::move(*root)));
  return Status::OK();
}

Status ParseReplaceWith(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  auto e = expr::Parse(arg, *ctx.scope);
  if (!e.ok()) return e.status();
  out->push_back(std::make_shared<ReplaceRootSpec>("$replaceWith", std::move(e).value()));
  return Status::OK();
}

// ---- $redact ----

// The decisions $redact's expression returns, as the values of $$DESCEND,
// $$PRUNE and $$KEEP.
constexpr std::string_view kDescend = "descend", kPrune = "prune", kKeep = "keep";

class RedactSpec;

class RedactStage : public Stage {
 public:
  RedactStage(StagePtr input, const expr::Expression& e, expr::Variables vars)
      : input_(std::move(input)), expr_(e), vars_(std::move(vars)) {}
  Result<Value> Next() override {
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok() || doc->missing()) return doc;
      vars_.SetRoot(*doc);
      auto kept = Redact(*doc);
      if (!kept.ok()) return kept.status();
      if (!kept->missing()) return kept->WithMetadataOf(*doc);
    }
  }

 private:
  // The document after redaction, or missing when pruned.
  Result<Value> Redact(const Value& doc) {
    vars_.SetCurrent(doc);
    auto decision = expr_.Evaluate(vars_);
    if (!decision.ok()) return decision.status();
    std::string_view d = decision->is_string() ? decision->AsString() : std::string_view();
    if (d == kPrune) return Value();
    if (d == kKeep) return doc;
    if (d != kDescend) {
      return StageError(17053, "$redact's expression should not return anything aside from the variables $$KEEP, "
                               "$$DESCEND, and $$PRUNE, but returned " + decision->ToJson());
    }
    expr::DocumentBuilder out;
    Status error;
    expr::ForEachElement(doc, [&](const Value& field) {
      bson_iter_t it;
      field.Iter(&it);
      std::string_view key = KeyOf(it);
      auto r = RedactValue(field);
      if (!r.ok()) {
        error = r.status();
        return false;
      }
      out.Append(key, *r);
      return true;
    });
    if (!error.ok()) return error;
    return out.Finish();
  }

  // Sub-documents are redacted on their own; arrays keep their scalars and
  // redact their documents.
  Result<Value> RedactValue(const Value& v) {
    if (v.is_document()) return Redact(v);
    if (!v.is_array()) return v;
    expr::ArrayBuilder out;
    Status error;
    expr::ForEachElement(v, [&](const Value& element) {
      auto r = RedactValue(element);
      if (!r.ok()) {
        error = r.status();
        return false;
      }
      if (!r->missing()) out.Append(*r);
      return true;
    });
    if (!error.ok()) return error;
    return out.Finish();
  }

  StagePtr input_;
  const expr::Expression& expr_;
  expr::Variables vars_;
};

class RedactSpec : public StageSpec {
 public:
  RedactSpec(expr::ExprPtr e, int descend, int prune, int keep)
      : expr_(std::move(e)), descend_(descend), prune_(prune), keep_(keep) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    expr::Variables vars = ctx.MakeVariables();
    vars.Set(descend_, Value::String(kDescend));
    vars.Set(prune_, Value::String(kPrune));
    vars.Set(keep_, Value::String(kKeep));
    return StagePtr(std::make_unique<RedactStage>(std::move(input), *expr_, std::move(vars)));
  }
  const char* name() const override { return "$redact"; }

 private:
  expr::ExprPtr expr_;
  int descend_, prune_, keep_;
};

Status ParseRedact(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  int descend = ctx.scope->DefineSystem("DESCEND");
  int prune = ctx.scope->DefineSystem("PRUNE");
  int keep = ctx.scope->DefineSystem("KEEP");
  auto e = expr::Parse(arg, *ctx.scope);
  ctx.scope->Pop(3);
  if (!e.ok()) return e.status();
  out->push_back(std::make_shared<RedactSpec>(std::move(e).value(), descend, prune, keep));
  return Status::OK();
}

constexpr StageEntry kStages[] = {
    {"$match", ParseMatch},          {"$project", ParseProject},         {"$addFields", ParseAddFields},
    {"$set", ParseAddFields},        {"$unset", ParseUnset},             {"$replaceRoot", ParseReplaceRoot},
    {"$replaceWith", ParseReplaceWith}, {"$redact", ParseRedact},
};

}  // namespace

Result<StagePtr> MatchSpec::Open(StagePtr input, const RunContext& ctx) const {
  return StagePtr(std::make_unique<MatchStage>(std::move(input), filter_, ctx.MakeVariables()));
}

std::span<const StageEntry> TransformStages() { return kStages; }

}  // namespace docket::aggregate
