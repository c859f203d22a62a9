// RocksDB's informational log (flushes, compactions, errors), written by
// Docket instead of by RocksDB's own logger.
//
// RocksDB's logger writes through a WritableFileWriter, and Debian's
// librocksdb keeps its assertions on: once one write to the LOG file has
// failed (a file system that turned read-only, a full disk), the next
// message — and RocksDB logs every background error — aborts the process
// ("sync_without_flush_called_"). This logger writes with plain write(2)
// and, after a failure, drops messages instead: the log is an aid, never a
// reason to stop. It appends to <dbpath>/LOG; a LOG past kMaxBytes is
// renamed LOG.old (replacing the previous one) when the database opens.
//
// Thread-safe: RocksDB logs from its flush, compaction and write threads
// (one mutex around each message's write).
#pragma once

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace docket::storage {

class RocksLog : public rocksdb::Logger {
 public:
  static constexpr uint64_t kMaxBytes = uint64_t{16} << 20;

  // A logger appending to `dir`/LOG, or dropping everything if that file
  // cannot be opened (the database's own writes report that directory's
  // problems).
  static std::shared_ptr<RocksLog> Open(const std::string& dir);
  // A logger that drops everything (in-memory databases: their log would
  // otherwise grow in memory for as long as the server runs).
  static std::shared_ptr<RocksLog> Discarding();
  ~RocksLog() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;

  // Whether a write to the file failed (messages are being dropped).
  bool failed() const;

 private:
  explicit RocksLog(int fd) : fd_(fd) {}
  rocksdb::Status CloseImpl() override;

  mutable std::mutex mutex_;
  int fd_;               // GUARDED_BY(mutex_); -1: dropping
  bool failed_ = false;  // GUARDED_BY(mutex_)
};

}  // namespace docket::storage
