#include "docket/metrics.h"
#include "engine/natural_scan.h"

#include <algorithm>

#include "engine/point_reads.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {

NaturalScan::NaturalScan(EngineImpl* engine, rocksdb::Transaction* user_txn, ReadViewPool::View view,
                         uint64_t collection_id, bool backward, size_t expected, uint64_t after)
    : engine_(engine),
      user_txn_(user_txn),
      view_(std::move(view)),
      lower_(storage::NaturalPrefix(collection_id)),
      upper_(storage::NaturalRangeEnd(collection_id)),
      record_prefix_(storage::RecordPrefix(collection_id)),
      backward_(backward),
      batch_limit_(expected == 0 ? kFirstBatch : std::min(expected, kMaxBatch)) {
  if (user_txn != nullptr) {
    read_options_.snapshot = TransactionSnapshot(user_txn);
    view_.iterator.reset(user_txn->GetIterator(read_options_));
  } else {
    read_options_.snapshot = view_.snapshot;
    // A pooled view's iterator has the same ReadOptions (the snapshot only).
    if (view_.iterator == nullptr) view_.iterator.reset(engine->db()->NewIterator(read_options_));
  }
  it_ = view_.iterator.get();
  if (backward_) {
    it_->SeekForPrev(upper_);
    if (it_->Valid() && it_->key().compare(upper_) >= 0) it_->Prev();
  } else {
    it_->Seek(after == 0 ? lower_ : storage::NaturalKey(collection_id, after + 1));
  }
  FillBatch();
}

NaturalScan::~NaturalScan() {
  values_.clear();  // unpins blocks before the iterator can go
  engine_->read_views->Release(std::move(view_));
}

// The iterator's bounds are checked here, not given to RocksDB: a pooled
// iterator is shared by scans of every range, and a transaction's iterator
// does not apply a bound to the transaction's own writes.
bool NaturalScan::InRange() const {
  if (!it_->Valid()) return false;
  return backward_ ? it_->key().compare(lower_) >= 0 : it_->key().compare(upper_) < 0;
}

rocksdb::Slice NaturalScan::value() const {
  const rocksdb::PinnableSlice& stored = values_[next_];
  return rocksdb::Slice(stored.data(), storage::RecordDocument(std::string_view(stored.data(), stored.size())).size());
}

void NaturalScan::Next() {
  if (++next_ < keys_.size()) return;
  FillBatch();
}

void NaturalScan::FillBatch() {
  // Until a batch has a record or the entries run out (every record of a
  // batch cannot be gone at one snapshot, but a scan does not rely on it).
  while (true) {
    keys_.clear();
    sequences_.clear();
    values_.clear();
    next_ = 0;
    while (keys_.size() < batch_limit_ && InRange()) {
      sequences_.push_back(storage::ReadBigEndian64(std::string_view(it_->key().data() + lower_.size(), 8)));
      std::string record_key = record_prefix_;
      record_key.append(it_->value().data(), it_->value().size());
      keys_.push_back(std::move(record_key));
      if (backward_) it_->Prev();
      else it_->Next();
    }
    if (!it_->status().ok()) {
      status_ = storage::FromRocks(it_->status(), "scanning a collection");
      keys_.clear();
      sequences_.clear();
      return;
    }
    batch_limit_ = std::min(batch_limit_ * 4, kMaxBatch);
    if (keys_.empty()) return;
    std::vector<rocksdb::Status> statuses(keys_.size());
    values_.resize(keys_.size());
    MultiGetAt(engine_, user_txn_, read_options_, keys_, &values_, &statuses);
    const size_t kept = KeepFound(statuses, &keys_, &values_, &status_, &sequences_);
    docs_examined_ += static_cast<int64_t>(kept);
    CountDocsExamined(static_cast<int64_t>(kept));
    if (!status_.ok()) {
      keys_.clear();
      sequences_.clear();
      values_.clear();
      return;
    }
    if (kept > 0) return;
  }
}

}  // namespace docket::engine
