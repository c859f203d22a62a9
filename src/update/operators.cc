#include "update/operators.h"

#include <algorithm>
#include <cmath>

#include "bson/numeric.h"
#include "bson/type_names.h"
#include "bson/value.h"

namespace docket::update {
namespace {

using bson::MutableValue;

Status BadValue(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }
Status TypeMismatch(std::string message) { return Status(ErrorCode::kTypeMismatch, std::move(message)); }

std::string TypeOf(const bson_iter_t& it) { return bson::TypeAlias(bson_iter_type(&it)); }

// The integer in `it` when it is a whole number of any numeric type.
std::optional<int64_t> WholeNumber(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_INT64: return bson_iter_int64(&it);
    case BSON_TYPE_DOUBLE: {
      double d = bson_iter_double(&it);
      if (std::trunc(d) != d || std::fabs(d) > 9e18) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default: return std::nullopt;
  }
}

// Iterates the operand of an Op.
struct Operand {
  explicit Operand(const Op& op) { bson::IterHeldValue(op.value, &it); }
  bson_iter_t it;
};

// Reads a MutableValue through an iterator (valid while this object lives).
struct ValueView {
  explicit ValueView(const MutableValue& v) { v.Iter(&scratch, &it); }
  std::string scratch;
  bson_iter_t it;
};

MutableValue EmptyArray() {
  MutableValue v;
  v.type = BSON_TYPE_ARRAY;
  return v;
}

MutableValue FromHeld(const std::string& held) {
  bson_iter_t it;
  bson::IterHeldValue(held, &it);
  return MutableValue::FromIter(it);
}

// The array at `path`, created empty when missing. nullptr (with *error set)
// when something else is there.
MutableValue* ArrayAt(MutableValue* root, const bson::Path& path, Status* error) {
  MutableValue* current = bson::FindPath(root, path);
  if (current == nullptr) {
    *error = bson::SetPath(root, path, EmptyArray());
    if (!error->ok()) return nullptr;
    current = bson::FindPath(root, path);
  }
  return current;
}

// ---- parsing ----

Result<std::shared_ptr<const ArrayModifiers>> ParsePushModifiers(const bson_iter_t& spec, bool add_to_set,
                                                                 const bson::StringOrder* strings) {
  auto mods = std::make_shared<ArrayModifiers>();
  const char* op = add_to_set ? "$addToSet" : "$push";
  bson_iter_t it;
  bson_iter_recurse(&spec, &it);
  bool has_each = false;
  while (bson_iter_next(&it)) {
    std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (key == "$each") {
      has_each = true;
      if (bson_iter_type(&it) != BSON_TYPE_ARRAY) {
        return Status(add_to_set ? ErrorCode::kTypeMismatch : ErrorCode::kBadValue,
                      std::string("The argument to $each in ") + op + " must be an array but it was of type: " +
                          TypeOf(it));
      }
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) mods->each.push_back(bson::HoldValue(element));
    } else if (add_to_set) {
      return BadValue("Found unexpected fields after $each in $addToSet: " + bson::FieldToJson(key, it));
    } else if (key == "$position") {
      auto n = WholeNumber(it);
      if (!n) return BadValue("The value for $position must be an integer value, not of type: " + TypeOf(it));
      mods->position = *n;
    } else if (key == "$slice") {
      auto n = WholeNumber(it);
      if (!n) return BadValue("The value for $slice must be an integer value but was given type: " + TypeOf(it));
      mods->slice = *n;
    } else if (key == "$sort") {
      if (bson::IsNumber(bson_iter_type(&it))) {
        auto n = WholeNumber(it);
        if (!n || (*n != 1 && *n != -1)) return BadValue("The $sort element value must be either 1 or -1");
        mods->sort = ArrayModifiers::Sort::kWhole;
        mods->sort_descending = *n == -1;
      } else if (bson_iter_type(&it) == BSON_TYPE_DOCUMENT) {
        std::string_view bytes = bson::SubDocumentBytes(it);
        auto doc = Document::FromBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        if (!doc.ok() || doc->empty()) return BadValue("The $sort pattern is empty when it should be a set of fields.");
        auto sort = query::SortSpec::Compile(*doc, strings);
        if (!sort.ok()) return BadValue("The $sort is invalid: " + sort.status().message());
        mods->sort = ArrayModifiers::Sort::kFields;
        mods->sort_fields = std::move(sort).value();
      } else {
        return BadValue("The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields");
      }
    } else {
      return BadValue("Unrecognized clause in $push: " + std::string(key));
    }
  }
  if (!has_each) return BadValue(std::string(op) + " modifiers need $each");
  return std::shared_ptr<const ArrayModifiers>(std::move(mods));
}

// Whether a $push/$addToSet operand is the modifier form ({$each: ...}).
bool HasEach(const bson_iter_t& operand) {
  if (bson_iter_type(&operand) != BSON_TYPE_DOCUMENT) return false;
  bson_iter_t it;
  bson_iter_recurse(&operand, &it);
  return bson_iter_find(&it, "$each");
}

// ---- applying ----

Status ApplyArithmetic(const Op& op, const bson::Path& path, MutableValue* root, const ApplyEnv& env) {
  Operand operand(op);
  bool mul = op.kind == OpKind::kMul;
  MutableValue* current = bson::FindPath(root, path);
  if (current == nullptr) {
    return bson::SetPath(root, path, mul ? bson::TimesZero(operand.it) : MutableValue::FromIter(operand.it));
  }
  ValueView value(*current);
  if (!bson::IsNumber(current->type)) {
    return TypeMismatch(std::string("Cannot apply ") + (mul ? "$mul" : "$inc") +
                        " to a value of non-numeric type. " + IdForMessage(*env.doc) + " has the field '" +
                        path.back() + "' of non-numeric type " + bson::TypeAlias(current->type));
  }
  auto result = mul ? bson::MultiplyNumbers(value.it, operand.it) : bson::AddNumbers(value.it, operand.it);
  if (!result) {
    return BadValue(std::string("Failed to apply ") + (mul ? "$mul" : "$inc") + " operations to current value (" +
                    bson::ValueToJson(value.it) + ") for document " + IdForMessage(*env.doc) +
                    ": integer overflow");
  }
  *current = std::move(*result);
  return Status::OK();
}

Status ApplyMinMax(const Op& op, const bson::Path& path, MutableValue* root) {
  Operand operand(op);
  MutableValue* current = bson::FindPath(root, path);
  if (current == nullptr) return bson::SetPath(root, path, MutableValue::FromIter(operand.it));
  ValueView value(*current);
  int c = bson::CompareValues(operand.it, value.it, op.strings);
  if ((op.kind == OpKind::kMin && c < 0) || (op.kind == OpKind::kMax && c > 0)) {
    *current = MutableValue::FromIter(operand.it);
  }
  return Status::OK();
}

Status ApplyCurrentDate(const Op& op, const bson::Path& path, MutableValue* root, const ApplyEnv& env) {
  Operand operand(op);
  bool timestamp = false;
  if (bson_iter_type(&operand.it) == BSON_TYPE_DOCUMENT) {
    bson_iter_t type;
    bson_iter_recurse(&operand.it, &type);
    bson_iter_find(&type, "$type");
    timestamp = std::string_view(bson_iter_utf8(&type, nullptr)) == "timestamp";
  }
  MutableValue value;
  if (timestamp) {
    value.type = BSON_TYPE_TIMESTAMP;
    uint32_t parts[2] = {1, static_cast<uint32_t>(env.now_millis / 1000)};  // increment, then seconds
    value.raw.assign(reinterpret_cast<const char*>(parts), 8);
  } else {
    value.type = BSON_TYPE_DATE_TIME;
    int64_t millis = env.now_millis;
    value.raw.assign(reinterpret_cast<const char*>(&millis), 8);
  }
  return bson::SetPath(root, path, std::move(value));
}

Status ApplyBit(const Op& op, const bson::Path& path, MutableValue* root, const ApplyEnv& env) {
  Operand operand(op);
  MutableValue* current = bson::FindPath(root, path);
  bool wide = false;
  int64_t v = 0;
  if (current != nullptr) {
    if (current->type != BSON_TYPE_INT32 && current->type != BSON_TYPE_INT64) {
      return BadValue("Cannot apply $bit to a value of non-integral type." + IdForMessage(*env.doc) +
                      " has the field " + path.back() + " of non-integer type " + bson::TypeAlias(current->type));
    }
    ValueView value(*current);
    wide = current->type == BSON_TYPE_INT64;
    v = bson_iter_as_int64(&value.it);
  }
  bson_iter_t it;
  bson_iter_recurse(&operand.it, &it);
  while (bson_iter_next(&it)) {
    std::string_view name = bson_iter_key(&it);
    int64_t x = bson_iter_as_int64(&it);
    wide = wide || bson_iter_type(&it) == BSON_TYPE_INT64;
    if (name == "and") v &= x;
    else if (name == "or") v |= x;
    else v ^= x;
  }
  MutableValue result = wide ? bson::MakeInt64(v) : bson::MakeInt32(static_cast<int32_t>(v));
  if (current != nullptr) {
    *current = std::move(result);
    return Status::OK();
  }
  return bson::SetPath(root, path, std::move(result));
}

// Whether any prefix of `path` (not the path itself) reaches an array.
bool RunsThroughArray(MutableValue* root, const bson::Path& path) {
  MutableValue* cur = root;
  for (size_t i = 0; i + 1 < path.size() && cur != nullptr; ++i) {
    cur = cur->Child(path[i]);
    if (cur != nullptr && cur->type == BSON_TYPE_ARRAY) return true;
  }
  return false;
}

Status ApplyRename(const Op& op, MutableValue* root, const ApplyEnv& env) {
  MutableValue* source = bson::FindPath(root, op.path);
  if (RunsThroughArray(root, op.path)) {
    return BadValue("The source field cannot be an array element, '" + op.dotted + "' in doc with " +
                    IdForMessage(*env.doc) + " has an array field called '" + op.path.front() + "'");
  }
  if (RunsThroughArray(root, op.to_path)) {
    return BadValue("The destination field cannot be an array element, '" + op.to_dotted + "' in doc with " +
                    IdForMessage(*env.doc) + " has an array field called '" + op.to_path.front() + "'");
  }
  if (source == nullptr) return Status::OK();
  MutableValue moved = std::move(*source);
  bson::UnsetPath(root, op.path);
  return bson::SetPath(root, op.to_path, std::move(moved));
}

int CompareMutable(const MutableValue& a, const MutableValue& b, const bson::StringOrder* strings) {
  ValueView x(a), y(b);
  return bson::CompareValues(x.it, y.it, strings);
}

void SortElements(const ArrayModifiers& mods, std::vector<bson::MutableField>* elements,
                  const bson::StringOrder* strings) {
  if (mods.sort == ArrayModifiers::Sort::kWhole) {
    std::stable_sort(elements->begin(), elements->end(), [&](const bson::MutableField& a, const bson::MutableField& b) {
      int c = CompareMutable(a.value, b.value, strings);
      return mods.sort_descending ? c > 0 : c < 0;
    });
    return;
  }
  // Sort by fields: non-document elements have no fields (all null).
  std::vector<std::pair<query::SortSpec::SortValues, bson::MutableField>> keyed;
  for (auto& e : *elements) {
    Document doc = e.value.type == BSON_TYPE_DOCUMENT ? Document::FromTrustedBytes(e.value.ToBytes()) : Document();
    keyed.emplace_back(mods.sort_fields.Extract(doc), std::move(e));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return mods.sort_fields.Compare(a.first, b.first) < 0;
  });
  elements->clear();
  for (auto& [key, e] : keyed) elements->push_back(std::move(e));
}

