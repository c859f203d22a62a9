// Capped collections (MongoDB's create with capped: true): a collection that
// keeps at most `size` bytes of documents and, when `max` is set, at most
// `max` documents; each insert that takes it past either limit removes the
// oldest documents in natural order, in the same commit, never the one it
// inserted. Writes to a capped collection are serialised (the collection's
// CappedWriters mutex, held by a WriteUnit from its first write until it
// ends), so natural order is commit order and the counters that the limits
// are checked against are exact. Writes inside a user transaction are
// refused (OperationNotSupportedInTransaction), as MongoDB refuses them.
#pragma once

#include <cstdint>
#include <optional>

#include "docket/engine.h"
#include "storage/catalog.h"

namespace docket::engine {

class WriteUnit;

// MongoDB 6.0's checks and normalisation of create's capped, size and max:
// size is required with capped (InvalidOptions), at least 1
// (Location51024) and at most 1 PB (BadValue); up to 4096 it becomes 4096,
// above it is rounded up to a multiple of 256; max must be below 2^31
// (BadValue), and max <= 0 means no limit; size or max without capped is
// InvalidOptions. Returns nullopt for a collection that is not capped.
Result<std::optional<storage::CappedLimits>> CappedLimitsFor(const CollectionOptions& options);

// OperationNotSupportedInTransaction, MongoDB's answer to a write to a
// capped collection inside a transaction.
Status CappedInTransaction(const storage::CollectionEntry& entry);

// After `unit` inserted the record with sequence number `inserted` into the
// capped collection `entry` (whose writer lock the unit holds): deletes the
// oldest records, with their index and natural-order entries, while the
// collection is over a limit, never the inserted one. Records the changes
// in the unit's counters.
Status RemoveOverLimits(WriteUnit& unit, const storage::CollectionEntry& entry, uint64_t inserted);

// The documents and bytes of a capped collection whose writer lock the
// caller holds, counting them first if nobody has since the open.
Status CountCapped(EngineImpl* engine, const storage::CollectionEntry& entry, storage::CappedWriters* writers);

}  // namespace docket::engine
