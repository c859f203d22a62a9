// Collection: the public operations, each a thin composition of the query,
// update and write-path pieces.
#include <limits>
#include <algorithm>
#include <map>

#include "docket/deadline.h"
#include "docket/metrics.h"
#include "bson/builder.h"
#include "bson/path.h"
#include "bson/key_encoding.h"
#include "bson/value.h"
#include "engine/cursor_impl.h"
#include "engine/tail_stream.h"
#include "engine/indexes.h"
#include "engine/modify.h"
#include "engine/near_rings.h"
#include "engine/scan.h"
#include "engine/text_plan.h"
#include "engine/sorter.h"
#include "engine/namespace.h"
#include "engine/oplog.h"
#include "engine/operation_collation.h"
#include "engine/views.h"
#include "engine/write_path.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"
#include "bson/append_element.h"

namespace docket {

namespace engine {

Result<EntryGuard> ResolveForRead(EngineImpl* engine, const std::string& db, const std::string& name,
                                  Transaction* txn, Views views) {
  DOCKET_RETURN_IF_ERROR(ValidateCollectionName(db, name));
  while (true) {
    EntryGuard guard;
    guard.entry = engine->catalog->Find(db, name, txn != nullptr ? txn->impl() : nullptr);
    if (!guard.entry) return guard;
    guard.lock = std::shared_lock(guard.entry->lifecycle);
    if (guard.entry->retired) continue;
    if (guard.entry->view && views == Views::kRefuse) return NotACollection(db, name);
    return guard;
  }
}

Result<EntryGuard> ResolveForWrite(EngineImpl* engine, const std::string& db, const std::string& name,
                                   Transaction* txn) {
  DOCKET_RETURN_IF_ERROR(ValidateCollectionName(db, name));
  while (true) {
    Result<storage::EntryPtr> entry = storage::EntryPtr();
    if (txn != nullptr) {
      TransactionImpl* impl = txn->impl();
      bool created = false;
      entry = engine->catalog->FindOrCreatePending(db, name, impl->txn, impl, &created);
      if (entry.ok() && created) impl->created.push_back(*entry);
    } else {
      bool created = false;
      entry = engine->catalog->FindOrCreate(db, name, &created);
      // As mongod, a first write that creates the collection logs its create first.
      if (entry.ok() && created) {
        DOCKET_RETURN_IF_ERROR(LogCommand(engine, db, (*entry)->uuid, CreateCommand(name, CollectionOptions())));
      }
    }
    if (!entry.ok()) return entry.status();
    DOCKET_RETURN_IF_ERROR(RefuseOplogWrite(engine, *entry));
    EntryGuard guard;
    guard.entry = std::move(entry).value();
    guard.lock = std::shared_lock(guard.entry->lifecycle);
    if (guard.entry->retired) continue;
    if (guard.entry->view) return NotACollection(db, name);
    return guard;
  }
}

}  // namespace engine

using engine::EntryGuard;

namespace {

// MongoDB's error for {$meta: "textScore"} in a query without $text.
// A matching document's distance from the filter's $near centre.
double NearDistanceOf(const query::Filter& filter, const Document& doc) {
  return filter.NearDistance(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()))
      .value_or(std::numeric_limits<double>::infinity());
}

Status TextScoreUnavailable() {
  return Status(static_cast<ErrorCode>(40218), "query requires text score metadata, but it is not available");
}

// Reads the one record a filter's _id equality points at (no lock).
Result<std::optional<Document>> ReadById(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                         const storage::CollectionEntry& entry, const Document& id_holder) {
  bson_iter_t id;
  id_holder.Iterate(&id);
  bson_iter_next(&id);
  std::string key = storage::RecordKey(entry.id, id);
  std::string value;
  rocksdb::Status s;
  if (user_txn != nullptr) {
    rocksdb::ReadOptions read_options;
    read_options.snapshot = engine::TransactionSnapshot(user_txn);
    s = user_txn->Get(read_options, key, &value);
  } else {
    s = engine->db()->Get(rocksdb::ReadOptions(), key, &value);
  }
  entry.id_index_accesses.Record();
  NotePlan("IDHACK");
  CountKeysExamined(1);  // an _id point read: MongoDB's IDHACK examines one key
  if (s.IsNotFound()) return std::optional<Document>();
  if (!s.ok()) return storage::FromRocks(s, "reading a record");
  CountDocsExamined(1);
  engine::SplitRecordValue(&value);
  return std::optional<Document>(Document::FromTrustedBytes(std::move(value)));
}

rocksdb::Transaction* UserTxn(Transaction* t) { return t ? t->impl()->txn : nullptr; }

}  // namespace

