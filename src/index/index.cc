#include "index/index.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "bson/builder.h"
#include "bson/hash_value.h"
#include "bson/key_encoding.h"
#include "bson/value.h"
#include "bson/append_element.h"
#include "text/text_index_spec.h"

namespace docket::index {
namespace {

Status CannotCreate(std::string message) { return Status(ErrorCode::kCannotCreateIndex, std::move(message)); }

Document SubDocument(const bson_iter_t& it) {
  std::string_view bytes = bson::SubDocumentBytes(it);
  return Document::FromTrustedBytes(std::string(bytes));
}

Status CheckKeyPattern(const bson_iter_t& key) {
  if (bson_iter_type(&key) != BSON_TYPE_DOCUMENT) {
    return Status(ErrorCode::kTypeMismatch, "The 'key' field must be an object");
  }
  bson_iter_t field;
  bson_iter_recurse(&key, &field);
  int count = 0;
  int hashed = 0;
  std::string plugin;  // the one special kind ("text", "hashed", ...) the key may use
  std::vector<std::string> seen;
  while (bson_iter_next(&field)) {
    ++count;
    std::string name = bson_iter_key(&field);
    if (name.empty()) return CannotCreate("Index keys cannot be an empty field.");
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return CannotCreate("Index key pattern names the field '" + name + "' twice");
    }
    seen.push_back(name);
    const bool wildcard_text = name == "$**" && BSON_ITER_HOLDS_UTF8(&field) &&
                               std::string_view(bson_iter_utf8(&field, nullptr)) == "text";
    if (name[0] == '$' && !wildcard_text) {
      return CannotCreate("Index key contains an illegal field name: field name starts with '$'.");
    }
    if (wildcard_text) {
      if (!plugin.empty() && plugin != "text") return CannotCreate("Can't use more than one index plugin for a single index.");
      plugin = "text";
      continue;
    }
    for (const std::string& part : bson::SplitPath(name)) {
      if (part.empty()) return CannotCreate("Index keys cannot contain an empty field: " + name);
    }
    bson_type_t type = bson_iter_type(&field);
    if (type == BSON_TYPE_UTF8) {
      std::string kind = bson_iter_utf8(&field, nullptr);
      if (!plugin.empty() && kind != plugin) return CannotCreate("Can't use more than one index plugin for a single index.");
      plugin = kind;
      if (kind == "hashed") {
        if (++hashed > 1) {
          return Status(static_cast<ErrorCode>(31303),
                        "A maximum of one index field is allowed to be hashed but found " + std::to_string(hashed) +
                            " for 'key' " + SubDocument(key).ToJson());
        }
        continue;
      }
      // checked by text::NormalizeTextIndex / NormalizeSphereOptions / NormalizeFlatOptions
      if (kind == "text" || kind == "2dsphere" || kind == "2d") continue;
      if (kind == "geoHaystack") {
        return CannotCreate("'" + kind + "' indexes are not supported by this version of Docket");
      }
      return CannotCreate("Unknown index plugin '" + kind + "'");
    }
    if (!bson::IsNumber(type)) {
      return CannotCreate("Values in v:2 index key pattern(s) can only be of numeric type");
    }
    double d = bson::NumberAsDouble(field);
    if (d == 0 || std::isnan(d)) return CannotCreate("Values in the index key pattern can't be 0.");
  }
  if (count == 0) return CannotCreate("Index keys cannot be empty.");
  if (count > 32) return CannotCreate("Index key pattern must have at most 32 fields");
  return Status::OK();
}

bool SameField(const Document& a, const Document& b, const char* name) {
  bson_iter_t x, y;
  bool has_x = a.Find(name, &x), has_y = b.Find(name, &y);
  if (has_x != has_y) return false;
  if (!has_x) return true;
  return bson_iter_type(&x) == bson_iter_type(&y) && bson::CompareValues(x, y) == 0;
}

// Whether some field of the key pattern is of the special kind ("hashed",
// "2dsphere").
bool HasFieldOfKind(const Document& key_pattern, std::string_view kind) {
  bson_iter_t it;
  key_pattern.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (BSON_ITER_HOLDS_UTF8(&it) && std::string_view(bson_iter_utf8(&it, nullptr)) == kind) return true;
  }
  return false;
}


