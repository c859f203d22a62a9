#include "bson/key_encoding.h"

#include <cfenv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "bson/value.h"

namespace docket::bson {
namespace {

// 128-bit arithmetic for decimal128 coefficients (GCC/Clang extension).
__extension__ typedef unsigned __int128 Uint128;

enum NumberClass : uint8_t { kNaN = 1, kNegInf = 2, kNegative = 3, kZero = 4, kPositive = 5, kPosInf = 6 };

void AppendU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xFF));
}
void AppendU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

void AppendEscapedString(std::string* out, std::string_view s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back(static_cast<char>(0xFF));
  }
  out->push_back('\0');
  out->push_back('\0');
}

// Magnitude of a finite non-zero long double: exponent and 64-bit significand.
void AppendMagnitude(std::string* out, long double magnitude) {
  int exponent = 0;
  long double fraction = std::frexp(magnitude, &exponent);  // in [0.5, 1)
  uint64_t significand = static_cast<uint64_t>(std::ldexp(fraction, 64));
  AppendU16(out, static_cast<uint16_t>(exponent + 20000));
  AppendU64(out, significand);
}

// A decoded decimal128: sign, coefficient (< 10^34) and exponent, or special.
struct DecodedDecimal {
  bool negative = false;
  bool nan = false;
  bool infinity = false;
  Uint128 coefficient = 0;
  int exponent = 0;
};

DecodedDecimal DecodeDecimal(const bson_decimal128_t& d) {
  DecodedDecimal out;
  out.negative = (d.high >> 63) != 0;
  uint64_t combination = (d.high >> 58) & 0x1F;
  if (combination == 0x1F) { out.nan = true; return out; }
  if (combination == 0x1E) { out.infinity = true; return out; }
  if (((d.high >> 61) & 3) == 3) {
    // Coefficient would exceed 10^34 - 1: non-canonical, its value is zero.
    out.exponent = static_cast<int>((d.high >> 47) & 0x3FFF) - 6176;
    return out;
  }
  out.exponent = static_cast<int>((d.high >> 49) & 0x3FFF) - 6176;
  out.coefficient = (static_cast<Uint128>(d.high & 0x1FFFFFFFFFFFFull) << 64) | d.low;
  constexpr Uint128 kMaxCoefficient =
      static_cast<Uint128>(10000000000000000ull) * 1000000000000000000ull;  // 10^34
  if (out.coefficient >= kMaxCoefficient) out.coefficient = 0;
  return out;
}

// Parses the decimal magnitude in the given rounding mode.
long double ParseMagnitude(const char* digits, int rounding) {
  int saved = std::fegetround();
  std::fesetround(rounding);
  long double v = std::strtold(digits, nullptr);
  std::fesetround(saved);
  return v;
}

void AppendDecimalNumber(std::string* out, const bson_decimal128_t& d) {
  DecodedDecimal dec = DecodeDecimal(d);
  if (dec.nan) { out->push_back(kNaN); return; }
  if (dec.infinity) { out->push_back(dec.negative ? kNegInf : kPosInf); return; }
  if (dec.coefficient == 0) { out->push_back(kZero); return; }

  // The magnitude's decimal string, for strtold.
  bson_decimal128_t magnitude = d;
  magnitude.high &= ~(1ull << 63);
  char text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&magnitude, text);
  long double truncated = ParseMagnitude(text, FE_TOWARDZERO);
  long double rounded_up = ParseMagnitude(text, FE_UPWARD);
  bool exact = truncated == rounded_up && truncated != 0 && std::isfinite(truncated);

  std::string m;
  if (truncated == 0) {
    AppendU16(&m, 0);  // below every long double: exponent code 0 is reserved
    AppendU64(&m, 0);
  } else {
    AppendMagnitude(&m, truncated);
  }
  if (exact) {
    m.push_back(0);
  } else {
    m.push_back(1);
    // Normalise to exactly 34 digits so that exponent-then-coefficient orders.
    Uint128 c = dec.coefficient;
    int exponent = dec.exponent;
    int digits = 0;
    for (Uint128 t = c; t != 0; t /= 10) ++digits;
    for (; digits < 34; ++digits) { c *= 10; --exponent; }
    AppendU16(&m, static_cast<uint16_t>(exponent + 33 + 6176 + 100));
    AppendU64(&m, static_cast<uint64_t>(c >> 64));
    AppendU64(&m, static_cast<uint64_t>(c));
  }
  if (dec.negative) {
    out->push_back(kNegative);
    for (char& ch : m) ch = static_cast<char>(~static_cast<unsigned char>(ch));
  } else {
    out->push_back(kPositive);
  }
  out->append(m);
}

void AppendBinaryNumber(std::string* out, long double v) {
  if (std::isnan(v)) { out->push_back(kNaN); return; }
  if (std::isinf(v)) { out->push_back(v < 0 ? kNegInf : kPosInf); return; }
  if (v == 0) { out->push_back(kZero); return; }
  std::string m;
  AppendMagnitude(&m, std::fabs(v));
  m.push_back(0);  // exact
  if (v < 0) {
    out->push_back(kNegative);
    for (char& ch : m) ch = static_cast<char>(~static_cast<unsigned char>(ch));
  } else {
    out->push_back(kPositive);
  }
  out->append(m);
}

