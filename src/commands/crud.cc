// insert, find, getMore, killCursors, update, delete, findAndModify, count,
// distinct: each parses its command document and calls the engine's public
// Collection API. Per-document write failures come back as `writeErrors`
// ({index, code, errmsg}) with ok: 1, as MongoDB does.
#include <bson/bson.h>

#include <chrono>
#include <optional>

#include "docket/metrics.h"

#include "bson/builder.h"
#include "commands/args.h"
#include "docket/deadline.h"
#include "commands/handlers.h"
#include "bson/append_element.h"

namespace docket::commands {
namespace {

constexpr int64_t kMaxWriteBatchSize = 100000;

struct WriteErrorEntry {
  size_t index;
  Status status;
};

// Appends the statements' errors as `writeErrors`, except an interruption
// (MaxTimeMSExpired, Interrupted by killOp), which fails the whole command as in mongod: it is
// returned, to become the reply.
Status AppendWriteErrors(bson_t* reply, const std::vector<WriteErrorEntry>& errors) {
  for (const WriteErrorEntry& e : errors) {
    if (e.status.code() == ErrorCode::kMaxTimeMSExpired || e.status.code() == ErrorCode::kInterrupted) return e.status;
  }
  if (errors.empty()) return Status::OK();
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(reply, "writeErrors", &array);
  for (size_t i = 0; i < errors.size(); ++i) {
    std::string key = std::to_string(i);
    bson_t entry;
    BSON_APPEND_DOCUMENT_BEGIN(&array, key.c_str(), &entry);
    BSON_APPEND_INT32(&entry, "index", static_cast<int32_t>(errors[i].index));
    BSON_APPEND_INT32(&entry, "code", static_cast<int32_t>(errors[i].status.code()));
    BSON_APPEND_UTF8(&entry, "codeName", ErrorCodeName(errors[i].status.code()).c_str());
    BSON_APPEND_UTF8(&entry, "errmsg", errors[i].status.message().c_str());
    AppendStatusDetails(&entry, errors[i].status);
    bson_append_document_end(&array, &entry);
  }
  bson_append_array_end(reply, &array);
  return Status::OK();
}

Status CheckBatchSize(size_t n) {
  if (n == 0 || static_cast<int64_t>(n) > kMaxWriteBatchSize) {
    return Status(ErrorCode::kInvalidLength, "Write batch sizes must be between 1 and 100000. Got " +
                                                 std::to_string(n) + " operations.");
  }
  return Status::OK();
}

// The value of {_id: v}, appended under `key`.
void AppendIdValue(bson_t* out, const char* key, const Document& id_holder) {
  bson_iter_t it;
  if (id_holder.Find("_id", &it)) docket::bson::AppendElement(out, key, -1, &it);
}

// The variables of a pipeline update: the command's `let` and the
// statement's constants `c` (MongoDB 5.0+).
Status MergeLet(const Document& command, const Document& statement, Document* out) {
  Document let, constants;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(command, "let", &let));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(statement, "c", &constants));
  bson::Builder merged;
  for (const Document* part : {&let, &constants}) {
    bson_iter_t it;
    part->Iterate(&it);
    while (bson_iter_next(&it)) docket::bson::AppendElement(merged.get(), bson_iter_key(&it), -1, &it);
  }
  *out = merged.Finish();
  return Status::OK();
}

// Whether statement `i` may park (WriteOptions::may_park): only the first,
// before anything of the command was done, outside a transaction, when the
// connection can run the message again.
bool MayPark(const CommandRequest& request, size_t i) { return request.may_park && request.txn == nullptr && i == 0; }

Status ReadHint(const Document& spec, IndexHint* out) {
  auto hint = GetHint(spec);
  if (!hint.ok()) return hint.status();
  *out = std::move(hint).value();
  return Status::OK();
}

