#include "tools/docket/transfer/bson_value.h"

namespace docket::transfer {

std::string ToJson(const bson_t* doc, JsonForm form) {
  size_t length = 0;
  char* text = form == JsonForm::kCanonical ? bson_as_canonical_extended_json(doc, &length)
                                            : bson_as_relaxed_extended_json(doc, &length);
  if (text == nullptr) throw TransferError("a document could not be written as Extended JSON (invalid UTF-8?)");
  std::string out(text, length);
  bson_free(text);
  return out;
}

BsonPtr FromJson(const std::string& text, const std::string& what) {
  bson_error_t error;
  bson_t* doc = bson_new_from_json(reinterpret_cast<const uint8_t*>(text.data()),
                                   static_cast<ssize_t>(text.size()), &error);
  if (doc == nullptr) throw TransferError(what + " is not valid Extended JSON: " + error.message);
  return BsonPtr(doc);
}

std::string StringField(const bson_t* doc, const char* key, const std::string& fallback) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it)) return fallback;
  uint32_t length = 0;
  const char* s = bson_iter_utf8(&it, &length);
  return std::string(s, length);
}

}  // namespace docket::transfer
