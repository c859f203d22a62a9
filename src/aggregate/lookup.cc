// Stages that read other collections: $lookup (equality, pipeline, and both),
// $unionWith and $graphLookup. The foreign reads go through the planner, so
// an index on the foreign field serves each lookup.
#include <set>

#include "aggregate/pipeline.h"
#include "aggregate/stages.h"
#include "bson/builder.h"
#include "bson/key_encoding.h"
#include "bson/path.h"
#include "bson/value.h"

namespace docket::aggregate {
Value SetPath(const Value& doc, const bson::Path& path, size_t i, const Value& v) {
  expr::DocumentBuilder out;
  bool replaced = false;
  expr::ForEachElement(doc, [&](const Value& field) {
    bson_iter_t it;
    field.Iter(&it);
    std::string_view key = KeyOf(it);
    if (key != path[i]) {
      out.Append(key, field);
      return true;
    }
    replaced = true;
    if (i + 1 == path.size()) out.Append(key, v);
    else out.Append(key, SetPath(field.is_document() ? field : expr::DocumentBuilder().Finish(), path, i + 1, v));
    return true;
  });
  if (!replaced) {
    if (i + 1 == path.size()) out.Append(path[i], v);
    else out.Append(path[i], SetPath(expr::DocumentBuilder().Finish(), path, i + 1, v));
  }
  return out.Finish();
}

namespace {

Status Parse9(std::string message) { return Status(ErrorCode::kFailedToParse, std::move(message)); }


// The values a query path reaches in `doc` (array elements rather than the
// arrays), or [null] when it reaches nothing: what $lookup and $graphLookup
// match the foreign field against.
std::vector<Value> JoinValues(const Value& doc, const bson::Path& path) {
  std::vector<Value> out;
  std::string_view bytes = doc.ContainerBytes();
  bson::VisitPath(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, [&](const bson_iter_t* v) {
    if (v != nullptr && bson_iter_type(v) != BSON_TYPE_ARRAY) out.push_back(Value::Copy(*v));
    return false;
  });
  if (out.empty()) out.push_back(Value::Null());
  return out;
}

// {field: {$in: [values]}}, with regexes compared as values ($eq), as a join does.
Document InFilter(const std::string& field, const std::vector<Value>& values) {
  bson::Builder filter;
  bson_t condition, list, alternatives;
  bool has_regex = false;
  for (const Value& v : values) has_regex = has_regex || v.type() == BSON_TYPE_REGEX;
  if (!has_regex) {
    BSON_APPEND_DOCUMENT_BEGIN(filter.get(), field.c_str(), &condition);
    BSON_APPEND_ARRAY_BEGIN(&condition, "$in", &list);
    for (size_t i = 0; i < values.size(); ++i) values[i].AppendTo(&list, std::to_string(i));
    bson_append_array_end(&condition, &list);
    bson_append_document_end(filter.get(), &condition);
    return filter.Finish();
  }
  BSON_APPEND_ARRAY_BEGIN(filter.get(), "$or", &alternatives);
  for (size_t i = 0; i < values.size(); ++i) {
    bson_t branch, eq;
    BSON_APPEND_DOCUMENT_BEGIN(&alternatives, std::to_string(i).c_str(), &branch);
    BSON_APPEND_DOCUMENT_BEGIN(&branch, field.c_str(), &eq);
    values[i].AppendTo(&eq, "$eq");
    bson_append_document_end(&branch, &eq);
    bson_append_document_end(&alternatives, &branch);
  }
  bson_append_array_end(filter.get(), &alternatives);
  return filter.Finish();
}

// ---- $lookup ----

struct LookupParams {
  std::string from;
  std::string from_db;  // empty: the pipeline's database
  std::string local_field, foreign_field;
  bson::Path local_path;
  bson::Path as;
  std::vector<std::pair<int, expr::ExprPtr>> let;  // slot, expression of the local document
  PipelinePtr pipeline;                            // may be null
};

class LookupStage : public Stage {
 public:
  LookupStage(StagePtr input, const LookupParams& p, const RunContext& ctx)
      : input_(std::move(input)), p_(p), ctx_(ctx), vars_(ctx.MakeVariables()) {
    if (!p_.from_db.empty()) ctx_.db = p_.from_db;
  }
  Result<Value> Next() override {
    auto doc = input_->Next();
    if (!doc.ok() || doc->missing()) return doc;
    RunContext inner = ctx_;
    vars_.SetRoot(*doc);
    for (const auto& [slot, e] : p_.let) {
      auto v = e->Evaluate(vars_);
      if (!v.ok()) return v.status();
      inner.bindings.emplace_back(slot, v->Owned());
    }
    std::optional<Document> join;
    if (!p_.local_field.empty()) join = InFilter(p_.foreign_field, JoinValues(*doc, p_.local_path));
    static const Pipeline kEmpty;
    auto stage = OpenOnCollection(p_.pipeline ? *p_.pipeline : kEmpty, p_.from, inner, join ? &*join : nullptr);
    if (!stage.ok()) return stage.status();
    expr::ArrayBuilder matches;
    size_t bytes = doc->ContainerBytes().size();
    while (true) {
      auto m = (*stage)->Next();
      if (!m.ok()) return m.status();
      if (m->missing()) break;
      bytes += m->ContainerBytes().size();
      if (bytes > kMaxDocumentSize) {
        return Status(ErrorCode::kBSONObjectTooLarge,
                      "the documents $lookup matched in " + p_.from + " make the result exceed 16MB");
      }
      matches.Append(*m);
    }
    return SetPath(*doc, p_.as, 0, matches.Finish()).WithMetadataOf(*doc);
  }

