#include "commands/list_local_sessions.h"

#include <bson/bson.h>

#include <chrono>
#include <optional>
#include <string_view>

#include "bson/builder.h"
#include "bson/type_names.h"
#include "commands/args.h"

namespace docket::commands {
namespace {

constexpr std::string_view kLocalStage = "$listLocalSessions";
constexpr std::string_view kStage = kLocalStage;  // option paths read as mongod's (ListSessionsSpec)
constexpr std::string_view kPersistedStage = "$listSessions";

// SHA-256 of the empty string: the uid mongod gives the sessions of an
// unauthenticated client (kNoAuthDigest), as Docket's all are.
constexpr uint8_t kNoAuthDigest[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                       0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                       0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

// The stage's options, as mongod's ListSessionsSpec declares them.
struct Spec {
  bool all_users = false;
  // Whether the unauthenticated user ({user: "", db: ""}, the one every
  // Docket session belongs to) is among those asked for.
  bool includes_unauthenticated = false;
  std::optional<Document> predicate;  // $_internalPredicate
};

std::string FieldPath(std::string_view field) { return std::string(kStage) + "." + std::string(field); }

Status WrongType(std::string_view path, const bson_iter_t& it, std::string_view expected) {
  return Status(ErrorCode::kTypeMismatch, "BSON field '" + std::string(path) + "' is the wrong type '" +
                                              bson::TypeAlias(bson_iter_type(&it)) + "', expected type '" +
                                              std::string(expected) + "'");
}

// One {user, db} of `users`; sets *unauthenticated when both are empty.
Status ParseUser(const bson_iter_t& item, bool* unauthenticated) {
  const std::string path = FieldPath("users");
  if (!BSON_ITER_HOLDS_DOCUMENT(&item)) return WrongType(path + "." + bson_iter_key(&item), item, "object");
  std::optional<std::string> user, db;
  bson_iter_t field;
  bson_iter_recurse(&item, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = bson_iter_key(&field);
    if (key != "user" && key != "db") {
      return Status(ErrorCode::kIDLUnknownField, "BSON field '" + path + "." + std::string(key) + "' is an unknown field.");
    }
    if (!BSON_ITER_HOLDS_UTF8(&field)) return WrongType(path + "." + std::string(key), field, "string");
    (key == "user" ? user : db) = IterString(field);
  }
  for (const char* required : {"user", "db"}) {
    if (!(std::string_view(required) == "user" ? user : db)) {
      return Status(ErrorCode::kIDLMissingField,
                    "BSON field '" + path + "." + required + "' is missing but a required field");
    }
  }
  if (user->empty() && db->empty()) *unauthenticated = true;
  return Status::OK();
}

Result<Spec> ParseSpec(const bson_iter_t& stage) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&stage)) {
    return Status(ErrorCode::kTypeMismatch, std::string(kStage) + " options must be specified in an object, but found: " +
                                                bson::TypeAlias(bson_iter_type(&stage)));
  }
  Spec spec;
  bool has_users = false;
  bson_iter_t field;
  bson_iter_recurse(&stage, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = bson_iter_key(&field);
    if (key == "allUsers") {
      if (!BSON_ITER_HOLDS_BOOL(&field)) return WrongType(FieldPath(key), field, "bool");
      spec.all_users = bson_iter_bool(&field);
    } else if (key == "users") {
      if (!BSON_ITER_HOLDS_ARRAY(&field)) return WrongType(FieldPath(key), field, "array");
      bson_iter_t item;
      bson_iter_recurse(&field, &item);
      while (bson_iter_next(&item)) {
        DOCKET_RETURN_IF_ERROR(ParseUser(item, &spec.includes_unauthenticated));
        has_users = true;
      }
    } else if (key == "$_internalPredicate") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&field)) return WrongType(FieldPath(key), field, "object");
      spec.predicate = SubDocument(field);
    } else {
      return Status(ErrorCode::kIDLUnknownField, "BSON field '" + FieldPath(key) + "' is an unknown field.");
    }
  }
  if (spec.all_users && has_users) {
    return Status(ErrorCode::kUnsupportedFormat,
                  std::string(kStage) + " may not specify {allUsers:true} and {users:[...]} at the same time");
  }
  if (!spec.all_users && !has_users) spec.includes_unauthenticated = true;  // implicitly: the caller's own
  return spec;
}

