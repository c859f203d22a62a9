#include "query/filter.h"

#include <random>

#include "text/regex.h"

#include <string_view>
#include <vector>

#include "bson/path.h"
#include "bson/value.h"
#include "expr/expression.h"
#include "expr/let.h"
#include "geo/geometry.h"
#include "query/json_schema.h"
#include "query/predicates.h"

namespace docket::query {

// What a node is matched against: a whole document, or (inside $elemMatch)
// one array element. `position`, when set, receives the index of the array
// element that made the match: what the positional `$` operator refers to.
struct MatchInput {
  const uint8_t* doc = nullptr;
  size_t len = 0;
  const bson_iter_t* value = nullptr;
  size_t* position = nullptr;
  // $expr: the variables to evaluate in (ROOT already the document), or
  // nullptr for a fresh set; where to report an evaluation error.
  expr::Variables* vars = nullptr;
  Status* error = nullptr;
};

// A filter's $text: its options, and once bound to the collection's text
// index, the query made for that index.
struct TextBinding {
  text::TextSearchOptions options;
  std::shared_ptr<const text::TextIndexSpec> spec;
  std::shared_ptr<const text::TextQuery> query;
};

// A filter's $near / $nearSphere / $geoNear: the field and the query.
struct NearBinding {
  bson::Path path;
  std::string dotted;
  geo::NearQuery query;
};

// The values of a command's `let`, each in the slot its name was given.
struct LetValues {
  expr::Bindings bindings;
};

// A node of the compiled filter tree. Immutable.
class FilterNode {
 public:
  virtual ~FilterNode() = default;
  virtual bool Matches(const MatchInput& in) const = 0;
};

namespace {

using NodePtr = std::unique_ptr<FilterNode>;
using bson::kNoPosition;

// Walks `path` from the input and reports whether visit held anywhere; the
// walk's outermost array index goes to in.position on success.
bool Walk(const MatchInput& in, const bson::Path& path, bool expand_leaf_arrays,
          bson::FunctionRef<bool(const bson_iter_t*)> visit) {
  size_t position = kNoPosition;
  bson::VisitOptions options{expand_leaf_arrays, in.position != nullptr ? &position : nullptr};
  bool matched = in.value != nullptr ? bson::VisitPathFromValue(*in.value, path, visit, options)
                                     : bson::VisitPath(in.doc, in.len, path, visit, options);
  if (matched && in.position != nullptr && position != kNoPosition) *in.position = position;
  return matched;
}

// Matches when any value reached by the path passes the predicate.
class PathNode : public FilterNode {
 public:
  PathNode(bson::Path path, PredicatePtr predicate, bool expand_leaf_arrays = true)
      : path_(std::move(path)), predicate_(std::move(predicate)), expand_leaf_arrays_(expand_leaf_arrays) {}
  bool Matches(const MatchInput& in) const override {
    // An empty path is an $elemMatch value test: the element itself, whole.
    return Walk(in, path_, expand_leaf_arrays_ && !path_.empty(),
                [this](const bson_iter_t* v) { return predicate_->Test(v); });
  }

 private:
  bson::Path path_;
  PredicatePtr predicate_;
  bool expand_leaf_arrays_;
};

// {path: {$elemMatch: ...}}: some element of an array at `path` matches `sub`
// — as a value (`{$gt: 1, $lt: 5}`) or as a document (`{a: 1, b: 2}`).
class ElemMatchNode : public FilterNode {
 public:
  ElemMatchNode(bson::Path path, NodePtr sub, bool value_form)
      : path_(std::move(path)), sub_(std::move(sub)), value_form_(value_form) {}
  bool Matches(const MatchInput& in) const override {
    size_t hit = kNoPosition;
    auto visit = [&](const bson_iter_t* v) {
      if (v == nullptr || bson_iter_type(v) != BSON_TYPE_ARRAY) return false;
      bson_iter_t element;
      bson_iter_recurse(v, &element);
      for (size_t i = 0; bson_iter_next(&element); ++i) {
        if (ElementMatches(element)) {
          hit = i;
          return true;
        }
      }
      return false;
    };
    size_t outer = kNoPosition;
    MatchInput walk_in = in;
    walk_in.position = in.position != nullptr ? &outer : nullptr;
    if (!Walk(walk_in, path_, /*expand_leaf_arrays=*/false, visit)) return false;
    if (in.position != nullptr) *in.position = outer != kNoPosition ? outer : hit;
    return true;
  }

 private:
  bool ElementMatches(const bson_iter_t& element) const {
    if (value_form_) return sub_->Matches(MatchInput{.value = &element});
    bson_type_t t = bson_iter_type(&element);
    if (t != BSON_TYPE_DOCUMENT && t != BSON_TYPE_ARRAY) return false;
    std::string_view bytes = bson::SubDocumentBytes(element);
    return sub_->Matches(MatchInput{.doc = reinterpret_cast<const uint8_t*>(bytes.data()), .len = bytes.size()});
  }

