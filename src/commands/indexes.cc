// createIndexes, listIndexes, dropIndexes, reIndex: the engine's secondary indexes
// (engine/indexes.h) in the command shapes drivers expect.
#include "bson/builder.h"
#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {

Status CreateIndexes(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  auto specs = GetDocumentList(request, "indexes");
  if (!specs.ok()) return specs.status();
  for (const Document& spec : *specs) {
    bson_iter_t field;
    if (!spec.Find("name", &field)) {
      return Status(ErrorCode::kFailedToParse, "The 'name' field is a required property of an index specification");
    }
  }
  Collection collection = context.server.engine->collection(request.db, *name);
  auto result = collection.CreateIndexes(*specs, request.txn);
  if (!result.ok()) return result.status();
  BSON_APPEND_INT32(reply, "numIndexesBefore", result->num_indexes_before);
  BSON_APPEND_INT32(reply, "numIndexesAfter", result->num_indexes_after);
  BSON_APPEND_BOOL(reply, "createdCollectionAutomatically", result->created_collection_automatically);
  if (result->num_indexes_before == result->num_indexes_after) {
    BSON_APPEND_UTF8(reply, "note", "all indexes already exist");
  }
  return Status::OK();
}

Status ListIndexes(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  if (!CollectionExists(context.server.engine, request.db, *name)) {
    return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + request.db + "." + *name);
  }
  auto specs = context.server.engine->collection(request.db, *name).ListIndexes();
  if (!specs.ok()) return specs.status();
  AppendCursorReply(reply, "firstBatch", *specs, 0, request.db + "." + *name);
  return Status::OK();
}

// reIndex (deprecated in MongoDB 6.0, still there): a standalone only, as mongod.
Status ReIndex(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  if (!context.server.replica_set.empty()) {
    return Status(ErrorCode::kIllegalOperation, "reIndex is only allowed on a standalone mongod instance");
  }
  auto specs = context.server.engine->collection(request.db, *name).ReIndex();
  if (!specs.ok()) return specs.status();
  BSON_APPEND_INT32(reply, "nIndexesWas", static_cast<int32_t>(specs->size()));
  BSON_APPEND_INT32(reply, "nIndexes", static_cast<int32_t>(specs->size()));
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(reply, "indexes", &array);
  for (size_t i = 0; i < specs->size(); ++i) bson::AppendDocument(&array, std::to_string(i).c_str(), (*specs)[i]);
  bson_append_array_end(reply, &array);
  return Status::OK();
}

Status DropIndexes(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetCollectionName(*request.body);
  if (!name.ok()) return name.status();
  if (!CollectionExists(context.server.engine, request.db, *name)) {
    return Status(ErrorCode::kNamespaceNotFound, "ns not found " + request.db + "." + *name);
  }
  Collection collection = context.server.engine->collection(request.db, *name);
  auto before = collection.ListIndexes();
  if (!before.ok()) return before.status();
  bson_iter_t it;
  if (!request.body->Find("index", &it)) {
    return Status(ErrorCode::kFailedToParse, "BSON field 'index' is missing but a required field");
  }
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    DOCKET_RETURN_IF_ERROR(collection.DropIndex(IterString(it)));
  } else if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
    DOCKET_RETURN_IF_ERROR(collection.DropIndexByKey(SubDocument(it)));
  } else if (BSON_ITER_HOLDS_ARRAY(&it)) {
    // Every name must exist before any is dropped.
    std::vector<std::string> names;
    bson_iter_t element;
    bson_iter_recurse(&it, &element);
    while (bson_iter_next(&element)) {
      if (!BSON_ITER_HOLDS_UTF8(&element)) {
        return Status(ErrorCode::kTypeMismatch, "dropIndexes 'index' array must hold only index names");
      }
      names.emplace_back(IterString(element));
    }
    for (const std::string& index : names) {
      bool found = false;
      for (const Document& spec : *before) {
        bson_iter_t n;
        found = found || (spec.Find("name", &n) && BSON_ITER_HOLDS_UTF8(&n) && index == IterString(n));
      }
      if (!found) return Status(ErrorCode::kIndexNotFound, "index not found with name [" + index + "]");
      if (index == "_id_") return Status(ErrorCode::kInvalidOptions, "cannot drop _id index");
    }
    for (const std::string& index : names) DOCKET_RETURN_IF_ERROR(collection.DropIndex(index));
  } else {
    return Status(ErrorCode::kTypeMismatch, "BSON field 'index' must be a string, an object or an array");
  }
  BSON_APPEND_INT32(reply, "nIndexesWas", static_cast<int32_t>(before->size()));
  return Status::OK();
}

}  // namespace docket::commands
