#include "query/projection.h"

#include <algorithm>

#include "bson/builder.h"
#include "bson/value.h"
#include "expr/expression.h"
#include "bson/append_element.h"

namespace docket::query {
namespace {

using Node = Projection::Node;
using expr::Value;

Status Fail(int code, std::string message) { return Status(static_cast<ErrorCode>(code), std::move(message)); }

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// What Apply carries through the copy.
struct ApplyState {
  size_t position;
  expr::Variables* vars;  // for computed fields: ROOT is the whole document
  Status error;
};

// Appends the elements [begin, end) of the array `it` as field `key`.
void AppendArrayRange(bson_t* out, const char* key, int key_len, const bson_iter_t& it, int64_t begin, int64_t end) {
  bson_t child;
  bson_append_array_begin(out, key, key_len, &child);
  bson_iter_t element;
  bson_iter_recurse(&it, &element);
  int64_t i = 0, written = 0;
  while (bson_iter_next(&element)) {
    if (i >= begin && i < end) {
      std::string index = std::to_string(written++);
      docket::bson::AppendElement(&child, index.c_str(), -1, &element);
    }
    ++i;
  }
  bson_append_array_end(out, &child);
}

int64_t ArrayLength(const bson_iter_t& it) {
  bson_iter_t element;
  bson_iter_recurse(&it, &element);
  int64_t n = 0;
  while (bson_iter_next(&element)) ++n;
  return n;
}

bool IsContainer(const bson_iter_t& it) {
  return bson_iter_type(&it) == BSON_TYPE_DOCUMENT || bson_iter_type(&it) == BSON_TYPE_ARRAY;
}

std::string_view Key(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

// A field whose node carries $slice or the positional operator.
void AppendOperated(bson_t* out, const bson_iter_t& it, const Node& node, ApplyState* state) {
  const char* key = bson_iter_key(&it);
  int key_len = static_cast<int>(bson_iter_key_len(&it));
  if (bson_iter_type(&it) != BSON_TYPE_ARRAY) {
    docket::bson::AppendElement(out, key, key_len, &it);
    return;
  }
  int64_t size = ArrayLength(it);
  if (node.op == Node::Op::kPositional) {
    auto at = static_cast<int64_t>(state->position);
    if (state->position == bson::kNoPosition || at >= size) {
      state->error = Fail(51246, "positional operator '.$' couldn't find a matching element in the array");
      return;
    }
    AppendArrayRange(out, key, key_len, it, at, at + 1);
    return;
  }
  int64_t begin = 0, end = size;
  if (node.has_skip) {
    begin = node.skip >= 0 ? node.skip : std::max<int64_t>(0, size + node.skip);
    end = begin + node.limit;
  } else if (node.limit >= 0) {
    end = node.limit;
  } else {
    begin = std::max<int64_t>(0, size + node.limit);
  }
  AppendArrayRange(out, key, key_len, it, begin, end);
}

// Evaluates a computed node and appends it as `key` (nothing when missing).
void AppendComputed(bson_t* out, std::string_view key, const Node& node, ApplyState* state) {
  if (!state->error.ok()) return;
  auto v = node.expr->Evaluate(*state->vars);
  if (!v.ok()) {
    state->error = v.status();
    return;
  }
  v->AppendTo(out, key);
}

// The computed fields of `node` applied to an empty document: what a
// computed path makes of a missing field or a scalar in its way.
void AppendOnEmpty(bson_t* out, std::string_view key, const Node& node, ApplyState* state) {
  if (node.op == Node::Op::kComputed) {
    AppendComputed(out, key, node, state);
    return;
  }
  bson_t child;
  bson_append_document_begin(out, key.data(), static_cast<int>(key.size()), &child);
  for (const std::string& name : node.order) {
    const Node& sub = node.children.at(name);
    if (sub.has_computed) AppendOnEmpty(&child, name, sub, state);
  }
  bson_append_document_end(out, &child);
}

using CopyFn = void (*)(bson_t*, const uint8_t*, size_t, const Node&, bool, ApplyState*);

// Writes the sub-document or array `it` under `key`, its content produced
// by `copy` with `node`.
void AppendContainer(bson_t* out, std::string_view key, const bson_iter_t& it, const Node& node, CopyFn copy,
                     ApplyState* state) {
  std::string_view bytes = bson::SubDocumentBytes(it);
  bson_t child;
  const bool is_array = bson_iter_type(&it) == BSON_TYPE_ARRAY;
  if (is_array) {
    bson_append_array_begin(out, key.data(), static_cast<int>(key.size()), &child);
  } else {
    bson_append_document_begin(out, key.data(), static_cast<int>(key.size()), &child);
  }
  copy(&child, Bytes(bytes), bytes.size(), node, is_array, state);
  if (is_array) bson_append_array_end(out, &child);
  else bson_append_document_end(out, &child);
}

// The children of `node` in specification order that the input did not
// have: computed ones are evaluated, and sub-trees holding computed fields
// are built on an empty document.
void AppendAbsentComputed(bson_t* out, const Node& node, const std::vector<std::string_view>& present,
                          ApplyState* state) {
  for (const std::string& name : node.order) {
    const Node& sub = node.children.at(name);
    if (!sub.has_computed) continue;
    bool seen = std::find(present.begin(), present.end(), name) != present.end();
    if (sub.op == Node::Op::kComputed) {
      AppendComputed(out, name, sub, state);  // in an inclusion, computed fields always come last
    } else if (!seen) {
      AppendOnEmpty(out, name, sub, state);
    }
  }
}

// Inclusion: keep selected fields; inside arrays keep only documents and
// arrays (projected), as MongoDB does — unless computed fields make scalars
// into documents.
void CopyIncluded(bson_t* out, const uint8_t* data, size_t len, const Node& node, bool is_array, ApplyState* state) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return;
  uint32_t index = 0;
  std::vector<std::string_view> present;
  while (bson_iter_next(&it)) {
    if (is_array) {
      std::string key = std::to_string(index);
      if (IsContainer(it)) {
        AppendContainer(out, key, it, node, CopyIncluded, state);
      } else if (node.has_computed) {
        AppendOnEmpty(out, key, node, state);
      } else {
        continue;
      }
      ++index;
      continue;
    }
    auto found = node.children.find(std::string(Key(it)));
    if (found == node.children.end()) continue;
    const Node& sub = found->second;
    present.push_back(found->first);
    if (sub.op == Node::Op::kElemMatch || sub.op == Node::Op::kComputed) continue;  // appended later
    if (sub.op != Node::Op::kNone) {
      AppendOperated(out, it, sub, state);
    } else if (sub.leaf) {
      docket::bson::AppendElement(out, bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
    } else if (bson_iter_type(&it) == BSON_TYPE_DOCUMENT || (bson_iter_type(&it) == BSON_TYPE_ARRAY)) {
      AppendContainer(out, Key(it), it, sub, CopyIncluded, state);
    } else if (sub.has_computed) {
      AppendOnEmpty(out, Key(it), sub, state);
    }
  }
  if (!is_array) AppendAbsentComputed(out, node, present, state);
}

void CopyExcluded(bson_t* out, const uint8_t* data, size_t len, const Node& node, bool is_array, ApplyState* state) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return;
  while (bson_iter_next(&it)) {
    const char* key = bson_iter_key(&it);
    int key_len = static_cast<int>(bson_iter_key_len(&it));
    const Node* sub = &node;
    if (!is_array) {
      auto found = node.children.find(std::string(key, key_len));
      if (found == node.children.end()) {
        docket::bson::AppendElement(out, key, key_len, &it);
        continue;
      }
      sub = &found->second;
      if (sub->op == Node::Op::kElemMatch) continue;  // appended at the end
      if (sub->op != Node::Op::kNone) {
        AppendOperated(out, it, *sub, state);
        continue;
      }
      if (sub->leaf) continue;
    }
    if (!IsContainer(it)) {
      docket::bson::AppendElement(out, key, key_len, &it);
      continue;
    }
    AppendContainer(out, Key(it), it, *sub, CopyExcluded, state);
  }
}

// $addFields: every field stays; computed ones replace theirs in place, and
// the ones the input lacks are appended in specification order.
void CopyAddFields(bson_t* out, const uint8_t* data, size_t len, const Node& node, bool is_array, ApplyState* state) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return;
  std::vector<std::string_view> present;
  while (bson_iter_next(&it)) {
    if (is_array) {
      if (IsContainer(it)) AppendContainer(out, Key(it), it, node, CopyAddFields, state);
      else AppendOnEmpty(out, Key(it), node, state);
      continue;
    }
    auto found = node.children.find(std::string(Key(it)));
    if (found == node.children.end()) {
      docket::bson::AppendElement(out, bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
      continue;
    }
    present.push_back(found->first);
    const Node& sub = found->second;
    if (sub.op == Node::Op::kComputed) {
      AppendComputed(out, Key(it), sub, state);
    } else if (IsContainer(it)) {
      AppendContainer(out, Key(it), it, sub, CopyAddFields, state);
    } else {
      AppendOnEmpty(out, Key(it), sub, state);
    }
  }
  if (is_array) return;
  for (const std::string& name : node.order) {
    if (std::find(present.begin(), present.end(), name) != present.end()) continue;
    AppendOnEmpty(out, name, node.children.at(name), state);
  }
}

// Whether the filter has a condition on a path starting with `field`
// (top level, or inside $and/$or/$nor), as a positional projection requires.
bool QueryMentions(const uint8_t* data, size_t len, std::string_view field) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return false;
  while (bson_iter_next(&it)) {
    std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    if (key == "$and" || key == "$or" || key == "$nor") {
      if (bson_iter_type(&it) != BSON_TYPE_ARRAY) continue;
      bson_iter_t element;
      bson_iter_recurse(&it, &element);
      while (bson_iter_next(&element)) {
        if (bson_iter_type(&element) != BSON_TYPE_DOCUMENT) continue;
        std::string_view sub = bson::SubDocumentBytes(element);
        if (QueryMentions(Bytes(sub), sub.size(), field)) return true;
      }
      continue;
    }
    if (key.substr(0, key.find('.')) == field) return true;
  }
  return false;
}

Status ParseSlice(const bson_iter_t& arg, Node* node) {
  node->op = Node::Op::kSlice;
  if (bson::IsNumber(bson_iter_type(&arg))) {
    node->limit = bson_iter_as_int64(&arg);
    return Status::OK();
  }
  if (bson_iter_type(&arg) != BSON_TYPE_ARRAY) {
    return Fail(31273, "$slice only supports numbers and [skip, limit] arrays");
  }
  bson_iter_t element;
  bson_iter_recurse(&arg, &element);
  bson_iter_t skip, limit;  // (bson_iter_t is over-aligned: no arrays of it)
  int n = 0;
  while (bson_iter_next(&element)) {
    if (n == 0) skip = element;
    if (n == 1) limit = element;
    ++n;
  }
  if (n != 2) return Fail(31272, "$slice array argument should be of form [skip, limit]");
  if (!bson::IsNumber(bson_iter_type(&skip))) {
    return Fail(31257, "$slice expects the skip argument to be a number");
  }
  if (!bson::IsNumber(bson_iter_type(&limit))) {
    return Fail(31258, "$slice expects the limit argument to be a number");
  }
  node->has_skip = true;
  node->skip = bson_iter_as_int64(&skip);
  node->limit = bson_iter_as_int64(&limit);
  if (node->limit <= 0) return Fail(31259, "$slice limit must be positive, got " + std::to_string(node->limit));
  return Status::OK();
}

// Adds the node for `name`; Location31250 when it collides with another.
Result<Node*> AddNode(Node* root, const std::string& name) {
  bson::Path path = bson::SplitPath(name);
  Node* node = root;
  for (const std::string& part : path) {
    if (part.empty()) return Fail(40352, "FieldPath cannot be constructed with empty string");
    if (part[0] == '$') return Fail(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    if (node->leaf) return Fail(31250, "Path collision at " + name);
    if (!node->children.count(part)) node->order.push_back(part);
    node = &node->children[part];
  }
  if (node->leaf || !node->children.empty()) return Fail(31250, "Path collision at " + name);
  node->leaf = true;
  return node;
}

// Marks the path to a computed field.
void MarkComputed(Node* root, const std::string& name) {
  Node* node = root;
  node->has_computed = true;
  for (const std::string& part : bson::SplitPath(name)) {
    node = &node->children[part];
    node->has_computed = true;
  }
}

std::string_view FirstKey(const bson_iter_t& it) {
  bson_iter_t child;
  if (!bson_iter_recurse(&it, &child) || !bson_iter_next(&child)) return {};
  return Key(child);
}

// Builds the tree; the caller settles the projection's kind from the flags.
class Builder {
 public:
  Builder(Projection::Dialect dialect, const Document* query, expr::Scope* scope, Node* root)
      : dialect_(dialect), query_(query), scope_(scope), root_(root) {}

  bool has_include = false, has_exclude = false, has_computed = false, has_slice = false, has_elem_match = false;
  std::vector<std::pair<std::string, Projection::Meta>> meta_fields;  // {$meta: kind} fields, in spec order
  bool positional = false;
  std::optional<bool> id_flag;  // _id: 0 / 1
  std::vector<std::string> elem_match_fields;

  Status Field(const std::string& name, const bson_iter_t& it, bool top_level) {
    const bson_type_t type = bson_iter_type(&it);
    if (dialect_ == Projection::Dialect::kAddFields) {
      if (type == BSON_TYPE_DOCUMENT && !FirstKey(it).empty() && FirstKey(it)[0] != '$') return Nested(name, it);
      return Computed(name, it);
    }
    size_t positional_at = name.find(".$");
    bool is_positional = dialect_ == Projection::Dialect::kFind &&
                         (name == "$" || (positional_at != std::string::npos &&
                                          (positional_at + 2 == name.size() || name[positional_at + 2] == '.')));
    if (type == BSON_TYPE_DOCUMENT) {
      std::string_view op = FirstKey(it);
      if (is_positional) return Fail(31271, "positional projection cannot be used with an expression");
      if (op.empty()) return Fail(51270, "An empty sub-projection is not a valid value. Found empty object at path " + name);
      if (op[0] != '$') return Nested(name, it);
      bson_iter_t arg;
      bson_iter_recurse(&it, &arg);
      bson_iter_next(&arg);
      if (dialect_ == Projection::Dialect::kFind && op == "$slice") return Slice(name, arg);
      if (dialect_ == Projection::Dialect::kFind && op == "$elemMatch") return ElemMatch(name, arg);
      if (op == "$meta") {
        // In a pipeline, {$meta: ...} is an expression (expr/ops_object.cc).
        if (dialect_ != Projection::Dialect::kFind) return Computed(name, it);
        return Meta(name, arg);
      }
      return Computed(name, it);
    }
    if (type != BSON_TYPE_BOOL && !bson::IsNumber(type)) return Computed(name, it);  // literals and "$paths"
    const bool include = bson_iter_as_bool(&it);
    if (include && is_positional) return Positional(name, positional_at);
    if (top_level && name == "_id") {
      id_flag = include;
      return Status::OK();
    }
    auto node = AddNode(root_, name);
    if (!node.ok()) return node.status();
    return Mark(name, include);
  }

 private:
  Status Mark(const std::string& name, bool include) {
    if (include) {
      if (has_exclude) return Fail(31253, "Cannot do inclusion on field " + name + " in exclusion projection");
      has_include = true;
    } else {
      if (has_include || has_computed) return Fail(31254, "Cannot do exclusion on field " + name + " in inclusion projection");
      has_exclude = true;
    }
    return Status::OK();
  }

  // {name: {$meta: "textScore"}}: neither includes nor excludes; the
  // score is set after the rest of the projection (Projection::meta_fields_).
  Status Meta(const std::string& name, const bson_iter_t& arg) {
    if (!BSON_ITER_HOLDS_UTF8(&arg)) return Fail(17307, "$meta only supports string arguments");
    const std::string kind = bson_iter_utf8(&arg, nullptr);
    const Projection::Meta meta = kind == "geoNearDistance" ? Projection::Meta::kGeoNearDistance
                                  : kind == "geoNearPoint"  ? Projection::Meta::kGeoNearPoint
                                                            : Projection::Meta::kTextScore;
    if (kind != "textScore" && kind != "geoNearDistance" && kind != "geoNearPoint") {
      static const char* const kKnown[] = {"randVal", "searchScore", "searchHighlights", "recordId", "indexKey",
                                           "sortKey"};
      for (const char* known : kKnown) {
        if (kind == known) {
          return Status(ErrorCode::kBadValue, "$meta: \"" + kind +
                                                  "\" is not supported by Docket (only \"textScore\", "
                                                  "\"geoNearDistance\" and \"geoNearPoint\")");
        }
      }
      return Fail(17308, "Unsupported argument to $meta: " + kind);
    }
    if (name.find('.') != std::string::npos) {
      return Status(ErrorCode::kBadValue, "$meta into the dotted field '" + name +
                                              "': Docket sets metadata on top-level fields only");
    }
    meta_fields.emplace_back(name, meta);
    return Status::OK();
  }

  Status Nested(const std::string& name, const bson_iter_t& it) {
    bson_iter_t child;
    bson_iter_recurse(&it, &child);
    while (bson_iter_next(&child)) {
      std::string sub(Key(child));  // {a: {"b.c": 1}} is a.b.c
      DOCKET_RETURN_IF_ERROR(Field(name + "." + sub, child, false));
    }
    return Status::OK();
  }

  Status Computed(const std::string& name, const bson_iter_t& it) {
    if (has_exclude) return Fail(31252, "Cannot use expression other than $meta in exclusion projection");
    expr::Scope local;
    auto e = expr::Parse(it, scope_ != nullptr ? *scope_ : local);
    if (!e.ok()) return e.status();
    auto node = AddNode(root_, name);
    if (!node.ok()) return node.status();
    (*node)->op = Node::Op::kComputed;
    (*node)->expr = std::shared_ptr<const expr::Expression>(std::move(e).value());
    MarkComputed(root_, name);
    has_computed = true;
    return Status::OK();
  }

  Status Slice(const std::string& name, const bson_iter_t& arg) {
    auto node = AddNode(root_, name);
    if (!node.ok()) return node.status();
    DOCKET_RETURN_IF_ERROR(ParseSlice(arg, *node));
    has_slice = true;
    return Status::OK();
  }

  Status ElemMatch(const std::string& name, const bson_iter_t& arg) {
    if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) return Fail(31274, "elemMatch: Invalid argument, object required");
    if (positional) return Fail(31255, "Cannot specify positional operator and $elemMatch.");
    if (name.find('.') != std::string::npos) return Fail(31275, "Cannot use $elemMatch projection on a nested field.");
    auto matcher = ElementMatcher::Compile(arg);
    if (!matcher.ok()) return matcher.status();
    auto node = AddNode(root_, name);
    if (!node.ok()) return node.status();
    (*node)->op = Node::Op::kElemMatch;
    (*node)->elem_match = std::make_shared<const ElementMatcher>(std::move(matcher).value());
    elem_match_fields.push_back(name);
    has_elem_match = true;
    return Status::OK();
  }

  Status Positional(const std::string& name, size_t positional_at) {
    if (positional) return Fail(31276, "Cannot specify more than one positional projection per query.");
    if (has_elem_match) return Fail(31256, "Cannot specify positional operator and $elemMatch.");
    std::string field = name.substr(0, name.find('.'));
    if (query_ == nullptr || !QueryMentions(query_->data(), query_->size(), field)) {
      return Fail(31277, "Positional projection '" + name + "' does not match the query document.");
    }
    if (positional_at + 2 != name.size()) {
      return Status(ErrorCode::kBadValue, "positional projection '" + name +
                                              "': only a trailing '.$' is supported by this version of Docket");
    }
    auto node = AddNode(root_, name.substr(0, positional_at));
    if (!node.ok()) return node.status();
    (*node)->op = Node::Op::kPositional;
    positional = true;
    return Mark(name, true);
  }

  Projection::Dialect dialect_;
  const Document* query_;
  expr::Scope* scope_;
  Node* root_;
};

}  // namespace

