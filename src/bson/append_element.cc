#include "bson/append_element.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace docket::bson {

bool AppendRawValue(bson_t* out, std::string_view key, bson_type_t type, std::string_view raw) {
  // A one-element document [int32 length][type][key\0][raw][\0], concatenated
  // into `out`: bson_concat copies the element's bytes as they are.
  std::string element;
  const std::size_t total = 4 + 1 + key.size() + 1 + raw.size() + 1;
  if (total > static_cast<std::size_t>(INT32_MAX)) return false;
  element.reserve(total);
  const auto length = static_cast<uint32_t>(total);
  for (int shift = 0; shift < 32; shift += 8) element.push_back(static_cast<char>((length >> shift) & 0xff));
  element.push_back(static_cast<char>(type));
  element.append(key);
  element.push_back('\0');
  element.append(raw);
  element.push_back('\0');
  bson_t one;
  if (!bson_init_static(&one, reinterpret_cast<const uint8_t*>(element.data()), element.size())) return false;
  return bson_concat(out, &one);
}

bool AppendElement(bson_t* out, const char* key, int key_len, const bson_iter_t* it) {
  if (bson_iter_type(it) != BSON_TYPE_REGEX) return bson_append_iter(out, key, key_len, it);
  // The pattern and options point into the iterated document: copy them with
  // their terminators, options untouched.
  const char* options = nullptr;
  const char* pattern = bson_iter_regex(it, &options);
  std::string raw;
  raw.append(pattern, std::strlen(pattern) + 1);
  raw.append(options, std::strlen(options) + 1);
  const std::string_view name = key_len < 0 ? std::string_view(key) : std::string_view(key, key_len);
  return AppendRawValue(out, name, BSON_TYPE_REGEX, raw);
}

}  // namespace docket::bson