  bson::Path path_;
  NodePtr sub_;
  bool value_form_;
};

class NotNode : public FilterNode {
 public:
  explicit NotNode(NodePtr child) : child_(std::move(child)) {}
  bool Matches(const MatchInput& in) const override {
    MatchInput inner = in;
    inner.position = nullptr;  // a negation matches no particular element
    return !child_->Matches(inner);
  }

 private:
  NodePtr child_;
};

enum class Logic { kAnd, kOr, kNor };

class LogicNode : public FilterNode {
 public:
  LogicNode(Logic logic, std::vector<NodePtr> children) : logic_(logic), children_(std::move(children)) {}
  bool Matches(const MatchInput& in) const override {
    switch (logic_) {
      case Logic::kAnd:
        for (const auto& c : children_) if (!c->Matches(in)) return false;
        return true;
      case Logic::kOr:
        for (const auto& c : children_) if (c->Matches(in)) return true;
        return false;
      case Logic::kNor: {
        MatchInput inner = in;
        inner.position = nullptr;
        for (const auto& c : children_) if (c->Matches(inner)) return false;
        return true;
      }
    }
    return false;
  }

 private:
  Logic logic_;
  std::vector<NodePtr> children_;
};

class ConstantNode : public FilterNode {
 public:
  explicit ConstantNode(bool value) : value_(value) {}
  bool Matches(const MatchInput&) const override { return value_; }

 private:
  bool value_;
};

// {$sampleRate: p}, 0 < p < 1: each document matches with probability p,
// independently (MongoDB's {$expr: {$lt: [{$rand: {}}, p]}}). The generator
// is the calling thread's own.
class SampleRateNode : public FilterNode {
 public:
  explicit SampleRateNode(double rate) : rate_(rate) {}
  bool Matches(const MatchInput&) const override {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rate_;
  }

 private:
  double rate_;
};

// {$jsonSchema: <schema>}: the whole document satisfies the schema
// (query/json_schema.h).
class JsonSchemaNode : public FilterNode {
 public:
  explicit JsonSchemaNode(std::shared_ptr<const JsonSchema> schema) : schema_(std::move(schema)) {}
  bool Matches(const MatchInput& in) const override { return schema_->Matches(in.doc, in.len); }

 private:
  std::shared_ptr<const JsonSchema> schema_;
};

// {$expr: <aggregation expression>}: matches when the expression is truthy
// for the whole document. An evaluation error is no match, and is reported
// through MatchInput::error (Filter::Evaluate returns it, as MongoDB fails
// the query).
class ExprNode : public FilterNode {
 public:
  // `let`: the command's variables (Filter::CompileWithLet), or nullptr.
  ExprNode(expr::ExprPtr e, const LetValues* let) : expr_(std::move(e)), let_(let) {}
  bool Matches(const MatchInput& in) const override {
    if (in.doc == nullptr) return false;
    Result<expr::Value> v = Status::OK();
    if (in.vars != nullptr) {
      v = expr_->Evaluate(*in.vars);
    } else {
      expr::Variables vars;
      vars.SetRoot(expr::Value::FromDocumentBytes(
          std::string_view(reinterpret_cast<const char*>(in.doc), in.len)));
      if (let_ != nullptr) {
        for (const auto& [slot, value] : let_->bindings) vars.Set(slot, value);
      }
      v = expr_->Evaluate(vars);
    }
    if (!v.ok()) {
      if (in.error != nullptr && in.error->ok()) *in.error = v.status();
      return false;
    }
    return v->Truthy();
  }

 private:
  expr::ExprPtr expr_;
  const LetValues* let_;
};

// {$text: ...}: matched through the collection's text index spec, which the
// engine binds (Filter::BindTextIndex) before the filter is used; unbound,
// it fails the query with IndexNotFound rather than match nothing.
class TextNode : public FilterNode {
 public:
  explicit TextNode(std::shared_ptr<const TextBinding> binding) : binding_(std::move(binding)) {}
  bool Matches(const MatchInput& in) const override {
    if (binding_->spec == nullptr || in.doc == nullptr) {
      if (in.error != nullptr && in.error->ok()) {
        *in.error = Status(ErrorCode::kIndexNotFound, "text index required for $text query");
      }
      return false;
    }
    auto matched = binding_->query->Matches(std::string_view(reinterpret_cast<const char*>(in.doc), in.len),
                                            *binding_->spec);
    if (!matched.ok()) {
      if (in.error != nullptr && in.error->ok()) *in.error = matched.status();
      return false;
    }
    return *matched;
  }

