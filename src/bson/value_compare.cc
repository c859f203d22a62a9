#include <cmath>
#include <cstdlib>
#include <cstring>

#include "bson/key_encoding.h"
#include "bson/value.h"
#include "bson/append_element.h"

namespace docket::bson {

int CanonicalType(bson_type_t type) {
  switch (type) {
    case BSON_TYPE_MINKEY: return 1;
    case BSON_TYPE_UNDEFINED: return 2;
    case BSON_TYPE_NULL: return 5;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128: return 10;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return 15;
    case BSON_TYPE_DOCUMENT: return 20;
    case BSON_TYPE_ARRAY: return 25;
    case BSON_TYPE_BINARY: return 30;
    case BSON_TYPE_OID: return 35;
    case BSON_TYPE_BOOL: return 40;
    case BSON_TYPE_DATE_TIME: return 45;
    case BSON_TYPE_TIMESTAMP: return 47;
    case BSON_TYPE_REGEX: return 50;
    case BSON_TYPE_DBPOINTER: return 55;
    case BSON_TYPE_CODE: return 60;
    case BSON_TYPE_CODEWSCOPE: return 65;
    case BSON_TYPE_MAXKEY: return 127;
    default: return 0;
  }
}

std::string_view RawValueBytes(const bson_iter_t& it) {
  // libbson's public iterator fields: d1 is the offset of the value's first
  // byte and next_off the offset of the following element.
  return std::string_view(reinterpret_cast<const char*>(it.raw) + it.d1, it.next_off - it.d1);
}

std::string_view SubDocumentBytes(const bson_iter_t& it) {
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  if (bson_iter_type(&it) == BSON_TYPE_ARRAY) {
    bson_iter_array(&it, &len, &data);
  } else {
    bson_iter_document(&it, &len, &data);
  }
  return std::string_view(reinterpret_cast<const char*>(data), len);
}

namespace {
int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

int CompareBytes(std::string_view a, std::string_view b) { return Sign(a.compare(b)); }

std::string_view Utf8OrSymbol(const bson_iter_t& it) {
  uint32_t len = 0;
  const char* s = bson_iter_type(&it) == BSON_TYPE_SYMBOL ? bson_iter_symbol(&it, &len)
                                                          : bson_iter_utf8(&it, &len);
  return std::string_view(s, len);
}
}  // namespace

int CompareDocumentBytes(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                         bool compare_names, const StringOrder* strings) {
  bson_iter_t x, y;
  bool x_ok = bson_iter_init_from_data(&x, a, a_len);
  bool y_ok = bson_iter_init_from_data(&y, b, b_len);
  if (!x_ok || !y_ok) return Sign(static_cast<int>(x_ok) - static_cast<int>(y_ok));
  while (true) {
    bool has_x = bson_iter_next(&x);
    bool has_y = bson_iter_next(&y);
    if (!has_x || !has_y) return Sign(static_cast<int>(has_x) - static_cast<int>(has_y));
    int c = CanonicalType(bson_iter_type(&x)) - CanonicalType(bson_iter_type(&y));
    if (c != 0) return Sign(c);
    if (compare_names) {
      c = CompareBytes(std::string_view(bson_iter_key(&x), bson_iter_key_len(&x)),
                       std::string_view(bson_iter_key(&y), bson_iter_key_len(&y)));
      if (c != 0) return c;
    }
    c = CompareValues(x, y, strings);
    if (c != 0) return c;
  }
}

bool IsNaN(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DOUBLE: return std::isnan(bson_iter_double(&it));
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t d;
      bson_iter_decimal128(&it, &d);
      return (d.high & 0x7C00000000000000ull) == 0x7C00000000000000ull;
    }
    default: return false;
  }
}

