#include "query/projection.h"

#include <algorithm>

#include "bson/builder.h"
#include "bson/value.h"

namespace docket::query {
namespace {

using Node = Projection::Node;

Status Fail(int code, std::string message) { return Status(static_cast<ErrorCode>(code), std::move(message)); }

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// What Apply carries through the copy.
struct ApplyState {
  size_t position;
  Status error;
};

void CopyIncluded(bson_t* out, const uint8_t* data, size_t len, const Node& node, bool is_array, ApplyState* state);
void CopyExcluded(bson_t* out, const uint8_t* data, size_t len, const Node& node, bool is_array, ApplyState* state);

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
      bson_append_iter(&child, index.c_str(), -1, &element);
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

// A field whose node carries $slice or the positional operator.
void AppendOperated(bson_t* out, const bson_iter_t& it, const Node& node, ApplyState* state) {
  const char* key = bson_iter_key(&it);
  int key_len = static_cast<int>(bson_iter_key_len(&it));
  if (bson_iter_type(&it) != BSON_TYPE_ARRAY) {
    bson_append_iter(out, key, key_len, &it);
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

// Writes the sub-document or array `it` under its key, its content produced
// by `copy` (CopyIncluded or CopyExcluded) with `node`.
template <typename CopyFn>
void AppendContainer(bson_t* out, const char* key, int key_len, const bson_iter_t& it, const Node& node, CopyFn copy,
                     ApplyState* state) {
  std::string_view bytes = bson::SubDocumentBytes(it);
  bson_t child;
  if (bson_iter_type(&it) == BSON_TYPE_DOCUMENT) {
    bson_append_document_begin(out, key, key_len, &child);
    copy(&child, Bytes(bytes), bytes.size(), node, false, state);
    bson_append_document_end(out, &child);
  } else {
    bson_append_array_begin(out, key, key_len, &child);
    copy(&child, Bytes(bytes), bytes.size(), node, true, state);
    bson_append_array_end(out, &child);
  }
}

bool IsContainer(const bson_iter_t& it) {
  return bson_iter_type(&it) == BSON_TYPE_DOCUMENT || bson_iter_type(&it) == BSON_TYPE_ARRAY;
}

// Inclusion: keep selected fields; inside arrays keep only documents
// (projected), as MongoDB does.
void CopyIncluded(bson_t* out, const uint8_t* data, size_t len, const Node& node, bool is_array, ApplyState* state) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return;
  uint32_t index = 0;
  while (bson_iter_next(&it)) {
    if (is_array) {
      if (!IsContainer(it)) continue;
      std::string key = std::to_string(index++);
      AppendContainer(out, key.c_str(), -1, it, node, CopyIncluded, state);
      continue;
    }
    auto found = node.children.find(std::string(bson_iter_key(&it), bson_iter_key_len(&it)));
    if (found == node.children.end()) continue;
    const Node& sub = found->second;
    if (sub.op == Node::Op::kElemMatch) continue;  // appended at the end
    if (sub.op != Node::Op::kNone) {
      AppendOperated(out, it, sub, state);
    } else if (sub.leaf) {
      bson_append_iter(out, bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), &it);
    } else if (IsContainer(it)) {
      AppendContainer(out, bson_iter_key(&it), static_cast<int>(bson_iter_key_len(&it)), it, sub, CopyIncluded, state);
    }
  }
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
        bson_append_iter(out, key, key_len, &it);
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
      bson_append_iter(out, key, key_len, &it);
      continue;
    }
    AppendContainer(out, key, key_len, it, *sub, CopyExcluded, state);
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
    node = &node->children[part];
  }
  if (node->leaf || !node->children.empty()) return Fail(31250, "Path collision at " + name);
  node->leaf = true;
  return node;
}

}  // namespace

