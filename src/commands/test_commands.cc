// Commands that exist only for testing, as MongoDB's enableTestCommands:
// registered when `docket serve --enable-test-commands` sets
// ServerState::test_commands, and answered CommandNotFound (59) otherwise.
#include <chrono>
#include <thread>

#include "commands/api_version.h"
#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {

// {sleep: 1, millis: N} or {secs: N}: blocks the thread running it for that
// long (MongoDB's default, with neither, is 100 seconds), at most an hour.
// Lets tests occupy server threads deterministically.
Status Sleep(CommandContext&, const CommandRequest& request, bson_t*) {
  auto millis_field = GetIntField(*request.body, "millis", -1);
  if (!millis_field.ok()) return millis_field.status();
  int64_t millis = *millis_field;
  if (millis < 0) {
    auto secs = GetIntField(*request.body, "secs", 100);
    if (!secs.ok()) return secs.status();
    if (*secs < 0 || *secs > 3600) return Status(ErrorCode::kBadValue, "sleep: secs must be from 0 to 3600");
    millis = *secs * 1000;
  }
  if (millis > 3600 * 1000) return Status(ErrorCode::kBadValue, "sleep: at most an hour");
  std::this_thread::sleep_for(std::chrono::milliseconds(millis));
  return Status::OK();
}

// {configureFailPoint: "failCommand" | "onPrimaryTransactionalWrite", mode, data}
// (commands/fail_points.h).
Status ConfigureFailPoint(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  return context.server.fail_points.Configure(*request.body, reply);
}

// testVersion2, testVersions1And2, testDeprecationInVersion2, testRemoval,
// testDeprecation: mongod's commands for testing the Stable API checks (the
// versions each belongs to are in api_version.cc). Each answers with the API
// parameters the command declared.
Status TestApiVersion(CommandContext&, const CommandRequest& request, bson_t* reply) {
  auto params = ReadApiParameters(*request.body);
  if (!params.ok()) return params.status();
  if (params->version) BSON_APPEND_UTF8(reply, "apiVersion", params->version->c_str());
  if (params->strict) BSON_APPEND_BOOL(reply, "apiStrict", *params->strict);
  if (params->deprecation_errors) BSON_APPEND_BOOL(reply, "apiDeprecationErrors", *params->deprecation_errors);
  return Status::OK();
}

}  // namespace docket::commands
