// The stages that write: $out (replace a collection with the results) and
// $merge (fold the results into a collection). Both run to completion on
// the first read of the pipeline and produce no documents.
//
// $out writes into a temporary collection in the target database, gives it
// the target's indexes, then renames it over the target: readers see the old
// contents or the new, never a mix, and a failure leaves the target as it
// was. $merge writes document by document (each write atomic, the whole not),
// as MongoDB does.
#include <random>

#include "aggregate/stages.h"
#include "bson/builder.h"
#include "bson/value.h"
#include "update/update.h"
#include "bson/append_element.h"

namespace docket::aggregate {
namespace {

Status Parse9(std::string message) { return Status(ErrorCode::kFailedToParse, std::move(message)); }

// "coll" or {db, coll}.
Status ParseTarget(const bson_iter_t& it, const char* stage, std::string* db, std::string* coll) {
  if (bson_iter_type(&it) == BSON_TYPE_UTF8) {
    *coll = bson_iter_utf8(&it, nullptr);
    return Status::OK();
  }
  if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) {
    return Parse9(std::string(stage) + " takes a collection name or {db, coll}");
  }
  bson_iter_t field;
  bson_iter_recurse(&it, &field);
  while (bson_iter_next(&field)) {
    std::string_view key = KeyOf(field);
    if (key == "timeseries") return Status(ErrorCode::kCommandNotSupported, "time series collections are not supported by Docket");
    if (bson_iter_type(&field) != BSON_TYPE_UTF8) {
      return Status(ErrorCode::kTypeMismatch, std::string(stage) + "." + std::string(key) + " must be a string");
    }
    if (key == "db") *db = bson_iter_utf8(&field, nullptr);
    else if (key == "coll") *coll = bson_iter_utf8(&field, nullptr);
    else return StageError(40415, "BSON field '" + std::string(stage) + "." + std::string(key) + "' is an unknown field.");
  }
  if (coll->empty()) return StageError(40414, "BSON field '" + std::string(stage) + ".coll' is missing but a required field");
  return Status::OK();
}

// ---- $out ----

class OutStage : public Stage {
 public:
  OutStage(StagePtr input, std::string db, std::string coll, const RunContext& ctx)
      : input_(std::move(input)), db_(std::move(db)), coll_(std::move(coll)), ctx_(ctx) {}
  Result<Value> Next() override {
    if (done_) return Value();
    done_ = true;
    std::random_device rd;
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), "%08x%08x", rd(), rd());
    const std::string temp = "tmp.agg_out." + std::string(suffix);
    Status s = Write(temp);
    if (!s.ok()) {
      (void)ctx_.engine->owner->DropCollection(db_, temp);  // nothing of it may stay behind
      return s;
    }
    return Value();
  }

 private:
  Status Write(const std::string& temp) {
    Collection out = ctx_.engine->collection(db_, temp);
    // The target's validation rules come along, and apply to what is written
    // (unless bypassed), as mongod's $out.
    CollectionOptions options_of_target;
    for (const CollectionInfo& info : ctx_.engine->owner->ListCollections(db_)) {
      if (info.name != coll_ || !info.validated) continue;
      options_of_target.validator = info.validator;
      options_of_target.validation_level = info.validation_level;
      options_of_target.validation_action = info.validation_action;
    }
    DOCKET_RETURN_IF_ERROR(ctx_.engine->owner->CreateCollection(db_, temp, options_of_target));
    InsertManyOptions options;
    options.write.write_concern = ctx_.write_concern;
    options.write.bypass_document_validation = ctx_.bypass_document_validation;
    std::vector<Document> batch;
    size_t bytes = 0;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::OK();
      auto r = out.InsertMany(batch, options);
      batch.clear();
      bytes = 0;
      if (!r.ok()) return r.status();
      if (!r->write_errors.empty()) return r->write_errors.front().status;
      return Status::OK();
    };
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      bytes += doc->ContainerBytes().size();
      batch.push_back(doc->AsDocument());
      if (batch.size() >= 1000 || bytes >= (4 << 20)) DOCKET_RETURN_IF_ERROR(flush());
    }
    DOCKET_RETURN_IF_ERROR(flush());
    input_.reset();
    // The target's secondary indexes come along.
    auto indexes = ctx_.engine->collection(db_, coll_).ListIndexes();
    if (!indexes.ok()) return indexes.status();
    std::vector<Document> specs;
    for (const Document& spec : *indexes) {
      bson_iter_t name;
      if (spec.Find("name", &name) && std::string_view(bson_iter_utf8(&name, nullptr)) == "_id_") continue;
      bson::Builder copy;
      bson_iter_t field;
      spec.Iterate(&field);
      while (bson_iter_next(&field)) {
        if (std::string_view(bson_iter_key(&field)) == "v" || std::string_view(bson_iter_key(&field)) == "ns") continue;
        docket::bson::AppendElement(copy.get(), bson_iter_key(&field), -1, &field);
      }
      specs.push_back(copy.Finish());
    }
    if (!specs.empty()) {
      auto created = out.CreateIndexes(specs);
      if (!created.ok()) return created.status();
    }
    return ctx_.engine->owner->RenameCollection(db_, temp, db_, coll_, /*drop_target=*/true);
  }

  StagePtr input_;
  std::string db_, coll_;
  RunContext ctx_;
  bool done_ = false;
};