// Whether an update document is operators ($set...) rather than a replacement.
bool IsOperatorUpdate(const Document& update) {
  bson_iter_t it;
  bson_iter_init_from_data(&it, update.data(), update.size());
  return bson_iter_next(&it) && bson_iter_key(&it)[0] == '$';
}

}  // namespace

// The profiler writes system.profile; clients only read it (mongod's rule).
Status CheckClientMayWrite(const std::string& db, const std::string& name) {
  if (name == "system.profile") {
    return Status(ErrorCode::kInvalidNamespace, "cannot write to '" + db + "." + name + "'");
  }
  return Status::OK();
}

Status Insert(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  DOCKET_RETURN_IF_ERROR(CheckClientMayWrite(request.db, *name));
  auto docs = GetDocumentList(request, "documents");
  if (!docs.ok()) return docs.status();
  DOCKET_RETURN_IF_ERROR(CheckBatchSize(docs->size()));
  auto concern = GetWriteConcern(*request.body);
  if (!concern.ok()) return concern.status();
  InsertManyOptions options;
  options.ordered = GetBoolField(*request.body, "ordered", true);
  options.write.write_concern = *concern;
  options.write.transaction = request.txn;
  options.write.bypass_document_validation = GetBoolField(*request.body, "bypassDocumentValidation", false);
  auto result = context.server.engine->collection(request.db, *name).InsertMany(*docs, options);
  if (!result.ok()) return result.status();
  BSON_APPEND_INT32(reply, "n", static_cast<int32_t>(result->inserted_count));
  std::vector<WriteErrorEntry> errors;
  for (const WriteError& e : result->write_errors) errors.push_back({e.index, e.status});
  return AppendWriteErrors(reply, errors);
}

// A statement's own `collation`, or none ({}: the collection's default);
// statements of one command may differ.
Status ReadStatementCollation(const Document& statement, Document* collation) {
  *collation = Document();
  return ReadDocumentField(statement, "collation", collation);
}

Status Find(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  const Document& body = *request.body;
  auto filter = GetDocumentField(body, "filter");
  if (!filter.ok()) return filter.status();
  FindOptions options;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "projection", &options.projection));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "sort", &options.sort));
  auto skip = GetIntField(body, "skip", 0);
  if (!skip.ok()) return skip.status();
  if (*skip < 0) return Status(ErrorCode::kBadValue, "skip value must be non-negative");
  options.skip = *skip;
  auto limit = GetIntField(body, "limit", 0);
  if (!limit.ok()) return limit.status();
  if (*limit < 0) return Status(ErrorCode::kBadValue, "limit value must be non-negative");
  options.limit = *limit;
  auto batch_size = GetIntField(body, "batchSize", 101);
  if (!batch_size.ok()) return batch_size.status();
  if (*batch_size < 0) return Status(ErrorCode::kBadValue, "batchSize value must be non-negative");
  const bool single_batch = GetBoolField(body, "singleBatch", false);
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "let", &options.let));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "collation", &options.collation));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "min", &options.min));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "max", &options.max));
  auto hint = GetHint(body);
  if (!hint.ok()) return hint.status();
  options.hint = std::move(hint).value();
  options.allow_disk_use = GetBoolField(body, "allowDiskUse", true);
  const bool no_timeout = GetBoolField(body, "noCursorTimeout", false);
  options.read.transaction = request.txn;
  options.tailable = GetBoolField(body, "tailable", false);
  const bool await_data = GetBoolField(body, "awaitData", false);
  if (await_data && !options.tailable) {
    return Status(ErrorCode::kFailedToParse, "Cannot set 'awaitData' without also setting 'tailable'");
  }
  if (options.tailable && single_batch) {
    return Status(ErrorCode::kBadValue, "cannot use tailable option with the 'singleBatch' option");
  }
  // A find on a view runs as an aggregation, which has no such options.
  const char* aggregation_lacks = no_timeout                                        ? "noCursorTimeout"
                                  : GetBoolField(body, "allowPartialResults", false) ? "allowPartialResults"
                                  : single_batch && *limit != 1                      ? "singleBatch"
                                  : GetBoolField(body, "readOnce", false)            ? "readOnce"
                                                                                     : nullptr;
  if (aggregation_lacks != nullptr && !options.tailable && context.server.engine->IsView(request.db, *name)) {
    return Status(ErrorCode::kInvalidPipelineOperator,
                  std::string("Option ") + aggregation_lacks + " not supported in aggregation.");
  }

  auto cursor = context.server.engine->collection(request.db, *name).Find(*filter, options);
  if (!cursor.ok()) return cursor.status();
  std::vector<Document> batch;
  if (*batch_size > 0) {
    auto first = cursor->NextBatch(static_cast<size_t>(*batch_size));
    if (!first.ok()) return first.status();
    batch = std::move(first).value();
  }
  const std::string ns = request.db + "." + *name;
  int64_t id = 0;
  if (!cursor->exhausted() && !single_batch) {
    id = context.server.cursors.Register(ns, request.lsid, std::move(cursor).value(), no_timeout, context.deadline,
                                         await_data);
    if (request.txn_cursors != nullptr) request.txn_cursors->push_back(id);
  }
  AppendCursorReply(reply, "firstBatch", batch, id, ns);
  return Status::OK();
}

