// MongoDB's Stable API parameters (apiVersion, apiStrict,
// apiDeprecationErrors), checked for every command as mongod 6.0 checks them
// before it parses the command: a version other than "1" is refused ("2" only
// where test commands are enabled, mongod's acceptApiVersion2), apiStrict or
// apiDeprecationErrors need an apiVersion, and under apiStrict: true a
// command (or aggregation stage) outside the declared version is refused.
// Inside a transaction every command must declare what its first one did.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

// What a command declared; each field is absent when the command did not send it.
struct ApiParameters {
  std::optional<std::string> version;
  std::optional<bool> strict;
  std::optional<bool> deprecation_errors;

  bool operator==(const ApiParameters&) const = default;
  // "{ apiVersion: \"1\", apiStrict: true }", "{}": as mongod prints them in
  // APIMismatchError messages.
  std::string ToString() const;
};

// The name mongod's messages use for a command sent under an alias
// ("findandmodify" -> "findAndModify").
std::string CanonicalCommandName(std::string_view command);

// Reads the three fields. Errors: TypeMismatch (14) when apiVersion is not a
// string or apiStrict / apiDeprecationErrors not a boolean.
Result<ApiParameters> ReadApiParameters(const Document& body);

// Checks the declared parameters against `command` (its registered name or
// alias). `accept_version_2`: apiVersion "2" is accepted (test commands).
// Errors: 4886600 (apiStrict / apiDeprecationErrors without apiVersion),
// APIVersionError (322), APIStrictError (323) for a command outside the
// version, APIDeprecationError (324) for a command deprecated in it.
Status CheckApiParameters(std::string_view command, const ApiParameters& params, bool accept_version_2);

// Under apiStrict: true with apiVersion "1": APIStrictError (323) for the
// first stage (in the pipeline or a $lookup, $unionWith or $facet
// sub-pipeline) that API Version 1 does not have, such as $listLocalSessions.
Status CheckPipelineApiStrict(const std::vector<Document>& stages, const ApiParameters& params);

}  // namespace docket::commands