 private:
  StagePtr input_;
  const LookupParams& p_;
  RunContext ctx_;
  expr::Variables vars_;
};

class LookupSpec : public StageSpec {
 public:
  explicit LookupSpec(LookupParams p) : p_(std::move(p)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<LookupStage>(std::move(input), p_, ctx));
  }
  const char* name() const override { return "$lookup"; }

 private:
  LookupParams p_;
};

// `from` / `coll`: a collection name, or {db, coll}.
Status ParseNamespace(const bson_iter_t& it, const char* what, std::string* coll, std::string* db) {
  if (bson_iter_type(&it) == BSON_TYPE_UTF8) {
    *coll = bson_iter_utf8(&it, nullptr);
    return Status::OK();
  }
  if (bson_iter_type(&it) == BSON_TYPE_DOCUMENT) {
    bson_iter_t field;
    bson_iter_recurse(&it, &field);
    while (bson_iter_next(&field)) {
      std::string_view key = KeyOf(field);
      if (bson_iter_type(&field) != BSON_TYPE_UTF8) return Parse9(std::string(what) + "." + std::string(key) + " must be a string");
      if (key == "db") *db = bson_iter_utf8(&field, nullptr);
      else if (key == "coll") *coll = bson_iter_utf8(&field, nullptr);
      else return Parse9("unknown field in " + std::string(what) + ": " + std::string(key));
    }
    if (coll->empty()) return Parse9(std::string(what) + " needs a 'coll'");
    return Status::OK();
  }
  return Status(ErrorCode::kTypeMismatch, std::string(what) + " must be a string or {db, coll}");
}

Status ParseLookup(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) return Parse9("the $lookup specification must be an Object");
  LookupParams p;
  bool has_as = false, has_from = false, has_local = false, has_foreign = false, has_let = false;
  bson_iter_t field, pipeline_it, let_it;
  bool has_pipeline = false;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    std::string_view key = KeyOf(field);
    auto string_arg = [&](std::string* target) -> Status {
      if (bson_iter_type(&field) != BSON_TYPE_UTF8) {
        return Parse9("$lookup argument '" + std::string(key) + ": " + Value::Borrow(field).ToJson() + "' must be a string");
      }
      *target = bson_iter_utf8(&field, nullptr);
      return Status::OK();
    };
    if (key == "from") {
      DOCKET_RETURN_IF_ERROR(ParseNamespace(field, "$lookup.from", &p.from, &p.from_db));
      has_from = true;
    } else if (key == "as") {
      std::string as;
      DOCKET_RETURN_IF_ERROR(string_arg(&as));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(as));
      p.as = bson::SplitPath(as);
      has_as = true;
    } else if (key == "localField") {
      DOCKET_RETURN_IF_ERROR(string_arg(&p.local_field));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(p.local_field));
      p.local_path = bson::SplitPath(p.local_field);
      has_local = true;
    } else if (key == "foreignField") {
      DOCKET_RETURN_IF_ERROR(string_arg(&p.foreign_field));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(p.foreign_field));
      has_foreign = true;
    } else if (key == "pipeline") {
      if (bson_iter_type(&field) != BSON_TYPE_ARRAY) return Parse9("'pipeline' option must be specified as an array");
      pipeline_it = field;
      has_pipeline = true;
    } else if (key == "let") {
      if (bson_iter_type(&field) != BSON_TYPE_DOCUMENT) return Parse9("$lookup argument 'let' must be an object");
      let_it = field;
      has_let = true;
    } else {
      return Parse9("unknown argument to $lookup: " + std::string(key));
    }
  }
  if (!has_as) return Parse9("must specify 'as' field for a $lookup");
  if (has_local != has_foreign) {
    return Parse9("$lookup requires both or neither of 'localField' and 'foreignField' to be specified");
  }
  if (!has_local && !has_pipeline) {
    return Parse9("$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified");
  }
  if (has_let && !has_pipeline) return Parse9("$lookup with 'let' must also specify 'pipeline'");
  if (!has_from) return Parse9("must specify 'from' field for a $lookup");
  // `let` is evaluated on the local document (the outer scope); its names
  // are bound for the sub-pipeline.
  std::vector<std::pair<std::string, expr::ExprPtr>> parsed_let;
  if (has_let) {
    bson_iter_t var;
    bson_iter_recurse(&let_it, &var);
    while (bson_iter_next(&var)) {
      auto e = expr::Parse(var, *ctx.scope);
      if (!e.ok()) return e.status();
      parsed_let.emplace_back(std::string(KeyOf(var)), std::move(e).value());
    }
  }
  size_t defined = 0;
  for (auto& [name, e] : parsed_let) {
    auto slot = ctx.scope->Define(name);
    if (!slot.ok()) {
      ctx.scope->Pop(defined);
      return slot.status();
    }
    ++defined;
    p.let.emplace_back(*slot, std::move(e));
  }
  if (has_pipeline) {
    ParseContext inner = ctx;
    inner.in_lookup = true;
    inner.in_facet = false;
    auto sub = ParseSubPipeline(pipeline_it, inner);
    ctx.scope->Pop(defined);
    if (!sub.ok()) return sub.status();
    p.pipeline = std::move(sub).value();
  } else {
    ctx.scope->Pop(defined);
  }
  out->push_back(std::make_shared<LookupSpec>(std::move(p)));
  return Status::OK();
}