class OutSpec : public StageSpec {
 public:
  OutSpec(std::string db, std::string coll) : db_(std::move(db)), coll_(std::move(coll)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<OutStage>(std::move(input), db_.empty() ? ctx.db : db_, coll_, ctx));
  }
  const char* name() const override { return "$out"; }

 private:
  std::string db_, coll_;
};

Status ParseOut(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  std::string db, coll;
  DOCKET_RETURN_IF_ERROR(ParseTarget(arg, "$out", &db, &coll));
  if (coll.rfind("system.", 0) == 0) return StageError(17385, "Can't $out to special collection: " + coll);
  out->push_back(std::make_shared<OutSpec>(db.empty() ? ctx.db : db, coll));
  return Status::OK();
}

// ---- $merge ----

enum class WhenMatched { kReplace, kKeepExisting, kMerge, kFail, kPipeline };
enum class WhenNotMatched { kInsert, kDiscard, kFail };

struct MergeParams {
  std::string db, coll;
  std::vector<std::string> on;  // default: _id
  WhenMatched matched = WhenMatched::kMerge;
  WhenNotMatched not_matched = WhenNotMatched::kInsert;
  std::vector<Document> pipeline;  // for kPipeline
  // For kPipeline: variables evaluated on each incoming document ($$new is
  // the document itself unless `let` names it otherwise).
  std::vector<std::pair<std::string, std::shared_ptr<const expr::Expression>>> let;
};