Status ApplyPush(const Op& op, const bson::Path& path, MutableValue* root, const ApplyEnv& env) {
  Status error;
  MutableValue* array = ArrayAt(root, path, &error);
  if (array == nullptr) return error;
  if (array->type != BSON_TYPE_ARRAY) {
    return BadValue("The field '" + op.dotted + "' must be an array but is of type " + bson::TypeAlias(array->type) +
                    " in document " + IdForMessage(*env.doc));
  }
  auto& elements = array->children;
  if (op.modifiers == nullptr) {
    elements.push_back({"", FromHeld(op.value)});
    return Status::OK();
  }
  const ArrayModifiers& mods = *op.modifiers;
  auto size = static_cast<int64_t>(elements.size());
  int64_t at = size;
  if (mods.position) at = *mods.position >= 0 ? std::min(*mods.position, size) : std::max<int64_t>(0, size + *mods.position);
  std::vector<bson::MutableField> added;
  for (const std::string& held : mods.each) added.push_back({"", FromHeld(held)});
  elements.insert(elements.begin() + at, std::make_move_iterator(added.begin()), std::make_move_iterator(added.end()));
  if (mods.sort != ArrayModifiers::Sort::kNone) SortElements(mods, &elements, op.strings);
  if (mods.slice) {
    auto n = static_cast<int64_t>(elements.size());
    if (*mods.slice >= 0) {
      if (*mods.slice < n) elements.erase(elements.begin() + *mods.slice, elements.end());
    } else if (-*mods.slice < n) {
      elements.erase(elements.begin(), elements.end() + *mods.slice);
    }
  }
  return Status::OK();
}