long double BinaryNumberValue(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_INT64: return static_cast<long double>(bson_iter_int64(&it));
    default: return bson_iter_double(&it);
  }
}

void AppendNumber(std::string* out, const bson_iter_t& it) {
  if (bson_iter_type(&it) == BSON_TYPE_DECIMAL128) {
    bson_decimal128_t d;
    bson_iter_decimal128(&it, &d);
    AppendDecimalNumber(out, d);
  } else {
    AppendBinaryNumber(out, BinaryNumberValue(it));
  }
}

void AppendKeyValueBody(std::string* out, const bson_iter_t& it);

void AppendDocumentKey(std::string* out, std::string_view bytes, bool with_names) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
    out->push_back('\0');
    return;
  }
  while (bson_iter_next(&it)) {
    out->push_back(static_cast<char>(CanonicalType(bson_iter_type(&it))));
    if (with_names) AppendEscapedString(out, std::string_view(bson_iter_key(&it), bson_iter_key_len(&it)));
    AppendKeyValueBody(out, it);
  }
  out->push_back('\0');
}

}  // namespace

void AppendKeyNull(std::string* out) { out->push_back(static_cast<char>(CanonicalType(BSON_TYPE_NULL))); }

void AppendKeyValue(std::string* out, const bson_iter_t& it) {
  out->push_back(static_cast<char>(CanonicalType(bson_iter_type(&it))));
  AppendKeyValueBody(out, it);
}

namespace {
void AppendKeyValueBody(std::string* out, const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128:
      AppendNumber(out, it);
      break;
    case BSON_TYPE_UTF8: {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&it, &len);
      AppendEscapedString(out, std::string_view(s, len));
      break;
    }
    case BSON_TYPE_SYMBOL: {
      uint32_t len = 0;
      const char* s = bson_iter_symbol(&it, &len);
      AppendEscapedString(out, std::string_view(s, len));
      break;
    }
    case BSON_TYPE_DOCUMENT:
      AppendDocumentKey(out, SubDocumentBytes(it), /*with_names=*/true);
      break;
    case BSON_TYPE_ARRAY:
      AppendDocumentKey(out, SubDocumentBytes(it), /*with_names=*/false);
      break;
    case BSON_TYPE_BINARY: {
      bson_subtype_t subtype;
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_binary(&it, &subtype, &len, &data);
      out->push_back(static_cast<char>(len >> 24));
      out->push_back(static_cast<char>(len >> 16));
      out->push_back(static_cast<char>(len >> 8));
      out->push_back(static_cast<char>(len));
      out->push_back(static_cast<char>(subtype));
      out->append(reinterpret_cast<const char*>(data), len);
      break;
    }
    case BSON_TYPE_OID:
      out->append(reinterpret_cast<const char*>(bson_iter_oid(&it)->bytes), 12);
      break;
    case BSON_TYPE_BOOL:
      out->push_back(bson_iter_bool(&it) ? 1 : 0);
      break;
    case BSON_TYPE_DATE_TIME:
      AppendU64(out, static_cast<uint64_t>(bson_iter_date_time(&it)) ^ (1ull << 63));
      break;
    case BSON_TYPE_TIMESTAMP: {
      uint32_t t = 0, i = 0;
      bson_iter_timestamp(&it, &t, &i);
      AppendU64(out, (static_cast<uint64_t>(t) << 32) | i);
      break;
    }
    case BSON_TYPE_REGEX: {
      const char* options = nullptr;
      const char* pattern = bson_iter_regex(&it, &options);
      AppendEscapedString(out, pattern);
      AppendEscapedString(out, options ? options : "");
      break;
    }
    case BSON_TYPE_DBPOINTER: {
      uint32_t len = 0;
      const char* ns = nullptr;
      const bson_oid_t* oid = nullptr;
      bson_iter_dbpointer(&it, &len, &ns, &oid);
      AppendEscapedString(out, std::string_view(ns, len));
      out->append(reinterpret_cast<const char*>(oid->bytes), 12);
      break;
    }
    case BSON_TYPE_CODE: {
      uint32_t len = 0;
      const char* code = bson_iter_code(&it, &len);
      AppendEscapedString(out, std::string_view(code, len));
      break;
    }
    case BSON_TYPE_CODEWSCOPE: {
      uint32_t len = 0, scope_len = 0;
      const uint8_t* scope = nullptr;
      const char* code = bson_iter_codewscope(&it, &len, &scope_len, &scope);
      AppendEscapedString(out, std::string_view(code, len));
      AppendDocumentKey(out, std::string_view(reinterpret_cast<const char*>(scope), scope_len), true);
      break;
    }
    default:  // null, undefined, MinKey, MaxKey: the bracket says it all
      break;
  }
}
}  // namespace

int CompareNumbers(const bson_iter_t& a, const bson_iter_t& b) {
  if (bson_iter_type(&a) != BSON_TYPE_DECIMAL128 && bson_iter_type(&b) != BSON_TYPE_DECIMAL128) {
    long double x = BinaryNumberValue(a), y = BinaryNumberValue(b);
    bool x_nan = std::isnan(x), y_nan = std::isnan(y);
    if (x_nan || y_nan) return x_nan == y_nan ? 0 : (x_nan ? -1 : 1);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  std::string ka, kb;
  AppendNumber(&ka, a);
  AppendNumber(&kb, b);
  int c = ka.compare(kb);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace docket::bson