class MergeStage : public Stage {
 public:
  MergeStage(StagePtr input, const MergeParams& p, const RunContext& ctx)
      : input_(std::move(input)), p_(p), ctx_(ctx), vars_(ctx.MakeVariables()) {}
  Result<Value> Next() override {
    if (done_) return Value();
    done_ = true;
    DOCKET_RETURN_IF_ERROR(CheckOnFieldsUnique());
    Collection target = ctx_.engine->collection(p_.db.empty() ? ctx_.db : p_.db, p_.coll);
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      Status merged = MergeOne(target, doc->AsDocument());
      if (merged.code() == ErrorCode::kDuplicateKey) return WithMergeContext(merged);
      DOCKET_RETURN_IF_ERROR(merged);
    }
    input_.reset();
    return Value();
  }

 private:
  // MongoDB requires a unique index on the `on` fields (other than _id).
  Status CheckOnFieldsUnique() {
    if (p_.on.size() == 1 && p_.on[0] == "_id") return Status::OK();
    auto indexes = ctx_.engine->collection(p_.db.empty() ? ctx_.db : p_.db, p_.coll).ListIndexes();
    if (!indexes.ok()) return indexes.status();
    for (const Document& spec : *indexes) {
      bson_iter_t unique, key;
      if (!spec.Find("unique", &unique) || !bson_iter_as_bool(&unique) || !spec.Find("key", &key)) continue;
      std::vector<std::string> fields;
      bson_iter_t f;
      bson_iter_recurse(&key, &f);
      while (bson_iter_next(&f)) fields.emplace_back(bson_iter_key(&f));
      std::vector<std::string> a = fields, b = p_.on;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a == b) return Status::OK();
    }
    return StageError(51183, "Cannot find index to verify that join fields will be unique");
  }

  // A target write's DuplicateKey, with the context mongod gives it (its
  // keyPattern and keyValue kept): whenMatched "fail" met a document with
  // the same `on` values, or another unique index refused the write.
  Status WithMergeContext(const Status& duplicate) const {
    if (duplicate.details().empty()) return duplicate;  // not from an index: says what happened already
    bool from_on_fields = false;
    auto details = Document::FromBytes(reinterpret_cast<const uint8_t*>(duplicate.details().data()),
                                       duplicate.details().size());
    bson_iter_t pattern, field;
    if (details.ok() && details->Find("keyPattern", &pattern) && BSON_ITER_HOLDS_DOCUMENT(&pattern)) {
      size_t fields = 0;
      from_on_fields = true;
      bson_iter_recurse(&pattern, &field);
      while (bson_iter_next(&field)) {
        ++fields;
        from_on_fields = from_on_fields && std::find(p_.on.begin(), p_.on.end(), bson_iter_key(&field)) != p_.on.end();
      }
      from_on_fields = from_on_fields && fields == p_.on.size();
    }
    const bool fail_mode = p_.matched == WhenMatched::kFail && p_.not_matched == WhenNotMatched::kInsert;
    const std::string context = fail_mode && from_on_fields
                                    ? "$merge with whenMatched: fail found an existing document with the same values "
                                      "for the 'on' fields"
                                    : "$merge failed due to a DuplicateKey error";
    return Status(ErrorCode::kDuplicateKey, context + " :: caused by :: " + duplicate.message())
        .WithDetails(duplicate.details());
  }

  Status MergeOne(Collection& target, Document doc) {
    // The `on` values select the target document.
    bson::Builder filter;
    for (const std::string& field : p_.on) {
      bson_iter_t it, v;
      bool present = false;
      doc.Iterate(&it);
      if (bson_iter_find_descendant(&it, field.c_str(), &v)) present = true;
      if (!present && field == "_id") {
        // A document without _id gets one, as MongoDB's $merge gives it.
        bson::Builder with_id;
        bson_oid_t oid;
        bson_oid_init(&oid, nullptr);
        BSON_APPEND_OID(with_id.get(), "_id", &oid);
        bson_iter_t all;
        doc.Iterate(&all);
        while (bson_iter_next(&all)) docket::bson::AppendElement(with_id.get(), bson_iter_key(&all), -1, &all);
        doc = with_id.Finish();
        doc.Find("_id", &v);
        present = true;
      }
      if (!present || bson::IsNullish(bson_iter_type(&v)) || bson_iter_type(&v) == BSON_TYPE_ARRAY) {
        return StageError(51132, "$merge write error: 'on' field '" + field +
                                     "' cannot be missing, null, undefined or an array");
      }
      docket::bson::AppendElement(filter.get(), field.c_str(), -1, &v);
    }
    Document selector = filter.Finish();
    UpdateOptions options;
    options.upsert = p_.not_matched == WhenNotMatched::kInsert;
    options.write.write_concern = ctx_.write_concern;
    options.write.bypass_document_validation = ctx_.bypass_document_validation;
    Result<UpdateResult> result = UpdateResult{};
    switch (p_.matched) {
      case WhenMatched::kReplace:
        result = target.ReplaceOne(selector, doc, options);
        break;
      case WhenMatched::kMerge:
        result = target.UpdateOne(selector, SetAll(doc), options);
        break;
      case WhenMatched::kKeepExisting:
        result = target.UpdateOne(selector, SetOnInsert(doc), options);
        break;
      case WhenMatched::kFail: {
        // As mongod: an insert, which the index on the `on` fields refuses
        // when a document matches (WithMergeContext says so).
        if (p_.not_matched == WhenNotMatched::kInsert) return target.InsertOne(doc, options.write).status();
        auto existing = target.FindOne(selector);
        if (!existing.ok()) return existing.status();
        if (*existing) {
          return Status(ErrorCode::kDuplicateKey, "$merge failed because a document in the target collection matched " +
                                                      selector.ToJson() + " and whenMatched is 'fail'");
        }
        return NotMatched(selector);
      }
      case WhenMatched::kPipeline: {
        auto let = NewBinding(doc);
        if (!let.ok()) return let.status();
        UpdatePipeline update{p_.pipeline, std::move(let).value()};
        UpdateOptions plain = options;
        plain.upsert = false;
        result = target.UpdateOne(selector, update, plain);
        if (result.ok() && result->matched_count == 0 && p_.not_matched == WhenNotMatched::kInsert) {
          auto inserted = target.InsertOne(doc, options.write);
          return inserted.status();
        }
        break;
      }
    }
    if (!result.ok()) return result.status();
    if (result->matched_count == 0 && !result->upserted_id) return NotMatched(selector);
    return Status::OK();
  }

  Status NotMatched(const Document& selector) {
    if (p_.not_matched != WhenNotMatched::kFail) return Status::OK();
    return StageError(13113, "$merge could not find a matching document in the target collection for at least one "
                             "document in the source collection: " + selector.ToJson());
  }

  // {$set: every field but _id} (whenMatched: "merge").
  static Document SetAll(const Document& doc) {
    bson::Builder update, set;
    bson_iter_t it;
    doc.Iterate(&it);
    while (bson_iter_next(&it)) {
      if (std::string_view(bson_iter_key(&it)) == "_id") continue;
      docket::bson::AppendElement(set.get(), bson_iter_key(&it), -1, &it);
    }
    Document fields = set.Finish();
    if (fields.empty()) return *Document::FromJson(R"({"$setOnInsert": {}})");
    bson::AppendDocument(update.get(), "$set", fields);
    return update.Finish();
  }

  // {$setOnInsert: every field but _id} (whenMatched: "keepExisting").
  static Document SetOnInsert(const Document& doc) {
    bson::Builder update, set;
    bson_iter_t it;
    doc.Iterate(&it);
    while (bson_iter_next(&it)) {
      if (std::string_view(bson_iter_key(&it)) == "_id") continue;
      docket::bson::AppendElement(set.get(), bson_iter_key(&it), -1, &it);
    }
    bson::AppendDocument(update.get(), "$setOnInsert", set.Finish());
    return update.Finish();
  }

  // The update pipeline's `let`: each variable evaluated on the incoming
  // document, handed over as a {$literal: value}.
  Result<Document> NewBinding(const Document& doc) {
    bson::Builder let;
    vars_.SetRoot(doc);
    bool has_new = false;
    for (const auto& [name, e] : p_.let) {
      auto v = e->Evaluate(vars_);
      if (!v.ok()) return v.status();
      bson_t literal;
      BSON_APPEND_DOCUMENT_BEGIN(let.get(), name.c_str(), &literal);
      if (v->missing()) BSON_APPEND_NULL(&literal, "$literal");
      else v->AppendTo(&literal, "$literal");
      bson_append_document_end(let.get(), &literal);
      has_new = has_new || name == "new";
    }
    if (!has_new) {
      bson_t literal;
      BSON_APPEND_DOCUMENT_BEGIN(let.get(), "new", &literal);
      bson::AppendDocument(&literal, "$literal", doc);
      bson_append_document_end(let.get(), &literal);
    }
    return let.Finish();
  }

  StagePtr input_;
  const MergeParams& p_;
  RunContext ctx_;
  expr::Variables vars_;
  bool done_ = false;
};

