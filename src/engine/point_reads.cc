#include "engine/point_reads.h"

#include <memory>

#include "storage/status_from_rocks.h"

namespace docket::engine {

void MultiGetAt(EngineImpl* engine, rocksdb::Transaction* user_txn, const rocksdb::ReadOptions& read_options,
                const std::vector<std::string>& keys, std::vector<rocksdb::PinnableSlice>* values,
                std::vector<rocksdb::Status>* statuses) {
  rocksdb::ColumnFamilyHandle* family = engine->db()->DefaultColumnFamily();
  if (user_txn != nullptr) {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    user_txn->MultiGet(read_options, family, slices.size(), slices.data(), values->data(), statuses->data());
    return;
  }
  storage::PointCache* cache = engine->store->point_cache();
  if (cache == nullptr || read_options.snapshot == nullptr) {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    engine->db()->MultiGet(read_options, family, slices.size(), slices.data(), values->data(), statuses->data());
    return;
  }
  // Outside a transaction, at a snapshot: the point cache first, RocksDB for
  // the rest, whose rows then go into the cache.
  const uint64_t snapshot = read_options.snapshot->GetSequenceNumber();
  std::vector<std::string*> targets(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    (*values)[i].Reset();
    targets[i] = (*values)[i].GetSelf();
  }
  std::unique_ptr<bool[]> cached(new bool[keys.size()]);
  cache->LookupBatch(keys.size(), keys.data(), snapshot, targets.data(), cached.get());
  std::vector<size_t> missed;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (cached[i]) {
      (*values)[i].PinSelf();
      (*statuses)[i] = rocksdb::Status::OK();
    } else {
      missed.push_back(i);
    }
  }
  if (missed.empty()) return;
  std::vector<rocksdb::Slice> slices;
  for (size_t i : missed) slices.emplace_back(keys[i]);
  std::vector<rocksdb::PinnableSlice> found(missed.size());
  std::vector<rocksdb::Status> found_statuses(missed.size());
  engine->db()->MultiGet(read_options, family, slices.size(), slices.data(), found.data(), found_statuses.data());
  for (size_t j = 0; j < missed.size(); ++j) {
    const size_t i = missed[j];
    (*statuses)[i] = found_statuses[j];
    if (!found_statuses[j].ok()) continue;
    cache->Insert(keys[i], snapshot, std::string_view(found[j].data(), found[j].size()));
    (*values)[i] = std::move(found[j]);
  }
}

size_t KeepFound(const std::vector<rocksdb::Status>& statuses, std::vector<std::string>* keys,
                 std::vector<rocksdb::PinnableSlice>* values, Status* status, std::vector<uint64_t>* aligned) {
  size_t kept = 0;
  for (size_t i = 0; i < keys->size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      *status = storage::FromRocks(statuses[i], "reading a record");
      break;
    }
    if (kept != i) {
      (*keys)[kept] = std::move((*keys)[i]);
      (*values)[kept] = std::move((*values)[i]);
      if (aligned != nullptr) (*aligned)[kept] = (*aligned)[i];
    }
    ++kept;
  }
  keys->resize(kept);
  values->resize(kept);
  if (aligned != nullptr) aligned->resize(kept);
  return kept;
}

}  // namespace docket::engine