 private:
  std::shared_ptr<const TextBinding> binding_;
};

// Calls visit(geometry, value) for each geometry stored at `path` (values
// that are not geometries are skipped: they match no geo predicate) until
// it returns true.
bool VisitGeometries(const MatchInput& in, const bson::Path& path,
                     bson::FunctionRef<bool(const geo::Geometry&, const bson_iter_t&)> visit) {
  return Walk(in, path, /*expand_leaf_arrays=*/false, [&](const bson_iter_t* value) {
    if (value == nullptr) return false;
    const bson_type_t type = bson_iter_type(value);
    if (type != BSON_TYPE_ARRAY && type != BSON_TYPE_DOCUMENT) return false;
    auto whole = geo::Geometry::Parse(*value);
    if (whole.ok()) return visit(*whole, *value);
    if (type != BSON_TYPE_ARRAY) return false;
    bson_iter_t element;  // an array of geometries: each on its own
    bson_iter_recurse(value, &element);
    while (bson_iter_next(&element)) {
      const bson_type_t t = bson_iter_type(&element);
      if (t != BSON_TYPE_ARRAY && t != BSON_TYPE_DOCUMENT) continue;
      auto one = geo::Geometry::Parse(element);
      if (one.ok() && visit(*one, element)) return true;
    }
    return false;
  });
}

// {path: {$geoWithin | $geoIntersects: region}}: some geometry at the path
// is within / intersects the region.
class GeoRegionNode : public FilterNode {
 public:
  GeoRegionNode(bson::Path path, geo::Region region) : path_(std::move(path)), region_(std::move(region)) {}
  bool Matches(const MatchInput& in) const override {
    return VisitGeometries(in, path_, [this](const geo::Geometry& g, const bson_iter_t&) { return region_.Matches(g); });
  }

 private:
  bson::Path path_;
  geo::Region region_;
};

// The smallest distance from the near query's centre to a geometry at its
// path; *location (when given) gets the value that gave it.
std::optional<double> NearestDistance(const NearBinding& near, const MatchInput& in, std::string* location) {
  std::optional<double> best;
  VisitGeometries(in, near.path, [&](const geo::Geometry& g, const bson_iter_t& value) {
    std::optional<double> d = near.query.Distance(g);
    if (d && (!best || *d < *best)) {
      best = d;
      if (location != nullptr) *location = bson::HoldValue(value);
    }
    return false;
  });
  return best;
}

// {path: {$near: ...}}: the document's distance is within the bounds. The
// order nearest first is the reader's (Filter::NearDistance).
class NearNode : public FilterNode {
 public:
  explicit NearNode(std::shared_ptr<const NearBinding> near) : near_(std::move(near)) {}
  bool Matches(const MatchInput& in) const override {
    std::optional<double> d = NearestDistance(*near_, in, nullptr);
    return d && *d >= near_->query.min_distance() && *d <= near_->query.max_distance();
  }

