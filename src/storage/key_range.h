// Reading every key of one range, for the passes that check or measure a
// whole collection or index (validate, collStats).
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>

#include "docket/status.h"
#include "storage/status_from_rocks.h"

namespace docket::storage {

// Calls visit(key, value) -> Status for every key in [lower, upper) at
// `read` (its snapshot), in key order, and stops at the first error visit
// returns. Errors: those of reading, described as `what`.
template <typename Visit>
Status ForEachInRange(rocksdb::DB* db, const rocksdb::ReadOptions& read, const std::string& lower,
                      const std::string& upper, const char* what, Visit visit) {
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options = read;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  for (it->Seek(lower); it->Valid(); it->Next()) DOCKET_RETURN_IF_ERROR(visit(it->key(), it->value()));
  return FromRocks(it->status(), what);
}

}  // namespace docket::storage
