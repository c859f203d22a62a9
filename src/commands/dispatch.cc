// RunCommand: the one place where a Status becomes a MongoDB error reply.
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "bson/builder.h"
#include "docket/progress.h"
#include "commands/api_version.h"
#include "commands/args.h"
#include "commands/cluster_time.h"
#include "commands/command_fields.h"
#include "commands/handlers.h"
#include "commands/transactions.h"
#include "docket/deadline.h"
#include "docket/metrics.h"
#include "bson/append_element.h"

namespace docket::commands {
namespace {

// Command names are matched as MongoDB does: exactly, plus the lower-case
// aliases drivers still send.
// Wrapped in a struct: bson_t's alignment attribute on a bare function
// pointer type is dropped (and warned about) as a template argument.
struct Entry {
  Handler run;
};

const std::map<std::string, Entry, std::less<>>& Table() {
  static const auto* table = new std::map<std::string, Entry, std::less<>>{
      {"insert", {Insert}},
      {"find", {Find}},
      {"getMore", {GetMore}},
      {"killCursors", {KillCursors}},
      {"update", {Update}},
      {"delete", {Delete}},
      {"findAndModify", {FindAndModify}},
      {"findandmodify", {FindAndModify}},
      {"count", {Count}},
      {"distinct", {Distinct}},
      {"aggregate", {Aggregate}},
      {"hello", {Hello}},
      {"isMaster", {Hello}},
      {"ismaster", {Hello}},
      {"ping", {Ping}},
      {"profile", {Profile}},
      {"top", {Top}},
      {"buildInfo", {BuildInfo}},
      {"buildinfo", {BuildInfo}},
      {"listDatabases", {ListDatabases}},
      {"listCollections", {ListCollections}},
      {"create", {Create}},
      {"drop", {Drop}},
      {"dropDatabase", {DropDatabase}},
      {"renameCollection", {RenameCollection}},
      {"cloneCollectionAsCapped", {CloneCollectionAsCapped}},
      {"convertToCapped", {ConvertToCapped}},
      {"collMod", {CollMod}},
      {"listIndexes", {ListIndexes}},
      {"endSessions", {EndSessions}},
      {"whatsmyuri", {WhatsMyUri}},
      {"connectionStatus", {ConnectionStatus}},
      {"getParameter", {GetParameter}},
      {"setParameter", {SetParameter}},
      {"createBackup", {CreateBackup}},
      {"fsync", {Fsync}},
      {"logRotate", {LogRotate}},
      {"fsyncUnlock", {FsyncUnlock}},
      {"getCmdLineOpts", {GetCmdLineOpts}},
      {"hostInfo", {HostInfo}},
      {"serverStatus", {ServerStatus}},
      {"getLog", {GetLog}},
      {"collStats", {CollStats}},
      {"collstats", {CollStats}},
      {"dbStats", {DbStats}},
      {"dbstats", {DbStats}},
      {"validate", {Validate}},
      {"compact", {Compact}},
      {"explain", {Explain}},
      {"createIndexes", {CreateIndexes}},
      {"dropIndexes", {DropIndexes}},
      {"reIndex", {ReIndex}},
      {"commitTransaction", {CommitTransaction}},
      {"abortTransaction", {AbortTransaction}},
      {"currentOp", {CurrentOp}},
      {"killOp", {KillOp}},
      {"killSessions", {KillSessions}},
      {"killAllSessions", {KillAllSessions}},
      {"killAllSessionsByPattern", {KillAllSessionsByPattern}},
      {"replSetInitiate", {ReplSetInitiate}},
      {"replSetReconfig", {ReplSetReconfig}},
      {"shutdown", {Shutdown}},
      {"replSetGetStatus", {ReplSetGetStatus}},
      {"replSetGetConfig", {ReplSetGetConfig}},
  };
  return *table;
}

// Registered only when the server runs with test commands enabled.
const std::map<std::string, Entry, std::less<>>& TestTable() {
  static const auto* table = new std::map<std::string, Entry, std::less<>>{
      {"sleep", {Sleep}},
      {"configureFailPoint", {ConfigureFailPoint}},
      {"testVersion2", {TestApiVersion}},
      {"testVersions1And2", {TestApiVersion}},
      {"testDeprecationInVersion2", {TestApiVersion}},
      {"testRemoval", {TestApiVersion}},
      {"testDeprecation", {TestApiVersion}},
  };
  return *table;
}

}  // namespace

void AppendStatusDetails(bson_t* out, const Status& status) {
  const std::string& details = status.details();
  bson_iter_t it;
  if (details.empty() ||
      !bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(details.data()), details.size())) {
    return;
  }
  while (bson_iter_next(&it)) docket::bson::AppendElement(out, bson_iter_key(&it), -1, &it);
}

