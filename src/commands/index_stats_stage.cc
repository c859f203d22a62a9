// The $indexStats aggregation stage, answered by the server (it reports the
// server's host): the engine's per-index access counts
// (Collection::IndexStats) as mongod 6.0's documents, one per index.
#include "bson/builder.h"
#include "bson/value.h"
#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {

Status ExpandIndexStats(CommandContext& context, const CommandRequest& request, const std::string& name,
                        std::vector<Document>* stages, bool* collectionless) {
  for (size_t i = 1; i < stages->size(); ++i) {
    if (CommandName((*stages)[i]) == "$indexStats") {
      return Status(static_cast<ErrorCode>(40602), "$indexStats is only valid as the first stage in a pipeline");
    }
  }
  if (stages->empty() || CommandName(stages->front()) != "$indexStats") return Status::OK();
  bson_iter_t spec;
  stages->front().Find("$indexStats", &spec);
  if (!BSON_ITER_HOLDS_DOCUMENT(&spec) || !SubDocument(spec).empty()) {
    return Status(static_cast<ErrorCode>(28803), "The $indexStats stage specification must be an empty object");
  }
  if (*collectionless) {
    return Status(ErrorCode::kInvalidNamespace, "$indexStats must be run against a collection namespace");
  }
  auto usage = context.server.engine->collection(request.db, name).IndexStats();
  if (!usage.ok()) return usage.status();
  bson::Builder documents;
  bson_t literal, array;
  BSON_APPEND_DOCUMENT_BEGIN(documents.get(), "$documents", &literal);
  BSON_APPEND_ARRAY_BEGIN(&literal, "$literal", &array);
  for (size_t i = 0; i < usage->size(); ++i) {
    const IndexUsage& index = (*usage)[i];
    bson_t one, accesses;
    const std::string key = std::to_string(i);
    BSON_APPEND_DOCUMENT_BEGIN(&array, key.c_str(), &one);
    BSON_APPEND_UTF8(&one, "name", index.name.c_str());
    bson::AppendDocument(&one, "key", index.key);
    BSON_APPEND_UTF8(&one, "host", context.server.host.c_str());
    BSON_APPEND_DOCUMENT_BEGIN(&one, "accesses", &accesses);
    BSON_APPEND_INT64(&accesses, "ops", index.ops);
    BSON_APPEND_DATE_TIME(&accesses, "since", index.since_ms);
    bson_append_document_end(&one, &accesses);
    bson::AppendDocument(&one, "spec", index.spec);
    if (index.building) BSON_APPEND_BOOL(&one, "building", true);
    bson_append_document_end(&array, &one);
  }
  bson_append_array_end(&literal, &array);
  bson_append_document_end(documents.get(), &literal);
  stages->front() = documents.Finish();
  *collectionless = true;
  return Status::OK();
}

}  // namespace docket::commands
