// The key space of the one RocksDB instance (do not change without a format
// version bump; kFormatVersion lives in storage/store.h):
//
//   0x00 "format_version"                  -> decimal text, e.g. "1"
//   0x00 "next_collection_id"              -> u64 BE; ids are never reused
//   0x00 "multikey" <index id u64 BE>      -> "1": the index has array-derived keys
//   0x01 <db> 0x00 <collection>            -> catalog entry (BSON, see catalog.h)
//   0x00 "record_seq_reserved"             -> u64 BE; every record sequence
//                                             number handed out is below it
//   0x02 <collection id u64 BE> <key(_id)> -> the document (BSON, _id first)
//        followed by its sequence number (u64 BE; storage/record_value.h)
//   0x03 <index id u64 BE> <index key>    -> key(_id) of the document
//        index key: per indexed field, key(value) (bytes inverted for a
//        descending field); a non-unique index appends key(_id), so that
//        every entry is distinct; a unique index does not, so that its one
//        entry per value is what writers lock.
//   0x06 <collection id u64 BE> <sequence number u64 BE> -> key(_id): the
//        collection's natural (insertion) order; one entry per record,
//        written and deleted in the same transaction as the record.
//
// key(_id) is the order-preserving encoding of bson/key_encoding.h, so a
// collection's records sort by _id in MongoDB's order and one collection's
// records are one contiguous range, removed together (Store::DeleteRange).
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace docket::storage {

inline constexpr char kMetaPrefix = 0x00;
inline constexpr char kCatalogPrefix = 0x01;
inline constexpr char kRecordPrefix = 0x02;
inline constexpr char kIndexPrefix = 0x03;
inline constexpr char kSpillPrefix = 0x04;
// Never stored: the point cache's keys of cached index ranges (engine/scan.h).
inline constexpr char kRangeListPrefix = 0x05;
inline constexpr char kNaturalPrefix = 0x06;

std::string MetaKey(std::string_view name);
std::string MultikeyKey(uint64_t index_id);
std::string CatalogKey(std::string_view db, std::string_view collection);
std::string CatalogPrefixForDb(std::string_view db);

// [0x02][id]: every record of the collection starts with it.
inline constexpr size_t kRecordPrefixSize = 9;
std::string RecordPrefix(uint64_t collection_id);
// The first key after every record of the collection.
std::string RecordRangeEnd(uint64_t collection_id);
std::string RecordKey(uint64_t collection_id, const bson_iter_t& id);

// [0x06][id]: every natural-order entry of the collection starts with it.
std::string NaturalPrefix(uint64_t collection_id);
std::string NaturalRangeEnd(uint64_t collection_id);
std::string NaturalKey(uint64_t collection_id, uint64_t sequence);

// [0x03][id]: every entry of the index starts with it.
std::string IndexPrefix(uint64_t index_id);
std::string IndexRangeEnd(uint64_t index_id);

// [0x04][id]: every key of the spill area starts with it.
std::string SpillPrefix(uint64_t spill_id);

// [0x05][u32 size of start][start][end]: the point cache's key of the list
// of an index range's entries, [start, end) over whole index keys.
std::string RangeListKey(std::string_view start, std::string_view end);

void AppendBigEndian64(std::string* out, uint64_t v);
uint64_t ReadBigEndian64(std::string_view bytes);
void AppendBigEndian32(std::string* out, uint32_t v);
uint32_t ReadBigEndian32(std::string_view bytes);  // of the first 4 bytes (REQUIRES: at least 4)

}  // namespace docket::storage
