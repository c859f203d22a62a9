// Every command handler: appends its reply fields (not `ok`) to `reply`, or
// returns an error, which RunCommand turns into {ok: 0, errmsg, code, codeName}.
#pragma once

#include <bson/bson.h>

#include "commands/command.h"

namespace docket::commands {

using Handler = Status (*)(CommandContext& context, const CommandRequest& request, bson_t* reply);

// crud.cc
Status Insert(CommandContext&, const CommandRequest&, bson_t*);
Status Find(CommandContext&, const CommandRequest&, bson_t*);
Status GetMore(CommandContext&, const CommandRequest&, bson_t*);
Status KillCursors(CommandContext&, const CommandRequest&, bson_t*);
Status Update(CommandContext&, const CommandRequest&, bson_t*);
Status Delete(CommandContext&, const CommandRequest&, bson_t*);
Status FindAndModify(CommandContext&, const CommandRequest&, bson_t*);
Status Count(CommandContext&, const CommandRequest&, bson_t*);
Status Distinct(CommandContext&, const CommandRequest&, bson_t*);
Status Aggregate(CommandContext&, const CommandRequest&, bson_t*);

// test_commands.cc (only with ServerState::test_commands)
Status Sleep(CommandContext&, const CommandRequest&, bson_t*);
Status ConfigureFailPoint(CommandContext&, const CommandRequest&, bson_t*);
Status TestApiVersion(CommandContext&, const CommandRequest&, bson_t*);

// profiler.h: the profile command
Status Profile(CommandContext&, const CommandRequest&, bson_t*);

// top (admin only): time and operations per namespace since the server
// started (server_metrics.h), in mongod's shape, for mongotop.
Status Top(CommandContext&, const CommandRequest&, bson_t*);

// diagnostics.cc: collStats' figures (without ns) of db.name, sizes divided
// by `scale`; zeros for a collection that does not exist.
Status AppendStorageStats(Engine* engine, const std::string& db, const std::string& name, int64_t scale,
                          bson_t* reply);

// coll_stats_stage.cc: when the pipeline starts with $collStats, replaces
// that stage with a $documents stage of the one document it produces
// (latencyStats, storageStats, count, queryExecStats as asked) and sets
// *collectionless: the rest runs over it. Errors as mongod's: not first
// (40602), on a collectionless aggregate (InvalidNamespace), unknown fields
// (40415), storageStats or count of a view (CommandNotSupportedOnView).
Status ExpandCollStats(CommandContext& context, const CommandRequest& request, const std::string& name,
                       std::vector<Document>* stages, bool* collectionless);

// index_stats_stage.cc: when the pipeline starts with $indexStats, replaces
// that stage with a $documents stage of one document per index (name, key,
// host, accesses {ops, since}, spec) and sets *collectionless. Errors as
// mongod's: not first (40602), a spec that is not {} (28803), on a
// collectionless aggregate (InvalidNamespace), on a view (166).
Status ExpandIndexStats(CommandContext& context, const CommandRequest& request, const std::string& name,
                        std::vector<Document>* stages, bool* collectionless);

// coll_mod.cc
Status CollMod(CommandContext&, const CommandRequest&, bson_t*);

// capped_collections.cc
Status CloneCollectionAsCapped(CommandContext&, const CommandRequest&, bson_t*);
Status ConvertToCapped(CommandContext&, const CommandRequest&, bson_t*);
// create's options (capped, size, max, viewOn, pipeline) as the engine takes
// them. Errors: TypeMismatch, BadValue (non-integral numbers, an empty viewOn).
Result<CollectionOptions> ReadCollectionOptions(const Document& body);

// views.cc
// `command`'s viewOn and pipeline, each when present. Errors: BadValue for
// an empty viewOn, TypeMismatch for a stage that is not a document.
Status ReadViewOptions(const Document& body, const std::string& command, std::optional<std::string>* view_on,
                       std::optional<std::vector<Document>>* pipeline);
// A view's listCollections entry: {name, type: "view", options: {viewOn,
// pipeline}, info: {readOnly: true}} (nameOnly: the first two).
void AppendViewEntry(bson_t* entry, const CollectionInfo& info, bool name_only);
// collMod on `name` when it is a view or the command names viewOn or
// pipeline: MongoDB's InvalidOptions for options of the other kind.
Status CollModView(CommandContext& context, const CommandRequest& request, const std::string& name);

// admin.cc
Status Hello(CommandContext&, const CommandRequest&, bson_t*);
Status Ping(CommandContext&, const CommandRequest&, bson_t*);
Status BuildInfo(CommandContext&, const CommandRequest&, bson_t*);
Status ListDatabases(CommandContext&, const CommandRequest&, bson_t*);
Status ListCollections(CommandContext&, const CommandRequest&, bson_t*);
Status Create(CommandContext&, const CommandRequest&, bson_t*);
Status Drop(CommandContext&, const CommandRequest&, bson_t*);
Status DropDatabase(CommandContext&, const CommandRequest&, bson_t*);
Status RenameCollection(CommandContext&, const CommandRequest&, bson_t*);
Status ListIndexes(CommandContext&, const CommandRequest&, bson_t*);
Status EndSessions(CommandContext&, const CommandRequest&, bson_t*);
Status WhatsMyUri(CommandContext&, const CommandRequest&, bson_t*);
Status ConnectionStatus(CommandContext&, const CommandRequest&, bson_t*);
// backup.cc
Status CreateBackup(CommandContext&, const CommandRequest&, bson_t*);

// fsync.cc
Status Fsync(CommandContext&, const CommandRequest&, bson_t*);
Status FsyncUnlock(CommandContext&, const CommandRequest&, bson_t*);
Status GetParameter(CommandContext&, const CommandRequest&, bson_t*);
Status LogRotate(CommandContext&, const CommandRequest&, bson_t*);
Status SetParameter(CommandContext&, const CommandRequest&, bson_t*);
Status GetCmdLineOpts(CommandContext&, const CommandRequest&, bson_t*);
Status HostInfo(CommandContext&, const CommandRequest&, bson_t*);
Status ServerStatus(CommandContext&, const CommandRequest&, bson_t*);
Status GetLog(CommandContext&, const CommandRequest&, bson_t*);

// current_op.cc (admin only): the running commands (operations.h), and stopping one
Status CurrentOp(CommandContext&, const CommandRequest&, bson_t*);
Status KillOp(CommandContext&, const CommandRequest&, bson_t*);
// The $currentOp aggregation stage: when the pipeline starts with it,
// replaces it with a $documents stage of the running operations (what
// currentOp lists). Errors as mongod's: not first (40602), not a
// collectionless aggregate on admin (InvalidNamespace), unknown options
// (40415), idleConnections/idleCursors/backtrace asked for (NotImplemented).
Status ExpandCurrentOp(CommandContext& context, const CommandRequest& request, bool collectionless,
                       std::vector<Document>* stages);

// kill_sessions.cc: abort the sessions' transactions and kill their cursors
Status KillSessions(CommandContext&, const CommandRequest&, bson_t*);
Status KillAllSessions(CommandContext&, const CommandRequest&, bson_t*);
Status KillAllSessionsByPattern(CommandContext&, const CommandRequest&, bson_t*);

// replset.cc: a one-member replica set (--replica-set), else NoReplicationEnabled (76)
Status ReplSetInitiate(CommandContext&, const CommandRequest&, bson_t*);
Status ReplSetReconfig(CommandContext&, const CommandRequest&, bson_t*);
Status Shutdown(CommandContext&, const CommandRequest&, bson_t*);
Status ReplSetGetStatus(CommandContext&, const CommandRequest&, bson_t*);
Status ReplSetGetConfig(CommandContext&, const CommandRequest&, bson_t*);

// diagnostics.cc
Status CollStats(CommandContext&, const CommandRequest&, bson_t*);
Status DbStats(CommandContext&, const CommandRequest&, bson_t*);
Status Validate(CommandContext&, const CommandRequest&, bson_t*);
// {compact: "<collection>"}: Engine::Compact(), which rewrites every
// collection's data (the storage is shared), not only the one named.
Status Compact(CommandContext&, const CommandRequest&, bson_t*);
Status Explain(CommandContext&, const CommandRequest&, bson_t*);
Status CreateIndexes(CommandContext&, const CommandRequest&, bson_t*);
Status DropIndexes(CommandContext&, const CommandRequest&, bson_t*);
Status ReIndex(CommandContext&, const CommandRequest&, bson_t*);

// Appends {cursor: {firstBatch|nextBatch: [...], postBatchResumeToken (a
// change stream's), id, ns}}.
void AppendCursorReply(bson_t* reply, const char* batch_field, const std::vector<Document>& batch, int64_t id,
                       const std::string& ns, const std::optional<Document>& post_batch_resume_token = std::nullopt);

}  // namespace docket::commands
