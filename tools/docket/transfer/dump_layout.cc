#include "tools/docket/transfer/dump_layout.h"

#include <openssl/sha.h>

#include <cctype>

namespace docket::transfer {
namespace {

constexpr size_t kLongestStem = 238;  // leaves room for ".metadata.json.gz" in 255 bytes
constexpr size_t kShortenedPrefix = 208;

std::string Base64UrlUnpadded(const unsigned char* data, size_t size) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    buffer = buffer << 8 | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3F];
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string QueryEscape(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string QueryUnescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 && HexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string CollectionFileStem(const std::string& collection) {
  std::string stem = QueryEscape(collection);
  if (stem.size() <= kLongestStem) return stem;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(collection.data()), collection.size(), digest);
  return stem.substr(0, kShortenedPrefix) + "%24" + Base64UrlUnpadded(digest, sizeof digest);
}

std::string CollectionNameFromStem(const std::string& stem) { return QueryUnescape(stem); }

CollectionMetadata MetadataFromListing(const bson_t* collection_info, std::vector<BsonPtr> indexes) {
  CollectionMetadata m;
  m.name = StringField(collection_info, "name");
  m.type = StringField(collection_info, "type", "collection");
  m.indexes = std::move(indexes);
  bson_iter_t it;
  m.options = NewBson();
  if (bson_iter_init_find(&it, collection_info, "options") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
    uint32_t length = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&it, &length, &data);
    bson_t view;
    if (bson_init_static(&view, data, length)) bson_concat(m.options.get(), &view);
  }
  bson_iter_t info, uuid;
  if (bson_iter_init_find(&info, collection_info, "info") && BSON_ITER_HOLDS_DOCUMENT(&info) &&
      bson_iter_recurse(&info, &uuid) && bson_iter_find(&uuid, "uuid") && BSON_ITER_HOLDS_BINARY(&uuid)) {
    bson_subtype_t subtype;
    uint32_t length = 0;
    const uint8_t* bytes = nullptr;
    bson_iter_binary(&uuid, &subtype, &length, &bytes);
    static const char kHex[] = "0123456789abcdef";
    for (uint32_t i = 0; i < length; ++i) {
      m.uuid += kHex[bytes[i] >> 4];
      m.uuid += kHex[bytes[i] & 0xF];
    }
  }
  return m;
}

std::string MetadataToJson(const CollectionMetadata& metadata) {
  BsonPtr doc = NewBson();
  if (!bson_empty(metadata.options.get())) BSON_APPEND_DOCUMENT(doc.get(), "options", metadata.options.get());
  bson_t indexes;
  BSON_APPEND_ARRAY_BEGIN(doc.get(), "indexes", &indexes);
  for (size_t i = 0; i < metadata.indexes.size(); ++i) {
    const std::string key = std::to_string(i);
    bson_append_document(&indexes, key.c_str(), -1, metadata.indexes[i].get());
  }
  bson_append_array_end(doc.get(), &indexes);
  if (!metadata.uuid.empty()) BSON_APPEND_UTF8(doc.get(), "uuid", metadata.uuid.c_str());
  BSON_APPEND_UTF8(doc.get(), "collectionName", metadata.name.c_str());
  if (!metadata.type.empty()) BSON_APPEND_UTF8(doc.get(), "type", metadata.type.c_str());
  return ToJson(doc.get(), JsonForm::kCanonical);
}

CollectionMetadata MetadataFromJson(const std::string& json, const std::string& what) {
  BsonPtr doc = FromJson(json, what);
  CollectionMetadata m;
  m.name = StringField(doc.get(), "collectionName");
  m.type = StringField(doc.get(), "type", "collection");
  m.uuid = StringField(doc.get(), "uuid");
  m.options = NewBson();
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc.get(), "options")) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) throw TransferError(what + ": \"options\" is not a document");
    uint32_t length = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&it, &length, &data);
    bson_t view;
    if (bson_init_static(&view, data, length)) bson_concat(m.options.get(), &view);
  }
  if (bson_iter_init_find(&it, doc.get(), "indexes")) {
    bson_iter_t each;
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &each))
      throw TransferError(what + ": \"indexes\" is not an array");
    while (bson_iter_next(&each)) {
      if (!BSON_ITER_HOLDS_DOCUMENT(&each)) throw TransferError(what + ": an index is not a document");
      uint32_t length = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&each, &length, &data);
      bson_t view;
      if (bson_init_static(&view, data, length)) m.indexes.push_back(CopyBson(&view));
    }
  }
  return m;
}

}  // namespace docket::transfer
