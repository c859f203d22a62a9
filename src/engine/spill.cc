#include "engine/spill.h"

#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {
namespace {
constexpr size_t kBatchBytes = 4 << 20;
}  // namespace

SpillArea::SpillArea(EngineImpl* engine)
    : engine_(engine),
      prefix_(storage::SpillPrefix(engine->next_spill_id.fetch_add(1))),
      end_(storage::SpillPrefix(storage::ReadBigEndian64(std::string_view(prefix_).substr(1)) + 1)),
      end_slice_(end_) {}

SpillArea::~SpillArea() {
  if (bytes_ > 0) (void)engine_->store->DeleteRange(prefix_, end_);  // space only: a leftover is removed at open
}

Status SpillArea::Put(std::string_view key, std::string_view value) {
  std::string stored = prefix_;
  stored.append(key);
  rocksdb::Status s = batch_.Put(stored, rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) return storage::FromRocks(s, "spilling");
  bytes_ += key.size() + value.size();
  if (batch_.GetDataSize() >= kBatchBytes) return Flush();
  return Status::OK();
}

Status SpillArea::Flush() {
  if (batch_.Count() == 0) return Status::OK();
  rocksdb::WriteOptions options;
  options.disableWAL = true;  // temporary: never replayed
  rocksdb::TransactionDBWriteOptimizations optimizations;
  optimizations.skip_concurrency_control = true;  // the range is private: no row locks
  rocksdb::Status s = engine_->db()->Write(options, optimizations, &batch_);
  batch_.Clear();
  return storage::FromRocks(s, "spilling");
}

std::unique_ptr<rocksdb::Iterator> SpillArea::NewIterator() {
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &end_slice_;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(engine_->db()->NewIterator(options));
  it->Seek(prefix_);
  return it;
}

rocksdb::Slice SpillArea::UserKey(const rocksdb::Slice& stored) const {
  return rocksdb::Slice(stored.data() + prefix_.size(), stored.size() - prefix_.size());
}

Status DeleteAllSpills(EngineImpl* engine) {
  const std::string begin(1, storage::kSpillPrefix), end(1, storage::kSpillPrefix + 1);
  // Only when a crash left something: every range deletion leaves a
  // tombstone that each later read of the table files it lands in consults,
  // and opening an engine again and again (tests do) would pile them up.
  rocksdb::ReadOptions options;
  rocksdb::Slice upper(end);
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(engine->db()->NewIterator(options));
  it->Seek(begin);
  if (!it->Valid()) return storage::FromRocks(it->status(), "looking for spilled rows");
  it.reset();
  return engine->store->DeleteRange(begin, end);
}

}  // namespace docket::engine
