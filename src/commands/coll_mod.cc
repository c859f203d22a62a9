// collMod: an index's expireAfterSeconds and hidden flag, a capped
// collection's cappedSize and cappedMax (engine: src/engine/coll_mod.cc), a
// view's viewOn and pipeline (views.cc). Its other options (validation, pre-
// and post-images, clustered TTL) are refused as NotImplemented by the
// command's field table.
#include "commands/args.h"
#include "commands/handlers.h"
#include "bson/value.h"
#include "bson/append_element.h"
#include "bson/builder.h"

#include <algorithm>
#include <string_view>

namespace docket::commands {

namespace {

// collMod's `index` document: which index and what changes. MongoDB's IDL
// errors for the rest.
Status ReadIndexChange(const Document& spec, IndexHint* which, IndexModification* change) {
  bson_iter_t it;
  spec.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string key = bson_iter_key(&it);
    if (key == "keyPattern") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return Status(ErrorCode::kTypeMismatch, "BSON field 'collMod.index.keyPattern' is the wrong type, expected an object");
      which->key_pattern = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
    } else if (key == "name") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return Status(ErrorCode::kTypeMismatch, "BSON field 'collMod.index.name' is the wrong type, expected a string");
      which->name = bson_iter_utf8(&it, nullptr);
    } else if (key == "expireAfterSeconds") {
      if (!BSON_ITER_HOLDS_NUMBER(&it)) return Status(ErrorCode::kTypeMismatch, "BSON field 'collMod.index.expireAfterSeconds' is the wrong type, expected a number");
      change->expire_after_seconds = bson_iter_as_double(&it);
    } else if (key == "hidden") {
      if (!BSON_ITER_HOLDS_BOOL(&it)) return Status(ErrorCode::kTypeMismatch, "BSON field 'collMod.index.hidden' is the wrong type, expected a boolean");
      change->hidden = bson_iter_bool(&it);
    } else if (key == "prepareUnique" || key == "unique") {
      if (!BSON_ITER_HOLDS_BOOL(&it)) {
        return Status(ErrorCode::kTypeMismatch, "BSON field 'collMod.index." + key + "' is the wrong type, expected a boolean");
      }
      (key == "unique" ? change->unique : change->prepare_unique) = bson_iter_bool(&it);
    } else {
      return Status(ErrorCode::kIDLUnknownField, "BSON field 'collMod.index." + key + "' is an unknown field.");
    }
  }
  if (!which->name.empty() && !which->key_pattern.empty()) {
    return Status(ErrorCode::kInvalidOptions, "Cannot specify both key pattern and name.");
  }
  if (which->name.empty() && which->key_pattern.empty()) {
    return Status(ErrorCode::kInvalidOptions, "Must specify either index name or key pattern.");
  }
  return Status::OK();
}

}  // namespace

namespace {

// Runs collMod's parts through the engine.
Status ApplyCollMod(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  auto name = GetStringField(*request.body, "collMod", true);
  if (!name.ok()) return name.status();
  bson_iter_t it;
  if (request.body->Find("viewOn", &it) || request.body->Find("pipeline", &it) ||
      context.server.engine->IsView(request.db, *name)) {
    return CollModView(context, request, *name);
  }
  std::optional<int64_t> capped_size, capped_max;
  if (request.body->Find("cappedSize", &it)) {
    auto v = GetIntField(*request.body, "cappedSize", 0);
    if (!v.ok()) return v.status();
    capped_size = *v;
  }
  if (request.body->Find("cappedMax", &it)) {
    auto v = GetIntField(*request.body, "cappedMax", 0);
    if (!v.ok()) return v.status();
    capped_max = *v;
  }
  std::optional<Document> validator;
  std::optional<std::string> level, action;
  if (request.body->Find("validator", &it)) validator = SubDocument(it);
  if (request.body->Find("validationLevel", &it)) level = std::string(bson_iter_utf8(&it, nullptr));
  if (request.body->Find("validationAction", &it)) action = std::string(bson_iter_utf8(&it, nullptr));
  const bool has_index = request.body->Find("index", &it);
  IndexHint which;
  IndexModification change;
  if (has_index) {
    DOCKET_RETURN_IF_ERROR(ReadIndexChange(Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it))), &which, &change));
  }
  Engine* engine = context.server.engine;
  if (validator || level || action) {
    DOCKET_RETURN_IF_ERROR(engine->SetValidation(request.db, *name, validator, level, action));
  }
  if (!has_index && !capped_size && !capped_max) {
    if (validator || level || action) return Status::OK();
    // Nothing to change: mongod answers ok for an existing collection.
    if (!CollectionExists(engine, request.db, *name)) {
      return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + request.db + "." + *name);
    }
    return Status::OK();
  }
  if (capped_size || capped_max) DOCKET_RETURN_IF_ERROR(engine->SetCappedLimits(request.db, *name, capped_size, capped_max));
  if (!has_index) return Status::OK();
  auto result = engine->collection(request.db, *name).ModifyIndex(which, change);
  if (!result.ok()) return result.status();
  if (result->expire_after_seconds_old) BSON_APPEND_INT64(reply, "expireAfterSeconds_old", static_cast<int64_t>(*result->expire_after_seconds_old));
  if (result->expire_after_seconds_new) BSON_APPEND_INT64(reply, "expireAfterSeconds_new", static_cast<int64_t>(*result->expire_after_seconds_new));
  if (result->hidden_old) BSON_APPEND_BOOL(reply, "hidden_old", *result->hidden_old);
  if (result->hidden_new) BSON_APPEND_BOOL(reply, "hidden_new", *result->hidden_new);
  if (result->prepare_unique_old) BSON_APPEND_BOOL(reply, "prepareUnique_old", *result->prepare_unique_old);
  if (result->prepare_unique_new) BSON_APPEND_BOOL(reply, "prepareUnique_new", *result->prepare_unique_new);
  if (result->unique_new) BSON_APPEND_BOOL(reply, "unique_new", *result->unique_new);
  return Status::OK();
}

// The options a collMod changes, as its oplog entry records them.
constexpr std::string_view kLoggedOptions[] = {"validator", "validationLevel", "validationAction", "index",
                                               "cappedSize", "cappedMax", "viewOn", "pipeline"};

}  // namespace

Status CollMod(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(ApplyCollMod(context, request, reply));
  bson::Builder command;
  bson_iter_t it;
  request.body->Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    if (key == "collMod" || std::find(std::begin(kLoggedOptions), std::end(kLoggedOptions), key) != std::end(kLoggedOptions)) {
      bson::AppendElement(command.get(), bson_iter_key(&it), -1, &it);
    }
  }
  auto name = GetStringField(*request.body, "collMod", true);
  return context.server.engine->RecordCollectionModified(request.db, *name, command.Finish());
}

}  // namespace docket::commands