// A 2dsphere index's options, checked (MongoDB's codes) and completed with
// the version (3, the only one Docket builds) and, when given, the levels
// and cell budget of its coverings, into *options.
Status NormalizeSphereOptions(const Document& spec, Document* options) {
  bson::Builder out;
  bson_iter_t it;
  std::optional<int> coarsest, finest, max_cells;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view field = bson_iter_key(&it);
    if (field == "2dsphereIndexVersion") {
      if (!bson::IsNumber(bson_iter_type(&it))) {
        return CannotCreate("Invalid type for geo index version { 2dsphereIndexVersion: " +
                            std::string(bson::ValueToJson(it)) + " }, only versions: [3] are supported");
      }
      const double version = bson::NumberAsDouble(it);
      if (version != 3) {
        return CannotCreate("unsupported geo index version { 2dsphereIndexVersion: " + std::string(bson::ValueToJson(it)) +
                            " }, only versions: [3] are supported (versions 1 and 2 are MongoDB's older formats, "
                            "which this version of Docket does not build)");
      }
      continue;
    }
    std::optional<int>* target = field == "coarsestIndexedLevel" ? &coarsest
                                 : field == "finestIndexedLevel" ? &finest
                                 : field == "maxCellsInCovering" ? &max_cells
                                                                 : nullptr;
    if (target == nullptr) continue;
    if (!bson::IsNumber(bson_iter_type(&it))) {
      return Status(ErrorCode::kTypeMismatch, std::string(field) + " must be a number, not " +
                                                  std::string(bson::ValueToJson(it)));
    }
    const double value = bson::NumberAsDouble(it);
    if (!(value >= -1e9 && value <= 1e9)) {  // NaN, infinite, or beyond any level or cell count
      return CannotCreate(std::string(field) + " is out of range: " + std::string(bson::ValueToJson(it)));
    }
    *target = static_cast<int>(value);
  }
  const geo::CoverParams defaults;
  if (coarsest && *coarsest < 0) return Status(static_cast<ErrorCode>(16747), "coarsestIndexedLevel must be >= 0");
  if (finest && *finest > 30) return Status(static_cast<ErrorCode>(16748), "finestIndexedLevel must be <= 30");
  if (finest.value_or(defaults.finest_level) < coarsest.value_or(defaults.coarsest_level)) {
    return Status(static_cast<ErrorCode>(16749), "finestIndexedLevel must be >= coarsestIndexedLevel");
  }
  if (max_cells && *max_cells < 1) {
    return CannotCreate("maxCellsInCovering must be >= 1, not " + std::to_string(*max_cells));
  }
  BSON_APPEND_INT32(out.get(), "2dsphereIndexVersion", 3);
  if (coarsest) BSON_APPEND_INT32(out.get(), "coarsestIndexedLevel", *coarsest);
  if (finest) BSON_APPEND_INT32(out.get(), "finestIndexedLevel", *finest);
  if (max_cells) BSON_APPEND_INT32(out.get(), "maxCellsInCovering", *max_cells);
  *options = out.Finish();
  return Status::OK();
}

// A 2d index's key pattern and options as mongod checks them: the 2d field
// first (16801) and alone (16800); bits, min and max numbers
// (InvalidOptions 72) with 1 <= bits <= 32 and min < max. Returns the
// options it read into *params.
Status NormalizeFlatOptions(const Document& key, const Document& spec, geo::GeoHashParams* params) {
  bson_iter_t it;
  key.Iterate(&it);
  bool seen_geo = false, seen_other = false;
  while (bson_iter_next(&it)) {
    if (BSON_ITER_HOLDS_UTF8(&it) && std::string_view(bson_iter_utf8(&it, nullptr)) == "2d") {
      if (seen_geo) return Status(static_cast<ErrorCode>(16800), "can't have 2 geo fields");
      if (seen_other) return Status(static_cast<ErrorCode>(16801), "2d has to be first in index");
      seen_geo = true;
    } else {
      seen_other = true;
    }
  }
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view field = bson_iter_key(&it);
    if (field != "bits" && field != "min" && field != "max") continue;
    if (!bson::IsNumber(bson_iter_type(&it))) {
      return Status(ErrorCode::kInvalidOptions, "wrong type for '" + std::string(field) +
                                                    "' field, expected number, found " + std::string(field) + ": " +
                                                    std::string(bson::ValueToJson(it)));
    }
    const double value = bson::NumberAsDouble(it);
    if (field == "bits") {
      if (!(value >= 1 && value < 33)) {  // mongod keeps the integer part: 32.5 is 32
        return Status(ErrorCode::kInvalidOptions, "bits for hash must be > 0 and <= 32, but " +
                                                      std::string(bson::ValueToJson(it)) + " bits were specified");
      }
      params->bits = static_cast<int>(value);
    } else {
      (field == "min" ? params->min : params->max) = value;
    }
  }
  if (!(params->min < params->max) || !std::isfinite(params->min) || !std::isfinite(params->max)) {
    char text[128];
    std::snprintf(text, sizeof text, "[%g, %g]", params->min, params->max);
    return Status(ErrorCode::kInvalidOptions,
                  std::string("region for hash must be valid and have positive area, but ") + text + " was specified");
  }
  return Status::OK();
}

