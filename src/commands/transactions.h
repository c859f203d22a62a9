// Commands under a session's txnNumber: statements of multi-document
// transactions (autocommit: false), commitTransaction / abortTransaction,
// and retryable writes. Everything else runs as it is.
#pragma once

#include <string>

#include "commands/handlers.h"

namespace docket::commands {

// Runs `handler` for the request, inside the session's transaction when the
// command's fields say so (lsid, txnNumber, autocommit, startTransaction),
// and returns the whole reply (ok: 0 with `errorLabels` where the driver
// should retry the transaction). Without --replica-set, a txnNumber is
// refused with IllegalOperation (20), as a MongoDB standalone does.
Document RunWithSession(CommandContext& context, const CommandRequest& request, const std::string& name,
                        Handler handler);

// The registered names of commitTransaction / abortTransaction: they only
// answer here when a command arrives without the fields a transaction needs.
Status CommitTransaction(CommandContext&, const CommandRequest&, bson_t*);
Status AbortTransaction(CommandContext&, const CommandRequest&, bson_t*);

}  // namespace docket::commands
