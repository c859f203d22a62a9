#include "engine/natural_order_check.h"

#include <memory>

#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {

Status CheckNaturalEntries(rocksdb::DB* db, const rocksdb::ReadOptions& read, uint64_t collection_id, int64_t records,
                           const std::function<void(std::string)>& error) {
  const std::string lower = storage::NaturalPrefix(collection_id);
  const std::string upper = storage::NaturalRangeEnd(collection_id);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options = read;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  int64_t entries = 0;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    entries += 1;
    const uint64_t sequence = storage::ReadBigEndian64(std::string_view(it->key().data() + lower.size(), 8));
    std::string record;
    rocksdb::Status got = db->Get(read, storage::RecordPrefix(collection_id) + it->value().ToString(), &record);
    if (!got.ok() && !got.IsNotFound()) return storage::FromRocks(got, "reading a record");
    if (got.IsNotFound()) {
      error("the natural-order entry " + std::to_string(sequence) + " names a record that does not exist");
    } else if (storage::RecordSequence(record) != sequence) {
      error("the natural-order entry " + std::to_string(sequence) + " names a record whose sequence number is " +
            std::to_string(storage::RecordSequence(record)));
    }
  }
  DOCKET_RETURN_IF_ERROR(storage::FromRocks(it->status(), "reading the natural order"));
  if (entries != records) {
    error("the collection has " + std::to_string(entries) + " natural-order entries for " + std::to_string(records) +
          " records");
  }
  return Status::OK();
}

}  // namespace docket::engine
