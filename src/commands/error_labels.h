// The errorLabels of a reply, decided as mongod decides them (its
// ErrorLabelBuilder), so that drivers retry exactly what MongoDB lets them:
//
//   TransientTransactionError  a statement or commit/abort of a transaction
//                              (txnNumber + autocommit) failed with an error
//                              after which the whole transaction may run again
//   RetryableWriteError        a retryable write (txnNumber, no autocommit) or
//                              a commit/abort failed, or reported a write
//                              concern error, with a retriable code
//   ResumableChangeStreamError  a getMore of a change stream's cursor failed
//                              with an error after which a driver resumes
//                              the stream (retriable, network, stale
//                              routing, RetryChangeStream,
//                              FailedToSatisfyReadPreference)
//   NonResumableChangeStreamError  a change stream failed so that resuming
//                              it cannot succeed (ChangeStreamFatalError,
//                              ChangeStreamHistoryLost)
//
// Only top-level errors and writeConcernError are labelled; writeErrors are not.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::commands {

// MongoDB's RetriableError category (6.0): network, shutdown and
// not-primary errors after which a retry may succeed.
bool IsRetriableError(ErrorCode code);

struct LabelContext {
  std::string_view command;
  bool has_txn_number = false;
  bool has_autocommit = false;
  bool change_stream_get_more = false;  // a getMore that holds a change stream's cursor
};

std::vector<std::string> ErrorLabelsFor(const LabelContext& context, std::optional<ErrorCode> code,
                                        std::optional<ErrorCode> write_concern_code);

// `reply` with its errorLabels replaced by `labels` (none: the field goes).
Document WithErrorLabels(const Document& reply, const std::vector<std::string>& labels);

// The reply's top-level error code (ok: 0) and its writeConcernError's code.
std::optional<ErrorCode> TopLevelErrorCode(const Document& reply);
std::optional<ErrorCode> WriteConcernErrorCode(const Document& reply);

}  // namespace docket::commands
