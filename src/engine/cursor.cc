#include "engine/cursor_impl.h"

namespace docket {

namespace {
// MongoDB caps a reply batch at 16 MiB of documents.
constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024;
}  // namespace

Result<std::vector<Document>> CursorImpl::NextBatch(size_t max_documents) {
  if (max_documents == 0) max_documents = batch_size == 0 ? 101 : batch_size;
  std::vector<Document> batch;
  size_t bytes = 0;
  if (exhausted) return batch;
  if (!scan) {
    while (!materialised.empty() && batch.size() < max_documents && bytes < kMaxBatchBytes) {
      bytes += materialised.front().size();
      batch.push_back(std::move(materialised.front()));
      materialised.pop_front();
    }
    if (materialised.empty()) exhausted = true;
    return batch;
  }
  while (batch.size() < max_documents && bytes < kMaxBatchBytes) {
    if (remaining == 0 || !scan->Valid()) {
      Status s = scan->status();
      exhausted = true;
      scan.reset();
      if (!s.ok()) return s;
      break;
    }
    rocksdb::Slice v = scan->value();
    bool match = filter.Matches(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    if (match && to_skip > 0) {
      --to_skip;
      match = false;
    }
    if (match) {
      auto doc = projection.ApplyMatched(Document::FromTrustedBytes(v.ToString()), filter);
      if (!doc.ok()) return doc.status();
      bytes += doc->size();
      batch.push_back(std::move(doc).value());
      if (remaining > 0) --remaining;
    }
    scan->Next();
  }
  if (remaining == 0 && scan) {
    exhausted = true;
    scan.reset();
  }
  return batch;
}

Cursor::Cursor(std::unique_ptr<CursorImpl> impl) : impl_(std::move(impl)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

Result<std::vector<Document>> Cursor::NextBatch(size_t max_documents) { return impl_->NextBatch(max_documents); }

Result<std::vector<Document>> Cursor::ToVector() {
  std::vector<Document> all;
  while (!impl_->exhausted) {
    auto batch = impl_->NextBatch(0);
    if (!batch.ok()) return batch.status();
    for (Document& d : *batch) all.push_back(std::move(d));
  }
  return all;
}

bool Cursor::exhausted() const { return impl_->exhausted; }

}  // namespace docket