// ---- $unionWith ----

class UnionWithStage : public Stage {
 public:
  UnionWithStage(StagePtr input, const std::string& coll, const std::string& db, const Pipeline& pipeline,
                 const RunContext& ctx)
      : input_(std::move(input)), coll_(coll), pipeline_(pipeline), ctx_(ctx) {
    if (!db.empty()) ctx_.db = db;
  }
  Result<Value> Next() override {
    if (input_) {
      auto doc = input_->Next();
      if (!doc.ok() || !doc->missing()) return doc;
      input_.reset();
      auto other = OpenOnCollection(pipeline_, coll_, ctx_);
      if (!other.ok()) return other.status();
      other_ = std::move(other).value();
    }
    return other_->Next();
  }

 private:
  StagePtr input_;
  const std::string& coll_;
  const Pipeline& pipeline_;
  RunContext ctx_;
  StagePtr other_;
};

class UnionWithSpec : public StageSpec {
 public:
  UnionWithSpec(std::string coll, std::string db, PipelinePtr pipeline)
      : coll_(std::move(coll)), db_(std::move(db)), pipeline_(std::move(pipeline)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<UnionWithStage>(std::move(input), coll_, db_, *pipeline_, ctx));
  }
  const char* name() const override { return "$unionWith"; }

 private:
  std::string coll_, db_;
  PipelinePtr pipeline_;
};

