// What each command accepts, declared in one table (command_fields.cc), as
// MongoDB's IDL declares it: a field no command declares is refused with
// MongoDB 6.0's answer (40415, "BSON field 'update.updates.sort' is an
// unknown field."), a field of the wrong type with TypeMismatch (14), and a
// field MongoDB has but Docket does not implement yet with NotImplemented
// (238) naming it — never silently ignored. The generic fields every driver
// sends ($db, lsid, txnNumber, $clusterTime, $readPreference, apiVersion,
// comment, maxTimeMS, readConcern, writeConcern, ...) are declared once, for
// every command.
//
// Commands MongoDB does not parse strictly either (hello, ping, buildInfo,
// serverStatus, getParameter, the diagnostics) are not checked here; their
// handlers read only the fields they know.
#pragma once

#include <string_view>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"
#include "wire/message.h"

namespace docket::commands {

// Checks the command document, and the statements of insert/update/delete
// (in the body or in OP_MSG document sequences), against the declarations.
// OK for commands without declarations. `replica_set`: the server runs as
// one (readConcern snapshot on a standalone is NotAReplicaSet, as mongod's).
Status CheckCommandFields(std::string_view command, const Document& body,
                          const std::vector<wire::DocumentSequence>* sequences, bool replica_set = true);


}  // namespace docket::commands
