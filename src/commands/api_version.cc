#include "commands/api_version.h"

#include <bson/bson.h>

#include <algorithm>

#include "bson/type_names.h"

namespace docket::commands {
namespace {

// The versions a command belongs to, and those it is deprecated in, as each
// of mongod 6.0's commands declares them (apiVersions() /
// deprecatedApiVersions(), or `api_version: "1"` in its IDL). Commands not
// listed are in no version. The test commands are mongod's
// (test_api_version_2_commands.cpp, test_deprecation_command.cpp); they are
// only registered with --enable-test-commands.
struct Versions {
  std::string_view command;
  std::string_view in;             // the versions, one character each: "1", "12"
  std::string_view deprecated_in;  // likewise
};

constexpr Versions kVersions[] = {
    {"abortTransaction", "1", ""},
    {"aggregate", "1", ""},
    {"authenticate", "1", ""},
    {"collMod", "1", ""},
    {"commitTransaction", "1", ""},
    {"count", "1", ""},
    {"create", "1", ""},
    {"createIndexes", "1", ""},
    {"delete", "1", ""},
    {"drop", "1", ""},
    {"dropDatabase", "1", ""},
    {"dropIndexes", "1", ""},
    {"endSessions", "1", ""},
    {"explain", "1", ""},
    {"find", "1", ""},
    {"findAndModify", "1", ""},
    {"getMore", "1", ""},
    {"hello", "1", ""},
    {"insert", "1", ""},
    {"killCursors", "1", ""},
    {"listCollections", "1", ""},
    {"listDatabases", "1", ""},
    {"listIndexes", "1", ""},
    {"ping", "1", ""},
    {"refreshSessions", "1", ""},
    {"update", "1", ""},
    {"testVersion2", "2", ""},
    {"testVersions1And2", "12", ""},
    {"testDeprecationInVersion2", "12", "2"},
    {"testRemoval", "1", ""},
    {"testDeprecation", "1", "1"},
};

const Versions* FindVersions(std::string_view command) {
  for (const Versions& v : kVersions) {
    if (v.command == command) return &v;
  }
  return nullptr;
}

// Whether `value` (a one-character version) is among `versions`.
bool Contains(std::string_view versions, std::string_view value) {
  return value.size() == 1 && versions.find(value) != std::string_view::npos;
}

// Stages mongod 6.0 registers as never allowed under apiStrict in version 1
// (AllowedWithApiStrict::kNeverInVersion1).
bool NeverInVersion1(std::string_view stage) {
  for (std::string_view s : {"$listLocalSessions", "$listSessions", "$currentOp", "$indexStats", "$planCacheStats"}) {
    if (s == stage) return true;
  }
  return false;
}

Status CheckStages(const bson_iter_t& array_it);
Status CheckSubPipelines(std::string_view stage, const bson_iter_t& spec);

// One stage ({name: spec}, `stage` on its field): refused if API Version 1
// lacks it, else its sub-pipelines are checked.
Status CheckStage(const bson_iter_t& stage) {
  const std::string_view name = bson_iter_key(&stage);
  if (NeverInVersion1(name)) {
    return Status(ErrorCode::kAPIStrictError,
                  std::string(name) + " is not allowed with 'apiStrict: true' in API Version 1");
  }
  return CheckSubPipelines(name, stage);
}

// The sub-pipelines of one stage ($lookup and $unionWith `pipeline`, each of
// $facet's), checked as the pipeline is.
Status CheckSubPipelines(std::string_view stage, const bson_iter_t& spec) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&spec)) return Status::OK();
  bson_iter_t field;
  bson_iter_recurse(&spec, &field);
  while (bson_iter_next(&field)) {
    const bool sub_pipeline =
        stage == "$facet" || ((stage == "$lookup" || stage == "$unionWith") && std::string_view(bson_iter_key(&field)) == "pipeline");
    if (sub_pipeline && BSON_ITER_HOLDS_ARRAY(&field)) DOCKET_RETURN_IF_ERROR(CheckStages(field));
  }
  return Status::OK();
}

Status CheckStages(const bson_iter_t& array_it) {
  bson_iter_t item;
  bson_iter_recurse(&array_it, &item);
  while (bson_iter_next(&item)) {
    bson_iter_t stage;
    if (!BSON_ITER_HOLDS_DOCUMENT(&item) || !bson_iter_recurse(&item, &stage) || !bson_iter_next(&stage)) continue;
    DOCKET_RETURN_IF_ERROR(CheckStage(stage));
  }
  return Status::OK();
}

