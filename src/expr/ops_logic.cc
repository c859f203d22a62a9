// Comparison ($eq $ne $gt $gte $lt $lte $cmp), boolean ($and $or $not) and
// conditional ($cond $ifNull $switch) expressions, and the binding forms
// $let and $literal. Comparisons use MongoDB's total order over values, in
// which a missing value is below null ({$eq: ["$missing", null]} is false).
#include "expr/ops.h"

namespace docket::expr {
namespace {

template <bool (*Test)(int)>
Result<Value> CompareFn(const Args& args, Variables& vars) {
  return Value::Bool(Test(Compare(args[0], args[1], vars.strings())));
}
bool IsEq(int c) { return c == 0; }
bool IsNe(int c) { return c != 0; }
bool IsGt(int c) { return c > 0; }
bool IsGte(int c) { return c >= 0; }
bool IsLt(int c) { return c < 0; }
bool IsLte(int c) { return c <= 0; }

Result<Value> Cmp(const Args& args, Variables& vars) {
  int c = Compare(args[0], args[1], vars.strings());
  return Value::Int32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

Result<Value> NotFn(const Args& args, Variables&) { return Value::Bool(!args[0].Truthy()); }

// $and / $or: evaluate left to right and stop at the first deciding value.
class LogicExpr : public Expression {
 public:
  LogicExpr(bool is_and, std::vector<ExprPtr> args) : is_and_(is_and), args_(std::move(args)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    for (const ExprPtr& e : args_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (v->Truthy() != is_and_) return Value::Bool(!is_and_);
    }
    return Value::Bool(is_and_);
  }

 private:
  bool is_and_;
  std::vector<ExprPtr> args_;
};

Result<ExprPtr> ParseLogic(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto args = ParseArgs(arg, scope);
  if (!args.ok()) return args.status();
  return ExprPtr(std::make_unique<LogicExpr>(name == "$and", std::move(args).value()));
}

class CondExpr : public Expression {
 public:
  CondExpr(ExprPtr if_e, ExprPtr then_e, ExprPtr else_e)
      : if_(std::move(if_e)), then_(std::move(then_e)), else_(std::move(else_e)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto c = if_->Evaluate(vars);
    if (!c.ok()) return c.status();
    return (c->Truthy() ? then_ : else_)->Evaluate(vars);
  }

 private:
  ExprPtr if_, then_, else_;
};

Result<ExprPtr> ParseCond(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    auto args = ParseArgs(arg, scope);
    if (!args.ok()) return args.status();
    DOCKET_RETURN_IF_ERROR(CheckArgCount(name, args->size(), 3, 3));
    auto& a = *args;
    return ExprPtr(std::make_unique<CondExpr>(std::move(a[0]), std::move(a[1]), std::move(a[2])));
  }
  auto named = ReadNamedArgs(name, arg, {"if", "then", "else"}, 17083, 17083);
  if (!named.ok()) return named.status();
  ExprPtr parts[3];
  const char* keys[3] = {"if", "then", "else"};
  for (int i = 0; i < 3; ++i) {
    auto e = ParseNamed(*named, keys[i], scope);
    if (!e.ok()) return e.status();
    if (!*e) return Err(17080 + i, std::string("Missing '") + keys[i] + "' parameter to $cond");
    parts[i] = std::move(e).value();
  }
  return ExprPtr(std::make_unique<CondExpr>(std::move(parts[0]), std::move(parts[1]), std::move(parts[2])));
}

// $ifNull: [e1, ..., en, replacement]: the first ei that is neither null nor
// missing, else the replacement.
class IfNullExpr : public Expression {
 public:
  explicit IfNullExpr(std::vector<ExprPtr> args) : args_(std::move(args)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    for (size_t i = 0; i < args_.size(); ++i) {
      auto v = args_[i]->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (i + 1 == args_.size() || !v->is_nullish()) return v;
    }
    return Value();
  }

 private:
  std::vector<ExprPtr> args_;
};

Result<ExprPtr> ParseIfNull(std::string_view, const bson_iter_t& arg, Scope& scope) {
  auto args = ParseArgs(arg, scope);
  if (!args.ok()) return args.status();
  if (args->size() < 2) {
    return Err(1257300, "$ifNull needs at least two arguments, had: " + std::to_string(args->size()));
  }
  return ExprPtr(std::make_unique<IfNullExpr>(std::move(args).value()));
}

class SwitchExpr : public Expression {
 public:
  SwitchExpr(std::vector<std::pair<ExprPtr, ExprPtr>> branches, ExprPtr fallback)
      : branches_(std::move(branches)), default_(std::move(fallback)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    for (const auto& [c, then] : branches_) {
      auto v = c->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (v->Truthy()) return then->Evaluate(vars);
    }
    if (!default_) {
      return Err(40066, "$switch could not find a matching branch for an input, and no default was specified.");
    }
    return default_->Evaluate(vars);
  }