// The keys of a 2d field (Index::KeysFor): the geohash of every location at
// its path (TwoDLocations' reading), as FlatCellKey. *present tells whether
// there is one.
Status FlatFieldKeys(const Document& doc, const IndexField& field, const geo::GeoHasher& hasher,
                     std::vector<std::string>* out, bool* present) {
  std::vector<std::pair<double, double>> points;
  Status error;
  bson::VisitPath(
      doc.data(), doc.size(), field.path,
      [&](const bson_iter_t* value) {
        if (value == nullptr) return false;
        Status read = geo::TwoDLocations(*value, hasher.params(), &points);
        if (!read.ok()) {
          error = Status(read.code(), read.message() + " :: caused by :: " + doc.ToJson());
          return true;  // stop
        }
        return false;
      },
      bson::VisitOptions{.expand_leaf_arrays = false});
  DOCKET_RETURN_IF_ERROR(error);
  for (const auto& [x, y] : points) out->push_back(FlatCellKey(hasher.Hash(x, y)));
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  *present = *present || !points.empty();
  return Status::OK();
}

// The keys of a 2dsphere field (Index::KeysFor): every cell of the
// geometry at its path (of each, through arrays above its end), as
// SphereCellKey. *present tells whether the field
// holds anything to index: missing, null, undefined, [] and {} do not.
Status SphereFieldKeys(const Document& doc, const IndexField& field, const geo::CoverParams& cover,
                       std::vector<std::string>* out, bool* present) {
  Status error;
  std::vector<uint64_t> cells;
  bson::VisitPath(
      doc.data(), doc.size(), field.path,
      [&](const bson_iter_t* value) {
        if (value == nullptr) return false;
        const bson_type_t type = bson_iter_type(value);
        if (type == BSON_TYPE_NULL || type == BSON_TYPE_UNDEFINED) return false;
        if ((type == BSON_TYPE_ARRAY || type == BSON_TYPE_DOCUMENT) && bson::SubDocumentBytes(*value).size() <= 5) {
          return false;  // [] and {}
        }
        *present = true;
        // The value whole: mongod does not expand an array at the end of a
        // 2dsphere field's path (an array of points is not a geometry).
        auto geometry = geo::Geometry::Parse(*value);
        Status parsed = geometry.ok() ? geometry->SphereCells(cover, &cells) : geometry.status();
        if (!parsed.ok()) {
          error = Status(static_cast<ErrorCode>(16755),
                         "Can't extract geo keys: " + doc.ToJson() + "  " + parsed.message());
          return true;  // stop
        }
        return false;
      },
      bson::VisitOptions{.expand_leaf_arrays = false});
  DOCKET_RETURN_IF_ERROR(error);
  if (*present && cells.empty()) {
    return Status(static_cast<ErrorCode>(16756),
                  "Unable to generate keys for (likely malformed) geometry: " + doc.ToJson());
  }
  for (uint64_t cell : cells) out->push_back(SphereCellKey(cell));
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return Status::OK();
}

// The key of a hashed field: the encoding of MongoDB's hash of its value
// (null when missing; under a collation, of the value's comparison key).
std::string HashedKey(const bson_iter_t* value, const bson::StringOrder* strings) {
  static const std::string kNull = [] {
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_NULL(&b, "");
    std::string out(reinterpret_cast<const char*>(bson_get_data(&b)), b.len);
    bson_destroy(&b);
    return out;
  }();
  bson_iter_t null_it;
  if (value == nullptr) {
    bson::IterHeldValue(kNull, &null_it);
    value = &null_it;
  }
  std::string keyed;
  bson_iter_t keyed_it;
  if (strings != nullptr && bson::HasStrings(*value)) {
    keyed = bson::ComparisonKey(*value, strings);
    bson::IterHeldValue(keyed, &keyed_it);
    value = &keyed_it;
  }
  return bson::HashKey(bson::HashValue(*value));
}

