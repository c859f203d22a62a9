// top: time and operations per namespace since the server started, as
// mongod answers it for mongotop (the counting is server_metrics.h's).
#include "commands/args.h"
#include "commands/handlers.h"

namespace docket::commands {

Status Top(CommandContext& context, const CommandRequest& request, bson_t* reply) {
  DOCKET_RETURN_IF_ERROR(AdminOnly(request, "top"));
  context.server.metrics.AppendTop(reply);
  return Status::OK();
}

}  // namespace docket::commands