Status GetMore(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  const Document& body = *request.body;
  bson_iter_t it;
  if (!body.Find("getMore", &it) || !BSON_ITER_HOLDS_INT64(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'getMore' is the wrong type, expected a long");
  }
  const int64_t id = bson_iter_int64(&it);
  auto collection = GetStringField(body, "collection", true);
  if (!collection.ok()) return collection.status();
  auto batch_size = GetIntField(body, "batchSize", 0);
  if (!batch_size.ok()) return batch_size.status();
  if (*batch_size < 0) return Status(ErrorCode::kBadValue, "batchSize value must be non-negative");
  const std::string ns = request.db + "." + *collection;
  auto await_ms = GetIntField(body, "maxTimeMS", 0);  // its range was checked by the dispatcher
  if (!await_ms.ok()) return await_ms.status();
  auto entry = context.server.cursors.CheckOut(id, ns, request.lsid);
  if (!entry.ok()) return entry.status();
  context.change_stream_get_more = (*entry)->cursor.post_batch_resume_token().has_value();
  if (auto injected = context.server.fail_points.CheckGetMoreAfterCheckout()) {
    context.server.cursors.Release(*entry, /*exhausted=*/true);
    return Status(*injected, "failGetMoreAfterCursorCheckout fail point");
  }
  if (*await_ms > 0 && !(*entry)->await_data) {
    context.server.cursors.Release(*entry, false);
    return Status(ErrorCode::kBadValue, "cannot set maxTimeMS on getMore command for a non-awaitData cursor");
  }
  // The opening command's maxTimeMS covers its getMores too: each spends
  // from what is left (the entry is ours while checked out).
  std::optional<DeadlineScope> limit;
  const auto started = std::chrono::steady_clock::now();
  if ((*entry)->time_left) limit.emplace(started + *(*entry)->time_left);
  auto batch = (*entry)->cursor.NextBatch(static_cast<size_t>(*batch_size));
  if ((*entry)->await_data) {
    // Nothing new: wait for an insert (woken by its commit) up to the
    // getMore's maxTimeMS (mongod's default: 1 s), or until a killCursors.
    const auto until = started + std::chrono::milliseconds(*await_ms > 0 ? *await_ms : 1000);
    // Ended early by a killCursors, or by the client going away.
    auto killed = [&] {
      return context.server.cursors.Killed(id) || (context.connection.peer_gone && context.connection.peer_gone());
    };
    while (batch.ok() && batch->empty() && !(*entry)->cursor.exhausted()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until || !(*entry)->cursor.AwaitData(
                               std::chrono::duration_cast<std::chrono::milliseconds>(until - now), killed)) {
        break;
      }
      batch = (*entry)->cursor.NextBatch(static_cast<size_t>(*batch_size));
    }
  }
  if ((*entry)->time_left) {
    *(*entry)->time_left -= std::min(*(*entry)->time_left, std::chrono::steady_clock::now() - started);
  }
  const bool exhausted = !batch.ok() || (*entry)->cursor.exhausted();
  const std::optional<Document> resume_token = (*entry)->cursor.post_batch_resume_token();
  context.server.cursors.Release(*entry, exhausted);
  if (!batch.ok()) return batch.status();
  AppendCursorReply(reply, "nextBatch", *batch, exhausted ? 0 : id, ns, resume_token);
  return Status::OK();
}