Result<InsertOneResult> Collection::InsertOne(const Document& doc, const WriteOptions& options) {
  auto prepared = engine::PrepareForInsert(doc);
  if (!prepared.ok()) return prepared.status();
  auto guard = engine::ResolveForWrite(engine_, db_, name_, options.transaction);
  if (!guard.ok()) return guard.status();
  Status s = engine::RunWriteWithRetry(engine_, options, [&](engine::WriteUnit& unit) {
    return engine::InsertRecord(unit, *guard->entry, *prepared);
  });
  if (!s.ok()) return s;
  return InsertOneResult{engine::IdDocument(*prepared)};
}

// Documents are written in groups: one RocksDB transaction (one WAL write, one
// sync for j:true) per group of up to kInsertGroupDocuments documents or
// kInsertGroupBytes bytes. Each document is still all-or-nothing on its own; a
// document that fails validation or hits a duplicate _id is left out of its
// group and reported with its index, and ordered inserts stop there.
constexpr size_t kInsertGroupDocuments = 1000;
constexpr size_t kInsertGroupBytes = 4 << 20;

Result<InsertManyResult> Collection::InsertMany(const std::vector<Document>& docs, const InsertManyOptions& options) {
  InsertManyResult result;
  auto guard = engine::ResolveForWrite(engine_, db_, name_, options.write.transaction);
  if (!guard.ok()) return guard.status();
  size_t next = 0;
  bool stopped = false;
  while (next < docs.size() && !stopped) {
    size_t end = next;
    for (size_t bytes = 0; end < docs.size() && end - next < kInsertGroupDocuments && bytes < kInsertGroupBytes;) {
      bytes += docs[end++].size();
    }
    std::vector<Document> ids;
    std::vector<WriteError> errors;
    Status s = engine::RunWriteWithRetry(engine_, options.write, [&](engine::WriteUnit& unit) -> Status {
      ids.clear();  // a retried group starts from scratch
      errors.clear();
      stopped = false;
      for (size_t i = next; i < end; ++i) {
        auto prepared = engine::PrepareForInsert(docs[i]);
        Status one = prepared.status();
        if (one.ok()) one = engine::InsertRecord(unit, *guard->entry, *prepared);
        if (one.ok()) {
          ids.push_back(engine::IdDocument(*prepared));
          continue;
        }
        // A document's own failure (bad, duplicate, invalid for the
        // validator or an index) is its write error; InsertRecord left
        // nothing of it behind. A failure of the write itself fails the whole
        // group (lock timeouts are retried by RunWriteWithRetry).
        if (!prepared.ok() || !engine::FailsTheWholeWrite(one)) {
          errors.push_back({i, one});
          if (options.ordered) {
            stopped = true;
            break;
          }
          continue;
        }
        return one;
      }
      return Status::OK();
    });
    if (!s.ok()) {
      // Nothing of this group was written; report it at the group's first
      // document and stop, ordered or not.
      result.write_errors.push_back({next, s});
      break;
    }
    result.inserted_count += ids.size();
    for (Document& id : ids) result.inserted_ids.push_back(std::move(id));
    for (WriteError& e : errors) result.write_errors.push_back(std::move(e));
    next = end;
  }
  return result;
}

