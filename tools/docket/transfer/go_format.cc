#include "tools/docket/transfer/go_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace docket::transfer {
namespace {

std::string Base64(const uint8_t* data, uint32_t length) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (uint32_t i = 0; i < length; i += 3) {
    const uint32_t n = (static_cast<uint32_t>(data[i]) << 16) | (i + 1 < length ? data[i + 1] << 8 : 0) |
                       (i + 2 < length ? data[i + 2] : 0);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < length ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < length ? kAlphabet[n & 63] : '=');
  }
  return out;
}

// A document's or an array's legacy JSON: members in order, no spaces.
std::string LegacyContainer(const bson_iter_t* it, bool array) {
  bson_iter_t child;
  std::string out = array ? "[" : "{";
  bool first = true;
  if (bson_iter_recurse(it, &child)) {
    while (bson_iter_next(&child)) {
      if (!first) out += ",";
      first = false;
      if (!array) out += GoJsonString(bson_iter_key(&child), bson_iter_key_len(&child)) + ":";
      out += LegacyJson(&child);
    }
  }
  return out + (array ? "]" : "}");
}

}  // namespace

std::string HexBytes(const uint8_t* data, uint32_t length, bool upper) {
  static const char kLower[] = "0123456789abcdef";
  static const char kUpper[] = "0123456789ABCDEF";
  const char* digits = upper ? kUpper : kLower;
  std::string out;
  for (uint32_t i = 0; i < length; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xF]);
  }
  return out;
}

std::string IsoDate(int64_t millis) {
  int64_t seconds = millis / 1000, ms = millis % 1000;
  if (ms < 0) ms += 1000, --seconds;
  int64_t days = seconds / 86400, rest = seconds % 86400;
  if (rest < 0) rest += 86400, --days;
  // Civil date from days since 1970-01-01 (proleptic Gregorian).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2);
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day), static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60), static_cast<long long>(ms));
  return text;
}

std::string GoJsonString(const char* s, size_t length) {
  std::string out = "\"";
  for (size_t i = 0; i < length;) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b == '\\' || b == '"')
        out += '\\', out += static_cast<char>(b);
      else if (b == '\n')
        out += "\\n";
      else if (b == '\r')
        out += "\\r";
      else if (b < 0x20 || b == '<' || b == '>' || b == '&')
        out += "\\u00" + HexBytes(&b, 1, false);
      else
        out += static_cast<char>(b);
      ++i;
      continue;
    }
    size_t size = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (size == 0 || i + size > length || !bson_utf8_validate(s + i, size, false)) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (size == 3 && b == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s + i, size);
    }
    i += size;
  }
  return out + "\"";
}

std::string GoFormatFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest digits that read back the same, laid out as Go's shortest
  // %g: the exponent form when the decimal exponent is below -4 or at least 6.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string text(buffer, result.ptr);
  std::string sign;
  if (text[0] == '-') sign = "-", text.erase(0, 1);
  const size_t e = text.find('e');
  std::string digits = text.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // the '.'
  const int exponent = std::stoi(text.substr(e + 1));
  if (exponent < -4 || exponent >= 6) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_text[16];
    std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_text;
  }
  if (exponent < 0) return sign + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  const size_t whole = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= whole) return sign + digits + std::string(whole - digits.size(), '0');
  return sign + digits.substr(0, whole) + "." + digits.substr(whole);
}