Status KillCursors(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  bson_iter_t it, child;
  if (!request.body->Find("cursors", &it) || !BSON_ITER_HOLDS_ARRAY(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'cursors' is the wrong type, expected an array");
  }
  std::vector<int64_t> killed, not_found;
  bson_iter_recurse(&it, &child);
  while (bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_INT64(&child)) return Status(ErrorCode::kTypeMismatch, "cursor ids must be longs");
    int64_t id = bson_iter_int64(&child);
    (context.server.cursors.Kill(id, request.lsid) ? killed : not_found).push_back(id);
  }
  auto append_ids = [reply](const char* key, const std::vector<int64_t>& ids) {
    bson_t array;
    BSON_APPEND_ARRAY_BEGIN(reply, key, &array);
    for (size_t i = 0; i < ids.size(); ++i) BSON_APPEND_INT64(&array, std::to_string(i).c_str(), ids[i]);
    bson_append_array_end(reply, &array);
  };
  append_ids("cursorsKilled", killed);
  append_ids("cursorsNotFound", not_found);
  append_ids("cursorsAlive", {});
  append_ids("cursorsUnknown", {});
  return Status::OK();
}

namespace {

// One statement's share of an update or delete, for the profiler: when the
// command's database is profiled (context.statements), its engine work is
// counted apart (and added to the command's too) and its outcome recorded.
class StatementProfile {
 public:
  StatementProfile(CommandContext& context, const Document& statement) : context_(context) {
    if (context.statements == nullptr) return;
    statement_ = statement;
    outer_ = CurrentMetrics();
    scope_.emplace(&metrics_);
    started_ = std::chrono::steady_clock::now();
  }
  void Done(const Status& status, int64_t matched, int64_t modified, int64_t deleted, bool upserted) {
    if (!scope_) return;
    scope_.reset();
    if (outer_ != nullptr) outer_->Add(metrics_);
    ProfiledStatement done;
    done.statement = statement_;
    done.metrics = std::move(metrics_);
    done.micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
    done.matched = matched;
    done.modified = modified;
    done.deleted = deleted;
    done.upserted = upserted;
    done.status = status;
    context_.statements->push_back(std::move(done));
  }