Result<Projection> Projection::Compile(const Document& spec, const Document* query, Dialect dialect,
                                       expr::Scope* scope) {
  Projection p;
  if (spec.empty()) {
    if (dialect == Dialect::kAggregate) return Fail(51272, "$project requires at least one output field");
    if (dialect == Dialect::kAddFields) p.kind_ = Kind::kAddFields;
    return p;
  }
  Builder b(dialect, query, scope, &p.root_);
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string name(Key(it));
    DOCKET_RETURN_IF_ERROR(b.Field(name, it, true));
  }
  p.positional_ = b.positional;
  p.elem_match_fields_ = b.elem_match_fields;
  p.meta_fields_ = b.meta_fields;
  if (dialect == Dialect::kAddFields) {
    p.kind_ = Kind::kAddFields;
    return p;
  }
  const bool computed_id = p.root_.children.count("_id") && p.root_.children.at("_id").op == Node::Op::kComputed;
  if (b.id_flag) p.include_id_ = *b.id_flag;
  if (b.has_exclude) {
    p.kind_ = Kind::kExclude;
  } else if (b.has_include || b.has_computed) {
    p.kind_ = Kind::kInclude;
  } else if (b.has_slice) {
    p.kind_ = Kind::kExclude;  // find()'s defaults when only operators are given
  } else if (b.has_elem_match || (b.id_flag && *b.id_flag)) {
    p.kind_ = Kind::kInclude;
  } else if (b.id_flag && !*b.id_flag) {
    p.kind_ = Kind::kExclude;  // {_id: 0}
  }
  if (computed_id) return p;  // _id is what its expression says
  if (p.kind_ == Kind::kInclude && p.include_id_) {
    if (!p.root_.children.count("_id")) p.root_.order.insert(p.root_.order.begin(), "_id");
    p.root_.children["_id"].leaf = true;
  }
  if (p.kind_ == Kind::kExclude && !p.include_id_) {
    if (!p.root_.children.count("_id")) p.root_.order.push_back("_id");
    p.root_.children["_id"].leaf = true;
  }
  return p;
}

