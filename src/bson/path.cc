#include "bson/path.h"

#include <cstring>

namespace docket::bson {

Path SplitPath(std::string_view dotted) {
  Path parts;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string_view::npos) {
      parts.emplace_back(dotted.substr(start));
      return parts;
    }
    parts.emplace_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
}

std::string JoinPath(const Path& path, size_t end) {
  std::string out;
  for (size_t i = 0; i < end && i < path.size(); ++i) {
    if (i) out.push_back('.');
    out += path[i];
  }
  return out;
}

bool ParseArrayIndex(std::string_view component, size_t* index) {
  if (component.empty() || component.size() > 9) return false;
  if (component.size() > 1 && component[0] == '0') return false;
  size_t v = 0;
  for (char c : component) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *index = v;
  return true;
}

namespace {

bool FindField(const uint8_t* doc, size_t len, const std::string& name, bson_iter_t* out) {
  if (!bson_iter_init_from_data(out, doc, len)) return false;
  return bson_iter_find_w_len(out, name.data(), static_cast<int>(name.size()));
}

void SubDocument(const bson_iter_t& it, const uint8_t** data, uint32_t* len) {
  if (bson_iter_type(&it) == BSON_TYPE_ARRAY) {
    bson_iter_array(&it, len, data);
  } else {
    bson_iter_document(&it, len, data);
  }
}

// One walk of a path: what to call, and how to treat an array at the end.
struct Walk {
  const Path& path;
  FunctionRef<bool(const bson_iter_t*)> visit;
  bool expand_leaf_arrays;
  size_t* position;  // may be null; see VisitOptions

  // Calls visit with *position set to the outermost array index in force.
  bool Visit(const bson_iter_t* value, size_t outer) const {
    if (position != nullptr) *position = outer;
    return visit(value);
  }
};

bool VisitFrom(const Walk& walk, const bson_iter_t& value, size_t next, size_t outer);

// Walks path[i..] inside the document `doc`.
bool VisitInDocument(const Walk& walk, const uint8_t* doc, size_t len, size_t i, size_t outer) {
  bson_iter_t field;
  if (!FindField(doc, len, walk.path[i], &field)) return walk.Visit(nullptr, outer);
  return VisitFrom(walk, field, i + 1, outer);
}

// `value` is what path[0..next) reached; walk the rest. `outer` is the index
// taken in the first array the walk went through (kNoPosition if none yet).
bool VisitFrom(const Walk& walk, const bson_iter_t& value, size_t next, size_t outer) {
  bson_type_t type = bson_iter_type(&value);
  auto index_or = [&](size_t i) { return outer == kNoPosition ? i : outer; };
  if (next == walk.path.size()) {
    if (walk.Visit(&value, outer)) return true;
    if (type == BSON_TYPE_ARRAY && walk.expand_leaf_arrays) {
      bson_iter_t element;
      size_t i = 0;
      if (bson_iter_recurse(&value, &element)) {
        while (bson_iter_next(&element)) {
          if (walk.Visit(&element, index_or(i++))) return true;
        }
      }
    }
    return false;
  }
  const uint8_t* data = nullptr;
  uint32_t len = 0;
  if (type == BSON_TYPE_DOCUMENT) {
    SubDocument(value, &data, &len);
    return VisitInDocument(walk, data, len, next, outer);
  }
  if (type != BSON_TYPE_ARRAY) return walk.Visit(nullptr, outer);

  SubDocument(value, &data, &len);
  size_t index = 0;
  if (ParseArrayIndex(walk.path[next], &index)) {
    bson_iter_t element;
    if (FindField(data, len, walk.path[next], &element)) {
      if (VisitFrom(walk, element, next + 1, index_or(index))) return true;
    }
  }
  bool reached_any = false;
  bson_iter_t element;
  size_t i = 0;
  if (bson_iter_init_from_data(&element, data, len)) {
    while (bson_iter_next(&element)) {
      size_t at = i++;
      if (bson_iter_type(&element) != BSON_TYPE_DOCUMENT) continue;
      reached_any = true;
      const uint8_t* sub = nullptr;
      uint32_t sub_len = 0;
      SubDocument(element, &sub, &sub_len);
      if (VisitInDocument(walk, sub, sub_len, next, index_or(at))) return true;
    }
  }
  return reached_any ? false : walk.Visit(nullptr, outer);
}

}  // namespace

bool VisitPath(const uint8_t* doc, size_t len, const Path& path,
               FunctionRef<bool(const bson_iter_t*)> visit, VisitOptions options) {
  Walk walk{path, visit, options.expand_leaf_arrays, options.position};
  if (path.empty()) return false;
  return VisitInDocument(walk, doc, len, 0, kNoPosition);
}

bool VisitPathFromValue(const bson_iter_t& value, const Path& path,
                        FunctionRef<bool(const bson_iter_t*)> visit, VisitOptions options) {
  Walk walk{path, visit, options.expand_leaf_arrays, options.position};
  return VisitFrom(walk, value, 0, kNoPosition);
}

bool GetPath(const uint8_t* doc, size_t len, const Path& path, bson_iter_t* out) {
  const uint8_t* data = doc;
  uint32_t size = static_cast<uint32_t>(len);
  for (size_t i = 0; i < path.size(); ++i) {
    if (!FindField(data, size, path[i], out)) return false;
    if (i + 1 == path.size()) return true;
    bson_type_t type = bson_iter_type(out);
    if (type != BSON_TYPE_DOCUMENT && type != BSON_TYPE_ARRAY) return false;
    SubDocument(*out, &data, &size);
  }
  return false;
}

}  // namespace docket::bson