Document ErrorReply(const Status& status) {
  bson::Builder reply;
  BSON_APPEND_DOUBLE(reply.get(), "ok", 0.0);
  BSON_APPEND_UTF8(reply.get(), "errmsg", status.message().c_str());
  BSON_APPEND_INT32(reply.get(), "code", static_cast<int32_t>(status.code()));
  BSON_APPEND_UTF8(reply.get(), "codeName", ErrorCodeName(status.code()).c_str());
  AppendStatusDetails(reply.get(), status);
  return reply.Finish();
}

std::string CommandName(const Document& body) {
  bson_iter_t it;
  bson_iter_init_from_data(&it, body.data(), body.size());
  return bson_iter_next(&it) ? std::string(bson_iter_key(&it)) : std::string();
}

bool IsUnacknowledged(const Document& body) {
  auto wc = GetDocumentField(body, "writeConcern");
  if (!wc.ok()) return false;
  bson_iter_t w;
  return wc->Find("w", &w) && (BSON_ITER_HOLDS_INT32(&w) || BSON_ITER_HOLDS_INT64(&w) || BSON_ITER_HOLDS_DOUBLE(&w)) &&
         bson_iter_as_int64(&w) == 0;
}

namespace {

// The command's maxTimeMS in milliseconds (0: none), checked as mongod's
// parseMaxTimeMS: an integral number from 0 to 2^31-1, else BadValue. A
// getMore's own is how long a tailable awaitData cursor waits for data;
// GetMore reads it (and refuses it for other cursors), so it sets no deadline.
Result<int64_t> MaxTimeMS(const Document& body) {
  bson_iter_t it;
  if (!body.Find("maxTimeMS", &it) || !BSON_ITER_HOLDS_NUMBER(&it)) return int64_t{0};
  int64_t ms = 0;
  if (BSON_ITER_HOLDS_DOUBLE(&it)) {
    const double v = bson_iter_double(&it);
    if (!(v >= 0 && v <= 2147483647.0)) return Status(ErrorCode::kBadValue, "maxTimeMS out of range");  // NaN too
    if (v != std::floor(v)) return Status(ErrorCode::kBadValue, "maxTimeMS has non-integral value");
    ms = static_cast<int64_t>(v);
  } else {
    ms = bson_iter_as_int64(&it);
    if (ms < 0 || ms > 2147483647) return Status(ErrorCode::kBadValue, "maxTimeMS out of range");
  }
  return ms;
}

Document RunCommandUnstamped(CommandContext& context, const CommandRequest& request, const std::string& name) {
  if (name.empty()) return ErrorReply(Status(ErrorCode::kCommandNotFound, "no such command: ''"));
  const Entry* entry = nullptr;
  if (auto found = Table().find(name); found != Table().end()) {
    entry = &found->second;
  } else if (auto test = TestTable().find(name); context.server.test_commands && test != TestTable().end()) {
    entry = &test->second;
  }
  if (entry == nullptr) {
    return ErrorReply(Status(ErrorCode::kCommandNotFound, "no such command: '" + name + "'"));
  }
  if (request.db.empty()) return ErrorReply(Status(ErrorCode::kInvalidNamespace, "the command has no $db"));
  if (request.db.find('\0') != std::string::npos) {
    return ErrorReply(Status(ErrorCode::kInvalidNamespace, "Invalid database name: it contains a NUL byte"));
  }
  // The Stable API parameters come first, as in mongod, which checks them
  // before it parses the command. API version 2 exists for tests only.
  auto api = ReadApiParameters(*request.body);
  if (!api.ok()) return ErrorReply(api.status());
  Status api_ok = CheckApiParameters(name, *api, /*accept_version_2=*/context.server.test_commands);
  if (!api_ok.ok()) return ErrorReply(api_ok);
  Status fields = CheckCommandFields(name, *request.body, request.sequences, !context.server.replica_set.empty());
  if (!fields.ok()) return ErrorReply(fields);
  Status concern = CheckReadConcernAgainstServer(*request.body, !context.server.replica_set.empty(), context.server.clock());
  if (!concern.ok()) return ErrorReply(concern);
  auto max_time = MaxTimeMS(*request.body);
  if (!max_time.ok()) return ErrorReply(max_time.status());
  std::optional<DeadlineScope> limit;
  context.deadline.reset();
  if (*max_time > 0 && name != "getMore") {
    const auto arrived = context.connection.message_arrived.value_or(std::chrono::steady_clock::now());
    context.deadline = arrived + std::chrono::milliseconds(*max_time);
    limit.emplace(*context.deadline);
    // A command run again after waiting (parked) may have no time left.
    Status in_time = CheckDeadline();
    if (!in_time.ok()) return ErrorReply(in_time);
  }
  std::optional<FailCommandAction> fail;
  if (context.server.test_commands) fail = context.server.fail_points.CheckFailCommand(name, context.connection.app_name);
  if (fail) {
    if (fail->block_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(fail->block_ms));
    if (fail->close_connection) {
      context.connection.close_without_reply = true;
      return Document();
    }
  }
  context.fail = fail ? &*fail : nullptr;
  // Listed for currentOp while it runs, and stoppable by killOp.
  auto running = context.server.operations.Start(
      *request.body, name, request.db,
      {context.connection.id, context.connection.remote, context.connection.app_name});
  InterruptScope interruptible(running->killed());
  ProgressScope progress(running->progress());
  // Under fsync's lock a writing command waits here, listed and killable.
  Status unlocked = context.server.fsync_lock.WaitIfWriting(name, *request.body);
  if (!unlocked.ok()) return ErrorReply(unlocked);
  OperationMetrics metrics;
  const Profiler::AtStart profiling = context.server.profiler.Begin(request.db);
  const auto started = std::chrono::steady_clock::now();
  Document reply;
  std::vector<ProfiledStatement> statements;
  context.statements = profiling.level > 0 && (name == "update" || name == "delete") ? &statements : nullptr;
  {
    MetricsScope measured(&metrics);
    reply = RunWithSession(context, request, name, entry->run);
  }
  context.statements = nullptr;
  context.fail = nullptr;
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  context.server.profiler.Record(context, request, name, reply, micros, metrics, profiling, statements);
  if (!context.connection.parked) {
    const int64_t statements = name == "update"   ? CountDocumentList(request, "updates")
                               : name == "delete" ? CountDocumentList(request, "deletes")
                                                  : 0;
    const std::string coll = CommandCollection(name, *request.body);
    context.server.metrics.CountCommand(CanonicalCommandName(name), coll.empty() ? "" : request.db + "." + coll,
                                        statements, reply, micros, metrics);
  }
  return reply;
}

}  // namespace

