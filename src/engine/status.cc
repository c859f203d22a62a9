#include "docket/status.h"

namespace docket {

std::string ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInternalError: return "InternalError";
    case ErrorCode::kBadValue: return "BadValue";
    case ErrorCode::kNoSuchKey: return "NoSuchKey";
    case ErrorCode::kFailedToParse: return "FailedToParse";
    case ErrorCode::kTypeMismatch: return "TypeMismatch";
    case ErrorCode::kInvalidLength: return "InvalidLength";
    case ErrorCode::kProtocolError: return "ProtocolError";
    case ErrorCode::kIllegalOperation: return "IllegalOperation";
    case ErrorCode::kLockTimeout: return "LockTimeout";
    case ErrorCode::kInvalidBSON: return "InvalidBSON";
    case ErrorCode::kNamespaceNotFound: return "NamespaceNotFound";
    case ErrorCode::kIndexNotFound: return "IndexNotFound";
    case ErrorCode::kPathNotViable: return "PathNotViable";
    case ErrorCode::kConflictingUpdateOperators: return "ConflictingUpdateOperators";
    case ErrorCode::kCursorNotFound: return "CursorNotFound";
    case ErrorCode::kNamespaceExists: return "NamespaceExists";
    case ErrorCode::kDollarPrefixedFieldName: return "DollarPrefixedFieldName";
    case ErrorCode::kInvalidIdField: return "InvalidIdField";
    case ErrorCode::kCommandNotFound: return "CommandNotFound";
    case ErrorCode::kImmutableField: return "ImmutableField";
    case ErrorCode::kCannotCreateIndex: return "CannotCreateIndex";
    case ErrorCode::kIndexOptionsConflict: return "IndexOptionsConflict";
    case ErrorCode::kIndexKeySpecsConflict: return "IndexKeySpecsConflict";
    case ErrorCode::kCannotIndexParallelArrays: return "CannotIndexParallelArrays";
    case ErrorCode::kInvalidIndexSpecificationOption: return "InvalidIndexSpecificationOption";
    case ErrorCode::kInvalidOptions: return "InvalidOptions";
    case ErrorCode::kInvalidNamespace: return "InvalidNamespace";
    case ErrorCode::kShutdownInProgress: return "ShutdownInProgress";
    case ErrorCode::kWriteConflict: return "WriteConflict";
    case ErrorCode::kCommandNotSupported: return "CommandNotSupported";
    case ErrorCode::kConflictingOperationInProgress: return "ConflictingOperationInProgress";
    case ErrorCode::kInvalidPipelineOperator: return "InvalidPipelineOperator";
    case ErrorCode::kConversionFailure: return "ConversionFailure";
    case ErrorCode::kQueryExceededMemoryLimitNoDiskUseAllowed: return "QueryExceededMemoryLimitNoDiskUseAllowed";
    case ErrorCode::kTransactionTooOld: return "TransactionTooOld";
    case ErrorCode::kNoSuchTransaction: return "NoSuchTransaction";
    case ErrorCode::kTransactionCommitted: return "TransactionCommitted";
    case ErrorCode::kOperationNotSupportedInTransaction: return "OperationNotSupportedInTransaction";
    case ErrorCode::kTransactionExceededLifetimeLimitSeconds: return "TransactionExceededLifetimeLimitSeconds";
    case ErrorCode::kBSONObjectTooLarge: return "BSONObjectTooLarge";
    case ErrorCode::kDuplicateKey: return "DuplicateKey";
    case ErrorCode::kBSONObjectTooLargeAfterUpdate:
    case ErrorCode::kInvalidRegex:
    case ErrorCode::kInvalidRegexOptions:
    case ErrorCode::kRegexOptionsBeforeRegex:
    case ErrorCode::kRegexOptionsTwice:
      break;  // no codeName in MongoDB: "Location<N>" below
  }
  return "Location" + std::to_string(static_cast<int32_t>(code));
}

const std::string& Status::details() const {
  static const std::string kNone;
  return details_ ? *details_ : kNone;
}

Status Status::WithDetails(std::string bson_document) && {
  details_ = std::make_shared<const std::string>(std::move(bson_document));
  return std::move(*this);
}

BadResultAccess::BadResultAccess(Status status) : std::logic_error(status.ToString()), status_(std::move(status)) {}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return ErrorCodeName(code_) + " (" + std::to_string(static_cast<int32_t>(code_)) + "): " + message_;
}

}  // namespace docket
