#include "query/filter.h"

#include <string_view>
#include <vector>

#include "bson/path.h"
#include "bson/value.h"

namespace docket::query {

using bson::CanonicalType;
using bson::CompareValues;
using bson::IsNullish;

// A node of the compiled filter tree.
class FilterNode {
 public:
  virtual ~FilterNode() = default;
  virtual bool Matches(const uint8_t* doc, size_t len) const = 0;
};

namespace {

// A value copied out of the filter document, kept as the one-field document
// {"": value} so that an iterator over it can be made at any time.
class OwnedValue {
 public:
  explicit OwnedValue(const bson_iter_t& it) : bytes_(bson::HoldValue(it)) {}
  void Iter(bson_iter_t* it) const { bson::IterHeldValue(bytes_, it); }
  bson_type_t type() const {
    bson_iter_t it;
    Iter(&it);
    return bson_iter_type(&it);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// A test applied to each value a path reaches; `value` is nullptr for a
// missing branch.
class ValuePredicate {
 public:
  virtual ~ValuePredicate() = default;
  virtual bool Test(const bson_iter_t* value) const = 0;
};

enum class CompareOp { kEq, kGt, kGte, kLt, kLte };

class ComparePredicate : public ValuePredicate {
 public:
  ComparePredicate(CompareOp op, const bson_iter_t& operand) : op_(op), operand_(operand) {
    operand_is_null_ = IsNullish(operand_.type());
  }
  bool Test(const bson_iter_t* value) const override {
    if (operand_is_null_) {
      // null matches null, undefined and missing, for $eq $gte $lte.
      if (op_ == CompareOp::kGt || op_ == CompareOp::kLt) return false;
      return value == nullptr || IsNullish(bson_iter_type(value));
    }
    if (value == nullptr) return false;
    bson_iter_t operand;
    operand_.Iter(&operand);
    // Type bracketing: only values of the operand's canonical type compare.
    if (CanonicalType(bson_iter_type(value)) != CanonicalType(bson_iter_type(&operand))) return false;
    int c = CompareValues(*value, operand);
    switch (op_) {
      case CompareOp::kEq: return c == 0;
      case CompareOp::kGt: return c > 0;
      case CompareOp::kGte: return c >= 0;
      case CompareOp::kLt: return c < 0;
      case CompareOp::kLte: return c <= 0;
    }
    return false;
  }

 private:
  CompareOp op_;
  OwnedValue operand_;
  bool operand_is_null_ = false;
};

class InPredicate : public ValuePredicate {
 public:
  explicit InPredicate(std::vector<std::unique_ptr<ComparePredicate>> equals)
      : equals_(std::move(equals)) {}
  bool Test(const bson_iter_t* value) const override {
    for (const auto& eq : equals_) {
      if (eq->Test(value)) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<ComparePredicate>> equals_;
};

class ExistsPredicate : public ValuePredicate {
 public:
  bool Test(const bson_iter_t* value) const override { return value != nullptr; }
};

// Matches when any value reached by the path passes the predicate.
class PathNode : public FilterNode {
 public:
  PathNode(bson::Path path, std::unique_ptr<ValuePredicate> predicate)
      : path_(std::move(path)), predicate_(std::move(predicate)) {}
  bool Matches(const uint8_t* doc, size_t len) const override {
    return bson::VisitPath(doc, len, path_,
                           [this](const bson_iter_t* v) { return predicate_->Test(v); });
  }

 private:
  bson::Path path_;
  std::unique_ptr<ValuePredicate> predicate_;
};

class NotNode : public FilterNode {
 public:
  explicit NotNode(std::unique_ptr<FilterNode> child) : child_(std::move(child)) {}
  bool Matches(const uint8_t* doc, size_t len) const override { return !child_->Matches(doc, len); }

 private:
  std::unique_ptr<FilterNode> child_;
};

enum class Logic { kAnd, kOr, kNor };

class LogicNode : public FilterNode {
 public:
  LogicNode(Logic logic, std::vector<std::unique_ptr<FilterNode>> children)
      : logic_(logic), children_(std::move(children)) {}
  bool Matches(const uint8_t* doc, size_t len) const override {
    switch (logic_) {
      case Logic::kAnd:
        for (const auto& c : children_) if (!c->Matches(doc, len)) return false;
        return true;
      case Logic::kOr:
        for (const auto& c : children_) if (c->Matches(doc, len)) return true;
        return false;
      case Logic::kNor:
        for (const auto& c : children_) if (c->Matches(doc, len)) return false;
        return true;
    }
    return false;
  }

 private:
  Logic logic_;
  std::vector<std::unique_ptr<FilterNode>> children_;
};

// ---- parsing ----

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

Status BadValue(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }

bool IsOperatorDocument(const bson_iter_t& it) {
  if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) return false;
  bson_iter_t child;
  if (!bson_iter_recurse(&it, &child) || !bson_iter_next(&child)) return false;
  return bson_iter_key(&child)[0] == '$';
}

Result<std::unique_ptr<FilterNode>> ParseDocument(const uint8_t* data, size_t len, int depth);

Status CheckEqualityOperand(const bson_iter_t& value) {
  if (bson_iter_type(&value) == BSON_TYPE_REGEX) {
    return BadValue("regular expressions in filters are not supported yet (issue: query language)");
  }
  return Status::OK();
}

Result<std::unique_ptr<ValuePredicate>> ParseInList(const bson_iter_t& value, std::string_view op) {
  if (bson_iter_type(&value) != BSON_TYPE_ARRAY) return BadValue(std::string(op) + " needs an array");
  std::vector<std::unique_ptr<ComparePredicate>> equals;
  bson_iter_t element;
  bson_iter_recurse(&value, &element);
  while (bson_iter_next(&element)) {
    if (IsOperatorDocument(element)) return BadValue("cannot nest $ under " + std::string(op));
    DOCKET_RETURN_IF_ERROR(CheckEqualityOperand(element));
    equals.push_back(std::make_unique<ComparePredicate>(CompareOp::kEq, element));
  }
  return std::unique_ptr<ValuePredicate>(std::make_unique<InPredicate>(std::move(equals)));
}

Result<std::unique_ptr<FilterNode>> ParseOperators(const bson::Path& path, const bson_iter_t& spec,
                                                   std::string_view field_name);

// One operator of `{path: {$op: value}}`.
Result<std::unique_ptr<FilterNode>> ParseOperator(const bson::Path& path, const bson_iter_t& op_it,
                                                  std::string_view field_name) {
  std::string_view op = Key(op_it);
  auto on_path = [&](std::unique_ptr<ValuePredicate> p) -> std::unique_ptr<FilterNode> {
    return std::make_unique<PathNode>(path, std::move(p));
  };
  if (op == "$eq" || op == "$ne") {
    if (bson_iter_type(&op_it) == BSON_TYPE_REGEX && op == "$ne") {
      return BadValue("Can't have regex as arg to $ne.");
    }
    auto node = on_path(std::make_unique<ComparePredicate>(CompareOp::kEq, op_it));
    if (op == "$ne") return std::unique_ptr<FilterNode>(std::make_unique<NotNode>(std::move(node)));
    return node;
  }
  static const std::pair<std::string_view, CompareOp> kRanges[] = {
      {"$gt", CompareOp::kGt}, {"$gte", CompareOp::kGte}, {"$lt", CompareOp::kLt}, {"$lte", CompareOp::kLte}};
  for (const auto& [name, cmp] : kRanges) {
    if (op == name) {
      DOCKET_RETURN_IF_ERROR(CheckEqualityOperand(op_it));
      return on_path(std::make_unique<ComparePredicate>(cmp, op_it));
    }
  }
  if (op == "$in" || op == "$nin") {
    auto list = ParseInList(op_it, op);
    if (!list.ok()) return list.status();
    auto node = on_path(std::move(list).value());
    if (op == "$nin") return std::unique_ptr<FilterNode>(std::make_unique<NotNode>(std::move(node)));
    return node;
  }
  if (op == "$exists") {
    auto node = on_path(std::make_unique<ExistsPredicate>());
    if (bson_iter_as_bool(&op_it)) return node;
    return std::unique_ptr<FilterNode>(std::make_unique<NotNode>(std::move(node)));
  }
  if (op == "$not") {
    if (bson_iter_type(&op_it) == BSON_TYPE_REGEX) {
      return BadValue("regular expressions in filters are not supported yet (issue: query language)");
    }
    if (bson_iter_type(&op_it) != BSON_TYPE_DOCUMENT) return BadValue("$not needs a regex or a document");
    if (!IsOperatorDocument(op_it)) return BadValue("$not cannot be empty or hold a plain value");
    auto inner = ParseOperators(path, op_it, field_name);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<FilterNode>(std::make_unique<NotNode>(std::move(inner).value()));
  }
  static const std::string_view kLater[] = {"$regex", "$options", "$type", "$mod", "$all",
                                            "$elemMatch", "$size", "$bitsAllSet", "$bitsAnySet",
                                            "$bitsAllClear", "$bitsAnyClear", "$geoWithin",
                                            "$geoIntersects", "$near", "$nearSphere"};
  for (std::string_view later : kLater) {
    if (op == later) {
      return BadValue(std::string(op) + " is a MongoDB query operator this version of Docket does not support yet");
    }
  }
  return BadValue("unknown operator: " + std::string(op));
}

// `{path: {$op1: v1, $op2: v2}}`: all operators must hold.
Result<std::unique_ptr<FilterNode>> ParseOperators(const bson::Path& path, const bson_iter_t& spec,
                                                   std::string_view field_name) {
  std::vector<std::unique_ptr<FilterNode>> parts;
  bson_iter_t op_it;
  bson_iter_recurse(&spec, &op_it);
  while (bson_iter_next(&op_it)) {
    if (bson_iter_key(&op_it)[0] != '$') {
      return BadValue("unknown operator: " + std::string(Key(op_it)));
    }
    auto node = ParseOperator(path, op_it, field_name);
    if (!node.ok()) return node.status();
    parts.push_back(std::move(node).value());
  }
  if (parts.size() == 1) return std::move(parts.front());
  return std::unique_ptr<FilterNode>(std::make_unique<LogicNode>(Logic::kAnd, std::move(parts)));
}

Result<std::unique_ptr<FilterNode>> ParseLogical(const bson_iter_t& it, Logic logic, int depth) {
  std::string name(Key(it));
  if (bson_iter_type(&it) != BSON_TYPE_ARRAY) return BadValue(name + " must be an array");
  std::vector<std::unique_ptr<FilterNode>> children;
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
  return std::unique_ptr<FilterNode>(std::make_unique<LogicNode>(logic, std::move(children)));
}

// An always-true node, for an empty nested filter such as {$and: [{}]}.
class TrueNode : public FilterNode {
 public:
  bool Matches(const uint8_t*, size_t) const override { return true; }
};

Result<std::unique_ptr<FilterNode>> ParseDocument(const uint8_t* data, size_t len, int depth) {
  if (depth > 100) return BadValue("filter is nested too deeply");
  std::vector<std::unique_ptr<FilterNode>> parts;
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) {
    return Status(ErrorCode::kInvalidBSON, "filter is not valid BSON");
  }
  while (bson_iter_next(&it)) {
    std::string_view name = Key(it);
    if (!name.empty() && name[0] == '$') {
      Result<std::unique_ptr<FilterNode>> node = Status::OK();
      if (name == "$and") node = ParseLogical(it, Logic::kAnd, depth);
      else if (name == "$or") node = ParseLogical(it, Logic::kOr, depth);
      else if (name == "$nor") node = ParseLogical(it, Logic::kNor, depth);
      else if (name == "$comment") continue;
      else if (name == "$expr" || name == "$where" || name == "$text" || name == "$jsonSchema")
        return BadValue(std::string(name) + " is not supported by this version of Docket yet");
      else return BadValue("unknown top level operator: " + std::string(name));
      if (!node.ok()) return node.status();
      parts.push_back(std::move(node).value());
      continue;
    }
    bson::Path path = bson::SplitPath(name);
    if (IsOperatorDocument(it)) {
      auto node = ParseOperators(path, it, name);
      if (!node.ok()) return node.status();
      parts.push_back(std::move(node).value());
    } else {
      DOCKET_RETURN_IF_ERROR(CheckEqualityOperand(it));
      parts.push_back(std::make_unique<PathNode>(path, std::make_unique<ComparePredicate>(CompareOp::kEq, it)));
    }
  }
  if (parts.empty()) return std::unique_ptr<FilterNode>(std::make_unique<TrueNode>());
  if (parts.size() == 1) return std::move(parts.front());
  return std::unique_ptr<FilterNode>(std::make_unique<LogicNode>(Logic::kAnd, std::move(parts)));
}

// {"": value} for a top-level `_id: value` or `_id: {$eq: value}`.
std::optional<Document> FindIdEquality(const Document& filter) {
  bson_iter_t it;
  if (!filter.Find("_id", &it)) return std::nullopt;
  bson_iter_t value = it;
  if (IsOperatorDocument(it)) {
    bson_iter_t op;
    bson_iter_recurse(&it, &op);
    bool found = false;
    while (bson_iter_next(&op)) {
      if (Key(op) == "$eq") { value = op; found = true; }
    }
    if (!found) return std::nullopt;
  }
  bson_type_t t = bson_iter_type(&value);
  if (t == BSON_TYPE_ARRAY || t == BSON_TYPE_REGEX || IsNullish(t)) return std::nullopt;
  bson_t holder = BSON_INITIALIZER;
  bson_append_iter(&holder, "", 0, &value);
  Document out = Document::FromTrustedBytes(
      std::string(reinterpret_cast<const char*>(bson_get_data(&holder)), holder.len));
  bson_destroy(&holder);
  return out;
}

}  // namespace

Filter::Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;
Filter::~Filter() = default;

Result<Filter> Filter::Compile(const Document& filter) {
  Filter out;
  if (filter.empty()) return out;
  auto root = ParseDocument(filter.data(), filter.size(), 0);
  if (!root.ok()) return root.status();
  out.root_ = std::move(root).value();
  out.id_equality_ = FindIdEquality(filter);
  return out;
}

bool Filter::Matches(const uint8_t* doc, size_t len) const {
  return root_ == nullptr || root_->Matches(doc, len);
}

}  // namespace docket::query
