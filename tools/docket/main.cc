#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "docket_build_info.h"
#include "tools/docket/demo.h"
#include "tools/docket/mongod_cli.h"
#include "tools/docket/serve.h"
#include "tools/docket/transfer/backup.h"
#include "tools/docket/transfer/dump.h"
#include "tools/docket/transfer/export.h"
#include "tools/docket/transfer/import.h"
#include "tools/docket/transfer/restore.h"

int main(int argc, char** argv) {
  // mongod's command line: `docket mongod ...`, or docket run as `mongod`.
  const bool as_mongod = docket::tools::InvokedAsMongod(argv[0]);
  if (as_mongod || (argc > 1 && std::string(argv[1]) == "mongod")) {
    const int first = as_mongod ? 1 : 2;
    return docket::tools::RunMongod(std::vector<std::string>(argv + first, argv + argc),
                                    std::vector<std::string>(argv, argv + argc));
  }
  CLI::App app{"docket: a document database with MongoDB semantics"};
  app.set_version_flag("--version", std::string("docket ") + DOCKET_VERSION + " (git " + DOCKET_GIT_COMMIT +
                                          "), MongoDB 6.0 semantics");
  app.require_subcommand(1);
  auto* demo = app.add_subcommand("demo", "run the two seed scenarios on the embedded engine");
  int threads = 16, per_thread = 1000;
  demo->add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 256));
  demo->add_option("--per-thread", per_thread, "creates per thread")->check(CLI::Range(1, 1000000));
  auto* serve = app.add_subcommand("serve", "serve the MongoDB wire protocol (drivers, mongosh)");
  docket::tools::ServeFlags flags;
  serve->add_option("--dbpath", flags.dbpath, "data directory")->capture_default_str();
  serve->add_flag("--memory", flags.memory, "keep everything in memory (no files)");
  serve->add_option("--bind", flags.bind, "address to listen on")->capture_default_str();
  serve->add_option("--port", flags.port, "TCP port; 0 picks a free one")->check(CLI::Range(0, 65535))->capture_default_str();
  serve->add_option("--max-connections", flags.max_connections, "open connections at most")
      ->check(CLI::Range(1LL, 1000000LL))->capture_default_str();
  serve->add_option("--log-format", flags.log_format, "text or json")->capture_default_str();
  serve->add_flag("--quiet", flags.quiet, "log only errors");
  serve->add_option("--logpath", flags.logpath, "log to this file instead of standard error (rotated on SIGUSR1 and logRotate)");
  serve->add_flag("--logappend", flags.logappend, "append to the --logpath file instead of starting it afresh");
  serve->add_option("--jitter", flags.jitter,
                    "testing: wait a random MIN-MAX milliseconds before every command, to expose races");
  serve->add_option("--seed", flags.seed, "seed for --jitter");
  serve->add_option("--message-timeout", flags.message_timeout_seconds,
                    "seconds a client may take to finish sending a message it started")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  serve->add_option("--idle-timeout", flags.idle_timeout_seconds, "seconds a connection may stay silent between messages")
      ->check(CLI::Range(1, 7 * 24 * 3600))->capture_default_str();
  serve->add_option("--cache-size", flags.cache_mb, "MiB of table blocks kept in memory (filled as reads need them)")
      ->check(CLI::Range(1LL, 1LL << 20))->capture_default_str();
  serve->add_option("--row-cache-size", flags.row_cache_mb,
                    "MiB of single rows kept for point reads, in addition to --cache-size (0: none)")
      ->check(CLI::Range(0LL, 1LL << 20))->capture_default_str();
  serve->add_option("--blocking-memory", flags.blocking_memory_mb,
                    "MiB one sort or $group may hold before it spills to disk, or fails when the query forbids it "
                    "(allowDiskUse: false); MongoDB: 100")
      ->check(CLI::Range(1LL, 1LL << 20))->capture_default_str();
  serve->add_option("--workers", flags.workers,
                    "threads that serve connections and run their commands (0: one per core, at least 2)")
      ->check(CLI::Range(0, 256))->capture_default_str();
  serve->add_option("--replica-set", flags.replica_set,
                    "answer as the primary of a one-member replica set of this name: transactions and retryable writes");
  serve->add_option("--oplog-size", flags.oplog_mb,
                    "MiB the oplog (local.oplog.rs) keeps with --replica-set; an existing oplog keeps its size")
      ->check(CLI::Range(1LL, 1LL << 20))->capture_default_str();
  serve->add_option("--transaction-lifetime", flags.transaction_lifetime_seconds,
                    "seconds after which an open transaction is aborted (MongoDB's transactionLifetimeLimitSeconds)")
      ->check(CLI::Range(1, 24 * 3600))->capture_default_str();
  serve->add_flag("--enable-test-commands", flags.enable_test_commands,
                  "registers commands for testing the server itself ({sleep: 1, millis: N})");
  serve->add_option("--max-workers", flags.max_workers, "the most threads the pool grows to while commands block")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  docket::transfer::DumpFlags dump_flags;
  CLI::App* dump = docket::transfer::AddDumpCommand(app, &dump_flags);
  docket::transfer::RestoreFlags restore_flags;
  CLI::App* restore = docket::transfer::AddRestoreCommand(app, &restore_flags);
  docket::transfer::BackupFlags backup_flags;
  CLI::App* backup = docket::transfer::AddBackupCommand(app, &backup_flags);
  docket::transfer::ExportFlags export_flags;
  CLI::App* export_command = docket::transfer::AddExportCommand(app, &export_flags);
  docket::transfer::ImportFlags import_flags;
  CLI::App* import_command = docket::transfer::AddImportCommand(app, &import_flags);
  CLI11_PARSE(app, argc, argv);
  if (*dump) return docket::transfer::RunDump(dump_flags);
  if (*restore) return docket::transfer::RunRestore(restore_flags);
  if (*backup) return docket::transfer::RunBackup(backup_flags);
  if (*export_command) return docket::transfer::RunExport(export_flags);
  if (*import_command) return docket::transfer::RunImport(import_flags);
  if (*demo) return docket::tools::RunDemo(threads, per_thread);
  if (*serve) {
    flags.argv.assign(argv, argv + argc);
    return docket::tools::RunServe(flags);
  }
  return 0;
}
