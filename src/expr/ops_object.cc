// Object expressions: $mergeObjects, $getField, $setField, $unsetField, and
// the small value functions $bsonSize, $binarySize and $rand.
#include <random>

#include "expr/ops.h"
#include "bson/hash_value.h"

namespace docket::expr {
namespace {

std::string T(const Value& v) { return TypeName(v); }

// The fields of a document value, in order.
std::vector<std::pair<std::string, Value>> Fields(const Value& doc) {
  std::vector<std::pair<std::string, Value>> out;
  ForEachElement(doc, [&](const Value& f) {
    bson_iter_t it;
    f.Iter(&it);
    out.emplace_back(std::string(bson_iter_key(&it), bson_iter_key_len(&it)), f);
    return true;
  });
  return out;
}

// Sets `name` in `fields`: replaces in place, or appends; missing removes.
void SetField(std::vector<std::pair<std::string, Value>>* fields, const std::string& name, const Value& v) {
  for (auto it = fields->begin(); it != fields->end(); ++it) {
    if (it->first != name) continue;
    if (v.missing()) fields->erase(it);
    else it->second = v;
    return;
  }
  if (!v.missing()) fields->emplace_back(name, v);
}

Value Build(const std::vector<std::pair<std::string, Value>>& fields) {
  DocumentBuilder out;
  for (const auto& [k, v] : fields) out.Append(k, v);
  return out.Finish();
}

Result<Value> MergeObjects(const Args& args, Variables&) {
  std::vector<std::pair<std::string, Value>> fields;
  for (size_t i = 0; i < args.size(); ++i) {
    const Value& v = args[i];
    if (v.is_nullish()) continue;
    if (!v.is_document()) {
      return Err(40400, "$mergeObjects requires object inputs, but input " + v.ToJson() + " is of type " + T(v));
    }
    for (auto& [k, value] : Fields(v)) SetField(&fields, k, value);
  }
  return Build(fields);
}

Result<Value> BsonSize(const Args& args, Variables&) {
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_document()) return Err(31393, "$bsonSize requires a document input, found: " + T(args[0]));
  return Value::Integer(static_cast<int64_t>(args[0].ContainerBytes().size()));
}

Result<Value> BinarySize(const Args& args, Variables&) {
  const Value& v = args[0];
  if (v.is_nullish()) return Value::Null();
  if (v.is_string()) return Value::Integer(static_cast<int64_t>(v.AsString().size()));
  if (v.type() == BSON_TYPE_BINARY) {
    bson_iter_t it;
    v.Iter(&it);
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_binary(&it, &subtype, &len, &data);
    return Value::Integer(len);
  }
  return Err(51276, "$binarySize requires a string or BinData argument, found: " + T(v));
}

// $toHashedIndexKey: MongoDB's hash of the value, as a hashed index keys it
// (missing hashes as null).
Result<Value> ToHashedIndexKey(const Args& args, Variables&) {
  const Value v = args[0].missing() ? Value::Null() : args[0];
  bson_iter_t it;
  v.Iter(&it);
  return Value::Int64(bson::HashValue(it));
}

class RandExpr : public Expression {
 public:
  Result<Value> Evaluate(Variables&) const override {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return Value::Double(std::uniform_real_distribution<double>(0.0, 1.0)(engine));
  }
};

Result<ExprPtr> ParseRand(std::string_view, const bson_iter_t& arg, Scope&) {
  bson_iter_t child;
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT || (bson_iter_recurse(&arg, &child) && bson_iter_next(&child))) {
    return Err(10065, "$rand does not currently accept arguments");
  }
  return ExprPtr(std::make_unique<RandExpr>());
}

// {$meta: "textScore"}: the current document's text score. Errors:
// Location40218 when the document has none (no first $match with $text, or
// a stage since made new documents).
class MetaExpr : public Expression {
 public:
  Result<Value> Evaluate(Variables& vars) const override {
    const Value& root = vars.Get(kRootSlot);
    if (!root.has_text_score()) {
      return Err(40218, "query requires text score metadata, but it is not available");
    }
    return Value::Double(root.text_score());
  }
};

Result<ExprPtr> ParseMeta(std::string_view, const bson_iter_t& arg, Scope&) {
  if (bson_iter_type(&arg) != BSON_TYPE_UTF8) return Err(17307, "$meta only supports string arguments");
  const std::string kind = bson_iter_utf8(&arg, nullptr);
  if (kind == "textScore") return ExprPtr(std::make_unique<MetaExpr>());
  for (const char* known : {"randVal", "searchScore", "searchHighlights", "geoNearDistance", "geoNearPoint",
                            "recordId", "indexKey", "sortKey"}) {
    if (kind == known) {
      return Status(ErrorCode::kBadValue, "$meta: \"" + kind + "\" is not supported by Docket (only \"textScore\")");
    }
  }
  return Err(17308, "Unsupported argument to $meta: " + kind);
}