// Appends the one-field encodings a field has in `doc`; under a collation,
// of each value's comparison key (strings as their sort keys).
void FieldKeys(const Document& doc, const IndexField& field, const bson::StringOrder* strings,
               std::vector<std::string>* out, bool* found_any) {
  auto add = [&](const bson_iter_t* value) {
    std::string key;
    if (value == nullptr) {
      bson::AppendKeyNull(&key);
    } else {
      *found_any = true;
      bson::AppendComparisonKeyValue(&key, *value, strings);
    }
    if (field.descending) {
      for (char& c : key) c = static_cast<char>(~static_cast<unsigned char>(c));
    }
    out->push_back(std::move(key));
  };
  bson::VisitPath(
      doc.data(), doc.size(), field.path,
      [&](const bson_iter_t* value) {
        if (value != nullptr && bson_iter_type(value) == BSON_TYPE_ARRAY) {
          *found_any = true;
          bson_iter_t element;
          bson_iter_recurse(value, &element);
          bool empty = true;
          while (bson_iter_next(&element)) {
            empty = false;
            add(&element);
          }
          if (empty) {
            std::string key(1, static_cast<char>(bson::CanonicalType(BSON_TYPE_UNDEFINED)));
            if (field.descending) key[0] = static_cast<char>(~static_cast<unsigned char>(key[0]));
            out->push_back(std::move(key));
          }
          return false;
        }
        add(value);
        return false;  // visit every value
      },
      bson::VisitOptions{.expand_leaf_arrays = false});
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

// The dotted prefix of `path` at which the first array sits in `doc` ("" if
// the path meets none), following the first element when there is one.
std::string ArrayPrefix(const Document& doc, const bson::Path& path) {
  for (size_t k = 1; k <= path.size(); ++k) {
    bson::Path prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(k));
    bson_iter_t it;
    if (!bson::GetPath(doc.data(), doc.size(), prefix, &it)) return "";
    if (bson_iter_type(&it) == BSON_TYPE_ARRAY) return bson::JoinPath(prefix, prefix.size());
  }
  return "";
}

}  // namespace

namespace {

// The key encoding of the one value `b` holds (under the name ""); destroys `b`.
std::string OneValueKey(bson_t* b) {
  bson_iter_t it;
  bson_iter_init(&it, b);
  bson_iter_next(&it);
  std::string key;
  bson::AppendKeyValue(&key, it);
  bson_destroy(b);
  return key;
}

}  // namespace

std::string TextTermKey(std::string_view term) {
  bson_t b = BSON_INITIALIZER;
  bson_append_utf8(&b, "", 0, term.data(), static_cast<int>(term.size()));
  return OneValueKey(&b);
}

std::string FlatCellKey(uint64_t code) {
  bson_t b = BSON_INITIALIZER;
  bson_append_int64(&b, "", 0, static_cast<int64_t>(code ^ (uint64_t{1} << 63)));
  return OneValueKey(&b);
}

std::string SphereCellKey(uint64_t cell) {
  bson_t b = BSON_INITIALIZER;
  bson_append_int64(&b, "", 0, static_cast<int64_t>(cell));
  return OneValueKey(&b);
}

std::string DefaultName(const Document& key_pattern) {
  std::string name;
  bson_iter_t it;
  key_pattern.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (!name.empty()) name += "_";
    name += bson_iter_key(&it);
    name += "_";
    if (BSON_ITER_HOLDS_UTF8(&it)) {
      name += bson_iter_utf8(&it, nullptr);
    } else {
      double d = bson_iter_as_double(&it);
      if (d == std::trunc(d)) name += std::to_string(static_cast<int64_t>(d));
      else name += bson::ValueToJson(it);
    }
  }
  return name;
}