Status ApplyAddToSet(const Op& op, const bson::Path& path, MutableValue* root) {
  Status error;
  MutableValue* array = ArrayAt(root, path, &error);
  if (array == nullptr) return error;
  if (array->type != BSON_TYPE_ARRAY) {
    return BadValue("Cannot apply $addToSet to non-array field. Field named '" + path.back() +
                    "' has non-array type " + bson::TypeAlias(array->type));
  }
  auto add = [&](const std::string& held) {
    MutableValue candidate = FromHeld(held);
    for (const auto& e : array->children) {
      if (CompareMutable(e.value, candidate, op.strings) == 0) return;
    }
    array->children.push_back({"", std::move(candidate)});
  };
  if (op.modifiers == nullptr) {
    add(op.value);
  } else {
    for (const std::string& held : op.modifiers->each) add(held);
  }
  return Status::OK();
}

Status ApplyRemoval(const Op& op, const bson::Path& path, MutableValue* root) {
  MutableValue* array = bson::FindPath(root, path);
  if (array == nullptr) return Status::OK();
  if (op.kind == OpKind::kPop) {
    if (array->type != BSON_TYPE_ARRAY) {
      return TypeMismatch("Path '" + op.dotted + "' contains an element of non-array type '" +
                          bson::TypeAlias(array->type) + "'");
    }
    if (array->children.empty()) return Status::OK();
    Operand operand(op);
    if (*WholeNumber(operand.it) < 0) array->children.erase(array->children.begin());
    else array->children.pop_back();
    return Status::OK();
  }
  if (array->type != BSON_TYPE_ARRAY) {
    return BadValue(std::string("Cannot apply ") + (op.kind == OpKind::kPull ? "$pull" : "$pullAll") +
                    " to a non-array value");
  }
  Operand operand(op);
  auto remove = [&](const MutableValue& element) {
    ValueView view(element);
    if (op.kind == OpKind::kPull) return op.pull->Matches(view.it);
    bson_iter_t candidate;
    bson_iter_recurse(&operand.it, &candidate);
    while (bson_iter_next(&candidate)) {
      if (bson::CompareValues(candidate, view.it, op.strings) == 0) return true;
    }
    return false;
  };
  auto& elements = array->children;
  elements.erase(std::remove_if(elements.begin(), elements.end(),
                                [&](const bson::MutableField& f) { return remove(f.value); }),
                 elements.end());
  return Status::OK();
}

}  // namespace

