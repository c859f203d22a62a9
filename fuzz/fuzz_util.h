// Shared helpers of the fuzz targets (fuzz/*_fuzz.cc). Not part of Docket.
//
// Input layout used by the targets that take several documents (filter,
// update, projection, aggregate, key encoding): the fuzzer's bytes are read as
// consecutive BSON documents, each starting with its little-endian int32
// length. A document whose bytes do not validate is skipped (its length still
// tells where the next one starts), so that a mutation that breaks one
// document leaves the others usable; reading stops at a length that does not
// fit the rest of the input.
#pragma once

#include <bson/bson.h>

#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bson/validate.h"
#include "docket/document.h"

namespace docket_fuzz {

// Reports a broken invariant and aborts, so that the fuzzer saves the input.
[[noreturn]] inline void Fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::fputs("FUZZ INVARIANT BROKEN: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
  va_end(args);
  std::abort();
}

inline int32_t ReadLe32(const uint8_t* p) {
  return static_cast<int32_t>(static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                              static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24);
}

// Up to `max` valid documents read from the input (see the layout above).
inline std::vector<docket::Document> SplitDocuments(const uint8_t* data, size_t size, size_t max) {
  std::vector<docket::Document> out;
  size_t pos = 0;
  while (out.size() < max && size - pos >= 5) {
    const int32_t length = ReadLe32(data + pos);
    if (length < 5 || static_cast<size_t>(length) > size - pos) break;
    auto doc = docket::Document::FromBytes(data + pos, static_cast<size_t>(length));
    if (doc.ok()) out.push_back(std::move(doc).value());
    pos += static_cast<size_t>(length);
  }
  return out;
}

// Every document Docket hands back must be well-formed BSON at any depth (the
// depth limits are about what is accepted from clients, not about validity).
inline void CheckValidOutput(const docket::Document& doc, const char* where) {
  docket::Status status = docket::bson::ValidateBson(doc.data(), doc.size(), INT_MAX);
  if (!status.ok()) Fail("%s produced invalid BSON: %s", where, status.ToString().c_str());
}

// A few documents of varied shapes that filters, updates and projections are
// run against besides those in the input: arrays of documents, nested
// arrays, every numeric type, null and missing fields, strings, dates,
// ObjectIds, regexes and binary data.
// A time budget per input: a legitimate but heavy input (an $expr building a
// million-element $range) is checked on the documents that fit in a second,
// not on every fixture through every entry point (which took several seconds
// under ASan and read as a hang). A real hang still is one: a single
// evaluation that never returns trips libFuzzer's -timeout.
class InputBudget {
 public:
  bool Exhausted() const { return std::chrono::steady_clock::now() - start_ > std::chrono::seconds(1); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

inline const std::vector<docket::Document>& Fixtures() {
  static const std::vector<docket::Document>* fixtures = [] {
    const char* json[] = {
        R"({"_id": 1, "a": 5, "b": {"c": [1, 2, {"d": 3}]}, "s": "hello", "t": ["x", "y"]})",
        R"({"_id": 2, "a": [1, 7, [2, 9]], "b": [{"c": 1}, {"c": [4, 5]}, {"e": null}], "s": "Hello World"})",
        R"({"_id": {"$numberLong": "3"}, "a": null, "b": {"c": {"d": {"e": "deep"}}}, "n": {"$numberDecimal": "1.5"}})",
        R"({"_id": "four", "a": {"$numberDouble": "NaN"}, "d": {"$date": "2024-02-29T12:00:00Z"}, "arr": []})",
        R"({"_id": {"$oid": "5f1d7a0e2b5e4c3a9d8b7c6a"}, "a": 5.5, "b": {}, "r": {"$regularExpression": {"pattern": "^h", "options": "i"}}, "bin": {"$binary": {"base64": "AQID", "subType": "00"}}})",
        R"({"_id": 6, "a": {"b": [{"c": 1, "d": [1, 2]}, {"c": 2, "d": []}]}, "x": true, "y": {"$minKey": 1}, "z": {"$maxKey": 1}, "ts": {"$timestamp": {"t": 1, "i": 2}}})",
        R"({"a": -0.0, "big": {"$numberLong": "9223372036854775807"}, "inf": {"$numberDouble": "Infinity"}, "dec": {"$numberDecimal": "-1E+400"}})",
    };
    auto* out = new std::vector<docket::Document>;
    for (const char* j : json) {
      auto doc = docket::Document::FromJson(j);
      if (!doc.ok()) Fail("fixture does not parse: %s", j);
      out->push_back(std::move(doc).value());
    }
    return out;
  }();
  return *fixtures;
}

}  // namespace docket_fuzz
