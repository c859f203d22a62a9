#include "query/json_schema.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "docket/document.h"
#include "bson/append_element.h"
#include "bson/type_names.h"
#include "bson/value.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace docket::query {

namespace {

constexpr int kMaxSchemaDepth = 100;  // nesting of sub-schemas, as a filter's

// A set of BSON types; kNumber stands for the four numeric types.
struct TypeSet {
  std::vector<bson_type_t> types;
  bool number = false;
  bool Has(bson_type_t t) const {
    if (number && bson::IsNumber(t)) return true;
    for (bson_type_t x : types) {
      if (x == t) return true;
    }
    return false;
  }
};

// The value a schema node looks at: the document itself (no iterator), or a
// field's or array element's value.
struct Subject {
  bson_type_t type = BSON_TYPE_DOCUMENT;
  const bson_iter_t* it = nullptr;  // null: the top-level document
  const uint8_t* data = nullptr;    // an object's or array's bytes
  uint32_t len = 0;

  static Subject Of(const bson_iter_t& it) {
    Subject s;
    s.type = bson_iter_type(&it);
    s.it = &it;
    if (s.type == BSON_TYPE_DOCUMENT) bson_iter_document(&it, &s.len, &s.data);
    if (s.type == BSON_TYPE_ARRAY) bson_iter_array(&it, &s.len, &s.data);
    return s;
  }
  bool Children(bson_iter_t* out) const { return bson_iter_init_from_data(out, data, len); }
};

}  // namespace

struct SchemaNode {
  Document spec;  // the keywords as given (for specifiedAs)
  std::optional<TypeSet> bson_type, json_type;
  std::vector<std::string> required;
  std::vector<std::pair<std::string, std::unique_ptr<SchemaNode>>> properties;
  std::vector<std::pair<text::Regex, std::unique_ptr<SchemaNode>>> pattern_properties;
  std::vector<std::string> pattern_property_sources;
  std::optional<bool> additional_properties_allowed;
  std::unique_ptr<SchemaNode> additional_properties;
  std::optional<std::string> enum_values;  // HoldValue of the array
  std::optional<double> minimum, maximum, multiple_of;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<int64_t> min_length, max_length, min_items, max_items, min_properties, max_properties;
  std::optional<text::Regex> pattern;
  std::unique_ptr<SchemaNode> items;                  // one schema for every element
  std::vector<std::unique_ptr<SchemaNode>> item_list;  // a schema per position
  bool items_is_list = false;
  std::optional<bool> additional_items_allowed;
  std::unique_ptr<SchemaNode> additional_items;
  bool unique_items = false;
  struct Dependency {
    std::string property;
    std::vector<std::string> requires_properties;
    std::unique_ptr<SchemaNode> schema;
  };
  std::vector<Dependency> dependencies;
  std::vector<std::unique_ptr<SchemaNode>> all_of, any_of, one_of;
  std::unique_ptr<SchemaNode> not_;

  bool Check(const Subject& s) const;
  // Appends one explanation document per failing keyword to `rules` (an
  // array under construction, next index *n).
  void Explain(const Subject& s, bson_t* rules, int* n) const;
};

namespace {

Status Mismatch(const std::string& keyword, const char* expected) {
  return Status(ErrorCode::kTypeMismatch, "$jsonSchema keyword '" + keyword + "' must be " + expected);
}

Result<std::unique_ptr<SchemaNode>> CompileNode(const bson_iter_t& schema, int depth);

Result<std::unique_ptr<SchemaNode>> CompileSub(const bson_iter_t& it, const std::string& keyword, int depth) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return Mismatch(keyword, "an object");
  return CompileNode(it, depth + 1);
}

Result<std::vector<std::unique_ptr<SchemaNode>>> CompileList(const bson_iter_t& it, const std::string& keyword,
                                                             int depth) {
  if (!BSON_ITER_HOLDS_ARRAY(&it)) return Mismatch(keyword, "an array");
  std::vector<std::unique_ptr<SchemaNode>> out;
  bson_iter_t item;
  bson_iter_recurse(&it, &item);
  while (bson_iter_next(&item)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&item)) {
      return Status(ErrorCode::kTypeMismatch, "$jsonSchema keyword '" + keyword + "' must be an array of objects");
    }
    auto sub = CompileNode(item, depth + 1);
    if (!sub.ok()) return sub.status();
    out.push_back(std::move(sub).value());
  }
  if (out.empty() && keyword != "items") {
    return Status(ErrorCode::kBadValue, "$jsonSchema keyword '" + keyword + "' must be a non-empty array");
  }
  return out;
}