Result<Projection> Projection::Exclusion(const std::vector<std::string>& fields) {
  Projection p;
  p.kind_ = Kind::kExclude;
  for (const std::string& name : fields) {
    auto node = AddNode(&p.root_, name);
    if (!node.ok()) return node.status();
  }
  return p;
}

Status Projection::ApplyInto(bson_t* out, const uint8_t* data, size_t len, size_t position,
                             expr::Variables* vars) const {
  ApplyState state{position, vars, Status::OK()};
  switch (kind_) {
    case Kind::kNone: break;
    case Kind::kInclude: CopyIncluded(out, data, len, root_, false, &state); break;
    case Kind::kExclude: CopyExcluded(out, data, len, root_, false, &state); break;
    case Kind::kAddFields: CopyAddFields(out, data, len, root_, false, &state); break;
  }
  if (!state.error.ok()) return state.error;
  for (const std::string& name : elem_match_fields_) {
    bson_iter_t field;
    if (!bson_iter_init_from_data(&field, data, len) ||
        !bson_iter_find_w_len(&field, name.data(), static_cast<int>(name.size())) ||
        bson_iter_type(&field) != BSON_TYPE_ARRAY) {
      continue;
    }
    const ElementMatcher& matcher = *root_.children.at(name).elem_match;
    bson_iter_t element;
    bson_iter_recurse(&field, &element);
    for (int64_t i = 0; bson_iter_next(&element); ++i) {
      if (!matcher.Matches(element)) continue;
      AppendArrayRange(out, name.c_str(), static_cast<int>(name.size()), field, i, i + 1);
      break;
    }
  }
  if (out->len > kMaxDocumentSize) {
    return Status(ErrorCode::kBSONObjectTooLarge, "projected document exceeds the 16MB BSON size limit");
  }
  return Status::OK();
}

