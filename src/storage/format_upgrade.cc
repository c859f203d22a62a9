#include "storage/format_upgrade.h"

#include <rocksdb/write_batch.h>

#include <memory>
#include <string>

#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::storage {

Result<uint64_t> UpgradeFromVersion1(rocksdb::DB* db, RecordSequencer* sequencer, bool sync) {
  constexpr size_t kBatchRecords = 1000;
  const std::string begin(1, kRecordPrefix), end(1, kRecordPrefix + 1);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read));
  rocksdb::WriteBatch batch;
  size_t in_batch = 0;
  uint64_t upgraded = 0;
  for (it->Seek(begin); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key(), value = it->value();
    if (key.size() < kRecordPrefixSize) return Status(ErrorCode::kInternalError, "upgrading: a record key without a collection id");
    if (!IsVersion1RecordValue(std::string_view(value.data(), value.size()))) continue;
    auto sequence = sequencer->Next();
    if (!sequence.ok()) return sequence.status();
    const uint64_t collection_id = ReadBigEndian64(std::string_view(key.data() + 1, 8));
    batch.Put(key, EncodeRecordValue(std::string_view(value.data(), value.size()), *sequence));
    batch.Put(NaturalKey(collection_id, *sequence), rocksdb::Slice(key.data() + kRecordPrefixSize, key.size() - kRecordPrefixSize));
    ++upgraded;
    if (++in_batch == kBatchRecords) {
      DOCKET_RETURN_IF_ERROR(FromRocks(db->Write(rocksdb::WriteOptions(), &batch), "upgrading records"));
      batch.Clear();
      in_batch = 0;
    }
  }
  DOCKET_RETURN_IF_ERROR(FromRocks(it->status(), "reading records to upgrade"));
  rocksdb::WriteOptions last;
  last.sync = sync;
  DOCKET_RETURN_IF_ERROR(FromRocks(db->Write(last, &batch), "upgrading records"));
  return upgraded;
}

}  // namespace docket::storage
