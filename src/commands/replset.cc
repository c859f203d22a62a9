// The replica-set commands test launchers call (replSetInitiate,
// replSetGetStatus, replSetGetConfig), answered for what Docket is with
// --replica-set: a one-member set whose member is primary from the start
// (its configuration is the command line). Without --replica-set they fail
// as mongod's do without --replSet: NoReplicationEnabled (76).
#include <algorithm>
#include <chrono>
#include <string>

#include "commands/args.h"
#include "commands/handlers.h"
#include "bson/value.h"

namespace docket::commands {
namespace {

Status NotReplicaSet(const CommandContext& context, const char* what) {
  if (!context.server.replica_set.empty()) return Status::OK();
  return Status(ErrorCode::kNoReplicationEnabled, std::string(what));
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// {ts: <time>, t: 1}: an optime of the set's one term.
void AppendOpTime(bson_t* parent, const char* key, LogicalTime t) {
  bson_t op_time;
  BSON_APPEND_DOCUMENT_BEGIN(parent, key, &op_time);
  BSON_APPEND_TIMESTAMP(&op_time, "ts", t.seconds, t.increment);
  BSON_APPEND_INT64(&op_time, "t", 1);
  bson_append_document_end(parent, &op_time);
}

// Checks a configuration given to replSetInitiate or replSetReconfig
// against the one member Docket is: the set's name, exactly one member, and
// that member this server (its port). Sets *version to the config's.
Status CheckConfig(const CommandContext& context, const Document& config, const char* command, int64_t* version) {
  const ServerState& server = context.server;
  bson_iter_t it;
  if (!config.Find("_id", &it) || !BSON_ITER_HOLDS_UTF8(&it) ||
      std::string(bson_iter_utf8(&it, nullptr)) != server.replica_set) {
    return Status(ErrorCode::kInvalidReplicaSetConfig,
                  std::string("Rejecting ") + command + " with a set name that differs from command line set name, "
                  "command line set name: " + server.replica_set);
  }
  *version = config.Find("version", &it) && BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 1;
  bson_iter_t members, member, field;
  if (!config.Find("members", &members) || !BSON_ITER_HOLDS_ARRAY(&members)) {
    return Status(ErrorCode::kInvalidReplicaSetConfig, "the configuration has no members array");
  }
  bson_iter_recurse(&members, &member);
  int count = 0;
  std::string host;
  while (bson_iter_next(&member)) {
    ++count;
    if (BSON_ITER_HOLDS_DOCUMENT(&member) && bson_iter_recurse(&member, &field) && bson_iter_find(&field, "host") &&
        BSON_ITER_HOLDS_UTF8(&field)) {
      host = bson_iter_utf8(&field, nullptr);
    }
  }
  if (count != 1) {
    return Status(ErrorCode::kNotImplemented, "a replica set of " + std::to_string(count) +
                                                  " members: Docket is a one-member set (--replica-set)");
  }
  const std::string own = server.advertised_host;
  const auto port_of = [](const std::string& h) { return h.substr(h.rfind(':') + 1); };
  if (host.empty() || port_of(host) != port_of(own)) {
    return Status(ErrorCode::kInvalidReplicaSetConfig,
                  "No host described in new configuration for replica set " + server.replica_set +
                      " maps to this node (" + own + ")");
  }
  return Status::OK();
}

}  // namespace

Status ReplSetInitiate(CommandContext& context, const CommandRequest& request, bson_t*) {
  DOCKET_RETURN_IF_ERROR(NotReplicaSet(context, "server is not running with --replSet"));
  // What mongod answers once initiated (launchers match the message). The
  // member is primary from the start, so an initiate only checks and records.
  if (context.server.replset_initiated.load()) return Status(ErrorCode::kAlreadyInitialized, "already initialized");
  bson_iter_t it;
  int64_t version = 1;
  if (request.body->Find("replSetInitiate", &it) && BSON_ITER_HOLDS_DOCUMENT(&it)) {
    Document config = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
    if (!config.empty()) DOCKET_RETURN_IF_ERROR(CheckConfig(context, config, "initiate", &version));
  }
  if (context.server.replset_initiated.exchange(true)) {
    return Status(ErrorCode::kAlreadyInitialized, "already initialized");
  }
  context.server.replset_config_version.store(version);
  return Status::OK();
}

Status ReplSetReconfig(CommandContext& context, const CommandRequest& request, bson_t*) {
  DOCKET_RETURN_IF_ERROR(NotReplicaSet(context, "not running with --replSet"));
  bson_iter_t it;
  if (!request.body->Find("replSetReconfig", &it) || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'replSetReconfig' is the wrong type, expected an object");
  }
  Document config = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
  int64_t version = 1;
  DOCKET_RETURN_IF_ERROR(CheckConfig(context, config, "reconfig", &version));
  const bool force = GetBoolField(*request.body, "force", false);
  const int64_t current = context.server.replset_config_version.load();
  if (!force && version <= current) {
    return Status(ErrorCode::kNewReplicaSetConfigurationIncompatible,
                  "New config is rejected: its version " + std::to_string(version) +
                      " is not greater than the current config's version " + std::to_string(current));
  }
  // mongod raises a forced config's version by a large step, so that it wins
  // over any config a member might still have.
  context.server.replset_config_version.store(force ? std::max(version, current) + 10000 : version);
  context.server.replset_initiated.store(true);
  return Status::OK();
}

Status ReplSetGetStatus(CommandContext& context, const CommandRequest&, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(NotReplicaSet(context, "not running with --replSet"));
  const ServerState& server = context.server;
  const LogicalTime applied = server.clock().LastWrite();
  const int64_t now = NowMillis();
  const int64_t written = int64_t{applied.seconds} * 1000;
  BSON_APPEND_UTF8(reply, "set", server.replica_set.c_str());
  BSON_APPEND_DATE_TIME(reply, "date", now);
  BSON_APPEND_INT32(reply, "myState", 1);
  BSON_APPEND_INT64(reply, "term", 1);
  BSON_APPEND_UTF8(reply, "syncSourceHost", "");
  BSON_APPEND_INT32(reply, "syncSourceId", -1);
  BSON_APPEND_INT64(reply, "heartbeatIntervalMillis", 2000);
  BSON_APPEND_INT32(reply, "majorityVoteCount", 1);
  BSON_APPEND_INT32(reply, "writeMajorityCount", 1);
  BSON_APPEND_INT32(reply, "votingMembersCount", 1);
  BSON_APPEND_INT32(reply, "writableVotingMembersCount", 1);
  // One member: what is applied is durable and majority-committed.
  bson_t optimes;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "optimes", &optimes);
  AppendOpTime(&optimes, "lastCommittedOpTime", applied);
  BSON_APPEND_DATE_TIME(&optimes, "lastCommittedWallTime", written);
  AppendOpTime(&optimes, "readConcernMajorityOpTime", applied);
  AppendOpTime(&optimes, "appliedOpTime", applied);
  AppendOpTime(&optimes, "durableOpTime", applied);
  BSON_APPEND_DATE_TIME(&optimes, "lastAppliedWallTime", written);
  BSON_APPEND_DATE_TIME(&optimes, "lastDurableWallTime", written);
  bson_append_document_end(reply, &optimes);
  bson_t members, member;
  BSON_APPEND_ARRAY_BEGIN(reply, "members", &members);
  BSON_APPEND_DOCUMENT_BEGIN(&members, "0", &member);
  BSON_APPEND_INT32(&member, "_id", 0);
  BSON_APPEND_UTF8(&member, "name", server.advertised_host.c_str());
  BSON_APPEND_DOUBLE(&member, "health", 1);
  BSON_APPEND_INT32(&member, "state", 1);
  BSON_APPEND_UTF8(&member, "stateStr", "PRIMARY");
  BSON_APPEND_INT64(&member, "uptime",
                    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - server.started)
                        .count());
  AppendOpTime(&member, "optime", applied);
  BSON_APPEND_DATE_TIME(&member, "optimeDate", written);
  BSON_APPEND_UTF8(&member, "syncSourceHost", "");
  BSON_APPEND_INT32(&member, "syncSourceId", -1);
  BSON_APPEND_UTF8(&member, "infoMessage", "");
  BSON_APPEND_DATE_TIME(&member, "electionDate",
                        std::chrono::duration_cast<std::chrono::milliseconds>(server.started.time_since_epoch()).count());
  BSON_APPEND_INT32(&member, "configVersion", 1);
  BSON_APPEND_INT32(&member, "configTerm", 1);
  BSON_APPEND_BOOL(&member, "self", true);
  BSON_APPEND_UTF8(&member, "lastHeartbeatMessage", "");
  bson_append_document_end(&members, &member);
  bson_append_array_end(reply, &members);
  return Status::OK();
}