Result<std::vector<std::string>> StringList(const bson_iter_t& it, const std::string& keyword) {
  if (!BSON_ITER_HOLDS_ARRAY(&it)) return Mismatch(keyword, "an array");
  std::vector<std::string> out;
  std::set<std::string> seen;
  bson_iter_t item;
  bson_iter_recurse(&it, &item);
  while (bson_iter_next(&item)) {
    if (!BSON_ITER_HOLDS_UTF8(&item)) {
      return Status(ErrorCode::kTypeMismatch, "$jsonSchema keyword '" + keyword + "' must be an array of strings");
    }
    std::string name = bson_iter_utf8(&item, nullptr);
    if (!seen.insert(name).second) {
      return Status(ErrorCode::kFailedToParse,
                    "$jsonSchema keyword '" + keyword + "' array cannot contain duplicate values");
    }
    out.push_back(std::move(name));
  }
  if (out.empty()) {
    return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword '" + keyword + "' cannot be an empty array");
  }
  return out;
}

Result<TypeSet> ParseTypes(const bson_iter_t& it, bool json) {
  const std::string keyword = json ? "type" : "bsonType";
  TypeSet set;
  auto one = [&](std::string_view name) -> Status {
    if (json) {
      if (name == "integer") {
        return Status(ErrorCode::kFailedToParse, "$jsonSchema type 'integer' is not currently supported.");
      }
      if (name == "number") set.number = true;
      else if (name == "object") set.types.push_back(BSON_TYPE_DOCUMENT);
      else if (name == "array") set.types.push_back(BSON_TYPE_ARRAY);
      else if (name == "boolean") set.types.push_back(BSON_TYPE_BOOL);
      else if (name == "string") set.types.push_back(BSON_TYPE_UTF8);
      else if (name == "null") set.types.push_back(BSON_TYPE_NULL);
      else return Status(ErrorCode::kBadValue, "Unknown JSON Schema alias: " + std::string(name));
      return Status::OK();
    }
    if (name == "number") {
      set.number = true;
      return Status::OK();
    }
    auto type = bson::TypeFromAlias(name);
    if (!type) return Status(ErrorCode::kBadValue, "Unknown type name alias: " + std::string(name));
    set.types.push_back(*type);
    return Status::OK();
  };
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    DOCKET_RETURN_IF_ERROR(one(bson_iter_utf8(&it, nullptr)));
    return set;
  }
  if (!BSON_ITER_HOLDS_ARRAY(&it)) return Mismatch(keyword, "either a string or array of strings");
  bson_iter_t item;
  bson_iter_recurse(&it, &item);
  bool any = false;
  while (bson_iter_next(&item)) {
    if (!BSON_ITER_HOLDS_UTF8(&item)) return Mismatch(keyword, "either a string or array of strings");
    DOCKET_RETURN_IF_ERROR(one(bson_iter_utf8(&item, nullptr)));
    any = true;
  }
  if (!any) return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword '" + keyword + "' must name at least one type");
  return set;
}

Result<double> Number(const bson_iter_t& it, const std::string& keyword) {
  if (!bson::IsNumber(bson_iter_type(&it))) return Mismatch(keyword, "a number");
  return bson::NumberAsDouble(it);
}

Result<int64_t> Count(const bson_iter_t& it, const std::string& keyword) {
  if (!bson::IsNumber(bson_iter_type(&it))) return Mismatch(keyword, "a number");
  const double d = bson::NumberAsDouble(it);
  if (!(d >= 0) || d != std::floor(d) || d > 9.2e18) {
    return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword '" + keyword + "' must be a non-negative integer");
  }
  return static_cast<int64_t>(d);
}

Result<bool> Bool(const bson_iter_t& it, const std::string& keyword) {
  if (!BSON_ITER_HOLDS_BOOL(&it)) return Mismatch(keyword, "a boolean");
  return bson_iter_bool(&it);
}

