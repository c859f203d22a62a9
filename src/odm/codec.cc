#include "docket/odm/codec.h"

#include <cmath>
#include <cstring>

#include "docket/odm/collection.h"

namespace docket::odm::detail {
namespace {

int KeyLen(std::string_view key) { return static_cast<int>(key.size()); }

Status Mismatch(const char* expected, const bson_iter_t& it) {
  return Status(ErrorCode::kTypeMismatch, std::string("expected ") + expected + ", found " + Found(it));
}

}  // namespace

void Append(bson_t* out, std::string_view key, bool v) { bson_append_bool(out, key.data(), KeyLen(key), v); }
void Append(bson_t* out, std::string_view key, int32_t v) { bson_append_int32(out, key.data(), KeyLen(key), v); }
void Append(bson_t* out, std::string_view key, int64_t v) { bson_append_int64(out, key.data(), KeyLen(key), v); }
void Append(bson_t* out, std::string_view key, long long v) {
  bson_append_int64(out, key.data(), KeyLen(key), static_cast<int64_t>(v));
}
void Append(bson_t* out, std::string_view key, double v) { bson_append_double(out, key.data(), KeyLen(key), v); }
void Append(bson_t* out, std::string_view key, std::string_view v) {
  bson_append_utf8(out, key.data(), KeyLen(key), v.data(), static_cast<int>(v.size()));
}
void Append(bson_t* out, std::string_view key, const char* v) { Append(out, key, std::string_view(v)); }
void Append(bson_t* out, std::string_view key, const std::string& v) { Append(out, key, std::string_view(v)); }
void Append(bson_t* out, std::string_view key, const ObjectId& v) {
  bson_oid_t oid;
  std::memcpy(oid.bytes, v.bytes(), 12);
  bson_append_oid(out, key.data(), KeyLen(key), &oid);
}
void Append(bson_t* out, std::string_view key, const Decimal128& v) {
  bson_decimal128_t d{v.low(), v.high()};
  bson_append_decimal128(out, key.data(), KeyLen(key), &d);
}
void Append(bson_t* out, std::string_view key, Date v) {
  bson_append_date_time(out, key.data(), KeyLen(key), v.time_since_epoch().count());
}
void Append(bson_t* out, std::string_view key, const Document& v) {
  bson_t child;
  if (bson_init_static(&child, v.data(), v.size())) bson_append_document(out, key.data(), KeyLen(key), &child);
}
void Append(bson_t* out, std::string_view key, std::nullptr_t) { bson_append_null(out, key.data(), KeyLen(key)); }

Status Read(const bson_iter_t& it, bool* out) {
  if (bson_iter_type(&it) != BSON_TYPE_BOOL) return Mismatch("a bool", it);
  *out = bson_iter_bool(&it);
  return Status::OK();
}

// Whole numbers from any numeric type that holds them exactly.
Status ReadWhole(const bson_iter_t& it, int64_t lo, int64_t hi, const char* expected, int64_t* out) {
  int64_t v = 0;
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32: v = bson_iter_int32(&it); break;
    case BSON_TYPE_INT64: v = bson_iter_int64(&it); break;
    case BSON_TYPE_DOUBLE: {
      double d = bson_iter_double(&it);
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) {
        return Mismatch(expected, it);
      }
      v = static_cast<int64_t>(d);
      break;
    }
    default: return Mismatch(expected, it);
  }
  if (v < lo || v > hi) return Status(ErrorCode::kTypeMismatch, std::string("expected ") + expected + ", found " + Found(it) + ", out of range");
  *out = v;
  return Status::OK();
}

Status Read(const bson_iter_t& it, int32_t* out) {
  int64_t v = 0;
  DOCKET_RETURN_IF_ERROR(ReadWhole(it, INT32_MIN, INT32_MAX, "an int32", &v));
  *out = static_cast<int32_t>(v);
  return Status::OK();
}

Status Read(const bson_iter_t& it, int64_t* out) { return ReadWhole(it, INT64_MIN, INT64_MAX, "an int64", out); }

Status Read(const bson_iter_t& it, long long* out) {
  int64_t v = 0;
  DOCKET_RETURN_IF_ERROR(ReadWhole(it, INT64_MIN, INT64_MAX, "an int64", &v));
  *out = v;
  return Status::OK();
}

Status Read(const bson_iter_t& it, double* out) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DOUBLE: *out = bson_iter_double(&it); return Status::OK();
    case BSON_TYPE_INT32: *out = bson_iter_int32(&it); return Status::OK();
    case BSON_TYPE_INT64: {
      int64_t v = bson_iter_int64(&it);
      if (v > (int64_t{1} << 53) || v < -(int64_t{1} << 53)) return Mismatch("a double (exactly)", it);
      *out = static_cast<double>(v);
      return Status::OK();
    }
    default: return Mismatch("a double", it);
  }
}

