// $group, and the stages made of it: $sortByCount ($group + $sort) and
// $bucket ($group on the bucket's lower bound + $sort).
//
// Groups live in a hash table keyed by the order-preserving encoding of the
// group's _id (so 1, 1.0 and NumberLong(1) are one group, as in MongoDB) and
// come out in the order they were first seen. Past the memory budget every
// group's state is spilled as a partial, keyed by [encoded _id][sequence];
// at the end the spill is read in key order and the partials of each _id are
// merged, in the order they were spilled.
#include <unordered_map>

#include "aggregate/accumulators.h"
#include "aggregate/stages.h"
#include "bson/key_encoding.h"
#include "engine/spill.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::aggregate {
namespace {

class GroupSpec : public StageSpec {
 public:
  // `strings`: the pipeline's collation (null: binary): _ids equal under it
  // are one group, whose _id is the first of them met.
  GroupSpec(const char* name, expr::ExprPtr id, std::vector<AccumulatorField> fields, const bson::StringOrder* strings)
      : name_(name), id_(std::move(id)), fields_(std::move(fields)), strings_(strings) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return name_; }
  bool ReadsDocuments() const override {
    if (!id_->IsConstant()) return true;
    for (const AccumulatorField& f : fields_) {
      if (f.spec->ReadsInput()) return true;
    }
    return false;
  }
  const expr::Expression& id() const { return *id_; }
  const std::vector<AccumulatorField>& fields() const { return fields_; }
  const bson::StringOrder* strings() const { return strings_; }

 private:
  const char* name_;
  expr::ExprPtr id_;
  std::vector<AccumulatorField> fields_;
  const bson::StringOrder* strings_;
};

class GroupStage : public Stage {
 public:
  GroupStage(StagePtr input, const GroupSpec& spec, const RunContext& ctx)
      : input_(std::move(input)), spec_(spec), ctx_(ctx), vars_(ctx.MakeVariables()) {}

  Result<Value> Next() override {
    if (!grouped_) {
      DOCKET_RETURN_IF_ERROR(Consume());
      grouped_ = true;
    }
    if (spill_) return NextFromSpill();
    if (next_ >= groups_.size()) return Value();
    Group& g = groups_[next_++];
    return Output(g.id, g.accumulators);
  }

 private:
  struct Group {
    Value id;
    std::vector<std::unique_ptr<Accumulator>> accumulators;
  };

  // A new group's accumulators (the `n` of an N accumulator may depend on
  // the group's _id).
  Result<std::vector<std::unique_ptr<Accumulator>>> NewAccumulators(const Value& id) const {
    std::vector<std::unique_ptr<Accumulator>> out;
    for (const AccumulatorField& f : spec_.fields()) {
      auto made = f.spec->Make(id, vars_);
      if (!made.ok()) return made.status();
      out.push_back(std::move(made).value());
    }
    return out;
  }