Result<Cursor> Collection::Find(const Document& filter_doc, const FindOptions& options) {
  auto guard = engine::ResolveForRead(engine_, db_, name_, options.read.transaction, engine::Views::kAllow);
  if (!guard.ok()) return guard.status();
  if (guard->entry && guard->entry->view) {
    guard->lock.unlock();
    auto stream = engine::FindOnView(engine_, db_, name_, filter_doc, options);
    if (!stream.ok()) return stream.status();
    return Cursor(std::make_unique<CursorImpl>(std::move(stream).value(),
                                               options.batch_size > 0 ? static_cast<size_t>(options.batch_size) : 101));
  }
  auto collation = engine::ResolveCollation(options.collation, guard->entry.get());
  if (!collation.ok()) return collation.status();
  auto filter = query::Filter::CompileWithLet(filter_doc, options.let, *collation);
  if (!filter.ok()) return filter.status();
  auto projection = query::Projection::Compile(options.projection, &filter_doc);
  if (!projection.ok()) return projection.status();
  if (options.tailable) DOCKET_RETURN_IF_ERROR(engine::CheckTailableOptions(options));
  Document sort_doc = options.sort;
  IndexHint hint_spec = options.hint;
  const bool text_search = filter->text_search() != nullptr;
  if (text_search) {
    if (options.tailable) return Status(ErrorCode::kBadValue, "text and tailable cursor not allowed in same query");
    bson_iter_t natural;
    if (sort_doc.Find("$natural", &natural)) {
      return Status(ErrorCode::kBadValue, "text expression not allowed with $natural sort order");
    }
    DOCKET_RETURN_IF_ERROR(engine::BindTextSearch(guard->entry.get(), &*filter));
  }
  const bool near = filter->near_query() != nullptr;
  if (near) {
    if (options.tailable) return Status(ErrorCode::kBadValue, "geoNear and tailable cursor not allowed in same query");
    bson_iter_t natural;
    if (sort_doc.Find("$natural", &natural)) {
      return Status(ErrorCode::kBadValue, "geoNear expression not allowed with $natural sort order");
    }
  }
  DOCKET_RETURN_IF_ERROR(engine::RewriteNaturalSort(&sort_doc, &hint_spec));
  auto sort = query::SortSpec::Compile(sort_doc, collation->get());
  if (!sort.ok()) return sort.status();
  if ((sort->has_text_score() || projection->needs_text_score()) && !text_search) return TextScoreUnavailable();
  if (sort->has_text_score()) sort_doc = Document();  // no index gives the score's order
  if (projection->needs_geo_near() && !near) {
    return Status(ErrorCode::kBadValue, "query requires geoNearDistance or geoNearPoint metadata, but it is not "
                                        "available: the filter has no $near, $nearSphere or $geoNear");
  }
  if (options.skip < 0) return Status(ErrorCode::kBadValue, "skip value must be non-negative");

  auto shape = std::make_shared<engine::FindStream::Shape>();
  shape->filter = std::move(filter).value();
  shape->projection = std::move(projection).value();
  shape->skip = options.skip;
  shape->limit = options.limit == 0 ? -1 : std::abs(options.limit);
  const size_t batch_size = options.batch_size > 0 ? static_cast<size_t>(options.batch_size) : 101;
  auto cursor = [batch_size](StreamPtr stream) { return Cursor(std::make_unique<CursorImpl>(std::move(stream), batch_size)); };
  rocksdb::Transaction* user_txn = UserTxn(options.read.transaction);
  if (!guard->entry) return cursor(std::make_unique<VectorStream>(std::deque<Document>()));
  auto hint = engine::ResolveHint(*guard->entry, hint_spec, filter_doc);
  if (!hint.ok()) return hint.status();
  DOCKET_RETURN_IF_ERROR(engine::ResolveMinMax(options.min, options.max, collation->get(), &*hint));
  if (options.tailable) {
    if (!guard->entry->capped) {
      return Status(ErrorCode::kBadValue, "error processing query: ns=" + full_name() +
                                              " planner returned error :: caused by :: tailable cursor requested on "
                                              "non capped collection");
    }
    if (engine::NoTableScanApplies(engine_, *guard->entry, filter_doc)) {
      return Status(ErrorCode::kNoQueryExecutionPlans, "Running with 'notablescan', so tailable cursors (which always "
                                                       "do a table scan) are not allowed");
    }
    NotePlan("COLLSCAN");
    guard->entry->collection_scans.fetch_add(1, std::memory_order_relaxed);
    guard->entry->tailable_collection_scans.fetch_add(1, std::memory_order_relaxed);
    return cursor(std::make_unique<engine::TailStream>(engine_, guard->entry, shape));
  }

  if (shape->filter.id_equality() && hint->index == nullptr && !near) {
    // A point lookup: at most one document.
    auto found = ReadById(engine_, user_txn, *guard->entry, *shape->filter.id_equality());
    if (!found.ok()) return found.status();
    std::deque<Document> docs;
    if (*found) {
      auto match = shape->filter.Evaluate((*found)->data(), (*found)->size());
      if (!match.ok()) return match.status();
      if (*match) docs.push_back(std::move(**found));
    }
    return cursor(std::make_unique<engine::FindStream>(std::make_unique<VectorStream>(std::move(docs)), shape));
  }
  const bool nearest_first = near && sort->empty();  // $near's own order, when no sort overrides it
  if (nearest_first && shape->limit >= 0 && !hint->present) {
    // Only the nearest skip+limit are wanted: rings about the centre.
    auto nearest = engine::NearestMatches(engine_, user_txn, *guard->entry, filter_doc, shape->filter, nullptr,
                                          static_cast<size_t>(shape->skip + shape->limit));
    if (!nearest.ok()) return nearest.status();
    return cursor(std::make_unique<engine::FindStream>(std::make_unique<VectorStream>(std::move(nearest).value()), shape));
  }
  engine::PlanSummary plan;
  const size_t limit_hint = shape->limit < 0 ? 0 : static_cast<size_t>(shape->skip + shape->limit);
  auto opened =
      engine::OpenScan(engine_, user_txn, *guard->entry, filter_doc, sort_doc, &plan, false, limit_hint, false, *hint,
                       collation->get());
  if (!opened.ok()) return opened.status();
  std::unique_ptr<engine::DocumentScan> scan = std::move(opened).value();
  if ((sort->empty() || plan.provides_sort) && !nearest_first) {
    // Streams: the scan's order is the requested one (an index gives it).
    return cursor(std::make_unique<engine::FindStream>(std::move(scan), guard->entry, shape));
  }

  // Sort without an index: a Sorter (the top skip+limit in a bounded heap
  // when there is a limit; otherwise in memory up to the budget, then
  // spilled), read through the shape's skip, limit and projection.
  auto matches = std::make_shared<engine::FindStream::Shape>();
  matches->filter = std::move(shape->filter);
  if (sort->has_text_score()) {
    sort->set_text_score([matches](const Document& d) { return matches->filter.TextScore(d); });
  }
  if (nearest_first) *sort = query::SortSpec::ByComputed([matches](const Document& d) { return NearDistanceOf(matches->filter, d); });
  engine::FindStream source(std::move(scan), guard->entry, matches);
  const size_t keep = shape->limit < 0 ? SIZE_MAX : static_cast<size_t>(shape->skip + shape->limit);
  engine::Sorter sorter(engine_, *sort, keep,
                        engine::SortBudget{engine_->query_memory_limit_bytes, options.allow_disk_use});
  while (true) {
    auto next = source.Next();
    if (!next.ok()) return next.status();
    if (!*next) break;
    DOCKET_RETURN_IF_ERROR(sorter.Add(std::move(**next)));
  }
  auto sorted = sorter.Finish();
  if (!sorted.ok()) return sorted.status();
  shape->filter = std::move(matches->filter);  // for positional projections
  return cursor(std::make_unique<engine::FindStream>(std::move(sorted).value(), shape));
}