Result<std::unique_ptr<SchemaNode>> CompileNode(const bson_iter_t& schema, int depth) {
  if (depth > kMaxSchemaDepth) return Status(ErrorCode::kBadValue, "$jsonSchema is nested too deeply");
  auto node = std::make_unique<SchemaNode>();
  node->spec = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(schema)));
  bson_iter_t it;
  bson_iter_recurse(&schema, &it);
  bool has_exclusive_min = false, has_exclusive_max = false;
  while (bson_iter_next(&it)) {
    const std::string key = bson_iter_key(&it);
    if (key == "bsonType" || key == "type") {
      auto types = ParseTypes(it, key == "type");
      if (!types.ok()) return types.status();
      (key == "type" ? node->json_type : node->bson_type) = std::move(types).value();
    } else if (key == "required") {
      auto names = StringList(it, key);
      if (!names.ok()) return names.status();
      node->required = std::move(names).value();
    } else if (key == "properties") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return Mismatch(key, "an object");
      bson_iter_t property;
      bson_iter_recurse(&it, &property);
      while (bson_iter_next(&property)) {
        auto sub = CompileSub(property, "properties", depth);
        if (!sub.ok()) return sub.status();
        node->properties.emplace_back(bson_iter_key(&property), std::move(sub).value());
      }
    } else if (key == "patternProperties") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return Mismatch(key, "an object");
      bson_iter_t property;
      bson_iter_recurse(&it, &property);
      while (bson_iter_next(&property)) {
        auto regex = text::Regex::Compile(bson_iter_key(&property), "");
        if (!regex.ok()) return regex.status();
        auto sub = CompileSub(property, "patternProperties", depth);
        if (!sub.ok()) return sub.status();
        node->pattern_properties.emplace_back(std::move(regex).value(), std::move(sub).value());
        node->pattern_property_sources.emplace_back(bson_iter_key(&property));
      }
    } else if (key == "additionalProperties" || key == "additionalItems") {
      const bool properties = key == "additionalProperties";
      if (BSON_ITER_HOLDS_BOOL(&it)) {
        (properties ? node->additional_properties_allowed : node->additional_items_allowed) = bson_iter_bool(&it);
      } else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
        auto sub = CompileNode(it, depth + 1);
        if (!sub.ok()) return sub.status();
        (properties ? node->additional_properties : node->additional_items) = std::move(sub).value();
      } else {
        return Mismatch(key, "a boolean or an object");
      }
    } else if (key == "enum") {
      if (!BSON_ITER_HOLDS_ARRAY(&it)) return Mismatch(key, "an array");
      bson_iter_t first;
      bson_iter_recurse(&it, &first);
      if (!bson_iter_next(&first)) {
        return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword 'enum' cannot be an empty array");
      }
      node->enum_values = bson::HoldValue(it);
    } else if (key == "minimum" || key == "maximum" || key == "multipleOf") {
      auto n = Number(it, key);
      if (!n.ok()) return n.status();
      if (key == "multipleOf" && !(*n > 0)) {
        return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword 'multipleOf' must have a positive value");
      }
      (key == "minimum" ? node->minimum : key == "maximum" ? node->maximum : node->multiple_of) = *n;
    } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
      auto b = Bool(it, key);
      if (!b.ok()) return b.status();
      (key == "exclusiveMinimum" ? node->exclusive_minimum : node->exclusive_maximum) = *b;
      (key == "exclusiveMinimum" ? has_exclusive_min : has_exclusive_max) = true;
    } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
               key == "minProperties" || key == "maxProperties") {
      auto n = Count(it, key);
      if (!n.ok()) return n.status();
      (key == "minLength"   ? node->min_length
       : key == "maxLength" ? node->max_length
       : key == "minItems"  ? node->min_items
       : key == "maxItems"  ? node->max_items
       : key == "minProperties" ? node->min_properties
                                : node->max_properties) = *n;
    } else if (key == "pattern") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return Mismatch(key, "a string");
      auto regex = text::Regex::Compile(bson_iter_utf8(&it, nullptr), "");
      if (!regex.ok()) return regex.status();
      node->pattern = std::move(regex).value();
    } else if (key == "items") {
      if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
        auto sub = CompileNode(it, depth + 1);
        if (!sub.ok()) return sub.status();
        node->items = std::move(sub).value();
      } else if (BSON_ITER_HOLDS_ARRAY(&it)) {
        auto list = CompileList(it, key, depth);
        if (!list.ok()) return list.status();
        node->item_list = std::move(list).value();
        node->items_is_list = true;
      } else {
        return Mismatch(key, "an array or an object");
      }
    } else if (key == "uniqueItems") {
      auto b = Bool(it, key);
      if (!b.ok()) return b.status();
      node->unique_items = *b;
    } else if (key == "dependencies") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return Mismatch(key, "an object");
      bson_iter_t dep;
      bson_iter_recurse(&it, &dep);
      while (bson_iter_next(&dep)) {
        SchemaNode::Dependency d;
        d.property = bson_iter_key(&dep);
        if (BSON_ITER_HOLDS_DOCUMENT(&dep)) {
          auto sub = CompileNode(dep, depth + 1);
          if (!sub.ok()) return sub.status();
          d.schema = std::move(sub).value();
        } else if (BSON_ITER_HOLDS_ARRAY(&dep)) {
          auto names = StringList(dep, "dependencies");
          if (!names.ok()) return names.status();
          d.requires_properties = std::move(names).value();
        } else {
          return Status(ErrorCode::kTypeMismatch,
                        "property '" + d.property + "' in $jsonSchema keyword 'dependencies' must be either an object or an array");
        }
        node->dependencies.push_back(std::move(d));
      }
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      auto list = CompileList(it, key, depth);
      if (!list.ok()) return list.status();
      (key == "allOf" ? node->all_of : key == "anyOf" ? node->any_of : node->one_of) = std::move(list).value();
    } else if (key == "not") {
      auto sub = CompileSub(it, key, depth);
      if (!sub.ok()) return sub.status();
      node->not_ = std::move(sub).value();
    } else if (key == "title" || key == "description") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return Mismatch(key, "a string");
    } else if (key == "$ref" || key == "$schema" || key == "default" || key == "definitions" || key == "format" ||
               key == "id") {
      return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword '" + key + "' is not currently supported");
    } else {
      return Status(ErrorCode::kFailedToParse, "Unknown $jsonSchema keyword: " + key);
    }
  }
  if (node->bson_type && node->json_type) {
    return Status(ErrorCode::kFailedToParse, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
  }
  if (has_exclusive_min && !node->minimum) {
    return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword 'minimum' must be a present if exclusiveMinimum is present");
  }
  if (has_exclusive_max && !node->maximum) {
    return Status(ErrorCode::kFailedToParse, "$jsonSchema keyword 'maximum' must be a present if exclusiveMaximum is present");
  }
  return node;
}