std::string IdForMessage(const Document& doc) {
  bson_iter_t id;
  if (!doc.Find("_id", &id)) return "{}";
  return bson::FieldToJson("_id", id);
}

std::optional<OpKind> OpKindFromName(std::string_view name) {
  static const std::pair<std::string_view, OpKind> kNames[] = {
      {"$set", OpKind::kSet},         {"$unset", OpKind::kUnset},
      {"$inc", OpKind::kInc},         {"$mul", OpKind::kMul},
      {"$min", OpKind::kMin},         {"$max", OpKind::kMax},
      {"$rename", OpKind::kRename},   {"$currentDate", OpKind::kCurrentDate},
      {"$bit", OpKind::kBit},         {"$setOnInsert", OpKind::kSetOnInsert},
      {"$push", OpKind::kPush},       {"$addToSet", OpKind::kAddToSet},
      {"$pop", OpKind::kPop},         {"$pull", OpKind::kPull},
      {"$pullAll", OpKind::kPullAll},
  };
  for (const auto& [n, kind] : kNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

Result<Op> ParseOp(OpKind kind, std::string_view op_name, const bson_iter_t& field,
                   const bson::StringOrder* strings) {
  Op op;
  op.kind = kind;
  op.strings = strings;
  op.dotted.assign(bson_iter_key(&field), bson_iter_key_len(&field));
  op.path = bson::SplitPath(op.dotted);
  op.value = bson::HoldValue(field);
  bson_type_t type = bson_iter_type(&field);
  switch (kind) {
    case OpKind::kInc:
    case OpKind::kMul:
      if (!bson::IsNumber(type)) {
        return TypeMismatch(std::string("Cannot ") + (kind == OpKind::kInc ? "increment" : "multiply") +
                            " with non-numeric argument: " + bson::FieldToJson(op.dotted, field));
      }
      break;
    case OpKind::kRename: {
      if (type != BSON_TYPE_UTF8) {
        return BadValue("The 'to' field for $rename must be a string: " + bson::FieldToJson(op.dotted, field));
      }
      op.to_dotted = bson_iter_utf8(&field, nullptr);
      op.to_path = bson::SplitPath(op.to_dotted);
      if (op.to_dotted == op.dotted) {
        return BadValue("The source and target field for $rename must differ: " + bson::FieldToJson(op.dotted, field));
      }
      auto on_same_path = [](const bson::Path& a, const bson::Path& b) {
        return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
      };
      if (on_same_path(op.path, op.to_path) || on_same_path(op.to_path, op.path)) {
        return BadValue("The source and target field for $rename must not be on the same path: " +
                        bson::FieldToJson(op.dotted, field));
      }
      for (const bson::Path* p : {&op.path, &op.to_path}) {
        for (const std::string& part : *p) {
          if (!part.empty() && part[0] == '$') {
            return BadValue(std::string(p == &op.path ? "The source" : "The destination") +
                            " field for $rename may not be dynamic: " + (p == &op.path ? op.dotted : op.to_dotted));
          }
        }
      }
      break;
    }
    case OpKind::kCurrentDate: {
      bool ok = type == BSON_TYPE_BOOL;
      if (type == BSON_TYPE_DOCUMENT) {
        bson_iter_t it;
        bson_iter_recurse(&field, &it);
        int fields = 0;
        bool valid = true;
        while (bson_iter_next(&it)) {
          ++fields;
          std::string_view value = BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, nullptr) : "";
          valid = valid && std::string_view(bson_iter_key(&it)) == "$type" && (value == "date" || value == "timestamp");
        }
        if (fields != 1 || !valid) {
          return BadValue("The '$type' string field is required to be 'date' or 'timestamp': "
                          "{$currentDate: {field : {$type: 'date'}}}");
        }
        ok = true;
      }
      if (!ok) {
        return BadValue(bson::FieldToJson(op.dotted, field) +
                        " is not valid type for $currentDate. Please use a boolean ('true') or a $type expression "
                        "({$type: 'timestamp/date'}).");
      }
      break;
    }
    case OpKind::kBit: {
      if (type != BSON_TYPE_DOCUMENT) {
        return BadValue("The $bit modifier is not compatible with a " + TypeOf(field) +
                        ". You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}");
      }
      bson_iter_t it;
      bson_iter_recurse(&field, &it);
      int count = 0;
      while (bson_iter_next(&it)) {
        ++count;
        std::string_view name = bson_iter_key(&it);
        if (name != "and" && name != "or" && name != "xor") {
          return BadValue("The $bit modifier only supports 'and', 'or', and 'xor', not '" + std::string(name) +
                          "' which is an unknown operator: {" + bson::FieldToJson(name, it) + "}");
        }
        if (!BSON_ITER_HOLDS_INT32(&it) && !BSON_ITER_HOLDS_INT64(&it)) {
          return BadValue("The $bit modifier field must be an Integer(32/64 bit); a '" + TypeOf(it) +
                          "' is not supported here: {" + bson::FieldToJson(name, it) + "}");
        }
      }
      if (count == 0) return BadValue("You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}");
      break;
    }
    case OpKind::kPush:
    case OpKind::kAddToSet:
      if (HasEach(field)) {
        auto mods = ParsePushModifiers(field, kind == OpKind::kAddToSet, strings);
        if (!mods.ok()) return mods.status();
        op.modifiers = std::move(mods).value();
      }
      break;
    case OpKind::kPop: {
      auto n = WholeNumber(field);
      if (!bson::IsNumber(type)) return TypeMismatch("Expected a number in: " + bson::FieldToJson(op.dotted, field));
      if (!n || (*n != 1 && *n != -1)) return Status(ErrorCode::kFailedToParse, "$pop expects 1 or -1, found: " + bson::ValueToJson(field));
      break;
    }
    case OpKind::kPull: {
      auto matcher = query::ElementMatcher::Compile(field, true, strings);
      if (!matcher.ok()) return matcher.status();
      op.pull = std::make_shared<const query::ElementMatcher>(std::move(matcher).value());
      break;
    }
    case OpKind::kPullAll:
      if (type != BSON_TYPE_ARRAY) {
        return BadValue("$pullAll requires an array argument but was given a " + TypeOf(field));
      }
      break;
    default:
      break;
  }
  (void)op_name;
  return op;
}

Status ApplyOp(const Op& op, const bson::Path& path, MutableValue* root, const ApplyEnv& env) {
  switch (op.kind) {
    case OpKind::kSetOnInsert:
      if (!env.is_insert) return Status::OK();
      [[fallthrough]];
    case OpKind::kSet:
      return bson::SetPath(root, path, FromHeld(op.value));
    case OpKind::kUnset:
      bson::UnsetPath(root, path);
      return Status::OK();
    case OpKind::kInc:
    case OpKind::kMul:
      return ApplyArithmetic(op, path, root, env);
    case OpKind::kMin:
    case OpKind::kMax:
      return ApplyMinMax(op, path, root);
    case OpKind::kRename:
      return ApplyRename(op, root, env);
    case OpKind::kCurrentDate:
      return ApplyCurrentDate(op, path, root, env);
    case OpKind::kBit:
      return ApplyBit(op, path, root, env);
    case OpKind::kPush:
      return ApplyPush(op, path, root, env);
    case OpKind::kAddToSet:
      return ApplyAddToSet(op, path, root);
    case OpKind::kPop:
    case OpKind::kPull:
    case OpKind::kPullAll:
      return ApplyRemoval(op, path, root);
  }
  return Status::OK();
}

}  // namespace docket::update
