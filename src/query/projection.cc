#include "query/projection.h"

#include "bson/path.h"
#include "bson/value.h"

namespace docket::query {
namespace {

Status ParseError(ErrorCode code, std::string message) { return Status(code, std::move(message)); }

void CopyIncluded(bson_t* out, const uint8_t* data, size_t len, const Projection::Node& node,
                  bool is_array);

// Writes the parts of `it` selected by `node` under `name`; nothing if none.
void AppendIncluded(bson_t* out, const bson_iter_t& it, const Projection::Node& node) {
  const char* key = bson_iter_key(&it);
  int key_len = static_cast<int>(bson_iter_key_len(&it));
  if (node.leaf) {
    bson_append_iter(out, key, key_len, &it);
    return;
  }
  bson_type_t type = bson_iter_type(&it);
  if (type != BSON_TYPE_DOCUMENT && type != BSON_TYPE_ARRAY) return;
  std::string_view bytes = bson::SubDocumentBytes(it);
  bson_t child;
  if (type == BSON_TYPE_DOCUMENT) {
    bson_append_document_begin(out, key, key_len, &child);
    CopyIncluded(&child, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), node, false);
    bson_append_document_end(out, &child);
  } else {
    bson_append_array_begin(out, key, key_len, &child);
    CopyIncluded(&child, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), node, true);
    bson_append_array_end(out, &child);
  }
}

// Inclusion: keep selected fields; inside arrays keep only documents
// (projected), as MongoDB does.
void CopyIncluded(bson_t* out, const uint8_t* data, size_t len, const Projection::Node& node,
                  bool is_array) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return;
  uint32_t index = 0;
  while (bson_iter_next(&it)) {
    if (is_array) {
      bson_type_t type = bson_iter_type(&it);
      if (type != BSON_TYPE_DOCUMENT && type != BSON_TYPE_ARRAY) continue;
      std::string key = std::to_string(index++);
      std::string_view bytes = bson::SubDocumentBytes(it);
      bson_t child;
      if (type == BSON_TYPE_DOCUMENT) {
        bson_append_document_begin(out, key.c_str(), -1, &child);
        CopyIncluded(&child, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), node, false);
        bson_append_document_end(out, &child);
      } else {
        bson_append_array_begin(out, key.c_str(), -1, &child);
        CopyIncluded(&child, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), node, true);
        bson_append_array_end(out, &child);
      }
      continue;
    }
    auto found = node.children.find(std::string(bson_iter_key(&it), bson_iter_key_len(&it)));
    if (found == node.children.end()) continue;
    AppendIncluded(out, it, found->second);
  }
}

void CopyExcluded(bson_t* out, const uint8_t* data, size_t len, const Projection::Node& node,
                  bool is_array) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return;
  while (bson_iter_next(&it)) {
    const char* key = bson_iter_key(&it);
    int key_len = static_cast<int>(bson_iter_key_len(&it));
    const Projection::Node* sub = &node;
    if (!is_array) {
      auto found = node.children.find(std::string(key, key_len));
      if (found == node.children.end()) {
        bson_append_iter(out, key, key_len, &it);
        continue;
      }
      if (found->second.leaf) continue;
      sub = &found->second;
    }
    bson_type_t type = bson_iter_type(&it);
    if (type != BSON_TYPE_DOCUMENT && type != BSON_TYPE_ARRAY) {
      bson_append_iter(out, key, key_len, &it);
      continue;
    }
    std::string_view bytes = bson::SubDocumentBytes(it);
    bson_t child;
    if (type == BSON_TYPE_DOCUMENT) {
      bson_append_document_begin(out, key, key_len, &child);
      CopyExcluded(&child, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), *sub, false);
      bson_append_document_end(out, &child);
    } else {
      bson_append_array_begin(out, key, key_len, &child);
      CopyExcluded(&child, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), *sub, true);
      bson_append_array_end(out, &child);
    }
  }
}

}  // namespace

Result<Projection> Projection::Compile(const Document& spec) {
  Projection p;
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string name(bson_iter_key(&it), bson_iter_key_len(&it));
    bson_type_t type = bson_iter_type(&it);
    bool is_flag = type == BSON_TYPE_BOOL || bson::IsNumber(type);
    if (!is_flag) {
      return ParseError(ErrorCode::kBadValue,
                        "projection of '" + name + "': operators and computed fields are not supported by this version of Docket yet");
    }
    if (name.empty() || name[0] == '$' || name.find(".$") != std::string::npos) {
      return ParseError(ErrorCode::kBadValue, "projection field '" + name + "' is not supported");
    }
    bool include = bson_iter_as_bool(&it);
    if (name == "_id") {
      p.include_id_ = include;
      continue;
    }
    Kind kind = include ? Kind::kInclude : Kind::kExclude;
    if (p.kind_ != Kind::kNone && p.kind_ != kind) {
      return ParseError(ErrorCode::kBadValue,
                        include ? "Cannot do inclusion on field " + name + " in exclusion projection"
                                : "Cannot do exclusion on field " + name + " in inclusion projection");
    }
    p.kind_ = kind;
    bson::Path path = bson::SplitPath(name);
    Node* node = &p.root_;
    for (size_t i = 0; i < path.size(); ++i) {
      if (node->leaf) return ParseError(ErrorCode::kBadValue, "Path collision at " + name);
      node = &node->children[path[i]];
    }
    if (node->leaf || !node->children.empty()) {
      return ParseError(ErrorCode::kBadValue, "Path collision at " + name);
    }
    node->leaf = true;
  }
  if (p.kind_ == Kind::kNone && !p.include_id_) {
    p.kind_ = Kind::kExclude;  // {_id: 0}
  }
  if (p.kind_ == Kind::kInclude && p.include_id_) p.root_.children["_id"].leaf = true;
  if (p.kind_ == Kind::kExclude && !p.include_id_) p.root_.children["_id"].leaf = true;
  return p;
}

Document Projection::Apply(const Document& doc) const {
  if (kind_ == Kind::kNone) return doc;
  bson_t out = BSON_INITIALIZER;
  if (kind_ == Kind::kInclude) {
    CopyIncluded(&out, doc.data(), doc.size(), root_, false);
  } else {
    CopyExcluded(&out, doc.data(), doc.size(), root_, false);
  }
  Document result = Document::FromTrustedBytes(
      std::string(reinterpret_cast<const char*>(bson_get_data(&out)), out.len));
  bson_destroy(&out);
  return result;
}

}  // namespace docket::query
