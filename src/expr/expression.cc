#include "expr/expression.h"

#include <chrono>
#include <cmath>
#include <unordered_map>

#include "bson/path.h"
#include "bson/validate.h"
#include "bson/value.h"
#include "expr/ops.h"

namespace docket::expr {

// ---- variables and scope ----

Variables::Variables()
    : slots_(2),
      now_millis_(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()) {}

void Variables::SetRoot(const Document& doc) {
  root_holder_ = Value::FromDocument(doc);
  slots_[kRootSlot] = root_holder_;
  slots_[kCurrentSlot] = root_holder_;
}

void Variables::SetRoot(const Value& root) {
  root_holder_ = root;
  slots_[kRootSlot] = root;
  slots_[kCurrentSlot] = root;
}

void Variables::Set(int slot, Value v) {
  if (static_cast<size_t>(slot) >= slots_.size()) slots_.resize(slot + 1);
  slots_[slot] = std::move(v);
}

const Value& Variables::Get(int slot) const {
  static const Value kMissing;
  return static_cast<size_t>(slot) < slots_.size() ? slots_[slot] : kMissing;
}

Scope::Scope() : next_slot_(2) {
  names_.emplace_back("ROOT", kRootSlot);
  names_.emplace_back("CURRENT", kCurrentSlot);
}

namespace {
bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsNonAscii(char c) { return (static_cast<unsigned char>(c) & 0x80) != 0; }
bool IsNameChar(char c) {
  return IsNonAscii(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
}  // namespace

Result<int> Scope::Define(std::string_view name) {
  if (name.empty()) return Err(16866, "empty variable names are not allowed");
  if (!IsAsciiLower(name[0]) && !IsNonAscii(name[0])) {
    return Err(16867, "'" + std::string(name) + "' starts with an invalid character for a user variable name");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Err(16868, "'" + std::string(name) + "' contains an invalid character for a variable name: '" +
                            std::string(1, c) + "'");
    }
  }
  names_.emplace_back(std::string(name), next_slot_);
  return next_slot_++;
}

int Scope::DefineSystem(std::string_view name) {
  names_.emplace_back(std::string(name), next_slot_);
  return next_slot_++;
}

void Scope::Pop(size_t count) { names_.resize(names_.size() - std::min(count, names_.size() - 2)); }

std::optional<int> Scope::Lookup(std::string_view name) const {
  for (auto it = names_.rbegin(); it != names_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

// ---- the core nodes ----

namespace {

class ConstantExpr : public Expression {
 public:
  explicit ConstantExpr(Value v) : value_(v.Owned()) {}
  Result<Value> Evaluate(Variables&) const override { return value_; }
  bool IsConstant() const override { return true; }

 private:
  Value value_;
};

// Aggregation's path rule: a document field by name; through an array, the
// path applied to each element that is a document or array, collecting the
// results that are not missing into an array.
Value Traverse(const Value& v, const bson::Path& path, size_t i) {
  if (i == path.size()) return v;
  if (v.is_document()) {
    bson_iter_t it, child;
    v.Iter(&it);
    if (!bson_iter_recurse(&it, &child)) return Value();
    const std::string& key = path[i];
    if (!bson_iter_find_w_len(&child, key.data(), static_cast<int>(key.size()))) return Value();
    return Traverse(v.Child(child), path, i + 1);
  }
  if (v.is_array()) {
    ArrayBuilder out;
    ForEachElement(v, [&](const Value& element) {
      if (element.is_document() || element.is_array()) {
        Value r = Traverse(element, path, i);
        if (!r.missing()) out.Append(r);
      }
      return true;
    });
    return out.Finish();
  }
  return Value();
}

// $$var.path, and "$path" (which is $$CURRENT.path).
class VariableExpr : public Expression {
 public:
  VariableExpr(int slot, bson::Path path) : slot_(slot), path_(std::move(path)) {}
  Result<Value> Evaluate(Variables& vars) const override { return Traverse(vars.Get(slot_), path_, 0); }

 private:
  int slot_;
  bson::Path path_;
};

class NowExpr : public Expression {
 public:
  explicit NowExpr(bson::Path path) : path_(std::move(path)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    return Traverse(Value::Date(vars.now_millis()), path_, 0);
  }

 private:
  bson::Path path_;
};

// A built object or array that holds containers may nest no deeper than a
// command may (e.g. $reduce wrapping $$value in an array at every step):
// every later reader of the value (comparison, output) then stays within a
// bounded depth.
Result<Value> WithinNestingLimit(Value built, bool holds_containers) {
  if (!holds_containers) return built;
  const std::string_view bytes = built.ContainerBytes();
  if (bson::NestingDepth(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) >= bson::kMaxCommandDepth) {
    return Status(ErrorCode::kOverflow, "an expression built a value nested deeper than " +
                                            std::to_string(bson::kMaxCommandDepth) + " levels");
  }
  return built;
}

class ObjectExpr : public Expression {
 public:
  explicit ObjectExpr(std::vector<std::pair<std::string, ExprPtr>> fields) : fields_(std::move(fields)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    DocumentBuilder out;
    bool holds_containers = false;
    for (const auto& [name, e] : fields_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      holds_containers = holds_containers || v->is_array() || v->is_document();
      out.Append(name, *v);
    }
    if (out.bytes() > kMaxDocumentSize) return Err(10334, "object expression result exceeds 16MB");
    return WithinNestingLimit(out.Finish(), holds_containers);
  }

 private:
  std::vector<std::pair<std::string, ExprPtr>> fields_;
};

class ArrayExpr : public Expression {
 public:
  explicit ArrayExpr(std::vector<ExprPtr> items) : items_(std::move(items)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    ArrayBuilder out;
    bool holds_containers = false;
    size_t bytes = 0;
    for (const ExprPtr& e : items_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      holds_containers = holds_containers || v->is_array() || v->is_document();
      if (!v->missing()) {
        bytes += v->is_array() || v->is_document() ? v->ContainerBytes().size() : 16;
        if (bytes > kMaxDocumentSize) return Err(10334, "array expression result exceeds 16MB");
      }
      out.Append(*v);
    }
    return WithinNestingLimit(out.Finish(), holds_containers);
  }

 private:
  std::vector<ExprPtr> items_;
};

class FunctionExpr : public Expression {
 public:
  FunctionExpr(std::string_view name, std::vector<ExprPtr> args, EvalFn fn, const bson::StringOrder* strings)
      : name_(name), args_(std::move(args)), fn_(fn), strings_(strings) {}
  Result<Value> Evaluate(Variables& vars) const override {
    Args values;
    values.reserve(args_.size());
    for (const ExprPtr& e : args_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      values.push_back(std::move(v).value());
    }
    vars.set_strings(strings_);
    return fn_(values, vars);
  }

 private:
  std::string_view name_;
  std::vector<ExprPtr> args_;
  EvalFn fn_;
  const bson::StringOrder* strings_;  // the parse scope's collation
};

// ---- the operator table ----

struct OperatorTable {
  std::unordered_map<std::string_view, const FunctionEntry*> functions;
  std::unordered_map<std::string_view, SpecialParser> specials;
};

const OperatorTable& Operators() {
  static const OperatorTable table = [] {
    OperatorTable t;
    for (auto family : {ArithmeticFunctions(), ComparisonFunctions(), StringFunctions(), ArrayFunctions(),
                        TypeFunctions(), ObjectFunctions()}) {
      for (const FunctionEntry& f : family) t.functions.emplace(f.name, &f);
    }
    for (auto family : {LogicSpecials(), StringSpecials(), ArraySpecials(), TypeSpecials(), ObjectSpecials(),
                        DateSpecials()}) {
      for (const SpecialEntry& s : family) t.specials.emplace(s.name, s.parse);
    }
    return t;
  }();
  return table;
}

Result<ExprPtr> ParseOperator(const bson_iter_t& op, Scope& scope) {
  std::string_view name(bson_iter_key(&op), bson_iter_key_len(&op));
  const OperatorTable& table = Operators();
  if (auto special = table.specials.find(name); special != table.specials.end()) {
    return special->second(name, op, scope);
  }
  auto function = table.functions.find(name);
  if (function == table.functions.end()) {
    return Status(ErrorCode::kInvalidPipelineOperator, "Unrecognized expression '" + std::string(name) + "'");
  }
  auto args = ParseArgs(op, scope);
  if (!args.ok()) return args.status();
  const FunctionEntry& f = *function->second;
  DOCKET_RETURN_IF_ERROR(CheckArgCount(name, args->size(), f.min_args, f.max_args));
  return MakeFunction(f.name, std::move(args).value(), f.fn, scope.strings());
}

Result<ExprPtr> ParseVariableReference(std::string_view text, Scope& scope) {
  // text is "$$name" or "$$name.path"
  std::string_view rest = text.substr(2);
  size_t dot = rest.find('.');
  std::string_view name = rest.substr(0, dot);
  bson::Path path;
  if (dot != std::string_view::npos) {
    std::string_view dotted = rest.substr(dot + 1);
    DOCKET_RETURN_IF_ERROR(ValidateFieldPath(dotted));
    path = bson::SplitPath(dotted);
  }
  if (name.empty()) return Err(16869, "empty variable names are not allowed");
  if (name == "NOW") return ExprPtr(std::make_unique<NowExpr>(std::move(path)));
  if (name == "REMOVE") return Constant(Value());
  if (name == "CLUSTER_TIME" || name == "SEARCH_META" || name == "USER_ROLES") {
    return Status(ErrorCode::kCommandNotSupported, "$$" + std::string(name) + " is not available on Docket");
  }
  auto slot = scope.Lookup(name);
  if (!slot) return Err(17276, "Use of undefined variable: " + std::string(name));
  return ExprPtr(std::make_unique<VariableExpr>(*slot, std::move(path)));
}

}  // namespace

// ---- public entry points ----

Status ValidateFieldPath(std::string_view dotted) {
  if (dotted.empty()) return Err(40352, "FieldPath cannot be constructed with empty string");
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string_view part = dotted.substr(start, dot == std::string_view::npos ? dotted.npos : dot - start);
    if (part.empty()) return Err(15998, "FieldPath field names may not be empty strings.");
    if (part[0] == '$') {
      return Err(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    }
    if (part.find('\0') != std::string_view::npos) return Err(16411, "FieldPath field names may not contain '\\0'.");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return Status::OK();
}

ExprPtr Constant(Value v) { return std::make_unique<ConstantExpr>(std::move(v)); }

Result<ExprPtr> FieldPath(std::string_view dotted) {
  DOCKET_RETURN_IF_ERROR(ValidateFieldPath(dotted));
  return ExprPtr(std::make_unique<VariableExpr>(kCurrentSlot, bson::SplitPath(dotted)));
}

Result<ExprPtr> ParseObject(std::string_view spec, Scope& scope) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(spec.data()), spec.size())) {
    return Status(ErrorCode::kInvalidBSON, "expression is not valid BSON");
  }
  std::vector<std::pair<std::string, ExprPtr>> fields;
  while (bson_iter_next(&it)) {
    std::string name(bson_iter_key(&it), bson_iter_key_len(&it));
    if (name.empty()) return Err(16412, "field names in an object expression may not be empty");
    if (name[0] == '$') {
      return Err(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    }
    if (name.find('.') != std::string::npos) {
      return Err(16412, "FieldPath field names may not contain '.'. Consider using $getField or $setField.");
    }
    for (const auto& f : fields) {
      if (f.first == name) return Err(16406, "duplicate field name specified in object literal: " + name);
    }
    auto e = Parse(it, scope);
    if (!e.ok()) return e.status();
    fields.emplace_back(std::move(name), std::move(e).value());
  }
  return ExprPtr(std::make_unique<ObjectExpr>(std::move(fields)));
}

Result<ExprPtr> Parse(const bson_iter_t& spec, Scope& scope) {
  switch (bson_iter_type(&spec)) {
    case BSON_TYPE_UTF8: {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&spec, &len);
      std::string_view text(s, len);
      if (text.empty() || text[0] != '$') return Constant(Value::Borrow(spec));
      if (text.size() >= 2 && text[1] == '$') return ParseVariableReference(text, scope);
      if (text.size() == 1) return Err(16872, "'$' by itself is not a valid FieldPath");
      return FieldPath(text.substr(1));
    }
    case BSON_TYPE_ARRAY: {
      std::vector<ExprPtr> items;
      bson_iter_t child;
      bson_iter_recurse(&spec, &child);
      while (bson_iter_next(&child)) {
        auto e = Parse(child, scope);
        if (!e.ok()) return e.status();
        items.push_back(std::move(e).value());
      }
      return ExprPtr(std::make_unique<ArrayExpr>(std::move(items)));
    }
    case BSON_TYPE_DOCUMENT: {
      bson_iter_t child;
      bson_iter_recurse(&spec, &child);
      if (!bson_iter_next(&child)) return ParseObject(bson::SubDocumentBytes(spec), scope);
      if (bson_iter_key(&child)[0] != '$') return ParseObject(bson::SubDocumentBytes(spec), scope);
      bson_iter_t op = child;
      if (bson_iter_next(&child)) {
        return Err(15983, "An object representing an expression must have exactly one field: " +
                              bson::ValueToJson(spec));
      }
      return ParseOperator(op, scope);
    }
    default:
      return Constant(Value::Borrow(spec));
  }
}

Result<Value> EvaluateOn(const Expression& e, const Document& doc, Variables& vars) {
  vars.SetRoot(doc);
  return e.Evaluate(vars);
}

// ---- helpers for the operator families (ops.h) ----

ExprPtr CurrentDocument() { return std::make_unique<VariableExpr>(kCurrentSlot, bson::Path()); }

ExprPtr MakeFunction(std::string_view name, std::vector<ExprPtr> args, EvalFn fn, const bson::StringOrder* strings) {
  return std::make_unique<FunctionExpr>(name, std::move(args), fn, strings);
}

Result<std::vector<ExprPtr>> ParseArgs(const bson_iter_t& arg, Scope& scope) {
  std::vector<ExprPtr> out;
  if (bson_iter_type(&arg) != BSON_TYPE_ARRAY) {
    auto e = Parse(arg, scope);
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
    return out;
  }
  bson_iter_t child;
  bson_iter_recurse(&arg, &child);
  while (bson_iter_next(&child)) {
    auto e = Parse(child, scope);
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
  }
  return out;
}

Status CheckArgCount(std::string_view name, size_t count, int min_args, int max_args) {
  const auto n = static_cast<int>(count);
  if (min_args == max_args && n != min_args) {
    return Err(16020, "Expression " + std::string(name) + " takes exactly " + std::to_string(min_args) +
                          " arguments. " + std::to_string(n) + " were passed in.");
  }
  if (n < min_args) {
    return Err(16020, "Expression " + std::string(name) + " takes at least " + std::to_string(min_args) +
                          " arguments, and " + std::to_string(n) + " were passed in.");
  }
  if (max_args >= 0 && n > max_args) {
    return Err(16020, "Expression " + std::string(name) + " takes at most " + std::to_string(max_args) +
                          " arguments, and " + std::to_string(n) + " were passed in.");
  }
  return Status::OK();
}

Result<std::map<std::string, Value, std::less<>>> ReadNamedArgs(std::string_view op, const bson_iter_t& arg,
                                                               std::span<const std::string_view> allowed,
                                                               int not_object_code, int unknown_code) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return Err(not_object_code, std::string(op) + " only supports an object as its argument");
  }
  std::map<std::string, Value, std::less<>> out;
  bson_iter_t child;
  bson_iter_recurse(&arg, &child);
  while (bson_iter_next(&child)) {
    std::string_view key(bson_iter_key(&child), bson_iter_key_len(&child));
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) return Err(unknown_code, std::string(op) + " found an unknown argument: " + std::string(key));
    out.emplace(std::string(key), Value::Borrow(child));
  }
  return out;
}

