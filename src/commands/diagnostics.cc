// collStats, dbStats, validate and explain. Counts and data sizes are
// counted over the records; storage and index sizes are RocksDB's estimates
// for the collection's key ranges (Collection::Stats); validate checks every
// index against the records (Collection::Validate).
#include <sys/statvfs.h>

#include <algorithm>

#include "bson/builder.h"
#include "commands/args.h"
#include "commands/command_fields.h"
#include "commands/handlers.h"
#include "bson/append_element.h"

namespace docket::commands {
namespace {

// The `scale` option: sizes are divided by it (MongoDB: a positive integer).
Result<int64_t> GetScale(const Document& body) {
  auto scale = GetIntField(body, "scale", 1);
  if (!scale.ok()) return scale.status();
  if (*scale < 1) return Status(ErrorCode::kBadValue, "scale has to be > 0");
  return *scale;
}

}  // namespace

Status CollStats(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto scale = GetScale(*request.body);
  if (!scale.ok()) return scale.status();
  BSON_APPEND_UTF8(reply, "ns", (request.db + "." + *name).c_str());
  return AppendStorageStats(context.server.engine, request.db, *name, *scale, reply);
}

Status AppendStorageStats(Engine* engine, const std::string& db, const std::string& name, int64_t scale,
                          bson_t* reply) {
  CollectionStats stats;
  if (CollectionExists(engine, db, name)) {
    auto measured = engine->collection(db, name).Stats();
    if (!measured.ok()) return measured.status();
    stats = std::move(measured).value();
  }
  const int64_t s = scale;
  BSON_APPEND_INT64(reply, "size", stats.data_size / s);
  BSON_APPEND_INT64(reply, "count", stats.count);
  if (stats.count > 0) BSON_APPEND_INT64(reply, "avgObjSize", stats.data_size / stats.count);
  BSON_APPEND_INT64(reply, "storageSize", stats.storage_size / s);
  BSON_APPEND_BOOL(reply, "capped", stats.capped);
  if (stats.capped) {
    BSON_APPEND_INT64(reply, "max", stats.max);
    BSON_APPEND_INT64(reply, "maxSize", stats.max_size / s);
  }
  BSON_APPEND_INT32(reply, "nindexes", static_cast<int32_t>(stats.indexes.size()));
  BSON_APPEND_INT64(reply, "totalIndexSize", stats.total_index_size / s);
  BSON_APPEND_INT64(reply, "totalSize", (stats.storage_size + stats.total_index_size) / s);
  bson_t sizes;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "indexSizes", &sizes);
  for (const IndexSize& index : stats.indexes) BSON_APPEND_INT64(&sizes, index.name.c_str(), index.bytes / s);
  bson_append_document_end(reply, &sizes);
  BSON_APPEND_INT64(reply, "scaleFactor", s);
  return Status::OK();
}

Status DbStats(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto scale = GetScale(*request.body);
  if (!scale.ok()) return scale.status();
  int64_t objects = 0, data = 0, storage = 0, index_bytes = 0, indexes = 0;
  int32_t collections = 0, views = 0;
  for (const CollectionInfo& info : context.server.engine->ListCollections(request.db)) {
    if (info.view) {
      ++views;
      continue;
    }
    auto stats = context.server.engine->collection(request.db, info.name).Stats();
    if (!stats.ok() && stats.status().code() == ErrorCode::kNamespaceNotFound) continue;  // dropped meanwhile
    if (!stats.ok()) return stats.status();
    objects += stats->count;
    data += stats->data_size;
    storage += stats->storage_size;
    index_bytes += stats->total_index_size;
    indexes += static_cast<int64_t>(stats->indexes.size());
    ++collections;
  }
  const int64_t s = *scale;
  BSON_APPEND_UTF8(reply, "db", request.db.c_str());
  BSON_APPEND_INT32(reply, "collections", collections);
  BSON_APPEND_INT32(reply, "views", views);
  BSON_APPEND_INT64(reply, "objects", objects);
  BSON_APPEND_DOUBLE(reply, "avgObjSize", objects > 0 ? static_cast<double>(data) / static_cast<double>(objects) : 0.0);
  BSON_APPEND_INT64(reply, "dataSize", data / s);
  BSON_APPEND_INT64(reply, "storageSize", storage / s);
  BSON_APPEND_INT64(reply, "indexes", indexes);
  BSON_APPEND_INT64(reply, "indexSize", index_bytes / s);
  BSON_APPEND_INT64(reply, "totalSize", (storage + index_bytes) / s);
  BSON_APPEND_INT64(reply, "scaleFactor", s);
  // The file system holding the data, when there is one (not --memory).
  struct statvfs fs {};
  const std::string& path = context.server.engine->path();
  if (!path.empty() && statvfs(path.c_str(), &fs) == 0) {
    const double block = static_cast<double>(fs.f_frsize);
    BSON_APPEND_DOUBLE(reply, "fsUsedSize", (static_cast<double>(fs.f_blocks - fs.f_bfree) * block) / s);
    BSON_APPEND_DOUBLE(reply, "fsTotalSize", (static_cast<double>(fs.f_blocks) * block) / s);
  }
  return Status::OK();
}

