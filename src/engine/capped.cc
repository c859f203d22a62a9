#include "engine/capped.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/indexes.h"
#include "engine/write_path.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {

using storage::FromRocks;

Result<std::optional<storage::CappedLimits>> CappedLimitsFor(const CollectionOptions& options) {
  if (!options.capped) {
    if (options.size || options.max) {
      return Status(ErrorCode::kInvalidOptions,
                    "the 'capped' field needs to be true when either the 'size' or 'max' fields are present");
    }
    return std::optional<storage::CappedLimits>();
  }
  if (!options.size) return Status(ErrorCode::kInvalidOptions, "the 'size' field is required when 'capped' is true");
  constexpr int64_t kPetabyte = int64_t{1} << 50;
  const int64_t size = *options.size;
  if (size < 1) {
    return Status(ErrorCode::kIdlValueOutOfRange,
                  "BSON field 'size' value must be >= 1, actual value '" + std::to_string(size) + "'");
  }
  if (size > kPetabyte) return Status(ErrorCode::kBadValue, "size cannot exceed 1 PB");
  storage::CappedLimits limits;
  limits.size = size <= 4096 ? 4096 : (size + 0xff) & ~int64_t{0xff};
  if (options.max) {
    if (*options.max >= (int64_t{1} << 31)) {
      return Status(ErrorCode::kBadValue, "max in a capped collection has to be < 2^31 or not set");
    }
    limits.max = *options.max > 0 ? *options.max : 0;
  }
  return std::optional<storage::CappedLimits>(limits);
}

Status CappedInTransaction(const storage::CollectionEntry& entry) {
  return Status(ErrorCode::kOperationNotSupportedInTransaction,
                "Collection '" + entry.db + "." + entry.name +
                    "' is a capped collection. Writes in transactions are not allowed on capped collections.");
}

Status CountCapped(EngineImpl* engine, const storage::CollectionEntry& entry, storage::CappedWriters* writers) {
  if (writers->counted) return Status::OK();
  int64_t bytes = 0, count = 0;
  RecordScan scan(engine, nullptr, entry.id);
  for (; scan.Valid(); scan.Next()) {
    bytes += static_cast<int64_t>(scan.value().size());
    ++count;
  }
  DOCKET_RETURN_IF_ERROR(scan.status());
  writers->bytes = bytes;
  writers->count = count;
  writers->counted = true;
  return Status::OK();
}

Status RemoveOverLimits(WriteUnit& unit, const storage::CollectionEntry& entry, uint64_t inserted) {
  const storage::CappedLimits& limits = *entry.capped;
  int64_t bytes = unit.capped_bytes(), count = unit.capped_count();
  auto over = [&] { return bytes > limits.size || (limits.max > 0 && count > limits.max); };
  if (!over()) return Status::OK();
  // The victims first, then their deletion: a transaction's iterator must
  // not see its write batch change under it.
  struct Victim {
    std::string key;
    std::string document;
    uint64_t sequence;
  };
  std::vector<Victim> victims;
  {
    const std::string lower = storage::NaturalKey(entry.id, unit.capped_oldest());
    const std::string upper = storage::NaturalRangeEnd(entry.id);
    std::unique_ptr<rocksdb::Iterator> it(unit.txn()->GetIterator(rocksdb::ReadOptions()));
    for (it->Seek(lower); over() && it->Valid() && it->key().compare(upper) < 0; it->Next()) {
      const uint64_t sequence =
          storage::ReadBigEndian64(std::string_view(it->key().data() + storage::kRecordPrefixSize, 8));
      if (sequence == inserted) break;  // never the document just inserted
      Victim victim{storage::RecordPrefix(entry.id) + it->value().ToString(), {}, sequence};
      DOCKET_RETURN_IF_ERROR(
          FromRocks(unit.txn()->Get(rocksdb::ReadOptions(), victim.key, &victim.document), "reading a record"));
      SplitRecordValue(&victim.document);
      bytes -= static_cast<int64_t>(victim.document.size());
      count -= 1;
      victims.push_back(std::move(victim));
    }
    DOCKET_RETURN_IF_ERROR(FromRocks(it->status(), "reading the natural order"));
  }
  for (const Victim& victim : victims) {
    // The oplog's entries are written and removed only under its writer
    // lock (engine/oplog.h), inside other writers' transactions: no row
    // locks for them. Other capped collections' records are users' too.
    DOCKET_RETURN_IF_ERROR(unit.shared() ? unit.DeleteUnlocked(victim.key)
                                         : FromRocks(unit.txn()->Delete(victim.key), "deleting a record"));
    DOCKET_RETURN_IF_ERROR(unit.DeleteUnlocked(storage::NaturalKey(entry.id, victim.sequence)));
    const Document doc = Document::FromTrustedBytes(victim.document);
    DOCKET_RETURN_IF_ERROR(UpdateIndexEntries(unit, entry, &doc, nullptr));
    unit.NoteCappedChange(-static_cast<int64_t>(victim.document.size()), -1, victim.sequence + 1);
  }
  return Status::OK();
}

}  // namespace docket::engine
