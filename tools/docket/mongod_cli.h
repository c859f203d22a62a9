// `docket mongod ...`, or the docket binary started under the name `mongod`
// (a symlink): mongod's command line, as launchers (mongodb-memory-server,
// test fixtures, scripts) pass it, mapped onto `docket serve`.
//
// Taken: --port, --dbpath, --bind_ip (one address), --bind_ip_all,
// --replSet, --storageEngine (ephemeralForTest and inMemory: in memory;
// wiredTiger: on disk), --maxConns, --wiredTigerCacheSizeGB, --quiet,
// --logpath (+ --logappend), --setParameter enableTestCommands=1 and
// transactionLifetimeLimitSeconds=N, --version (mongod's "db version v6.0.0"
// block). Accepted and ignored, each with a log line: options that change
// nothing a client sees (--noauth, --nounixsocket, --journal, --nojournal,
// --ipv6, --oplogSize, --enableMajorityReadConcern, --unixSocketPrefix,
// --filePermissions, --timeStampFormat, --tlsMode/--sslMode disabled, other
// --setParameter names). --config/-f FILE reads mongod's YAML configuration
// (mongod_config.h); options on the command line override the file's.
// Anything else, --fork and --auth included, is refused with a message,
// exit code 2 as mongod's bad options.
// As mongod, an on-disk --dbpath (default /data/db) must exist.
#pragma once

#include <string>
#include <vector>

namespace docket::tools {

// Whether argv[0] names the program mongod (a symlink to docket).
bool InvokedAsMongod(const char* argv0);

// Runs mongod's command line `args` (without the program name). Returns the
// process exit code.
int RunMongod(const std::vector<std::string>& args, const std::vector<std::string>& argv);

}  // namespace docket::tools