Document RunCommand(CommandContext& context, const CommandRequest& request) {
  const std::string name = CommandName(*request.body);
  const bool replica_set = !context.server.replica_set.empty();
  // A replica-set member takes the client's cluster time first (gossip),
  // so that an afterClusterTime equal to it passes, and stamps every reply,
  // errors included, with $clusterTime and operationTime (cluster_time.h).
  // A standalone server, as mongod, neither reads nor sends them.
  Document reply;
  Status before = Status::OK();
  if (replica_set) {
    (void)ClusterClock::TakeThreadsLastWrite();  // what an earlier command on this thread left
    auto gossiped = GossipedClusterTime(*request.body);
    if (!gossiped.ok()) before = gossiped.status();
    else if (!gossiped->null()) before = context.server.clock().Advance(*gossiped);
  }
  reply = before.ok() ? RunCommandUnstamped(context, request, name) : ErrorReply(before);
  if (!replica_set || context.connection.parked || context.connection.close_without_reply) return reply;
  // With an oplog, a write's time is that of the last entry it wrote (the
  // engine stamps them); one that wrote none answers the last write's.
  // Without one, a write's time is taken after it returned: its changes
  // are visible to every read that starts later (cluster_time.h's invariant).
  const LogicalTime own_write = ClusterClock::TakeThreadsLastWrite();
  const bool writes = before.ok() && (IsWriteCommand(name, *request.body) || name == "commitTransaction");
  LogicalTime operation_time = context.server.clock().LastWrite();
  if (!own_write.null()) operation_time = own_write;
  else if (writes && !context.server.engine->has_oplog()) operation_time = context.server.clock().TickWrite();
  return WithClusterTimes(reply, operation_time, context.server.clock().Now());
}

void AppendCursorReply(bson_t* reply, const char* batch_field, const std::vector<Document>& batch, int64_t id,
                       const std::string& ns, const std::optional<Document>& post_batch_resume_token) {
  bson_t cursor, array;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "cursor", &cursor);
  BSON_APPEND_ARRAY_BEGIN(&cursor, batch_field, &array);
  char key_buffer[16];
  for (size_t i = 0; i < batch.size(); ++i) {
    const char* key = nullptr;
    size_t key_len = bson_uint32_to_string(static_cast<uint32_t>(i), &key, key_buffer, sizeof(key_buffer));
    bson_t doc;
    if (bson_init_static(&doc, batch[i].data(), batch[i].size())) {
      bson_append_document(&array, key, static_cast<int>(key_len), &doc);
    }
  }
  bson_append_array_end(&cursor, &array);
  if (post_batch_resume_token) bson::AppendDocument(&cursor, "postBatchResumeToken", *post_batch_resume_token);
  BSON_APPEND_INT64(&cursor, "id", id);
  BSON_APPEND_UTF8(&cursor, "ns", ns.c_str());
  bson_append_document_end(reply, &cursor);
}

}  // namespace docket::commands