Result<std::optional<Document>> Collection::FindOne(const Document& filter, const FindOptions& options) {
  FindOptions one = options;
  one.limit = 1;
  auto cursor = Find(filter, one);
  if (!cursor.ok()) return cursor.status();
  auto batch = cursor->NextBatch(1);
  if (!batch.ok()) return batch.status();
  if (batch->empty()) return std::optional<Document>();
  return std::optional<Document>(std::move(batch->front()));
}

Result<int64_t> Collection::CountDocuments(const Document& filter, const CountOptions& options) {
  if (options.skip < 0) return Status(ErrorCode::kBadValue, "skip value must be non-negative");
  {
    // An exact index plan counts its entries without reading a record.
    auto guard = engine::ResolveForRead(engine_, db_, name_, options.read.transaction, engine::Views::kAllow);
    if (!guard.ok()) return guard.status();
    auto collation = engine::ResolveCollation(options.collation, guard->entry.get());
    if (!collation.ok()) return collation.status();
    auto compiled = query::Filter::Compile(filter, nullptr, *collation);  // errors as a find's
    if (!compiled.ok()) return compiled.status();
    DOCKET_RETURN_IF_ERROR(engine::BindTextSearch(guard->entry.get(), &*compiled));
    if (!guard->entry) return int64_t{0};
    if (guard->entry->view) {
      guard->lock.unlock();  // Find takes it again
      return CountThroughFind(filter, options);
    }
    auto hint = engine::ResolveHint(*guard->entry, options.hint, filter);
    if (!hint.ok()) return hint.status();
    if (!compiled->id_equality()) {
      auto exact = engine::CountExactMatches(engine_, UserTxn(options.read.transaction), *guard->entry, filter, *hint,
                                             collation->get());
      if (!exact.ok()) return exact.status();
      if (exact->has_value()) {
        int64_t n = std::max<int64_t>(0, **exact - options.skip);
        if (options.limit != 0) n = std::min<int64_t>(n, std::abs(options.limit));
        return n;
      }
    }
  }
  return CountThroughFind(filter, options);
}

Result<int64_t> Collection::CountThroughFind(const Document& filter, const CountOptions& options) {
  FindOptions find;
  find.skip = options.skip;
  find.limit = options.limit;
  find.read = options.read;
  find.hint = options.hint;
  find.collation = options.collation;
  find.batch_size = 1000;
  auto cursor = Find(filter, find);
  if (!cursor.ok()) return cursor.status();
  int64_t count = 0;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    if (!batch.ok()) return batch.status();
    count += static_cast<int64_t>(batch->size());
  }
  return count;
}

Result<int64_t> Collection::EstimatedDocumentCount() {
  auto guard = engine::ResolveForRead(engine_, db_, name_, nullptr, engine::Views::kAllow);
  if (!guard.ok()) return guard.status();
  if (!guard->entry) return int64_t{0};
  if (guard->entry->view) {
    guard->lock.unlock();
    return CountThroughFind(Document(), CountOptions());  // MongoDB counts a view's documents
  }
  int64_t count = 0;
  engine::RecordScan scan(engine_, nullptr, guard->entry->id);
  for (; scan.Valid(); scan.Next()) {
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    ++count;
  }
  DOCKET_RETURN_IF_ERROR(scan.status());
  return count;
}