// {$documents: {$literal: [{_id: {id, uid}, lastUse}, ...]}}: $literal, so
// that nothing in the records is read as an expression.
Document SessionsStage(SessionRegistry& sessions, const Spec& spec) {
  bson::Builder stage;
  bson_t documents, literal, item, id;
  BSON_APPEND_DOCUMENT_BEGIN(stage.get(), "$documents", &documents);
  BSON_APPEND_ARRAY_BEGIN(&documents, "$literal", &literal);
  if (spec.all_users || spec.includes_unauthenticated) {
    size_t i = 0;
    for (const SessionRegistry::Listed& session : sessions.List()) {
      const std::string key = std::to_string(i++);
      bson_append_document_begin(&literal, key.c_str(), -1, &item);
      BSON_APPEND_DOCUMENT_BEGIN(&item, "_id", &id);
      BSON_APPEND_BINARY(&id, "id", session.lsid.size() == 16 ? BSON_SUBTYPE_UUID : BSON_SUBTYPE_BINARY,
                         reinterpret_cast<const uint8_t*>(session.lsid.data()), static_cast<uint32_t>(session.lsid.size()));
      BSON_APPEND_BINARY(&id, "uid", BSON_SUBTYPE_BINARY, kNoAuthDigest, sizeof(kNoAuthDigest));
      bson_append_document_end(&item, &id);
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(session.last_use.time_since_epoch()).count();
      BSON_APPEND_DATE_TIME(&item, "lastUse", ms);
      bson_append_document_end(&literal, &item);
    }
  }
  bson_append_array_end(&documents, &literal);
  bson_append_document_end(stage.get(), &documents);
  return stage.Finish();
}

}  // namespace

Status ReadConcernNotSupported(const std::string& level, const std::string& why) {
  return Status(ErrorCode::kInvalidOptions, "Command aggregate does not support { readConcern: { level: \"" + level +
                                                "\" } } :: caused by :: " + why);
}

Status ExpandListLocalSessions(SessionRegistry& sessions, const ListLocalSessionsContext& context,
                               std::vector<Document>* stages, bool* listed_persisted) {
  *listed_persisted = false;
  std::optional<Spec> first;
  for (size_t i = 0; i < stages->size(); ++i) {
    bson_iter_t it;
    (*stages)[i].Iterate(&it);
    if (!bson_iter_next(&it)) continue;
    const std::string_view name = bson_iter_key(&it);
    if (name != kLocalStage && name != kPersistedStage) continue;
    auto spec = ParseSpec(it);
    if (!spec.ok()) return spec.status();
    if (context.in_transaction) {
      return Status(ErrorCode::kOperationNotSupportedInTransaction,
                    "Operation not permitted in transaction :: caused by :: Aggregation stage " + std::string(name) +
                        " cannot run within a multi-document transaction.");
    }
    if (!context.read_concern_level.empty() && context.read_concern_level != "local") {
      return ReadConcernNotSupported(context.read_concern_level,
                                     "Aggregation stage " + std::string(name) +
                                         " cannot run with a readConcern other than 'local'. Current readConcern: " +
                                         context.read_concern_level);
    }
    if (name == kLocalStage && !context.collectionless) {
      return Status(ErrorCode::kInvalidNamespace,
                    std::string(name) + " must be run against the database with {aggregate: 1}, not a collection");
    }
    if (name == kPersistedStage && (context.collectionless || context.ns != "config.system.sessions")) {
      return Status(ErrorCode::kInvalidNamespace,
                    "$listSessions may only be run against config.system.sessions");
    }
    if (i != 0) {
      return Status(static_cast<ErrorCode>(40602),
                    std::string(name) + " is only valid as the first stage in a pipeline.");
    }
    first = std::move(spec).value();
    *listed_persisted = name == kPersistedStage;
  }
  if (!first) return Status::OK();
  std::vector<Document> expanded;
  expanded.push_back(SessionsStage(sessions, *first));
  if (first->predicate) {
    bson::Builder match;
    bson::AppendDocument(match.get(), "$match", *first->predicate);
    expanded.push_back(match.Finish());
  }
  expanded.insert(expanded.end(), stages->begin() + 1, stages->end());
  *stages = std::move(expanded);
  return Status::OK();
}

}  // namespace docket::commands
