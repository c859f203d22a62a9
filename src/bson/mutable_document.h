// A small mutable tree over BSON, for updates and projections: parse a
// document, change fields by path, serialise it back. Scalars keep their raw
// BSON value bytes, so a round trip is byte-exact.
#pragma once

#include <bson/bson.h>

#include <string>
#include <string_view>
#include <vector>

#include "bson/path.h"
#include "docket/status.h"

namespace docket::bson {

struct MutableField;

// One value. Documents and arrays hold children (array children's names are
// ignored and rewritten as "0", "1", ... on serialisation).
struct MutableValue {
  bson_type_t type = BSON_TYPE_NULL;
  std::string raw;                     // scalar value bytes, as in BSON
  std::vector<MutableField> children;  // document / array members

  bool is_container() const { return type == BSON_TYPE_DOCUMENT || type == BSON_TYPE_ARRAY; }

  static MutableValue FromIter(const bson_iter_t& it);
  static MutableValue EmptyDocument();
  static MutableValue Null();
  // Finds a direct child of a document by name, or an array element by index.
  MutableValue* Child(std::string_view name);
  // Writes this value as a field `name` into `out` (a bson_t being built).
  void AppendTo(bson_t* out, std::string_view name) const;
  // Serialises a document value. REQUIRES: type == BSON_TYPE_DOCUMENT.
  std::string ToBytes() const;
  // Iterator over a scalar or container, valid while `scratch` lives.
  void Iter(std::string* scratch, bson_iter_t* it) const;
};

struct MutableField {
  std::string name;
  MutableValue value;
};

MutableValue ParseDocument(const uint8_t* data, size_t len);

// Looks up `path` (numeric components index arrays). nullptr when missing.
MutableValue* FindPath(MutableValue* root, const Path& path);

// Sets `path` to `value`, creating missing documents on the way and padding
// arrays with nulls up to a numeric index. PathNotViable (28) when the path
// runs through a scalar.
Status SetPath(MutableValue* root, const Path& path, MutableValue value);

// Removes the field at `path`; in an array the element becomes null (MongoDB's
// $unset). Returns whether anything was there.
bool UnsetPath(MutableValue* root, const Path& path);

}  // namespace docket::bson