Result<Document> Collection::Distinct(std::string_view field, const Document& filter_doc, const ReadOptions& options,
                                      const Document& collation_spec) {
  if (field.empty()) return Status(ErrorCode::kBadValue, "distinct field cannot be empty");
  FindOptions find;
  find.read = options;
  find.batch_size = 1000;
  find.collation = collation_spec;
  text::CollatorPtr collation;
  {
    // The collation values are told apart by: the one Find resolves.
    const storage::EntryPtr entry = engine_->catalog->Find(db_, name_);
    auto resolved = engine::ResolveCollation(collation_spec, entry.get());
    if (!resolved.ok()) return resolved.status();
    collation = std::move(resolved).value();
  }
  auto cursor = Find(filter_doc, find);
  if (!cursor.ok()) return cursor.status();
  bson::Path path = bson::SplitPath(field);
  std::map<std::string, std::string> values;  // order-preserving key -> {"": value}
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch();
    if (!batch.ok()) return batch.status();
    for (const Document& doc : *batch) {
      bson::VisitPath(doc.data(), doc.size(), path, [&](const bson_iter_t* v) {
        if (v == nullptr || bson_iter_type(v) == BSON_TYPE_ARRAY) return false;  // arrays are unwound
        // Values equal under the collation are one: the first seen.
        std::string key;
        bson::AppendComparisonKeyValue(&key, *v, collation.get());
        if (!values.count(key)) values.emplace(std::move(key), bson::HoldValue(*v));
        return false;
      });
    }
  }
  bson_t out = BSON_INITIALIZER;
  bson_t array;
  bson_append_array_begin(&out, "values", 6, &array);
  size_t i = 0;
  for (const auto& [key, held] : values) {
    bson_iter_t it;
    bson_iter_init_from_data(&it, reinterpret_cast<const uint8_t*>(held.data()), held.size());
    bson_iter_next(&it);
    std::string index = std::to_string(i++);
    docket::bson::AppendElement(&array, index.c_str(), -1, &it);
  }
  bson_append_array_end(&out, &array);
  Document result = Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(bson_get_data(&out)), out.len));
  bson_destroy(&out);
  if (result.size() > kMaxDocumentSize) {
    return Status(ErrorCode::kBSONObjectTooLarge, "distinct too big, 16mb cap");
  }
  return result;
}

namespace {

struct CompiledModify {
  query::Filter filter;
  query::SortSpec sort;
  std::optional<update::Update> update;
};

// What an update is given as: a document (operators or a replacement), or a
// pipeline. Neither for a delete.
struct UpdateSource {
  const Document* doc = nullptr;
  const UpdatePipeline* pipeline = nullptr;
  update::Update::Mode mode = update::Update::Mode::kAny;
  const std::vector<Document>* array_filters = nullptr;
};

// `let`: the variables the filter's $expr reads (the command's `let`).
// `collation`: the operation's (null: simple), for the filter, the sort and
// the update's comparisons.
Result<CompiledModify> CompileModify(const Document& filter, const Document& let, const Document* sort,
                                     const UpdateSource& source, const text::CollatorPtr& collation) {
  auto f = query::Filter::CompileWithLet(filter, let, collation);
  if (!f.ok()) return f.status();
  auto s = query::SortSpec::Compile(sort ? *sort : Document(), collation.get());
  if (!s.ok()) return s.status();
  CompiledModify out{std::move(f).value(), std::move(s).value(), std::nullopt};
  static const std::vector<Document> kNoFilters;
  const std::vector<Document>& array_filters = source.array_filters ? *source.array_filters : kNoFilters;
  if (source.doc != nullptr) {
    auto u = update::Update::Compile(*source.doc, source.mode, array_filters, collation);
    if (!u.ok()) return u.status();
    out.update = std::move(u).value();
  } else if (source.pipeline != nullptr) {
    auto u = update::Update::CompilePipeline(source.pipeline->stages, source.pipeline->let, array_filters, collation);
    if (!u.ok()) return u.status();
    out.update = std::move(u).value();
  }
  return out;
}

// Binds the filter's $text (if any) to the collection's text index, and a
// {$meta: "textScore"} sort key (findAndModify's) to the filter's scores.
// REQUIRES: entry->lifecycle held.
Status BindText(const storage::CollectionEntry* entry, CompiledModify* compiled) {
  DOCKET_RETURN_IF_ERROR(engine::BindTextSearch(entry, &compiled->filter));
  if (compiled->sort.has_text_score()) {
    if (compiled->filter.text_search() == nullptr) return TextScoreUnavailable();
    compiled->sort.set_text_score([filter = &compiled->filter](const Document& d) { return filter->TextScore(d); });
  }
  return Status::OK();
}

// For updates and deletes: an upsert may create the collection; without
// one, a missing collection is nothing to change.
// The collation a write's filter is compiled with: the one it names, or the
// collection's default. Read before the write resolves its collection (a
// filter that does not compile must not create it); a collection's
// default never changes, so the guard's entry has the same unless the
// collection was dropped and made again meanwhile (RecheckCollation).
Result<text::CollatorPtr> PeekCollation(EngineImpl* engine, const std::string& db, const std::string& name,
                                        const Document& requested) {
  const storage::EntryPtr entry = engine->catalog->Find(db, name);
  return engine::ResolveCollation(requested, entry.get());
}

// Whether the collation compiled with is still the collection's.
bool SameAsResolved(const text::CollatorPtr& compiled, const Document& requested, const EntryGuard& guard) {
  if (!requested.empty()) return true;
  return text::SameCollation(compiled.get(), guard.entry ? guard.entry->collation.get() : nullptr);
}

Result<EntryGuard> Resolve(EngineImpl* engine, const std::string& db, const std::string& name, bool may_create,
                           Transaction* txn) {
  if (may_create) return engine::ResolveForWrite(engine, db, name, txn);
  auto guard = engine::ResolveForRead(engine, db, name, txn);
  if (guard.ok()) DOCKET_RETURN_IF_ERROR(engine::RefuseOplogWrite(engine, guard->entry));
  return guard;
}

}  // namespace