 private:
  CommandContext& context_;
  Document statement_;
  OperationMetrics metrics_;
  OperationMetrics* outer_ = nullptr;
  std::optional<MetricsScope> scope_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

Status Update(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  DOCKET_RETURN_IF_ERROR(CheckClientMayWrite(request.db, *name));
  auto updates = GetDocumentList(request, "updates");
  if (!updates.ok()) return updates.status();
  DOCKET_RETURN_IF_ERROR(CheckBatchSize(updates->size()));
  auto concern = GetWriteConcern(*request.body);
  if (!concern.ok()) return concern.status();
  const bool ordered = GetBoolField(*request.body, "ordered", true);
  Collection collection = context.server.engine->collection(request.db, *name);

  int64_t n = 0, modified = 0;
  std::vector<std::pair<size_t, Document>> upserted;
  std::vector<WriteErrorEntry> errors;
  for (size_t i = 0; i < updates->size(); ++i) {
    const Document& spec = (*updates)[i];
    StatementProfile profile(context, spec);
    const int64_t n_before = n, modified_before = modified;
    const size_t upserted_before = upserted.size();
    Status s;
    auto q = GetDocumentField(spec, "q");
    bson_iter_t u_it;
    if (!q.ok()) {
      s = q.status();
    } else if (!spec.Find("u", &u_it)) {
      s = Status(ErrorCode::kFailedToParse, "BSON field 'update.updates.u' is missing but a required field");
    } else if (BSON_ITER_HOLDS_ARRAY(&u_it)) {
      UpdateOptions options;
      options.upsert = GetBoolField(spec, "upsert", false);
      options.write.write_concern = *concern;
      options.write.transaction = request.txn;
      options.write.bypass_document_validation = GetBoolField(*request.body, "bypassDocumentValidation", false);
      options.write.may_park = MayPark(request, i);
      Result<UpdateResult> result = Status(ErrorCode::kInternalError, "unset");
      Status filters = ReadDocumentArray(spec, "arrayFilters", &options.array_filters);
      if (filters.ok()) filters = ReadHint(spec, &options.hint);
      if (filters.ok()) filters = ReadDocumentField(spec, "collation", &options.collation);
      UpdatePipeline pipeline;
      Status parsed = ReadDocumentArray(spec, "u", &pipeline.stages);
      if (parsed.ok()) parsed = MergeLet(*request.body, spec, &pipeline.let);
      options.let = pipeline.let;
      if (!filters.ok()) {
        result = filters;
      } else if (!parsed.ok()) {
        result = parsed;
      } else {
        result = GetBoolField(spec, "multi", false) ? collection.UpdateMany(*q, pipeline, options)
                                                    : collection.UpdateOne(*q, pipeline, options);
      }
      if (result.ok()) {
        n += result->matched_count;
        modified += result->modified_count;
        if (result->upserted_id) {
          n += 1;
          upserted.emplace_back(i, *result->upserted_id);
        }
      } else {
        s = result.status();
      }
    } else if (!BSON_ITER_HOLDS_DOCUMENT(&u_it)) {
      s = Status(ErrorCode::kFailedToParse, "Update argument must be either an object or an array");
    } else {
      Document u = SubDocument(u_it);
      UpdateOptions options;
      options.upsert = GetBoolField(spec, "upsert", false);
      options.write.write_concern = *concern;
      options.write.transaction = request.txn;
      options.write.bypass_document_validation = GetBoolField(*request.body, "bypassDocumentValidation", false);
      options.write.may_park = MayPark(request, i);
      const bool multi = GetBoolField(spec, "multi", false);
      Result<UpdateResult> result = Status(ErrorCode::kInternalError, "unset");
      Status filters = ReadDocumentArray(spec, "arrayFilters", &options.array_filters);
      if (filters.ok()) filters = ReadDocumentField(*request.body, "let", &options.let);
      if (filters.ok()) filters = ReadHint(spec, &options.hint);
      if (filters.ok()) filters = ReadDocumentField(spec, "collation", &options.collation);
      if (!filters.ok()) {
        result = filters;
      } else if (!IsOperatorUpdate(u)) {
        result = multi ? Result<UpdateResult>(Status(ErrorCode::kFailedToParse,
                                                     "multi update is not supported for replacement-style update"))
                       : collection.ReplaceOne(*q, u, options);
      } else {
        result = multi ? collection.UpdateMany(*q, u, options) : collection.UpdateOne(*q, u, options);
      }
      if (result.ok()) {
        n += result->matched_count;
        modified += result->modified_count;
        if (result->upserted_id) {
          n += 1;
          upserted.emplace_back(i, *result->upserted_id);
        }
      } else {
        s = result.status();
      }
    }
    if (s.code() == ErrorCode::kWouldBlock) return s;  // the first statement: nothing done yet
    const bool did_upsert = upserted.size() > upserted_before;
    profile.Done(s, n - n_before - (did_upsert ? 1 : 0), modified - modified_before, 0, did_upsert);
    if (!s.ok()) {
      errors.push_back({i, s});
      if (ordered) break;
    }
  }
  BSON_APPEND_INT32(reply, "n", static_cast<int32_t>(n));
  BSON_APPEND_INT32(reply, "nModified", static_cast<int32_t>(modified));
  if (!upserted.empty()) {
    bson_t array;
    BSON_APPEND_ARRAY_BEGIN(reply, "upserted", &array);
    for (size_t k = 0; k < upserted.size(); ++k) {
      bson_t entry;
      BSON_APPEND_DOCUMENT_BEGIN(&array, std::to_string(k).c_str(), &entry);
      BSON_APPEND_INT32(&entry, "index", static_cast<int32_t>(upserted[k].first));
      AppendIdValue(&entry, "_id", upserted[k].second);
      bson_append_document_end(&array, &entry);
    }
    bson_append_array_end(reply, &array);
  }
  return AppendWriteErrors(reply, errors);
}

Status Delete(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  DOCKET_RETURN_IF_ERROR(CheckClientMayWrite(request.db, *name));
  auto deletes = GetDocumentList(request, "deletes");
  if (!deletes.ok()) return deletes.status();
  DOCKET_RETURN_IF_ERROR(CheckBatchSize(deletes->size()));
  auto concern = GetWriteConcern(*request.body);
  if (!concern.ok()) return concern.status();
  const bool ordered = GetBoolField(*request.body, "ordered", true);
  Collection collection = context.server.engine->collection(request.db, *name);
  DeleteOptions options;
  options.write.write_concern = *concern;
  options.write.transaction = request.txn;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(*request.body, "let", &options.let));

