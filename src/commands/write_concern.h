// A command's writeConcern as a one-node server can honour it (MongoDB's
// WriteConcernOptions): checked before the command runs, and reported after
// it, as MongoDB reports what it cannot satisfy.
//
//   standalone     w > 1 or a tag: BadValue before anything runs (as mongod)
//   --replica-set  w > 1 or an unknown tag: the write happens, and the reply
//                  carries writeConcernError UnsatisfiableWriteConcern (100) /
//                  UnknownReplWriteConcern (79); w: "majority" and w: 1 are
//                  this one member
//   both           j: true syncs the journal before the reply (the engine's
//                  WriteConcern::journal); wtimeout never expires (nothing
//                  is waited for beyond the local commit)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

struct ParsedWriteConcern {
  bool present = false;
  std::optional<int64_t> w_nodes;  // w: <number>
  std::string w_mode;              // w: "majority" or a tag
  bool journal = false;            // j: true (or the legacy fsync: true)
};

// Errors: FailedToParse for a malformed writeConcern (as MongoDB's parser).
Result<ParsedWriteConcern> ParseWriteConcern(const Document& body);

// Errors, before the command runs: InvalidOptions (72) for a command that
// takes no write concern; BadValue for what a standalone cannot give.
Status CheckWriteConcern(std::string_view command, const Document& body, const ParsedWriteConcern& concern,
                         bool replica_set);

// After a replica-set command succeeded: the writeConcernError a one-member
// set reports for `concern`, if it cannot be satisfied.
std::optional<Document> UnsatisfiedWriteConcernError(const ParsedWriteConcern& concern);

}  // namespace docket::commands