 private:
  std::shared_ptr<const NearBinding> near_;
};

NodePtr Not(NodePtr child) { return std::make_unique<NotNode>(std::move(child)); }
NodePtr AllOf(std::vector<NodePtr> parts) {
  if (parts.empty()) return std::make_unique<ConstantNode>(true);
  if (parts.size() == 1) return std::move(parts.front());
  return std::make_unique<LogicNode>(Logic::kAnd, std::move(parts));
}

// ---- parsing ----

constexpr int kMaxDepth = 100;

// Where the parser is: the nesting depth (bounded by kMaxDepth), whether it
// is inside $elemMatch (where $expr is not allowed), and the variable scope
// $expr expressions are parsed in.
struct Level {
  int depth = 0;
  expr::Scope* scope = nullptr;
  bool in_elem_match = false;
  bool* saw_expr = nullptr;  // set when an $expr is parsed
  const LetValues* let = nullptr;  // what $expr binds before evaluating, when not in a pipeline
  const bson::StringOrder* strings = nullptr;  // the collation strings compare by; null: binary
  std::shared_ptr<TextBinding>* text = nullptr;  // the filter's one $text, once parsed
  bool in_nor = false;   // under $nor (where $text is not allowed)
  std::shared_ptr<NearBinding>* near = nullptr;  // the filter's one $near, once parsed
  bool top = true;       // at the top level or under top-level $and (where $near may be)
  Level operator+(int n) const {
    Level next = *this;
    next.depth += n;
    return next;
  }
  bool operator>(int limit) const { return depth > limit; }
  Level Nested() const {  // below where $near may be
    Level next = *this;
    next.top = false;
    return next;
  }
  Level InElemMatch() const {
    Level next = *this;
    next.depth += 1;
    next.in_elem_match = true;
    next.top = false;
    return next;
  }
};

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

Status BadValue(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }


// Whether a document value is a DBRef ({$ref, $id[, $db]}, MongoDB's field
// names, in any order): a value, not operators. With `incomplete`, any one
// of the three fields is enough (inside $elemMatch, where
// {$elemMatch: {$id: 5}} matches elements that have such a field).
bool IsDbRefDocument(const bson_iter_t& it, bool incomplete) {
  bson_iter_t child;
  if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT || !bson_iter_recurse(&it, &child)) return false;
  bool ref = false, id = false, db = false;
  while (bson_iter_next(&child) && !(ref && id)) {
    const std::string_view name(bson_iter_key(&child), bson_iter_key_len(&child));
    ref = ref || name == "$ref";
    id = id || name == "$id";
    db = db || name == "$db";
  }
  return incomplete ? (ref || id || db) : (ref && id);
}

// MongoDB's isExpressionDocument: a document whose first field starts with
// '$' and that is not a DBRef.
bool IsExpressionDocument(const bson_iter_t& it, bool incomplete_dbref = false) {
  return bson::IsOperatorDocument(it) && !IsDbRefDocument(it, incomplete_dbref);
}

std::string_view FirstKey(const bson_iter_t& it) {
  bson_iter_t child;
  if (!bson_iter_recurse(&it, &child) || !bson_iter_next(&child)) return {};
  return Key(child);
}

Result<NodePtr> ParseDocument(const uint8_t* data, size_t len, Level depth);
Result<NodePtr> ParseOperators(const bson::Path& path, const bson_iter_t& spec, Level depth);

// `{path: value}` and the entries of $in/$all: a regex matches by pattern,
// anything else by equality.
PredicatePtr EqualityOrRegex(const bson_iter_t& value, const bson::StringOrder* strings, Status* error) {
  if (bson_iter_type(&value) == BSON_TYPE_REGEX) {
    auto regex = ParseRegexOperand(value, nullptr, false);
    if (!regex.ok()) {
      *error = regex.status();
      return nullptr;
    }
    return MakeRegexMatch(std::move(regex).value());
  }
  return MakeCompare(CompareOp::kEq, value, strings);
}

constexpr size_t kSortedInListMin = 8;

Result<PredicatePtr> ParseInList(const bson_iter_t& value, std::string_view op, const bson::StringOrder* strings) {
  if (bson_iter_type(&value) != BSON_TYPE_ARRAY) return BadValue(std::string(op) + " needs an array");
  size_t count = 0;
  bool all_plain = true;
  bson_iter_t element;
  bson_iter_recurse(&value, &element);
  while (bson_iter_next(&element)) {
    if (IsExpressionDocument(element)) return BadValue("cannot nest $ under " + std::string(op));
    all_plain = all_plain && InListIsPlain(element);
    ++count;
  }
  // Long lists of plain values: a binary search instead of one test each.
  if (all_plain && count >= kSortedInListMin) return MakeEqualsAnyOf(value, strings);
  bson_iter_recurse(&value, &element);
  std::vector<PredicatePtr> choices;
  while (bson_iter_next(&element)) {
    Status error;
    PredicatePtr p = EqualityOrRegex(element, strings, &error);
    if (!error.ok()) return error;
    choices.push_back(std::move(p));
  }
  return MakeAnyOf(std::move(choices));
}

Result<NodePtr> ParseElemMatch(const bson::Path& path, const bson_iter_t& operand, Level depth) {
  if (bson_iter_type(&operand) != BSON_TYPE_DOCUMENT) return BadValue("$elemMatch needs an Object");
  std::string_view first = FirstKey(operand);
  // Operators other than the logical ones make the value form:
  // {$elemMatch: {$gte: 80, $lt: 85}}; field names make the document form.
  bool value_form = IsExpressionDocument(operand, /*incomplete_dbref=*/true) && first != "$and" && first != "$or" &&
                    first != "$nor" && first != "$expr" && first != "$where" && first != "$text";
  Result<NodePtr> sub = Status::OK();
  if (value_form) {
    sub = ParseOperators(bson::Path(), operand, depth.InElemMatch());
  } else {
    std::string_view bytes = bson::SubDocumentBytes(operand);
    sub = ParseDocument(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), depth.InElemMatch());
  }
  if (!sub.ok()) return sub.status();
  return NodePtr(std::make_unique<ElemMatchNode>(path, std::move(sub).value(), value_form));
}

Result<NodePtr> ParseAll(const bson::Path& path, const bson_iter_t& operand, Level depth) {
  if (bson_iter_type(&operand) != BSON_TYPE_ARRAY) return BadValue("$all needs an array");
  std::vector<NodePtr> parts;
  bson_iter_t element;
  bson_iter_recurse(&operand, &element);
  int elem_matches = 0, count = 0;
  while (bson_iter_next(&element)) {
    ++count;
    if (bson_iter_type(&element) == BSON_TYPE_DOCUMENT && FirstKey(element) == "$elemMatch") {
      ++elem_matches;
      bson_iter_t inner;
      bson_iter_recurse(&element, &inner);
      bson_iter_next(&inner);
      auto node = ParseElemMatch(path, inner, depth);
      if (!node.ok()) return node.status();
      parts.push_back(std::move(node).value());
      continue;
    }
    if (IsExpressionDocument(element)) return BadValue("no $ expressions in $all");
    Status error;
    PredicatePtr p = EqualityOrRegex(element, depth.strings, &error);
    if (!error.ok()) return error;
    parts.push_back(std::make_unique<PathNode>(path, std::move(p)));
  }
  if (elem_matches != 0 && elem_matches != count) return BadValue("$all/$elemMatch has to be consistent");
  if (parts.empty()) return NodePtr(std::make_unique<ConstantNode>(false));  // $all: [] matches nothing
  return AllOf(std::move(parts));
}

