#pragma once

#include <rocksdb/status.h>

#include "docket/status.h"

namespace docket::storage {

// Lock waits that time out, deadlocks and snapshot conflicts become
// WriteConflict (112), which callers retry; anything else is InternalError.
Status FromRocks(const rocksdb::Status& s, const char* context);

inline bool IsRetryable(const Status& s) { return s.code() == ErrorCode::kWriteConflict; }

}  // namespace docket::storage