class MergeSpec : public StageSpec {
 public:
  explicit MergeSpec(MergeParams p) : p_(std::move(p)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<MergeStage>(std::move(input), p_, ctx));
  }
  const char* name() const override { return "$merge"; }

 private:
  MergeParams p_;
};

Status ParseMerge(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  MergeParams p;
  if (bson_iter_type(&arg) == BSON_TYPE_UTF8) {
    p.coll = bson_iter_utf8(&arg, nullptr);
  } else if (bson_iter_type(&arg) == BSON_TYPE_DOCUMENT) {
    bson_iter_t field;
    bson_iter_recurse(&arg, &field);
    while (bson_iter_next(&field)) {
      std::string_view key = KeyOf(field);
      if (key == "into") {
        DOCKET_RETURN_IF_ERROR(ParseTarget(field, "$merge.into", &p.db, &p.coll));
      } else if (key == "on") {
        if (bson_iter_type(&field) == BSON_TYPE_UTF8) {
          p.on.emplace_back(bson_iter_utf8(&field, nullptr));
        } else if (bson_iter_type(&field) == BSON_TYPE_ARRAY) {
          bson_iter_t f;
          bson_iter_recurse(&field, &f);
          while (bson_iter_next(&f)) {
            if (bson_iter_type(&f) != BSON_TYPE_UTF8) return StageError(51134, "$merge 'on' array elements must be strings");
            p.on.emplace_back(bson_iter_utf8(&f, nullptr));
          }
          if (p.on.empty()) return StageError(51187, "If explicitly specifying $merge 'on', must include at least one field");
        } else {
          return StageError(51186, "$merge 'on' field must be either a string or an array of strings");
        }
        for (const std::string& f : p.on) DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(f));
      } else if (key == "whenMatched") {
        if (bson_iter_type(&field) == BSON_TYPE_ARRAY) {
          p.matched = WhenMatched::kPipeline;
          bson_iter_t s;
          bson_iter_recurse(&field, &s);
          while (bson_iter_next(&s)) {
            if (bson_iter_type(&s) != BSON_TYPE_DOCUMENT) return Status(ErrorCode::kTypeMismatch, "$merge whenMatched pipeline stages must be objects");
            p.pipeline.push_back(Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(s))));
          }
          // Check the pipeline now (with $$new and the let names as variables).
          continue;
        }
        std::string_view mode = bson_iter_type(&field) == BSON_TYPE_UTF8 ? bson_iter_utf8(&field, nullptr) : "";
        if (mode == "replace") p.matched = WhenMatched::kReplace;
        else if (mode == "keepExisting") p.matched = WhenMatched::kKeepExisting;
        else if (mode == "merge") p.matched = WhenMatched::kMerge;
        else if (mode == "fail") p.matched = WhenMatched::kFail;
        else return Status(ErrorCode::kBadValue, "Enumeration value '" + std::string(mode) + "' for field 'whenMatched' is not a valid value.");
      } else if (key == "whenNotMatched") {
        std::string_view mode = bson_iter_type(&field) == BSON_TYPE_UTF8 ? bson_iter_utf8(&field, nullptr) : "";
        if (mode == "insert") p.not_matched = WhenNotMatched::kInsert;
        else if (mode == "discard") p.not_matched = WhenNotMatched::kDiscard;
        else if (mode == "fail") p.not_matched = WhenNotMatched::kFail;
        else return Status(ErrorCode::kBadValue, "Enumeration value '" + std::string(mode) + "' for field 'whenNotMatched' is not a valid value.");
      } else if (key == "let") {
        if (bson_iter_type(&field) != BSON_TYPE_DOCUMENT) return Status(ErrorCode::kTypeMismatch, "$merge 'let' must be an object");
        bson_iter_t var;
        bson_iter_recurse(&field, &var);
        while (bson_iter_next(&var)) {
          auto e = expr::Parse(var, *ctx.scope);
          if (!e.ok()) return e.status();
          p.let.emplace_back(std::string(KeyOf(var)), std::shared_ptr<const expr::Expression>(std::move(e).value()));
        }
      } else {
        return StageError(40415, "BSON field '$merge." + std::string(key) + "' is an unknown field.");
      }
    }
  } else {
    return StageError(51182, "$merge only supports a string or object argument, not " + std::string(TypeName(Value::Borrow(arg))));
  }
  if (p.coll.empty()) return StageError(40414, "BSON field '$merge.into' is missing but a required field");
  if (p.on.empty()) p.on.emplace_back("_id");
  if (!p.let.empty() && p.matched != WhenMatched::kPipeline) {
    return StageError(51199, "Cannot use 'let' variables with 'whenMatched: " +
                                 std::string(p.matched == WhenMatched::kReplace ? "replace" : p.matched == WhenMatched::kFail ? "fail" : p.matched == WhenMatched::kKeepExisting ? "keepExisting" : "merge") + "' mode");
  }
  if (p.matched == WhenMatched::kPipeline) {
    // Check the pipeline now, with its variables bound to placeholders.
    bson::Builder placeholders;
    BSON_APPEND_NULL(placeholders.get(), "new");
    for (const auto& [name, e] : p.let) BSON_APPEND_NULL(placeholders.get(), name.c_str());
    auto check = update::Update::CompilePipeline(p.pipeline, placeholders.Finish());
    if (!check.ok()) return check.status();
  }
  out->push_back(std::make_shared<MergeSpec>(std::move(p)));
  return Status::OK();
}

constexpr StageEntry kStages[] = {{"$out", ParseOut}, {"$merge", ParseMerge}};

}  // namespace

std::span<const StageEntry> OutputStages() { return kStages; }

}  // namespace docket::aggregate