namespace {
Result<UpdateResult> RunUpdate(EngineImpl* engine, const std::string& db, const std::string& name,
                               const Document& filter, UpdateSource source, const UpdateOptions& options, bool many) {
  source.array_filters = &options.array_filters;
  auto collation = PeekCollation(engine, db, name, options.collation);
  if (!collation.ok()) return collation.status();
  auto compiled = CompileModify(filter, options.let, nullptr, source, *collation);
  if (!compiled.ok()) return compiled.status();
  if (many && compiled->update->is_replacement()) {
    return Status(ErrorCode::kFailedToParse, "multi update is not supported for replacement-style update");
  }
  auto guard = Resolve(engine, db, name, options.upsert, options.write.transaction);
  if (!guard.ok()) return guard.status();
  if (!SameAsResolved(*collation, options.collation, *guard)) {
    *collation = guard->entry ? guard->entry->collation : text::CollatorPtr();
    compiled = CompileModify(filter, options.let, nullptr, source, *collation);
    if (!compiled.ok()) return compiled.status();
  }
  DOCKET_RETURN_IF_ERROR(BindText(guard->entry.get(), &*compiled));
  engine::ModifyRequest request{&filter, &compiled->filter, &compiled->sort, &*compiled->update, options.upsert};
  request.hint = &options.hint;
  request.collation = collation->get();
  auto outcome = many ? engine::ModifyMany(engine, *guard, request, options.write)
                      : engine::ModifyOne(engine, *guard, request, options.write);
  if (!outcome.ok()) return outcome.status();
  return UpdateResult{outcome->matched, outcome->modified, outcome->upserted_id};
}
}  // namespace

Result<UpdateResult> Collection::UpdateOne(const Document& filter, const Document& update, const UpdateOptions& options) {
  return RunUpdate(engine_, db_, name_, filter, UpdateSource{&update, nullptr, update::Update::Mode::kAny}, options, false);
}

Result<UpdateResult> Collection::UpdateMany(const Document& filter, const Document& update, const UpdateOptions& options) {
  return RunUpdate(engine_, db_, name_, filter, UpdateSource{&update, nullptr, update::Update::Mode::kOperatorsOnly},
                   options, true);
}

Result<UpdateResult> Collection::UpdateOne(const Document& filter, const UpdatePipeline& update,
                                           const UpdateOptions& options) {
  return RunUpdate(engine_, db_, name_, filter, UpdateSource{nullptr, &update}, options, false);
}

Result<UpdateResult> Collection::UpdateMany(const Document& filter, const UpdatePipeline& update,
                                            const UpdateOptions& options) {
  return RunUpdate(engine_, db_, name_, filter, UpdateSource{nullptr, &update}, options, true);
}

Result<UpdateResult> Collection::ReplaceOne(const Document& filter, const Document& replacement,
                                            const UpdateOptions& options) {
  return RunUpdate(engine_, db_, name_, filter, UpdateSource{&replacement, nullptr, update::Update::Mode::kReplacementOnly},
                   options, false);
}