  Status Consume() {
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      vars_.SetRoot(*doc);
      auto id = spec_.id().Evaluate(vars_);
      if (!id.ok()) return id.status();
      Value key_value = id->missing() ? Value::Null() : *id;
      std::string key;
      bson_iter_t it;
      key_value.Iter(&it);
      bson::AppendComparisonKeyValue(&key, it, spec_.strings());
      auto found = index_.find(key);
      size_t at = 0;
      if (found == index_.end()) {
        at = groups_.size();
        bytes_ += key.size() * 2 + 96;
        auto accumulators = NewAccumulators(key_value);
        if (!accumulators.ok()) return accumulators.status();
        groups_.push_back(Group{key_value.Owned(), std::move(accumulators).value()});
        index_.emplace(std::move(key), at);
      } else {
        at = found->second;
      }
      Group& g = groups_[at];
      for (size_t i = 0; i < g.accumulators.size(); ++i) {
        size_t before = g.accumulators[i]->bytes();
        auto v = spec_.fields()[i].spec->argument().Evaluate(vars_);
        if (!v.ok()) return v.status();
        DOCKET_RETURN_IF_ERROR(g.accumulators[i]->Add(*v, *doc));
        bytes_ += g.accumulators[i]->bytes() - std::min(before, g.accumulators[i]->bytes());
      }
      if (bytes_ > ctx_.budget.memory_limit_bytes) {
        if (!ctx_.budget.allow_disk_use) {
          return Status(ErrorCode::kQueryExceededMemoryLimitNoDiskUseAllowed,
                        "Exceeded memory limit for $group, but didn't allow external sort. Pass allowDiskUse:true to opt in.");
        }
        DOCKET_RETURN_IF_ERROR(SpillGroups());
      }
    }
    input_.reset();
    if (spill_) {
      DOCKET_RETURN_IF_ERROR(SpillGroups());
      DOCKET_RETURN_IF_ERROR(spill_->Flush());
      it_ = spill_->NewIterator();
    }
    return Status::OK();
  }

  // Writes every group out as {i: _id, p: [partials]} and empties the table.
  Status SpillGroups() {
    if (!spill_) spill_ = std::make_unique<engine::SpillArea>(ctx_.engine);
    for (auto& [key, at] : index_) {
      Group& g = groups_[at];
      expr::DocumentBuilder state;
      state.Append("i", g.id);
      expr::ArrayBuilder partials;
      for (const auto& acc : g.accumulators) partials.Append(acc->Partial());
      state.Append("p", partials.Finish());
      std::string spill_key = key;
      storage::AppendBigEndian64(&spill_key, sequence_++);
      DOCKET_RETURN_IF_ERROR(spill_->Put(spill_key, state.Finish().ContainerBytes()));
    }
    index_.clear();
    groups_.clear();
    bytes_ = 0;
    return Status::OK();
  }

  Result<Value> NextFromSpill() {
    if (!it_->Valid()) {
      DOCKET_RETURN_IF_ERROR(storage::FromRocks(it_->status(), "reading spilled groups"));
      return Value();
    }
    auto user_key = [this] {
      rocksdb::Slice k = spill_->UserKey(it_->key());
      return std::string(k.data(), k.size() - 8);  // without the sequence
    };
    const std::string key = user_key();
    std::vector<std::unique_ptr<Accumulator>> accumulators;
    Value id;
    bool first = true;
    while (it_->Valid() && user_key() == key) {
      Value state = Value::FromDocumentBytes(std::string_view(it_->value().data(), it_->value().size()));
      std::vector<Value> parts;
      expr::ForEachElement(state, [&](const Value& f) {
        parts.push_back(f);
        return true;
      });
      if (parts.size() != 2) return Status(ErrorCode::kInternalError, "a spilled $group state is damaged");
      id = parts[0];
      if (first) {
        auto made = NewAccumulators(id);
        if (!made.ok()) return made.status();
        accumulators = std::move(made).value();
        first = false;
      }
      std::vector<Value> partials = expr::Elements(parts[1]);
      for (size_t i = 0; i < accumulators.size() && i < partials.size(); ++i) {
        DOCKET_RETURN_IF_ERROR(accumulators[i]->Merge(partials[i]));
      }
      it_->Next();
    }
    return Output(id, accumulators);
  }

  Result<Value> Output(const Value& id, const std::vector<std::unique_ptr<Accumulator>>& accumulators) {
    expr::DocumentBuilder out;
    out.Append("_id", id);
    for (size_t i = 0; i < accumulators.size(); ++i) {
      auto v = accumulators[i]->Finish();
      if (!v.ok()) return v.status();
      out.Append(spec_.fields()[i].name, *v);
    }
    if (out.bytes() > kMaxDocumentSize) return Status(ErrorCode::kBSONObjectTooLarge, "a $group result exceeds 16MB");
    return out.Finish();
  }

  StagePtr input_;
  const GroupSpec& spec_;
  RunContext ctx_;
  expr::Variables vars_;
  bool grouped_ = false;
  std::vector<Group> groups_;                       // in first-seen order
  std::unordered_map<std::string, size_t> index_;   // encoded _id -> groups_ index
  size_t bytes_ = 0;
  size_t next_ = 0;
  uint64_t sequence_ = 0;
  std::unique_ptr<engine::SpillArea> spill_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

Result<StagePtr> GroupSpec::Open(StagePtr input, const RunContext& ctx) const {
  return StagePtr(std::make_unique<GroupStage>(std::move(input), *this, ctx));
}

Status ParseGroup(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(15947, "a group's fields must be specified in an object");
  }
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  std::optional<expr::ExprPtr> id;
  while (bson_iter_next(&field)) {
    if (KeyOf(field) != "_id") continue;
    if (id) return StageError(15948, "a group's _id may only be specified once");
    auto e = expr::Parse(field, *ctx.scope);
    if (!e.ok()) return e.status();
    id = std::move(e).value();
  }
  if (!id) return StageError(15955, "a group specification must include an _id");
  std::vector<AccumulatorField> fields;
  DOCKET_RETURN_IF_ERROR(ParseAccumulatorFields(arg, true, *ctx.scope, &fields));
  out->push_back(std::make_shared<GroupSpec>("$group", std::move(*id), std::move(fields), ctx.scope->strings()));
  return Status::OK();
}

