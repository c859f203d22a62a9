#include "docket/status.h"

#include <algorithm>
#include <iterator>

namespace docket {

namespace {

// MongoDB 6.0's names of its server codes (error_codes.yml), for the codes
// Docket returns or a client may ask a test fail point to return. Sorted.
struct CodeName {
  int32_t code;
  const char* name;
};
constexpr CodeName kCodeNames[] = {
      {0, "OK"},
      {1, "InternalError"},
      {2, "BadValue"},
      {4, "NoSuchKey"},
      {5, "GraphContainsCycle"},
      {6, "HostUnreachable"},
      {7, "HostNotFound"},
      {8, "UnknownError"},
      {9, "FailedToParse"},
      {10, "CannotMutateObject"},
      {11, "UserNotFound"},
      {12, "UnsupportedFormat"},
      {13, "Unauthorized"},
      {14, "TypeMismatch"},
      {15, "Overflow"},
      {16, "InvalidLength"},
      {17, "ProtocolError"},
      {18, "AuthenticationFailed"},
      {20, "IllegalOperation"},
      {21, "EmptyArrayOperation"},
      {22, "InvalidBSON"},
      {23, "AlreadyInitialized"},
      {24, "LockTimeout"},
      {26, "NamespaceNotFound"},
      {27, "IndexNotFound"},
      {28, "PathNotViable"},
      {29, "NonExistentPath"},
      {30, "InvalidPath"},
      {38, "FileNotOpen"},
      {40, "ConflictingUpdateOperators"},
      {43, "CursorNotFound"},
      {46, "LockBusy"},
      {47, "NoMatchingDocument"},
      {48, "NamespaceExists"},
      {50, "MaxTimeMSExpired"},
      {52, "DollarPrefixedFieldName"},
      {53, "InvalidIdField"},
      {54, "NotSingleValueField"},
      {55, "InvalidDBRef"},
      {56, "EmptyFieldName"},
      {57, "DottedFieldName"},
      {59, "CommandNotFound"},
      {61, "ShardKeyNotFound"},
      {63, "OBSOLETE_StaleShardVersion"},
      {64, "WriteConcernFailed"},
      {65, "MultipleErrorsOccurred"},
      {66, "ImmutableField"},
      {67, "CannotCreateIndex"},
      {68, "IndexAlreadyExists"},
      {72, "InvalidOptions"},
      {73, "InvalidNamespace"},
      {76, "NoReplicationEnabled"},
      {79, "UnknownReplWriteConcern"},
      {85, "IndexOptionsConflict"},
      {86, "IndexKeySpecsConflict"},
      {89, "NetworkTimeout"},
      {90, "CallbackCanceled"},
      {91, "ShutdownInProgress"},
      {94, "NotYetInitialized"},
      {95, "NotSecondary"},
      {96, "OperationFailed"},
      {98, "FileRenameFailed"},
      {100, "UnsatisfiableWriteConcern"},
      {112, "WriteConflict"},
      {115, "CommandNotSupported"},
      {116, "DocTooLargeForCapped"},
      {117, "ConflictingOperationInProgress"},
      {121, "DocumentValidationFailure"},
      {123, "NotAReplicaSet"},
      {125, "CommandFailed"},
      {133, "FailedToSatisfyReadPreference"},
      {134, "ReadConcernMajorityNotAvailableYet"},
      {136, "CappedPositionLost"},
      {143, "CursorInUse"},
      {146, "ExceededMemoryLimit"},
      {147, "ZLibError"},
      {150, "StaleEpoch"},
      {160, "MaxStalenessOutOfRange"},
      {161, "IncompatibleCollationVersion"},
      {165, "ViewDepthLimitExceeded"},
      {166, "CommandNotSupportedOnView"},
      {167, "OptionNotSupportedOnView"},
      {168, "InvalidPipelineOperator"},
      {170, "TooManyMatchingDocuments"},
      {171, "CannotIndexParallelArrays"},
      {175, "QueryPlanKilled"},
      {181, "AmbiguousIndexKeyPattern"},
      {182, "InvalidViewDefinition"},
      {183, "ClientMetadataMissingField"},
      {184, "ClientMetadataAppNameTooLarge"},
      {185, "ClientMetadataDocumentTooLarge"},
      {186, "ClientMetadataCannotBeMutated"},
      {187, "LinearizableReadConcernError"},
      {189, "PrimarySteppedDown"},
      {195, "ViewPipelineMaxSizeExceeded"},
      {197, "InvalidIndexSpecificationOption"},
      {201, "CannotBuildIndexKeys"},
      {205, "ClusterTimeFailsRateLimiter"},
      {206, "NoSuchSession"},
      {209, "StaleClusterTime"},
      {216, "ElectionInProgress"},
      {217, "IncompleteTransactionHistory"},
      {222, "CloseChangeStream"},
      {223, "IllegalOpMsgFlag"},
      {224, "QueryFeatureNotAllowed"},
      {225, "TransactionTooOld"},
      {227, "CannotImplicitlyCreateCollection"},
      {232, "MaxSubPipelineDepthExceeded"},
      {233, "TooManyDocumentSequences"},
      {234, "RetryChangeStream"},
      {237, "CursorKilled"},
      {238, "NotImplemented"},
      {239, "SnapshotTooOld"},
      {241, "ConversionFailure"},
      {242, "CannotCreateCollection"},
      {246, "SnapshotUnavailable"},
      {251, "NoSuchTransaction"},
      {256, "TransactionCommitted"},
      {257, "TransactionTooLarge"},
      {260, "InvalidResumeToken"},
      {261, "TooManyLogicalSessions"},
      {262, "ExceededTimeLimit"},
      {263, "OperationNotSupportedInTransaction"},
      {267, "PreparedTransactionInProgress"},
      {276, "IndexBuildAborted"},
      {279, "ClientDisconnect"},
      {280, "ChangeStreamFatalError"},
      {286, "ChangeStreamHistoryLost"},
      {288, "ChecksumMismatch"},
      {290, "TransactionExceededLifetimeLimitSeconds"},
      {291, "NoQueryExecutionPlans"},
      {291, "NoQueryExecutionPlans"},
      {292, "QueryExceededMemoryLimitNoDiskUseAllowed"},
      {322, "APIVersionError"},
      {323, "APIStrictError"},
      {324, "APIDeprecationError"},
      {325, "APIMismatchError"},
      {346, "ChangeStreamInvalidated"},
      {352, "UnsupportedOpQueryCommand"},
      {358, "InternalTransactionNotSupported"},
      {359, "CannotConvertIndexToUnique"},
      {9001, "SocketException"},
      {10107, "NotWritablePrimary"},
      {10334, "BSONObjectTooLarge"},
      {11000, "DuplicateKey"},
      {11600, "InterruptedAtShutdown"},
      {11601, "Interrupted"},
      {11602, "InterruptedDueToReplStateChange"},
      {12586, "BackgroundOperationInProgressForDatabase"},
      {12587, "BackgroundOperationInProgressForNamespace"},
      {13297, "DatabaseDifferCase"},
      {13388, "StaleConfig"},
      {13435, "NotPrimaryNoSecondaryOk"},
      {13436, "NotPrimaryOrSecondary"},
      {14031, "OutOfDiskSpace"},
      {17280, "OBSOLETE_KeyTooLong"},
};

}  // namespace

std::string ErrorCodeName(ErrorCode code) {
  const int32_t n = static_cast<int32_t>(code);
  const auto* end = std::end(kCodeNames);
  const auto* found = std::lower_bound(std::begin(kCodeNames), end, n,
                                       [](const CodeName& entry, int32_t c) { return entry.code < c; });
  if (found != end && found->code == n) return found->name;
  // Codes MongoDB raises at one place of its source, without a name.
  return "Location" + std::to_string(n);
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
