// A collection scan in natural (insertion) order: the collection's
// natural-order entries (storage/keys.h, 0x06), in sequence order or its
// reverse, and the records they name, fetched in batches with one MultiGet
// each. What MongoDB's COLLSCAN returns: documents in the order they were
// inserted (an update keeps a document's place), `$natural: -1` backwards.
#pragma once

#include <string>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/read_views.h"
#include "engine/write_path.h"

namespace docket::engine {

class NaturalScan : public DocumentScan {
 public:
  // Reads at `view`'s snapshot (taken over; back to the engine's pool when
  // done) or, in a user transaction (and an empty view), at its snapshot
  // plus its own writes. `backward`: newest first. `expected`: how many
  // documents the reader takes at most (0: unknown); the first batch is no
  // bigger. A user transaction must outlive the scan.
  // `after`: forward scans start past this sequence number (a tailable
  // cursor's position; 0: from the start).
  NaturalScan(EngineImpl* engine, rocksdb::Transaction* user_txn, ReadViewPool::View view, uint64_t collection_id,
              bool backward, size_t expected = 0, uint64_t after = 0);
  ~NaturalScan() override;
  NaturalScan(const NaturalScan&) = delete;
  NaturalScan& operator=(const NaturalScan&) = delete;

  bool Valid() const override { return next_ < keys_.size(); }
  void Next() override;
  rocksdb::Slice key() const override { return keys_[next_]; }
  rocksdb::Slice value() const override;
  uint64_t sequence() const { return sequences_[next_]; }  // the current record's sequence number
  Status status() const override { return status_; }
  int64_t docs_examined() const override { return docs_examined_; }

 private:
  static constexpr size_t kFirstBatch = 16, kMaxBatch = 256;
  void FillBatch();  // the next batch of records; empty at the end or on an error
  bool InRange() const;

  EngineImpl* engine_;
  rocksdb::Transaction* user_txn_;
  ReadViewPool::View view_;
  rocksdb::ReadOptions read_options_;
  rocksdb::Iterator* it_ = nullptr;  // view_.iterator
  std::string lower_, upper_;        // the collection's natural-order range [lower_, upper_)
  std::string record_prefix_;
  bool backward_;
  size_t batch_limit_;
  std::vector<std::string> keys_;               // the batch's record keys
  std::vector<uint64_t> sequences_;             // and sequence numbers
  std::vector<rocksdb::PinnableSlice> values_;  // and stored records
  size_t next_ = 0;
  Status status_;
  int64_t docs_examined_ = 0;
};

}  // namespace docket::engine
