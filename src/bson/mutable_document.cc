#include "bson/mutable_document.h"

#include <cstring>

#include "bson/value.h"
#include "bson/append_element.h"

namespace docket::bson {

MutableValue MutableValue::FromIter(const bson_iter_t& it) {
  MutableValue v;
  v.type = bson_iter_type(&it);
  if (v.is_container()) {
    bson_iter_t child;
    if (bson_iter_recurse(&it, &child)) {
      while (bson_iter_next(&child)) {
        v.children.push_back({std::string(bson_iter_key(&child), bson_iter_key_len(&child)),
                              FromIter(child)});
      }
    }
  } else {
    v.raw = std::string(RawValueBytes(it));
  }
  return v;
}

MutableValue MutableValue::EmptyDocument() {
  MutableValue v;
  v.type = BSON_TYPE_DOCUMENT;
  return v;
}

MutableValue MutableValue::Null() { return MutableValue(); }

MutableValue* MutableValue::Child(std::string_view name) {
  if (type == BSON_TYPE_ARRAY) {
    size_t index = 0;
    if (!ParseArrayIndex(name, &index) || index >= children.size()) return nullptr;
    return &children[index].value;
  }
  if (type != BSON_TYPE_DOCUMENT) return nullptr;
  for (MutableField& f : children) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

namespace {

void AppendChildren(bson_t* out, const MutableValue& v) {
  if (v.type == BSON_TYPE_ARRAY) {
    for (size_t i = 0; i < v.children.size(); ++i) {
      std::string key = std::to_string(i);
      v.children[i].value.AppendTo(out, key);
    }
  } else {
    for (const MutableField& f : v.children) f.value.AppendTo(out, f.name);
  }
}

}  // namespace

void MutableValue::AppendTo(bson_t* out, std::string_view name) const {
  int key_len = static_cast<int>(name.size());
  if (type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY) {
    bson_t child;
    if (type == BSON_TYPE_DOCUMENT) {
      bson_append_document_begin(out, name.data(), key_len, &child);
      AppendChildren(&child, *this);
      bson_append_document_end(out, &child);
    } else {
      bson_append_array_begin(out, name.data(), key_len, &child);
      AppendChildren(&child, *this);
      bson_append_array_end(out, &child);
    }
    return;
  }
  // Scalars: their raw bytes, unchanged.
  AppendRawValue(out, name, type, raw);
}

void MutableValue::Iter(std::string* scratch, bson_iter_t* it) const {
  // One-field document {"": value}: [len][type][""\0][raw][\0].
  if (is_container()) {
    bson_t tmp = BSON_INITIALIZER;
    AppendTo(&tmp, "");
    scratch->assign(reinterpret_cast<const char*>(bson_get_data(&tmp)), tmp.len);
    bson_destroy(&tmp);
  } else {
    uint32_t total = static_cast<uint32_t>(4 + 1 + 1 + raw.size() + 1);
    scratch->clear();
    scratch->reserve(total);
    uint32_t le = BSON_UINT32_TO_LE(total);
    scratch->append(reinterpret_cast<const char*>(&le), 4);
    scratch->push_back(static_cast<char>(type));
    scratch->push_back('\0');
    scratch->append(raw);
    scratch->push_back('\0');
  }
  bson_iter_init_from_data(it, reinterpret_cast<const uint8_t*>(scratch->data()), scratch->size());
  bson_iter_next(it);
}

std::string MutableValue::ToBytes() const {
  bson_t out = BSON_INITIALIZER;
  AppendChildren(&out, *this);
  std::string bytes(reinterpret_cast<const char*>(bson_get_data(&out)), out.len);
  bson_destroy(&out);
  return bytes;
}

MutableValue ParseDocument(const uint8_t* data, size_t len) {
  MutableValue root = MutableValue::EmptyDocument();
  bson_iter_t it;
  if (bson_iter_init_from_data(&it, data, len)) {
    while (bson_iter_next(&it)) {
      root.children.push_back(
          {std::string(bson_iter_key(&it), bson_iter_key_len(&it)), MutableValue::FromIter(it)});
    }
  }
  return root;
}

MutableValue* FindPath(MutableValue* root, const Path& path) {
  MutableValue* cur = root;
  for (const std::string& part : path) {
    cur = cur->Child(part);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

namespace {
std::string DescribeForError(const MutableValue& v) {
  std::string scratch;
  bson_iter_t it;
  v.Iter(&scratch, &it);
  return ValueToJson(it);
}
}  // namespace

Status SetPath(MutableValue* root, const Path& path, MutableValue value) {
  MutableValue* cur = root;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& part = path[i];
    bool last = i + 1 == path.size();
    MutableValue* next = nullptr;
    if (cur->type == BSON_TYPE_DOCUMENT) {
      next = cur->Child(part);
      if (next == nullptr) {
        cur->children.push_back({part, last ? std::move(value) : MutableValue::EmptyDocument()});
        if (last) return Status::OK();
        next = &cur->children.back().value;
        cur = next;
        continue;
      }
    } else if (cur->type == BSON_TYPE_ARRAY) {
      size_t index = 0;
      if (!ParseArrayIndex(part, &index)) {
        return Status(ErrorCode::kPathNotViable,
                      "Cannot create field '" + part + "' in element {" + path[i - 1] + ": " +
                          DescribeForError(*cur) + "}");
      }
      bool padded = cur->children.size() <= index;
      while (cur->children.size() <= index) cur->children.push_back({"", MutableValue::Null()});
      next = &cur->children[index].value;
      // A slot made by padding becomes the document the rest of the path
      // needs; an existing scalar is reported by the next step.
      if (!last && padded) *next = MutableValue::EmptyDocument();
    } else {
      return Status(ErrorCode::kPathNotViable,
                    "Cannot create field '" + part + "' in element {" + (i ? path[i - 1] : "") +
                        ": " + DescribeForError(*cur) + "}");
    }
    if (last) {
      *next = std::move(value);
      return Status::OK();
    }
    cur = next;
  }
  return Status::OK();
}

bool UnsetPath(MutableValue* root, const Path& path) {
  MutableValue* parent = root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    parent = parent->Child(path[i]);
    if (parent == nullptr) return false;
  }
  const std::string& last = path.back();
  if (parent->type == BSON_TYPE_DOCUMENT) {
    for (auto it = parent->children.begin(); it != parent->children.end(); ++it) {
      if (it->name == last) {
        parent->children.erase(it);
        return true;
      }
    }
    return false;
  }
  if (parent->type == BSON_TYPE_ARRAY) {
    MutableValue* element = parent->Child(last);
    if (element == nullptr) return false;
    *element = MutableValue::Null();
    return true;
  }
  return false;
}

}  // namespace docket::bson