// MongoDB's compact: the collection's records and indexes, with bytesFreed.
Status Compact(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto freed = context.server.engine->CompactCollection(request.db, *name);
  if (!freed.ok()) return freed.status();
  BSON_APPEND_INT64(reply, "bytesFreed", *freed);
  return Status::OK();
}

// Every record read back and every index checked against the records, at
// one snapshot (Collection::Validate), in MongoDB's reply shape.
Status Validate(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  if (!CollectionExists(context.server.engine, request.db, *name)) {
    return Status(ErrorCode::kNamespaceNotFound, "Collection '" + request.db + "." + *name + "' does not exist to validate.");
  }
  auto result = context.server.engine->collection(request.db, *name).Validate();
  if (!result.ok()) return result.status();
  auto strings = [reply](const char* key, const std::vector<std::string>& values) {
    bson_t array;
    BSON_APPEND_ARRAY_BEGIN(reply, key, &array);
    for (size_t i = 0; i < values.size(); ++i) BSON_APPEND_UTF8(&array, std::to_string(i).c_str(), values[i].c_str());
    bson_append_array_end(reply, &array);
  };
  BSON_APPEND_UTF8(reply, "ns", (request.db + "." + *name).c_str());
  BSON_APPEND_INT64(reply, "nInvalidDocuments", result->invalid_documents);
  BSON_APPEND_INT64(reply, "nNonCompliantDocuments", 0);
  BSON_APPEND_INT64(reply, "nrecords", result->records);
  BSON_APPEND_INT32(reply, "nIndexes", static_cast<int32_t>(result->keys_per_index.size()));
  bson_t keys, details, detail;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "keysPerIndex", &keys);
  for (const auto& [index, count] : result->keys_per_index) BSON_APPEND_INT64(&keys, index.c_str(), count);
  bson_append_document_end(reply, &keys);
  BSON_APPEND_DOCUMENT_BEGIN(reply, "indexDetails", &details);
  for (const auto& [index, count] : result->keys_per_index) {
    const auto& bad = result->invalid_indexes;
    BSON_APPEND_DOCUMENT_BEGIN(&details, index.c_str(), &detail);
    BSON_APPEND_BOOL(&detail, "valid", std::find(bad.begin(), bad.end(), index) == bad.end());
    bson_append_document_end(&details, &detail);
  }
  bson_append_document_end(reply, &details);
  BSON_APPEND_BOOL(reply, "valid", result->valid());
  BSON_APPEND_BOOL(reply, "repaired", false);
  BSON_APPEND_INT64(reply, "missingIndexEntryCount", result->missing_index_entries);
  BSON_APPEND_INT64(reply, "extraIndexEntryCount", result->extra_index_entries);
  strings("warnings", result->warnings);
  strings("errors", result->errors);
  return Status::OK();
}

// explain of find, count, distinct, update, delete, findAndModify and
// aggregate: the engine's plan (Collection::Explain, ExplainAggregate) at
// the verbosity asked, in mongod's frame.
namespace {

// `explained` with queryPlanner.winningPlan under a write's own stage
// ({stage: "UPDATE", inputStage: <the plan>}), as mongod shows a write's plan.
Document UnderWriteStage(const Document& explained, const char* stage) {
  bson::Builder out;
  bson_iter_t it;
  explained.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) != "queryPlanner" || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
      docket::bson::AppendElement(out.get(), bson_iter_key(&it), -1, &it);
      continue;
    }
    bson_t planner, wrapped;
    BSON_APPEND_DOCUMENT_BEGIN(out.get(), "queryPlanner", &planner);
    bson_iter_t field;
    bson_iter_recurse(&it, &field);
    while (bson_iter_next(&field)) {
      if (std::string_view(bson_iter_key(&field)) != "winningPlan") {
        docket::bson::AppendElement(&planner, bson_iter_key(&field), -1, &field);
        continue;
      }
      BSON_APPEND_DOCUMENT_BEGIN(&planner, "winningPlan", &wrapped);
      BSON_APPEND_UTF8(&wrapped, "stage", stage);
      docket::bson::AppendElement(&wrapped, "inputStage", -1, &field);
      bson_append_document_end(&planner, &wrapped);
    }
    bson_append_document_end(out.get(), &planner);
  }
  return out.Finish();
}

// The first statement of an explained update or delete: mongod explains one.
Result<Document> FirstStatement(const Document& inner, const char* list) {
  bson_iter_t it, first;
  if (!inner.Find(list, &it) || !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &first) ||
      !bson_iter_next(&first) || !BSON_ITER_HOLDS_DOCUMENT(&first)) {
    return Status(ErrorCode::kFailedToParse, std::string("explain of a write needs one statement in '") + list + "'");
  }
  return SubDocument(first);
}

}  // namespace