Result<Document> NormalizeSpec(const Document& spec, const text::Collator* collection_collation) {
  bson_iter_t it;
  std::optional<Document> key;
  text::CollatorPtr collation;
  bool has_collation = false;
  std::string name;
  bool has_name = false, unique = false, sparse = false, hidden = false, prepare_unique = false;
  std::optional<Document> partial;
  std::optional<bson_iter_t> expire, background, drop_dups;
  bool text_options = false, sphere_options = false, flat_options = false;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string_view field = bson_iter_key(&it);
    if (field == "key") {
      DOCKET_RETURN_IF_ERROR(CheckKeyPattern(it));
      key = SubDocument(it);
    } else if (field == "name") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return Status(ErrorCode::kTypeMismatch, "The 'name' field must be a string");
      uint32_t name_len = 0;
      const char* name_bytes = bson_iter_utf8(&it, &name_len);
      name.assign(name_bytes, name_len);
      if (name.empty()) return CannotCreate("index name cannot be empty");
      if (name.find('\0') != std::string::npos) return CannotCreate("index name cannot contain a NUL byte");
      has_name = true;
    } else if (field == "unique") {
      unique = bson_iter_as_bool(&it);
    } else if (field == "sparse") {
      sparse = bson_iter_as_bool(&it);
    } else if (field == "partialFilterExpression") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
        return Status(ErrorCode::kTypeMismatch, "The field 'partialFilterExpression' must be an object");
      }
      partial = SubDocument(it);
      auto compiled = query::Filter::Compile(*partial);
      if (compiled.ok() && compiled->text_search() != nullptr) {
        compiled = Status(ErrorCode::kBadValue, "$text is not allowed in this context");
      }
      if (compiled.ok() && compiled->near_query() != nullptr) compiled = query::NearNotAllowed();
      if (!compiled.ok()) {
        return CannotCreate("Error in specification " + spec.ToJson() + " :: caused by :: " +
                            compiled.status().message());
      }
    } else if (field == "expireAfterSeconds") {
      if (!bson::IsNumber(bson_iter_type(&it))) {
        return CannotCreate("TTL index 'expireAfterSeconds' option must be numeric, but received a type of '" +
                            std::string(bson::ValueToJson(it)) + "'");
      }
      double seconds = bson_iter_as_double(&it);
      if (std::isnan(seconds) || seconds < 0 || seconds > 2147483647) {
        return CannotCreate("TTL index 'expireAfterSeconds' option must be within an acceptable range");
      }
      expire = it;
    } else if (field == "prepareUnique") {
      prepare_unique = bson_iter_as_bool(&it);
    } else if (field == "hidden") {
      if (!BSON_ITER_HOLDS_BOOL(&it)) {
        return Status(ErrorCode::kTypeMismatch, "The field 'hidden' must be a boolean, not " +
                                                    std::string(bson::ValueToJson(it)));
      }
      hidden = bson_iter_bool(&it);
    } else if (field == "background") {
      background = it;  // a creation-time option MongoDB 6.0 ignores, and keeps in the spec
    } else if (field == "dropDups") {
      drop_dups = it;  // ignored since MongoDB 3.0, kept in the spec as 6.0 keeps it
    } else if (field == "collation") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
        return Status(ErrorCode::kTypeMismatch, "The field 'collation' must be an object, not " +
                                                    std::string(bson::ValueToJson(it)));
      }
      auto made = text::Collator::Make(SubDocument(it));
      if (!made.ok()) return made.status();
      collation = std::move(made).value();
      has_collation = true;
    } else if (field == "v" || field == "ns") {
      continue;  // accepted and ignored, as MongoDB 6.0 does
    } else if (field == "weights" || field == "default_language" || field == "language_override" ||
               field == "textIndexVersion") {
      text_options = true;  // read by text::NormalizeTextIndex
    } else if (field == "2dsphereIndexVersion" || field == "coarsestIndexedLevel" || field == "finestIndexedLevel" ||
               field == "maxCellsInCovering") {
      sphere_options = true;  // read by NormalizeSphereOptions
    } else if (field == "bits" || field == "min" || field == "max") {
      flat_options = true;  // read by NormalizeFlatOptions
    } else {
      return Status(ErrorCode::kInvalidIndexSpecificationOption,
                    "The field '" + std::string(field) + "' is not valid for an index specification" +
                        (field == "wildcardProjection" ? " in this version of Docket" : "") +
                        ". Specification: " + spec.ToJson());
    }
  }
  if (!key) return Status(ErrorCode::kFailedToParse, "The 'key' field is a required property of an index specification");
  if (expire) {
    bson_iter_t first;
    key->Iterate(&first);
    bson_iter_next(&first);
    if (bson_iter_next(&first)) {
      return CannotCreate("TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: " +
                          spec.ToJson());
    }
  }
  if (!has_name) name = DefaultName(*key);
  // A text index: its key is stored as {..prefix, _fts: "text", _ftsx: 1,
  // ..suffix}, its options after the others.
  std::optional<Document> text_spec_options;
  if (text::IsTextKeyPattern(*key)) {
    Document options;
    auto text_key = text::NormalizeTextIndex(*key, spec, &options);
    if (!text_key.ok()) return text_key.status();
    key = std::move(text_key).value();
    text_spec_options = std::move(options);
    if (has_collation ? collation != nullptr : collection_collation != nullptr) {
      return CannotCreate("Index type 'text' does not support collation: " +
                          (has_collation ? collation->spec() : collection_collation->spec()).ToJson());
    }
  } else if (text_options) {
    return CannotCreate("text index options (weights, default_language, language_override, textIndexVersion) "
                        "are only valid on a text index. Specification: " + spec.ToJson());
  }
  std::optional<Document> sphere_spec_options;
  if (HasFieldOfKind(*key, "2dsphere")) {
    Document options;
    DOCKET_RETURN_IF_ERROR(NormalizeSphereOptions(spec, &options));
    sphere_spec_options = std::move(options);
  } else if (sphere_options) {
    return CannotCreate("2dsphere index options (2dsphereIndexVersion, coarsestIndexedLevel, finestIndexedLevel, "
                        "maxCellsInCovering) are only valid on a 2dsphere index. Specification: " + spec.ToJson());
  }
  std::optional<geo::GeoHashParams> flat_params;
  if (HasFieldOfKind(*key, "2d")) {
    geo::GeoHashParams params;
    DOCKET_RETURN_IF_ERROR(NormalizeFlatOptions(*key, spec, &params));
    flat_params = params;
    if (has_collation ? collation != nullptr : collection_collation != nullptr) {
      return CannotCreate("Index type '2d' does not support collation: " +
                          (has_collation ? collation->spec() : collection_collation->spec()).ToJson());
    }
  } else if (flat_options) {
    return CannotCreate("2d index options (bits, min, max) are only valid on a 2d index. Specification: " +
                        spec.ToJson());
  }
  if (unique && HasFieldOfKind(*key, "hashed")) {
    return Status(static_cast<ErrorCode>(16764),
                  "Currently hashed indexes cannot guarantee uniqueness. Use a regular index.");
  }
  // Without its own, an index takes the collection's collation; an explicit
  // {locale: "simple"} keeps it binary.
  const text::Collator* effective = has_collation ? collation.get() : collection_collation;
  bson::Builder out;
  BSON_APPEND_INT32(out.get(), "v", 2);
  bson::AppendDocument(out.get(), "key", *key);
  BSON_APPEND_UTF8(out.get(), "name", name.c_str());
  if (unique) BSON_APPEND_BOOL(out.get(), "unique", true);
  if (sparse) BSON_APPEND_BOOL(out.get(), "sparse", true);
  if (partial) bson::AppendDocument(out.get(), "partialFilterExpression", *partial);
  if (effective != nullptr) bson::AppendDocument(out.get(), "collation", effective->spec());
  if (expire) docket::bson::AppendElement(out.get(), "expireAfterSeconds", -1, &*expire);
  if (hidden) BSON_APPEND_BOOL(out.get(), "hidden", true);
  if (prepare_unique && !unique) BSON_APPEND_BOOL(out.get(), "prepareUnique", true);
  if (background) docket::bson::AppendElement(out.get(), "background", -1, &*background);
  if (drop_dups) docket::bson::AppendElement(out.get(), "dropDups", -1, &*drop_dups);
  for (const auto* options : {&text_spec_options, &sphere_spec_options}) {
    if (!*options) continue;
    bson_iter_t option;
    (*options)->Iterate(&option);
    while (bson_iter_next(&option)) docket::bson::AppendElement(out.get(), bson_iter_key(&option), -1, &option);
  }
  if (flat_params) {  // a 2d index keeps bits, min and max as given
    bson_iter_t option;
    spec.Iterate(&option);
    while (bson_iter_next(&option)) {
      const std::string_view field = bson_iter_key(&option);
      if (field == "bits" || field == "min" || field == "max") {
        docket::bson::AppendElement(out.get(), bson_iter_key(&option), -1, &option);
      }
    }
  }
  return out.Finish();
}

