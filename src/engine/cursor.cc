#include "engine/cursor_impl.h"

#include "docket/deadline.h"

namespace docket {

namespace {
// MongoDB caps a reply batch at 16 MiB of documents.
constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024;
}  // namespace

Result<std::vector<Document>> CursorImpl::NextBatch(size_t max_documents) {
  if (max_documents == 0) max_documents = batch_size_ == 0 ? 101 : batch_size_;
  std::vector<Document> batch;
  size_t bytes = 0;
  auto finish = [this] {
    exhausted_ = true;
    KeepResumeToken();
    stream_.reset();
  };
  while (!exhausted_ && batch.size() < max_documents && bytes < kMaxBatchBytes) {
    if (!pending_) {
      auto next = stream_->Next();
      if (!next.ok()) {
        finish();
        return next.status();
      }
      if (!*next) {
        if (!stream_->tailable()) finish();
        break;  // a tailable stream has nothing more for now
      }
      pending_ = std::move(next).value();
    }
    bytes += pending_->size();
    batch.push_back(std::move(*pending_));
    pending_.reset();
  }
  if (!exhausted_ && !pending_ && !stream_->tailable()) {
    // Look one ahead: a batch that ends the results says so.
    auto next = stream_->Next();
    if (!next.ok()) {
      // These documents are good; the error comes with the next batch.
      stream_ = std::make_unique<ErrorStream>(next.status());
    } else if (!*next) {
      finish();
    } else {
      pending_ = std::move(next).value();
    }
  }
  return batch;
}

namespace engine {

FindStream::FindStream(std::unique_ptr<DocumentScan> scan, storage::EntryPtr entry, std::shared_ptr<const Shape> shape)
    : scan_(std::move(scan)), entry_(std::move(entry)), shape_(std::move(shape)), to_skip_(shape_->skip),
      remaining_(shape_->limit) {}

FindStream::FindStream(StreamPtr upstream, std::shared_ptr<const Shape> shape)
    : upstream_(std::move(upstream)), shape_(std::move(shape)), to_skip_(shape_->skip), remaining_(shape_->limit) {}

Result<std::optional<Document>> FindStream::NextMatch() {
  if (upstream_) return upstream_->Next();
  // The scan moves past a returned document only when the next one is asked
  // for: a reader that stops (a limit) reads nothing beyond what it took.
  if (advance_pending_) {
    scan_->Next();
    advance_pending_ = false;
  }
  const bool all_match = scan_->returns_only_matches();
  while (scan_->Valid()) {
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    rocksdb::Slice v = scan_->value();
    Result<bool> match = true;
    if (!all_match) match = shape_->filter.Evaluate(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    if (!match.ok()) return match.status();
    if (*match) {
      advance_pending_ = true;
      return std::optional<Document>(Document::FromTrustedBytes(v.ToString()));
    }
    scan_->Next();
  }
  DOCKET_RETURN_IF_ERROR(scan_->status());
  return std::optional<Document>();
}

Result<std::optional<Document>> FindStream::Next() {
  while (remaining_ != 0) {
    auto next = NextMatch();
    if (!next.ok()) return next.status();
    if (!*next) break;
    if (to_skip_ > 0) {
      --to_skip_;
      continue;
    }
    if (remaining_ > 0) --remaining_;
    if (shape_->projection.empty()) return next;
    auto projected = shape_->projection.ApplyMatched(**next, shape_->filter);
    if (!projected.ok()) return projected.status();
    return std::optional<Document>(std::move(projected).value());
  }
  scan_.reset();  // release the snapshot early
  upstream_.reset();
  return std::optional<Document>();
}

}  // namespace engine

Cursor::Cursor(std::unique_ptr<CursorImpl> impl) : impl_(std::move(impl)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

Result<std::vector<Document>> Cursor::NextBatch(size_t max_documents) { return impl_->NextBatch(max_documents); }

Result<std::vector<Document>> Cursor::ToVector() {
  std::vector<Document> all;
  while (!impl_->exhausted()) {
    auto batch = impl_->NextBatch(0);
    if (!batch.ok()) return batch.status();
    for (Document& d : *batch) all.push_back(std::move(d));
  }
  return all;
}

bool Cursor::exhausted() const { return impl_->exhausted(); }
bool Cursor::tailable() const { return impl_->tailable(); }
std::optional<Document> Cursor::post_batch_resume_token() const { return impl_->resume_token(); }

bool Cursor::AwaitData(std::chrono::milliseconds max_wait, const std::function<bool()>& cancelled) {
  return impl_->AwaitData(std::chrono::steady_clock::now() + max_wait, cancelled);
}

}  // namespace docket
