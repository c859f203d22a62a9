#include "storage/rocks_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

namespace docket::storage {

std::shared_ptr<RocksLog> RocksLog::Open(const std::string& dir) {
  const std::string path = dir + "/LOG";
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) > kMaxBytes && !ec) std::filesystem::rename(path, path + ".old", ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return std::shared_ptr<RocksLog>(new RocksLog(fd));
}

std::shared_ptr<RocksLog> RocksLog::Discarding() { return std::shared_ptr<RocksLog>(new RocksLog(-1)); }

RocksLog::~RocksLog() { CloseImpl().PermitUncheckedError(); }

rocksdb::Status RocksLog::CloseImpl() {
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return rocksdb::Status::OK();
}

bool RocksLog::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void RocksLog::Logv(const char* format, va_list ap) {
  {
    std::lock_guard lock(mutex_);
    if (fd_ < 0) return;
  }
  // "2026/12/06-21:30:00.123456 " then the message and a newline, as RocksDB's LOG reads.
  char line[4096];
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm local{};
  ::localtime_r(&now.tv_sec, &local);
  int used = static_cast<int>(std::strftime(line, sizeof line, "%Y/%m/%d-%H:%M:%S", &local));
  used += std::snprintf(line + used, sizeof line - used, ".%06ld ", static_cast<long>(now.tv_nsec / 1000));
  va_list copy;
  va_copy(copy, ap);
  const int wrote = std::vsnprintf(line + used, sizeof line - used, format, copy);
  va_end(copy);
  if (wrote < 0) return;
  size_t size = std::min<size_t>(used + static_cast<size_t>(wrote), sizeof line - 2);
  if (line[size - 1] != '\n') line[size++] = '\n';

  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  for (size_t at = 0; at < size;) {
    const ssize_t n = ::write(fd_, line + at, size - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Read-only, full or failing: stop logging rather than fail anything else.
      failed_ = true;
      ::close(fd_);
      fd_ = -1;
      return;
    }
    at += static_cast<size_t>(n);
  }
}

}  // namespace docket::storage
