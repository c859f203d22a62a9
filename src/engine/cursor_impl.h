// The state behind a Cursor: a DocumentStream (a find's filtered scan, a
// sorter's output, an aggregation pipeline) read in batches, with one
// document of lookahead so that a batch knows whether it is the last.
#pragma once

#include <memory>
#include <optional>

#include "engine/engine_impl.h"
#include "engine/stream.h"
#include "engine/write_path.h"
#include "query/filter.h"
#include "query/projection.h"

namespace docket {

class CursorImpl {
 public:
  CursorImpl(StreamPtr stream, size_t batch_size) : stream_(std::move(stream)), batch_size_(batch_size) {}

  Result<std::vector<Document>> NextBatch(size_t max_documents);
  bool exhausted() const { return exhausted_; }
  bool tailable() const { return stream_ != nullptr && stream_->tailable(); }
  bool AwaitData(std::chrono::steady_clock::time_point until, const std::function<bool()>& cancelled) {
    return tailable() && stream_->WaitForInsert(until, cancelled);
  }
  // A tailable stream reads no further than the batch it returns, so its
  // resume token is that of the batch's end; kept when the stream ends.
  std::optional<Document> resume_token() const { return stream_ != nullptr ? stream_->resume_token() : last_token_; }
  void KeepResumeToken() {
    if (stream_ != nullptr) last_token_ = stream_->resume_token();
  }

 private:
  StreamPtr stream_;
  size_t batch_size_;
  std::optional<Document> pending_;  // read ahead, not yet returned
  std::optional<Document> last_token_;  // resume_token() once the stream is gone
  bool exhausted_ = false;
};

namespace engine {

// A find's results: documents from a scan that match the filter, or from an
// upstream stream that already did (a sorter's output); then skip, limit and
// projection.
class FindStream : public DocumentStream {
 public:
  struct Shape {
    query::Filter filter;          // applied to scanned documents; the projection's positional source
    query::Projection projection;
    int64_t skip = 0;
    int64_t limit = -1;            // -1: none
  };
  // Reads `scan`, matching each document against the filter (unless the
  // scan returns only matches).
  FindStream(std::unique_ptr<DocumentScan> scan, storage::EntryPtr entry, std::shared_ptr<const Shape> shape);
  // Reads `upstream`, whose documents already match.
  FindStream(StreamPtr upstream, std::shared_ptr<const Shape> shape);

  Result<std::optional<Document>> Next() override;

 private:
  Result<std::optional<Document>> NextMatch();

  std::unique_ptr<DocumentScan> scan_;
  storage::EntryPtr entry_;  // keeps the collection id alive while scanning
  StreamPtr upstream_;
  std::shared_ptr<const Shape> shape_;
  int64_t to_skip_;
  int64_t remaining_;
  bool advance_pending_ = false;  // the scan is still on the document returned last
};

}  // namespace engine
}  // namespace docket