// One operator of `{path: {$op: value}}`; $regex/$options arrive together.
Result<NodePtr> ParseOperator(const bson::Path& path, const bson_iter_t& op_it, Level depth) {
  std::string_view op = Key(op_it);
  auto on_path = [&](PredicatePtr p, bool expand_leaf_arrays = true) -> NodePtr {
    return std::make_unique<PathNode>(path, std::move(p), expand_leaf_arrays);
  };
  auto on_path_or_error = [&](Result<PredicatePtr> p, bool expand_leaf_arrays = true) -> Result<NodePtr> {
    if (!p.ok()) return p.status();
    return on_path(std::move(p).value(), expand_leaf_arrays);
  };
  bool is_regex = bson_iter_type(&op_it) == BSON_TYPE_REGEX;
  if (op == "$eq") return on_path(MakeCompare(CompareOp::kEq, op_it, depth.strings));
  if (op == "$ne") {
    if (is_regex) return BadValue("Can't have regex as arg to $ne.");
    return Not(on_path(MakeCompare(CompareOp::kEq, op_it, depth.strings)));
  }
  static const std::pair<std::string_view, CompareOp> kRanges[] = {
      {"$gt", CompareOp::kGt}, {"$gte", CompareOp::kGte}, {"$lt", CompareOp::kLt}, {"$lte", CompareOp::kLte}};
  for (const auto& [name, cmp] : kRanges) {
    if (op != name) continue;
    if (is_regex) return BadValue("Can't have RegEx as arg to predicate over field '" + bson::JoinPath(path, path.size()) + "'.");
    return on_path(MakeCompare(cmp, op_it, depth.strings));
  }
  if (op == "$in") return on_path_or_error(ParseInList(op_it, op, depth.strings));
  if (op == "$nin") {
    auto node = on_path_or_error(ParseInList(op_it, op, depth.strings));
    if (!node.ok()) return node.status();
    return Not(std::move(node).value());
  }
  if (op == "$exists") {
    NodePtr node = on_path(MakeExists());
    return bson_iter_as_bool(&op_it) ? std::move(node) : Not(std::move(node));
  }
  if (op == "$type") return on_path_or_error(ParseTypeOperand(op_it));
  if (op == "$mod") return on_path_or_error(ParseModOperand(op_it));
  if (op == "$size") return on_path_or_error(ParseSizeOperand(op_it), /*expand_leaf_arrays=*/false);
  if (op == "$all") return ParseAll(path, op_it, depth);
  if (op == "$elemMatch") return ParseElemMatch(path, op_it, depth);
  if (op == "$not") {
    if (is_regex) {
      auto regex = ParseRegexOperand(op_it, nullptr, false);
      if (!regex.ok()) return regex.status();
      return Not(on_path(MakeRegexMatch(std::move(regex).value())));
    }
    if (bson_iter_type(&op_it) != BSON_TYPE_DOCUMENT) return BadValue("$not needs a regex or a document");
    if (FirstKey(op_it).empty()) return BadValue("$not cannot be empty");
    if (!bson::IsOperatorDocument(op_it)) return BadValue("unknown operator: " + std::string(FirstKey(op_it)));
    auto inner = ParseOperators(path, op_it, depth.Nested() + 1);
    if (!inner.ok()) return inner.status();
    return Not(std::move(inner).value());
  }
  if (op == "$bitsAllSet" || op == "$bitsAnySet" || op == "$bitsAllClear" || op == "$bitsAnyClear") {
    return on_path_or_error(ParseBitTestOperand(op, bson::JoinPath(path, path.size()), op_it));
  }
  if (op == "$geoWithin" || op == "$within" || op == "$geoIntersects") {
    if (depth.in_elem_match && path.empty()) return BadValue(std::string(op) + " needs a field to apply to");
    auto region = geo::Region::Parse(op == "$geoIntersects" ? geo::Region::Op::kIntersects : geo::Region::Op::kWithin,
                                     op_it);
    if (!region.ok()) return region.status();
    return NodePtr(std::make_unique<GeoRegionNode>(path, std::move(region).value()));
  }
  if (op == "$minDistance" || op == "$maxDistance") {
    return BadValue(std::string(op) + " can only be given with $near, $nearSphere or $geoNear");
  }
  return BadValue("unknown operator: " + std::string(op));
}

Result<NodePtr> ParseNear(const bson::Path& path, const bson_iter_t& spec, Level depth);

// `{path: {$op1: v1, $op2: v2}}`: all operators must hold, each walking the
// path on its own ({a: {$gt: 6, $lt: 2}} matches [1, 7]).
Result<NodePtr> ParseOperators(const bson::Path& path, const bson_iter_t& spec, Level depth) {
  if (depth > kMaxDepth) return BadValue("exceeded depth limit of 100 when parsing the filter");
  std::vector<NodePtr> parts;
  bson_iter_t op_it, regex, options;
  bool has_regex = false, has_options = false, options_first = false;
  bson_iter_recurse(&spec, &op_it);
  while (bson_iter_next(&op_it)) {
    const std::string_view op = Key(op_it);
    if (op == "$near" || op == "$nearSphere" || op == "$geoNear") return ParseNear(path, spec, depth);
  }
  bson_iter_recurse(&spec, &op_it);
  while (bson_iter_next(&op_it)) {
    std::string_view op = Key(op_it);
    if (op.empty() || op[0] != '$') return BadValue("unknown operator: " + std::string(op));
    if (op == "$regex") {
      regex = op_it;
      has_regex = true;
      continue;
    }
    if (op == "$options") {
      options = op_it;
      has_options = true;
      options_first = !has_regex;
      continue;
    }
    auto node = ParseOperator(path, op_it, depth);
    if (!node.ok()) return node.status();
    parts.push_back(std::move(node).value());
  }
  if (has_options && !has_regex) return BadValue("$options needs a $regex");
  if (has_regex) {
    auto compiled = ParseRegexOperand(regex, has_options ? &options : nullptr, options_first);
    if (!compiled.ok()) return compiled.status();
    parts.push_back(std::make_unique<PathNode>(path, MakeRegexMatch(std::move(compiled).value())));
  }
  return AllOf(std::move(parts));
}

