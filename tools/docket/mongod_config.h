// mongod's YAML configuration file (`--config FILE`, `-f FILE`), for the
// options Docket has: each setting becomes the command-line option mongod
// documents as its equivalent, so the file and the command line share one
// set of rules (mongod_cli.cc) and a setting Docket refuses on the command
// line is refused from the file too.
//
//   net.port, net.bindIp, net.bindIpAll, net.maxIncomingConnections, net.ipv6,
//   net.unixDomainSocket.{enabled,pathPrefix,filePermissions},
//   net.tls.mode / net.ssl.mode,
//   storage.dbPath, storage.engine, storage.journal.enabled,
//   storage.wiredTiger.engineConfig.cacheSizeGB,
//   systemLog.{destination,path,logAppend,quiet,timeStampFormat},
//   replication.{replSetName,oplogSizeMB,enableMajorityReadConcern},
//   security.authorization, security.keyFile,
//   processManagement.fork, setParameter.<name>.
//
// Any other key is refused with its dotted path: a setting the file asks for
// is never silently dropped.
#pragma once

#include <string>
#include <vector>

namespace docket::tools {

struct MongodConfig {
  std::vector<std::string> args;  // mongod command-line options, e.g. {"--port", "27017"}
  std::string error;              // non-empty: the file is refused, for this reason
};

MongodConfig ReadMongodConfig(const std::string& path);

}  // namespace docket::tools
