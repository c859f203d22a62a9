#include "docket/odm/types.h"

#include <bson/bson.h>

#include <cstring>
#include <decimal/decimal>

namespace docket {

ObjectId::ObjectId() { std::memset(bytes_, 0, sizeof(bytes_)); }

ObjectId ObjectId::Generate() {
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  return FromBytes(oid.bytes);
}

Result<ObjectId> ObjectId::FromHex(std::string_view hex) {
  std::string text(hex);
  if (text.size() != 24 || !bson_oid_is_valid(text.c_str(), text.size())) {
    return Status(ErrorCode::kBadValue, "an ObjectId is 24 hexadecimal digits, not '" + text + "'");
  }
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, text.c_str());
  return FromBytes(oid.bytes);
}

ObjectId ObjectId::FromBytes(const uint8_t bytes[12]) {
  ObjectId out;
  std::memcpy(out.bytes_, bytes, sizeof(out.bytes_));
  return out;
}

std::string ObjectId::ToHex() const {
  bson_oid_t oid;
  std::memcpy(oid.bytes, bytes_, 12);
  char text[25];
  bson_oid_to_string(&oid, text);
  return text;
}

bool ObjectId::is_zero() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

int64_t ObjectId::timestamp() const {
  return (static_cast<int64_t>(bytes_[0]) << 24) | (bytes_[1] << 16) | (bytes_[2] << 8) | bytes_[3];
}

bool operator==(const ObjectId& a, const ObjectId& b) { return std::memcmp(a.bytes_, b.bytes_, 12) == 0; }
std::strong_ordering operator<=>(const ObjectId& a, const ObjectId& b) {
  int c = std::memcmp(a.bytes_, b.bytes_, 12);
  return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal;
}

namespace {

// GCC's decimal128 and BSON's Decimal128 share the BID encoding on x86-64.
std::decimal::decimal128 ToGcc(const Decimal128& d) {
  bson_decimal128_t b{d.low(), d.high()};
  std::decimal::decimal128 out;
  std::memcpy(static_cast<void*>(&out), &b, sizeof(out));
  return out;
}

Decimal128 FromGcc(const std::decimal::decimal128& d) {
  bson_decimal128_t b;
  std::memcpy(&b, static_cast<const void*>(&d), sizeof(b));
  return Decimal128::FromBits(b.high, b.low);
}

}  // namespace

Decimal128::Decimal128() : high_(0x3040000000000000ULL), low_(0) {}  // 0E+0

Decimal128 Decimal128::FromInt64(int64_t v) { return FromGcc(std::decimal::decimal128(static_cast<long long>(v))); }

Result<Decimal128> Decimal128::FromString(std::string_view text) {
  std::string s(text);
  bson_decimal128_t d;
  if (s.empty() || !bson_decimal128_from_string(s.c_str(), &d)) {
    return Status(ErrorCode::kBadValue, "'" + s + "' is not a decimal number");
  }
  return FromBits(d.high, d.low);
}

Decimal128 Decimal128::FromBits(uint64_t high, uint64_t low) {
  Decimal128 out;
  out.high_ = high;
  out.low_ = low;
  return out;
}

std::string Decimal128::ToString() const {
  bson_decimal128_t d{low_, high_};
  char text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&d, text);
  return text;
}

Decimal128 operator+(const Decimal128& a, const Decimal128& b) { return FromGcc(ToGcc(a) + ToGcc(b)); }
Decimal128 operator-(const Decimal128& a, const Decimal128& b) { return FromGcc(ToGcc(a) - ToGcc(b)); }
bool operator==(const Decimal128& a, const Decimal128& b) { return ToGcc(a) == ToGcc(b); }
std::partial_ordering operator<=>(const Decimal128& a, const Decimal128& b) {
  auto x = ToGcc(a), y = ToGcc(b);
  if (x < y) return std::partial_ordering::less;
  if (x > y) return std::partial_ordering::greater;
  if (x == y) return std::partial_ordering::equivalent;
  return std::partial_ordering::unordered;
}

inline namespace literals {
Decimal128 operator""_dec(const char* text, size_t len) {
  auto d = Decimal128::FromString(std::string_view(text, len));
  ThrowIfError(d.status());
  return *d;
}
}  // namespace literals

}  // namespace docket
