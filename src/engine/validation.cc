#include "engine/validation.h"

#include <vector>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/path.h"
#include "bson/type_names.h"
#include "bson/value.h"
#include "engine/namespace.h"
#include "engine/views.h"
#include "query/filter.h"
#include "query/json_schema.h"

namespace docket::engine {

namespace {

// One top-level clause of a validator ({a: {$gt: 5}}, {$jsonSchema: ...},
// {$or: [...]}) compiled alone, to say which clauses a document fails.
struct Clause {
  Document spec;  // the one-field document
  query::Filter filter;
  std::shared_ptr<const query::JsonSchema> schema;  // for $jsonSchema
  std::vector<Clause> children;                     // for $and / $or / $nor
};

struct CompiledValidator : storage::ValidatorAttachment {
  storage::ValidationRules rules;
  query::Filter filter;
  std::vector<Clause> clauses;
};

Result<std::vector<Clause>> CompileClauses(const Document& filter, int depth);

Result<Clause> CompileClause(const bson_iter_t& it, int depth) {
  Clause clause;
  bson::Builder one;
  bson::AppendElement(one.get(), bson_iter_key(&it), -1, &it);
  clause.spec = one.Finish();
  auto filter = query::Filter::Compile(clause.spec);
  if (!filter.ok()) return filter.status();
  clause.filter = std::move(filter).value();
  const std::string_view key = bson_iter_key(&it);
  if (key == "$jsonSchema") {
    auto schema = query::JsonSchema::Compile(it);
    if (!schema.ok()) return schema.status();
    clause.schema = std::move(schema).value();
  } else if ((key == "$and" || key == "$or" || key == "$nor") && BSON_ITER_HOLDS_ARRAY(&it) && depth < 20) {
    bson_iter_t item;
    bson_iter_recurse(&it, &item);
    while (bson_iter_next(&item)) {
      if (!BSON_ITER_HOLDS_DOCUMENT(&item)) continue;
      auto children = CompileClauses(Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(item))), depth + 1);
      if (!children.ok()) return children.status();
      // Each element of the list is one clause: an implicit $and of its fields.
      Clause element;
      element.spec = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(item)));
      auto element_filter = query::Filter::Compile(element.spec);
      if (!element_filter.ok()) return element_filter.status();
      element.filter = std::move(element_filter).value();
      element.children = std::move(children).value();
      clause.children.push_back(std::move(element));
    }
  }
  return clause;
}

Result<std::vector<Clause>> CompileClauses(const Document& filter, int depth) {
  std::vector<Clause> out;
  bson_iter_t it;
  filter.Iterate(&it);
  while (bson_iter_next(&it)) {
    auto clause = CompileClause(it, depth);
    if (!clause.ok()) return clause.status();
    out.push_back(std::move(clause).value());
  }
  return out;
}

// The value at the clause's path in `doc`, when the path is a plain field
// path reaching one value.
void AppendConsidered(bson_t* out, const Document& doc, std::string_view path) {
  bson_iter_t it, found;
  doc.Iterate(&it);
  if (bson_iter_find_descendant(&it, std::string(path).c_str(), &found)) {
    bson::AppendElement(out, "consideredValue", -1, &found);
  }
}

