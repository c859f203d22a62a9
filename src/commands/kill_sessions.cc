// killSessions, killAllSessions, killAllSessionsByPattern: end what sessions
// are doing — their open transactions are aborted and their cursors killed —
// as mongod does. The sessions themselves stay (unlike endSessions): a later
// statement of the killed transaction gets NoSuchTransaction (251).
//
// Docket has no users (no authentication), so every session belongs to no
// user: an empty list kills every session, a list of users or roles kills
// none, and killAllSessionsByPattern's {lsid: {id}} kills that session.
#include <string>
#include <vector>

#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {
namespace {

// The lsid bytes of {id: UUID}, or an error naming `where`.
Result<std::string> SessionIdOf(const bson_iter_t& item, const std::string& where) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&item)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + where + "' is the wrong type, expected an object");
  }
  const Document entry = SubDocument(item);
  bson_iter_t id;
  if (!entry.Find("id", &id)) {
    return Status(ErrorCode::kIDLMissingField, "BSON field '" + where + ".id' is missing but a required field");
  }
  bson_subtype_t subtype;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  if (!BSON_ITER_HOLDS_BINARY(&id)) {
    return Status(ErrorCode::kTypeMismatch, "BSON field '" + where + ".id' is the wrong type, expected a UUID");
  }
  bson_iter_binary(&id, &subtype, &len, &data);
  if (subtype != BSON_SUBTYPE_UUID || len != 16) {
    return Status(ErrorCode::kBadValue, "BSON field '" + where + ".id' must be a UUID (binary subtype 4, 16 bytes)");
  }
  return std::string(reinterpret_cast<const char*>(data), len);
}

// The command's array argument, or TypeMismatch.
Status ArrayArgument(const CommandRequest& request, const char* name, bson_iter_t* elements, bool* empty) {
  bson_iter_t it;
  if (!request.body->Find(name, &it) || !BSON_ITER_HOLDS_ARRAY(&it)) {
    return Status(ErrorCode::kTypeMismatch, std::string("BSON field '") + name + "' is the wrong type, expected an array");
  }
  bson_iter_recurse(&it, elements);
  bson_iter_t probe = *elements;
  *empty = !bson_iter_next(&probe);
  return Status::OK();
}

void KillOne(CommandContext& context, const std::string& lsid) {
  context.server.sessions.Kill(lsid);
  context.server.cursors.KillSession(lsid);
}

void KillEvery(CommandContext& context) {
  for (const std::string& lsid : context.server.sessions.Ids()) KillOne(context, lsid);
}

// The command's array argument `name`: every session when it is empty, else
// the sessions `collect(item, where, &lsids)` names, all checked before any is
// killed.
template <typename Collect>
Status KillNamed(CommandContext& context, const CommandRequest& request, const char* name, Collect collect) {
  bson_iter_t item;
  bool empty = false;
  DOCKET_RETURN_IF_ERROR(ArrayArgument(request, name, &item, &empty));
  std::vector<std::string> lsids;
  for (int i = 0; bson_iter_next(&item); ++i) {
    DOCKET_RETURN_IF_ERROR(collect(item, std::string(name) + "." + std::to_string(i), &lsids));
  }
  if (empty) KillEvery(context);
  for (const std::string& lsid : lsids) KillOne(context, lsid);
  return Status::OK();
}

}  // namespace

Status KillSessions(CommandContext& context, const CommandRequest& request, bson_t*) {
  return KillNamed(context, request, "killSessions",
                   [](const bson_iter_t& item, const std::string& where, std::vector<std::string>* lsids) -> Status {
                     auto lsid = SessionIdOf(item, where);
                     if (!lsid.ok()) return lsid.status();
                     lsids->push_back(*lsid);
                     return Status::OK();
                   });
}

// Named users own no session here: only the empty list kills any.
Status KillAllSessions(CommandContext& context, const CommandRequest& request, bson_t*) {
  return KillNamed(context, request, "killAllSessions",
                   [](const bson_iter_t& item, const std::string& where, std::vector<std::string>*) -> Status {
                     if (!BSON_ITER_HOLDS_DOCUMENT(&item)) {
                       return Status(ErrorCode::kTypeMismatch,
                                     "BSON field '" + where + "' is the wrong type, expected an object");
                     }
                     const Document user = SubDocument(item);
                     for (const char* field : {"user", "db"}) {
                       bson_iter_t value;
                       if (!user.Find(field, &value)) {
                         return Status(ErrorCode::kIDLMissingField,
                                       "BSON field '" + where + "." + field + "' is missing but a required field");
                       }
                       if (!BSON_ITER_HOLDS_UTF8(&value)) {
                         return Status(ErrorCode::kTypeMismatch,
                                       "BSON field '" + where + "." + field + "' is the wrong type, expected a string");
                       }
                     }
                     return Status::OK();
                   });
}

Status KillAllSessionsByPattern(CommandContext& context, const CommandRequest& request, bson_t*) {
  return KillNamed(context, request, "killAllSessionsByPattern",
                   [](const bson_iter_t& item, const std::string& where, std::vector<std::string>* lsids) -> Status {
                     if (!BSON_ITER_HOLDS_DOCUMENT(&item)) {
                       return Status(ErrorCode::kTypeMismatch,
                                     "BSON field '" + where + "' is the wrong type, expected an object");
                     }
                     const Document pattern = SubDocument(item);
                     bson_iter_t field;
                     pattern.Iterate(&field);
                     while (bson_iter_next(&field)) {
                       const std::string_view key = bson_iter_key(&field);
                       if (key == "lsid") {
                         auto lsid = SessionIdOf(field, where + ".lsid");
                         if (!lsid.ok()) return lsid.status();
                         lsids->push_back(*lsid);
                       } else if (key != "uid" && key != "users" && key != "roles") {
                         return Status(ErrorCode::kIDLUnknownField,
                                       "BSON field '" + where + "." + std::string(key) + "' is an unknown field.");
                       }
                     }
                     return Status::OK();
                   });
}

}  // namespace docket::commands