Result<ExprPtr> ParseNamed(const std::map<std::string, Value, std::less<>>& args, std::string_view name,
                           Scope& scope) {
  auto found = args.find(name);
  if (found == args.end()) return ExprPtr();
  bson_iter_t it;
  found->second.Iter(&it);
  return Parse(it, scope);
}

Result<std::vector<ExprPtr>> ParseNamedArgs(std::string_view op, const bson_iter_t& arg,
                                            std::span<const std::string_view> keys, int not_object_code,
                                            int unknown_code, Scope& scope) {
  auto named = ReadNamedArgs(op, arg, keys, not_object_code, unknown_code);
  if (!named.ok()) return named.status();
  std::vector<ExprPtr> parts;
  for (std::string_view key : keys) {
    auto e = ParseNamed(*named, key, scope);
    if (!e.ok()) return e.status();
    parts.push_back(std::move(e).value());
  }
  return parts;
}

bool AsWholeInt64(const Value& v, int64_t* out) {
  switch (v.type()) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
      *out = v.AsInt64();
      return true;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128: {
      double d = v.AsDouble();
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) {
        return false;
      }
      *out = static_cast<int64_t>(d);
      return true;
    }
    default:
      return false;
  }
}

bool AsInt32(const Value& v, int32_t* out) {
  int64_t n = 0;
  if (!AsWholeInt64(v, &n) || n < INT32_MIN || n > INT32_MAX) return false;
  *out = static_cast<int32_t>(n);
  return true;
}

bool AsDateMillis(const Value& v, int64_t* out) {
  bson_iter_t it;
  switch (v.type()) {
    case BSON_TYPE_DATE_TIME:
      *out = v.AsDateMillis();
      return true;
    case BSON_TYPE_TIMESTAMP: {
      v.Iter(&it);
      uint32_t t = 0, i = 0;
      bson_iter_timestamp(&it, &t, &i);
      *out = static_cast<int64_t>(t) * 1000;
      return true;
    }
    case BSON_TYPE_OID:
      v.Iter(&it);
      *out = static_cast<int64_t>(bson_oid_get_time_t(bson_iter_oid(&it))) * 1000;
      return true;
    default:
      return false;
  }
}

}  // namespace docket::expr
