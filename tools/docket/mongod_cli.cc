#include "tools/docket/mongod_cli.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "docket_build_info.h"
#include "tools/docket/mongod_config.h"
#include "tools/docket/serve.h"

namespace docket::tools {

namespace {

constexpr int kBadOptions = 2;  // mongod's EXIT_BADOPTIONS

// mongod's options that take a value, and those that do not.
const std::set<std::string>& ValueOptions() {
  static const std::set<std::string> options = {
      "port", "dbpath", "bind_ip", "replSet", "storageEngine", "maxConns", "wiredTigerCacheSizeGB", "logpath",
      "setParameter", "oplogSize", "unixSocketPrefix", "filePermissions", "timeStampFormat", "tlsMode", "sslMode",
      "enableMajorityReadConcern", "keyFile", "clusterAuthMode"};
  return options;
}

int Refuse(const std::string& message) {
  std::fprintf(stderr, "docket mongod: %s\n", message.c_str());
  return kBadOptions;
}

void Ignored(const std::string& option) {
  std::fprintf(stderr, "docket mongod: option %s accepted and ignored: it changes nothing Docket answers\n",
               option.c_str());
}

int PrintVersion() {
  std::printf("db version v6.0.0\nBuild Info: {\n    \"version\": \"6.0.0\",\n    \"gitVersion\": \"%s\",\n"
              "    \"docketVersion\": \"%s\",\n    \"modules\": [],\n    \"allocator\": \"system\",\n"
              "    \"environment\": {\n        \"distarch\": \"x86_64\",\n        \"target_arch\": \"x86_64\"\n    }\n}\n",
              DOCKET_GIT_COMMIT, DOCKET_VERSION);
  return 0;
}

std::optional<long long> Number(const std::string& text) {
  try {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used != text.size()) return std::nullopt;
    return value;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

bool InvokedAsMongod(const char* argv0) {
  return argv0 != nullptr && std::filesystem::path(argv0).filename() == "mongod";
}

namespace {

// The command line with --config/-f FILE replaced by the options the file
// sets, put first: the command line's own options override the file's, as
// mongod's do.
std::optional<std::vector<std::string>> ExpandConfig(const std::vector<std::string>& args, std::string* error) {
  std::vector<std::string> out;
  bool expanded = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string path;
    if (args[i] == "--config" || args[i] == "-f") {
      if (i + 1 >= args.size()) {
        *error = "option " + args[i] + " needs a value";
        return std::nullopt;
      }
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      out.push_back(args[i]);
      continue;
    }
    if (expanded) {
      *error = "--config given twice";
      return std::nullopt;
    }
    expanded = true;
    MongodConfig config = ReadMongodConfig(path);
    if (!config.error.empty()) {
      *error = config.error;
      return std::nullopt;
    }
    out.insert(out.begin(), config.args.begin(), config.args.end());
  }
  return out;
}

}  // namespace

int RunMongod(const std::vector<std::string>& command_line, const std::vector<std::string>& argv) {
  std::string config_error;
  const std::optional<std::vector<std::string>> expanded = ExpandConfig(command_line, &config_error);
  if (!expanded) return Refuse(config_error);
  const std::vector<std::string>& args = *expanded;
  ServeFlags flags;
  flags.mongod_style = true;
  flags.dbpath = "/data/db";
  flags.log_format = "json";
  std::string storage_engine = "wiredTiger";
  std::string logpath;
  bool logappend = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0) return Refuse("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (ValueOptions().count(name) && !value) {
      if (i + 1 >= args.size()) return Refuse("option --" + name + " needs a value");
      value = args[++i];
    }
    if (name == "version") return PrintVersion();
    if (name == "port") {
      auto port = Number(*value);
      if (!port || *port < 0 || *port > 65535) return Refuse("--port must be a number from 0 to 65535");
      flags.port = static_cast<int>(*port);
    } else if (name == "dbpath") {
      flags.dbpath = *value;
    } else if (name == "bind_ip") {
      if (value->find(',') != std::string::npos) {
        return Refuse("--bind_ip with several addresses is not supported by Docket yet: give one address");
      }
      flags.bind = *value == "localhost" ? "127.0.0.1" : *value;
    } else if (name == "bind_ip_all") {
      flags.bind = "0.0.0.0";
    } else if (name == "replSet") {
      flags.replica_set = value->substr(0, value->find('/'));  // "name/seed,seed": the seeds are other members
    } else if (name == "storageEngine") {
      storage_engine = *value;
      if (storage_engine != "ephemeralForTest" && storage_engine != "inMemory" && storage_engine != "wiredTiger") {
        return Refuse("--storageEngine " + storage_engine +
                      " is not supported: Docket runs ephemeralForTest and inMemory in memory, wiredTiger on disk");
      }
    } else if (name == "oplogSize") {
      auto mb = Number(*value);
      if (!mb || *mb < 1) return Refuse("--oplogSize must be a positive number of megabytes");
      flags.oplog_mb = *mb;
    } else if (name == "maxConns") {
      auto n = Number(*value);
      if (!n || *n < 1) return Refuse("--maxConns must be a positive number");
      flags.max_connections = *n;
    } else if (name == "wiredTigerCacheSizeGB") {
      const double gb = std::atof(value->c_str());
      if (!(gb > 0)) return Refuse("--wiredTigerCacheSizeGB must be a positive number");
      flags.cache_mb = static_cast<long long>(gb * 1024);
    } else if (name == "quiet") {
      flags.quiet = true;
    } else if (name == "logpath") {
      logpath = *value;
    } else if (name == "logappend") {
      logappend = true;
    } else if (name == "setParameter") {
      const size_t eq = value->find('=');
      const std::string key = value->substr(0, eq);
      const std::string setting = eq == std::string::npos ? "" : value->substr(eq + 1);
      if (key == "enableTestCommands") {
        flags.enable_test_commands = setting == "1" || setting == "true";
      } else if (key == "transactionLifetimeLimitSeconds") {
        auto n = Number(setting);
        if (!n || *n < 1) return Refuse("setParameter transactionLifetimeLimitSeconds must be a positive number");
        flags.transaction_lifetime_seconds = static_cast<int>(*n);
      } else if (key == "notablescan" || key == "ttlMonitorEnabled") {
        if (setting != "1" && setting != "0" && setting != "true" && setting != "false") {
          return Refuse("setParameter " + key + " must be true, false, 1 or 0");
        }
        (key == "notablescan" ? flags.no_table_scan : flags.ttl_monitor_enabled) = setting == "1" || setting == "true";
      } else if (key == "ttlMonitorSleepSecs") {
        auto n = Number(setting);
        if (!n || *n < 1) return Refuse("setParameter ttlMonitorSleepSecs must be a positive number");
        flags.ttl_monitor_seconds = static_cast<int>(*n);
      } else {
        Ignored("--setParameter " + *value);
      }
    } else if (name == "tlsMode" || name == "sslMode") {
      if (*value != "disabled") return Refuse("--" + name + " " + *value + " is not supported: Docket has no TLS yet");
      Ignored("--" + name + " disabled");
    } else if (name == "noauth" || name == "nounixsocket" || name == "journal" || name == "nojournal" ||
               name == "ipv6" || name == "enableMajorityReadConcern" ||
               name == "unixSocketPrefix" || name == "filePermissions" || name == "timeStampFormat") {
      Ignored("--" + name);
    } else if (name == "fork") {
      return Refuse("--fork is not supported: run Docket in the foreground (under systemd or a launcher)");
    } else if (name == "auth" || name == "keyFile" || name == "clusterAuthMode") {
      return Refuse("--" + name + " is not supported: Docket has no authentication yet");
    } else {
      return Refuse("unrecognised option '--" + name + "'");
    }
  }
  flags.memory = storage_engine != "wiredTiger";
  if (!flags.memory && !std::filesystem::is_directory(flags.dbpath)) {
    std::fprintf(stderr,
                 "docket mongod: Data directory %s not found. Create the missing directory or specify another path "
                 "using the --dbpath command line option.\n",
                 flags.dbpath.c_str());
    return 100;  // mongod's EXIT_UNCAUGHT, which it exits with here
  }
  flags.logpath = logpath;
  flags.logappend = logappend;
  flags.argv = argv;
  return RunServe(flags);
}

}  // namespace docket::tools
