// A tailable cursor's documents (MongoDB's tailable find on a capped
// collection): the collection in natural order, then, each time the reader
// asks again, what was inserted since. The stream remembers the sequence
// number of the last record it examined; at the end of what is there it
// answers "nothing more for now" and the cursor stays open. Capped writes
// commit in sequence order (engine/capped.h), so a document that commits
// later never lands behind the position. The position is lost
// (CappedPositionLost, 136) when the record it is on was removed — by the
// collection's limits or a delete — and the cursor dies with it, as in
// MongoDB; a dropped collection ends it with QueryPlanKilled (175).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "engine/cursor_impl.h"
#include "engine/engine_impl.h"
#include "engine/natural_scan.h"
#include "storage/catalog.h"

namespace docket::engine {

// A tailable find's options as MongoDB checks them: a sort other than
// {$natural: 1} is BadValue. Skip, limit and index hints with tailable are
// refused (NotImplemented) rather than ignored.
Status CheckTailableOptions(const FindOptions& options);

class TailStream : public DocumentStream {
 public:
  // REQUIRES: entry is capped. `after`: the sequence number of a record to
  // start after (0: from the oldest); it must still be there when the
  // stream first reads, else CappedPositionLost.
  TailStream(EngineImpl* engine, storage::EntryPtr entry, std::shared_ptr<const FindStream::Shape> shape,
             uint64_t after = 0);

  Result<std::optional<Document>> Next() override;
  bool tailable() const override { return true; }
  // Waits until a document has been inserted into the collection since the
  // stream last reached the end, `until` passes, or `cancelled` says so
  // (asked at least every kCancelCheck). True when something was inserted.
  bool WaitForInsert(std::chrono::steady_clock::time_point until, const std::function<bool()>& cancelled) override;
  static constexpr std::chrono::milliseconds kCancelCheck{50};

 private:
  Status Reopen();  // a new scan at the latest state, past the position

  EngineImpl* engine_;
  storage::EntryPtr entry_;
  std::shared_ptr<const FindStream::Shape> shape_;
  std::unique_ptr<NaturalScan> scan_;  // null between reaching the end and the next Next()
  bool advance_pending_ = false;       // the scan is still on the document returned last
  uint64_t position_ = 0;              // the last record examined; 0: none yet
  uint64_t inserts_seen_ = 0;          // CappedWriters::inserts when the scan was opened
};

}  // namespace docket::engine
