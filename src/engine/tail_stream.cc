#include "engine/tail_stream.h"

#include <mutex>
#include <shared_mutex>

#include "docket/blocking.h"
#include "docket/deadline.h"
#include "storage/keys.h"

namespace docket::engine {

namespace {

// Whether `doc` is {$natural: 1} (the number 1 of any numeric type).
bool IsForwardNatural(const Document& doc) {
  bson_iter_t it;
  doc.Iterate(&it);
  if (!bson_iter_next(&it) || std::string_view(bson_iter_key(&it)) != "$natural") return false;
  if (!BSON_ITER_HOLDS_NUMBER(&it) || bson_iter_as_double(&it) != 1.0) return false;
  return !bson_iter_next(&it);
}

}  // namespace

Status CheckTailableOptions(const FindOptions& options) {
  if (!options.sort.empty() && !IsForwardNatural(options.sort)) {
    return Status(ErrorCode::kBadValue, "cannot use tailable option with a sort other than {$natural: 1}");
  }
  if (options.skip != 0 || options.limit != 0) {
    return Status(ErrorCode::kNotImplemented, "skip and limit on a tailable cursor are not supported by Docket yet");
  }
  if (!options.hint.empty() && !(options.hint.name.empty() && IsForwardNatural(options.hint.key_pattern))) {
    return Status(ErrorCode::kNotImplemented, "a hint on a tailable cursor is not supported by Docket yet");
  }
  return Status::OK();
}

TailStream::TailStream(EngineImpl* engine, storage::EntryPtr entry, std::shared_ptr<const FindStream::Shape> shape,
                       uint64_t after)
    : engine_(engine), entry_(std::move(entry)), shape_(std::move(shape)), position_(after) {}

Status TailStream::Reopen() {
  std::shared_lock lifecycle(entry_->lifecycle);
  if (entry_->retired) {
    return Status(ErrorCode::kQueryPlanKilled, "collection dropped or renamed while a tailable cursor read it: " +
                                                   entry_->db + "." + entry_->name);
  }
  {
    std::lock_guard<std::mutex> lock(entry_->capped_writers->inserted_mutex);
    inserts_seen_ = entry_->capped_writers->inserts;
  }
  ReadViewPool::View view = engine_->read_views->Acquire();
  if (position_ != 0) {
    // The record the cursor is on must still be there, else what followed
    // it may be gone unseen.
    std::string id_key;
    rocksdb::ReadOptions read;
    read.snapshot = view.snapshot;
    rocksdb::Status found = engine_->db()->Get(read, storage::NaturalKey(entry_->id, position_), &id_key);
    if (found.IsNotFound()) {
      engine_->read_views->Release(std::move(view));
      return Status(ErrorCode::kCappedPositionLost,
                    "CollectionScan died due to position in capped collection being deleted. Last seen record id: " +
                        std::to_string(position_));
    }
  }
  scan_ = std::make_unique<NaturalScan>(engine_, nullptr, std::move(view), entry_->id, /*backward=*/false, 0, position_);
  advance_pending_ = false;
  return scan_->status();
}

Result<std::optional<Document>> TailStream::Next() {
  if (scan_ == nullptr) DOCKET_RETURN_IF_ERROR(Reopen());
  if (advance_pending_) {
    scan_->Next();
    advance_pending_ = false;
  }
  while (scan_->Valid()) {
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    position_ = scan_->sequence();
    rocksdb::Slice v = scan_->value();
    auto match = shape_->filter.Evaluate(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    if (!match.ok()) return match.status();
    if (*match) {
      advance_pending_ = true;
      Document doc = Document::FromTrustedBytes(v.ToString());
      if (shape_->projection.empty()) return std::optional<Document>(std::move(doc));
      auto projected = shape_->projection.ApplyMatched(doc, shape_->filter);
      if (!projected.ok()) return projected.status();
      return std::optional<Document>(std::move(projected).value());
    }
    scan_->Next();
  }
  Status s = scan_->status();
  scan_.reset();  // nothing more for now; the next Next() looks again
  DOCKET_RETURN_IF_ERROR(s);
  return std::optional<Document>();
}

bool TailStream::WaitForInsert(std::chrono::steady_clock::time_point until, const std::function<bool()>& cancelled) {
  storage::CappedWriters& writers = *entry_->capped_writers;
  BlockingRegion waiting;
  std::unique_lock<std::mutex> lock(writers.inserted_mutex);
  while (writers.inserts == inserts_seen_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until || (cancelled && cancelled())) return false;
    writers.inserted.wait_until(lock, std::min(until, now + kCancelCheck));
  }
  return true;
}

}  // namespace docket::engine