Status Read(const bson_iter_t& it, std::string* out) {
  uint32_t len = 0;
  const char* s = nullptr;
  if (bson_iter_type(&it) == BSON_TYPE_UTF8) s = bson_iter_utf8(&it, &len);
  else if (bson_iter_type(&it) == BSON_TYPE_SYMBOL) s = bson_iter_symbol(&it, &len);
  else return Mismatch("a string", it);
  out->assign(s, len);
  return Status::OK();
}

Status Read(const bson_iter_t& it, ObjectId* out) {
  if (bson_iter_type(&it) != BSON_TYPE_OID) return Mismatch("an ObjectId", it);
  *out = ObjectId::FromBytes(bson_iter_oid(&it)->bytes);
  return Status::OK();
}

Status Read(const bson_iter_t& it, Decimal128* out) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t d;
      bson_iter_decimal128(&it, &d);
      *out = Decimal128::FromBits(d.high, d.low);
      return Status::OK();
    }
    case BSON_TYPE_INT32: *out = Decimal128(bson_iter_int32(&it)); return Status::OK();
    case BSON_TYPE_INT64: *out = Decimal128(bson_iter_int64(&it)); return Status::OK();
    default: return Mismatch("a decimal or an integer", it);
  }
}

Status Read(const bson_iter_t& it, Date* out) {
  if (bson_iter_type(&it) != BSON_TYPE_DATE_TIME) return Mismatch("a date", it);
  *out = Date(std::chrono::milliseconds(bson_iter_date_time(&it)));
  return Status::OK();
}

Status Read(const bson_iter_t& it, Document* out) {
  if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) return Mismatch("a document", it);
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&it, &len, &data);
  *out = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len));
  return Status::OK();
}

std::string Found(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DOUBLE: return "a double (" + std::to_string(bson_iter_double(&it)) + ")";
    case BSON_TYPE_UTF8: return "a string";
    case BSON_TYPE_DOCUMENT: return "a document";
    case BSON_TYPE_ARRAY: return "an array";
    case BSON_TYPE_BINARY: return "binary data";
    case BSON_TYPE_OID: return "an ObjectId";
    case BSON_TYPE_BOOL: return "a bool";
    case BSON_TYPE_DATE_TIME: return "a date";
    case BSON_TYPE_NULL: return "null";
    case BSON_TYPE_REGEX: return "a regex";
    case BSON_TYPE_INT32: return "an int32 (" + std::to_string(bson_iter_int32(&it)) + ")";
    case BSON_TYPE_TIMESTAMP: return "a timestamp";
    case BSON_TYPE_INT64: return "an int64 (" + std::to_string(bson_iter_int64(&it)) + ")";
    case BSON_TYPE_DECIMAL128: return "a decimal";
    default: return "a value of BSON type " + std::to_string(static_cast<int>(bson_iter_type(&it)));
  }
}

Status AtField(std::string_view field, Status s) {
  if (s.ok()) return s;
  // A leaf reason ("expected ...") gets "field: "; a message that already
  // starts with a path ("city: ...") gets "field." in front of it.
  const std::string& inner = s.message();
  bool leaf = inner.rfind("expected ", 0) == 0;
  std::string message = std::string(field) + (leaf ? ": " : ".") + inner;
  return Status(s.code(), std::move(message));
}

Status Missing(std::string_view field) {
  return Status(ErrorCode::kNoSuchKey, std::string(field) + ": the field is missing and the model requires it");
}

ChildBuilder::ChildBuilder(bson_t* p, std::string_view key, bool is_array) : parent(p), array(is_array) {
  if (array) bson_append_array_begin(parent, key.data(), KeyLen(key), &child);
  else bson_append_document_begin(parent, key.data(), KeyLen(key), &child);
}

ChildBuilder::~ChildBuilder() {
  if (array) bson_append_array_end(parent, &child);
  else bson_append_document_end(parent, &child);
}

std::string_view ArrayKey(size_t index, char (&buffer)[16]) {
  const char* key = nullptr;
  size_t len = bson_uint32_to_string(static_cast<uint32_t>(index), &key, buffer, sizeof(buffer));
  return std::string_view(key, len);
}

Document TakeDocument(bson_t* built) {
  Document out = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(bson_get_data(built)), built->len));
  bson_destroy(built);
  return out;
}

void ThrowIfInvalid(const Status& validation) {
  if (validation.ok()) return;
  if (validation.code() == ErrorCode::kBadValue || validation.code() == ErrorCode::kInternalError) {
    throw Error(Status(static_cast<ErrorCode>(121), "Document failed validation: " + validation.message()));
  }
  throw Error(validation);
}

}  // namespace docket::odm::detail
