// `docket serve`: runs the wire-protocol server until SIGINT or SIGTERM.
#pragma once

#include <string>
#include <vector>

namespace docket::tools {

struct ServeFlags {
  std::string dbpath = "./docket-data";
  bool memory = false;
  std::string bind = "127.0.0.1";
  int port = 27017;
  long long max_connections = 10000;
  std::string log_format = "text";
  std::string logpath;     // empty: standard error
  bool logappend = false;  // append to an existing --logpath file rather than start it afresh
  bool quiet = false;
  bool enable_test_commands = false;
  std::string replica_set;
  // With replica_set: the oplog's size (EngineOptions::oplog_size_bytes), MiB.
  // A database that has an oplog keeps its size.
  long long oplog_mb = 256;
  int transaction_lifetime_seconds = 60;
  std::string jitter;  // "MIN-MAX" milliseconds, empty: off
  unsigned long long seed = 0;
  int workers = 0;        // the pool's base size; 0: the number of cores, at least 2
  int max_workers = 128;  // the most it grows to while commands block
  int message_timeout_seconds = 30;
  int idle_timeout_seconds = 30 * 60;
  long long cache_mb = 256;    // block cache (EngineOptions::cache_size_bytes)
  long long row_cache_mb = 0;  // row cache (EngineOptions::row_cache_bytes); 0: none
  long long blocking_memory_mb = 100;  // EngineOptions::query_memory_limit_bytes (MongoDB: 100 MB)
  // mongod's --setParameter notablescan / ttlMonitorEnabled / ttlMonitorSleepSecs
  // (setParameter changes them at runtime too).
  bool no_table_scan = false;
  bool ttl_monitor_enabled = true;
  int ttl_monitor_seconds = 60;
  std::vector<std::string> argv;
  // Started as mongod (tools/docket/mongod_cli.h): the ready line is
  // mongod's "Waiting for connections" log line, which launchers wait for,
  // and a replica set says its member became primary as mongod says it.
  bool mongod_style = false;
};

// Returns the process exit code: 0 after a clean shutdown.
int RunServe(const ServeFlags& flags);

}  // namespace docket::tools
