// Values printed as mongoexport (a Go program) prints them: Go's float and
// JSON string formatting, and the legacy Extended JSON of mongo-tools' own
// JSON package, which mongoexport uses for documents and arrays in CSV cells.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>

namespace docket::transfer {

// Dates from here on (3000-12-31T23:59:59Z) are not written as ISO text.
inline constexpr int64_t kLastIsoDateMillis = 32535215999000;

// "2006-01-02T15:04:05.000Z" for milliseconds since the epoch (UTC).
std::string IsoDate(int64_t millis);

// A double as Go's %v prints it: the shortest digits that read back the
// same, in exponent form below 1e-4 and from 1e+06 (0.5, 123456, 1e+06,
// 1.5e-07, NaN, +Inf).
std::string GoFormatFloat(double value);

// A JSON string as Go's encoding/json writes one: <, > and & escaped,
// control characters as \u00XX except \n and \r, bad UTF-8 as \ufffd,
// U+2028 and U+2029 escaped.
std::string GoJsonString(const char* s, size_t length);

// Hexadecimal digits of `data`.
std::string HexBytes(const uint8_t* data, uint32_t length, bool upper);

// mongo-tools' legacy JSON for the value at `it`, compact:
// {"a":{"$numberLong":"5"},"d":{"$date":"2020-01-02T03:04:05.000Z"},"x":1.0}.
std::string LegacyJson(const bson_iter_t* it);

}  // namespace docket::transfer
