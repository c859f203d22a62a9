// top: time and operations per namespace since the server started, as
// mongod answers it for mongotop (the counting is server_metrics.h's).
#include "commands/handlers.h"

namespace docket::commands {

Status Top(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  if (request.db != "admin") return Status(ErrorCode::kUnauthorized, "top may only be run against the admin database.");
  context.server.metrics.AppendTop(reply);
  return Status::OK();
}

}  // namespace docket::commands