double AsDouble(const Subject& s) { return bson::NumberAsDouble(*s.it); }

bool ValueEquals(const bson_iter_t& a, const bson_iter_t& b) { return bson::CompareValues(a, b) == 0; }

// The checks of one keyword family; each returns true when `s` satisfies it.
struct Checks {
  const SchemaNode& n;
  const Subject& s;

  bool Types() const {
    if (n.bson_type && !n.bson_type->Has(s.type)) return false;
    if (n.json_type && !n.json_type->Has(s.type)) return false;
    return true;
  }
  bool Minimum() const {
    if (!n.minimum || !bson::IsNumber(s.type)) return true;
    const double v = AsDouble(s);
    return n.exclusive_minimum ? v > *n.minimum : v >= *n.minimum;
  }
  bool Maximum() const {
    if (!n.maximum || !bson::IsNumber(s.type)) return true;
    const double v = AsDouble(s);
    return n.exclusive_maximum ? v < *n.maximum : v <= *n.maximum;
  }
  bool MultipleOf() const {
    if (!n.multiple_of || !bson::IsNumber(s.type)) return true;
    const double r = std::fmod(AsDouble(s), *n.multiple_of);
    return r == 0;
  }
  bool Length() const {
    if ((!n.min_length && !n.max_length) || s.type != BSON_TYPE_UTF8) return true;
    uint32_t len = 0;
    const char* str = bson_iter_utf8(s.it, &len);
    const auto count = static_cast<int64_t>(text::CodePointCount(std::string_view(str, len)));
    return (!n.min_length || count >= *n.min_length) && (!n.max_length || count <= *n.max_length);
  }
  bool Pattern() const {
    if (!n.pattern || s.type != BSON_TYPE_UTF8) return true;
    uint32_t len = 0;
    const char* str = bson_iter_utf8(s.it, &len);
    return n.pattern->Matches(std::string_view(str, len));
  }
  bool Enum() const {
    if (!n.enum_values) return true;
    bson_iter_t held, choice;
    bson::IterHeldValue(*n.enum_values, &held);
    bson_iter_recurse(&held, &choice);
    while (bson_iter_next(&choice)) {
      if (s.it != nullptr) {
        if (ValueEquals(*s.it, choice)) return true;
      } else if (BSON_ITER_HOLDS_DOCUMENT(&choice)) {
        std::string_view bytes = bson::SubDocumentBytes(choice);
        if (bson::CompareDocumentBytes(s.data, s.len, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                       true) == 0) {
          return true;
        }
      }
    }
    return false;
  }
  // The object's field names missing from `required`.
  std::vector<std::string> Missing() const {
    std::vector<std::string> missing;
    if (s.type != BSON_TYPE_DOCUMENT) return missing;
    for (const std::string& name : n.required) {
      bson_iter_t it;
      if (!s.Children(&it) || !bson_iter_find(&it, name.c_str())) missing.push_back(name);
    }
    return missing;
  }
  int64_t Size() const {
    int64_t count = 0;
    bson_iter_t it;
    if (s.Children(&it)) {
      while (bson_iter_next(&it)) ++count;
    }
    return count;
  }
  bool PropertyCount() const {
    if ((!n.min_properties && !n.max_properties) || s.type != BSON_TYPE_DOCUMENT) return true;
    const int64_t count = Size();
    return (!n.min_properties || count >= *n.min_properties) && (!n.max_properties || count <= *n.max_properties);
  }
  bool ItemCount() const {
    if ((!n.min_items && !n.max_items) || s.type != BSON_TYPE_ARRAY) return true;
    const int64_t count = Size();
    return (!n.min_items || count >= *n.min_items) && (!n.max_items || count <= *n.max_items);
  }
  // The index of the first element equal to an earlier one, or -1.
  // The index of the first element equal to an earlier one, or -1. Sorted
  // copies (O(n log n) comparisons, not every pair), each element held as
  // bytes: libbson's iterator is 128-byte aligned and may not live in a
  // vector.
  int64_t Duplicate() const {
    if (!n.unique_items || s.type != BSON_TYPE_ARRAY) return -1;
    std::vector<std::pair<std::string, int64_t>> held;  // {HoldValue, index}
    bson_iter_t it;
    if (!s.Children(&it)) return -1;
    for (int64_t i = 0; bson_iter_next(&it); ++i) held.emplace_back(bson::HoldValue(it), i);
    auto compare = [](const std::pair<std::string, int64_t>& a, const std::pair<std::string, int64_t>& b) {
      bson_iter_t x, y;
      bson::IterHeldValue(a.first, &x);
      bson::IterHeldValue(b.first, &y);
      return bson::CompareValues(x, y);
    };
    std::sort(held.begin(), held.end(), [&](const auto& a, const auto& b) {
      const int c = compare(a, b);
      return c != 0 ? c < 0 : a.second < b.second;
    });
    int64_t first = -1;
    for (size_t k = 1; k < held.size(); ++k) {
      if (compare(held[k - 1], held[k]) != 0) continue;
      if (first < 0 || held[k].second < first) first = held[k].second;
    }
    return first;
  }
};

