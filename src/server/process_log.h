// The process's log: standard error, or the file --logpath names. One line
// per event: mongod's structured JSON (--log-format json: t, s, c, id, ctx,
// msg, attr) or a text line with the same facts,
//   2026-12-07T08:40:00.123+00:00 I  NETWORK  [listener] message {attributes}
// --quiet keeps errors only. A log file is rotated as mongod's "rename"
// rotation does (SIGUSR1, the logRotate command): renamed to
// <path>.<UTC time> and a new one opened in its place.
//
// Thread-safe: one mutex around writing and rotating.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "docket/status.h"

namespace docket::server {

struct LogFormat {
  bool json = false;
  bool quiet = false;  // errors only
};

// Writes one event: severity 'I', 'W', 'E' or 'F'; component as mongod's
// ("NETWORK", "STORAGE", "CONTROL", ...).
void WriteLog(const LogFormat& format, char severity, std::string_view component, int64_t id, std::string_view context,
              std::string_view message, std::string_view attr_json = "");

// From now on the log goes to `path` (standard error is redirected to it),
// appended to or started afresh. Errors: the file cannot be opened.
Status OpenLogFile(const std::string& path, bool append);

// Rotates the log file; returns the name the old one took, or "" when the
// log is standard error (nothing of ours to rename). Errors: the rename or
// the reopening failed (the log then stays where it was).
Result<std::string> RotateLogFile();

}  // namespace docket::server
