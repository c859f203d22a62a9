#include "bson/validate.h"

#include <bson/bson.h>

#include <cstring>
#include <string>
#include <vector>

namespace docket::bson {
namespace {

int32_t ReadInt32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<int32_t>(BSON_UINT32_FROM_LE(v));
}

Status Invalid(size_t offset, const std::string& why) {
  return Status(ErrorCode::kInvalidBSON, "Invalid BSON at byte " + std::to_string(offset) + ": " + why);
}

// Walks the bytes; fills *max_seen with the deepest level reached. Every
// read is checked against the end of the innermost open document.
Status Walk(const uint8_t* data, size_t size, int max_depth, int* max_seen) {
  if (size < 5) return Invalid(0, "a document is at least 5 bytes");
  const int32_t declared = ReadInt32(data);
  if (declared < 5 || static_cast<size_t>(declared) != size) return Invalid(0, "the declared length is not the size");
  if (data[size - 1] != 0) return Invalid(size - 1, "a document must end with a 0 byte");
  // Each open document: the offset of its terminating 0 byte.
  std::vector<size_t> open;
  open.reserve(16);
  open.push_back(size - 1);
  *max_seen = 1;
  size_t p = 4;
  while (!open.empty()) {
    const size_t end = open.back();  // data[end] is the 0 that closes it
    if (p == end) {
      ++p;
      open.pop_back();
      continue;
    }
    if (p > end) return Invalid(p, "an element runs past the end of its document");
    const uint8_t type = data[p];
    const size_t element = p++;
    if (type == 0) return Invalid(element, "a 0 byte before the end of the document");
    const void* key_end = std::memchr(data + p, 0, end - p);
    if (key_end == nullptr) return Invalid(p, "a field name is not NUL-terminated inside its document");
    p = static_cast<size_t>(static_cast<const uint8_t*>(key_end) - data) + 1;
    const size_t room = end - p;  // bytes left for the value
    auto need = [&](size_t n) { return room >= n; };
    // A length-prefixed, NUL-terminated string starting at `at`, within `limit`.
    auto string_at = [&](size_t at, size_t limit, size_t* after) -> bool {
      if (limit < at + 4) return false;
      const int32_t length = ReadInt32(data + at);
      if (length < 1 || static_cast<size_t>(length) > limit - at - 4) return false;
      if (data[at + 4 + static_cast<size_t>(length) - 1] != 0) return false;
      *after = at + 4 + static_cast<size_t>(length);
      return true;
    };
    switch (type) {
      case 0x01:  // double
      case 0x09:  // date
      case 0x11:  // timestamp
      case 0x12:  // int64
        if (!need(8)) return Invalid(p, "an 8-byte value is cut short");
        p += 8;
        break;
      case 0x10:  // int32
        if (!need(4)) return Invalid(p, "a 4-byte value is cut short");
        p += 4;
        break;
      case 0x13:  // decimal128
        if (!need(16)) return Invalid(p, "a decimal is cut short");
        p += 16;
        break;
      case 0x07:  // ObjectId
        if (!need(12)) return Invalid(p, "an ObjectId is cut short");
        p += 12;
        break;
      case 0x08:  // bool
        if (!need(1) || data[p] > 1) return Invalid(p, "a boolean must be 0 or 1");
        p += 1;
        break;
      case 0x06:  // undefined
      case 0x0A:  // null
      case 0x7F:  // maxKey
      case 0xFF:  // minKey
        break;
      case 0x02:  // string
      case 0x0D:  // JavaScript code
      case 0x0E: {  // symbol
        size_t after = 0;
        if (!string_at(p, end, &after)) return Invalid(p, "a string has a bad length or no terminating NUL");
        p = after;
        break;
      }
      case 0x0C: {  // DBPointer: string + ObjectId
        size_t after = 0;
        if (!string_at(p, end, &after) || end - after < 12) return Invalid(p, "a DBPointer is malformed");
        p = after + 12;
        break;
      }
      case 0x05: {  // binary
        if (!need(5)) return Invalid(p, "binary data is cut short");
        const int32_t length = ReadInt32(data + p);
        if (length < 0 || static_cast<size_t>(length) > room - 5) return Invalid(p, "binary data has a bad length");
        if (data[p + 4] == 0x02) {  // the old binary subtype repeats the length inside
          if (length < 4 || ReadInt32(data + p + 5) != length - 4) {
            return Invalid(p, "old binary data (subtype 2) has an inconsistent inner length");
          }
        }
        p += 5 + static_cast<size_t>(length);
        break;
      }
      case 0x0B: {  // regex: pattern and options, both C strings
        const void* pattern_end = std::memchr(data + p, 0, room);
        if (pattern_end == nullptr) return Invalid(p, "a regular expression's pattern is not NUL-terminated");
        const size_t options = static_cast<size_t>(static_cast<const uint8_t*>(pattern_end) - data) + 1;
        const void* options_end = options < end ? std::memchr(data + options, 0, end - options) : nullptr;
        if (options_end == nullptr) return Invalid(options, "a regular expression's options are not NUL-terminated");
        p = static_cast<size_t>(static_cast<const uint8_t*>(options_end) - data) + 1;
        break;
      }
      case 0x03:    // document
      case 0x04: {  // array
        if (!need(5)) return Invalid(p, "an embedded document is cut short");
        const int32_t length = ReadInt32(data + p);
        if (length < 5 || static_cast<size_t>(length) > room) return Invalid(p, "an embedded document has a bad length");
        const size_t last = p + static_cast<size_t>(length) - 1;
        if (data[last] != 0) return Invalid(last, "an embedded document must end with a 0 byte");
        if (length == 5) {  // empty: no level (as MongoDB counts)
          p = last + 1;
          break;
        }
        if (static_cast<int>(open.size()) + 1 > max_depth) {
          return Status(ErrorCode::kOverflow, "BSONObj exceeds the maximum nested object depth of " +
                                                  std::to_string(max_depth));
        }
        open.push_back(last);
        if (static_cast<int>(open.size()) > *max_seen) *max_seen = static_cast<int>(open.size());
        p += 4;
        break;
      }
      case 0x0F: {  // code with scope: int32 total, string, document
        if (!need(14)) return Invalid(p, "code with scope is cut short");
        const int32_t total = ReadInt32(data + p);
        if (total < 14 || static_cast<size_t>(total) > room) return Invalid(p, "code with scope has a bad length");
        const size_t limit = p + static_cast<size_t>(total);
        size_t scope = 0;
        if (!string_at(p + 4, limit, &scope)) return Invalid(p, "code with scope has a bad code string");
        if (limit - scope < 5 || static_cast<size_t>(ReadInt32(data + scope)) != limit - scope ||
            data[limit - 1] != 0) {
          return Invalid(scope, "code with scope's scope document does not fill the rest of it");
        }
        if (limit - scope == 5) {
          p = limit;
          break;
        }
        if (static_cast<int>(open.size()) + 1 > max_depth) {
          return Status(ErrorCode::kOverflow, "BSONObj exceeds the maximum nested object depth of " +
                                                  std::to_string(max_depth));
        }
        open.push_back(limit - 1);
        if (static_cast<int>(open.size()) > *max_seen) *max_seen = static_cast<int>(open.size());
        p = scope + 4;
        break;
      }
      default:
        return Invalid(element, "unknown BSON type " + std::to_string(static_cast<int>(type)));
    }
  }
  if (p != size) return Invalid(p, "bytes after the end of the document");
  return Status::OK();
}

}  // namespace

Status ValidateBson(const uint8_t* data, size_t size, int max_depth) {
  int seen = 0;
  return Walk(data, size, max_depth, &seen);
}

int NestingDepth(const uint8_t* data, size_t size) {
  int seen = 0;
  (void)Walk(data, size, 1 << 30, &seen);
  return seen;
}

}  // namespace docket::bson