// Calls visit(name, value) for each field of an object subject.
template <typename F>
void ForEachField(const Subject& s, F visit) {
  bson_iter_t it;
  if (s.type != BSON_TYPE_DOCUMENT || !s.Children(&it)) return;
  while (bson_iter_next(&it)) visit(std::string_view(bson_iter_key(&it)), it);
}

bool IsDeclared(const SchemaNode& n, std::string_view name) {
  for (const auto& [p, sub] : n.properties) {
    if (p == name) return true;
  }
  for (const auto& [regex, sub] : n.pattern_properties) {
    if (regex.Matches(name)) return true;
  }
  return false;
}

}  // namespace

bool SchemaNode::Check(const Subject& s) const {
  Checks c{*this, s};
  if (!c.Types() || !c.Minimum() || !c.Maximum() || !c.MultipleOf() || !c.Length() || !c.Pattern() || !c.Enum() ||
      !c.Missing().empty() || !c.PropertyCount() || !c.ItemCount() || c.Duplicate() >= 0) {
    return false;
  }
  if (s.type == BSON_TYPE_DOCUMENT) {
    bool ok = true;
    ForEachField(s, [&](std::string_view name, const bson_iter_t& value) {
      if (!ok) return;
      const Subject field = Subject::Of(value);
      bool declared = false;
      for (const auto& [p, sub] : properties) {
        if (p == name) {
          declared = true;
          if (!sub->Check(field)) ok = false;
        }
      }
      for (const auto& [regex, sub] : pattern_properties) {
        if (regex.Matches(name)) {
          declared = true;
          if (!sub->Check(field)) ok = false;
        }
      }
      if (!declared) {
        if (additional_properties_allowed == false) ok = false;
        if (additional_properties && !additional_properties->Check(field)) ok = false;
      }
    });
    if (!ok) return false;
    for (const Dependency& d : dependencies) {
      bson_iter_t it;
      if (!s.Children(&it) || !bson_iter_find(&it, d.property.c_str())) continue;
      if (d.schema && !d.schema->Check(s)) return false;
      for (const std::string& other : d.requires_properties) {
        bson_iter_t o;
        if (!s.Children(&o) || !bson_iter_find(&o, other.c_str())) return false;
      }
    }
  }
  if (s.type == BSON_TYPE_ARRAY && (items || items_is_list)) {
    bson_iter_t it;
    s.Children(&it);
    for (size_t i = 0; bson_iter_next(&it); ++i) {
      const Subject element = Subject::Of(it);
      if (!items_is_list) {
        if (!items->Check(element)) return false;
      } else if (i < item_list.size()) {
        if (!item_list[i]->Check(element)) return false;
      } else {
        if (additional_items_allowed == false) return false;
        if (additional_items && !additional_items->Check(element)) return false;
      }
    }
  }
  for (const auto& sub : all_of) {
    if (!sub->Check(s)) return false;
  }
  if (!any_of.empty()) {
    bool any = false;
    for (const auto& sub : any_of) any = any || sub->Check(s);
    if (!any) return false;
  }
  if (!one_of.empty()) {
    int matched = 0;
    for (const auto& sub : one_of) matched += sub->Check(s) ? 1 : 0;
    if (matched != 1) return false;
  }
  if (not_ && not_->Check(s)) return false;
  return true;
}

