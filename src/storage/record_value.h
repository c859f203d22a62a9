// The stored value of a record (keys.h, 0x02): the document's BSON followed
// by the record's sequence number, 8 bytes big-endian. The sequence number
// is the record's place in the collection's natural (insertion) order and
// names its natural-order entry (keys.h, 0x06); it is set when the record is
// inserted and kept by every update. The BSON's own length prefix tells
// where it ends, so a value of format version 1 (the BSON alone) is told
// apart by its size (IsVersion1RecordValue) for the upgrade.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/keys.h"

namespace docket::storage {

inline constexpr size_t kRecordSequenceSize = 8;

inline std::string EncodeRecordValue(std::string_view document, uint64_t sequence) {
  std::string value;
  value.reserve(document.size() + kRecordSequenceSize);
  value.append(document);
  AppendBigEndian64(&value, sequence);
  return value;
}

// The document's BSON. REQUIRES: a record value of the current format.
inline std::string_view RecordDocument(std::string_view value) {
  return value.substr(0, value.size() >= kRecordSequenceSize ? value.size() - kRecordSequenceSize : 0);
}

// The record's sequence number. REQUIRES: a record value of the current format.
inline uint64_t RecordSequence(std::string_view value) {
  return value.size() >= kRecordSequenceSize ? ReadBigEndian64(value.substr(value.size() - kRecordSequenceSize)) : 0;
}

// Whether `value` is a document alone, as format version 1 stored records.
inline bool IsVersion1RecordValue(std::string_view value) {
  if (value.size() < 5) return false;
  const auto* b = reinterpret_cast<const unsigned char*>(value.data());
  const uint32_t length = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);  // little-endian
  return length == value.size();
}

}  // namespace docket::storage