// {$sortByCount: <expr>}: {$group: {_id: <expr>, count: {$sum: 1}}}, {$sort: {count: -1}}.
Status ParseSortByCount(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  bool path = bson_iter_type(&arg) == BSON_TYPE_UTF8 && bson_iter_utf8(&arg, nullptr)[0] == '$';
  bool object = bson::IsOperatorDocument(arg);
  if (!path && !object) {
    if (bson_iter_type(&arg) == BSON_TYPE_DOCUMENT) {
      return StageError(40147, "the sortByCount field must be defined as a $-prefixed path or an expression");
    }
    return StageError(40148, "the sortByCount field must be specified as a string or as an object");
  }
  auto id = expr::Parse(arg, *ctx.scope);
  if (!id.ok()) return id.status();
  std::vector<AccumulatorField> fields;
  auto one = *Document::FromJson(R"({"": 1})");
  bson_iter_t one_it;
  one.Iterate(&one_it);
  bson_iter_next(&one_it);
  auto count = AccumulatorSpec::Parse("$sum", one_it, *ctx.scope);
  if (!count.ok()) return count.status();
  fields.push_back(AccumulatorField{"count", std::move(count).value()});
  out->push_back(
      std::make_shared<GroupSpec>("$sortByCount", std::move(id).value(), std::move(fields), ctx.scope->strings()));
  Document sort_doc = *Document::FromJson(R"({"count": -1})");
  auto sort = query::SortSpec::Compile(sort_doc, ctx.scope->strings());
  if (!sort.ok()) return sort.status();
  out->push_back(std::make_shared<SortStageSpec>(std::move(sort_doc), std::move(sort).value()));
  return Status::OK();
}

// $bucket's group key: the lower boundary of the value's bucket, or the
// default. Location40066 for a value in no bucket without a default.
class BucketKey : public expr::Expression {
 public:
  BucketKey(expr::ExprPtr group_by, std::vector<Value> boundaries, Value fallback, const bson::StringOrder* strings)
      : group_by_(std::move(group_by)),
        boundaries_(std::move(boundaries)),
        default_(std::move(fallback)),
        strings_(strings) {}
  Result<Value> Evaluate(expr::Variables& vars) const override {
    auto v = group_by_->Evaluate(vars);
    if (!v.ok()) return v.status();
    Value x = v->missing() ? Value::Null() : *v;
    for (size_t i = 0; i + 1 < boundaries_.size(); ++i) {
      if (expr::Compare(x, boundaries_[i], strings_) >= 0 && expr::Compare(x, boundaries_[i + 1], strings_) < 0) {
        return boundaries_[i];
      }
    }
    if (default_.missing()) {
      return StageError(40066, "$switch could not find a matching branch for an input, and no default was specified.");
    }
    return default_;
  }

 private:
  expr::ExprPtr group_by_;
  std::vector<Value> boundaries_;
  Value default_;
  const bson::StringOrder* strings_;  // the pipeline's collation
};