// The explain command's verbosity (default allPlansExecution, as mongod's).
Result<ExplainVerbosity> Verbosity(const Document& body) {
  bson_iter_t it;
  if (!body.Find("verbosity", &it)) return ExplainVerbosity::kAllPlansExecution;
  if (!BSON_ITER_HOLDS_UTF8(&it)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'explain.verbosity' is the wrong type, expected type 'string'");
  }
  const std::string value = IterString(it);
  if (value == "queryPlanner") return ExplainVerbosity::kQueryPlanner;
  if (value == "executionStats") return ExplainVerbosity::kExecutionStats;
  if (value == "allPlansExecution") return ExplainVerbosity::kAllPlansExecution;
  return Status(ErrorCode::kBadValue,
                "Enumeration value '" + value + "' for field 'explain.verbosity' is not a valid value.");
}

// mongod's fields around an explain's plan: explainVersion first; command
// (the explained command, with $db) and serverInfo after.
void AppendExplainFrame(CommandContext& context, const CommandRequest& request, const Document& inner,
                        const Document& explained, bson_t* reply) {
  BSON_APPEND_UTF8(reply, "explainVersion", "1");
  bson_iter_t it;
  explained.Iterate(&it);
  while (bson_iter_next(&it)) docket::bson::AppendElement(reply, bson_iter_key(&it), -1, &it);
  bson_t command, server;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "command", &command);
  inner.Iterate(&it);
  while (bson_iter_next(&it)) docket::bson::AppendElement(&command, bson_iter_key(&it), -1, &it);
  BSON_APPEND_UTF8(&command, "$db", request.db.c_str());
  bson_append_document_end(reply, &command);
  const std::string& host = context.server.host;
  const size_t colon = host.rfind(':');
  BSON_APPEND_DOCUMENT_BEGIN(reply, "serverInfo", &server);
  BSON_APPEND_UTF8(&server, "host", host.substr(0, colon).c_str());
  BSON_APPEND_INT32(&server, "port", colon == std::string::npos ? 0 : std::atoi(host.c_str() + colon + 1));
  BSON_APPEND_UTF8(&server, "version", "6.0.0");
  bson_append_document_end(reply, &server);
}

Status Explain(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto inner = GetDocumentField(*request.body, "explain");
  if (!inner.ok()) return inner.status();
  auto verbosity = Verbosity(*request.body);
  if (!verbosity.ok()) return verbosity.status();
  const std::string verb = CommandName(*inner);
  // The explained command's fields are checked as if it ran.
  DOCKET_RETURN_IF_ERROR(CheckCommandFields(verb, *inner, nullptr));
  auto name = GetCollectionName(*inner);
  if (!name.ok()) return name.status();
  Document filter;
  FindOptions options;
  auto hint = GetHint(*inner);
  if (!hint.ok()) return hint.status();
  options.hint = std::move(hint).value();
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "collation", &options.collation));
  if (verb == "find") {
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "filter", &filter));
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "sort", &options.sort));
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "min", &options.min));
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "max", &options.max));
    auto skip = GetIntField(*inner, "skip", 0);
    if (!skip.ok()) return skip.status();
    auto limit = GetIntField(*inner, "limit", 0);
    if (!limit.ok()) return limit.status();
    options.skip = *skip;
    options.limit = *limit;
  } else if (verb == "count" || verb == "findAndModify" || verb == "findandmodify" || verb == "distinct") {
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "query", &filter));
    if (verb != "count") DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "sort", &options.sort));
  } else if (verb == "update" || verb == "delete") {
    auto statement = FirstStatement(*inner, verb == "update" ? "updates" : "deletes");
    if (!statement.ok()) return statement.status();
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*statement, "q", &filter));
    auto statement_hint = GetHint(*statement);
    if (!statement_hint.ok()) return statement_hint.status();
    if (!statement_hint->empty()) options.hint = std::move(statement_hint).value();
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*statement, "collation", &options.collation));
  } else if (verb == "aggregate") {
    std::vector<Document> stages;
    DOCKET_RETURN_IF_ERROR(ReadDocumentArray(*inner, "pipeline", &stages));
    AggregateOptions aggregate;
    aggregate.hint = options.hint;
    aggregate.collation = options.collation;
    auto explained = context.server.engine->collection(request.db, *name).ExplainAggregate(stages, aggregate);
    if (!explained.ok()) return explained.status();
    AppendExplainFrame(context, request, *inner, *explained, reply);
    return Status::OK();
  } else {
    return Status(ErrorCode::kCommandNotSupported, "explain of '" + verb + "' is not supported yet");
  }
  Collection collection = context.server.engine->collection(request.db, *name);
  auto explained = collection.Explain(filter, options, *verbosity);
  if (!explained.ok()) return explained.status();
  const bool removes = verb == "delete" || ((verb == "findAndModify" || verb == "findandmodify") &&
                                            GetBoolField(*inner, "remove", false));
  const bool updates = verb == "update" || ((verb == "findAndModify" || verb == "findandmodify") && !removes);
  if (removes || updates) explained = UnderWriteStage(*explained, removes ? "DELETE" : "UPDATE");
  AppendExplainFrame(context, request, *inner, *explained, reply);
  return Status::OK();
}

}  // namespace docket::commands
