#include "engine/scan.h"

#include "engine/indexes.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {

IndexScan::IndexScan(EngineImpl* engine, rocksdb::Transaction* user_txn, const rocksdb::Snapshot* snapshot,
                     uint64_t collection_id, const index::Plan& plan)
    : engine_(engine),
      user_txn_(user_txn),
      own_snapshot_(snapshot),
      prefix_(storage::IndexPrefix(plan.index->id())),
      record_prefix_(storage::RecordPrefix(collection_id)),
      plan_(plan) {
  if (user_txn != nullptr) {
    read_options_.snapshot = user_txn->GetSnapshot();
    it_.reset(user_txn->GetIterator(read_options_));
  } else {
    read_options_.snapshot = own_snapshot_;
    it_.reset(engine->db()->NewIterator(read_options_));
  }
  Advance();
}

IndexScan::~IndexScan() {
  it_.reset();
  if (own_snapshot_ != nullptr) engine_->db()->ReleaseSnapshot(own_snapshot_);
}

void IndexScan::StepIterator() {
  if (plan_.reverse) it_->Prev();
  else it_->Next();
}

bool IndexScan::PositionInRange() {
  while (range_ < plan_.ranges.size()) {
    const index::KeyRange& r = plan_.ranges[plan_.reverse ? plan_.ranges.size() - 1 - range_ : range_];
    std::string start = prefix_ + r.start, end = prefix_ + r.end;
    if (!started_range_) {
      started_range_ = true;
      if (plan_.reverse) {
        it_->SeekForPrev(end);
        if (it_->Valid() && it_->key().compare(end) >= 0) it_->Prev();
      } else {
        it_->Seek(start);
      }
    }
    if (it_->Valid()) {
      rocksdb::Slice key = it_->key();
      bool inside = plan_.reverse ? key.compare(start) >= 0 : key.compare(end) < 0;
      if (inside) return true;
    } else if (!it_->status().ok()) {
      status_ = storage::FromRocks(it_->status(), "scanning an index");
      return false;
    }
    ++range_;
    started_range_ = false;
  }
  return false;
}

void IndexScan::Advance() {
  valid_ = false;
  if (started_range_ && it_->Valid()) StepIterator();  // past the entry returned last
  while (PositionInRange()) {
    ++keys_examined_;
    std::string record_key = record_prefix_ + it_->value().ToString();
    if (!seen_.insert(record_key).second) {
      StepIterator();
      continue;
    }
    std::string record;
    rocksdb::Status s = user_txn_ != nullptr ? user_txn_->Get(read_options_, record_key, &record)
                                             : engine_->db()->Get(read_options_, record_key, &record);
    if (s.IsNotFound()) {  // cannot happen with consistent entries; skip rather than fail
      StepIterator();
      continue;
    }
    if (!s.ok()) {
      status_ = storage::FromRocks(s, "reading a record");
      return;
    }
    ++docs_examined_;
    record_key_ = std::move(record_key);
    record_ = std::move(record);
    valid_ = true;
    return;
  }
}

std::unique_ptr<DocumentScan> OpenScan(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                       const storage::CollectionEntry& entry, const Document& filter,
                                       const Document& sort, PlanSummary* summary) {
  // The snapshot comes first: the plan then sees every multikey flag set by
  // a write the snapshot holds (flags are set before their write commits).
  const rocksdb::Snapshot* snapshot = user_txn != nullptr ? nullptr : engine->db()->GetSnapshot();
  index::Plan plan = index::ChoosePlan(filter, sort, IndexesOf(entry));
  if (plan.index == nullptr) {
    if (snapshot != nullptr) engine->db()->ReleaseSnapshot(snapshot);
    if (summary != nullptr) *summary = PlanSummary();
    return std::make_unique<RecordScan>(engine, user_txn, entry.id);
  }
  if (summary != nullptr) {
    summary->index_name = plan.index->name();
    summary->key_pattern = plan.index->key_pattern();
    summary->bounds = plan.bounds;
    summary->provides_sort = plan.provides_sort;
    summary->reverse = plan.reverse;
  }
  return std::make_unique<IndexScan>(engine, user_txn, snapshot, entry.id, plan);
}

}  // namespace docket::engine