Result<NodePtr> ParseLogical(const bson_iter_t& it, Logic logic, Level depth) {
  std::string name(Key(it));
  if (bson_iter_type(&it) != BSON_TYPE_ARRAY) return BadValue(name + " must be an array");
  // MongoDB simplifies a one-clause $or to its clause first, so a $near may
  // be in it; under $nor or a wider $or it may not.
  if (logic == Logic::kNor || (logic == Logic::kOr && bson::SubDocumentBytes(it).size() > 5 &&
                               !([&] {
                                 bson_iter_t count;
                                 bson_iter_recurse(&it, &count);
                                 int n = 0;
                                 while (bson_iter_next(&count)) ++n;
                                 return n == 1;
                               }()))) {
    depth = depth.Nested();
  }
  std::vector<NodePtr> children;
  bson_iter_t element;
  bson_iter_recurse(&it, &element);
  while (bson_iter_next(&element)) {
    if (bson_iter_type(&element) != BSON_TYPE_DOCUMENT) {
      return BadValue("$or/$and/$nor entries need to be full objects");
    }
    std::string_view bytes = bson::SubDocumentBytes(element);
    auto child = ParseDocument(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), depth + 1);
    if (!child.ok()) return child.status();
    children.push_back(std::move(child).value());
  }
  if (children.empty()) return BadValue("$and/$or/$nor must be a nonempty array");
  return NodePtr(std::make_unique<LogicNode>(logic, std::move(children)));
}

// {path: {$near: ..., $minDistance, $maxDistance}}: the whole operator
// object is the near query. At most one, and only where every match must
// satisfy it (the top level, or under $and).
Result<NodePtr> ParseNear(const bson::Path& path, const bson_iter_t& spec, Level depth) {
  if (depth.near == nullptr) return NearNotAllowed();
  if (*depth.near != nullptr) return BadValue("Too many geoNear expressions");
  if (!depth.top || depth.in_elem_match || path.empty()) return BadValue("geoNear must be top-level expr");
  auto query = geo::NearQuery::Parse(spec);
  if (!query.ok()) return query.status();
  auto near = std::make_shared<NearBinding>(NearBinding{path, bson::JoinPath(path, path.size()), std::move(query).value()});
  *depth.near = near;
  return NodePtr(std::make_unique<NearNode>(std::move(near)));
}

Result<NodePtr> ParseText(const bson_iter_t& it, Level depth) {
  if (depth.in_elem_match) return BadValue("$text can only be applied to the top-level document");
  if (depth.text == nullptr) return BadValue("$text is not allowed in this context");
  if (*depth.text != nullptr) return BadValue("Too many text expressions");
  if (depth.in_nor) return BadValue("text expression not allowed in nor");
  auto options = text::ParseTextOperator(it);
  if (!options.ok()) return options.status();
  auto binding = std::make_shared<TextBinding>();
  binding->options = std::move(options).value();
  *depth.text = binding;
  return NodePtr(std::make_unique<TextNode>(std::move(binding)));
}

Result<NodePtr> ParseTopLevelOperator(const bson_iter_t& it, Level depth) {
  std::string_view name = Key(it);
  if (name == "$and") return ParseLogical(it, Logic::kAnd, depth);
  if (name == "$or") return ParseLogical(it, Logic::kOr, depth);
  if (name == "$nor") {
    Level under_nor = depth;
    under_nor.in_nor = true;
    return ParseLogical(it, Logic::kNor, under_nor);
  }
  if (name == "$text") return ParseText(it, depth);
  if (name == "$alwaysTrue" || name == "$alwaysFalse") {
    return NodePtr(std::make_unique<ConstantNode>(name == "$alwaysTrue"));
  }
  if (name == "$expr") {
    if (depth.in_elem_match) return BadValue("$expr can only be applied to the top-level document");
    expr::Scope local;
    local.set_strings(depth.strings);
    auto e = expr::Parse(it, depth.scope != nullptr ? *depth.scope : local);
    if (!e.ok()) return e.status();
    if (depth.saw_expr != nullptr) *depth.saw_expr = true;
    return NodePtr(std::make_unique<ExprNode>(std::move(e).value(), depth.let));
  }
  if (name == "$sampleRate") {
    if (depth.in_elem_match) return BadValue("$sampleRate can only be applied to the top-level document");
    if (!bson::IsNumber(bson_iter_type(&it))) return BadValue("argument to $sampleRate must be a numeric type");
    const double rate = bson::NumberAsDouble(it);
    if (!(rate >= 0.0 && rate <= 1.0)) return BadValue("numeric argument to $sampleRate must be in [0, 1]");
    if (rate == 0.0 || rate == 1.0) return NodePtr(std::make_unique<ConstantNode>(rate == 1.0));
    return NodePtr(std::make_unique<SampleRateNode>(rate));
  }
  if (name == "$jsonSchema") {
    if (depth.in_elem_match) return BadValue("$jsonSchema can only be applied to the top-level document");
    auto schema = JsonSchema::Compile(it);
    if (!schema.ok()) return schema.status();
    return NodePtr(std::make_unique<JsonSchemaNode>(std::move(schema).value()));
  }
  if (name == "$where") {
    return BadValue(std::string(name) + " is not supported by this version of Docket yet");
  }
  return BadValue("unknown top level operator: " + std::string(name));
}

