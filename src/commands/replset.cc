// The replica-set commands test launchers call (replSetInitiate,
// replSetGetStatus, replSetGetConfig), answered for what Docket is with
// --replica-set: a one-member set whose member is primary from the start
// (its configuration is the command line). Without --replica-set they fail
// as mongod's do without --replSet: NoReplicationEnabled (76).
#include <chrono>
#include <string>

#include "commands/handlers.h"

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

}  // namespace

Status ReplSetInitiate(CommandContext& context, const CommandRequest&, bson_t*) {
  DOCKET_RETURN_IF_ERROR(NotReplicaSet(context, "server is not running with --replSet"));
  // Initiated when it started: what mongod answers a second initiate
  // (launchers match this message to carry on).
  return Status(ErrorCode::kAlreadyInitialized, "already initialized");
}

Status ReplSetGetStatus(CommandContext& context, const CommandRequest&, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(NotReplicaSet(context, "not running with --replSet"));
  const ServerState& server = context.server;
  const LogicalTime applied = server.clock.LastWrite();
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
  BSON_APPEND_INT32(&config, "version", 1);
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

}  // namespace docket::commands
