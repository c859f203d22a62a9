#include "engine/sorter.h"

#include <algorithm>

#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {
namespace {

// Reads the spilled rows back in key order.
class SpillStream : public DocumentStream {
 public:
  explicit SpillStream(std::unique_ptr<SpillArea> spill) : spill_(std::move(spill)), it_(spill_->NewIterator()) {}
  ~SpillStream() override { it_.reset(); }  // before the area's range goes
  Result<std::optional<Document>> Next() override {
    if (!it_->Valid()) {
      DOCKET_RETURN_IF_ERROR(storage::FromRocks(it_->status(), "reading spilled rows"));
      return std::optional<Document>();
    }
    Document doc = Document::FromTrustedBytes(it_->value().ToString());
    it_->Next();
    return std::optional<Document>(std::move(doc));
  }

 private:
  std::unique_ptr<SpillArea> spill_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

Sorter::Sorter(EngineImpl* engine, const query::SortSpec& spec, size_t keep, SortBudget budget)
    : engine_(engine), spec_(spec), keep_(keep), budget_(budget) {}

bool Sorter::Before(const Row& a, const Row& b) const {
  int c = spec_.Compare(a.values, b.values);
  return c != 0 ? c < 0 : a.sequence < b.sequence;
}

size_t Sorter::RowBytes(const Row& r) const {
  size_t n = sizeof(Row) + r.doc.size();
  for (const std::string& v : r.values) n += v.size() + sizeof(std::string);
  return n;
}

Status Sorter::SpillRows() {
  if (!spill_) spill_ = std::make_unique<SpillArea>(engine_);
  for (const Row& row : rows_) {
    std::string key = spec_.EncodeKey(row.values);
    storage::AppendBigEndian64(&key, row.sequence);  // distinct keys; ties in input order
    DOCKET_RETURN_IF_ERROR(spill_->Put(key, row.doc.bytes()));
  }
  rows_.clear();
  bytes_ = 0;
  return Status::OK();
}

Status Sorter::Add(Document doc) {
  if (keep_ == 0) return Status::OK();
  Row row{spec_.Extract(doc), sequence_++, std::move(doc)};
  auto before = [this](const Row& a, const Row& b) { return Before(a, b); };
  if (keep_ != SIZE_MAX) {
    // A bounded heap whose top is the last row kept.
    if (rows_.size() < keep_) {
      rows_.push_back(std::move(row));
      std::push_heap(rows_.begin(), rows_.end(), before);
    } else if (Before(row, rows_.front())) {
      std::pop_heap(rows_.begin(), rows_.end(), before);
      rows_.back() = std::move(row);
      std::push_heap(rows_.begin(), rows_.end(), before);
    }
    return Status::OK();
  }
  bytes_ += RowBytes(row);
  rows_.push_back(std::move(row));
  if (bytes_ > budget_.memory_limit_bytes) {
    if (!budget_.allow_disk_use) {
      return Status(ErrorCode::kQueryExceededMemoryLimitNoDiskUseAllowed,
                    "Sort exceeded memory limit of " + std::to_string(budget_.memory_limit_bytes) +
                        " bytes, but did not opt in to external sorting.");
    }
    return SpillRows();
  }
  return Status::OK();
}

Result<StreamPtr> Sorter::Finish() {
  auto before = [this](const Row& a, const Row& b) { return Before(a, b); };
  if (spill_) {
    DOCKET_RETURN_IF_ERROR(SpillRows());
    DOCKET_RETURN_IF_ERROR(spill_->Flush());
    return StreamPtr(std::make_unique<SpillStream>(std::move(spill_)));
  }
  if (keep_ != SIZE_MAX) {
    std::sort_heap(rows_.begin(), rows_.end(), before);
  } else {
    std::sort(rows_.begin(), rows_.end(), before);  // sequences make every key distinct: stable
  }
  std::deque<Document> out;
  for (Row& r : rows_) out.push_back(std::move(r.doc));
  rows_.clear();
  return StreamPtr(std::make_unique<VectorStream>(std::move(out)));
}

}  // namespace docket::engine