Status ParseUnionWith(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  std::string coll, db;
  PipelinePtr pipeline = std::make_shared<Pipeline>();
  if (bson_iter_type(&arg) == BSON_TYPE_UTF8) {
    coll = bson_iter_utf8(&arg, nullptr);
  } else if (bson_iter_type(&arg) == BSON_TYPE_DOCUMENT) {
    bson_iter_t field;
    bson_iter_recurse(&arg, &field);
    while (bson_iter_next(&field)) {
      std::string_view key = KeyOf(field);
      if (key == "coll") {
        DOCKET_RETURN_IF_ERROR(ParseNamespace(field, "$unionWith.coll", &coll, &db));
      } else if (key == "pipeline") {
        ParseContext inner = ctx;
        inner.in_lookup = true;
        inner.in_facet = false;
        auto sub = ParseSubPipeline(field, inner);
        if (!sub.ok()) return sub.status();
        pipeline = std::move(sub).value();
      } else {
        return StageError(40415, "BSON field '$unionWith." + std::string(key) + "' is an unknown field.");
      }
    }
  } else {
    return Parse9("the $unionWith stage specification must be an object or string");
  }
  if (coll.empty()) return StageError(40414, "BSON field '$unionWith.coll' is missing but a required field");
  out->push_back(std::make_shared<UnionWithSpec>(std::move(coll), std::move(db), std::move(pipeline)));
  return Status::OK();
}

// ---- $graphLookup ----

struct GraphParams {
  std::string from;
  expr::ExprPtr start_with;
  std::string connect_from, connect_to;
  bson::Path connect_from_path;
  bson::Path as;
  std::optional<int64_t> max_depth;
  bson::Path depth_field;
  std::optional<Document> restrict;
};

class GraphLookupStage : public Stage {
 public:
  GraphLookupStage(StagePtr input, const GraphParams& p, const RunContext& ctx)
      : input_(std::move(input)), p_(p), ctx_(ctx), vars_(ctx.MakeVariables()) {}
  Result<Value> Next() override {
    auto doc = input_->Next();
    if (!doc.ok() || doc->missing()) return doc;
    vars_.SetRoot(*doc);
    auto start = p_.start_with->Evaluate(vars_);
    if (!start.ok()) return start.status();
    std::vector<Value> frontier = start->is_array() ? expr::Elements(*start) : std::vector<Value>{*start};
    std::set<std::string> queried;   // encoded values already searched for
    std::set<std::string> found_ids; // encoded _ids already in the result
    expr::ArrayBuilder results;
    size_t bytes = doc->ContainerBytes().size();
    for (int64_t depth = 0; !frontier.empty() && (!p_.max_depth || depth <= *p_.max_depth); ++depth) {
      std::vector<Value> search;
      for (const Value& v : frontier) {
        std::string key;
        bson_iter_t it;
        Value x = v.missing() ? Value::Null() : v;
        x.Iter(&it);
        bson::AppendKeyValue(&key, it);
        if (queried.insert(key).second) search.push_back(x);
      }
      if (search.empty()) break;
      Document filter = InFilter(p_.connect_to, search);
      if (p_.restrict) {
        bson::Builder both;
        bson_t list;
        BSON_APPEND_ARRAY_BEGIN(both.get(), "$and", &list);
        bson::AppendDocument(&list, "0", filter);
        bson::AppendDocument(&list, "1", *p_.restrict);
        bson_append_array_end(both.get(), &list);
        filter = both.Finish();
      }
      auto scan = ScanCollection(p_.from, filter, ctx_);
      if (!scan.ok()) return scan.status();
      std::vector<Value> next;
      while (true) {
        auto m = (*scan)->Next();
        if (!m.ok()) return m.status();
        if (m->missing()) break;
        std::string id_key;
        std::string_view bytes_view = m->ContainerBytes();
        bson_iter_t id_it;
        if (bson_iter_init_from_data(&id_it, reinterpret_cast<const uint8_t*>(bytes_view.data()), bytes_view.size()) &&
            bson_iter_find(&id_it, "_id")) {
          bson::AppendKeyValue(&id_key, id_it);
        }
        if (!found_ids.insert(id_key).second) continue;
        for (Value& v : JoinValues(*m, p_.connect_from_path)) next.push_back(std::move(v));
        Value out = *m;
        if (!p_.depth_field.empty()) out = SetPath(out, p_.depth_field, 0, Value::Int64(depth));
        bytes += out.ContainerBytes().size();
        if (bytes > kMaxDocumentSize) {
          return Status(ErrorCode::kBSONObjectTooLarge, "$graphLookup's results make the document exceed 16MB");
        }
        results.Append(out);
      }
      frontier = std::move(next);
    }
    return SetPath(*doc, p_.as, 0, results.Finish()).WithMetadataOf(*doc);
  }