Status ParseBucket(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(40201, "Argument to $bucket stage must be an object, but found type: " +
                                 std::string(TypeName(Value::Borrow(arg))));
  }
  std::optional<expr::ExprPtr> group_by;
  std::vector<Value> boundaries;
  bool has_boundaries = false;
  Value fallback;
  std::vector<AccumulatorField> fields;
  bool has_output = false;
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    std::string_view key = KeyOf(field);
    if (key == "groupBy") {
      bool path = bson_iter_type(&field) == BSON_TYPE_UTF8 && bson_iter_utf8(&field, nullptr)[0] == '$';
      if (!path && !bson::IsOperatorDocument(field)) {
        return StageError(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression");
      }
      auto e = expr::Parse(field, *ctx.scope);
      if (!e.ok()) return e.status();
      group_by = std::move(e).value();
    } else if (key == "boundaries") {
      if (bson_iter_type(&field) != BSON_TYPE_ARRAY) {
        return StageError(40200, "The $bucket 'boundaries' field must be an array");
      }
      has_boundaries = true;
      boundaries = expr::Elements(Value::Copy(field));
    } else if (key == "default") {
      fallback = Value::Copy(field);
    } else if (key == "output") {
      if (bson_iter_type(&field) != BSON_TYPE_DOCUMENT) {
        return StageError(40196, "The $bucket 'output' field must be an object");
      }
      has_output = true;
      DOCKET_RETURN_IF_ERROR(ParseAccumulatorFields(field, false, *ctx.scope, &fields));
    } else {
      return StageError(40197, "Unrecognized option to $bucket: " + std::string(key));
    }
  }
  if (!group_by || !has_boundaries) {
    return StageError(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
  }
  if (boundaries.size() < 2) return StageError(40192, "The $bucket 'boundaries' field must have at least 2 values");
  for (size_t i = 0; i + 1 < boundaries.size(); ++i) {
    const Value &a = boundaries[i], &b = boundaries[i + 1];
    if (bson::CanonicalType(a.type()) != bson::CanonicalType(b.type())) {
      return StageError(40193, "All values in the 'boundaries' option to $bucket must have the same type");
    }
    if (expr::Compare(a, b, ctx.scope->strings()) >= 0) {
      return StageError(40194, "The 'boundaries' option to $bucket must be sorted in ascending order");
    }
  }
  if (!fallback.missing() && bson::CanonicalType(fallback.type()) == bson::CanonicalType(boundaries[0].type()) &&
      expr::Compare(fallback, boundaries.front(), ctx.scope->strings()) >= 0 &&
      expr::Compare(fallback, boundaries.back(), ctx.scope->strings()) < 0) {
    return StageError(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than or "
                             "equal to the highest boundary.");
  }
  if (!has_output) {
    auto one = *Document::FromJson(R"({"": 1})");
    bson_iter_t one_it;
    one.Iterate(&one_it);
    bson_iter_next(&one_it);
    auto count = AccumulatorSpec::Parse("$sum", one_it, *ctx.scope);
    if (!count.ok()) return count.status();
    fields.push_back(AccumulatorField{"count", std::move(count).value()});
  }
  auto key = std::make_unique<BucketKey>(std::move(*group_by), std::move(boundaries), fallback, ctx.scope->strings());
  out->push_back(std::make_shared<GroupSpec>("$bucket", std::move(key), std::move(fields), ctx.scope->strings()));
  Document sort_doc = *Document::FromJson(R"({"_id": 1})");
  auto sort = query::SortSpec::Compile(sort_doc, ctx.scope->strings());
  if (!sort.ok()) return sort.status();
  out->push_back(std::make_shared<SortStageSpec>(std::move(sort_doc), std::move(sort).value()));
  return Status::OK();
}

constexpr StageEntry kStages[] = {{"$group", ParseGroup},
                                  {"$sortByCount", ParseSortByCount},
                                  {"$bucket", ParseBucket},
                                  {"$bucketAuto", ParseBucketAuto}};

}  // namespace

Status ParseAccumulatorFields(const bson_iter_t& fields, bool skip_id, expr::Scope& scope,
                              std::vector<AccumulatorField>* out) {
  bson_iter_t field;
  bson_iter_recurse(&fields, &field);
  while (bson_iter_next(&field)) {
    std::string name(KeyOf(field));
    if (skip_id && name == "_id") continue;
    if (name.empty() || name[0] == '$') {
      return StageError(40236, "The field name '" + name + "' cannot be an operator name");
    }
    if (name.find('.') != std::string::npos) {
      return StageError(40235, "The field name '" + name + "' cannot contain '.'");
    }
    if (bson_iter_type(&field) != BSON_TYPE_DOCUMENT) {
      return StageError(40234, "The field '" + name + "' must be an accumulator object");
    }
    bson_iter_t op;
    bson_iter_recurse(&field, &op);
    if (!bson_iter_next(&op)) return StageError(40238, "The field '" + name + "' must specify one accumulator");
    bson_iter_t arg = op;
    if (bson_iter_next(&op)) return StageError(40238, "The field '" + name + "' must specify one accumulator");
    auto spec = AccumulatorSpec::Parse(KeyOf(arg), arg, scope);
    if (!spec.ok()) return spec.status();
    out->push_back(AccumulatorField{std::move(name), std::move(spec).value()});
  }
  return Status::OK();
}

std::span<const StageEntry> GroupStages() { return kStages; }

}  // namespace docket::aggregate
