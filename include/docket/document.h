// Document: an owned, validated BSON document. The byte layout is exactly
// MongoDB's BSON; libbson (bson.h) is the library for reading and building it.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "docket/status.h"

namespace docket {

// Documents larger than this are rejected with BSONObjectTooLarge (10334).
inline constexpr size_t kMaxDocumentSize = 16 * 1024 * 1024;

// Immutable value type holding the bytes of one BSON document. Copying copies
// the bytes. Thread-compatible: const methods may be called concurrently.
class Document {
 public:
  // The empty document {}.
  Document();

  // Validates the bytes (every length, terminator and type, at every depth:
  // bson/validate.h) and copies them. Errors: InvalidBSON (22); Overflow (15)
  // when nested deeper than a command may be (200 levels).
  static Result<Document> FromBytes(const uint8_t* data, size_t size);
  // Copies a bson_t the caller built; validated as FromBytes.
  static Result<Document> FromBson(const bson_t* bson);
  // Parses MongoDB Extended JSON (relaxed or canonical). Errors: FailedToParse.
  static Result<Document> FromJson(std::string_view json);
  // Takes the bytes without validation. REQUIRES: `bytes` is valid BSON the
  // caller produced itself (e.g. from bson_t it built or from our own storage).
  static Document FromTrustedBytes(std::string bytes);

  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(bytes_.data()); }
  size_t size() const { return bytes_.size(); }
  const std::string& bytes() const { return bytes_; }
  bool empty() const { return bytes_.size() <= 5; }

  // Initialises `iter` over the top-level fields. The document must outlive it.
  void Iterate(bson_iter_t* iter) const;
  // Finds a top-level field by name. Returns false when absent.
  bool Find(std::string_view name, bson_iter_t* iter) const;

  // Relaxed Extended JSON, e.g. {"_id": 1, "a": {"$numberDecimal": "1.5"}}.
  std::string ToJson() const;

  friend bool operator==(const Document& a, const Document& b) { return a.bytes_ == b.bytes_; }

 private:
  explicit Document(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

}  // namespace docket
