// Views over the wire: create's and collMod's viewOn and pipeline, and a
// view's listCollections entry (engine: src/engine/views.h has the rules).
#include "commands/args.h"
#include "commands/handlers.h"
#include "bson/builder.h"
#include "bson/type_names.h"
#include "bson/value.h"

namespace docket::commands {

Status ReadViewOptions(const Document& body, const std::string& command, std::optional<std::string>* view_on,
                       std::optional<std::vector<Document>>* pipeline) {
  bson_iter_t it;
  if (body.Find("viewOn", &it)) {
    // The field table checked the type (string).
    *view_on = std::string(bson_iter_utf8(&it, nullptr));
    if ((*view_on)->empty()) return Status(ErrorCode::kBadValue, "'viewOn' cannot be empty");
  }
  if (body.Find("pipeline", &it)) {
    std::vector<Document> stages;
    bson_iter_t stage;
    bson_iter_recurse(&it, &stage);
    for (size_t i = 0; bson_iter_next(&stage); ++i) {
      if (!BSON_ITER_HOLDS_DOCUMENT(&stage)) {
        return Status(ErrorCode::kTypeMismatch, "BSON field '" + command + ".pipeline." + std::to_string(i) +
                                                    "' is the wrong type '" + bson::TypeAlias(bson_iter_type(&stage)) +
                                                    "', expected type 'object'");
      }
      stages.push_back(SubDocument(stage));
    }
    *pipeline = std::move(stages);
  }
  return Status::OK();
}

void AppendViewEntry(bson_t* entry, const CollectionInfo& info, bool name_only) {
  BSON_APPEND_UTF8(entry, "name", info.name.c_str());
  BSON_APPEND_UTF8(entry, "type", "view");
  if (name_only) return;
  bson_t options, pipeline, details;
  BSON_APPEND_DOCUMENT_BEGIN(entry, "options", &options);
  BSON_APPEND_UTF8(&options, "viewOn", info.view_on.c_str());
  BSON_APPEND_ARRAY_BEGIN(&options, "pipeline", &pipeline);
  for (size_t i = 0; i < info.pipeline.size(); ++i) {
    bson::AppendDocument(&pipeline, std::to_string(i).c_str(), info.pipeline[i]);
  }
  bson_append_array_end(&options, &pipeline);
  if (!info.collation.empty()) bson::AppendDocument(&options, "collation", info.collation);
  bson_append_document_end(entry, &options);
  BSON_APPEND_DOCUMENT_BEGIN(entry, "info", &details);
  BSON_APPEND_BOOL(&details, "readOnly", true);
  bson_append_document_end(entry, &details);
}

Status CollModView(CommandContext& context, const CommandRequest& request, const std::string& name) {
  std::optional<std::string> view_on;
  std::optional<std::vector<Document>> pipeline;
  DOCKET_RETURN_IF_ERROR(ReadViewOptions(*request.body, "collMod", &view_on, &pipeline));
  Engine* engine = context.server.engine;
  if (!view_on && !pipeline) {
    // Options for collections only, on a view (checked before anything changes).
    static const char* const kCollectionOnly[] = {"index", "cappedSize", "cappedMax", "validator", "validationLevel",
                                                  "validationAction", "expireAfterSeconds",
                                                  "changeStreamPreAndPostImages", "recordPreImages"};
    bson_iter_t it;
    for (const char* option : kCollectionOnly) {
      if (request.body->Find(option, &it)) {
        return Status(ErrorCode::kInvalidOptions, std::string("option not supported on a view: ") + option);
      }
    }
    return Status::OK();  // nothing to change
  }
  static const char* const kCollectionOnly[] = {"index", "cappedSize", "cappedMax"};
  bson_iter_t it;
  for (const char* option : kCollectionOnly) {
    if (request.body->Find(option, &it)) {
      if (!engine->IsView(request.db, name)) {
        return Status(ErrorCode::kInvalidOptions,
                      std::string("option only supported on a view: ") + (view_on ? "viewOn" : "pipeline"));
      }
      return Status(ErrorCode::kInvalidOptions, std::string("option not supported on a view: ") + option);
    }
  }
  return engine->ModifyView(request.db, name, view_on, pipeline);
}

}  // namespace docket::commands
