// The embedded engine: open a database directory (or pure memory) and run
// MongoDB-style operations on it from any number of threads.
//
//   auto engine = docket::Engine::Open({.path = "/var/lib/app"});
//   docket::Collection users = (*engine)->collection("app", "users");
//   users.InsertOne(*docket::Document::FromJson(R"({"name": "ada"})"));
//
// Every single-document write is atomic. Multi-document work goes through a
// Transaction (see WithTransaction).
#pragma once

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docket/cluster_clock.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket {

class EngineImpl;
class CursorImpl;
class TransactionImpl;
class Transaction;

struct EngineOptions {
  // Directory holding the database; created if missing. Ignored in memory.
  std::string path;
  // No files at all: RocksDB runs on an in-memory Env. Same code path.
  bool in_memory = false;
  // How often a background thread deletes documents that TTL indexes
  // (expireAfterSeconds) say have expired; 0 turns it off. MongoDB: 60.
  int ttl_monitor_seconds = 60;
  // Memory one blocking operation (a sort no index gives, a $group) may use
  // before it spills to temporary storage. MongoDB: 100 MB.
  size_t query_memory_limit_bytes = 100 << 20;
  // The cache of table blocks (uncompressed) that reads are served from; it
  // grows as reads need it, up to this. In memory mode the data itself is
  // already in memory and the cache only saves decoding.
  size_t cache_size_bytes = 256 << 20;
  // A cache (0: none) for point reads outside transactions: records fetched
  // by key (find by _id, the records an index scan points at), the entries
  // of a unique index that a filter fixes on every field, and short index
  // ranges (an equality's entries on a plain index). Every entry is checked
  // against the commits since it was read, so reads stay exact. It pays off
  // when what is read again and again fits in it; over more than it holds,
  // each miss costs an insert and an eviction, and writes to an index hide
  // its cached ranges. Separate from, and in addition to, cache_size_bytes.
  size_t row_cache_bytes = 0;
  // How long a single-document write outside a transaction waits for a
  // document another transaction holds (it wakes the moment that transaction
  // commits or aborts) before failing with WriteConflict. A server that
  // aborts abandoned transactions after N seconds sets this above N, so that
  // a write blocked by one waits for it to be aborted and then succeeds, as
  // MongoDB's does.
  int write_wait_seconds = 75;
  // MongoDB's notablescan (Engine::SetNoTableScan).
  bool no_table_scan = false;
  // Above 0: keep an oplog (MongoDB's local.oplog.rs, engine/oplog.h), a
  // capped collection of at most this many bytes into which every change to
  // a document outside the local database is written in the same commit as
  // the change, stamped with the cluster time (cluster_clock()). A database
  // opened with an oplog keeps the one it has, whatever its size.
  int64_t oplog_size_bytes = 0;
};

// Write concern. `journal` (j:true) syncs the write-ahead log before the call
// returns; concurrent committers share one fsync (group commit). With
// journal=false a write survives a killed process (it is in the OS page cache
// before the call returns) but not a power failure.
struct WriteConcern {
  bool journal = false;
};

// Options common to every write. `transaction`, when set, runs the write in it:
// its effects become visible and durable only when the transaction commits,
// and `write_concern` is then the transaction's own.
struct WriteOptions {
  WriteConcern write_concern;
  Transaction* transaction = nullptr;
  // For servers that must not hold a thread while a write waits: instead of
  // waiting for a document another writer or a transaction holds, a
  // single-document update, replace, delete or findAndModify outside a
  // transaction returns ErrorCode::kWouldBlock before writing anything, and
  // Engine::WhenWorthRetrying says when to run it again. Ignored by inserts,
  // by the *Many operations and inside transactions.
  bool may_park = false;
  // MongoDB's bypassDocumentValidation: the collection's validator is not
  // applied to this write (CollectionOptions::validator).
  bool bypass_document_validation = false;
};

struct ReadOptions {
  Transaction* transaction = nullptr;
};

struct WriteError {
  size_t index = 0;  // position in the request's list of documents
  Status status;
};

struct InsertOneResult {
  Document inserted_id;  // {_id: <value>}
};

struct InsertManyOptions {
  bool ordered = true;  // stop at the first error; unordered goes on and reports all
  WriteOptions write;
};

struct InsertManyResult {
  size_t inserted_count = 0;
  std::vector<Document> inserted_ids;  // {_id: <value>} each, in request order
  std::vector<WriteError> write_errors;
};

// The index a query must use (MongoDB's hint): by name ("a_1") or by key
// pattern ({a: 1}). "_id_" / {_id: 1} is the _id index: the collection in _id
// order. An index that does not exist, or a partial index whose expression
// the filter does not imply, is BadValue (2). Default: the planner chooses.
// What the engine reports as it works, for a log in mongod's structured
// format (its severity, component, message id, context and attributes).
struct LogEvent {
  char severity = 'I';  // 'I' information, 'W' warning
  std::string component;
  int64_t id = 0;        // mongod's id for the same message
  std::string context;   // mongod's `ctx`: the thread or task
  std::string message;
  std::string attr_json;  // the attributes as a JSON object; empty: none
};

// How much an explain tells (MongoDB's verbosity modes).
enum class ExplainVerbosity { kQueryPlanner, kExecutionStats, kAllPlansExecution };

// One index's use, as $indexStats reports it.
struct IndexUsage {
  std::string name;
  Document key;   // the key pattern
  Document spec;  // as listIndexes shows it
  int64_t ops = 0;       // operations that read the index since `since_ms`
  int64_t since_ms = 0;  // when counting began (ms since the Unix epoch): its creation or the engine's opening
  bool building = false;  // being built while writers run: not used by reads yet
};

// $collStats' queryExecStats.
struct QueryExecStats {
  int64_t collection_scans = 0;               // scans of the whole collection operations ran (explain excluded)
  int64_t non_tailable_collection_scans = 0;  // of which not for a tailable cursor
};

struct IndexHint {
  std::string name;
  Document key_pattern;
  bool empty() const { return name.empty() && key_pattern.empty(); }
};

// collMod's changes to one index (MongoDB 6.0): a TTL's expireAfterSeconds
// (a single-field index that is not TTL becomes one), and `hidden` (a hidden
// index is maintained and enforced but never planned or hinted).
// `prepare_unique` makes writes refuse keys another document has while
// existing duplicates stay; `unique` (only true, after prepare_unique)
// converts the index when no duplicates are left, else fails with
// CannotConvertIndexToUnique (359) listing them ({violations: [{ids}]}).
struct IndexModification {
  std::optional<double> expire_after_seconds;
  std::optional<bool> hidden;
  std::optional<bool> prepare_unique;
  std::optional<bool> unique;
};
// The values before and after, for collMod's reply; set for what was changed.
struct IndexModificationResult {
  std::optional<double> expire_after_seconds_old, expire_after_seconds_new;
  std::optional<bool> hidden_old, hidden_new;
  std::optional<bool> prepare_unique_old, prepare_unique_new;
  std::optional<bool> unique_new;
};

struct FindOptions {
  Document projection;  // {} = whole documents
  Document sort;        // {} = natural (record key, i.e. _id) order
  int64_t skip = 0;
  int64_t limit = 0;    // 0 = no limit
  int32_t batch_size = 101;
  // A tailable cursor on a capped collection (MongoDB's tailable find): it
  // stays open at the end, and later batches return what was inserted since
  // (Cursor::AwaitData waits for it). The sort must be empty or
  // {$natural: 1}. Errors (BadValue): a collection that is not capped, another
  // sort, and MongoDB's other refusals.
  bool tailable = false;
  // A sort that no index gives holds at most EngineOptions::
  // query_memory_limit_bytes of documents in memory, then spills to
  // temporary storage; false fails it instead with
  // QueryExceededMemoryLimitNoDiskUseAllowed (292). MongoDB 6.0's default
  // (allowDiskUseByDefault) is true.
  bool allow_disk_use = true;
  // Variables for the filter's $expr, as the command's `let`:
  // {cutoff: <expression of constants>}, read as $$cutoff.
  Document let;
  IndexHint hint;
  ReadOptions read;
  // How strings compare (MongoDB's `collation`: {locale: "fr", strength: 2,
  // ...}); {} takes the collection's default collation. Errors: the
  // collation's (BadValue, FailedToParse, ...).
  Document collation;
  // MongoDB's min()/max(): the read covers the hinted index's keys from
  // `min` (inclusive) to `max` (exclusive), each a document with exactly the
  // index's fields in order ({a: 1, b: "x"} for {a: 1, b: -1}). The hint is
  // required (Location51173); fields that do not match, or a string bound on
  // an index of another collation, are Location51174; min not before max is
  // Location51175. Not with the _id index or $natural (BadValue).
  Document min;
  Document max;
};

struct CountOptions {
  int64_t skip = 0;
  int64_t limit = 0;
  IndexHint hint;
  ReadOptions read;
  // How strings compare (MongoDB's `collation`: {locale: "fr", strength: 2,
  // ...}); {} takes the collection's default collation. Errors: the
  // collation's (BadValue, FailedToParse, ...).
  Document collation;
};

struct UpdateOptions {
  bool upsert = false;
  // Conditions for the `$[<identifier>]` elements of update paths, e.g.
  // {"x.grade": {$gte: 85}} for "grades.$[x].passed".
  std::vector<Document> array_filters;
  Document let;  // variables for the filter's $expr (as FindOptions::let)
  IndexHint hint;
  WriteOptions write;
  // How strings compare (MongoDB's `collation`: {locale: "fr", strength: 2,
  // ...}); {} takes the collection's default collation. Errors: the
  // collation's (BadValue, FailedToParse, ...).
  Document collation;
};

// An update given as an aggregation pipeline (MongoDB 4.2+): $set /
// $addFields, $unset, $project, $replaceRoot / $replaceWith stages, applied
// in order to the stored document. `let` binds variables the stages read as
// $$name: {name: <expression of constants>}.
struct UpdatePipeline {
  std::vector<Document> stages;
  Document let;
};

struct UpdateResult {
  int64_t matched_count = 0;
  int64_t modified_count = 0;
  std::optional<Document> upserted_id;  // {_id: <value>} when an upsert inserted
};

struct DeleteOptions {
  Document let;  // variables for the filter's $expr (as FindOptions::let)
  IndexHint hint;
  WriteOptions write;
  // How strings compare (MongoDB's `collation`: {locale: "fr", strength: 2,
  // ...}); {} takes the collection's default collation. Errors: the
  // collation's (BadValue, FailedToParse, ...).
  Document collation;
};

struct DeleteResult {
  int64_t deleted_count = 0;
};

// What createIndexes did, as the command reports it.
struct CreateIndexesResult {
  int num_indexes_before = 0;  // counting _id_
  int num_indexes_after = 0;
  bool created_collection_automatically = false;
  std::vector<std::string> names;  // the names of the requested indexes
};

struct AggregateOptions {
  int32_t batch_size = 101;
  // As FindOptions::allow_disk_use, for $sort, $group and $facet.
  bool allow_disk_use = true;
  // Variables for the pipeline: {name: <expression of constants>}, read as
  // $$name.
  Document let;
  IndexHint hint;  // for the pipeline's leading $match and $sort
  ReadOptions read;
  // For the writes of $out and $merge.
  WriteConcern write_concern;
  bool bypass_document_validation = false;  // WriteOptions'
  // How strings compare (MongoDB's `collation`: {locale: "fr", strength: 2,
  // ...}); {} takes the collection's default collation. Errors: the
  // collation's (BadValue, FailedToParse, ...).
  Document collation;
};

// A collection's figures, measured (collStats, dbStats, listDatabases).
struct IndexSize {
  std::string name;
  int64_t bytes = 0;
};
struct CollectionStats {
  int64_t count = 0;         // documents, counted
  int64_t data_size = 0;     // the sum of their BSON sizes
  // What the records take in storage: RocksDB's estimate for the
  // collection's key range (compressed table files plus memtables).
  int64_t storage_size = 0;
  // _id_ first: the bytes of the record keys, which are the _id index (a
  // document's record is found by its _id key); then each secondary index,
  // RocksDB's estimate for its key range.
  std::vector<IndexSize> indexes;
  int64_t total_index_size = 0;
  bool capped = false;
  int64_t max_size = 0;  // a capped collection's limits (CollectionOptions, normalised)
  int64_t max = 0;
};

// What validate found: every record read back, and every secondary index
// checked against the records in both directions (each key a document
// should have is there and points at it; each entry belongs to a document).
struct ValidateResult {
  int64_t records = 0;
  int64_t invalid_documents = 0;  // not readable BSON, or no _id, or stored under another key
  std::vector<std::pair<std::string, int64_t>> keys_per_index;  // _id_ first
  std::vector<std::string> invalid_indexes;                     // names of indexes with an error
  int64_t missing_index_entries = 0;
  int64_t extra_index_entries = 0;
  std::vector<std::string> errors;    // at most kMaxErrors, then a count
  std::vector<std::string> warnings;
  bool valid() const { return errors.empty(); }
  static constexpr size_t kMaxErrors = 100;
};

enum class ReturnDocument { kBefore, kAfter };

struct FindAndModifyOptions {
  Document sort;        // which document, when the filter matches several
  Document projection;  // applied to the returned document
  bool upsert = false;  // ignored by FindOneAndDelete
  ReturnDocument return_document = ReturnDocument::kBefore;
  std::vector<Document> array_filters;  // as in UpdateOptions
  // Variables for the filter's $expr (as FindOptions::let). A pipeline
  // update reads its own UpdatePipeline::let.
  Document let;
  IndexHint hint;
  WriteOptions write;
  // How strings compare (MongoDB's `collation`: {locale: "fr", strength: 2,
  // ...}); {} takes the collection's default collation. Errors: the
  // collation's (BadValue, FailedToParse, ...).
  Document collation;
};

// What findAndModify did, for callers that report it (the wire command's
// lastErrorObject): the document, and whether one matched or was upserted.
struct FindAndModifyResult {
  std::optional<Document> value;        // before or after (per options), projected
  bool matched = false;                 // an existing document matched
  std::optional<Document> upserted_id;  // {_id: <value>} when an upsert inserted
};

// Streams the results of a find or an aggregation in batches; holds one batch
// (plus what a sort or $group keeps within its memory budget) in memory.
// Not thread-safe: one thread uses a cursor at a time. The Engine must outlive it.
class Cursor {
 public:
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  ~Cursor();

  // Up to `max_documents` more results (0 = the batch size the find asked for).
  // An empty batch means the cursor is exhausted — unless it is tailable.
  Result<std::vector<Document>> NextBatch(size_t max_documents = 0);
  // Every remaining result. Convenient in tests; loads them all. REQUIRES:
  // not tailable (it would never end).
  Result<std::vector<Document>> ToVector();
  // A tailable cursor (FindOptions::tailable) is never exhausted by reaching
  // the end: its next NextBatch returns what was inserted since. It ends on
  // an error (its position removed: CappedPositionLost; its collection
  // dropped: QueryPlanKilled).
  bool exhausted() const;
  bool tailable() const;
  // A tailable cursor: waits until a document has been inserted into its
  // collection since it last reached the end, `max_wait` passes, or
  // `cancelled` (asked at least every 50 ms) returns true; true when there
  // may be more. Wakes the moment an insert commits. Other cursors: false.
  bool AwaitData(std::chrono::milliseconds max_wait, const std::function<bool()>& cancelled = {});
  // A change stream's cursor (an aggregation starting with $changeStream):
  // the token ({_data}) from which a stream resumed would go on right
  // after the last batch — MongoDB's postBatchResumeToken. Others: none.
  std::optional<Document> post_batch_resume_token() const;

 private:
  friend class Collection;
  friend class Engine;
  explicit Cursor(std::unique_ptr<CursorImpl> impl);
  std::unique_ptr<CursorImpl> impl_;
};

// A handle on one collection: a small value (engine pointer + two names).
// Copy it freely, make one per request; nothing rebinds it. Safe for
// concurrent use by any number of threads. The Engine must outlive it.
// Operations on a collection that does not exist behave as on an empty one;
// writes create it implicitly, as MongoDB does.
class Collection {
 public:
  const std::string& database_name() const { return db_; }
  const std::string& name() const { return name_; }
  std::string full_name() const { return db_ + "." + name_; }

  // A missing _id gets a fresh ObjectId; _id is always stored first.
  // Errors: DuplicateKey (11000), BSONObjectTooLarge (10334), BadValue for an
  // array/regex/undefined _id, DollarPrefixedFieldName (52), InvalidNamespace.
  Result<InsertOneResult> InsertOne(const Document& doc, const WriteOptions& options = {});
  // Each document is its own atomic write. Ordered stops at the first error.
  // Result.status() is only non-OK for errors that are not per-document.
  Result<InsertManyResult> InsertMany(const std::vector<Document>& docs,
                                      const InsertManyOptions& options = {});

  Result<Cursor> Find(const Document& filter, const FindOptions& options = {});
  Result<std::optional<Document>> FindOne(const Document& filter, const FindOptions& options = {});
  Result<int64_t> CountDocuments(const Document& filter, const CountOptions& options = {});
  // Number of documents, without a filter. Exact in this version (it counts).
  Result<int64_t> EstimatedDocumentCount();
  // Measured figures: a pass over the records (O(n)) and RocksDB's size
  // estimates. Errors: NamespaceNotFound.
  Result<CollectionStats> Stats();
  // Reads every record and every index entry at one snapshot. Errors:
  // NamespaceNotFound; what validate finds is in the result, not an error.
  Result<ValidateResult> Validate();
  // Distinct values of `field` (dotted; arrays are unwound one level) over the
  // matching documents, in BSON order. Returned as {values: [...]}.
  // `collation`: as FindOptions::collation; values equal under it are
  // one (the first met).
  Result<Document> Distinct(std::string_view field, const Document& filter,
                            const ReadOptions& options = {}, const Document& collation = Document());

  // `update` is either operators ({$set: ...}) or a replacement document.
  Result<UpdateResult> UpdateOne(const Document& filter, const Document& update,
                                 const UpdateOptions& options = {});
  Result<UpdateResult> UpdateMany(const Document& filter, const Document& update,
                                  const UpdateOptions& options = {});
  // The pipeline forms. arrayFilters do not apply to them (FailedToParse).
  Result<UpdateResult> UpdateOne(const Document& filter, const UpdatePipeline& update,
                                 const UpdateOptions& options = {});
  Result<UpdateResult> UpdateMany(const Document& filter, const UpdatePipeline& update,
                                  const UpdateOptions& options = {});
  // REQUIRES: `replacement` has no $-operators (else FailedToParse).
  Result<UpdateResult> ReplaceOne(const Document& filter, const Document& replacement,
                                  const UpdateOptions& options = {});

  Result<DeleteResult> DeleteOne(const Document& filter, const DeleteOptions& options = {});
  Result<DeleteResult> DeleteMany(const Document& filter, const DeleteOptions& options = {});
  Result<DeleteResult> DeleteOne(const Document& filter, const WriteOptions& options);
  Result<DeleteResult> DeleteMany(const Document& filter, const WriteOptions& options);

  // Returns the document before or after the change (per options), or nullopt
  // when nothing matched and no upsert happened. The read, the change and the
  // index updates commit together.
  Result<std::optional<Document>> FindOneAndUpdate(const Document& filter, const Document& update,
                                                   const FindAndModifyOptions& options = {});
  Result<std::optional<Document>> FindOneAndReplace(const Document& filter,
                                                    const Document& replacement,
                                                    const FindAndModifyOptions& options = {});
  Result<std::optional<Document>> FindOneAndDelete(const Document& filter,
                                                   const FindAndModifyOptions& options = {});
  // All three in one: removes when `update` is null, else updates or replaces
  // according to its shape (operators or a plain document).
  Result<FindAndModifyResult> FindAndModify(const Document& filter, const Document* update,
                                            const FindAndModifyOptions& options = {});
  // findAndModify with a pipeline update.
  Result<std::optional<Document>> FindOneAndUpdate(const Document& filter, const UpdatePipeline& update,
                                                   const FindAndModifyOptions& options = {});
  Result<FindAndModifyResult> FindAndModify(const Document& filter, const UpdatePipeline& update,
                                            const FindAndModifyOptions& options);

  // Secondary indexes. A spec is createIndexes' ({key: {a: 1, b: -1}, name,
  // unique, sparse, partialFilterExpression, expireAfterSeconds}); a missing
  // name gets MongoDB's default ("a_1_b_-1"). Creating an index that exists
  // with the same options does nothing. The build blocks this collection's
  // writers while it runs.
  // Inside `txn`, as MongoDB: only on a collection that does not exist (the
  // transaction creates it) or that the transaction created, while it is
  // empty; the indexes commit or vanish with the transaction. Otherwise
  // OperationNotSupportedInTransaction (263), unless the indexes all exist.
  Result<CreateIndexesResult> CreateIndexes(const std::vector<Document>& specs, Transaction* txn = nullptr);
  // Convenience: one index from its key pattern; returns its name.
  Result<std::string> CreateIndex(const Document& keys, bool unique = false);
  // By name; "*" drops every index but _id_.
  Status DropIndex(std::string_view name);
  // By key pattern, as dropIndexes({key: ...}) does.
  Status DropIndexByKey(const Document& key_pattern);
  // The _id_ index first, then the others, as listIndexes shows them.
  Result<std::vector<Document>> ListIndexes();
  // MongoDB's $indexStats: per index (the _id_ index first, then as
  // listIndexes), how many operations read it — a find, count, distinct,
  // aggregation, update, delete or findAndModify that looks documents up in
  // it (explain does not count) — since its creation or the engine's opening
  // (kept in memory only, as mongod's). None for a collection that does not
  // exist. Errors: CommandNotSupportedOnView (166).
  Result<std::vector<IndexUsage>> IndexStats();
  // MongoDB's $collStats queryExecStats: how many operations scanned the
  // whole collection (no index answered them) since the engine opened.
  // Zeros for a collection that does not exist. Errors:
  // CommandNotSupportedOnView (166).
  Result<docket::QueryExecStats> QueryExecStats();
  // MongoDB's reIndex (deprecated there, and for a standalone only): builds
  // every index again from the documents, holding the collection's writers
  // meanwhile; the old entries go only once every new index is complete,
  // so a failure changes nothing. Returns the specs, _id_ first. Errors:
  // NamespaceNotFound, CommandNotSupportedOnView, an index's build errors.
  Result<std::vector<Document>> ReIndex();
  // collMod's `index`: changes the index named by `which` (a name or a key
  // pattern). Errors: NamespaceNotFound, IndexNotFound (27), BadValue for
  // the _id index, InvalidOptions for a TTL on a compound index or nothing
  // to change, CannotCreateIndex for an expireAfterSeconds out of range.
  Result<IndexModificationResult> ModifyIndex(const IndexHint& which, const IndexModification& change);

  // Runs an aggregation pipeline (MongoDB's stages, src/aggregate) over the
  // collection. A leading $match and $sort are planned like a find's filter
  // and sort. $out and $merge write when the cursor is read (the first batch
  // runs them to completion). Errors: the stages' parse errors up front,
  // evaluation errors from the cursor.
  Result<Cursor> Aggregate(const std::vector<Document>& pipeline, const AggregateOptions& options = {});
  // explain of an aggregation, in MongoDB's shape: {explainVersion, stages:
  // [{$cursor: <Explain of the pushed-down $match and $sort>}, <the rest>]}.
  Result<Document> ExplainAggregate(const std::vector<Document>& pipeline, const AggregateOptions& options = {});

  // What Find(filter, options) would do and what it reads, in the shape of
  // MongoDB's explain: {queryPlanner: {winningPlan: IDHACK | COLLSCAN |
  // FETCH>IXSCAN (under SORT when sorted in memory), rejectedPlans: []}},
  // and from kExecutionStats on, having run the query, executionStats:
  // {nReturned, executionTimeMillis, totalKeysExamined, totalDocsExamined,
  // executionStages: the plan with each stage's nReturned and what it
  // examined}; kAllPlansExecution adds allPlansExecution: [] (Docket
  // chooses one plan by rule, it races none: nothing was rejected).
  Result<Document> Explain(const Document& filter, const FindOptions& options = {},
                           ExplainVerbosity verbosity = ExplainVerbosity::kExecutionStats);

 private:
  friend class Engine;
  friend class EngineImpl;
  Collection(EngineImpl* engine, std::string db, std::string name)
      : engine_(engine), db_(std::move(db)), name_(std::move(name)) {}
  // CountDocuments by reading a find's results (no exact index plan; views).
  Result<int64_t> CountThroughFind(const Document& filter, const CountOptions& options);
  EngineImpl* engine_;
  std::string db_;
  std::string name_;
};

// A multi-document transaction with snapshot isolation. Reads see the snapshot
// taken at Begin plus the transaction's own writes; a write to a document that
// another transaction changed since the snapshot fails with WriteConflict (112),
// and the whole transaction should then be retried (WithTransaction does it).
// Not thread-safe: one thread at a time drives a transaction (a server's
// session may hand it from thread to thread between commands). Destroying an uncommitted
// transaction aborts it. A collection created inside a transaction (by a
// write or CreateCollection) is visible to it at once and to others only once
// it commits; Abort removes it. Another transaction creating the same
// collection meanwhile gets WriteConflict; a writer outside transactions
// waits for the creating one to end.
class Transaction {
 public:
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Commit();
  // Commits, journaled if either `write_concern` or the one given at Begin
  // asks for it (a server learns the commit's write concern only at commit).
  Status Commit(const WriteConcern& write_concern);
  void Abort();
  bool active() const;
  // The session the transaction runs for (MongoDB's lsid and txnNumber),
  // which its oplog entry names (EngineOptions::oplog_size_bytes).
  void SetSession(const Document& lsid, int64_t txn_number);

  TransactionImpl* impl() { return impl_.get(); }

 private:
  friend class Engine;
  explicit Transaction(std::unique_ptr<TransactionImpl> impl);
  std::unique_ptr<TransactionImpl> impl_;
};

// MongoDB's create options that Docket has. A capped collection keeps at most
// `size` bytes of documents and, with `max`, at most `max` documents: each
// insert that passes a limit removes the oldest documents (natural order).
// MongoDB 6.0's rules and errors (engine/capped.h): size is required with
// capped and rounded up (to 4096, then to a multiple of 256); max <= 0 is
// no limit. Writes to a capped collection are serialised, and refused inside
// a transaction (OperationNotSupportedInTransaction).
//
// A read-only view (MongoDB's viewOn and pipeline): `view_on` names a
// collection or view of the same database, and reading the view (find,
// count, distinct, aggregate, explain) reads what `pipeline` makes of it.
// Writes, indexes and statistics on a view are CommandNotSupportedOnView
// (166). The pipeline must parse and may not hold $out, $merge or
// $changeStream (OptionNotSupportedOnView, 167); a cycle of views
// (GraphContainsCycle, 5) or a chain of more than 20 (ViewDepthLimitExceeded,
// 165) is refused. Not capped, not inside a transaction.
struct CollectionOptions {
  bool capped = false;
  std::optional<int64_t> size;
  std::optional<int64_t> max;
  std::optional<std::string> view_on;
  std::vector<Document> pipeline;  // with view_on only
  // Document validation (engine/validation.h has the rules): a query filter
  // every inserted and updated document must match ($jsonSchema included);
  // `validation_level` "strict" (default), "moderate" or "off";
  // `validation_action` "error" (default: DocumentValidationFailure, 121,
  // with errInfo) or "warn" (the write proceeds; Engine::SetLogSink hears
  // of it). Errors: BadValue for another level or action, the
  // filter's errors.
  Document validator;
  std::string validation_level = "strict";
  std::string validation_action = "error";
  // The collection's default collation (create's `collation`): its
  // operations and indexes use it unless they name another. Fixed at
  // creation. {} or {locale: "simple"}: binary comparison.
  Document collation;
};

struct CollectionInfo {
  std::string database;
  std::string name;
  bool capped = false;
  int64_t capped_size = 0;  // the normalised limits of a capped collection
  int64_t capped_max = 0;   // 0: no limit on documents
  bool view = false;        // a view: view_on and pipeline are its definition
  std::string view_on;
  std::vector<Document> pipeline;
  bool validated = false;   // validation rules were set: the three below
  Document validator;
  std::string validation_level;
  std::string validation_action;
  std::string uuid;         // 16 bytes (MongoDB's info.uuid); empty for a view
  Document collation;       // the default collation's full form; {} when simple
};

// The database. Open one Engine per directory per process (RocksDB holds a lock
// on the directory). Safe for concurrent use by any number of threads.
class Engine {
 public:
  // Opens (creating if missing) and recovers after a crash with no manual step.
  // Errors: InvalidOptions for a directory of another format version.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();

  Collection collection(std::string_view db, std::string_view name);

  // Explicit creation. Errors: NamespaceExists (48), InvalidNamespace (73).
  // Inside `txn`, the collection exists for the transaction at once and for
  // everyone else when it commits; it is gone if the transaction aborts.
  Status CreateCollection(std::string_view db, std::string_view name, Transaction* txn = nullptr);
  // With options (above). Errors as above; a capped collection cannot be
  // created inside a transaction (OperationNotSupportedInTransaction).
  Status CreateCollection(std::string_view db, std::string_view name, const CollectionOptions& options,
                          Transaction* txn = nullptr);
  // MongoDB's cloneCollectionAsCapped: creates capped collection `to` of
  // `size` bytes and copies `from`'s documents into it in natural order (so
  // that the newest that fit remain); indexes are not copied. Errors:
  // NamespaceNotFound, NamespaceExists, and create's.
  Status CloneCollectionAsCapped(std::string_view db, std::string_view from, std::string_view to, int64_t size);
  // MongoDB's convertToCapped: the collection becomes capped (its newest
  // documents that fit in `size` bytes, in natural order; its secondary
  // indexes go), under the same name. Errors: NamespaceNotFound, and create's.
  Status ConvertToCapped(std::string_view db, std::string_view name, int64_t size);
  // collMod's cappedSize and cappedMax: new limits for a capped collection,
  // applied from its next insert. Size is checked and rounded as create's
  // (BadValue out of range); max <= 0 is no limit. Errors: NamespaceNotFound,
  // InvalidOptions for a collection that is not capped.
  Status SetCappedLimits(std::string_view db, std::string_view name, std::optional<int64_t> size,
                         std::optional<int64_t> max);
  // Removes the collection and all its data. Returns NamespaceNotFound if absent.
  // `indexes_was`, when given, receives how many indexes it had (_id_ included).
  // MongoDB's collMod of a view: a new viewOn, pipeline or both (what is not
  // given stays), checked as create checks a definition. Errors:
  // NamespaceNotFound; InvalidOptions when db.name is a collection; create's
  // view errors.
  Status ModifyView(std::string_view db, std::string_view name, const std::optional<std::string>& view_on,
                    const std::optional<std::vector<Document>>& pipeline);
  bool IsView(std::string_view db, std::string_view name);
  // MongoDB's collMod of validator, validationLevel and validationAction:
  // each given one replaces the collection's (checked as create checks
  // them). Applies to writes that start afterwards. Errors:
  // NamespaceNotFound, CommandNotSupportedOnView, create's validation errors.
  Status SetValidation(std::string_view db, std::string_view name, const std::optional<Document>& validator,
                       const std::optional<std::string>& level, const std::optional<std::string>& action);
  // Where the engine's log events go (a validator with action "warn" that a
  // write fails, an index build's start, progress and end); by default
  // nowhere. Called on the thread doing the work. Set before the engine is
  // shared between threads.
  void SetLogSink(std::function<void(const LogEvent&)> sink);
  // Drops a collection or a view. `indexes_was`: the collection's number of
  // indexes (with _id), -1 for a view.
  Status DropCollection(std::string_view db, std::string_view name, int* indexes_was = nullptr);
  // Removes every collection of the database. OK if it did not exist.
  Status DropDatabase(std::string_view db);
  // Errors: NamespaceNotFound, NamespaceExists (unless drop_target).
  Status RenameCollection(std::string_view from_db, std::string_view from_name,
                          std::string_view to_db, std::string_view to_name,
                          bool drop_target = false);
  // Databases that hold at least one collection, sorted by name.
  std::vector<std::string> ListDatabases();
  // RocksDB's estimate of what the database's collections and indexes take
  // in storage (listDatabases' sizeOnDisk): file metadata, no data read.
  Result<int64_t> DatabaseStorageSize(std::string_view db);
  // The directory the database lives in; empty in memory.
  const std::string& path() const;
  // OK while the storage can write. After a write failed for want of space
  // (OutOfDiskSpace) or another I/O error, every write fails with this error
  // and reads go on; the database can take writes again once it is reopened
  // (close this Engine and open another on the same path) with room on the
  // disk. Nothing acknowledged is lost.
  Status Health() const;
  std::vector<CollectionInfo> ListCollections(std::string_view db);

  // Writes every in-memory table to table files and syncs the WAL, so that
  // reopening replays nothing (MongoDB's `fsync` command). Not needed for
  // durability: j:true already is. No-op in memory.
  Status Flush();
  // Writes a consistent copy of the whole database into `dir`, which must
  // not exist (its parent must), while reads and writes go on; opening an
  // Engine (or `docket serve --dbpath`) on `dir` gives the database as it
  // was at one instant: every write committed before it, none after.
  // Errors: IllegalOperation in memory; BadValue for an existing `dir`.
  Status Checkpoint(const std::string& dir);
  // Rewrites the stored data into its most compact, fastest-to-read form (a
  // full compaction) and waits for it: useful after a bulk load or a mass
  // delete (MongoDB's `compact`). Reads and writes go on meanwhile. Works in
  // memory too. Waits inside a BlockingRegion (docket/blocking.h).
  Status Compact();
  // Compacts one collection's records and indexes the same way and returns
  // how many bytes of table files they take less (an estimate, MongoDB's
  // compact's bytesFreed). Errors: NamespaceNotFound (26).
  Result<int64_t> CompactCollection(std::string_view db, std::string_view name);

  // What the caches of EngineOptions hold now, in bytes as they are charged
  // (data plus per-entry overhead).
  struct CacheUsage {
    size_t blocks = 0;           // cache_size_bytes' block cache
    size_t blocks_capacity = 0;  // its limit
    size_t rows = 0;             // row_cache_bytes' cache of rows and short ranges (0 without one)
    size_t rows_capacity = 0;    // its limit (0 without one)
  };
  CacheUsage cache_usage() const;

  // MongoDB's notablescan: while on, a read, update or delete whose filter
  // no index answers fails with NoQueryExecutionPlans (291) instead of
  // scanning the collection, and so does a $natural hint. As in mongod, an
  // empty filter, a filter on _id (the _id index answers it), collections
  // named system.* and the database "local" are exempt. For tests that must
  // not scan. Takes effect for operations that start afterwards.
  void SetNoTableScan(bool on);
  bool no_table_scan() const;

  // Records in the oplog (when there is one) that collection db.name was
  // modified by `command` ({collMod: name, <the options it changed>}), for
  // whoever carried out a collMod through the calls above; change streams
  // report it as a "modify" event. Errors: the oplog's writes'.
  Status RecordCollectionModified(std::string_view db, std::string_view name, const Document& command);

  // The cluster time of this database's changes (docket/cluster_clock.h);
  // with an oplog, every entry carries a time from it.
  ClusterClock& cluster_clock();
  // Whether the engine keeps an oplog (EngineOptions::oplog_size_bytes).
  bool has_oplog() const;
  // The TTL monitor (EngineOptions::ttl_monitor_seconds): MongoDB's
  // ttlMonitorEnabled and ttlMonitorSleepSecs. A new interval applies at
  // once (the monitor's current wait restarts with it). Errors: BadValue
  // for an interval below 1 second.
  void SetTtlMonitorEnabled(bool on);
  bool ttl_monitor_enabled() const;
  Status SetTtlMonitorInterval(int seconds);
  int ttl_monitor_interval() const;
  // EngineOptions::write_wait_seconds, for a server whose transaction
  // lifetime changes at runtime. Errors: BadValue below 1 second.
  Status SetWriteWaitSeconds(int seconds);

  // One pass of the TTL monitor: deletes, in every collection, the documents
  // whose TTL-indexed date (the earliest, for an array) is older than
  // expireAfterSeconds. Returns how many it deleted.
  Result<int64_t> DeleteExpired();

  // A collectionless pipeline ({aggregate: 1}), which must start with
  // $documents. Errors: InvalidNamespace otherwise.
  Result<Cursor> Aggregate(std::string_view db, const std::vector<Document>& pipeline,
                           const AggregateOptions& options = {});

  Result<std::unique_ptr<Transaction>> BeginTransaction(const WriteConcern& write_concern = {});
  // Runs `body` in a fresh transaction and commits it; on WriteConflict (from
  // the body or the commit) starts over, up to `max_attempts` times. A non-OK
  // status from the body aborts and is returned as is.
  Status WithTransaction(const std::function<Status(Transaction&)>& body,
                         const WriteConcern& write_concern = {}, int max_attempts = 100);

  // After a write returned kWouldBlock (WriteOptions::may_park): calls
  // `wake` once, from the thread that releases the document, when running
  // the write again is worth it, and returns true; or returns false without
  // keeping `wake` when nothing will announce it (a transaction holds the
  // document): the caller tries again after a short delay.
  bool WhenWorthRetrying(const Status& would_block, std::function<void()> wake);
  // After a woken write ran again without parking again: lets the next
  // parked writer of the same document have its turn.
  void PassTurn(const Status& would_block);

  EngineImpl* impl() { return impl_.get(); }

 private:
  explicit Engine(std::unique_ptr<EngineImpl> impl);
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace docket
