#include "tools/docket/mongod_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

namespace docket::tools {
namespace {

// Thrown inside the reader for a refused setting; becomes MongodConfig::error.
struct Refused {
  std::string message;
};

bool Boolean(const YAML::Node& node, const std::string& key) {
  const std::string text = node.as<std::string>();
  if (text == "true") return true;
  if (text == "false") return false;
  throw Refused{key + " must be true or false, not \"" + text + "\""};
}

std::string Scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) throw Refused{key + " must be a single value"};
  return node.as<std::string>();
}

// How one dotted key becomes command-line options.
using Rule = std::function<void(const YAML::Node&, const std::string& key, std::vector<std::string>*)>;

Rule Valued(const char* option) {
  return [option](const YAML::Node& node, const std::string& key, std::vector<std::string>* args) {
    args->push_back(option);
    args->push_back(Scalar(node, key));
  };
}

// A true boolean becomes `if_true`; a false one `if_false` (empty: nothing).
Rule Switch(const char* if_true, const char* if_false = "") {
  return [if_true, if_false](const YAML::Node& node, const std::string& key, std::vector<std::string>* args) {
    const std::string option = Boolean(node, key) ? if_true : if_false;
    if (!option.empty()) args->push_back(option);
  };
}

const std::map<std::string, Rule>& Rules() {
  static const std::map<std::string, Rule> rules = {
      {"net.port", Valued("--port")},
      {"net.bindIp", Valued("--bind_ip")},
      {"net.bindIpAll", Switch("--bind_ip_all")},
      {"net.maxIncomingConnections", Valued("--maxConns")},
      {"net.ipv6", Switch("--ipv6")},
      {"net.unixDomainSocket.enabled", Switch("", "--nounixsocket")},
      {"net.unixDomainSocket.pathPrefix", Valued("--unixSocketPrefix")},
      {"net.unixDomainSocket.filePermissions", Valued("--filePermissions")},
      {"net.tls.mode", Valued("--tlsMode")},
      {"net.ssl.mode", Valued("--sslMode")},
      {"storage.dbPath", Valued("--dbpath")},
      {"storage.engine", Valued("--storageEngine")},
      {"storage.journal.enabled", Switch("--journal", "--nojournal")},
      {"storage.wiredTiger.engineConfig.cacheSizeGB", Valued("--wiredTigerCacheSizeGB")},
      {"systemLog.destination",
       [](const YAML::Node& node, const std::string& key, std::vector<std::string>*) {
         const std::string where = Scalar(node, key);
         if (where == "syslog") throw Refused{"systemLog.destination: syslog is not supported: use file (or none, for standard output)"};
         if (where != "file") throw Refused{"systemLog.destination must be file or syslog, not \"" + where + "\""};
       }},
      {"systemLog.path", Valued("--logpath")},
      {"systemLog.logAppend", Switch("--logappend")},
      {"systemLog.quiet", Switch("--quiet")},
      {"systemLog.timeStampFormat", Valued("--timeStampFormat")},
      {"replication.replSetName", Valued("--replSet")},
      {"replication.oplogSizeMB", Valued("--oplogSize")},
      {"replication.enableMajorityReadConcern", Valued("--enableMajorityReadConcern")},
      {"security.authorization",
       [](const YAML::Node& node, const std::string& key, std::vector<std::string>* args) {
         const std::string mode = Scalar(node, key);
         if (mode == "enabled") args->push_back("--auth");
         else if (mode != "disabled") throw Refused{key + " must be enabled or disabled, not \"" + mode + "\""};
       }},
      {"security.keyFile", Valued("--keyFile")},
      {"processManagement.fork", Switch("--fork")},
  };
  return rules;
}

void Walk(const YAML::Node& node, const std::string& prefix, std::vector<std::string>* args) {
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    const YAML::Node& value = entry.second;
    if (key == "setParameter") {
      if (!value.IsMap()) throw Refused{"setParameter must be a mapping of parameter names to values"};
      for (const auto& parameter : value) {
        args->push_back("--setParameter");
        args->push_back(parameter.first.as<std::string>() + "=" +
                        Scalar(parameter.second, "setParameter." + parameter.first.as<std::string>()));
      }
      continue;
    }
    auto rule = Rules().find(key);
    if (rule != Rules().end()) {
      if (value.IsNull()) throw Refused{key + " has no value"};
      rule->second(value, key, args);
    } else if (value.IsMap()) {
      Walk(value, key, args);
    } else if (name.rfind("__", 0) == 0) {
      throw Refused{key + ": expansion directives (__exec, __rest) are not supported"};
    } else {
      throw Refused{"unrecognised setting " + key + " (Docket takes the settings listed in docket(1))"};
    }
  }
}

}  // namespace

MongodConfig ReadMongodConfig(const std::string& path) {
  MongodConfig config;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) return config;  // an empty file sets nothing
    if (!root.IsMap()) {
      config.error = path + ": the configuration must be a YAML mapping (storage:, net:, ...)";
      return config;
    }
    Walk(root, "", &config.args);
  } catch (const Refused& refused) {
    config.error = path + ": " + refused.message;
  } catch (const YAML::BadFile&) {
    config.error = "cannot read the configuration file " + path;
  } catch (const YAML::Exception& e) {
    config.error = path + ": not valid YAML: " + e.what();
  }
  return config;
}

}  // namespace docket::tools