Result<NodePtr> ParseDocument(const uint8_t* data, size_t len, Level depth) {
  if (depth > kMaxDepth) return BadValue("exceeded depth limit of 100 when parsing the filter");
  std::vector<NodePtr> parts;
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) {
    return Status(ErrorCode::kInvalidBSON, "filter is not valid BSON");
  }
  while (bson_iter_next(&it)) {
    std::string_view name = Key(it);
    Result<NodePtr> node = Status::OK();
    if (name == "$ref" || name == "$id" || name == "$db") {
      // DBRef field names are paths: equality on their value (as given,
      // operators or not); only $id compares by the collation, as MongoDB.
      node = NodePtr(std::make_unique<PathNode>(
          bson::SplitPath(name), MakeCompare(CompareOp::kEq, it, name == "$id" ? depth.strings : nullptr)));
    } else if (!name.empty() && name[0] == '$') {
      if (name == "$comment") continue;
      node = ParseTopLevelOperator(it, depth);
    } else if (IsExpressionDocument(it)) {
      node = ParseOperators(bson::SplitPath(name), it, depth + 1);
    } else {
      Status error;
      PredicatePtr p = EqualityOrRegex(it, depth.strings, &error);
      if (!error.ok()) return error;
      node = NodePtr(std::make_unique<PathNode>(bson::SplitPath(name), std::move(p)));
    }
    if (!node.ok()) return node.status();
    parts.push_back(std::move(node).value());
  }
  return AllOf(std::move(parts));
}

// {"": value} for a top-level `_id: value` or `_id: {$eq: value}`. None for
// a value with strings under a collation: equal _ids under it need not be
// the same bytes, which are what the record is found by.
std::optional<Document> FindIdEquality(const Document& filter, const bson::StringOrder* strings) {
  bson_iter_t it;
  if (!filter.Find("_id", &it)) return std::nullopt;
  bson_iter_t value = it;
  if (bson::IsOperatorDocument(it)) {
    bson_iter_t op;
    bson_iter_recurse(&it, &op);
    bool found = false;
    while (bson_iter_next(&op)) {
      if (Key(op) == "$eq") { value = op; found = true; }
    }
    if (!found) return std::nullopt;
  }
  bson_type_t t = bson_iter_type(&value);
  if (t == BSON_TYPE_ARRAY || t == BSON_TYPE_REGEX || bson::IsNullish(t)) return std::nullopt;
  if (strings != nullptr && bson::HasStrings(value)) return std::nullopt;
  return Document::FromTrustedBytes(bson::HoldValue(value));
}

}  // namespace

Filter::Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;
Filter::~Filter() = default;

Result<Filter> Filter::Compile(const Document& filter, expr::Scope* scope, StringOrderPtr strings) {
  return CompileIn(filter, scope, nullptr, std::move(strings));
}

Result<Filter> Filter::CompileWithLet(const Document& filter, const Document& let, StringOrderPtr strings) {
  if (let.empty()) return Compile(filter, nullptr, std::move(strings));
  auto values = std::make_shared<LetValues>();
  expr::Scope scope;
  scope.set_strings(strings.get());
  expr::Variables clock;  // one reading of $$NOW for the whole `let`
  DOCKET_RETURN_IF_ERROR(expr::BindLet(let, scope, clock.now_millis(), &values->bindings));
  return CompileIn(filter, &scope, std::move(values), std::move(strings));
}

Result<Filter> Filter::CompileIn(const Document& filter, expr::Scope* scope, std::shared_ptr<const LetValues> let,
                                 StringOrderPtr strings) {
  Filter out;
  out.let_ = std::move(let);
  out.strings_ = std::move(strings);
  if (filter.empty()) return out;
  auto root = ParseDocument(filter.data(), filter.size(),
                            Level{.depth = 0, .scope = scope, .in_elem_match = false, .saw_expr = &out.has_expr_,
                                  .let = out.let_.get(), .strings = out.strings_.get(), .text = &out.text_,
                                  .near = &out.near_});
  if (!root.ok()) return root.status();
  if (out.text_ != nullptr && out.near_ != nullptr) return BadValue("text and geoNear not allowed in same query");
  out.root_ = std::move(root).value();
  out.id_equality_ = FindIdEquality(filter, out.strings_.get());
  return out;
}

