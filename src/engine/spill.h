// Spill space: temporary key/value pairs for operations whose working set
// outgrows their memory budget (sorts, $group). Each SpillArea owns a private
// key range of the engine's RocksDB,
//
//   0x04 <spill id u64 BE> <key>  ->  <value>      (storage/keys.h)
//
// written without the WAL (it never needs to survive a crash) and read back
// in key order: RocksDB does the external merge. The range is deleted when
// the SpillArea is destroyed, and any leftovers of a crash when the engine
// opens. In memory mode the spilled data lives in RocksDB's memtables and the
// in-memory Env: it bounds the operation's own buffers, not the process.
#pragma once

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine_impl.h"

namespace docket::engine {

// Not thread-safe: owned and used by one operation.
class SpillArea {
 public:
  explicit SpillArea(EngineImpl* engine);
  ~SpillArea();
  SpillArea(const SpillArea&) = delete;
  SpillArea& operator=(const SpillArea&) = delete;

  // Buffers a pair; writes the buffer out when it grows past a few MiB.
  // Keys must be distinct (a later Put of the same key replaces the value).
  Status Put(std::string_view key, std::string_view value);
  // Writes out what is buffered. REQUIRES: before NewIterator.
  Status Flush();
  // Every pair put so far, in key order, keys without the area's prefix
  // (use SpillArea::UserKey). Valid while the SpillArea lives.
  std::unique_ptr<rocksdb::Iterator> NewIterator();
  rocksdb::Slice UserKey(const rocksdb::Slice& stored) const;

  uint64_t bytes_spilled() const { return bytes_; }

 private:
  EngineImpl* engine_;
  std::string prefix_;
  std::string end_;
  rocksdb::Slice end_slice_;
  rocksdb::WriteBatch batch_;
  uint64_t bytes_ = 0;
};

// Deletes every spill range (at open: nothing is using them yet).
Status DeleteAllSpills(EngineImpl* engine);

}  // namespace docket::engine