  int64_t n = 0;
  std::vector<WriteErrorEntry> errors;
  for (size_t i = 0; i < deletes->size(); ++i) {
    const Document& spec = (*deletes)[i];
    StatementProfile profile(context, spec);
    const int64_t n_before = n;
    Status s;
    auto q = GetDocumentField(spec, "q");
    auto limit = GetIntField(spec, "limit", -1);
    if (!q.ok()) {
      s = q.status();
    } else if (!limit.ok()) {
      s = limit.status();
    } else if (*limit != 0 && *limit != 1) {
      s = Status(ErrorCode::kFailedToParse, "The limit field in delete objects must be 0 or 1. Got " +
                                                std::to_string(*limit));
    } else if (Status hinted = ReadHint(spec, &options.hint); !hinted.ok()) {
      s = hinted;
    } else if (Status collated = ReadStatementCollation(spec, &options.collation); !collated.ok()) {
      s = collated;
    } else {
      options.write.may_park = MayPark(request, i);
      auto result = *limit == 1 ? collection.DeleteOne(*q, options) : collection.DeleteMany(*q, options);
      if (result.ok()) {
        n += result->deleted_count;
      } else {
        s = result.status();
      }
    }
    if (s.code() == ErrorCode::kWouldBlock) return s;  // the first statement: nothing done yet
    profile.Done(s, 0, 0, n - n_before, false);
    if (!s.ok()) {
      errors.push_back({i, s});
      if (ordered) break;
    }
  }
  BSON_APPEND_INT32(reply, "n", static_cast<int32_t>(n));
  return AppendWriteErrors(reply, errors);
}

Status FindAndModify(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  DOCKET_RETURN_IF_ERROR(CheckClientMayWrite(request.db, *name));
  const Document& body = *request.body;
  auto query = GetDocumentField(body, "query");
  if (!query.ok()) return query.status();
  FindAndModifyOptions options;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "sort", &options.sort));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "fields", &options.projection));
  options.upsert = GetBoolField(body, "upsert", false);
  options.return_document = GetBoolField(body, "new", false) ? ReturnDocument::kAfter : ReturnDocument::kBefore;
  DOCKET_RETURN_IF_ERROR(ReadDocumentArray(body, "arrayFilters", &options.array_filters));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "let", &options.let));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "collation", &options.collation));
  DOCKET_RETURN_IF_ERROR(ReadHint(body, &options.hint));
  auto concern = GetWriteConcern(body);
  if (!concern.ok()) return concern.status();
  options.write.write_concern = *concern;
  options.write.transaction = request.txn;
  options.write.bypass_document_validation = GetBoolField(*request.body, "bypassDocumentValidation", false);
  options.write.may_park = MayPark(request, 0);
  const bool remove = GetBoolField(body, "remove", false);
  bson_iter_t u_it;
  const bool has_update = body.Find("update", &u_it);
  if (remove && has_update) return Status(ErrorCode::kFailedToParse, "Cannot specify both an update and remove=true");
  if (!remove && !has_update) return Status(ErrorCode::kFailedToParse, "Either an update or remove=true must be specified");
  if (remove && (options.upsert || options.return_document == ReturnDocument::kAfter)) {
    return Status(ErrorCode::kFailedToParse, "Cannot specify remove=true with upsert=true or new=true");
  }
  Document update;
  UpdatePipeline pipeline;
  const bool is_pipeline = has_update && BSON_ITER_HOLDS_ARRAY(&u_it);
  if (is_pipeline) {
    DOCKET_RETURN_IF_ERROR(ReadDocumentArray(body, "update", &pipeline.stages));
    DOCKET_RETURN_IF_ERROR(MergeLet(body, Document(), &pipeline.let));
  } else if (has_update) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&u_it)) return Status(ErrorCode::kFailedToParse, "Update argument must be either an object or an array");
    update = SubDocument(u_it);
  }
  Collection collection = context.server.engine->collection(request.db, *name);
  auto result = is_pipeline ? collection.FindAndModify(*query, pipeline, options)
                            : collection.FindAndModify(*query, has_update ? &update : nullptr, options);
  if (!result.ok()) return result.status();
  bson_t last_error;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "lastErrorObject", &last_error);
  BSON_APPEND_INT32(&last_error, "n", (result->matched || result->upserted_id) ? 1 : 0);
  if (has_update) {
    BSON_APPEND_BOOL(&last_error, "updatedExisting", result->matched);
    if (result->upserted_id) AppendIdValue(&last_error, "upserted", *result->upserted_id);
  }
  bson_append_document_end(reply, &last_error);
  if (result->value) {
    bson::AppendDocument(reply, "value", *result->value);
  } else {
    BSON_APPEND_NULL(reply, "value");
  }
  return Status::OK();
}

