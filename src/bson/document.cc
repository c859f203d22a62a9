#include "docket/document.h"

#include "bson/validate.h"

#include <cstring>

namespace docket {
namespace {
// The smallest document: int32 length 5 and the terminating NUL.
constexpr char kEmptyDocument[5] = {5, 0, 0, 0, 0};
}  // namespace

Document::Document() : bytes_(kEmptyDocument, sizeof(kEmptyDocument)) {}

Result<Document> Document::FromBytes(const uint8_t* data, size_t size) {
  if (size < 5) return Status(ErrorCode::kInvalidBSON, "BSON document is shorter than 5 bytes");
  int32_t declared;
  std::memcpy(&declared, data, 4);
  declared = static_cast<int32_t>(BSON_UINT32_FROM_LE(static_cast<uint32_t>(declared)));
  if (declared < 5 || static_cast<size_t>(declared) != size) {
    return Status(ErrorCode::kInvalidBSON, "BSON document length does not match its size");
  }
  DOCKET_RETURN_IF_ERROR(bson::ValidateBson(data, size, bson::kMaxCommandDepth));
  return Document(std::string(reinterpret_cast<const char*>(data), size));
}

Result<Document> Document::FromBson(const bson_t* bson) {
  return FromBytes(bson_get_data(bson), bson->len);
}

Result<Document> Document::FromJson(std::string_view json) {
  bson_error_t error;
  bson_t* parsed = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()),
                                      static_cast<ssize_t>(json.size()), &error);
  if (parsed == nullptr) {
    return Status(ErrorCode::kFailedToParse, std::string("invalid JSON: ") + error.message);
  }
  Document doc(std::string(reinterpret_cast<const char*>(bson_get_data(parsed)), parsed->len));
  bson_destroy(parsed);
  return doc;
}

Document Document::FromTrustedBytes(std::string bytes) { return Document(std::move(bytes)); }

void Document::Iterate(bson_iter_t* iter) const {
  bson_iter_init_from_data(iter, data(), size());
}

bool Document::Find(std::string_view name, bson_iter_t* iter) const {
  Iterate(iter);
  return bson_iter_find_w_len(iter, name.data(), static_cast<int>(name.size()));
}

std::string Document::ToJson() const {
  bson_t view;
  if (!bson_init_static(&view, data(), size())) return "<invalid BSON>";
  size_t length = 0;
  char* json = bson_as_relaxed_extended_json(&view, &length);
  if (json == nullptr) return "<invalid BSON>";
  std::string out(json, length);
  bson_free(json);
  return out;
}

}  // namespace docket
