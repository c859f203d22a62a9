// Planned reads: the scan a filter (and sort) should use on a collection —
// an index range when the planner finds one, every record otherwise.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/read_views.h"
#include "engine/write_path.h"
#include "index/planner.h"
#include "storage/catalog.h"

namespace docket::engine {

// Reads the records an index's key ranges point at, in index order (or
// reverse), each document once even when several keys point at it. Holds a
// snapshot so that the index entries and the records agree. Records are
// fetched in batches with one MultiGet each; batches start at one record
// (a point lookup pays for no more) and grow fourfold up to 256. A plan of
// point keys (a unique index fixed on every field) reads its entries with
// MultiGet too, batch by batch, and opens no iterator.
class IndexScan : public DocumentScan {
 public:
  // Reads at `view` (taken over; handed back to the engine's ReadViewPool
  // by the destructor) or, with a user transaction (and an empty view), at
  // the transaction's snapshot plus its writes. `expected`: how many
  // documents the reader will take at most (a limit), 0 when unknown; the
  // first batch is that big. Without `fetch_records` the scan reads index
  // entries only: key() is each document's record key, value() is empty,
  // and a document is returned once per entry (for counting an exact,
  // hence non-multikey, plan).
  IndexScan(EngineImpl* engine, rocksdb::Transaction* user_txn, ReadViewPool::View view, uint64_t collection_id,
            const index::Plan& plan, size_t expected = 0, bool fetch_records = true);
  ~IndexScan() override;
  IndexScan(const IndexScan&) = delete;
  IndexScan& operator=(const IndexScan&) = delete;

  bool Valid() const override { return next_ < keys_.size(); }
  void Next() override;
  rocksdb::Slice key() const override { return keys_[next_]; }
  rocksdb::Slice value() const override;
  Status status() const override { return status_; }
  int64_t keys_examined() const override { return keys_examined_; }
  int64_t docs_examined() const override { return docs_examined_; }
  bool returns_only_matches() const override { return plan_.exact; }

 private:
  void FillBatch();            // the next batch of records, or an empty one at the end
  void CollectRangeEntries();  // keys_: the record keys of the next entries of the ranges
  void CollectPointEntries();  // keys_: those of the next point keys' entries
  void AddRecordKey(rocksdb::Slice id);
  void FetchRecords();         // values_: the records of keys_ (dropping keys whose record is gone)
  void MultiGet(const std::vector<std::string>& keys, std::vector<rocksdb::PinnableSlice>* values,
                std::vector<rocksdb::Status>* statuses);
  bool PositionInRange();      // the iterator on an entry of the current range, moving ranges as needed
  void StepIterator();
  void EnsureIterator();       // it_: the view's iterator, made on first use
  // The range cache (in the point cache, outside transactions, forward scans
  // only): a range read to its end with at most kListedMax entries is cached
  // as the list of its entries' values, guarded by the index's prefix (every
  // write of an entry of the index hides the index's cached ranges).
  static constexpr size_t kListedMax = 32;
  bool ServeRangeFromCache();  // adds the current range's record keys when the cache has them
  void ListEntry(rocksdb::Slice value);  // one more entry of the range being read
  void CacheListedRange();     // the range being read ended: cache its list if complete
  // Lists are looked up ahead of the scan, a batch of ranges at a time (one
  // LookupBatch of the point cache, overlapping their memory misses).
  static constexpr size_t kListsAhead = 64;
  void LookUpListsAhead();     // ahead_*: the lists of the ranges from range_ on