 private:
  std::vector<std::pair<ExprPtr, ExprPtr>> branches_;
  ExprPtr default_;
};

Result<ExprPtr> ParseSwitch(std::string_view, const bson_iter_t& arg, Scope& scope) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return Err(40060, "$switch requires an object as an argument, found: " + std::string(TypeName(Value::Borrow(arg))));
  }
  std::vector<std::pair<ExprPtr, ExprPtr>> branches;
  ExprPtr fallback;
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    std::string_view key = bson_iter_key(&field);
    if (key == "default") {
      auto e = Parse(field, scope);
      if (!e.ok()) return e.status();
      fallback = std::move(e).value();
      continue;
    }
    if (key != "branches") return Err(40067, "$switch found an unknown argument: " + std::string(key));
    if (bson_iter_type(&field) != BSON_TYPE_ARRAY) {
      return Err(40061, "$switch expected an array for 'branches', found: " +
                            std::string(TypeName(Value::Borrow(field))));
    }
    bson_iter_t branch;
    bson_iter_recurse(&field, &branch);
    while (bson_iter_next(&branch)) {
      if (bson_iter_type(&branch) != BSON_TYPE_DOCUMENT) {
        return Err(40062, "$switch expected each branch to be an object, found: " +
                              std::string(TypeName(Value::Borrow(branch))));
      }
      ExprPtr c, then;
      bson_iter_t part;
      bson_iter_recurse(&branch, &part);
      while (bson_iter_next(&part)) {
        std::string_view pk = bson_iter_key(&part);
        if (pk != "case" && pk != "then") return Err(40063, "$switch found an unknown argument to a branch: " + std::string(pk));
        auto e = Parse(part, scope);
        if (!e.ok()) return e.status();
        (pk == "case" ? c : then) = std::move(e).value();
      }
      if (!c) return Err(40064, "$switch requires each branch have a 'case' expression");
      if (!then) return Err(40065, "$switch requires each branch have a 'then' expression.");
      branches.emplace_back(std::move(c), std::move(then));
    }
  }
  if (branches.empty()) return Err(40068, "$switch requires at least one branch.");
  return ExprPtr(std::make_unique<SwitchExpr>(std::move(branches), std::move(fallback)));
}

// $let: {vars: {name: expr, ...}, in: expr}. The vars are evaluated in the
// enclosing scope, then bound for `in`.
class LetExpr : public Expression {
 public:
  LetExpr(std::vector<std::pair<int, ExprPtr>> vars, ExprPtr in) : vars_(std::move(vars)), in_(std::move(in)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    std::vector<Value> values;
    values.reserve(vars_.size());
    for (const auto& [slot, e] : vars_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      values.push_back(std::move(v).value());
    }
    for (size_t i = 0; i < vars_.size(); ++i) vars.Set(vars_[i].first, std::move(values[i]));
    return in_->Evaluate(vars);
  }

 private:
  std::vector<std::pair<int, ExprPtr>> vars_;
  ExprPtr in_;
};

Result<ExprPtr> ParseLet(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"vars", "in"}, 16874, 16874);
  if (!named.ok()) return named.status();
  auto vars_it = named->find("vars");
  if (vars_it == named->end()) return Err(16875, "Missing 'vars' parameter to $let");
  if (!named->count("in")) return Err(16876, "Missing 'in' parameter to $let");
  if (vars_it->second.type() != BSON_TYPE_DOCUMENT) return Err(16874, "$let's 'vars' must be an object");
  // Parse the values first (in the outer scope), then bind the names.
  std::vector<std::pair<std::string, ExprPtr>> parsed;
  bson_iter_t vars_doc, var;
  vars_it->second.Iter(&vars_doc);
  bson_iter_recurse(&vars_doc, &var);
  while (bson_iter_next(&var)) {
    auto e = Parse(var, scope);
    if (!e.ok()) return e.status();
    parsed.emplace_back(bson_iter_key(&var), std::move(e).value());
  }
  std::vector<std::pair<int, ExprPtr>> bound;
  for (auto& [var_name, e] : parsed) {
    auto slot = scope.Define(var_name);
    if (!slot.ok()) {
      scope.Pop(bound.size());
      return slot.status();
    }
    bound.emplace_back(*slot, std::move(e));
  }
  auto in = ParseNamed(*named, "in", scope);
  scope.Pop(bound.size());
  if (!in.ok()) return in.status();
  return ExprPtr(std::make_unique<LetExpr>(std::move(bound), std::move(in).value()));
}

Result<ExprPtr> ParseLiteral(std::string_view, const bson_iter_t& arg, Scope&) { return Constant(Value::Borrow(arg)); }

constexpr FunctionEntry kComparisons[] = {
    {"$eq", 2, 2, CompareFn<IsEq>},   {"$ne", 2, 2, CompareFn<IsNe>},   {"$gt", 2, 2, CompareFn<IsGt>},
    {"$gte", 2, 2, CompareFn<IsGte>}, {"$lt", 2, 2, CompareFn<IsLt>},   {"$lte", 2, 2, CompareFn<IsLte>},
    {"$cmp", 2, 2, Cmp},              {"$not", 1, 1, NotFn},
};

constexpr SpecialEntry kSpecials[] = {
    {"$and", ParseLogic}, {"$or", ParseLogic},   {"$cond", ParseCond},       {"$ifNull", ParseIfNull},
    {"$switch", ParseSwitch}, {"$let", ParseLet}, {"$literal", ParseLiteral},
};

}  // namespace

std::span<const FunctionEntry> ComparisonFunctions() { return kComparisons; }
std::span<const SpecialEntry> LogicSpecials() { return kSpecials; }

}  // namespace docket::expr