bool SameOptions(const Document& a, const Document& b) {
  for (const char* field : {"key", "unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "collation",
                            "weights", "default_language", "language_override",
                            "coarsestIndexedLevel", "finestIndexedLevel", "maxCellsInCovering", "bits", "min", "max"}) {
    if (!SameField(a, b, field)) return false;
  }
  return true;
}

Result<std::shared_ptr<const Index>> Index::Compile(uint64_t id, const Document& spec) {
  auto index = std::make_shared<Index>();
  index->id_ = id;
  index->spec_ = spec;
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    std::string_view field = bson_iter_key(&it);
    if (field == "key" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      index->key_pattern_ = SubDocument(it);
    } else if (field == "name" && BSON_ITER_HOLDS_UTF8(&it)) {
      index->name_ = bson_iter_utf8(&it, nullptr);
    } else if (field == "unique") {
      index->unique_ = bson_iter_as_bool(&it);
    } else if (field == "sparse") {
      index->sparse_ = bson_iter_as_bool(&it);
    } else if (field == "partialFilterExpression" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      index->partial_filter_ = SubDocument(it);
    } else if (field == "collation" && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      auto collation = text::Collator::FromStored(SubDocument(it));
      if (!collation.ok()) return collation.status();
      index->collation_ = std::move(collation).value();
    } else if (field == "expireAfterSeconds") {
      index->expire_after_seconds_ = static_cast<int64_t>(bson_iter_as_double(&it));
    } else if (field == "hidden") {
      index->hidden_ = bson_iter_as_bool(&it);
    } else if (field == "prepareUnique") {
      index->prepare_unique_ = bson_iter_as_bool(&it);
    } else if (field == "coarsestIndexedLevel") {
      index->sphere_cover_.coarsest_level = static_cast<int>(bson_iter_as_int64(&it));
    } else if (field == "finestIndexedLevel") {
      index->sphere_cover_.finest_level = static_cast<int>(bson_iter_as_int64(&it));
    } else if (field == "maxCellsInCovering") {
      index->sphere_cover_.max_cells = static_cast<int>(bson_iter_as_int64(&it));
    }
  }
  if (!index->partial_filter_.empty()) {
    // Evaluated with the index's collation, as MongoDB does.
    auto filter = query::Filter::Compile(index->partial_filter_, nullptr, index->collation_);
    if (!filter.ok()) return filter.status();
    index->partial_ = std::make_shared<const query::Filter>(std::move(filter).value());
  }
  bson_iter_t key;
  index->key_pattern_.Iterate(&key);
  while (bson_iter_next(&key)) {
    std::string dotted = bson_iter_key(&key);
    if (dotted == "_ftsx") continue;  // the text part is one field, _fts
    const bool hashed = BSON_ITER_HOLDS_UTF8(&key) && std::string_view(bson_iter_utf8(&key, nullptr)) == "hashed";
    const bool text = dotted == "_fts";
    const bool sphere = BSON_ITER_HOLDS_UTF8(&key) && std::string_view(bson_iter_utf8(&key, nullptr)) == "2dsphere";
    const bool flat = BSON_ITER_HOLDS_UTF8(&key) && std::string_view(bson_iter_utf8(&key, nullptr)) == "2d";
    index->fields_.push_back({bson::SplitPath(dotted), dotted,
                              !hashed && !text && !sphere && !flat && bson_iter_as_double(&key) < 0, hashed, text,
                              sphere, flat});
    index->has_sphere_ = index->has_sphere_ || sphere;
    if (flat) {
      geo::GeoHashParams params;
      DOCKET_RETURN_IF_ERROR(NormalizeFlatOptions(index->key_pattern_, spec, &params));
      index->geohash_ = std::make_shared<const geo::GeoHasher>(params);
    }
  }
  if (text::IsTextKeyPattern(index->key_pattern_)) {
    auto text_spec = text::TextIndexSpec::FromIndexSpec(spec);
    if (!text_spec.ok()) return text_spec.status();
    index->text_ = std::move(text_spec).value();
    index->multikey_.store(true);  // a document has a key per term
  }
  if (index->fields_.empty() || index->name_.empty()) {
    return Status(ErrorCode::kInternalError, "stored index spec is malformed: " + spec.ToJson());
  }
  return std::shared_ptr<const Index>(std::move(index));
}