const char* ReasonFor(std::string_view op) {
  if (op == "$eq" || op == "$ne" || op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") return "comparison failed";
  if (op == "$type") return "type did not match";
  if (op == "$in") return "no matching value found in array";
  if (op == "$nin") return "matching value found in array";
  if (op == "$exists") return "path does not exist";
  if (op == "$regex") return "regular expression did not match";
  if (op == "$size") return "array length was not equal to given size";
  if (op == "$all") return "array did not contain all specified values";
  if (op == "$elemMatch") return "array did not satisfy the child predicate";
  if (op == "$mod") return "$mod did not evaluate to expected remainder";
  return "expression did not match";
}

void ExplainClause(const Clause& clause, const Document& doc, bson_t* out);

// {operatorName: "$and"|..., clausesNotSatisfied: [{index, details}]}.
void ExplainList(const char* op, const std::vector<Clause>& clauses, const Document& doc, bson_t* out, bool failing) {
  BSON_APPEND_UTF8(out, "operatorName", op);
  bson_t list;
  BSON_APPEND_ARRAY_BEGIN(out, failing ? "clausesNotSatisfied" : "clausesSatisfied", &list);
  int n = 0;
  for (size_t i = 0; i < clauses.size(); ++i) {
    if (clauses[i].filter.Matches(doc) == failing) continue;
    bson_t one, details;
    const std::string key = std::to_string(n++);
    bson_append_document_begin(&list, key.c_str(), -1, &one);
    BSON_APPEND_INT32(&one, "index", static_cast<int32_t>(i));
    if (failing) {
      BSON_APPEND_DOCUMENT_BEGIN(&one, "details", &details);
      const Clause& c = clauses[i];
      if (c.children.size() == 1) {
        ExplainClause(c.children[0], doc, &details);
      } else if (!c.children.empty()) {
        ExplainList("$and", c.children, doc, &details, true);
      } else {
        ExplainClause(c, doc, &details);
      }
      bson_append_document_end(&one, &details);
    }
    bson_append_document_end(&list, &one);
  }
  bson_append_array_end(out, &list);
}

void ExplainClause(const Clause& clause, const Document& doc, bson_t* out) {
  bson_iter_t it;
  clause.spec.Iterate(&it);
  if (!bson_iter_next(&it)) return;
  const std::string key = bson_iter_key(&it);
  if (clause.schema) {
    clause.schema->Explain(doc.data(), doc.size(), out);
    return;
  }
  if (key == "$and" || key == "$or") {
    ExplainList(key.c_str(), clause.children, doc, out, true);
    return;
  }
  if (key == "$nor") {
    ExplainList("$nor", clause.children, doc, out, false);
    return;
  }
  if (key == "$expr") {
    BSON_APPEND_UTF8(out, "operatorName", "$expr");
    bson::AppendElement(out, "specifiedAs", -1, &it);  // the expression itself
    BSON_APPEND_UTF8(out, "reason", "expression did not match");
    BSON_APPEND_BOOL(out, "expressionResult", false);
    return;
  }
  // {path: value} or {path: {$op: ...}}: the first operator names it.
  std::string op = "$eq";
  if (bson::IsOperatorDocument(it)) {
    bson_iter_t first;
    bson_iter_recurse(&it, &first);
    if (bson_iter_next(&first)) op = bson_iter_key(&first);
  }
  BSON_APPEND_UTF8(out, "operatorName", op.c_str());
  bson::AppendDocument(out, "specifiedAs", clause.spec);
  bson_iter_t probe, found;
  doc.Iterate(&probe);
  const bool present = bson_iter_find_descendant(&probe, key.c_str(), &found);
  if (!present && op != "$exists") {
    BSON_APPEND_UTF8(out, "reason", "field was missing");
    return;
  }
  BSON_APPEND_UTF8(out, "reason", op == "$exists" && present ? "path had value" : ReasonFor(op));
  if (present) {
    AppendConsidered(out, doc, key);
    if (op == "$type") BSON_APPEND_UTF8(out, "consideredType", bson::TypeAlias(bson_iter_type(&found)));
  }
}

Status Failure(const CompiledValidator& validator, const Document& doc) {
  bson::Builder info;
  bson_t error_info, details;
  BSON_APPEND_DOCUMENT_BEGIN(info.get(), "errInfo", &error_info);
  bson_iter_t id;
  if (doc.Find("_id", &id)) bson::AppendElement(&error_info, "failingDocumentId", -1, &id);
  BSON_APPEND_DOCUMENT_BEGIN(&error_info, "details", &details);
  if (validator.clauses.size() == 1) {
    ExplainClause(validator.clauses[0], doc, &details);
  } else {
    ExplainList("$and", validator.clauses, doc, &details, true);
  }
  bson_append_document_end(&error_info, &details);
  bson_append_document_end(info.get(), &error_info);
  return Status(ErrorCode::kDocumentValidationFailure, "Document failed validation").WithDetails(info.Finish().bytes());
}

}  // namespace

