#include "commands/error_labels.h"

#include <bson/bson.h>

#include "bson/builder.h"
#include "bson/append_element.h"

namespace docket::commands {
namespace {

bool IsCommitOrAbort(std::string_view command) {
  return command == "commitTransaction" || command == "abortTransaction";
}

// isTransientTransactionError of MongoDB 6.0.
bool IsTransient(ErrorCode code, bool has_write_concern_error, bool commit_or_abort) {
  switch (static_cast<int32_t>(code)) {
    case 112:  // WriteConflict
    case 24:   // LockTimeout
    case 267:  // PreparedTransactionInProgress
    case 239:  // SnapshotTooOld
    case 246:  // SnapshotUnavailable
    case 250:  // StaleChunkHistory
    case 272:  // MigrationConflict
      return true;
    default:
      break;
  }
  if (commit_or_abort) return code == ErrorCode::kNoSuchTransaction && !has_write_concern_error;
  return IsRetriableError(code) || code == ErrorCode::kNoSuchTransaction;
}

// MongoDB 6.0's isResumableChangeStreamError, for a change stream's getMore.
bool IsResumableChangeStreamError(ErrorCode code) {
  switch (static_cast<int32_t>(code)) {
    case 63:     // StaleShardVersion
    case 150:    // StaleEpoch
    case 13388:  // StaleConfig
    case 234:    // RetryChangeStream
    case 133:    // FailedToSatisfyReadPreference
      return true;
    default:
      return IsRetriableError(code);
  }
}

std::optional<ErrorCode> CodeOf(const Document& doc) {
  bson_iter_t code;
  if (!doc.Find("code", &code) || !(BSON_ITER_HOLDS_INT32(&code) || BSON_ITER_HOLDS_INT64(&code) ||
                                    BSON_ITER_HOLDS_DOUBLE(&code))) {
    return std::nullopt;
  }
  return static_cast<ErrorCode>(bson_iter_as_int64(&code));
}

}  // namespace

bool IsRetriableError(ErrorCode code) {
  switch (static_cast<int32_t>(code)) {
    case 6:      // HostUnreachable
    case 7:      // HostNotFound
    case 89:     // NetworkTimeout
    case 91:     // ShutdownInProgress
    case 134:    // ReadConcernMajorityNotAvailableYet
    case 189:    // PrimarySteppedDown
    case 262:    // ExceededTimeLimit
    case 358:    // InternalTransactionNotSupported
    case 9001:   // SocketException
    case 10107:  // NotWritablePrimary
    case 11600:  // InterruptedAtShutdown
    case 11602:  // InterruptedDueToReplStateChange
    case 13435:  // NotPrimaryNoSecondaryOk
    case 13436:  // NotPrimaryOrSecondary
      return true;
    default:
      return false;
  }
}

std::vector<std::string> ErrorLabelsFor(const LabelContext& context, std::optional<ErrorCode> code,
                                        std::optional<ErrorCode> write_concern_code) {
  const bool commit_or_abort = IsCommitOrAbort(context.command);
  if (code && context.has_txn_number && context.has_autocommit &&
      IsTransient(*code, write_concern_code.has_value(), commit_or_abort)) {
    return {"TransientTransactionError"};
  }
  if (code && (*code == ErrorCode::kChangeStreamFatalError || *code == ErrorCode::kChangeStreamHistoryLost)) {
    return {"NonResumableChangeStreamError"};  // a driver must not resume the change stream
  }
  if (code && context.change_stream_get_more && IsResumableChangeStreamError(*code)) {
    return {"ResumableChangeStreamError"};
  }
  const bool retryable_write = context.has_txn_number && !context.has_autocommit;
  const bool txn_end = context.has_txn_number && context.has_autocommit && commit_or_abort;
  if ((retryable_write || txn_end) &&
      ((code && IsRetriableError(*code)) || (write_concern_code && IsRetriableError(*write_concern_code)))) {
    return {"RetryableWriteError"};
  }
  return {};
}

Document WithErrorLabels(const Document& reply, const std::vector<std::string>& labels) {
  bson::Builder out;
  bson_iter_t it;
  reply.Iterate(&it);
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) != "errorLabels") docket::bson::AppendElement(out.get(), bson_iter_key(&it), -1, &it);
  }
  if (!labels.empty()) {
    bson_t array;
    BSON_APPEND_ARRAY_BEGIN(out.get(), "errorLabels", &array);
    for (size_t i = 0; i < labels.size(); ++i) BSON_APPEND_UTF8(&array, std::to_string(i).c_str(), labels[i].c_str());
    bson_append_array_end(out.get(), &array);
  }
  return out.Finish();
}

std::optional<ErrorCode> TopLevelErrorCode(const Document& reply) {
  bson_iter_t ok;
  if (!reply.Find("ok", &ok) || bson_iter_as_double(&ok) == 1.0) return std::nullopt;
  auto code = CodeOf(reply);
  return code ? code : std::optional<ErrorCode>(ErrorCode::kInternalError);
}

std::optional<ErrorCode> WriteConcernErrorCode(const Document& reply) {
  bson_iter_t wce;
  if (!reply.Find("writeConcernError", &wce) || !BSON_ITER_HOLDS_DOCUMENT(&wce)) return std::nullopt;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&wce, &len, &data);
  auto doc = Document::FromBytes(data, len);
  return doc.ok() ? CodeOf(*doc) : std::nullopt;
}

}  // namespace docket::commands
