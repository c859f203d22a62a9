#include "storage/storage_health.h"

namespace docket::storage {

Status StorageHealth::Describe(const rocksdb::Status& error) const {
  const std::string where = path_.empty() ? std::string("the database") : "the database at " + path_;
  if (error.IsNoSpace()) {
    return Status(ErrorCode::kOutOfDiskSpace,
                  "no space left on the device holding " + where +
                      ": writes are refused until space is freed (reads go on; Docket resumes writing by itself "
                      "once there is room) [" + error.ToString() + "]");
  }
  return Status(ErrorCode::kInternalError, "the storage of " + where +
                                               " failed, writes are refused until it can write again (reads go on) [" +
                                               error.ToString() + "]");
}

void StorageHealth::OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* bg_error) {
  if (bg_error == nullptr || bg_error->ok()) return;
  Record(*bg_error);
}

void StorageHealth::OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error,
                                         bool* auto_recovery) {
  bg_error.PermitUncheckedError();
  *auto_recovery = false;  // its recovery writes through the failed log writer: the owner reopens instead
}

void StorageHealth::Record(const rocksdb::Status& error) {
  if (error.ok() || !(error.IsIOError() || error.IsNoSpace())) return;
  std::lock_guard lock(mutex_);
  if (failure_.ok()) failure_ = Describe(error);
}

Status StorageHealth::Get() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

bool StorageHealth::failed() const {
  std::lock_guard lock(mutex_);
  return !failure_.ok();
}

}  // namespace docket::storage
