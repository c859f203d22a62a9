#include "bson/append_element.h"

#include <cstdint>
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
  switch (bson_iter_type(it)) {
    case BSON_TYPE_REGEX:       // bson_append_regex sorts and filters the options
    case BSON_TYPE_CODE:        // bson_append_code and _code_with_scope and
    case BSON_TYPE_CODEWSCOPE:  // _dbpointer take C strings: an embedded NUL
    case BSON_TYPE_DBPOINTER:   // cut the value short
      break;
    default:
      return bson_append_iter(out, key, key_len, it);
  }
  // The value's bytes run from the iterator's first data byte to the next
  // element (libbson checked both bounds when it stepped onto the element).
  if (it->d1 > it->next_off || it->next_off > it->len) return false;
  const std::string_view raw(reinterpret_cast<const char*>(it->raw) + it->d1, it->next_off - it->d1);
  const std::string_view name = key_len < 0 ? std::string_view(key) : std::string_view(key, key_len);
  return AppendRawValue(out, name, bson_iter_type(it), raw);
}

}  // namespace docket::bson