// $getField / $setField / $unsetField share their field and input arguments.
class FieldExpr : public Expression {
 public:
  enum class Kind { kGet, kSet, kUnset };
  FieldExpr(Kind kind, std::string field, ExprPtr input, ExprPtr value)
      : kind_(kind), field_(std::move(field)), input_(std::move(input)), value_(std::move(value)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (input->is_nullish()) return kind_ == Kind::kGet && input->missing() ? Value() : Value::Null();
    if (!input->is_document()) {
      return kind_ == Kind::kGet ? Err(3041705, "$getField requires 'input' to evaluate to type Object, but got " + T(*input))
                                 : Err(4161105, "$setField requires 'input' to evaluate to type Object");
    }
    std::vector<std::pair<std::string, Value>> fields = Fields(*input);
    if (kind_ == Kind::kGet) {
      for (const auto& [k, v] : fields) {
        if (k == field_) return v;
      }
      return Value();
    }
    Value value;
    if (kind_ == Kind::kSet) {
      auto v = value_->Evaluate(vars);
      if (!v.ok()) return v.status();
      value = std::move(v).value();
    }
    SetField(&fields, field_, value);
    return Build(fields);
  }

 private:
  Kind kind_;
  std::string field_;
  ExprPtr input_, value_;
};

Result<ExprPtr> ParseFieldOp(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  FieldExpr::Kind kind = name == "$getField" ? FieldExpr::Kind::kGet
                         : name == "$setField" ? FieldExpr::Kind::kSet
                                               : FieldExpr::Kind::kUnset;
  std::string field;
  ExprPtr input, value;
  bson_iter_t first;
  const bool operator_argument = bson_iter_type(&arg) == BSON_TYPE_DOCUMENT && bson_iter_recurse(&arg, &first) &&
                                 bson_iter_next(&first) && bson_iter_key(&first)[0] == '$';
  if (kind == FieldExpr::Kind::kGet && bson_iter_type(&arg) == BSON_TYPE_UTF8) {
    field = bson_iter_utf8(&arg, nullptr);  // {$getField: "name"}: of $$CURRENT
  } else if (kind == FieldExpr::Kind::kGet && operator_argument) {
    // {$getField: {$literal: "$price"}}: the field name as an expression (the
    // manual's way to name a field that starts with '$'), a constant string.
    bson_iter_t only = first;
    if (std::string_view(bson_iter_key(&first)) != "$literal" || bson_iter_next(&only) ||
        bson_iter_type(&first) != BSON_TYPE_UTF8) {
      return Err(5654602, "$getField requires 'field' to evaluate to a constant of type String");
    }
    field = bson_iter_utf8(&first, nullptr);
  } else {
    // (Two calls: an initializer_list's array lives only as long as its full expression.)
    auto named = kind == FieldExpr::Kind::kSet ? ReadNamedArgs(name, arg, {"field", "input", "value"}, 3041701, 3041702)
                                               : ReadNamedArgs(name, arg, {"field", "input"}, 3041701, 3041702);
    if (!named.ok()) return named.status();
    auto f = named->find("field");
    if (f == named->end()) return Err(3041703, std::string(name) + " requires 'field' to be specified");
    Value fv = f->second;
    if (fv.is_document()) {
      // {$literal: "name"} is allowed for names that start with '$'.
      bson_iter_t it, child;
      fv.Iter(&it);
      bson_iter_recurse(&it, &child);
      if (bson_iter_next(&child) && std::string_view(bson_iter_key(&child)) == "$literal") fv = fv.Child(child);
    }
    if (!fv.is_string()) {
      return Err(3041704, std::string(name) + " requires 'field' to evaluate to a constant of type String");
    }
    field = std::string(fv.AsString());
    auto in = ParseNamed(*named, "input", scope);
    if (!in.ok()) return in.status();
    input = std::move(in).value();
    if (kind != FieldExpr::Kind::kGet && !input) return Err(4161102, std::string(name) + " requires 'input' to be specified");
    if (kind == FieldExpr::Kind::kSet) {
      auto v = ParseNamed(*named, "value", scope);
      if (!v.ok()) return v.status();
      if (!*v) return Err(4161103, "$setField requires 'value' to be specified");
      value = std::move(v).value();
    }
  }
  if (!input) input = CurrentDocument();
  return ExprPtr(std::make_unique<FieldExpr>(kind, std::move(field), std::move(input), std::move(value)));
}

constexpr FunctionEntry kFunctions[] = {
    {"$mergeObjects", 0, -1, MergeObjects},
    {"$bsonSize", 1, 1, BsonSize},
    {"$binarySize", 1, 1, BinarySize},
    {"$toHashedIndexKey", 1, 1, ToHashedIndexKey},
};

constexpr SpecialEntry kSpecials[] = {
    {"$getField", ParseFieldOp}, {"$setField", ParseFieldOp}, {"$unsetField", ParseFieldOp}, {"$rand", ParseRand},
    {"$meta", ParseMeta}};

}  // namespace

std::span<const FunctionEntry> ObjectFunctions() { return kFunctions; }
std::span<const SpecialEntry> ObjectSpecials() { return kSpecials; }

}  // namespace docket::expr
