// What every data-moving command (dump, restore, export, import) shares on
// its command line, and how it ends: a TransferError becomes "error: ..." on
// standard error and exit code 1.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace docket::transfer {

// Where to connect: --uri wins; otherwise --host (host or host:port) and
// --port; otherwise the local default, as MongoDB's tools.
struct ConnectionFlags {
  std::string uri;
  std::string host;
  int port = 0;
  // The URI the flags name, e.g. "mongodb://127.0.0.1:27017/". Throws
  // TransferError when --uri is combined with --host or --port.
  std::string Uri() const;
};

struct CommonFlags {
  ConnectionFlags connection;
  bool quiet = false;             // no progress, no summary lines
  int progress_interval_ms = 5000;  // plain progress lines' spacing (not on a terminal)
};

// --uri, --host, --port, --quiet, --progress-interval.
void AddCommonFlags(CLI::App* command, CommonFlags* flags);

// Applies the flags (progress settings), runs `body` and returns its exit
// code, or 1 after printing the message of a TransferError.
int RunCommandBody(const CommonFlags& flags, const std::function<int()>& body);

}  // namespace docket::transfer