namespace {

void AppendConsidered(bson_t* out, const Subject& s) {
  if (s.it != nullptr) {
    bson::AppendElement(out, "consideredValue", -1, s.it);
  } else {
    bson_t doc;
    if (bson_init_static(&doc, s.data, s.len)) bson_append_document(out, "consideredValue", -1, &doc);
  }
}

void AppendSpecified(bson_t* out, const SchemaNode& n, const char* keyword) {
  bson_t specified;
  BSON_APPEND_DOCUMENT_BEGIN(out, "specifiedAs", &specified);
  bson_iter_t it;
  if (n.spec.Find(keyword, &it)) bson::AppendElement(&specified, keyword, -1, &it);
  bson_append_document_end(out, &specified);
}

// Starts rule document number *n in `rules`; returns it open in *rule.
void BeginRule(bson_t* rules, int* n, bson_t* rule, const char* operator_name) {
  const std::string key = std::to_string((*n)++);
  bson_append_document_begin(rules, key.c_str(), -1, rule);
  BSON_APPEND_UTF8(rule, "operatorName", operator_name);
}

// A failed comparison-like keyword: {operatorName, specifiedAs, reason, consideredValue}.
void SimpleRule(bson_t* rules, int* n, const SchemaNode& node, const char* keyword, const char* reason,
                const Subject& s) {
  bson_t rule;
  BeginRule(rules, n, &rule, keyword);
  AppendSpecified(&rule, node, keyword);
  BSON_APPEND_UTF8(&rule, "reason", reason);
  AppendConsidered(&rule, s);
  bson_append_document_end(rules, &rule);
}

// `details: [...]` of a sub-schema that failed on `s`.
void AppendSubDetails(bson_t* out, const SchemaNode& sub, const Subject& s) {
  bson_t details;
  int count = 0;
  BSON_APPEND_ARRAY_BEGIN(out, "details", &details);
  sub.Explain(s, &details, &count);
  bson_append_array_end(out, &details);
}

// For allOf/anyOf/oneOf: schemasNotSatisfied: [{index, details}] of the failing ones.
void ListRule(bson_t* rules, int* n, const char* keyword, const std::vector<std::unique_ptr<SchemaNode>>& list,
              const Subject& s) {
  bson_t rule, failed;
  BeginRule(rules, n, &rule, keyword);
  BSON_APPEND_ARRAY_BEGIN(&rule, "schemasNotSatisfied", &failed);
  int count = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i]->Check(s)) continue;
    bson_t one;
    const std::string key = std::to_string(count++);
    bson_append_document_begin(&failed, key.c_str(), -1, &one);
    BSON_APPEND_INT32(&one, "index", static_cast<int32_t>(i));
    AppendSubDetails(&one, *list[i], s);
    bson_append_document_end(&failed, &one);
  }
  bson_append_array_end(&rule, &failed);
  bson_append_document_end(rules, &rule);
}

}  // namespace

