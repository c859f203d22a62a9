// The $collStats aggregation stage, answered by the server: it needs the
// server's per-namespace latencies (server_metrics.h) and the engine's
// measured sizes (collStats'), and produces one document.
#include <chrono>

#include "bson/builder.h"
#include "bson/value.h"
#include "commands/args.h"
#include "commands/handlers.h"
#include "bson/append_element.h"

namespace docket::commands {

namespace {

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status ExpandCollStats(CommandContext& context, const CommandRequest& request, const std::string& name,
                       std::vector<Document>* stages, bool* collectionless) {
  for (size_t i = 1; i < stages->size(); ++i) {
    if (CommandName((*stages)[i]) == "$collStats") {
      return Status(static_cast<ErrorCode>(40602), "$collStats is only valid as the first stage in a pipeline");
    }
  }
  if (stages->empty() || CommandName(stages->front()) != "$collStats") return Status::OK();
  if (*collectionless) {
    return Status(ErrorCode::kInvalidNamespace, "$collStats must be run against a collection namespace");
  }
  bson_iter_t spec_it;
  stages->front().Find("$collStats", &spec_it);
  if (!BSON_ITER_HOLDS_DOCUMENT(&spec_it)) {
    return Status(ErrorCode::kTypeMismatch, "$collStats must take a nested object but found: " + bson::ValueToJson(spec_it));
  }
  const Document spec = SubDocument(spec_it);
  Engine* engine = context.server.engine;
  const std::string ns = request.db + "." + name;
  bson::Builder out;
  BSON_APPEND_UTF8(out.get(), "ns", ns.c_str());
  BSON_APPEND_UTF8(out.get(), "host", context.server.host.c_str());
  BSON_APPEND_DATE_TIME(out.get(), "localTime", NowMillis());
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string key = bson_iter_key(&it);
    if (key != "latencyStats" && key != "storageStats" && key != "count" && key != "queryExecStats") {
      return Status(static_cast<ErrorCode>(40415), "BSON field '$collStats." + key + "' is an unknown field.");
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
      return Status(ErrorCode::kTypeMismatch, "BSON field '$collStats." + key + "' is the wrong type, expected an object");
    }
    const Document options = SubDocument(it);
    const bool view = engine->IsView(request.db, name);
    if (key == "latencyStats") {
      context.server.metrics.AppendLatencyStats(ns, "latencyStats", out.get());
    } else if (key == "storageStats" || key == "count") {
      if (view) return Status(ErrorCode::kCommandNotSupportedOnView, "Namespace " + ns + " is a view, not a collection");
      if (!CollectionExists(engine, request.db, name)) {
        return Status(ErrorCode::kNamespaceNotFound, "Unable to retrieve " + key + " in $collStats stage :: caused by :: Collection [" + ns + "] not found.");
      }
      if (key == "count") {
        auto count = engine->collection(request.db, name).CountDocuments(Document());
        if (!count.ok()) return count.status();
        BSON_APPEND_INT64(out.get(), "count", *count);
      } else {
        auto scale = GetIntField(options, "scale", 1);
        if (!scale.ok()) return scale.status();
        if (*scale < 1) return Status(ErrorCode::kBadValue, "scale has to be > 0");
        bson_t storage;
        BSON_APPEND_DOCUMENT_BEGIN(out.get(), "storageStats", &storage);
        DOCKET_RETURN_IF_ERROR(AppendStorageStats(engine, request.db, name, *scale, &storage));
        bson_append_document_end(out.get(), &storage);
      }
    } else {  // queryExecStats
      auto scans = engine->collection(request.db, name).QueryExecStats();
      if (!scans.ok()) return scans.status();
      bson_t stats, collection_scans;
      BSON_APPEND_DOCUMENT_BEGIN(out.get(), "queryExecStats", &stats);
      BSON_APPEND_DOCUMENT_BEGIN(&stats, "collectionScans", &collection_scans);
      BSON_APPEND_INT64(&collection_scans, "total", scans->collection_scans);
      BSON_APPEND_INT64(&collection_scans, "nonTailable", scans->non_tailable_collection_scans);
      bson_append_document_end(&stats, &collection_scans);
      bson_append_document_end(out.get(), &stats);
    }
  }
  bson::Builder documents;
  bson_t literal, array;
  BSON_APPEND_DOCUMENT_BEGIN(documents.get(), "$documents", &literal);
  BSON_APPEND_ARRAY_BEGIN(&literal, "$literal", &array);
  bson::AppendDocument(&array, "0", out.Finish());
  bson_append_array_end(&literal, &array);
  bson_append_document_end(documents.get(), &literal);
  stages->front() = documents.Finish();
  *collectionless = true;
  return Status::OK();
}

}  // namespace docket::commands
