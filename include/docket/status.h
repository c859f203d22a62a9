// Errors: one vocabulary from the storage layer to the wire, MongoDB's own
// server error codes. The engine never throws across its API; it returns a
// Status or a Result<T>.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace docket {

// MongoDB server error codes. Never renumber: clients match on these values.
enum class ErrorCode : int32_t {
  // Internal, never a MongoDB code: a write asked not to wait
  // (WriteOptions::may_park) found its document busy; nothing was written.
  kWouldBlock = -1,
  kOk = 0,
  kInternalError = 1,
  kBadValue = 2,
  kNoSuchKey = 4,
  kGraphContainsCycle = 5,
  kFailedToParse = 9,
  kUnauthorized = 13,
  kUnsupportedFormat = 12,
  kTypeMismatch = 14,
  kOverflow = 15,
  kInvalidLength = 16,
  kProtocolError = 17,
  kIllegalOperation = 20,
  kLockTimeout = 24,
  kInvalidBSON = 22,
  kAlreadyInitialized = 23,
  kNamespaceNotFound = 26,
  kIndexNotFound = 27,
  kPathNotViable = 28,
  kConflictingUpdateOperators = 40,
  kCursorNotFound = 43,
  kNamespaceExists = 48,
  kMaxTimeMSExpired = 50,
  kDollarPrefixedFieldName = 52,
  kInvalidIdField = 53,
  kCommandNotFound = 59,
  kImmutableField = 66,
  kCannotCreateIndex = 67,
  kWriteConcernFailed = 64,
  kInvalidOptions = 72,
  kInvalidNamespace = 73,
  kNoReplicationEnabled = 76,
  kUnknownReplWriteConcern = 79,
  kIndexOptionsConflict = 85,
  kIndexKeySpecsConflict = 86,
  kFileNotOpen = 38,
  kFileRenameFailed = 98,
  kShutdownInProgress = 91,
  kInvalidReplicaSetConfig = 93,
  kNotYetInitialized = 94,
  kNewReplicaSetConfigurationIncompatible = 103,
  kUnsatisfiableWriteConcern = 100,
  kWriteConflict = 112,
  kCommandNotSupported = 115,
  kDocumentValidationFailure = 121,
  kCappedPositionLost = 136,
  kNoMatchingDocument = 47,
  kInvalidResumeToken = 260,
  kChangeStreamFatalError = 280,
  kChangeStreamHistoryLost = 286,
  kViewDepthLimitExceeded = 165,
  kCommandNotSupportedOnView = 166,
  kOptionNotSupportedOnView = 167,
  kInvalidViewDefinition = 182,
  kViewPipelineMaxSizeExceeded = 195,
  kQueryPlanKilled = 175,
  kNotAReplicaSet = 123,
  kConflictingOperationInProgress = 117,
  kInvalidPipelineOperator = 168,
  kClusterTimeFailsRateLimiter = 205,
  kCannotIndexParallelArrays = 171,
  kCannotBuildIndexKeys = 201,
  kInvalidIndexSpecificationOption = 197,
  kQueryFeatureNotAllowed = 224,
  kTransactionTooOld = 225,
  kNotImplemented = 238,
  kConversionFailure = 241,
  kNoSuchTransaction = 251,
  kTransactionCommitted = 256,
  kOperationNotSupportedInTransaction = 263,
  kIndexBuildAborted = 276,
  kTransactionExceededLifetimeLimitSeconds = 290,
  kNoQueryExecutionPlans = 291,
  kQueryExceededMemoryLimitNoDiskUseAllowed = 292,
  kAPIVersionError = 322,
  kAPIStrictError = 323,
  kAPIDeprecationError = 324,
  kAPIMismatchError = 325,
  kCannotConvertIndexToUnique = 359,
  kBSONObjectTooLarge = 10334,
  kNotAnObjectClusterTime = 10065,  // "invalid parameter: expected an object ($clusterTime)"
  kInterrupted = 11601,
  kOutOfDiskSpace = 14031,
  kCurrentOpNotFirstStage = 40602,
  kIdlValueOutOfRange = 51024,  // an IDL validator's "BSON field 'x' value must be >= ..."
  kDuplicateKey = 11000,
  kBSONObjectTooLargeAfterUpdate = 17419,
  kIDLUnknownField = 40415,  // MongoDB's IDL: "BSON field 'update.sort' is an unknown field"
  kIDLMissingField = 40414,  // MongoDB's IDL: "BSON field 'find.filter' is missing but a required field"
  kInvalidRegex = 51091,
  kInvalidRegexOptions = 51108,
  kRegexOptionsBeforeRegex = 51074,
  kRegexOptionsTwice = 51075,
};

// Returns MongoDB's codeName for `code` ("DuplicateKey"), or "Location<N>" for
// codes without a name, as MongoDB does.
std::string ErrorCodeName(ErrorCode code);

// A success, or an error code with a human-readable message and, for some
// errors, details. Cheap to move; the success case carries no allocation.
// [[nodiscard]]: an error that is ignored does not compile silently.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Fields that MongoDB puts beside code and errmsg for this error, as the
  // bytes of a BSON document (e.g. a DuplicateKey's keyPattern and keyValue);
  // empty when there are none. An error reply or write error appends them.
  const std::string& details() const;
  Status WithDetails(std::string bson_document) &&;

  // "DuplicateKey (11000): E11000 duplicate key error ..."
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::shared_ptr<const std::string> details_;  // null: none
};

// What Result::value() throws when it holds an error instead of a value: the
// error itself, so that a program that skipped the ok() check still learns
// what went wrong (what() is the Status's ToString()).
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(Status status);
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// A value of type T, or the Status that explains why there is none.
// REQUIRES: a Result built from a Status holds a non-OK status.
// Reading the value (value(), *, ->) of a Result that holds an error throws
// BadResultAccess carrying that error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}     // NOLINT
  Result(ErrorCode code, std::string message) : state_(Status(code, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  // Returns OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(state_); }

  // Throws BadResultAccess when !ok().
  T& value() & {
    if (!ok()) throw BadResultAccess(std::get<Status>(state_));
    return std::get<T>(state_);
  }
  const T& value() const& {
    if (!ok()) throw BadResultAccess(std::get<Status>(state_));
    return std::get<T>(state_);
  }
  T&& value() && {
    if (!ok()) throw BadResultAccess(std::get<Status>(state_));
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // On a temporary Result, yields the value itself (not a reference into the
  // dying Result), so `for (auto& d : *f())` is safe.
  T operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace docket

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define DOCKET_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::docket::Status docket_status_ = (expr);   \
    if (!docket_status_.ok()) return docket_status_; \
  } while (0)
