#include "engine/natural_order_check.h"

#include <memory>

#include "storage/key_range.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {

Status CheckNaturalEntries(rocksdb::DB* db, const rocksdb::ReadOptions& read, uint64_t collection_id, int64_t records,
                           const std::function<void(std::string)>& error) {
  const std::string lower = storage::NaturalPrefix(collection_id);
  int64_t entries = 0;
  DOCKET_RETURN_IF_ERROR(storage::ForEachInRange(
      db, read, lower, storage::NaturalRangeEnd(collection_id), "reading the natural order",
      [&](rocksdb::Slice key, rocksdb::Slice value) -> Status {
        entries += 1;
        const uint64_t sequence = storage::ReadBigEndian64(std::string_view(key.data() + lower.size(), 8));
        std::string record;
        rocksdb::Status got = db->Get(read, storage::RecordPrefix(collection_id) + value.ToString(), &record);
        if (!got.ok() && !got.IsNotFound()) return storage::FromRocks(got, "reading a record");
        if (got.IsNotFound()) {
          error("the natural-order entry " + std::to_string(sequence) + " names a record that does not exist");
        } else if (storage::RecordSequence(record) != sequence) {
          error("the natural-order entry " + std::to_string(sequence) + " names a record whose sequence number is " +
                std::to_string(storage::RecordSequence(record)));
        }
        return Status::OK();
      }));
  if (entries != records) {
    error("the collection has " + std::to_string(entries) + " natural-order entries for " + std::to_string(records) +
          " records");
  }
  return Status::OK();
}

}  // namespace docket::engine
