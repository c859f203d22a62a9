#include "server/process_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "commands/ram_log.h"

namespace docket::server {
namespace {

std::mutex& LogMutex() {
  static std::mutex mutex;
  return mutex;
}

std::string& LogPath() {  // GUARDED_BY(LogMutex()); empty: standard error
  static std::string path;
  return path;
}

// "NETWORK " padded as mongod's text logs pad components.
std::string Padded(std::string_view component) {
  std::string out(component);
  if (out.size() < 8) out.resize(8, ' ');
  return out;
}

}  // namespace

void WriteLog(const LogFormat& format, char severity, std::string_view component, int64_t id, std::string_view context,
              std::string_view message, std::string_view attr_json) {
  if (format.quiet && severity != 'E' && severity != 'F') return;
  std::string line;
  if (format.json) {
    line = commands::MongodLogLine(severity, std::string(component), id, std::string(context), std::string(message), {},
                                   std::string(attr_json));
  } else {
    line = commands::MongodTimestamp() + " " + severity + "  " + Padded(component) + " [" + std::string(context) +
           "] " + std::string(message);
    if (!attr_json.empty()) line += " " + std::string(attr_json);
  }
  std::lock_guard lock(LogMutex());
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

Status OpenLogFile(const std::string& path, bool append) {
  std::lock_guard lock(LogMutex());
  if (std::freopen(path.c_str(), append ? "a" : "w", stderr) == nullptr) {
    return Status(ErrorCode::kFileNotOpen, "cannot open the log file " + path);
  }
  LogPath() = path;
  return Status::OK();
}

Result<std::string> RotateLogFile() {
  std::lock_guard lock(LogMutex());
  const std::string& path = LogPath();
  if (path.empty()) return std::string();
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%S", &utc);
  std::string rotated = path + "." + stamp;
  for (int n = 1; std::FILE* taken = std::fopen(rotated.c_str(), "r"); ++n) {  // two rotations in one second
    std::fclose(taken);
    rotated = path + "." + stamp + "." + std::to_string(n);
  }
  std::fflush(stderr);
  if (std::rename(path.c_str(), rotated.c_str()) != 0) {
    return Status(ErrorCode::kFileRenameFailed, "cannot rename the log file " + path + " to " + rotated);
  }
  if (std::freopen(path.c_str(), "a", stderr) == nullptr) {
    return Status(ErrorCode::kFileNotOpen, "cannot open a new log file " + path);
  }
  return rotated;
}

}  // namespace docket::server
