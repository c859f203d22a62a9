// Upgrades a database of an older storage format (kFormatVersion in
// storage/store.h) to the current one, when it is opened.
//
// Version 1 -> 2: records gained their sequence number and the collections
// their natural-order entries (storage/keys.h, storage/record_value.h).
// Version 1 kept no insertion order, so a collection's natural order after
// the upgrade is its _id order at that time; records inserted afterwards
// come after them. The upgrade writes in batches; a record already upgraded
// (a crash part-way) is recognised by its value's size and left alone, so
// opening again finishes the job. The format version is written last.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>

#include "docket/status.h"
#include "storage/record_sequencer.h"

namespace docket::storage {

// Returns how many records were upgraded. `sync`: the last batch and the
// new version are synced (false in memory).
Result<uint64_t> UpgradeFromVersion1(rocksdb::DB* db, RecordSequencer* sequencer, bool sync);

}  // namespace docket::storage