int CompareValues(const bson_iter_t& a, const bson_iter_t& b, const StringOrder* strings) {
  bson_type_t ta = bson_iter_type(&a), tb = bson_iter_type(&b);
  int ca = CanonicalType(ta), cb = CanonicalType(tb);
  if (ca != cb) return ca < cb ? -1 : 1;
  switch (ta) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128:
      return CompareNumbers(a, b);
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL:
      return strings ? Sign(strings->CompareStrings(Utf8OrSymbol(a), Utf8OrSymbol(b)))
                     : CompareBytes(Utf8OrSymbol(a), Utf8OrSymbol(b));
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
      std::string_view x = SubDocumentBytes(a), y = SubDocumentBytes(b);
      return CompareDocumentBytes(reinterpret_cast<const uint8_t*>(x.data()), x.size(),
                                  reinterpret_cast<const uint8_t*>(y.data()), y.size(),
                                  ta == BSON_TYPE_DOCUMENT, strings);
    }
    case BSON_TYPE_BINARY: {
      bson_subtype_t sa, sb;
      uint32_t la = 0, lb = 0;
      const uint8_t *da = nullptr, *db = nullptr;
      bson_iter_binary(&a, &sa, &la, &da);
      bson_iter_binary(&b, &sb, &lb, &db);
      if (la != lb) return la < lb ? -1 : 1;
      if (sa != sb) return sa < sb ? -1 : 1;
      return la == 0 ? 0 : Sign(std::memcmp(da, db, la));
    }
    case BSON_TYPE_OID:
      return Sign(bson_oid_compare(bson_iter_oid(&a), bson_iter_oid(&b)));
    case BSON_TYPE_BOOL:
      return static_cast<int>(bson_iter_bool(&a)) - static_cast<int>(bson_iter_bool(&b));
    case BSON_TYPE_DATE_TIME: {
      int64_t x = bson_iter_date_time(&a), y = bson_iter_date_time(&b);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case BSON_TYPE_TIMESTAMP: {
      uint32_t ta1, ia, tb1, ib;
      bson_iter_timestamp(&a, &ta1, &ia);
      bson_iter_timestamp(&b, &tb1, &ib);
      uint64_t x = (static_cast<uint64_t>(ta1) << 32) | ia, y = (static_cast<uint64_t>(tb1) << 32) | ib;
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    default: {
      // regex, dbPointer, code, codeWScope: compare their order-preserving keys.
      std::string ka, kb;
      AppendKeyValue(&ka, a);
      AppendKeyValue(&kb, b);
      return CompareBytes(ka, kb);
    }
  }
}

std::string ValueToJson(const bson_iter_t& it) {
  bson_t wrapper = BSON_INITIALIZER;
  docket::bson::AppendElement(&wrapper, "v", 1, &it);
  size_t len = 0;
  char* json = bson_as_relaxed_extended_json(&wrapper, &len);
  bson_destroy(&wrapper);
  std::string s = json ? std::string(json, len) : std::string("?");
  bson_free(json);
  // Strip the '{ "v" : ' prefix and ' }' suffix.
  const std::string prefix = "{ \"v\" : ";
  if (s.size() > prefix.size() + 2 && s.compare(0, prefix.size(), prefix) == 0) {
    s = s.substr(prefix.size(), s.size() - prefix.size() - 2);
  }
  return s;
}

std::string HoldValue(const bson_iter_t& it) {
  bson_t holder = BSON_INITIALIZER;
  docket::bson::AppendElement(&holder, "", 0, &it);
  std::string out(reinterpret_cast<const char*>(bson_get_data(&holder)), holder.len);
  bson_destroy(&holder);
  return out;
}

void IterHeldValue(const std::string& held, bson_iter_t* it) {
  bson_iter_init_from_data(it, reinterpret_cast<const uint8_t*>(held.data()), held.size());
  bson_iter_next(it);
}

double NumberAsDouble(const bson_iter_t& it) {
  if (bson_iter_type(&it) != BSON_TYPE_DECIMAL128) return bson_iter_as_double(&it);
  bson_decimal128_t dec;
  bson_iter_decimal128(&it, &dec);
  char text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&dec, text);
  return std::strtod(text, nullptr);
}

bool IsOperatorDocument(const bson_iter_t& it) {
  if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) return false;
  bson_iter_t child;
  if (!bson_iter_recurse(&it, &child) || !bson_iter_next(&child)) return false;
  return bson_iter_key(&child)[0] == '$';
}

std::string FieldToJson(std::string_view name, const bson_iter_t& it) {
  return "{ " + std::string(name) + ": " + ValueToJson(it) + " }";
}

}  // namespace docket::bson
