// currentOp and killOp (src/commands/operations.h), run against admin as
// mongod requires. currentOp's fields other than its options ($all,
// $ownOps, $truncateOps) and the generic ones every driver sends are a
// query over the operation documents ({"command.find": "c", active: true}).
#include <set>
#include <string>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "commands/args.h"
#include "commands/handlers.h"
#include "bson/type_names.h"
#include "query/filter.h"

namespace docket::commands {
namespace {

bool IsOptionOrGeneric(std::string_view key) {
  static const std::set<std::string, std::less<>> kSkipped = {
      "currentOp", "$all", "$ownOps", "$truncateOps", "comment", "lsid", "txnNumber", "autocommit",
      "startTransaction", "apiVersion", "apiStrict", "apiDeprecationErrors", "maxTimeMS", "readConcern",
      "writeConcern"};
  return kSkipped.count(key) != 0 || (!key.empty() && key[0] == '$' && key != "$and" && key != "$or" &&
                                      key != "$nor" && key != "$expr" && key != "$where");
}


}  // namespace

Status CurrentOp(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "currentOp"));
  bson::Builder query;
  bson_iter_t it;
  request.body->Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    if (IsOptionOrGeneric(key)) continue;
    bson::AppendElement(query.get(), key.data(), static_cast<int>(key.size()), &it);
  }
  auto filter = query::Filter::Compile(query.Finish());
  if (!filter.ok()) return filter.status();
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(reply, "inprog", &array);
  int i = 0;
  for (const Document& op : context.server.operations.Describe()) {
    if (!filter->Matches(op.data(), op.size())) continue;
    bson_t doc;
    if (!bson_init_static(&doc, op.data(), op.size())) continue;
    const std::string key = std::to_string(i++);
    BSON_APPEND_DOCUMENT(&array, key.c_str(), &doc);
  }
  bson_append_array_end(reply, &array);
  if (context.server.fsync_lock.count() > 0) BSON_APPEND_BOOL(reply, "fsyncLock", true);  // as mongod
  return Status::OK();
}

Status KillOp(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "killOp"));
  bson_iter_t op;
  if (!request.body->Find("op", &op)) return Status(ErrorCode::kNoSuchKey, "Did not provide \"op\" field");
  if (!BSON_ITER_HOLDS_NUMBER(&op)) {
    return Status(ErrorCode::kTypeMismatch, "\"op\" field must be a number, not " + std::string(bson::TypeAlias(bson_iter_type(&op))));
  }
  context.server.operations.Kill(bson_iter_as_int64(&op));  // an operation that ended meanwhile: nothing to do
  BSON_APPEND_UTF8(reply, "info", "attempting to kill op");
  return Status::OK();
}

Status ExpandCurrentOp(CommandContext& context, const CommandRequest& request, bool collectionless,
                       std::vector<Document>* stages) {
  for (size_t i = 1; i < stages->size(); ++i) {
    if (CommandName((*stages)[i]) == "$currentOp") {
      return Status(ErrorCode::kCurrentOpNotFirstStage, "$currentOp is only valid as the first stage in a pipeline.");
    }
  }
  if (stages->empty() || CommandName(stages->front()) != "$currentOp") return Status::OK();
  if (request.db != "admin" || !collectionless) {
    return Status(ErrorCode::kInvalidNamespace,
                  "$currentOp must be run against the 'admin' database with {aggregate: 1}");
  }
  bson_iter_t spec, option;
  if (!stages->front().Find("$currentOp", &spec) || !BSON_ITER_HOLDS_DOCUMENT(&spec)) {
    return Status(ErrorCode::kFailedToParse, "$currentOp options must be specified in an object, but found: " +
                                                 std::string(bson::TypeAlias(bson_iter_type(&spec))));
  }
  bson_iter_recurse(&spec, &option);
  while (bson_iter_next(&option)) {
    const std::string key = bson_iter_key(&option);
    if (key == "allUsers" || key == "localOps" || key == "idleSessions") continue;  // one node, no users: every op
    if (key == "idleConnections" || key == "idleCursors" || key == "backtrace") {
      if (!bson_iter_as_bool(&option)) continue;
      return Status(ErrorCode::kNotImplemented, "$currentOp's " + key + " is not supported by Docket yet");
    }
    return Status(ErrorCode::kIDLUnknownField, "BSON field '$currentOp." + key + "' is an unknown field.");
  }
  // {$documents: {$literal: [...]}}: the operations as they are (their
  // commands hold $-fields that must not be read as expressions).
  bson::Builder documents;
  bson_t literal, array;
  BSON_APPEND_DOCUMENT_BEGIN(documents.get(), "$documents", &literal);
  BSON_APPEND_ARRAY_BEGIN(&literal, "$literal", &array);
  int i = 0;
  for (const Document& op : context.server.operations.Describe()) {
    const std::string key = std::to_string(i++);
    bson::AppendDocument(&array, key.c_str(), op);
  }
  bson_append_array_end(&literal, &array);
  bson_append_document_end(documents.get(), &literal);
  stages->front() = documents.Finish();
  return Status::OK();
}

}  // namespace docket::commands
