// What every data-moving command (dump, restore, export, import) shares on
// its command line, and how it ends: a TransferError becomes "error: ..." on
// standard error and exit code 1.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "tools/docket/transfer/connection.h"

namespace docket::transfer {

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
