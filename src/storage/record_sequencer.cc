#include "storage/record_sequencer.h"

#include <algorithm>
#include <string>

#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::storage {

namespace {
const std::string& ReservedKey() {
  static const std::string key = MetaKey("record_seq_reserved");
  return key;
}
}  // namespace

Result<std::unique_ptr<RecordSequencer>> RecordSequencer::Open(rocksdb::DB* db) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), ReservedKey(), &value);
  uint64_t reserved = 1;
  if (s.ok()) {
    if (value.size() != 8) return Status(ErrorCode::kInternalError, "corrupt record sequence reservation");
    reserved = ReadBigEndian64(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the record sequence reservation");
  }
  return std::unique_ptr<RecordSequencer>(new RecordSequencer(db, reserved));
}

Result<uint64_t> RecordSequencer::Next() {
  const uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
  if (n < reserved_.load(std::memory_order_acquire)) return n;
  std::lock_guard<std::mutex> lock(reserve_mutex_);
  const uint64_t reserved = reserved_.load(std::memory_order_relaxed);
  if (n < reserved) return n;  // another caller reserved past it meanwhile
  const uint64_t bound = std::max(reserved, n + 1) + kBlock;
  std::string value;
  AppendBigEndian64(&value, bound);
  DOCKET_RETURN_IF_ERROR(FromRocks(db_->Put(rocksdb::WriteOptions(), ReservedKey(), value),
                                   "reserving record sequence numbers"));
  reserved_.store(bound, std::memory_order_release);
  return n;
}

}  // namespace docket::storage