Result<Projection> Projection::Compile(const Document& spec, const Document* query) {
  Projection p;
  bool has_slice = false, has_elem_match = false, id_included_explicitly = false;
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string name(bson_iter_key(&it), bson_iter_key_len(&it));
    size_t positional_at = name.find(".$");
    bool positional = name == "$" || (positional_at != std::string::npos &&
                                      (positional_at + 2 == name.size() || name[positional_at + 2] == '.'));
    if (bson_iter_type(&it) == BSON_TYPE_DOCUMENT) {
      if (positional) return Fail(31271, "positional projection cannot be used with an expression");
      bson_iter_t arg;
      bson_iter_recurse(&it, &arg);
      std::string_view op = bson_iter_next(&arg) ? bson_iter_key(&arg) : "";
      if (op == "$slice") {
        auto node = AddNode(&p.root_, name);
        if (!node.ok()) return node.status();
        DOCKET_RETURN_IF_ERROR(ParseSlice(arg, *node));
        has_slice = true;
        continue;
      }
      if (op == "$elemMatch") {
        if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
          return Fail(31274, "elemMatch: Invalid argument, object required");
        }
        if (p.positional_) return Fail(31255, "Cannot specify positional operator and $elemMatch.");
        if (name.find('.') != std::string::npos) return Fail(31275, "Cannot use $elemMatch projection on a nested field.");
        auto matcher = ElementMatcher::Compile(arg);
        if (!matcher.ok()) return matcher.status();
        auto node = AddNode(&p.root_, name);
        if (!node.ok()) return node.status();
        (*node)->op = Node::Op::kElemMatch;
        (*node)->elem_match = std::make_shared<const ElementMatcher>(std::move(matcher).value());
        p.elem_match_fields_.push_back(name);
        has_elem_match = true;
        continue;
      }
      return Status(ErrorCode::kBadValue, "projection of '" + name + "' uses " + std::string(op) +
                                              ": computed fields and $meta are not supported by this version of Docket yet");
    }
    bool include = bson_iter_as_bool(&it);
    if (include && positional) {
      if (p.positional_) return Fail(31276, "Cannot specify more than one positional projection per query.");
      if (has_elem_match) return Fail(31256, "Cannot specify positional operator and $elemMatch.");
      std::string field = name.substr(0, name.find('.'));
      if (query == nullptr || !QueryMentions(query->data(), query->size(), field)) {
        return Fail(31277, "Positional projection '" + name + "' does not match the query document.");
      }
      if (positional_at + 2 != name.size()) {
        return Status(ErrorCode::kBadValue, "positional projection '" + name +
                                                "': only a trailing '.$' is supported by this version of Docket");
      }
      auto node = AddNode(&p.root_, name.substr(0, positional_at));
      if (!node.ok()) return node.status();
      (*node)->op = Node::Op::kPositional;
      p.positional_ = true;
    } else if (name == "_id") {
      p.include_id_ = include;
      id_included_explicitly = include;
      continue;
    } else {
      auto node = AddNode(&p.root_, name);
      if (!node.ok()) return node.status();
    }
    Kind kind = include ? Kind::kInclude : Kind::kExclude;
    if (p.kind_ != Kind::kNone && p.kind_ != kind) {
      return include ? Fail(31253, "Cannot do inclusion on field " + name + " in exclusion projection")
                     : Fail(31254, "Cannot do exclusion on field " + name + " in inclusion projection");
    }
    p.kind_ = kind;
  }
  if (p.kind_ == Kind::kNone) {
    // find()'s defaults when only operators (or only _id) are given.
    if (has_slice) p.kind_ = Kind::kExclude;
    else if (has_elem_match || id_included_explicitly) p.kind_ = Kind::kInclude;
    else if (!p.include_id_) p.kind_ = Kind::kExclude;  // {_id: 0}
  }
  if (p.kind_ == Kind::kInclude && p.include_id_) p.root_.children["_id"].leaf = true;
  if (p.kind_ == Kind::kExclude && !p.include_id_) p.root_.children["_id"].leaf = true;
  return p;
}

Result<Document> Projection::Apply(const Document& doc, size_t position) const {
  if (kind_ == Kind::kNone) return doc;
  ApplyState state{position, Status::OK()};
  bson::Builder out;
  if (kind_ == Kind::kInclude) {
    CopyIncluded(out.get(), doc.data(), doc.size(), root_, false, &state);
  } else {
    CopyExcluded(out.get(), doc.data(), doc.size(), root_, false, &state);
  }
  if (!state.error.ok()) return state.error;
  for (const std::string& name : elem_match_fields_) {
    bson_iter_t field;
    if (!doc.Find(name, &field) || bson_iter_type(&field) != BSON_TYPE_ARRAY) continue;
    const ElementMatcher& matcher = *root_.children.at(name).elem_match;
    bson_iter_t element;
    bson_iter_recurse(&field, &element);
    for (int64_t i = 0; bson_iter_next(&element); ++i) {
      if (!matcher.Matches(element)) continue;
      AppendArrayRange(out.get(), name.c_str(), static_cast<int>(name.size()), field, i, i + 1);
      break;
    }
  }
  return out.Finish();
}

Result<Document> Projection::ApplyMatched(const Document& doc, const Filter& filter) const {
  size_t position = bson::kNoPosition;
  if (positional_) filter.MatchesAt(doc.data(), doc.size(), &position);
  return Apply(doc, position);
}

}  // namespace docket::query
