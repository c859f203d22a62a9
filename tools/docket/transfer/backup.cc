#include "tools/docket/transfer/backup.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "tools/docket/transfer/connection.h"
#include "tools/docket/transfer/progress.h"

namespace docket::transfer {

CLI::App* AddBackupCommand(CLI::App& app, BackupFlags* flags) {
  CLI::App* backup = app.add_subcommand(
      "backup", "copy a running server's whole database, consistently, to a new directory on its machine");
  AddCommonFlags(backup, &flags->common);
  backup->add_option("--out,-o", flags->out, "the new directory (must not exist)")->required();
  return backup;
}

int RunBackup(const BackupFlags& flags) {
  return RunCommandBody(flags.common, [&] {
    // The server resolves nothing: it needs an absolute path. A relative one
    // means this process's directory, which is the server's when both run
    // on one machine, as a backup to a local directory implies.
    const std::string dir = std::filesystem::absolute(flags.out).lexically_normal().string();
    Connection connection(flags.common.connection.Uri());
    BsonPtr command = NewBson();
    BSON_APPEND_INT32(command.get(), "createBackup", 1);
    BSON_APPEND_UTF8(command.get(), "backupDir", dir.c_str());
    const auto start = std::chrono::steady_clock::now();
    connection.RunCommand("admin", command.get());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!flags.common.quiet)
      std::fprintf(stderr, "backup written to %s in %s; open it with docket serve --dbpath %s\n", dir.c_str(),
                   FormatDuration(seconds).c_str(), dir.c_str());
    return 0;
  });
}

}  // namespace docket::transfer
