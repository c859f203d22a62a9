#include "tools/docket/serve.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include "bson/builder.h"
#include "docket/engine.h"
#include "commands/command.h"
#include "commands/ram_log.h"
#include "server/process_log.h"
#include "server/server.h"

namespace docket::tools {
namespace {

bool ParseJitter(const std::string& text, int* min_ms, int* max_ms) {
  if (text.empty()) return true;
  size_t dash = text.find('-');
  if (dash == std::string::npos) return false;
  try {
    *min_ms = std::stoi(text.substr(0, dash));
    *max_ms = std::stoi(text.substr(dash + 1));
  } catch (const std::exception&) {
    return false;
  }
  return *min_ms >= 0 && *max_ms >= *min_ms;
}

// Whether the database directory can take writes again: room for a new
// write-ahead log and a flush (16 MiB at least), and a file can be made there
// (a file system that turned read-only cannot).
bool StorageCanWrite(const std::string& dbpath) {
  struct statvfs fs {};
  if (statvfs(dbpath.c_str(), &fs) != 0) return false;
  if (static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < (uint64_t{16} << 20)) return false;
  const std::string probe = dbpath + "/.docket-write-probe";
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (f == nullptr) return false;
  const bool written = std::fputs("ok", f) >= 0;
  std::fclose(f);
  std::remove(probe.c_str());
  return written;
}

// Whether `address` only accepts connections from this machine.
bool IsLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

// SIGUSR1 and the logRotate command: the --logpath file is renamed and a new
// one started; a log on standard error belongs to whoever started us.
Status RotateLog(const server::LogFormat& log) {
  auto rotated = server::RotateLogFile();
  if (!rotated.ok()) {
    server::WriteLog(log, 'E', "CONTROL", 23168, "main", "Log rotation failed: " + rotated.status().ToString());
    return rotated.status();
  }
  server::WriteLog(log, 'I', "CONTROL", 23166, "main",
                   rotated->empty() ? "Log rotation initiated; the log is standard error, nothing to rotate"
                                    : "Log rotation initiated",
                   rotated->empty() ? "" : "{\"renamedTo\":\"" + *rotated + "\"}");
  return Status::OK();
}

}  // namespace

int RunServe(const ServeFlags& flags) {
  const auto began = std::chrono::steady_clock::now();
  int jitter_min = 0, jitter_max = 0;
  if (!ParseJitter(flags.jitter, &jitter_min, &jitter_max)) {
    std::fprintf(stderr, "docket: --jitter takes MIN-MAX in milliseconds, e.g. 0-5\n");  // before the log is set up
    return 2;
  }
  if (flags.log_format != "text" && flags.log_format != "json") {
    std::fprintf(stderr, "docket: --log-format is text or json\n");
    return 2;
  }
  const server::LogFormat log{flags.log_format == "json", flags.quiet};
  if (!flags.logpath.empty()) {
    Status opened = server::OpenLogFile(flags.logpath, flags.logappend);
    if (!opened.ok()) {
      std::fprintf(stderr, "docket: %s\n", opened.message().c_str());
      return 2;
    }
  }
  // Signals are taken by sigwait below, never by a handler on a random thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // mongod rotates its log on SIGUSR1 and carries on after SIGHUP: neither
  // may stop the server (by default both would kill it).
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Every connection is a descriptor: allow as many as the hard limit does.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  if (!flags.memory) {
    std::error_code ec;
    std::filesystem::create_directories(flags.dbpath, ec);
  }
  EngineOptions engine_options;
  engine_options.path = flags.memory ? "" : flags.dbpath;
  engine_options.in_memory = flags.memory;
  engine_options.cache_size_bytes = static_cast<size_t>(flags.cache_mb) << 20;
  engine_options.row_cache_bytes = static_cast<size_t>(flags.row_cache_mb) << 20;
  engine_options.query_memory_limit_bytes = static_cast<size_t>(flags.blocking_memory_mb) << 20;
  engine_options.no_table_scan = flags.no_table_scan;
  if (!flags.replica_set.empty()) engine_options.oplog_size_bytes = static_cast<int64_t>(flags.oplog_mb) << 20;
  engine_options.ttl_monitor_seconds = flags.ttl_monitor_enabled ? flags.ttl_monitor_seconds : 0;
  // A write blocked by an abandoned transaction outlasts it: the session
  // reaper aborts it after the lifetime (checked every second), then the
  // write proceeds.
  engine_options.write_wait_seconds = flags.transaction_lifetime_seconds + commands::kBlockedWriteMarginSeconds;
  auto engine = Engine::Open(engine_options);
  if (!engine.ok()) {
    server::WriteLog(log, 'E', "STORAGE", 0, "initandlisten", "cannot open the database: " + engine.status().ToString());
    return 1;
  }

  server::ServerOptions options;
  options.bind = flags.bind;
  options.port = static_cast<uint16_t>(flags.port);
  options.max_connections = flags.max_connections;
  options.threads = flags.workers > 0 ? flags.workers : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  options.max_threads = std::max(options.threads, flags.max_workers);
  options.message_timeout = std::chrono::seconds(flags.message_timeout_seconds);
  options.idle_timeout = std::chrono::seconds(flags.idle_timeout_seconds);
  options.jitter_min = std::chrono::milliseconds(jitter_min);
  options.jitter_max = std::chrono::milliseconds(jitter_max);
  options.seed = flags.seed;
  options.log_json = flags.log_format == "json";
  options.quiet = flags.quiet;
  options.test_commands = flags.enable_test_commands;
  options.replica_set = flags.replica_set;
  options.transaction_lifetime = std::chrono::seconds(flags.transaction_lifetime_seconds);
  options.park_limit = std::chrono::seconds(flags.transaction_lifetime_seconds + commands::kBlockedWriteMarginSeconds);
  options.argv = flags.argv;
  // The shutdown command: as SIGTERM, handled by the loop below.
  options.request_shutdown = [] { kill(getpid(), SIGTERM); };
  options.rotate_log = [log] { return RotateLog(log); };
  // getCmdLineOpts' `parsed`, in mongod's shape where mongod has the option
  // (drivers' test suites read setParameter.enableTestCommands).
  bson::Builder parsed;
  bson_t section;
  BSON_APPEND_DOCUMENT_BEGIN(parsed.get(), "net", &section);
  BSON_APPEND_UTF8(&section, "bindIp", flags.bind.c_str());
  BSON_APPEND_INT32(&section, "port", flags.port);
  bson_append_document_end(parsed.get(), &section);
  BSON_APPEND_DOCUMENT_BEGIN(parsed.get(), "storage", &section);
  BSON_APPEND_UTF8(&section, "dbPath", flags.memory ? ":memory:" : flags.dbpath.c_str());
  BSON_APPEND_UTF8(&section, "engine", flags.memory ? "inMemory" : "docket");
  bson_append_document_end(parsed.get(), &section);
  if (!flags.replica_set.empty()) {
    BSON_APPEND_DOCUMENT_BEGIN(parsed.get(), "replication", &section);
    BSON_APPEND_UTF8(&section, "replSet", flags.replica_set.c_str());
    bson_append_document_end(parsed.get(), &section);
  }
  if (flags.enable_test_commands) {
    BSON_APPEND_DOCUMENT_BEGIN(parsed.get(), "setParameter", &section);
    BSON_APPEND_UTF8(&section, "enableTestCommands", "1");
    bson_append_document_end(parsed.get(), &section);
  }
  if (!flags.jitter.empty()) BSON_APPEND_UTF8(parsed.get(), "jitter", flags.jitter.c_str());
  options.parsed_options = parsed.Finish();

  if (!IsLoopback(flags.bind)) {
    // As mongod: said loudly, whatever --quiet says, and kept for getLog
    // "startupWarnings", which mongosh shows on connecting.
    const std::string warnings[] = {
        "Access control is not enabled for the database. Read and write access to data and configuration is "
        "unrestricted",
        "This server is bound to " + flags.bind + ", not to a loopback address: anyone who can reach its port can "
            "read, change and drop every database. Docket has no authentication yet; bind to 127.0.0.1 (the "
            "default) unless the network itself is trusted",
    };
    int id = 22120;  // mongod's log id for the first of them
    for (const std::string& warning : warnings) {
      server::WriteLog({log.json, false}, 'W', "CONTROL", id, "initandlisten", "** WARNING: " + warning + ".");
      // What getLog "startupWarnings" returns and mongosh parses.
      options.startup_warnings.push_back(
          commands::MongodLogLine('W', "CONTROL", id++, "initandlisten", warning, {"startupWarnings"}));
    }
  }
  auto server = server::Server::Start(engine->get(), options);
  if (!server.ok()) {
    server::WriteLog(log, 'E', "NETWORK", 0, "initandlisten", server.status().ToString());
    return 1;
  }
  const uint16_t port = (*server)->port();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  std::string host = flags.bind == "0.0.0.0" ? "127.0.0.1" : flags.bind;
  const std::string set = flags.replica_set.empty() ? "" : "?replicaSet=" + flags.replica_set;
  if (flags.mongod_style) {
    // What mongod logs and launchers (mongodb-memory-server, ...) wait for.
    std::printf("%s\n", commands::MongodLogLine('I', "NETWORK", 23016, "listener", "Waiting for connections", {},
                                                 "{\"port\":" + std::to_string(port) + ",\"ssl\":\"off\"}")
                            .c_str());
    if (!flags.replica_set.empty()) {
      std::printf("%s\n", commands::MongodLogLine('I', "REPL", 21331, "OplogApplier-0",
                                                   "Transition to primary complete; database writes are now permitted")
                              .c_str());
    }
  }
  server::WriteLog(log, 'I', "NETWORK", 23016, "listener", "Waiting for connections",
                   "{\"port\":" + std::to_string(port) + ",\"ssl\":\"off\"}");
  std::printf("docket: ready on mongodb://%s:%u/%s (port %u, %s, %.1f ms)\n", host.c_str(), port, set.c_str(), port,
              flags.memory ? "in memory" : flags.dbpath.c_str(), ms);
  std::fflush(stdout);

  // Signals, and once a second the storage's health: after a write failed
  // for want of space (or the file system turned read-only) the database
  // serves reads and refuses writes; once its directory can take writes
  // again, the database is reopened (replaying its log: nothing acknowledged
  // is lost) and the server restarted on the same port. Clients see their
  // connections close once, and drivers reconnect.
  std::unique_ptr<Engine> live_engine = std::move(engine).value();
  std::unique_ptr<server::Server> live_server = std::move(server).value();
  options.port = port;
  int received = 0;
  while (true) {
    const timespec one_second{1, 0};
    received = sigtimedwait(&signals, nullptr, &one_second);
    if (received < 0) {
      if (!flags.memory && !live_engine->Health().ok() && StorageCanWrite(flags.dbpath)) {
        server::WriteLog(log, 'I', "STORAGE", 0, "main",
                         "the storage at " + flags.dbpath + " can write again: reopening the database");
        live_server->Stop();
        live_server.reset();
        live_engine.reset();
        auto reopened = Engine::Open(engine_options);
        while (!reopened.ok()) {
          server::WriteLog(log, 'E', "STORAGE", 0, "main",
                           "reopening failed (" + reopened.status().ToString() + "); trying again in a second");
          std::this_thread::sleep_for(std::chrono::seconds(1));
          reopened = Engine::Open(engine_options);
        }
        live_engine = std::move(reopened).value();
        auto restarted = server::Server::Start(live_engine.get(), options);
        if (!restarted.ok()) {
          server::WriteLog(log, 'E', "NETWORK", 0, "main", "cannot restart the server: " + restarted.status().ToString());
          return 1;
        }
        live_server = std::move(restarted).value();
        server::WriteLog(log, 'I', "STORAGE", 0, "main", "the database is writable again (port " + std::to_string(port) + ")");
      }
      continue;
    }
    if (received == SIGINT || received == SIGTERM) break;
    if (received == SIGUSR1) {
      (void)RotateLog(log);  // logged either way
    } else {
      server::WriteLog(log, 'I', "CONTROL", 0, "signalProcessingThread",
                       "signal " + std::to_string(received) + " ignored (SIGINT or SIGTERM stop the server)");
    }
  }
  server::WriteLog(log, 'I', "CONTROL", 23377, "signalProcessingThread",
                   "Received signal", "{\"signal\":" + std::to_string(received) + "}");
  live_server->Stop();
  if (!live_engine->Health().ok()) {
    // Nothing more can be flushed; the log holds every acknowledged write.
    server::WriteLog(log, 'E', "STORAGE", 0, "signalProcessingThread",
                     "stopped with the storage failed: " + live_engine->Health().ToString());
    return 0;
  }
  Status flushed = live_engine->Flush();
  if (!flushed.ok()) {
    server::WriteLog(log, 'E', "STORAGE", 0, "signalProcessingThread", "flush at shutdown failed: " + flushed.ToString());
    return 1;
  }
  server::WriteLog(log, 'I', "CONTROL", 23138, "signalProcessingThread", "Shutting down", "{\"exitCode\":0}");
  return 0;
}

}  // namespace docket::tools