Status ReplSetGetConfig(CommandContext& context, const CommandRequest&, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(NotReplicaSet(context, "not running with --replSet"));
  const ServerState& server = context.server;
  bson_t config, members, member, tags, settings;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "config", &config);
  BSON_APPEND_UTF8(&config, "_id", server.replica_set.c_str());
  BSON_APPEND_INT64(&config, "version", server.replset_config_version.load());
  BSON_APPEND_INT32(&config, "term", 1);
  BSON_APPEND_ARRAY_BEGIN(&config, "members", &members);
  BSON_APPEND_DOCUMENT_BEGIN(&members, "0", &member);
  BSON_APPEND_INT32(&member, "_id", 0);
  BSON_APPEND_UTF8(&member, "host", server.advertised_host.c_str());
  BSON_APPEND_BOOL(&member, "arbiterOnly", false);
  BSON_APPEND_BOOL(&member, "buildIndexes", true);
  BSON_APPEND_BOOL(&member, "hidden", false);
  BSON_APPEND_DOUBLE(&member, "priority", 1);
  BSON_APPEND_DOCUMENT_BEGIN(&member, "tags", &tags);
  bson_append_document_end(&member, &tags);
  BSON_APPEND_INT64(&member, "secondaryDelaySecs", 0);
  BSON_APPEND_INT32(&member, "votes", 1);
  bson_append_document_end(&members, &member);
  bson_append_array_end(&config, &members);
  BSON_APPEND_INT64(&config, "protocolVersion", 1);
  BSON_APPEND_BOOL(&config, "writeConcernMajorityJournalDefault", true);
  BSON_APPEND_DOCUMENT_BEGIN(&config, "settings", &settings);
  BSON_APPEND_BOOL(&settings, "chainingAllowed", true);
  BSON_APPEND_INT32(&settings, "heartbeatIntervalMillis", 2000);
  BSON_APPEND_INT32(&settings, "heartbeatTimeoutSecs", 10);
  BSON_APPEND_INT32(&settings, "electionTimeoutMillis", 10000);
  BSON_APPEND_INT32(&settings, "catchUpTimeoutMillis", -1);
  bson_append_document_end(&config, &settings);
  bson_append_document_end(reply, &config);
  return Status::OK();
}

// mongod's shutdown, on admin only (as mongod without authentication, from
// any client): the program stops the server cleanly, as on SIGTERM; `force`
// and `timeoutSecs` change nothing for one member. The reply may or may not
// reach the client before its connection closes, as with mongod.
Status Shutdown(CommandContext& context, const CommandRequest& request, bson_t*) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "shutdown"));
  if (!context.server.request_shutdown) {
    return Status(ErrorCode::kIllegalOperation, "shutdown is not available: this server runs inside another program");
  }
  context.server.request_shutdown();
  return Status::OK();
}

}  // namespace docket::commands
