// Capped collections over the wire: create's capped/size/max, and the
// cloneCollectionAsCapped and convertToCapped commands (engine/capped.h has
// the rules and MongoDB's errors).
#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {

namespace {

// A numeric field that may be absent (or null): nullopt then.
Result<std::optional<int64_t>> OptionalInt(const Document& body, const char* key) {
  bson_iter_t it;
  if (!body.Find(key, &it) || BSON_ITER_HOLDS_NULL(&it)) return std::optional<int64_t>();
  auto value = GetIntField(body, key, 0);
  if (!value.ok()) return value.status();
  return std::optional<int64_t>(*value);
}

// `size` of cloneCollectionAsCapped and convertToCapped: required.
Result<int64_t> RequiredSize(const Document& body, const std::string& command) {
  auto size = OptionalInt(body, "size");
  if (!size.ok()) return size.status();
  if (!*size) return Status(ErrorCode::kIDLMissingField, "BSON field '" + command + ".size' is missing but a required field");
  return **size;
}

}  // namespace

Result<CollectionOptions> ReadCollectionOptions(const Document& body) {
  CollectionOptions options;
  options.capped = GetBoolField(body, "capped", false);
  auto size = OptionalInt(body, "size");
  if (!size.ok()) return size.status();
  auto max = OptionalInt(body, "max");
  if (!max.ok()) return max.status();
  options.size = *size;
  options.max = *max;
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "validator", &options.validator));
  DOCKET_RETURN_IF_ERROR(ReadDocumentField(body, "collation", &options.collation));
  bson_iter_t it;
  if (body.Find("validationLevel", &it)) options.validation_level = bson_iter_utf8(&it, nullptr);
  if (body.Find("validationAction", &it)) options.validation_action = bson_iter_utf8(&it, nullptr);
  std::optional<std::vector<Document>> pipeline;
  DOCKET_RETURN_IF_ERROR(ReadViewOptions(body, "create", &options.view_on, &pipeline));
  if (pipeline) options.pipeline = std::move(*pipeline);
  if (pipeline && !options.view_on) {
    return Status(ErrorCode::kInvalidOptions, "'pipeline' requires 'viewOn' to also be specified");
  }
  return options;
}

Status CloneCollectionAsCapped(CommandContext& context, const CommandRequest& request, bson_t*) {
  auto from = GetStringField(*request.body, "cloneCollectionAsCapped", true);
  if (!from.ok()) return from.status();
  auto to = GetStringField(*request.body, "toCollection", true);
  if (!to.ok()) return to.status();
  auto size = RequiredSize(*request.body, "cloneCollectionAsCapped");
  if (!size.ok()) return size.status();
  return context.server.engine->CloneCollectionAsCapped(request.db, *from, *to, *size);
}

Status ConvertToCapped(CommandContext& context, const CommandRequest& request, bson_t*) {
  auto name = GetStringField(*request.body, "convertToCapped", true);
  if (!name.ok()) return name.status();
  auto size = RequiredSize(*request.body, "convertToCapped");
  if (!size.ok()) return size.status();
  return context.server.engine->ConvertToCapped(request.db, *name, *size);
}

}  // namespace docket::commands
