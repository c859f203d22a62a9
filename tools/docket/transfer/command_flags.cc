#include "tools/docket/transfer/command_flags.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/progress.h"

namespace docket::transfer {

void AddCommonFlags(CLI::App* command, CommonFlags* flags) {
  // mongodump takes -h for --host, so help is --help only.
  command->set_help_flag("--help", "print this help and exit");
  command->add_option("--uri", flags->connection.uri, "mongodb:// connection string (default: 127.0.0.1:27017)");
  command->add_option("--host,-h", flags->connection.host, "server to connect to (host or host:port)");
  command->add_option("--port", flags->connection.port, "server port")->check(CLI::Range(1, 65535));
  command->add_flag("--quiet", flags->quiet, "no progress or summary on standard error");
  command->add_option("--progress-interval", flags->progress_interval_ms,
                      "milliseconds between progress lines when standard error is not a terminal")
      ->check(CLI::Range(1, 3600 * 1000))
      ->capture_default_str();
}

int RunCommandBody(const CommonFlags& flags, const std::function<int()>& body) {
  Progress::Configure(flags.quiet, std::chrono::milliseconds(flags.progress_interval_ms));
  try {
    return body();
  } catch (const TransferError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace docket::transfer
