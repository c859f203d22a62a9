// `docket backup`: asks a running server for a hot backup (the createBackup
// command): a consistent copy of its whole database in a new directory on
// the server's machine, which `docket serve --dbpath` opens as it is.
#pragma once

#include <string>

#include "tools/docket/transfer/command_flags.h"

namespace docket::transfer {

struct BackupFlags {
  CommonFlags common;
  std::string out;  // the new directory; a relative path is taken from this process's directory
};

CLI::App* AddBackupCommand(CLI::App& app, BackupFlags* flags);
int RunBackup(const BackupFlags& flags);

}  // namespace docket::transfer