namespace {
Result<DeleteResult> RunDelete(EngineImpl* engine, const std::string& db, const std::string& name,
                               const Document& filter, const DeleteOptions& options, bool many) {
  auto collation = PeekCollation(engine, db, name, options.collation);
  if (!collation.ok()) return collation.status();
  auto compiled = CompileModify(filter, options.let, nullptr, UpdateSource{}, *collation);
  if (!compiled.ok()) return compiled.status();
  auto guard = Resolve(engine, db, name, /*may_create=*/false, options.write.transaction);
  if (!guard.ok()) return guard.status();
  if (!SameAsResolved(*collation, options.collation, *guard)) {
    *collation = guard->entry ? guard->entry->collation : text::CollatorPtr();
    compiled = CompileModify(filter, options.let, nullptr, UpdateSource{}, *collation);
    if (!compiled.ok()) return compiled.status();
  }
  DOCKET_RETURN_IF_ERROR(BindText(guard->entry.get(), &*compiled));
  engine::ModifyRequest request{&filter, &compiled->filter, &compiled->sort, nullptr, false};
  request.hint = &options.hint;
  request.collation = collation->get();
  auto outcome = many ? engine::ModifyMany(engine, *guard, request, options.write)
                      : engine::ModifyOne(engine, *guard, request, options.write);
  if (!outcome.ok()) return outcome.status();
  return DeleteResult{outcome->modified};
}

Result<FindAndModifyResult> RunFindAndModify(EngineImpl* engine, const std::string& db, const std::string& name,
                                            const Document& filter, UpdateSource source,
                                            const FindAndModifyOptions& options) {
  source.array_filters = &options.array_filters;
  const bool is_update = source.doc != nullptr || source.pipeline != nullptr;
  Document sort = options.sort;
  IndexHint hint = options.hint;
  DOCKET_RETURN_IF_ERROR(engine::RewriteNaturalSort(&sort, &hint));
  auto collation = PeekCollation(engine, db, name, options.collation);
  if (!collation.ok()) return collation.status();
  auto compiled = CompileModify(filter, options.let, &sort, source, *collation);
  if (!compiled.ok()) return compiled.status();
  auto projection = query::Projection::Compile(options.projection, &filter);
  if (!projection.ok()) return projection.status();
  if (projection->needs_text_score() && compiled->filter.text_search() == nullptr) return TextScoreUnavailable();
  bool upsert = options.upsert && is_update;
  auto guard = Resolve(engine, db, name, upsert, options.write.transaction);
  if (!guard.ok()) return guard.status();
  if (!SameAsResolved(*collation, options.collation, *guard)) {
    *collation = guard->entry ? guard->entry->collation : text::CollatorPtr();
    compiled = CompileModify(filter, options.let, &sort, source, *collation);
    if (!compiled.ok()) return compiled.status();
  }
  DOCKET_RETURN_IF_ERROR(BindText(guard->entry.get(), &*compiled));
  engine::ModifyRequest request{&filter, &compiled->filter, &compiled->sort,
                                compiled->update ? &*compiled->update : nullptr, upsert, &sort};
  request.hint = &hint;
  request.collation = collation->get();
  auto outcome = engine::ModifyOne(engine, *guard, request, options.write);
  if (!outcome.ok()) return outcome.status();
  FindAndModifyResult result;
  result.value =
      (is_update && options.return_document == ReturnDocument::kAfter) ? outcome->after : outcome->before;
  if (result.value) {
    // The write is done; a projection that cannot apply (a positional one
    // whose element is gone) fails the reply, as MongoDB's does.
    auto projected = projection->ApplyMatched(*result.value, compiled->filter);
    if (!projected.ok()) return projected.status();
    result.value = std::move(projected).value();
  }
  result.matched = outcome->matched > 0;
  result.upserted_id = outcome->upserted_id;
  return result;
}

Result<std::optional<Document>> ValueOf(Result<FindAndModifyResult> result) {
  if (!result.ok()) return result.status();
  return std::move(result->value);
}
}  // namespace

Result<DeleteResult> Collection::DeleteOne(const Document& filter, const DeleteOptions& options) {
  return RunDelete(engine_, db_, name_, filter, options, false);
}

Result<DeleteResult> Collection::DeleteMany(const Document& filter, const DeleteOptions& options) {
  return RunDelete(engine_, db_, name_, filter, options, true);
}

Result<DeleteResult> Collection::DeleteOne(const Document& filter, const WriteOptions& options) {
  DeleteOptions delete_options;
  delete_options.write = options;
  return DeleteOne(filter, delete_options);
}

Result<DeleteResult> Collection::DeleteMany(const Document& filter, const WriteOptions& options) {
  DeleteOptions delete_options;
  delete_options.write = options;
  return DeleteMany(filter, delete_options);
}

Result<std::optional<Document>> Collection::FindOneAndUpdate(const Document& filter, const Document& update,
                                                             const FindAndModifyOptions& options) {
  return ValueOf(RunFindAndModify(engine_, db_, name_, filter,
                                  UpdateSource{&update, nullptr, update::Update::Mode::kOperatorsOnly}, options));
}

Result<std::optional<Document>> Collection::FindOneAndReplace(const Document& filter, const Document& replacement,
                                                              const FindAndModifyOptions& options) {
  return ValueOf(RunFindAndModify(engine_, db_, name_, filter,
                                  UpdateSource{&replacement, nullptr, update::Update::Mode::kReplacementOnly}, options));
}

Result<std::optional<Document>> Collection::FindOneAndDelete(const Document& filter,
                                                             const FindAndModifyOptions& options) {
  return ValueOf(RunFindAndModify(engine_, db_, name_, filter, UpdateSource{}, options));
}

Result<FindAndModifyResult> Collection::FindAndModify(const Document& filter, const Document* update,
                                                      const FindAndModifyOptions& options) {
  return RunFindAndModify(engine_, db_, name_, filter, UpdateSource{update, nullptr, update::Update::Mode::kAny}, options);
}

Result<std::optional<Document>> Collection::FindOneAndUpdate(const Document& filter, const UpdatePipeline& update,
                                                             const FindAndModifyOptions& options) {
  return ValueOf(RunFindAndModify(engine_, db_, name_, filter, UpdateSource{nullptr, &update}, options));
}

