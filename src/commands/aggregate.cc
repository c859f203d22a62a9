// aggregate: a pipeline on a collection ({aggregate: "coll"}) or without one
// ({aggregate: 1}, starting with $documents, $listLocalSessions or
// $currentOp), through
// the engine's Collection::Aggregate / Engine::Aggregate, with cursor
// batches, explain, allowDiskUse and let. $out and $merge finish within the
// first batch.
#include <bson/bson.h>

#include "bson/value.h"
#include "commands/api_version.h"
#include "commands/args.h"
#include "commands/handlers.h"
#include "commands/list_local_sessions.h"
#include "bson/append_element.h"

namespace docket::commands {
namespace {

// readConcern.level, or "" when the command gives none (the fields were
// checked already: command_fields.cc).
std::string ReadConcernLevel(const Document& body) {
  auto concern = GetDocumentField(body, "readConcern");
  bson_iter_t level;
  if (!concern.ok() || !concern->Find("level", &level) || !BSON_ITER_HOLDS_UTF8(&level)) return "";
  return IterString(level);
}

// What mongod checks of the stages before it runs them: those outside the
// declared API version, $listLocalSessions (replaced by the sessions it
// lists), and the stages that refuse the read concern or the transaction.
Status PrepareStages(CommandContext& context, const CommandRequest& request, bool collectionless,
                     std::vector<Document>* stages, bool* run_without_collection) {
  auto api = ReadApiParameters(*request.body);
  if (!api.ok()) return api.status();
  DOCKET_RETURN_IF_ERROR(CheckPipelineApiStrict(*stages, *api));
  ListLocalSessionsContext where;
  where.collectionless = collectionless;
  if (!collectionless) {
    bson_iter_t first;
    request.body->Iterate(&first);
    if (bson_iter_next(&first) && BSON_ITER_HOLDS_UTF8(&first)) where.ns = request.db + "." + IterString(first);
  }
  where.in_transaction = request.txn != nullptr;
  where.read_concern_level = ReadConcernLevel(*request.body);
  bool listed_persisted = false;
  DOCKET_RETURN_IF_ERROR(ExpandListLocalSessions(context.server.sessions, where, stages, &listed_persisted));
  if (listed_persisted) *run_without_collection = true;
  DOCKET_RETURN_IF_ERROR(ExpandCurrentOp(context, request, collectionless, stages));
  for (const Document& stage : *stages) {
    const std::string op = CommandName(stage);
    if (op != "$out" && op != "$merge") continue;
    if (request.txn != nullptr) {
      return Status(ErrorCode::kOperationNotSupportedInTransaction, op + " cannot be used in a transaction");
    }
    if (where.read_concern_level == "linearizable") {
      return ReadConcernNotSupported("linearizable", op + " cannot be used with a 'linearizable' read concern level");
    }
  }
  return Status::OK();
}

}  // namespace

Status Aggregate(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  const Document& body = *request.body;
  bson_iter_t first;
  bson_iter_init_from_data(&first, body.data(), body.size());
  bson_iter_next(&first);
  const bool collectionless = bson::IsNumber(bson_iter_type(&first)) && bson_iter_as_int64(&first) == 1;
  if (!collectionless && !BSON_ITER_HOLDS_UTF8(&first)) {
    return Status(ErrorCode::kFailedToParse, "Invalid command format: the 'aggregate' field must specify a collection name or 1");
  }
  uint32_t name_len = 0;
  const char* name_bytes = collectionless ? "" : bson_iter_utf8(&first, &name_len);
  const std::string name(name_bytes, name_len);  // all of it: ValidateCollectionName refuses a NUL
  auto stages = GetDocumentList(request, "pipeline");
  if (!stages.ok()) return stages.status();
  const bool explain = GetBoolField(body, "explain", false);
  bson_iter_t cursor_it;
  if (!body.Find("cursor", &cursor_it) && !explain) {
    return Status(ErrorCode::kFailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  auto cursor_options = GetDocumentField(body, "cursor");
  if (!cursor_options.ok()) return cursor_options.status();
  auto batch_size = GetIntField(*cursor_options, "batchSize", 101);
  if (!batch_size.ok()) return batch_size.status();
  if (*batch_size < 0) return Status(ErrorCode::kBadValue, "batchSize value must be non-negative");

  AggregateOptions options;
  options.allow_disk_use = GetBoolField(body, "allowDiskUse", true);
  auto hint = GetHint(body);
  if (!hint.ok()) return hint.status();
  options.hint = std::move(hint).value();
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "let", &options.let));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "collation", &options.collation));
  auto concern = GetWriteConcern(body);
  if (!concern.ok()) return concern.status();
  options.write_concern = *concern;
  options.bypass_document_validation = GetBoolField(body, "bypassDocumentValidation", false);
  options.read.transaction = request.txn;
  // $collStats: the stage becomes its document; the rest runs over it.
  bool run_without_collection = collectionless;
  DOCKET_RETURN_IF_ERROR(PrepareStages(context, request, collectionless, &*stages, &run_without_collection));
  DOCKET_RETURN_IF_ERROR(ExpandCollStats(context, request, name, &*stages, &run_without_collection));
  DOCKET_RETURN_IF_ERROR(ExpandIndexStats(context, request, name, &*stages, &run_without_collection));

  Engine* engine = context.server.engine;
  if (explain) {
    if (run_without_collection) return Status(ErrorCode::kCommandNotSupported, "explain of a collectionless aggregate is not supported by Docket");
    auto explained = engine->collection(request.db, name).ExplainAggregate(*stages, options);
    if (!explained.ok()) return explained.status();
    bson_iter_t it;
    explained->Iterate(&it);
    while (bson_iter_next(&it)) docket::bson::AppendElement(reply, bson_iter_key(&it), -1, &it);
    return Status::OK();
  }
  // The first batch is only as big as asked; what runs beyond it waits for getMore.
  options.batch_size = *batch_size > 0 ? static_cast<int32_t>(*batch_size) : 101;
  auto cursor = run_without_collection ? engine->Aggregate(request.db, *stages, options)
                               : engine->collection(request.db, name).Aggregate(*stages, options);
  if (!cursor.ok()) return cursor.status();
  const std::string ns = request.db + "." + (collectionless ? std::string("$cmd.aggregate") : name);
  std::vector<Document> batch;
  if (*batch_size > 0) {  // batchSize 0: an empty first batch; the pipeline runs on getMore
    auto first_batch = cursor->NextBatch(static_cast<size_t>(*batch_size));
    if (!first_batch.ok()) return first_batch.status();
    batch = std::move(first_batch).value();
  }
  int64_t id = 0;
  // A change stream's cursor is tailable and awaits data, as mongod's.
  const std::optional<Document> resume_token = cursor->post_batch_resume_token();
  if (!cursor->exhausted()) {
    id = context.server.cursors.Register(ns, request.lsid, std::move(cursor).value(), /*no_timeout=*/false,
                                         context.deadline, /*await_data=*/resume_token.has_value());
    if (request.txn_cursors != nullptr) request.txn_cursors->push_back(id);
  }
  AppendCursorReply(reply, "firstBatch", batch, id, ns, resume_token);
  return Status::OK();
}

}  // namespace docket::commands
