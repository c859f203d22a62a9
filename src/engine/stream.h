// DocumentStream: the pull interface every read is built from — a find's
// filtered scan, a sorter's output, each stage of an aggregation pipeline.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include "docket/document.h"
#include "docket/status.h"

namespace docket {

// Not thread-safe: one thread pulls from a stream at a time.
class DocumentStream {
 public:
  virtual ~DocumentStream() = default;
  // The next document, or nullopt at the end. After the end (or an error)
  // a stream keeps answering the same — except a tailable one.
  virtual Result<std::optional<Document>> Next() = 0;
  // A tailable stream's end means "nothing more for now": asked again, it
  // may have more (engine/tail_stream.h).
  virtual bool tailable() const { return false; }
  // A tailable stream: waits until there may be more, `until` passes or
  // `cancelled` says so; true when there may be more. Others: false at once.
  virtual bool WaitForInsert(std::chrono::steady_clock::time_point until, const std::function<bool()>& cancelled) {
    (void)until;
    (void)cancelled;
    return false;
  }
  // A change stream's postBatchResumeToken: where a stream resumed from it
  // would go on (engine/resume_token.h). Others: none.
  virtual std::optional<Document> resume_token() const { return std::nullopt; }
};

using StreamPtr = std::unique_ptr<DocumentStream>;

// Documents already in hand, in order.
class VectorStream : public DocumentStream {
 public:
  explicit VectorStream(std::deque<Document> docs) : docs_(std::move(docs)) {}
  Result<std::optional<Document>> Next() override {
    if (docs_.empty()) return std::optional<Document>();
    Document d = std::move(docs_.front());
    docs_.pop_front();
    return std::optional<Document>(std::move(d));
  }

 private:
  std::deque<Document> docs_;
};

// A stream that failed: answers its error.
class ErrorStream : public DocumentStream {
 public:
  explicit ErrorStream(Status status) : status_(std::move(status)) {}
  Result<std::optional<Document>> Next() override { return status_; }

 private:
  Status status_;
};

}  // namespace docket