Result<storage::ValidationRules> CheckValidationRules(std::string_view db, std::string_view name,
                                                      const Document& validator, const std::string& level,
                                                      const std::string& action) {
  if (level != "off" && level != "strict" && level != "moderate") {
    return Status(ErrorCode::kBadValue, "Enumeration value '" + level + "' for field 'validationLevel' is not a valid value.");
  }
  if (action != "error" && action != "warn") {
    return Status(ErrorCode::kBadValue, "Enumeration value '" + action + "' for field 'validationAction' is not a valid value.");
  }
  if (!validator.empty() && (db == "admin" || db == "local" || db == "config" || name.substr(0, 7) == "system.")) {
    return Status(ErrorCode::kInvalidOptions,
                  "Document validators not allowed on system collection " + std::string(db) + "." + std::string(name));
  }
  bson_iter_t it;
  validator.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    if (key == "$where" || key == "$text" || key == "$near" || key == "$nearSphere") {
      return Status(ErrorCode::kQueryFeatureNotAllowed, std::string(key) + " is not allowed in this context");
    }
  }
  auto compiled = CompileClauses(validator, 0);
  if (!compiled.ok()) return compiled.status();
  // $text anywhere (under $and too): a validator has no text index to match through.
  auto filter = query::Filter::Compile(validator);
  if (filter.ok() && filter->text_search() != nullptr) {
    return Status(ErrorCode::kQueryFeatureNotAllowed, "$text is not allowed in this context");
  }
  if (filter.ok() && filter->near_query() != nullptr) return query::NearNotAllowed();
  return storage::ValidationRules{validator, level, action};
}

Status CompileValidation(storage::CollectionEntry* entry) {
  if (!entry->validation || entry->validation->validator.empty()) {
    entry->compiled_validator = nullptr;
    return Status::OK();
  }
  auto compiled = std::make_shared<CompiledValidator>();
  compiled->rules = *entry->validation;
  // A validator compares strings by the collection's default collation.
  auto filter = query::Filter::Compile(compiled->rules.validator, nullptr, entry->collation);
  if (!filter.ok()) return filter.status();
  compiled->filter = std::move(filter).value();
  auto clauses = CompileClauses(compiled->rules.validator, 0);
  if (!clauses.ok()) return clauses.status();
  compiled->clauses = std::move(clauses).value();
  entry->compiled_validator = std::move(compiled);
  return Status::OK();
}

Status CheckDocument(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& doc,
                     const Document* before, bool bypass) {
  const auto* validator = static_cast<const CompiledValidator*>(entry.compiled_validator.get());
  if (validator == nullptr || bypass || validator->rules.level == "off") return Status::OK();
  auto matched = validator->filter.Evaluate(doc.data(), doc.size());
  if (!matched.ok()) return matched.status();
  if (*matched) return Status::OK();
  if (before != nullptr && validator->rules.level == "moderate") {
    // An update of a document that did not pass already is not checked.
    auto was = validator->filter.Evaluate(before->data(), before->size());
    if (was.ok() && !*was) return Status::OK();
  }
  Status failure = Failure(*validator, doc);
  if (validator->rules.action == "warn") {
    engine->Log({'W', "STORAGE", 20294, "conn",
                 "Document would fail validation: collection " + entry.db + "." + entry.name + ", " +
                     Document::FromTrustedBytes(failure.details()).ToJson(),
                 ""});
    return Status::OK();
  }
  return failure;
}

}  // namespace docket::engine

namespace docket {

void Engine::SetLogSink(std::function<void(const LogEvent&)> sink) { impl_->log_sink = std::move(sink); }

Status Engine::SetValidation(std::string_view db, std::string_view name, const std::optional<Document>& validator,
                             const std::optional<std::string>& level, const std::optional<std::string>& action) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  while (true) {
    storage::EntryPtr entry = impl_->catalog->Find(db, name);
    if (!entry) return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + std::string(db) + "." + std::string(name));
    std::unique_lock lock(entry->lifecycle);  // writers hold it shared: they see one set of rules
    if (entry->retired) continue;
    if (entry->view) return engine::NotACollection(db, name);
    storage::ValidationRules rules = entry->validation.value_or(storage::ValidationRules());
    if (validator) rules.validator = *validator;
    if (level) rules.level = *level;
    if (action) rules.action = *action;
    auto checked = engine::CheckValidationRules(db, name, rules.validator, rules.level, rules.action);
    if (!checked.ok()) return checked.status();
    std::optional<storage::ValidationRules> before;
    auto compiled_before = entry->compiled_validator;
    Status s;
    {
      std::lock_guard options(entry->options_mutex);
      before = std::move(entry->validation);
      entry->validation = std::move(checked).value();
      s = engine::CompileValidation(entry.get());
    }
    if (s.ok()) s = impl_->catalog->PersistEntry(*entry);
    if (!s.ok()) {  // as it was (and is on disk)
      std::lock_guard options(entry->options_mutex);
      entry->validation = std::move(before);
      entry->compiled_validator = std::move(compiled_before);
    }
    return s;
  }
}

}  // namespace docket
