// The $listLocalSessions and $listSessions aggregation stages: the sessions
// this server knows
// (SessionRegistry: every lsid a command carried, until endSessions or 30
// idle minutes), one document each, as mongod lists its logical session
// cache: {_id: {id: <lsid UUID>, uid: <SHA-256 of the user>}, lastUse: <date>}.
// Docket has no authentication, so every session belongs to the
// unauthenticated user, whose uid mongod makes the SHA-256 of "".
// $listSessions reads config.system.sessions in mongod, where each server
// writes its cache every 5 minutes; a one-node Docket lists its cache
// itself, so a session shows there at once rather than after the refresh.
#pragma once

#include <string>
#include <vector>

#include "commands/sessions.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

// What the aggregate around the stage says about where it runs.
struct ListLocalSessionsContext {
  bool collectionless = false;  // {aggregate: 1}
  std::string ns;               // "<db>.<collection>" otherwise
  bool in_transaction = false;
  std::string read_concern_level;  // empty: none given
};

// Replaces a leading {$listLocalSessions: {allUsers, users}} or
// {$listSessions: ...} (on config.system.sessions) in `stages`
// with {$documents: [<the sessions>]} (and a $match for the internal
// $_internalPredicate option), so that the engine runs the rest of the
// pipeline. Nothing changes without the stage. Errors, in mongod's order:
// TypeMismatch (14), IDL errors (40414, 40415) and UnsupportedFormat (12,
// allUsers with users) for the options; OperationNotSupportedInTransaction
// (263); InvalidOptions (72) for a read concern other than local;
// InvalidNamespace (73) for $listLocalSessions on a collection and for
// $listSessions anywhere but config.system.sessions; 40602 when not the
// first stage.
// *listed_persisted tells whether a $listSessions was expanded: the
// pipeline then reads no collection (config.system.sessions has none in
// Docket).
Status ExpandListLocalSessions(SessionRegistry& sessions, const ListLocalSessionsContext& context,
                               std::vector<Document>* stages, bool* listed_persisted);

// "Command aggregate does not support { readConcern: { level: \"<level>\" } }
// :: caused by :: <why>": how mongod refuses a read concern a stage of the
// pipeline does not support.
Status ReadConcernNotSupported(const std::string& level, const std::string& why);

}  // namespace docket::commands
