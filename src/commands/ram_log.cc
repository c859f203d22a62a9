#include "commands/ram_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace docket::commands {
namespace {

// A JSON string's content: quotes, backslashes and control characters escaped.
std::string Escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", ch);
      out += code;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

}  // namespace

std::string MongodTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const long long millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  char full[48];
  std::snprintf(full, sizeof full, "%s.%03lld+00:00", when, millis);
  return full;
}

std::string MongodLogLine(char severity, const std::string& component, int64_t id, const std::string& ctx,
                          const std::string& message, const std::vector<std::string>& tags,
                          const std::string& attr_json) {
  std::string line = "{\"t\":{\"$date\":\"" + MongodTimestamp() + "\"},\"s\":\"" + std::string(1, severity) + "\",\"c\":\"" +
                     Escaped(component) + "\",\"id\":" + std::to_string(id) + ",\"ctx\":\"" + Escaped(ctx) +
                     "\",\"msg\":\"" + Escaped(message) + "\"";
  if (!tags.empty()) {
    line += ",\"tags\":[";
    for (size_t i = 0; i < tags.size(); ++i) line += (i ? ",\"" : "\"") + Escaped(tags[i]) + "\"";
    line += "]";
  }
  if (!attr_json.empty()) line += ",\"attr\":" + attr_json;
  return line + "}";
}

void RamLog::Add(std::string line) {
  std::lock_guard lock(mutex_);
  lines_.push_back(std::move(line));
  if (lines_.size() > kCapacity) lines_.pop_front();
  ++total_;
}

std::vector<std::string> RamLog::Lines() const {
  std::lock_guard lock(mutex_);
  return {lines_.begin(), lines_.end()};
}

int64_t RamLog::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace docket::commands