  EngineImpl* engine_;
  rocksdb::Transaction* user_txn_;
  // Outside a transaction: the snapshot read at, back to the pool when done.
  // Its iterator (a transaction's, in a view without snapshot, inside one)
  // is null for a plan of point keys.
  ReadViewPool::View view_;
  rocksdb::ReadOptions read_options_;
  rocksdb::Iterator* it_ = nullptr;  // view_.iterator, which owns it
  std::string prefix_;         // IndexPrefix(index id)
  std::string record_prefix_;  // RecordPrefix(collection id)
  index::Plan plan_;
  size_t range_ = 0;           // the range being read (counting from the scan's start)
  size_t point_ = 0;           // the next point key to look up (counting from the scan's start)
  bool started_range_ = false;
  bool range_keys_ready_ = false;  // range_start_/range_end_ hold the current range's keys
  std::string range_start_, range_end_;
  storage::PointCache* range_cache_ = nullptr;  // null: ranges are not cached by this scan
  bool listing_ = false;   // the current range's entries are being listed for the cache
  std::string listed_;     // their values, each as [u32 size][bytes]
  size_t listed_count_ = 0;
  size_t ahead_begin_ = 0;              // the first range looked up ahead
  std::vector<std::string> ahead_lists_;  // the lists of ranges ahead_begin_ on
  bool ahead_found_[kListsAhead] = {};    // whether each was cached
  std::vector<std::string> keys_;               // the batch's record keys
  std::vector<rocksdb::PinnableSlice> values_;  // and records
  size_t next_ = 0;                             // position in the batch
  size_t batch_limit_ = 1;
  bool fetch_records_ = true;
  std::unordered_set<std::string> seen_;  // record keys already returned (multikey indexes only)
  Status status_;
  int64_t keys_examined_ = 0;
  int64_t docs_examined_ = 0;
};

// What was planned, for explain.
struct PlanSummary {
  std::string index_name;  // empty: collection scan
  Document key_pattern;
  Document bounds;
  bool provides_sort = false;
  bool reverse = false;
  bool exact = false;  // the scan returns matches only (index::Plan::exact)
  // A $text plan: the text index's entries of the query's terms; `bounds`
  // then holds {indexPrefix, parsedTextQuery, textIndexVersion}.
  bool text = false;
  // A $near plan: its 2dsphere index's cells, nearest first (explain's
  // GEO_NEAR_2DSPHERE).
  bool geo_near = false;
  bool entries_only = false;  // it reads index entries only: its values are empty (see OpenScan)
  // The index's kind, as MongoDB's IXSCAN stage reports it.
  bool multikey = false, unique = false, sparse = false, partial = false;
};

// A hint (IndexHint) checked against a collection's indexes.
struct ResolvedHint {
  bool present = false;                        // false: the planner chooses
  // Null when present: the _id index (the records in _id order) or, with
  // `natural`, a collection scan.
  std::shared_ptr<const index::Index> index;
  int natural = 0;  // a {$natural: n} hint: 1 (n >= 0, insertion order) or -1 (newest first)
  // min()/max(): only these keys of `index` (ResolveMinMax); the filter
  // still applies, and the read gives no order beyond the index's.
  std::optional<index::KeyRange> range;
};

// Narrows a hint to MongoDB's min()/max() bounds (either may be empty).
// Errors: Location51173 (no hint), 51174 (fields not the index's, or a
// collatable bound on an index of another collation), 51175 (min not
// before max); BadValue for the _id index and $natural.
Status ResolveMinMax(const Document& min, const Document& max, const text::Collator* collation, ResolvedHint* hint);

// Errors: BadValue when no index has the name or key pattern, or when it is
// a partial index whose expression `filter` does not imply (it would leave
// out matches), or a $natural hint with other fields. REQUIRES:
// entry.lifecycle held (shared).
Result<ResolvedHint> ResolveHint(const storage::CollectionEntry& entry, const IndexHint& hint, const Document& filter);

// MongoDB's handling of a {$natural: n} sort: it is a $natural hint of the
// same value, and no sort. Rewrites *sort and *hint so; leaves any other
// sort alone. Errors (BadValue, MongoDB's messages): $natural with other
// sort fields, with an index hint, or with a $natural hint of another value.
Status RewriteNaturalSort(Document* sort, IndexHint* hint);

// mongod's planSummary text of a stage over an index: "IXSCAN { a: 1, b: -1 }".
std::string PlanSummaryText(std::string_view stage, const Document& key_pattern);

// Whether Engine::SetNoTableScan forbids `entry` a collection scan for
// `filter`: it is on, and neither mongod's exemptions (an empty filter,
// the database "local", a collection named system.*) apply.
bool NoTableScanApplies(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& filter);

// Plans the read of `filter` (ordered by `sort`, which may be empty) on the
// collection and opens the scan; with a `hint`, on the index it names. `describe` fills the summary's bounds (for
// explain). `limit_hint` is the reader's skip+limit when it reads the scan's
// order directly (0: none). With `entries_if_exact`, an exact plan reads
// index entries only (a reader that only counts its documents); the
// summary's entries_only says so. Errors: NoQueryExecutionPlans when the
// plan is a collection scan and Engine::SetNoTableScan forbids one.
// `collation`: the operation's (null: simple); only indexes of the same
// collation bound or order the read (a hinted index of another collation
// is read whole). REQUIRES: entry.lifecycle held (shared).
Result<std::unique_ptr<DocumentScan>> OpenScan(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                       const storage::CollectionEntry& entry, const Document& filter,
                                       const Document& sort, PlanSummary* summary, bool describe = false,
                                       size_t limit_hint = 0, bool entries_if_exact = false,
                                       const ResolvedHint& hint = {}, const text::Collator* collation = nullptr);

// What OpenScan would plan, without opening the scan (explain's
// queryPlanner: nothing is read). Errors as OpenScan's. REQUIRES:
// entry.lifecycle held (shared).
Status DescribePlan(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& filter,
                    const Document& sort, const ResolvedHint& hint, PlanSummary* summary,
                    const text::Collator* collation = nullptr);

// The number of documents matching `filter`, counted from index entries
// alone (MongoDB's COUNT_SCAN: no record is read) when the plan is exact
// (index::Plan::exact); nullopt otherwise, and the caller counts a scan's
// matches. REQUIRES: entry.lifecycle held (shared).
Result<std::optional<int64_t>> CountExactMatches(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                                 const storage::CollectionEntry& entry, const Document& filter,
                                                 const ResolvedHint& hint = {},
                                                 const text::Collator* collation = nullptr);

}  // namespace docket::engine
