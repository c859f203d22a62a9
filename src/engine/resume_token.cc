#include "engine/resume_token.h"

#include <bson/bson.h>

#include <cstdio>
#include <string>

#include "bson/builder.h"

namespace docket::engine {
namespace {

constexpr char kVersion[] = "D1";
constexpr size_t kLength = 2 + 16 + 8 + 2;

bool ParseHex(const std::string& text, size_t at, size_t digits, uint64_t* out) {
  uint64_t v = 0;
  for (size_t i = at; i < at + digits; ++i) {
    const char c = text[i];
    int d = 0;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

Document EncodeResumeToken(const ResumePoint& point) {
  char data[kLength + 1];
  std::snprintf(data, sizeof data, "%s%08X%08X%08X%02X", kVersion, point.ts.seconds, point.ts.increment, point.index,
                static_cast<unsigned>(point.kind));
  bson::Builder token;
  BSON_APPEND_UTF8(token.get(), "_data", data);
  return token.Finish();
}

Result<ResumePoint> DecodeResumeToken(const Document& token) {
  const Status bad(ErrorCode::kBadValue, "the resume token is not one this server gave: " + token.ToJson());
  bson_iter_t it;
  if (!token.Find("_data", &it) || !BSON_ITER_HOLDS_UTF8(&it)) return bad;
  const std::string data = bson_iter_utf8(&it, nullptr);
  if (data.size() != kLength || data.compare(0, 2, kVersion) != 0) return bad;
  uint64_t seconds = 0, increment = 0, index = 0, kind = 0;
  if (!ParseHex(data, 2, 8, &seconds) || !ParseHex(data, 10, 8, &increment) || !ParseHex(data, 18, 8, &index) ||
      !ParseHex(data, 26, 2, &kind)) {
    return bad;
  }
  ResumePoint point;
  point.ts = LogicalTime{static_cast<uint32_t>(seconds), static_cast<uint32_t>(increment)};
  point.index = static_cast<uint32_t>(index);
  if (kind != 0x01 && kind != 0x02 && kind != 0xFF) return bad;
  point.kind = static_cast<ResumePoint::Kind>(kind);
  return point;
}

}  // namespace docket::engine