std::string LegacyJson(const bson_iter_t* it) {
  uint32_t length = 0;
  switch (bson_iter_type(it)) {
    case BSON_TYPE_DOUBLE: {
      const double v = bson_iter_double(it);
      if (std::isinf(v)) return v > 0 ? "+Infinity" : "-Infinity";
      std::string text = GoFormatFloat(v);
      if (std::isfinite(v) && std::floor(v) == v && text.find('e') == std::string::npos) text += ".0";
      return text;
    }
    case BSON_TYPE_UTF8: {
      const char* s = bson_iter_utf8(it, &length);
      return GoJsonString(s, length);
    }
    case BSON_TYPE_SYMBOL: {
      const char* s = bson_iter_symbol(it, &length);
      return GoJsonString(s, length);
    }
    case BSON_TYPE_DOCUMENT:
      return LegacyContainer(it, false);
    case BSON_TYPE_ARRAY:
      return LegacyContainer(it, true);
    case BSON_TYPE_BINARY: {
      bson_subtype_t subtype;
      const uint8_t* data = nullptr;
      bson_iter_binary(it, &subtype, &length, &data);
      const auto type = static_cast<uint8_t>(subtype);
      return "{\"$binary\":\"" + Base64(data, length) + "\",\"$type\":\"" + HexBytes(&type, 1, false) + "\"}";
    }
    case BSON_TYPE_UNDEFINED:
      return "{\"$undefined\":true}";
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(it), hex);
      return std::string("{\"$oid\":\"") + hex + "\"}";
    }
    case BSON_TYPE_BOOL:
      return bson_iter_bool(it) ? "true" : "false";
    case BSON_TYPE_DATE_TIME: {
      const int64_t ms = bson_iter_date_time(it);
      if (ms < kLastIsoDateMillis) return "{\"$date\":\"" + IsoDate(ms) + "\"}";
      return "{\"$date\":{\"$numberLong\":\"" + std::to_string(ms) + "\"}}";
    }
    case BSON_TYPE_NULL:
      return "null";
    case BSON_TYPE_REGEX: {
      const char* options = nullptr;
      const char* pattern = bson_iter_regex(it, &options);
      return "{\"$regex\":" + GoJsonString(pattern, std::strlen(pattern)) + ",\"$options\":\"" + options + "\"}";
    }
    case BSON_TYPE_DBPOINTER: {
      const char* collection = nullptr;
      const bson_oid_t* oid = nullptr;
      bson_iter_dbpointer(it, &length, &collection, &oid);
      char hex[25];
      bson_oid_to_string(oid, hex);
      return "{\"$ref\":" + GoJsonString(collection, length) + ",\"$id\":{\"$oid\":\"" + hex + "\"}}";
    }
    case BSON_TYPE_CODE: {
      const char* code = bson_iter_code(it, &length);
      return "{\"$code\":" + GoJsonString(code, length) + "}";
    }
    case BSON_TYPE_CODEWSCOPE: {
      uint32_t scope_length = 0;
      const uint8_t* scope_data = nullptr;
      const char* code = bson_iter_codewscope(it, &length, &scope_length, &scope_data);
      std::string out = "{\"$code\":" + GoJsonString(code, length) + ",\"$scope\":";
      bson_t scope;
      bson_iter_t scope_it;
      if (bson_init_static(&scope, scope_data, scope_length) && bson_iter_init(&scope_it, &scope)) {
        out += "{";
        bool first = true;
        while (bson_iter_next(&scope_it)) {
          if (!first) out += ",";
          first = false;
          out += GoJsonString(bson_iter_key(&scope_it), bson_iter_key_len(&scope_it)) + ":" + LegacyJson(&scope_it);
        }
        out += "}";
      } else {
        out += "{}";
      }
      return out + "}";
    }
    case BSON_TYPE_INT32:
      return std::to_string(bson_iter_int32(it));
    case BSON_TYPE_TIMESTAMP: {
      uint32_t t = 0, i = 0;
      bson_iter_timestamp(it, &t, &i);
      return "{\"$timestamp\":{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}}";
    }
    case BSON_TYPE_INT64:
      return "{\"$numberLong\":\"" + std::to_string(bson_iter_int64(it)) + "\"}";
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t dec;
      bson_iter_decimal128(it, &dec);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, text);
      return std::string("{\"$numberDecimal\":\"") + text + "\"}";
    }
    case BSON_TYPE_MAXKEY:
      return "{\"$maxKey\":1}";
    case BSON_TYPE_MINKEY:
      return "{\"$minKey\":1}";
    default:
      return "null";
  }
}

}  // namespace docket::transfer