void SchemaNode::Explain(const Subject& s, bson_t* rules, int* n) const {
  Checks c{*this, s};
  if (!c.Types()) {
    const char* keyword = bson_type ? "bsonType" : "type";
    bson_t rule;
    BeginRule(rules, n, &rule, keyword);
    AppendSpecified(&rule, *this, keyword);
    BSON_APPEND_UTF8(&rule, "reason", "type did not match");
    AppendConsidered(&rule, s);
    BSON_APPEND_UTF8(&rule, "consideredType", bson::TypeAlias(s.type));
    bson_append_document_end(rules, &rule);
    return;  // MongoDB reports the type alone when it does not match
  }
  if (!c.Minimum()) SimpleRule(rules, n, *this, "minimum", "comparison failed", s);
  if (!c.Maximum()) SimpleRule(rules, n, *this, "maximum", "comparison failed", s);
  if (!c.MultipleOf()) SimpleRule(rules, n, *this, "multipleOf", "considered value is not a multiple of the specified value", s);
  if (!c.Length()) {
    uint32_t len = 0;
    const char* str = bson_iter_utf8(s.it, &len);
    const auto count = static_cast<int64_t>(text::CodePointCount(std::string_view(str, len)));
    SimpleRule(rules, n, *this, min_length && count < *min_length ? "minLength" : "maxLength",
               "specified string length was not satisfied", s);
  }
  if (!c.Pattern()) SimpleRule(rules, n, *this, "pattern", "regular expression did not match", s);
  if (!c.Enum()) SimpleRule(rules, n, *this, "enum", "value was not found in enum", s);
  if (auto missing = c.Missing(); !missing.empty()) {
    bson_t rule, names;
    BeginRule(rules, n, &rule, "required");
    AppendSpecified(&rule, *this, "required");
    BSON_APPEND_ARRAY_BEGIN(&rule, "missingProperties", &names);
    for (size_t i = 0; i < missing.size(); ++i) BSON_APPEND_UTF8(&names, std::to_string(i).c_str(), missing[i].c_str());
    bson_append_array_end(&rule, &names);
    bson_append_document_end(rules, &rule);
  }
  if (!c.PropertyCount()) {
    const int64_t count = c.Size();
    bson_t rule;
    BeginRule(rules, n, &rule, min_properties && count < *min_properties ? "minProperties" : "maxProperties");
    AppendSpecified(&rule, *this, min_properties && count < *min_properties ? "minProperties" : "maxProperties");
    BSON_APPEND_UTF8(&rule, "reason", "specified number of properties was not satisfied");
    BSON_APPEND_INT64(&rule, "numberOfProperties", count);
    bson_append_document_end(rules, &rule);
  }
  if (!c.ItemCount()) {
    const int64_t count = c.Size();
    SimpleRule(rules, n, *this, min_items && count < *min_items ? "minItems" : "maxItems",
               "array did not match specified length", s);
  }
  if (c.Duplicate() >= 0) SimpleRule(rules, n, *this, "uniqueItems", "found a duplicate item", s);
  if (s.type == BSON_TYPE_DOCUMENT) {
    // properties: each declared property whose value fails its schema.
    bson_t rule, failed;
    int count = 0;
    bool open = false;
    for (const auto& [p, sub] : properties) {
      bson_iter_t it;
      if (!s.Children(&it) || !bson_iter_find(&it, p.c_str())) continue;
      const Subject field = Subject::Of(it);
      if (sub->Check(field)) continue;
      if (!open) {
        BeginRule(rules, n, &rule, "properties");
        BSON_APPEND_ARRAY_BEGIN(&rule, "propertiesNotSatisfied", &failed);
        open = true;
      }
      bson_t one;
      const std::string key = std::to_string(count++);
      bson_append_document_begin(&failed, key.c_str(), -1, &one);
      BSON_APPEND_UTF8(&one, "propertyName", p.c_str());
      AppendSubDetails(&one, *sub, field);
      bson_append_document_end(&failed, &one);
    }
    if (open) {
      bson_append_array_end(&rule, &failed);
      bson_append_document_end(rules, &rule);
    }
    // patternProperties and additionalProperties.
    std::vector<std::string> extra;
    bool pattern_failed = false;
    ForEachField(s, [&](std::string_view name, const bson_iter_t& value) {
      const Subject field = Subject::Of(value);
      for (const auto& [regex, sub] : pattern_properties) {
        if (regex.Matches(name) && !sub->Check(field)) pattern_failed = true;
      }
      if (!IsDeclared(*this, name)) {
        if (additional_properties_allowed == false ||
            (additional_properties && !additional_properties->Check(field))) {
          extra.emplace_back(name);
        }
      }
    });
    if (pattern_failed) {
      bson_t prule;
      BeginRule(rules, n, &prule, "patternProperties");
      AppendSpecified(&prule, *this, "patternProperties");
      BSON_APPEND_UTF8(&prule, "reason", "at least one property did not match its pattern's sub-schema");
      bson_append_document_end(rules, &prule);
    }
    if (!extra.empty()) {
      bson_t arule, names;
      BeginRule(rules, n, &arule, "additionalProperties");
      AppendSpecified(&arule, *this, "additionalProperties");
      BSON_APPEND_ARRAY_BEGIN(&arule, "additionalProperties", &names);
      for (size_t i = 0; i < extra.size(); ++i) BSON_APPEND_UTF8(&names, std::to_string(i).c_str(), extra[i].c_str());
      bson_append_array_end(&arule, &names);
      bson_append_document_end(rules, &arule);
    }
    for (const Dependency& d : dependencies) {
      bson_iter_t it;
      if (!s.Children(&it) || !bson_iter_find(&it, d.property.c_str())) continue;
      std::vector<std::string> missing;
      for (const std::string& other : d.requires_properties) {
        bson_iter_t o;
        if (!s.Children(&o) || !bson_iter_find(&o, other.c_str())) missing.push_back(other);
      }
      const bool schema_failed = d.schema && !d.schema->Check(s);
      if (missing.empty() && !schema_failed) continue;
      bson_t drule, deps, one, names;
      BeginRule(rules, n, &drule, "dependencies");
      BSON_APPEND_ARRAY_BEGIN(&drule, "failingDependencies", &deps);
      BSON_APPEND_DOCUMENT_BEGIN(&deps, "0", &one);
      BSON_APPEND_UTF8(&one, "conditionalProperty", d.property.c_str());
      if (schema_failed) {
        AppendSubDetails(&one, *d.schema, s);
      } else {
        BSON_APPEND_ARRAY_BEGIN(&one, "missingProperties", &names);
        for (size_t i = 0; i < missing.size(); ++i) BSON_APPEND_UTF8(&names, std::to_string(i).c_str(), missing[i].c_str());
        bson_append_array_end(&one, &names);
      }
      bson_append_document_end(&deps, &one);
      bson_append_array_end(&drule, &deps);
      bson_append_document_end(rules, &drule);
    }
  }
  if (s.type == BSON_TYPE_ARRAY && (items || items_is_list)) {
    bson_iter_t it;
    s.Children(&it);
    for (size_t i = 0; bson_iter_next(&it); ++i) {
      const Subject element = Subject::Of(it);
      const SchemaNode* sub = !items_is_list ? items.get() : i < item_list.size() ? item_list[i].get() : additional_items.get();
      const bool beyond = items_is_list && i >= item_list.size();
      if (beyond && additional_items_allowed == false) {
        bson_t rule;
        BeginRule(rules, n, &rule, "additionalItems");
        AppendSpecified(&rule, *this, "additionalItems");
        BSON_APPEND_UTF8(&rule, "reason", "found additional items");
        AppendConsidered(&rule, s);
        bson_append_document_end(rules, &rule);
        break;
      }
      if (sub == nullptr || sub->Check(element)) continue;
      bson_t rule;
      BeginRule(rules, n, &rule, beyond ? "additionalItems" : "items");
      BSON_APPEND_UTF8(&rule, "reason", beyond ? "at least one additional item did not match the sub-schema"
                                               : "At least one item did not match the sub-schema");
      BSON_APPEND_INT64(&rule, "itemIndex", static_cast<int64_t>(i));
      AppendSubDetails(&rule, *sub, element);
      bson_append_document_end(rules, &rule);
      break;  // MongoDB reports the first failing item
    }
  }
  bool all_failed = false;
  for (const auto& sub : all_of) all_failed = all_failed || !sub->Check(s);
  if (all_failed) ListRule(rules, n, "allOf", all_of, s);
  if (!any_of.empty()) {
    bool any = false;
    for (const auto& sub : any_of) any = any || sub->Check(s);
    if (!any) ListRule(rules, n, "anyOf", any_of, s);
  }
  if (!one_of.empty()) {
    std::vector<int32_t> matching;
    for (size_t i = 0; i < one_of.size(); ++i) {
      if (one_of[i]->Check(s)) matching.push_back(static_cast<int32_t>(i));
    }
    if (matching.empty()) {
      ListRule(rules, n, "oneOf", one_of, s);
    } else if (matching.size() > 1) {
      bson_t rule, indexes;
      BeginRule(rules, n, &rule, "oneOf");
      BSON_APPEND_UTF8(&rule, "reason", "more than one subschema matched");
      BSON_APPEND_ARRAY_BEGIN(&rule, "matchingSchemaIndexes", &indexes);
      for (size_t i = 0; i < matching.size(); ++i) BSON_APPEND_INT32(&indexes, std::to_string(i).c_str(), matching[i]);
      bson_append_array_end(&rule, &indexes);
      bson_append_document_end(rules, &rule);
    }
  }
  if (not_ && not_->Check(s)) {
    bson_t rule;
    BeginRule(rules, n, &rule, "not");
    BSON_APPEND_UTF8(&rule, "reason", "child expression matched");
    bson_append_document_end(rules, &rule);
  }
}

