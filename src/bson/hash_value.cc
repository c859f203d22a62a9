#include "bson/hash_value.h"

#include <openssl/evp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "bson/key_encoding.h"
#include "bson/value.h"

namespace docket::bson {
namespace {

// MongoDB's canonical type numbers, as the hash feeds them.
int32_t HashCanonicalType(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_MINKEY: return -1;
    case BSON_TYPE_EOD:
    case BSON_TYPE_UNDEFINED: return 0;
    default: return CanonicalType(t);
  }
}

void AppendLe32(std::string* out, int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

void AppendLe64(std::string* out, int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

// BSONElement::safeNumberLongForHash.
int64_t NumberForHash(const bson_iter_t& it) {
  constexpr double kTwo63 = 9223372036854775808.0;
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_INT64: return bson_iter_int64(&it);
    case BSON_TYPE_DOUBLE: {
      const double d = bson_iter_double(&it);
      if (std::isnan(d)) return 0;
      if (d == kTwo63) return std::numeric_limits<int64_t>::min();  // kept from older versions
      if (d >= kTwo63) return std::numeric_limits<int64_t>::max();
      if (d < -kTwo63) return std::numeric_limits<int64_t>::min();
      return static_cast<int64_t>(d);
    }
    default: {  // decimal128: rounded half to even, as Decimal128::toLong
      const double d = NumberAsDouble(it);
      if (std::isnan(d)) return std::numeric_limits<int64_t>::min();
      if (d >= kTwo63) return std::numeric_limits<int64_t>::max();
      if (d < -kTwo63) return std::numeric_limits<int64_t>::min();
      return static_cast<int64_t>(std::nearbyint(d));
    }
  }
}

void AppendHashed(std::string* out, const bson_iter_t& it, bool with_name);

void AppendElements(std::string* out, const uint8_t* data, uint32_t len) {
  bson_iter_t child;
  if (bson_iter_init_from_data(&child, data, len)) {
    while (bson_iter_next(&child)) AppendHashed(out, child, true);
  }
  // The terminating EOO element: its type (0) alone; it has no name and no value.
  AppendLe32(out, 0);
}

void AppendHashed(std::string* out, const bson_iter_t& it, bool with_name) {
  const bson_type_t t = bson_iter_type(&it);
  AppendLe32(out, HashCanonicalType(t));
  if (with_name) out->append(bson_iter_key(&it), bson_iter_key_len(&it) + 1);  // with its NUL
  if (t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY) {
    const std::string_view bytes = SubDocumentBytes(it);
    AppendElements(out, reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<uint32_t>(bytes.size()));
  } else if (t == BSON_TYPE_CODEWSCOPE) {
    uint32_t code_len = 0, scope_len = 0;
    const uint8_t* scope = nullptr;
    const char* code = bson_iter_codewscope(&it, &code_len, &scope_len, &scope);
    out->append(code, code_len + 1);
    AppendElements(out, scope, scope_len);
  } else if (IsNumber(t)) {
    AppendLe64(out, NumberForHash(it));
  } else {
    out->append(RawValueBytes(it));
  }
}

}  // namespace

std::string HashKey(int64_t hash) {
  bson_t holder = BSON_INITIALIZER;
  BSON_APPEND_INT64(&holder, "", hash);
  bson_iter_t it;
  bson_iter_init(&it, &holder);
  bson_iter_next(&it);
  std::string key;
  AppendKeyValue(&key, it);
  bson_destroy(&holder);
  return key;
}

int64_t HashValue(const bson_iter_t& value, int32_t seed) {
  std::string input;
  AppendLe32(&input, seed);
  AppendHashed(&input, value, false);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_md5(), nullptr);
  uint64_t out = 0;
  for (int i = 7; i >= 0; --i) out = (out << 8) | digest[i];
  return static_cast<int64_t>(out);
}

}  // namespace docket::bson