Status Count(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto query = GetDocumentField(*request.body, "query");
  if (!query.ok()) return query.status();
  CountOptions options;
  auto skip = GetIntField(*request.body, "skip", 0);
  if (!skip.ok()) return skip.status();
  auto limit = GetIntField(*request.body, "limit", 0);
  if (!limit.ok()) return limit.status();
  if (*skip < 0) return Status(ErrorCode::kBadValue, "skip value is negative in count query");
  options.skip = *skip;
  options.limit = *limit < 0 ? -*limit : *limit;
  DOCKET_RETURN_IF_ERROR(ReadHint(*request.body, &options.hint));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(*request.body, "collation", &options.collation));
  options.read.transaction = request.txn;
  auto n = context.server.engine->collection(request.db, *name).CountDocuments(*query, options);
  if (!n.ok()) return n.status();
  BSON_APPEND_INT32(reply, "n", static_cast<int32_t>(*n));
  return Status::OK();
}

Status Distinct(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto key = GetStringField(*request.body, "key", true);
  if (!key.ok()) return key.status();
  auto query = GetDocumentField(*request.body, "query");
  if (!query.ok()) return query.status();
  ReadOptions read;
  read.transaction = request.txn;
  Document collation;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(*request.body, "collation", &collation));
  auto values = context.server.engine->collection(request.db, *name).Distinct(*key, *query, read, collation);
  if (!values.ok()) return values.status();
  bson_iter_t it;
  if (values->Find("values", &it)) docket::bson::AppendElement(reply, "values", -1, &it);
  return Status::OK();
}

}  // namespace docket::commands