JsonSchema::JsonSchema(std::unique_ptr<SchemaNode> root) : root_(std::move(root)) {}
JsonSchema::~JsonSchema() = default;

Result<std::shared_ptr<const JsonSchema>> JsonSchema::Compile(const bson_iter_t& schema) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&schema)) {
    return Status(ErrorCode::kTypeMismatch, "$jsonSchema must be an object");
  }
  auto root = CompileNode(schema, 0);
  if (!root.ok()) return root.status();
  return std::shared_ptr<const JsonSchema>(new JsonSchema(std::move(root).value()));
}

bool JsonSchema::Matches(const uint8_t* doc, size_t len) const {
  Subject s;
  s.data = doc;
  s.len = static_cast<uint32_t>(len);
  return root_->Check(s);
}

void JsonSchema::Explain(const uint8_t* doc, size_t len, bson_t* out) const {
  Subject s;
  s.data = doc;
  s.len = static_cast<uint32_t>(len);
  bson_t rules;
  int n = 0;
  BSON_APPEND_UTF8(out, "operatorName", "$jsonSchema");
  BSON_APPEND_ARRAY_BEGIN(out, "schemaRulesNotSatisfied", &rules);
  root_->Explain(s, &rules, &n);
  bson_append_array_end(out, &rules);
}

}  // namespace docket::query