Result<Document> Projection::Apply(const Document& doc, size_t position) const {
  if (kind_ == Kind::kNone) return doc;
  bson::Builder out;
  if (!root_.has_computed) {
    DOCKET_RETURN_IF_ERROR(ApplyInto(out.get(), doc.data(), doc.size(), position, nullptr));
    return out.Finish();
  }
  expr::Variables vars;
  vars.SetRoot(doc);
  DOCKET_RETURN_IF_ERROR(ApplyInto(out.get(), doc.data(), doc.size(), position, &vars));
  return out.Finish();
}

Result<Document> Projection::ApplyMatched(const Document& doc, const Filter& filter) const {
  size_t position = bson::kNoPosition;
  if (positional_) filter.MatchesAt(doc.data(), doc.size(), &position);
  auto projected = Apply(doc, position);
  if (!projected.ok() || meta_fields_.empty()) return projected;
  return SetMetadata(*projected, doc, filter);
}

Document Projection::SetMetadata(const Document& doc, const Document& source, const Filter& filter) const {
  // Each field named by a $meta is replaced (or added) at the end, as
  // MongoDB appends computed fields.
  bson::Builder out;
  bson_iter_t it;
  doc.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key(bson_iter_key(&it), bson_iter_key_len(&it));
    bool replaced = false;
    for (const auto& field : meta_fields_) replaced = replaced || key == field.first;
    if (!replaced) bson::AppendElement(out.get(), bson_iter_key(&it), static_cast<int>(key.size()), &it);
  }
  const std::string_view source_bytes(reinterpret_cast<const char*>(source.data()), source.size());
  std::optional<double> distance;
  std::string location;  // {"": value}
  if (needs_geo_near()) distance = filter.NearDistance(source_bytes, &location);
  for (const auto& [field, kind] : meta_fields_) {
    const int length = static_cast<int>(field.size());
    if (kind == Meta::kTextScore) {
      bson_append_double(out.get(), field.data(), length, filter.TextScore(source_bytes));
    } else if (kind == Meta::kGeoNearDistance && distance) {
      bson_append_double(out.get(), field.data(), length, *distance);
    } else if (kind == Meta::kGeoNearPoint && !location.empty()) {
      bson_iter_t value;
      bson::IterHeldValue(location, &value);
      bson::AppendElement(out.get(), field.data(), length, &value);
    }
  }
  return out.Finish();
}

Result<expr::Value> Projection::ApplyToValue(const expr::Value& doc, expr::Variables& vars) const {
  if (kind_ == Kind::kNone) return doc;
  std::string_view bytes = doc.ContainerBytes();
  expr::DocumentBuilder out;
  DOCKET_RETURN_IF_ERROR(ApplyInto(out.get(), Bytes(bytes), bytes.size(), bson::kNoPosition, &vars));
  return out.Finish();
}

}  // namespace docket::query