Status Index::KeysFor(const Document& doc, std::vector<std::string>* keys, bool* multikey) const {
  keys->clear();
  if (multikey != nullptr) *multikey = false;
  if (partial_ != nullptr && !partial_->Matches(doc)) return Status::OK();
  std::vector<std::vector<std::string>> per_field(fields_.size());
  bool found_any = false;
  // a 2dsphere index holds only documents with a geometry on one of its
  // fields, a 2d index only those with a location on its 2d field
  bool geo_present = false;
  // Two fields may both be arrays only through the same array ({"a.b", "a.c"}
  // over a: [{b, c}, ...]); their keys are then the product, as MongoDB's.
  const IndexField* array_field = nullptr;
  std::string array_prefix;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].text) {
      std::map<std::string, double> scores;
      DOCKET_RETURN_IF_ERROR(text_->TermScores(doc, &scores));
      if (scores.empty()) return Status::OK();  // no term: the document is not in the index
      for (const auto& [term, score] : scores) per_field[i].push_back(TextTermKey(term));
      found_any = true;
      continue;
    }
    if (fields_[i].flat) {
      DOCKET_RETURN_IF_ERROR(FlatFieldKeys(doc, fields_[i], *geohash_, &per_field[i], &geo_present));
      if (per_field[i].empty()) return Status::OK();  // no location: not in the index
      if (per_field[i].size() > 1 && multikey != nullptr) *multikey = true;
      continue;
    }
    if (fields_[i].sphere) {
      DOCKET_RETURN_IF_ERROR(SphereFieldKeys(doc, fields_[i], sphere_cover_, &per_field[i], &geo_present));
      // A shape covered by several cells has several keys (MongoDB's
      // multikey): readers then de-duplicate record ids.
      if (per_field[i].size() > 1 && multikey != nullptr) *multikey = true;
      if (per_field[i].empty()) {
        std::string null_key;  // a missing geometry field of a compound index is null there
        bson::AppendKeyNull(&null_key);
        per_field[i].push_back(std::move(null_key));
      }
      continue;
    }
    if (text_ != nullptr) {
      // A text index's other fields may not hold arrays (their keys would
      // multiply every term's).
      const std::string array_at = ArrayPrefix(doc, fields_[i].path);
      if (!array_at.empty()) {
        return Status(ErrorCode::kCannotBuildIndexKeys, "Field '" + fields_[i].dotted +
                                                            "' of text index contains an array in document: " +
                                                            doc.ToJson());
      }
    }
    if (fields_[i].hashed) {
      const std::string array_at = ArrayPrefix(doc, fields_[i].path);
      if (!array_at.empty()) {
        return Status(static_cast<ErrorCode>(16766),
                      "Error: hashed indexes do not currently support array values. Found array at path: " + array_at);
      }
      bson_iter_t value;
      const bool found = bson::GetPath(doc.data(), doc.size(), fields_[i].path, &value);
      found_any = found_any || found;
      per_field[i].push_back(HashedKey(found ? &value : nullptr, collation_.get()));
      continue;
    }
    FieldKeys(doc, fields_[i], collation_.get(), &per_field[i], &found_any);
    if (fields_.size() == 1 && multikey == nullptr) break;
    std::string prefix = ArrayPrefix(doc, fields_[i].path);
    if (prefix.empty()) continue;
    if (multikey != nullptr) *multikey = true;
    if (array_field != nullptr && prefix != array_prefix) {
      return Status(ErrorCode::kCannotIndexParallelArrays,
                    "cannot index parallel arrays [" + fields_[i].dotted + "] [" + array_field->dotted + "]");
    }
    array_field = &fields_[i];
    array_prefix = prefix;
  }
  if (has_sphere_ && !geo_present) return Status::OK();
  if (sparse_ && !has_sphere_ && !has_flat() && !found_any) return Status::OK();
  // The product of the fields' keys.
  keys->push_back(std::string());
  for (const auto& options : per_field) {
    std::vector<std::string> next;
    for (const std::string& prefix : *keys) {
      for (const std::string& part : options) next.push_back(prefix + part);
    }
    keys->swap(next);
  }
  std::sort(keys->begin(), keys->end());
  keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
  return Status::OK();
}

}  // namespace docket::index