Status WrongType(std::string_view field, const bson_iter_t& it, std::string_view expected) {
  return Status(ErrorCode::kTypeMismatch, "BSON field 'APIParametersFromClient." + std::string(field) +
                                              "' is the wrong type '" + bson::TypeAlias(bson_iter_type(&it)) +
                                              "', expected type '" + std::string(expected) + "'");
}

}  // namespace

std::string CanonicalCommandName(std::string_view command) {
  if (command == "findandmodify") return "findAndModify";
  if (command == "ismaster") return "isMaster";
  if (command == "buildinfo") return "buildInfo";
  if (command == "dbstats") return "dbStats";
  if (command == "collstats") return "collStats";
  return std::string(command);
}

std::string ApiParameters::ToString() const {
  std::string out;
  auto add = [&](const std::string& field) { out += (out.empty() ? "{ " : ", ") + field; };
  if (version) add("apiVersion: \"" + *version + "\"");
  if (strict) add(std::string("apiStrict: ") + (*strict ? "true" : "false"));
  if (deprecation_errors) add(std::string("apiDeprecationErrors: ") + (*deprecation_errors ? "true" : "false"));
  return out.empty() ? "{}" : out + " }";
}

Result<ApiParameters> ReadApiParameters(const Document& body) {
  ApiParameters params;
  bson_iter_t it;
  if (body.Find("apiVersion", &it)) {
    if (!BSON_ITER_HOLDS_UTF8(&it)) return WrongType("apiVersion", it, "string");
    uint32_t len = 0;
    const char* s = bson_iter_utf8(&it, &len);
    params.version.emplace(s, len);
  }
  if (body.Find("apiStrict", &it)) {
    if (!BSON_ITER_HOLDS_BOOL(&it)) return WrongType("apiStrict", it, "bool");
    params.strict = bson_iter_bool(&it);
  }
  if (body.Find("apiDeprecationErrors", &it)) {
    if (!BSON_ITER_HOLDS_BOOL(&it)) return WrongType("apiDeprecationErrors", it, "bool");
    params.deprecation_errors = bson_iter_bool(&it);
  }
  return params;
}

Status CheckApiParameters(std::string_view command, const ApiParameters& params, bool accept_version_2) {
  // The order is mongod's: a missing version, a wrong one, strict, deprecation.
  if ((params.strict || params.deprecation_errors) && !params.version) {
    return Status(static_cast<ErrorCode>(4886600),
                  "Provided apiStrict and/or apiDeprecationErrors without passing apiVersion");
  }
  if (params.version) {
    if (*params.version == "2") {
      if (!accept_version_2) return Status(ErrorCode::kAPIVersionError, "Cannot accept API version 2");
    } else if (*params.version != "1") {
      return Status(ErrorCode::kAPIVersionError, "API version must be \"1\"");
    }
  }
  const std::string name = CanonicalCommandName(command);
  const Versions* versions = FindVersions(name);
  if (params.strict.value_or(false) && (versions == nullptr || !Contains(versions->in, *params.version))) {
    return Status(ErrorCode::kAPIStrictError,
                  "Provided apiStrict:true, but the command " + name + " is not in API Version " +
                      *params.version + ". Information on supported commands and migrations in API Version " +
                      *params.version + " can be found at https://dochub.mongodb.org/core/manual-versioned-api");
  }
  if (params.deprecation_errors.value_or(false) && versions != nullptr &&
      Contains(versions->deprecated_in, *params.version)) {
    return Status(ErrorCode::kAPIDeprecationError, "Provided apiDeprecationErrors:true, but the command " + name + " is deprecated in API Version " +
                                                       *params.version);
  }
  return Status::OK();
}

Status CheckPipelineApiStrict(const std::vector<Document>& stages, const ApiParameters& params) {
  if (!params.strict.value_or(false) || params.version != "1") return Status::OK();
  for (const Document& stage : stages) {
    bson_iter_t it;
    stage.Iterate(&it);
    if (bson_iter_next(&it)) DOCKET_RETURN_IF_ERROR(CheckStage(it));
  }
  return Status::OK();
}

}  // namespace docket::commands