Result<FindAndModifyResult> Collection::FindAndModify(const Document& filter, const UpdatePipeline& update,
                                                      const FindAndModifyOptions& options) {
  return RunFindAndModify(engine_, db_, name_, filter, UpdateSource{nullptr, &update}, options);
}

namespace {

// The name of an index spec.
std::string IndexName(const Document& spec) {
  bson_iter_t it;
  return spec.Find("name", &it) && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, nullptr) : "";
}

// The oplog entries of an index change: {createIndexes: coll, <spec>} for
// each index in `after` that `before` lacks, {dropIndexes: coll, index:
// name} (o2: its spec) for each the other way round (engine/oplog.h).
Status LogIndexChanges(EngineImpl* engine, const std::string& db, const std::string& name,
                       const std::vector<Document>& before, const std::vector<Document>& after) {
  if (engine->oplog == nullptr) return Status::OK();
  const storage::EntryPtr entry = engine->catalog->Find(db, name);
  const std::string uuid = entry ? entry->uuid : "";
  auto has = [](const std::vector<Document>& specs, const std::string& index) {
    return std::any_of(specs.begin(), specs.end(), [&](const Document& d) { return IndexName(d) == index; });
  };
  for (const Document& spec : after) {
    if (has(before, IndexName(spec))) continue;
    bson::Builder o;
    BSON_APPEND_UTF8(o.get(), "createIndexes", name.c_str());
    bson_iter_t it;
    spec.Iterate(&it);
    while (bson_iter_next(&it)) bson::AppendElement(o.get(), bson_iter_key(&it), -1, &it);
    DOCKET_RETURN_IF_ERROR(engine::LogCommand(engine, db, uuid, o.Finish()));
  }
  for (const Document& spec : before) {
    if (has(after, IndexName(spec))) continue;
    bson::Builder o;
    BSON_APPEND_UTF8(o.get(), "dropIndexes", name.c_str());
    BSON_APPEND_UTF8(o.get(), "index", IndexName(spec).c_str());
    DOCKET_RETURN_IF_ERROR(engine::LogCommand(engine, db, uuid, o.Finish(), spec));
  }
  return Status::OK();
}

// Runs an index change and logs what it changed.
template <typename Change>
auto WithIndexLog(EngineImpl* engine, const std::string& db, const std::string& name, Change change)
    -> decltype(change()) {
  std::vector<Document> before;
  if (engine->oplog != nullptr) {
    auto listed = engine::ListIndexes(engine, db, name);
    if (listed.ok()) before = std::move(listed).value();
  }
  auto result = change();
  if (!result.ok() || engine->oplog == nullptr) return result;
  auto after = engine::ListIndexes(engine, db, name);
  if (!after.ok()) return after.status();
  DOCKET_RETURN_IF_ERROR(LogIndexChanges(engine, db, name, before, *after));
  return result;
}

}  // namespace

Result<CreateIndexesResult> Collection::CreateIndexes(const std::vector<Document>& specs, Transaction* txn) {
  if (txn != nullptr) return engine::CreateIndexesInTransaction(engine_, txn, db_, name_, specs);
  return WithIndexLog(engine_, db_, name_, [&] { return engine::CreateIndexes(engine_, db_, name_, specs); });
}

Result<std::string> Collection::CreateIndex(const Document& keys, bool unique) {
  bson::Builder spec;
  bson::AppendDocument(spec.get(), "key", keys);
  if (unique) BSON_APPEND_BOOL(spec.get(), "unique", true);
  auto result = CreateIndexes({spec.Finish()});
  if (!result.ok()) return result.status();
  return result->names.front();
}

Status Collection::DropIndex(std::string_view name) {
  return WithIndexLog(engine_, db_, name_,
                      [&] { return engine::DropIndexes(engine_, db_, name_, std::string(name), nullptr); });
}

Status Collection::DropIndexByKey(const Document& key_pattern) {
  return WithIndexLog(engine_, db_, name_,
                      [&] { return engine::DropIndexes(engine_, db_, name_, std::string(), &key_pattern); });
}

Result<std::vector<Document>> Collection::ListIndexes() { return engine::ListIndexes(engine_, db_, name_); }

Result<std::vector<IndexUsage>> Collection::IndexStats() { return engine::IndexStats(engine_, db_, name_); }

Result<std::vector<Document>> Collection::ReIndex() { return engine::ReIndex(engine_, db_, name_); }

Result<QueryExecStats> Collection::QueryExecStats() {
  auto guard = engine::ResolveForRead(engine_, db_, name_);
  if (!guard.ok()) return guard.status();
  docket::QueryExecStats out;
  if (!guard->entry) return out;
  out.collection_scans = guard->entry->collection_scans.load(std::memory_order_relaxed);
  out.non_tailable_collection_scans =
      out.collection_scans - guard->entry->tailable_collection_scans.load(std::memory_order_relaxed);
  return out;
}

}  // namespace docket
