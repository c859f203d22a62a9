#include "expr/value.h"

#include <cmath>
#include <cstring>

#include "bson/type_names.h"
#include "bson/value.h"
#include "bson/append_element.h"

namespace docket::expr {
namespace {

// {"": <raw>} for a value of `type` whose BSON value bytes are `raw`.
std::string HeldBytes(bson_type_t type, std::string_view raw) {
  std::string out;
  const uint32_t total = static_cast<uint32_t>(4 + 1 + 1 + raw.size() + 1);
  out.resize(total);
  std::memcpy(out.data(), &total, 4);  // BSON is little-endian, as is x86-64
  out[4] = static_cast<char>(type);
  out[5] = '\0';                       // the empty key
  if (!raw.empty()) std::memcpy(out.data() + 6, raw.data(), raw.size());
  out[total - 1] = '\0';
  return out;
}

template <typename T>
Value Scalar(bson_type_t type, T v) {
  return Value::FromHeld(HeldBytes(type, std::string_view(reinterpret_cast<const char*>(&v), sizeof(T))));
}

}  // namespace

Value Value::Borrow(const bson_iter_t& it) {
  Value v;
  v.data_ = it.raw;
  v.len_ = it.len;
  v.offset_ = bson_iter_offset(const_cast<bson_iter_t*>(&it));
  v.key_len_ = bson_iter_key_len(&it);
  v.type_ = bson_iter_type(&it);
  return v;
}

Value Value::Copy(const bson_iter_t& it) { return FromHeld(bson::HoldValue(it)); }

Value Value::FromHeld(std::string held) {
  Value v;
  auto owner = std::make_shared<const std::string>(std::move(held));
  v.data_ = reinterpret_cast<const uint8_t*>(owner->data());
  v.len_ = static_cast<uint32_t>(owner->size());
  v.offset_ = 4;
  v.key_len_ = 0;
  v.type_ = static_cast<bson_type_t>(static_cast<uint8_t>((*owner)[4]));
  v.owner_ = std::move(owner);
  return v;
}

Value Value::FromDocument(const Document& doc) {
  return FromHeld(HeldBytes(BSON_TYPE_DOCUMENT, doc.bytes()));
}

Value Value::FromDocumentBytes(std::string_view bytes) { return FromHeld(HeldBytes(BSON_TYPE_DOCUMENT, bytes)); }

Value Value::FromArrayBytes(std::string_view bytes) { return FromHeld(HeldBytes(BSON_TYPE_ARRAY, bytes)); }

Value Value::Null() { return FromHeld(HeldBytes(BSON_TYPE_NULL, {})); }
Value Value::Undefined() { return FromHeld(HeldBytes(BSON_TYPE_UNDEFINED, {})); }
Value Value::Bool(bool v) { return Scalar<uint8_t>(BSON_TYPE_BOOL, v ? 1 : 0); }
Value Value::Int32(int32_t v) { return Scalar(BSON_TYPE_INT32, v); }
Value Value::Int64(int64_t v) { return Scalar(BSON_TYPE_INT64, v); }
Value Value::Double(double v) { return Scalar(BSON_TYPE_DOUBLE, v); }
Value Value::Date(int64_t millis) { return Scalar(BSON_TYPE_DATE_TIME, millis); }
Value Value::Integer(int64_t v) {
  if (v >= INT32_MIN && v <= INT32_MAX) return Int32(static_cast<int32_t>(v));
  return Int64(v);
}

Value Value::Decimal(const bson_decimal128_t& v) {
  uint64_t parts[2] = {BSON_UINT64_TO_LE(v.low), BSON_UINT64_TO_LE(v.high)};
  return FromHeld(HeldBytes(BSON_TYPE_DECIMAL128, std::string_view(reinterpret_cast<const char*>(parts), 16)));
}

Value Value::String(std::string_view s) {
  std::string raw;
  const uint32_t n = static_cast<uint32_t>(s.size() + 1);
  raw.resize(4);
  std::memcpy(raw.data(), &n, 4);
  raw.append(s);
  raw.push_back('\0');
  return FromHeld(HeldBytes(BSON_TYPE_UTF8, raw));
}

Value Value::Oid(const bson_oid_t& oid) {
  return FromHeld(HeldBytes(BSON_TYPE_OID, std::string_view(reinterpret_cast<const char*>(oid.bytes), 12)));
}

Value Value::Timestamp(uint32_t time, uint32_t increment) {
  uint64_t packed = (static_cast<uint64_t>(time) << 32) | increment;
  return Scalar(BSON_TYPE_TIMESTAMP, packed);
}

Value Value::Regex(std::string_view pattern, std::string_view options) {
  std::string raw(pattern);
  raw.push_back('\0');
  raw.append(options);
  raw.push_back('\0');
  return FromHeld(HeldBytes(BSON_TYPE_REGEX, raw));
}

void Value::Iter(bson_iter_t* it) const {
  bson_iter_init_from_data_at_offset(it, data_, len_, offset_, key_len_);
}

Value Value::Owned() const {
  if (owner_ != nullptr || missing()) return *this;
  bson_iter_t it;
  Iter(&it);
  return Copy(it).WithMetadataOf(*this);
}

Value Value::Child(const bson_iter_t& child) const {
  Value v = Borrow(child);
  v.owner_ = owner_;
  return v;
}

bool Value::is_number() const { return bson::IsNumber(type_); }
bool Value::is_nullish() const { return missing() || bson::IsNullish(type_); }

double Value::AsDouble() const {
  bson_iter_t it;
  Iter(&it);
  return bson::NumberAsDouble(it);
}

int64_t Value::AsInt64() const {
  bson_iter_t it;
  Iter(&it);
  switch (type_) {
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_INT64: return bson_iter_int64(&it);
    default: {
      double d = bson::NumberAsDouble(it);
      if (std::isnan(d)) return 0;
      if (d >= 9.2233720368547758e18) return INT64_MAX;
      if (d <= -9.2233720368547758e18) return INT64_MIN;
      return static_cast<int64_t>(d);
    }
  }
}

std::string_view Value::AsString() const {
  bson_iter_t it;
  Iter(&it);
  uint32_t n = 0;
  const char* s = type_ == BSON_TYPE_SYMBOL ? bson_iter_symbol(&it, &n) : bson_iter_utf8(&it, &n);
  return std::string_view(s, n);
}

std::string_view Value::ContainerBytes() const {
  bson_iter_t it;
  Iter(&it);
  return bson::SubDocumentBytes(it);
}

bool Value::AsBool() const {
  bson_iter_t it;
  Iter(&it);
  return bson_iter_bool(&it);
}

int64_t Value::AsDateMillis() const {
  bson_iter_t it;
  Iter(&it);
  return bson_iter_date_time(&it);
}

Document Value::AsDocument() const { return Document::FromTrustedBytes(std::string(ContainerBytes())); }

size_t Value::ArrayLength() const {
  bson_iter_t it, child;
  Iter(&it);
  bson_iter_recurse(&it, &child);
  size_t n = 0;
  while (bson_iter_next(&child)) ++n;
  return n;
}

bool Value::Truthy() const {
  if (is_nullish()) return false;
  bson_iter_t it;
  Iter(&it);
  switch (type_) {
    case BSON_TYPE_BOOL: return bson_iter_bool(&it);
    case BSON_TYPE_INT32: return bson_iter_int32(&it) != 0;
    case BSON_TYPE_INT64: return bson_iter_int64(&it) != 0;
    case BSON_TYPE_DOUBLE: return bson_iter_double(&it) != 0;  // NaN is true, as in MongoDB
    case BSON_TYPE_DECIMAL128: {
      double d = bson::NumberAsDouble(it);
      return std::isnan(d) || d != 0;
    }
    default: return true;
  }
}

void Value::AppendTo(bson_t* out, std::string_view key) const {
  if (missing()) return;
  bson_iter_t it;
  Iter(&it);
  docket::bson::AppendElement(out, key.data(), static_cast<int>(key.size()), &it);
}

std::string Value::ToJson() const {
  if (missing()) return "missing";
  bson_iter_t it;
  Iter(&it);
  return bson::ValueToJson(it);
}

int Compare(const Value& a, const Value& b, const bson::StringOrder* strings) {
  if (a.missing() || b.missing()) return static_cast<int>(!a.missing()) - static_cast<int>(!b.missing());
  bson_iter_t x, y;
  a.Iter(&x);
  b.Iter(&y);
  return bson::CompareValues(x, y, strings);
}

const char* TypeName(const Value& v) { return v.missing() ? "missing" : bson::TypeAlias(v.type()); }

std::vector<Value> Elements(const Value& array) {
  std::vector<Value> out;
  ForEachElement(array, [&](const Value& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

Value MakeArray(const std::vector<Value>& items) {
  ArrayBuilder out;
  for (const Value& v : items) out.Append(v);
  return out.Finish();
}

ArrayBuilder::ArrayBuilder() {
  bson_init(&outer_);
  bson_append_array_begin(&outer_, "", 0, &array_);
}

ArrayBuilder::~ArrayBuilder() {
  if (!finished_) bson_append_array_end(&outer_, &array_);
  bson_destroy(&outer_);
}

void ArrayBuilder::Append(const Value& v) {
  char buffer[16];
  const char* key = nullptr;
  size_t key_len = bson_uint32_to_string(static_cast<uint32_t>(count_++), &key, buffer, sizeof(buffer));
  if (v.missing()) {
    bson_append_null(&array_, key, static_cast<int>(key_len));
    return;
  }
  v.AppendTo(&array_, std::string_view(key, key_len));
}

void ArrayBuilder::Append(const bson_iter_t& it) {
  char buffer[16];
  const char* key = nullptr;
  size_t key_len = bson_uint32_to_string(static_cast<uint32_t>(count_++), &key, buffer, sizeof(buffer));
  docket::bson::AppendElement(&array_, key, static_cast<int>(key_len), &it);
}

size_t ArrayBuilder::bytes() const { return array_.len; }

Value ArrayBuilder::Finish() {
  bson_append_array_end(&outer_, &array_);
  finished_ = true;
  return Value::FromHeld(std::string(reinterpret_cast<const char*>(bson_get_data(&outer_)), outer_.len));
}

DocumentBuilder::DocumentBuilder() {
  bson_init(&outer_);
  bson_append_document_begin(&outer_, "", 0, &doc_);
}

DocumentBuilder::~DocumentBuilder() {
  if (!finished_) bson_append_document_end(&outer_, &doc_);
  bson_destroy(&outer_);
}

void DocumentBuilder::Append(std::string_view key, const Value& v) { v.AppendTo(&doc_, key); }

Value DocumentBuilder::Finish() {
  bson_append_document_end(&outer_, &doc_);
  finished_ = true;
  return Value::FromHeld(std::string(reinterpret_cast<const char*>(bson_get_data(&outer_)), outer_.len));
}

}  // namespace docket::expr