const text::TextSearchOptions* Filter::text_search() const { return text_ ? &text_->options : nullptr; }

const geo::NearQuery* Filter::near_query() const { return near_ ? &near_->query : nullptr; }

const std::string& Filter::near_path() const {
  static const std::string kNone;
  return near_ ? near_->dotted : kNone;
}

std::optional<double> Filter::NearDistance(std::string_view doc, std::string* location) const {
  if (near_ == nullptr) return std::nullopt;
  return NearestDistance(*near_, MatchInput{.doc = reinterpret_cast<const uint8_t*>(doc.data()), .len = doc.size()},
                         location);
}

Status NearNotAllowed() {
  return Status(static_cast<ErrorCode>(5626500),
                "$geoNear, $near, and $nearSphere are not allowed in this context, as these operators require sorting "
                "geospatial data. If you do not need sort, consider using $geoWithin instead. Check out "
                "https://dochub.mongodb.org/core/near-sort-operation and "
                "https://dochub.mongodb.org/core/nearSphere-sort-operationfor more details.");
}

Status Filter::BindTextIndex(std::shared_ptr<const text::TextIndexSpec> spec) {
  if (text_ == nullptr) return Status::OK();
  auto query = text::TextQuery::Make(text_->options, *spec);
  if (!query.ok()) return query.status();
  text_->query = std::make_shared<const text::TextQuery>(std::move(query).value());
  text_->spec = std::move(spec);
  return Status::OK();
}


double Filter::TextScore(const Document& doc) const {
  return TextScore(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()));
}

double Filter::TextScore(std::string_view doc) const {
  if (text_ == nullptr || text_->query == nullptr) return 0;
  return text_->query->Score(doc, *text_->spec);
}

bool Filter::Matches(const uint8_t* doc, size_t len) const {
  return root_ == nullptr || root_->Matches(MatchInput{.doc = doc, .len = len});
}

Result<bool> Filter::Evaluate(const uint8_t* doc, size_t len, expr::Variables* vars) const {
  return EvaluateIn(MatchInput{.doc = doc, .len = len, .vars = vars});
}

Result<bool> Filter::EvaluateIn(MatchInput in) const {
  if (root_ == nullptr) return true;
  Status error;
  in.error = &error;
  text::MatchErrorScope regex_errors(&error);  // a $regex that PCRE2 gives up on fails the query
  bool matched = root_->Matches(in);
  if (!error.ok()) return error;
  return matched;
}

ElementMatcher::ElementMatcher() = default;
ElementMatcher::ElementMatcher(ElementMatcher&&) noexcept = default;
ElementMatcher& ElementMatcher::operator=(ElementMatcher&&) noexcept = default;
ElementMatcher::~ElementMatcher() = default;

Result<ElementMatcher> ElementMatcher::Compile(const bson_iter_t& condition, bool documents_are_filters,
                                               const bson::StringOrder* strings) {
  ElementMatcher out;
  std::string_view first = bson_iter_type(&condition) == BSON_TYPE_DOCUMENT ? FirstKey(condition) : "";
  bool value_form = !first.empty() && first[0] == '$' && first != "$and" && first != "$or" && first != "$nor";
  if (bson_iter_type(&condition) == BSON_TYPE_DOCUMENT && (value_form || documents_are_filters)) {
    Result<NodePtr> node = Status::OK();
    if (value_form) {
      node = ParseOperators(bson::Path(), condition, Level{.depth = 1, .strings = strings});
    } else {
      std::string_view bytes = bson::SubDocumentBytes(condition);
      node = ParseDocument(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                           Level{.depth = 1, .strings = strings});
      out.document_form_ = true;
    }
    if (!node.ok()) return node.status();
    out.node_ = std::move(node).value();
    return out;
  }
  Status error;
  PredicatePtr p = EqualityOrRegex(condition, strings, &error);
  if (!error.ok()) return error;
  out.node_ = std::make_unique<PathNode>(bson::Path(), std::move(p));
  return out;
}

bool ElementMatcher::Matches(const bson_iter_t& element) const {
  if (!document_form_) return node_->Matches(MatchInput{.value = &element});
  if (bson_iter_type(&element) != BSON_TYPE_DOCUMENT) return false;
  std::string_view bytes = bson::SubDocumentBytes(element);
  return node_->Matches(MatchInput{.doc = reinterpret_cast<const uint8_t*>(bytes.data()), .len = bytes.size()});
}

bool Filter::MatchesAt(const uint8_t* doc, size_t len, size_t* position) const {
  *position = bson::kNoPosition;
  return root_ == nullptr || root_->Matches(MatchInput{.doc = doc, .len = len, .position = position});
}

Result<bool> Filter::EvaluateAt(const uint8_t* doc, size_t len, size_t* position) const {
  *position = bson::kNoPosition;
  return EvaluateIn(MatchInput{.doc = doc, .len = len, .position = position});
}

}  // namespace docket::query
