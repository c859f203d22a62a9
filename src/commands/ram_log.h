// The server's recent log lines in memory, as mongod's RamLog "global":
// what getLog "global" returns, in mongod's JSON log line format
// ({"t":{"$date":...},"s":"I","c":"NETWORK","id":...,"ctx":...,"msg":...}),
// which mongosh and tools parse.
//
// Thread-safe: every member takes mutex_.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace docket::commands {

// Now as mongod writes times in its log and in currentOp ("2026-12-06T21:30:00.123+00:00").
std::string MongodTimestamp();

// One line of mongod's JSON log format. `severity`: 'I', 'W', 'E'.
// `attr_json`: the line's attributes as a JSON object ("" for none).
std::string MongodLogLine(char severity, const std::string& component, int64_t id, const std::string& ctx,
                          const std::string& message, const std::vector<std::string>& tags = {},
                          const std::string& attr_json = "");

class RamLog {
 public:
  static constexpr size_t kCapacity = 1024;  // mongod's RamLog keeps as many lines

  void Add(std::string line);
  // The kept lines, oldest first.
  std::vector<std::string> Lines() const;
  // Every line added since the server started (kept or not).
  int64_t total() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::string> lines_;  // GUARDED_BY(mutex_)
  int64_t total_ = 0;              // GUARDED_BY(mutex_)
};

}  // namespace docket::commands
