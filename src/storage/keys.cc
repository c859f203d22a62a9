#include "storage/keys.h"

#include "bson/key_encoding.h"

namespace docket::storage {

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

uint32_t ReadBigEndian32(std::string_view bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string RangeListKey(std::string_view start, std::string_view end) {
  std::string key(1, kRangeListPrefix);
  AppendBigEndian32(&key, static_cast<uint32_t>(start.size()));
  key.append(start);
  key.append(end);
  return key;
}

std::string MetaKey(std::string_view name) {
  std::string key(1, kMetaPrefix);
  key.append(name);
  return key;
}

std::string MultikeyKey(uint64_t index_id) {
  std::string key = MetaKey("multikey");
  AppendBigEndian64(&key, index_id);
  return key;
}

std::string CatalogKey(std::string_view db, std::string_view collection) {
  std::string key = CatalogPrefixForDb(db);
  key.append(collection);
  return key;
}

std::string CatalogPrefixForDb(std::string_view db) {
  std::string key(1, kCatalogPrefix);
  key.append(db);
  key.push_back('\0');
  return key;
}

std::string RecordPrefix(uint64_t collection_id) {
  std::string key(1, kRecordPrefix);
  AppendBigEndian64(&key, collection_id);
  return key;
}

std::string RecordRangeEnd(uint64_t collection_id) { return RecordPrefix(collection_id + 1); }

std::string NaturalPrefix(uint64_t collection_id) {
  std::string key(1, kNaturalPrefix);
  AppendBigEndian64(&key, collection_id);
  return key;
}

std::string NaturalRangeEnd(uint64_t collection_id) { return NaturalPrefix(collection_id + 1); }

std::string NaturalKey(uint64_t collection_id, uint64_t sequence) {
  std::string key = NaturalPrefix(collection_id);
  AppendBigEndian64(&key, sequence);
  return key;
}

std::string IndexPrefix(uint64_t index_id) {
  std::string key(1, kIndexPrefix);
  AppendBigEndian64(&key, index_id);
  return key;
}

std::string IndexRangeEnd(uint64_t index_id) { return IndexPrefix(index_id + 1); }

std::string SpillPrefix(uint64_t spill_id) {
  std::string key(1, kSpillPrefix);
  AppendBigEndian64(&key, spill_id);
  return key;
}

std::string RecordKey(uint64_t collection_id, const bson_iter_t& id) {
  std::string key = RecordPrefix(collection_id);
  bson::AppendKeyValue(&key, id);
  return key;
}

}  // namespace docket::storage