 private:
  StagePtr input_;
  const GraphParams& p_;
  RunContext ctx_;
  expr::Variables vars_;
};

class GraphLookupSpec : public StageSpec {
 public:
  explicit GraphLookupSpec(GraphParams p) : p_(std::move(p)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<GraphLookupStage>(std::move(input), p_, ctx));
  }
  const char* name() const override { return "$graphLookup"; }

 private:
  GraphParams p_;
};

Status ParseGraphLookup(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(40327, "$graphLookup must be an object");
  }
  GraphParams p;
  std::string as, depth_field;
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    std::string_view key = KeyOf(field);
    auto string_arg = [&](std::string* target) -> Status {
      if (bson_iter_type(&field) != BSON_TYPE_UTF8) {
        return StageError(40103, "expected string as argument for " + std::string(key) + ", found: " + Value::Borrow(field).ToJson());
      }
      *target = bson_iter_utf8(&field, nullptr);
      return Status::OK();
    };
    if (key == "from") {
      DOCKET_RETURN_IF_ERROR(string_arg(&p.from));
    } else if (key == "startWith") {
      auto e = expr::Parse(field, *ctx.scope);
      if (!e.ok()) return e.status();
      p.start_with = std::move(e).value();
    } else if (key == "connectFromField") {
      DOCKET_RETURN_IF_ERROR(string_arg(&p.connect_from));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(p.connect_from));
      p.connect_from_path = bson::SplitPath(p.connect_from);
    } else if (key == "connectToField") {
      DOCKET_RETURN_IF_ERROR(string_arg(&p.connect_to));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(p.connect_to));
    } else if (key == "as") {
      DOCKET_RETURN_IF_ERROR(string_arg(&as));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(as));
      p.as = bson::SplitPath(as);
    } else if (key == "depthField") {
      DOCKET_RETURN_IF_ERROR(string_arg(&depth_field));
      DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(depth_field));
      p.depth_field = bson::SplitPath(depth_field);
    } else if (key == "maxDepth") {
      Value v = Value::Borrow(field);
      int64_t n = 0;
      if (!v.is_number() || v.AsDouble() != static_cast<double>(v.AsInt64())) {
        return StageError(40100, "maxDepth must be numeric, found type: " + std::string(TypeName(v)));
      }
      n = v.AsInt64();
      if (n < 0) return StageError(40101, "maxDepth requires a nonnegative argument, found: " + v.ToJson());
      p.max_depth = n;
    } else if (key == "restrictSearchWithMatch") {
      if (bson_iter_type(&field) != BSON_TYPE_DOCUMENT) {
        return StageError(40185, "restrictSearchWithMatch must be an object, found " + std::string(TypeName(Value::Borrow(field))));
      }
      Document filter = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(field)));
      auto check = query::Filter::Compile(filter, nullptr, ctx.collation);
      if (!check.ok()) return check.status();
      p.restrict = filter;
    } else {
      return StageError(40104, "Unknown argument to $graphLookup: " + std::string(key));
    }
  }
  if (p.from.empty() || !p.start_with || p.connect_from.empty() || p.connect_to.empty() || p.as.empty()) {
    return StageError(40105, "$graphLookup requires 'from', 'startWith', 'connectFromField', 'connectToField' and 'as'");
  }
  out->push_back(std::make_shared<GraphLookupSpec>(std::move(p)));
  return Status::OK();
}

constexpr StageEntry kStages[] = {
    {"$lookup", ParseLookup}, {"$unionWith", ParseUnionWith}, {"$graphLookup", ParseGraphLookup}};

}  // namespace

std::span<const StageEntry> JoinStages() { return kStages; }

}  // namespace docket::aggregate
