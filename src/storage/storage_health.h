// Whether the storage can still write, and why not.
//
// When a write or a background flush fails for want of space (or on a file
// system that turned read-only), RocksDB stops taking writes and, left to
// itself, tries to recover by writing through the same log writer that
// failed, which Debian's assertion-enabled librocksdb turns into SIGABRT.
// This listener records the error and turns that automatic recovery off:
// the database stays open for reads, writes fail with the recorded error,
// and the owner (docket serve's supervisor) reopens the database once the
// disk can take writes again. Reopening replays the write-ahead log, so
// nothing acknowledged is lost.
#pragma once

#include <rocksdb/listener.h>

#include <mutex>
#include <string>

#include "docket/status.h"

namespace docket::storage {

// Thread-safe: RocksDB calls it from its flush, compaction and write threads.
class StorageHealth : public rocksdb::EventListener {
 public:
  explicit StorageHealth(std::string path) : path_(std::move(path)) {}

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* bg_error) override;
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason reason, rocksdb::Status bg_error,
                            bool* auto_recovery) override;

  // Records a failed write seen by a caller (a commit that returned an I/O
  // error before RocksDB's background handling ran).
  void Record(const rocksdb::Status& error);
  // OK while writes can go on; else the error writes get, naming the
  // database's directory (OutOfDiskSpace for a full disk).
  Status Get() const;
  bool failed() const;

 private:
  Status Describe(const rocksdb::Status& error) const;

  const std::string path_;
  mutable std::mutex mutex_;
  Status failure_;  // GUARDED_BY(mutex_)
};

}  // namespace docket::storage
