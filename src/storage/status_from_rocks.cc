#include "storage/status_from_rocks.h"

#include <string>

namespace docket::storage {

Status FromRocks(const rocksdb::Status& s, const char* context) {
  if (s.ok()) return Status::OK();
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return Status(ErrorCode::kWriteConflict,
                  std::string("WriteConflict error: this operation conflicted with another operation (") +
                      context + ": " + s.ToString() + ")");
  }
  if (s.IsNoSpace()) {
    return Status(ErrorCode::kOutOfDiskSpace, std::string(context) + ": no space left on the database's device (" +
                                                  s.ToString() + ")");
  }
  return Status(ErrorCode::kInternalError, std::string(context) + ": " + s.ToString());
}

}  // namespace docket::storage
