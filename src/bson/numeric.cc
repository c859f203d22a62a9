#include "bson/numeric.h"

#include <cstdio>
#include <cstring>
#include <decimal/decimal>

#include "bson/value.h"

namespace docket::bson {
namespace {

template <typename T>
MutableValue MakeScalar(bson_type_t type, T v) {
  MutableValue out;
  out.type = type;
  out.raw.assign(reinterpret_cast<const char*>(&v), sizeof(T));  // BSON is little-endian, as is x86-64
  return out;
}

// GCC's decimal128 uses the same BID encoding as BSON's Decimal128 on x86-64,
// so the 16 bytes convert by copy.
std::decimal::decimal128 ToGccDecimal(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t d;
      bson_iter_decimal128(&it, &d);
      std::decimal::decimal128 out;
      std::memcpy(static_cast<void*>(&out), &d, sizeof(out));  // both are BID-encoded IEEE decimal128
      return out;
    }
    case BSON_TYPE_INT32: return std::decimal::decimal128(bson_iter_int32(&it));
    case BSON_TYPE_INT64: return std::decimal::decimal128(static_cast<long long>(bson_iter_int64(&it)));
    default: {
      // As MongoDB: a double becomes the decimal of its 15 significant digits.
      char text[64];
      std::snprintf(text, sizeof(text), "%.15g", bson_iter_double(&it));
      bson_decimal128_t d;
      bson_decimal128_from_string(text, &d);
      std::decimal::decimal128 out;
      std::memcpy(static_cast<void*>(&out), &d, sizeof(out));  // both are BID-encoded IEEE decimal128
      return out;
    }
  }
}

double ToDouble(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_INT64: return static_cast<double>(bson_iter_int64(&it));
    default: return bson_iter_double(&it);
  }
}

int64_t ToInt64(const bson_iter_t& it) {
  return bson_iter_type(&it) == BSON_TYPE_INT32 ? bson_iter_int32(&it) : bson_iter_int64(&it);
}

}  // namespace

MutableValue MakeInt32(int32_t v) { return MakeScalar(BSON_TYPE_INT32, v); }
MutableValue MakeInt64(int64_t v) { return MakeScalar(BSON_TYPE_INT64, v); }
MutableValue MakeDouble(double v) { return MakeScalar(BSON_TYPE_DOUBLE, v); }
MutableValue MakeDecimal(const bson_decimal128_t& v) {
  MutableValue out;
  out.type = BSON_TYPE_DECIMAL128;
  uint64_t parts[2] = {BSON_UINT64_TO_LE(v.low), BSON_UINT64_TO_LE(v.high)};
  out.raw.assign(reinterpret_cast<const char*>(parts), 16);
  return out;
}

std::optional<MutableValue> AddNumbers(const bson_iter_t& a, const bson_iter_t& b) {
  bson_type_t ta = bson_iter_type(&a), tb = bson_iter_type(&b);
  if (ta == BSON_TYPE_DECIMAL128 || tb == BSON_TYPE_DECIMAL128) {
    std::decimal::decimal128 sum = ToGccDecimal(a) + ToGccDecimal(b);
    bson_decimal128_t out;
    std::memcpy(&out, &sum, sizeof(out));
    return MakeDecimal(out);
  }
  if (ta == BSON_TYPE_DOUBLE || tb == BSON_TYPE_DOUBLE) return MakeDouble(ToDouble(a) + ToDouble(b));
  if (ta == BSON_TYPE_INT32 && tb == BSON_TYPE_INT32) {
    int64_t sum = static_cast<int64_t>(bson_iter_int32(&a)) + bson_iter_int32(&b);
    if (sum >= INT32_MIN && sum <= INT32_MAX) return MakeInt32(static_cast<int32_t>(sum));
    return MakeInt64(sum);
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(ToInt64(a), ToInt64(b), &sum)) return std::nullopt;
  return MakeInt64(sum);
}

std::optional<MutableValue> MultiplyNumbers(const bson_iter_t& a, const bson_iter_t& b) {
  bson_type_t ta = bson_iter_type(&a), tb = bson_iter_type(&b);
  if (ta == BSON_TYPE_DECIMAL128 || tb == BSON_TYPE_DECIMAL128) {
    std::decimal::decimal128 product = ToGccDecimal(a) * ToGccDecimal(b);
    bson_decimal128_t out;
    std::memcpy(&out, &product, sizeof(out));
    return MakeDecimal(out);
  }
  if (ta == BSON_TYPE_DOUBLE || tb == BSON_TYPE_DOUBLE) return MakeDouble(ToDouble(a) * ToDouble(b));
  if (ta == BSON_TYPE_INT32 && tb == BSON_TYPE_INT32) {
    int64_t product = static_cast<int64_t>(bson_iter_int32(&a)) * bson_iter_int32(&b);
    if (product >= INT32_MIN && product <= INT32_MAX) return MakeInt32(static_cast<int32_t>(product));
    return MakeInt64(product);
  }
  int64_t product = 0;
  if (__builtin_mul_overflow(ToInt64(a), ToInt64(b), &product)) return std::nullopt;
  return MakeInt64(product);
}

MutableValue TimesZero(const bson_iter_t& like) {
  static const uint8_t kZeroInt32[] = {11, 0, 0, 0, BSON_TYPE_INT32, 0, 0, 0, 0, 0, 0};  // {"": int32 0}
  bson_iter_t zero;
  bson_iter_init_from_data(&zero, kZeroInt32, sizeof kZeroInt32);
  bson_iter_next(&zero);
  return *MultiplyNumbers(like, zero);  // a product with 0 cannot overflow
}

}  // namespace docket::bson
