#include "docket/metrics.h"
#include "engine/scan.h"

#include "bson/key_encoding.h"
#include "bson/value.h"

#include "index/implication.h"

#include <algorithm>
#include <cstring>

#include "docket/deadline.h"
#include "engine/indexes.h"
#include "engine/natural_scan.h"
#include "engine/point_reads.h"
#include "engine/geo_plan.h"
#include "engine/text_plan.h"
#include "engine/write_path.h"
#include "index/implication.h"
#include "storage/keys.h"
#include "storage/record_value.h"
#include "storage/status_from_rocks.h"

namespace docket::engine {

IndexScan::IndexScan(EngineImpl* engine, rocksdb::Transaction* user_txn, ReadViewPool::View view,
                     uint64_t collection_id, const index::Plan& plan, size_t expected, bool fetch_records)
    : engine_(engine),
      user_txn_(user_txn),
      view_(std::move(view)),
      prefix_(storage::IndexPrefix(plan.index->id())),
      record_prefix_(storage::RecordPrefix(collection_id)),
      plan_(plan),
      batch_limit_(expected == 0 ? 1 : std::min<size_t>(expected, 256)),
      fetch_records_(fetch_records) {
  read_options_.snapshot = user_txn != nullptr ? TransactionSnapshot(user_txn) : view_.snapshot;
  if (user_txn == nullptr && read_options_.snapshot != nullptr && !plan_.reverse) {
    range_cache_ = engine->store->point_cache();
  }
  FillBatch();
}

void IndexScan::EnsureIterator() {
  if (it_ != nullptr) return;
  if (user_txn_ != nullptr) view_.iterator.reset(user_txn_->GetIterator(read_options_));
  // A pooled view's iterator has the same ReadOptions (the snapshot only).
  else if (view_.iterator == nullptr) view_.iterator.reset(engine_->db()->NewIterator(read_options_));
  it_ = view_.iterator.get();
}

void IndexScan::LookUpListsAhead() {
  // As many ranges as the batch may take (at least a few: small batches
  // come first), from the range being read on.
  const size_t n = std::min(plan_.ranges.size() - range_, std::clamp<size_t>(batch_limit_, 8, kListsAhead));
  ahead_begin_ = range_;
  std::vector<std::string> keys(n);
  for (size_t i = 0; i < n; ++i) {
    const index::KeyRange& r = plan_.ranges[range_ + i];
    keys[i] = storage::RangeListKey(prefix_ + r.start, prefix_ + r.end);
  }
  ahead_lists_.assign(n, std::string());
  std::vector<std::string*> lists(n);
  for (size_t i = 0; i < n; ++i) lists[i] = &ahead_lists_[i];
  range_cache_->LookupBatch(n, keys.data(), read_options_.snapshot->GetSequenceNumber(), lists.data(), ahead_found_,
                            prefix_);
}

bool IndexScan::ServeRangeFromCache() {
  if (range_cache_ == nullptr) return false;
  if (range_ < ahead_begin_ || range_ >= ahead_begin_ + ahead_lists_.size()) LookUpListsAhead();
  if (!ahead_found_[range_ - ahead_begin_]) return false;
  const std::string& list = ahead_lists_[range_ - ahead_begin_];
  for (size_t at = 0; at + 4 <= list.size();) {
    const size_t size = storage::ReadBigEndian32(std::string_view(list).substr(at, 4));
    ++keys_examined_;
    CountKeysExamined(1);
    AddRecordKey(rocksdb::Slice(list.data() + at + 4, size));
    at += 4 + size;
  }
  return true;
}

void IndexScan::ListEntry(rocksdb::Slice value) {
  if (!listing_) return;
  if (++listed_count_ > kListedMax) {
    listing_ = false;
    return;
  }
  storage::AppendBigEndian32(&listed_, static_cast<uint32_t>(value.size()));
  listed_.append(value.data(), value.size());
}

void IndexScan::CacheListedRange() {
  if (!listing_) return;
  listing_ = false;
  range_cache_->Insert(storage::RangeListKey(range_start_, range_end_), read_options_.snapshot->GetSequenceNumber(), listed_);
}

IndexScan::~IndexScan() {
  values_.clear();  // unpins blocks before the iterator can go
  // Pools the view; a transaction's (no snapshot) is freed, iterator and all.
  engine_->read_views->Release(std::move(view_));
}

void IndexScan::StepIterator() {
  if (plan_.reverse) it_->Prev();
  else it_->Next();
}

bool IndexScan::PositionInRange() {
  while (range_ < plan_.ranges.size()) {
    if (!range_keys_ready_) {
      const index::KeyRange& r = plan_.ranges[plan_.reverse ? plan_.ranges.size() - 1 - range_ : range_];
      range_start_ = prefix_ + r.start;
      range_end_ = prefix_ + r.end;
      range_keys_ready_ = true;
    }
    if (!started_range_) {
      started_range_ = true;
      if (ServeRangeFromCache()) {
        ++range_;
        started_range_ = false;
        range_keys_ready_ = false;
        if (keys_.size() >= batch_limit_) return false;  // the batch is full; the next one goes on from here
        continue;
      }
      EnsureIterator();
      listing_ = range_cache_ != nullptr;
      listed_.clear();
      listed_count_ = 0;
      if (plan_.reverse) {
        it_->SeekForPrev(range_end_);
        if (it_->Valid() && it_->key().compare(range_end_) >= 0) it_->Prev();
      } else {
        it_->Seek(range_start_);
      }
    }
    if (it_->Valid()) {
      rocksdb::Slice key = it_->key();
      bool inside = plan_.reverse ? key.compare(range_start_) >= 0 : key.compare(range_end_) < 0;
      if (inside) return true;
    } else if (!it_->status().ok()) {
      status_ = storage::FromRocks(it_->status(), "scanning an index");
      return false;
    }
    CacheListedRange();
    ++range_;
    started_range_ = false;
    range_keys_ready_ = false;
  }
  return false;
}

rocksdb::Slice IndexScan::value() const {
  if (!fetch_records_) return rocksdb::Slice();
  const rocksdb::PinnableSlice& stored = values_[next_];
  return rocksdb::Slice(stored.data(), storage::RecordDocument(std::string_view(stored.data(), stored.size())).size());
}

void IndexScan::Next() {
  if (++next_ < keys_.size()) return;
  FillBatch();
}

void IndexScan::FillBatch() {
  // Until a batch has a record, the entries run out, or an error: a batch of
  // point keys may find no entry, and a batch's records may all be gone.
  while (true) {
    keys_.clear();
    values_.clear();
    next_ = 0;
    if (plan_.point_keys.empty()) CollectRangeEntries();
    else CollectPointEntries();
    batch_limit_ = std::min<size_t>(batch_limit_ * 4, 256);
    if (!status_.ok()) {
      keys_.clear();
      return;
    }
    if (keys_.empty()) {
      if (point_ < plan_.point_keys.size()) continue;
      return;
    }
    if (!fetch_records_) return;
    FetchRecords();
    if (!keys_.empty() || !status_.ok()) return;
  }
}

void IndexScan::AddRecordKey(rocksdb::Slice id) {
  std::string record_key = record_prefix_;
  record_key.append(id.data(), id.size());
  // Only a multikey index can point at one document twice.
  if (plan_.index->multikey() && !seen_.insert(record_key).second) return;
  keys_.push_back(std::move(record_key));
}

void IndexScan::CollectRangeEntries() {
  while (keys_.size() < batch_limit_ && PositionInRange()) {
    ++keys_examined_;
    CountKeysExamined(1);
    ListEntry(it_->value());
    AddRecordKey(it_->value());
    StepIterator();
  }
}

void IndexScan::CollectPointEntries() {
  std::vector<std::string> entry_keys;
  while (entry_keys.size() < batch_limit_ && point_ < plan_.point_keys.size()) {
    size_t at = plan_.reverse ? plan_.point_keys.size() - 1 - point_ : point_;
    entry_keys.push_back(prefix_ + plan_.point_keys[at]);
    ++point_;
  }
  std::vector<rocksdb::PinnableSlice> ids(entry_keys.size());
  std::vector<rocksdb::Status> statuses(entry_keys.size());
  MultiGet(entry_keys, &ids, &statuses);
  for (size_t i = 0; i < entry_keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      status_ = storage::FromRocks(statuses[i], "reading an index entry");
      return;
    }
    ++keys_examined_;
    CountKeysExamined(1);
    AddRecordKey(ids[i]);
  }
}

void IndexScan::MultiGet(const std::vector<std::string>& keys, std::vector<rocksdb::PinnableSlice>* values,
                         std::vector<rocksdb::Status>* statuses) {
  MultiGetAt(engine_, user_txn_, read_options_, keys, values, statuses);
}

void IndexScan::FetchRecords() {
  std::vector<rocksdb::Status> statuses(keys_.size());
  values_.resize(keys_.size());
  MultiGet(keys_, &values_, &statuses);
  const size_t kept = KeepFound(statuses, &keys_, &values_, &status_);
  docs_examined_ += static_cast<int64_t>(kept);
  CountDocsExamined(static_cast<int64_t>(kept));
}

namespace {

// The indexes the planner may use: all but the hidden ones and those being built.
std::vector<std::shared_ptr<const index::Index>> VisibleIndexes(const storage::CollectionEntry& entry) {
  std::vector<std::shared_ptr<const index::Index>> out;
  for (const auto& index : IndexesOf(entry)) {
    if (!index->hidden() && !index->building()) out.push_back(index);
  }
  return out;
}

// Takes the read's snapshot (into *view outside a transaction), then plans.
// The snapshot comes first: the plan then sees every multikey flag set by a
// write the snapshot holds (flags are set before their write commits).
// Under a collation, index::ChoosePlan decides which indexes may bound or
// order the read (see there).
index::Plan PlanAtSnapshot(EngineImpl* engine, rocksdb::Transaction* user_txn, const storage::CollectionEntry& entry,
                           const Document& filter, const Document& sort, bool describe, const ResolvedHint& hint,
                           ReadViewPool::View* view, const text::Collator* collation) {
  if (user_txn != nullptr) TransactionSnapshot(user_txn);
  else *view = engine->read_views->Acquire();
  if (!hint.present) {
    std::vector<std::shared_ptr<const index::Index>> usable;
    for (auto& index : VisibleIndexes(entry)) {
      // Implication between a partial filter and the query is reasoned on
      // raw values; with strings under a collation it is not attempted.
      if (collation != nullptr && index->partial() && !index->partial_filter().empty()) {
        bson_iter_t all;
        bson_iter_init_from_data(&all, index->partial_filter().data(), index->partial_filter().size());
        bool strings = false;
        while (!strings && bson_iter_next(&all)) strings = bson::HasStrings(all);
        if (strings) continue;
      }
      usable.push_back(std::move(index));
    }
    return index::ChoosePlan(filter, sort, usable, describe, /*forced=*/false, collation);
  }
  if (hint.index == nullptr) return index::Plan();  // $natural, or the _id index: the records in _id order
  if (hint.range) {
    // min()/max(): the whole index, narrowed to the range; nothing exact.
    index::Plan plan = index::ChoosePlan(Document(), Document(), {hint.index}, describe, /*forced=*/true);
    plan.ranges = {*hint.range};
    plan.point_keys.clear();
    plan.exact = false;
    plan.provides_sort = false;
    return plan;
  }
  return index::ChoosePlan(filter, sort, {hint.index}, describe, /*forced=*/true, collation);
}

// Whether two key patterns name the same fields in the same order with the
// same directions or kinds ({a: 1} and {a: 1.0} are the same, as in MongoDB).
bool SameKeyPattern(const Document& a, const Document& b) {
  bson_iter_t x, y;
  a.Iterate(&x);
  b.Iterate(&y);
  while (true) {
    const bool more_x = bson_iter_next(&x), more_y = bson_iter_next(&y);
    if (more_x != more_y) return false;
    if (!more_x) return true;
    if (std::strcmp(bson_iter_key(&x), bson_iter_key(&y)) != 0) return false;
    if (BSON_ITER_HOLDS_UTF8(&x) || BSON_ITER_HOLDS_UTF8(&y)) {
      if (!BSON_ITER_HOLDS_UTF8(&x) || !BSON_ITER_HOLDS_UTF8(&y) ||
          std::strcmp(bson_iter_utf8(&x, nullptr), bson_iter_utf8(&y, nullptr)) != 0) {
        return false;
      }
    } else if (bson_iter_as_double(&x) != bson_iter_as_double(&y)) {
      return false;
    }
  }
}

Status HintNotFound() {
  return Status(ErrorCode::kBadValue,
                "planner returned error :: caused by :: hint provided does not correspond to an existing index");
}

}  // namespace

namespace {

// The value of a {$natural: n} document's first field; false if it has
// another first field (or none).
bool NaturalValue(const Document& pattern, bson_iter_t* value) {
  pattern.Iterate(value);
  return bson_iter_next(value) && std::string_view(bson_iter_key(value)) == "$natural";
}

int NaturalDirection(const bson_iter_t& value) {
  // As MongoDB: the value as an int, and anything below 0 goes backwards.
  return bson_iter_as_int64(&value) < 0 ? -1 : 1;
}

size_t FieldCount(const Document& doc) {
  bson_iter_t it;
  doc.Iterate(&it);
  size_t n = 0;
  while (bson_iter_next(&it)) ++n;
  return n;
}

}  // namespace

Status RewriteNaturalSort(Document* sort, IndexHint* hint) {
  bson_iter_t sort_value;
  if (!NaturalValue(*sort, &sort_value)) return Status::OK();
  if (FieldCount(*sort) != 1) {
    return Status(ErrorCode::kBadValue, "Cannot include '$natural' in compound sort: " + sort->ToJson());
  }
  bson_iter_t hint_value;
  if (!hint->empty()) {
    if (!hint->name.empty() || !NaturalValue(hint->key_pattern, &hint_value)) {
      return Status(ErrorCode::kBadValue, "index hint not allowed with $natural sort order");
    }
    if (bson_iter_as_int64(&hint_value) != bson_iter_as_int64(&sort_value)) {
      return Status(ErrorCode::kBadValue, "$natural hint must be in the same direction as $natural sort order");
    }
  }
  hint->name.clear();
  hint->key_pattern = *sort;
  *sort = Document();
  return Status::OK();
}

Result<ResolvedHint> ResolveHint(const storage::CollectionEntry& entry, const IndexHint& hint, const Document& filter) {
  ResolvedHint out;
  if (hint.empty()) return out;
  out.present = true;
  bson_iter_t natural;
  if (hint.name.empty() && NaturalValue(hint.key_pattern, &natural)) {
    if (FieldCount(hint.key_pattern) != 1) {
      return Status(ErrorCode::kBadValue, "Cannot include '$natural' in compound hint: " + hint.key_pattern.ToJson());
    }
    out.natural = NaturalDirection(natural);
    return out;
  }
  static const Document kIdPattern = *Document::FromJson(R"({"_id": 1})");
  const bool is_id = hint.name == "_id_" || (hint.name.empty() && SameKeyPattern(hint.key_pattern, kIdPattern));
  if (is_id) return out;
  for (const auto& index : VisibleIndexes(entry)) {  // a hidden index cannot be hinted, as in MongoDB
    const bool named = !hint.name.empty() && index->name() == hint.name;
    const bool patterned = hint.name.empty() && SameKeyPattern(index->key_pattern(), hint.key_pattern);
    if (!named && !patterned) continue;
    if (index->partial() && !index::FilterImplies(filter, index->partial_filter())) return HintNotFound();
    if (index->text() != nullptr) {
      return Status(ErrorCode::kBadValue, "hint: the text index '" + index->name() +
                                              "' holds only documents with terms and answers $text queries only");
    }
    out.index = index;
    return out;
  }
  return HintNotFound();
}

Status ResolveMinMax(const Document& min, const Document& max, const text::Collator* collation, ResolvedHint* hint) {
  if (min.empty() && max.empty()) return Status::OK();
  if (!hint->present) {
    return Status(static_cast<ErrorCode>(51173), "When using min()/max() a hint of which index to use must be provided");
  }
  if (hint->index == nullptr) {
    return Status(ErrorCode::kBadValue,
                  "min()/max() with the _id index or $natural as the hint is not supported by Docket");
  }
  const index::Index& ix = *hint->index;
  const bool same_collation = text::SameCollation(ix.collation(), collation);
  // The key of a bound: each field's encoding (as the index stores it).
  auto key_of = [&](const Document& bound, std::string* key) -> Status {
    bson_iter_t it;
    bound.Iterate(&it);
    for (const index::IndexField& field : ix.fields()) {
      if (!bson_iter_next(&it) || field.dotted != bson_iter_key(&it) ||
          (!same_collation && (BSON_ITER_HOLDS_UTF8(&it) || BSON_ITER_HOLDS_SYMBOL(&it) ||
                               BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)))) {
        return Status(static_cast<ErrorCode>(51174), "The index chosen is not compatible with min/max");
      }
      std::string part;
      bson::AppendComparisonKeyValue(&part, it, ix.collation());
      if (field.descending) {
        for (char& c : part) c = static_cast<char>(~static_cast<unsigned char>(c));
      }
      *key += part;
    }
    if (bson_iter_next(&it)) return Status(static_cast<ErrorCode>(51174), "The index chosen is not compatible with min/max");
    return Status::OK();
  };
  index::KeyRange range{std::string(), std::string(8, '\xFF')};
  if (!min.empty()) DOCKET_RETURN_IF_ERROR(key_of(min, &range.start));
  if (!max.empty()) {
    range.end.clear();
    DOCKET_RETURN_IF_ERROR(key_of(max, &range.end));
  }
  if (!min.empty() && !max.empty() && range.start >= range.end) {
    return Status(static_cast<ErrorCode>(51175),
                  "The value provided for min() does not come before the value provided for max() in the hinted index");
  }
  hint->range = std::move(range);
  return Status::OK();
}

std::string PlanSummaryText(std::string_view stage, const Document& key_pattern) {
  std::string out(stage);
  out += " {";
  bson_iter_t it;
  key_pattern.Iterate(&it);
  bool first = true;
  while (bson_iter_next(&it)) {
    out += first ? " " : ", ";
    first = false;
    out += bson_iter_key(&it);
    out += ": ";
    if (BSON_ITER_HOLDS_UTF8(&it)) {
      out += "\"";
      out += bson_iter_utf8(&it, nullptr);
      out += "\"";
    } else {
      const double d = bson_iter_as_double(&it);
      out += d == static_cast<double>(static_cast<int64_t>(d)) ? std::to_string(static_cast<int64_t>(d))
                                                               : std::to_string(d);
    }
  }
  out += first ? "}" : " }";
  return out;
}

bool NoTableScanApplies(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& filter) {
  if (!engine->no_table_scan.load(std::memory_order_relaxed) || filter.empty()) return false;
  return entry.db != "local" && entry.name.find("system.") == std::string::npos;
}

namespace {

// Whether a condition on _id ({_id: v}, a regex, or an operator document)
// bounds it, so that mongod's planner would read the _id index for it.
bool BoundsId(const bson_iter_t& condition) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&condition)) return true;  // a value (or a regex) to equal
  bson_iter_t op;
  bson_iter_recurse(&condition, &op);
  bool operators = false;
  while (bson_iter_next(&op)) {
    const std::string_view name = bson_iter_key(&op);
    if (name.empty() || name[0] != '$') return true;  // an embedded document to equal
    operators = true;
    if (name == "$eq" || name == "$in" || name == "$gt" || name == "$gte" || name == "$lt" || name == "$lte" ||
        name == "$regex") {
      return true;
    }
  }
  return !operators;  // {_id: {}} equals the empty document
}

// Whether mongod would answer `filter` or `sort` from the _id index (which
// Docket reads as records by _id, or plans as a collection scan): a
// condition bounding _id at the top level or in a top-level $and, or a sort
// whose first field is _id.
bool IdIndexAnswers(const Document& filter, const Document& sort) {
  bson_iter_t it;
  sort.Iterate(&it);
  if (bson_iter_next(&it) && std::string_view(bson_iter_key(&it)) == "_id") return true;
  filter.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    if (key == "_id" && BoundsId(it)) return true;
    if (key == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t clause;
      bson_iter_recurse(&it, &clause);
      while (bson_iter_next(&clause)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&clause)) continue;
        bson_iter_t field;
        bson_iter_recurse(&clause, &field);
        while (bson_iter_next(&field)) {
          if (std::string_view(bson_iter_key(&field)) == "_id" && BoundsId(field)) return true;
        }
      }
    }
  }
  return false;
}

// Engine::SetNoTableScan's refusal of a collection scan, with mongod's
// exemptions and messages.
Status CheckTableScanAllowed(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& filter,
                             const Document& sort, const ResolvedHint& hint) {
  if (!NoTableScanApplies(engine, entry, filter)) return Status::OK();
  if (hint.present && hint.natural != 0) {
    return Status(ErrorCode::kNoQueryExecutionPlans, "hint $natural is not allowed, because 'notablescan' is enabled");
  }
  if (IdIndexAnswers(filter, sort)) return Status::OK();
  return Status(ErrorCode::kNoQueryExecutionPlans, "error processing query: ns=" + entry.db + "." + entry.name +
                                                       " planner returned error :: caused by :: No indexed plans "
                                                       "available, and running with 'notablescan'");
}

}  // namespace

namespace {

// The plan of an index scan, for explain.
void Summarize(const index::Plan& plan, PlanSummary* summary) {
  summary->index_name = plan.index->name();
  summary->key_pattern = plan.index->key_pattern();
  summary->bounds = plan.bounds;
  summary->provides_sort = plan.provides_sort;
  summary->reverse = plan.reverse;
  summary->exact = plan.exact;
  summary->multikey = plan.index->multikey();
  summary->unique = plan.index->unique();
  summary->sparse = plan.index->sparse();
  summary->partial = plan.index->partial();
}

}  // namespace

namespace {

// The plan of a $text query: always its collection's text index. Errors:
// BadValue with a hint; TextIndexOf's and PlanTextSearch's.
Result<index::Plan> PlanText(const storage::CollectionEntry& entry, const Document& filter, const ResolvedHint& hint,
                             bool describe) {
  if (hint.present) return Status(ErrorCode::kBadValue, "text and hint not allowed in same query");
  auto text_index = TextIndexOf(entry);
  if (!text_index.ok()) return text_index.status();
  return PlanTextSearch(*text_index, filter, describe);
}

// The geo plan `filter` must have: its $near's 2dsphere index, or, with a
// hint naming a 2dsphere index, that index's cells of the filter's region.
// Nothing when neither applies. Errors: PlanNear's; BadValue for a $natural
// hint with $near, and for a 2dsphere index hinted without a geo predicate
// on its field (it holds only documents with geometries).
Result<std::optional<index::Plan>> RequiredGeoPlan(const storage::CollectionEntry& entry, const Document& filter,
                                                   const ResolvedHint& hint, bool describe) {
  if (HasNearOperator(filter)) {
    if (hint.present && hint.natural != 0) {
      return Status(ErrorCode::kBadValue, "geoNear expression not allowed with $natural hint");
    }
    static const index::Index* const kNoIndex = reinterpret_cast<const index::Index*>(&kNoIndex);
    const index::Index* hinted = !hint.present ? nullptr : hint.index != nullptr ? hint.index.get() : kNoIndex;
    auto plan = PlanNear(entry, filter, hinted, describe);
    if (!plan.ok()) return plan.status();
    return std::optional<index::Plan>(std::move(plan).value());
  }
  if (hint.present && hint.index != nullptr && IsGeoIndex(*hint.index)) {
    auto plan = PlanGeoRegion(entry, filter, hint.index.get(), describe);
    if (!plan) {
      return Status(ErrorCode::kBadValue, "hint: the geo index '" + hint.index->name() +
                                              "' holds only documents with geometries and answers geo queries on "
                                              "its fields only");
    }
    return plan;
  }
  return std::optional<index::Plan>();
}

}  // namespace

Status DescribePlan(EngineImpl* engine, const storage::CollectionEntry& entry, const Document& filter,
                    const Document& sort, const ResolvedHint& hint, PlanSummary* summary,
                    const text::Collator* collation) {
  if (HasTextOperator(filter)) {
    auto plan = PlanText(entry, filter, hint, /*describe=*/true);
    if (!plan.ok()) return plan.status();
    *summary = PlanSummary();
    Summarize(*plan, summary);
    summary->text = true;
    return Status::OK();
  }
  auto geo = RequiredGeoPlan(entry, filter, hint, /*describe=*/true);
  if (!geo.ok()) return geo.status();
  ReadViewPool::View view;
  index::Plan plan = *geo ? std::move(**geo)
                          : PlanAtSnapshot(engine, nullptr, entry, filter, sort, /*describe=*/true, hint, &view, collation);
  if (!*geo) engine->read_views->Release(std::move(view));
  if (plan.index == nullptr && !hint.present) {
    if (auto region = PlanGeoRegion(entry, filter, nullptr, /*describe=*/true)) plan = std::move(*region);
  }
  *summary = PlanSummary();
  if (plan.index == nullptr) {
    summary->reverse = hint.natural < 0;
    const bool id_index = hint.present && hint.natural == 0;
    return id_index ? Status::OK() : CheckTableScanAllowed(engine, entry, filter, sort, hint);
  }
  Summarize(plan, summary);
  summary->geo_near = *geo && HasNearOperator(filter);
  return Status::OK();
}

Result<std::unique_ptr<DocumentScan>> OpenScan(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                               const storage::CollectionEntry& entry, const Document& filter,
                                               const Document& sort, PlanSummary* summary, bool describe,
                                               size_t limit_hint, bool entries_if_exact, const ResolvedHint& hint,
                                               const text::Collator* collation) {
  ReadViewPool::View view;
  if (HasTextOperator(filter)) {
    auto text_plan = PlanText(entry, filter, hint, describe);
    if (!text_plan.ok()) return text_plan.status();
    if (user_txn != nullptr) TransactionSnapshot(user_txn);
    else view = engine->read_views->Acquire();
    if (!describe) text_plan->index->accesses().Record();
    if (!describe && MetricsCollecting()) NotePlan(PlanSummaryText("IXSCAN", text_plan->index->key_pattern()));
    if (summary != nullptr) {
      Summarize(*text_plan, summary);
      summary->text = true;
    }
    return std::unique_ptr<DocumentScan>(
        std::make_unique<IndexScan>(engine, user_txn, std::move(view), entry.id, *text_plan, /*expected=*/0));
  }
  auto geo = RequiredGeoPlan(entry, filter, hint, describe);
  if (!geo.ok()) return geo.status();
  index::Plan plan;
  if (*geo) {
    plan = std::move(**geo);
    if (user_txn != nullptr) TransactionSnapshot(user_txn);
    else view = engine->read_views->Acquire();
  } else {
    plan = PlanAtSnapshot(engine, user_txn, entry, filter, sort, describe, hint, &view, collation);
    if (plan.index == nullptr && !hint.present) {
      if (auto region = PlanGeoRegion(entry, filter, nullptr, describe)) plan = std::move(*region);
    }
  }
  if (plan.index == nullptr) {
    if (!(hint.present && hint.natural == 0)) {  // not the _id index: a collection scan
      Status allowed = CheckTableScanAllowed(engine, entry, filter, sort, hint);
      if (!allowed.ok()) {
        engine->read_views->Release(std::move(view));
        return allowed;
      }
    }
    if (summary != nullptr) {
      *summary = PlanSummary();
      summary->reverse = hint.natural < 0;
    }
    if (hint.present && hint.natural == 0) {  // the _id index
      if (!describe) entry.id_index_accesses.Record();
      if (!describe && MetricsCollecting()) NotePlan("IXSCAN { _id: 1 }");
      engine->read_views->Release(std::move(view));
      return std::unique_ptr<DocumentScan>(std::make_unique<RecordScan>(engine, user_txn, entry.id));
    }
    if (!describe) {
      entry.collection_scans.fetch_add(1, std::memory_order_relaxed);
      NotePlan("COLLSCAN");
    }
    const size_t expected = sort.empty() ? limit_hint : 0;
    return std::unique_ptr<DocumentScan>(std::make_unique<NaturalScan>(engine, user_txn, std::move(view), entry.id, hint.natural < 0, expected));
  }
  if (!describe) plan.index->accesses().Record();
  const bool geo_near = geo->has_value() && HasNearOperator(filter);  // a $near plan (not a hinted region)
  if (!describe && MetricsCollecting()) {
    NotePlan(PlanSummaryText(geo_near ? GeoNearStageName(*plan.index) : "IXSCAN", plan.index->key_pattern()));
  }
  if (summary != nullptr) {
    Summarize(plan, summary);
    summary->geo_near = geo_near;
  }
  const size_t expected = (sort.empty() || plan.provides_sort) ? limit_hint : 0;
  const bool entries_only = entries_if_exact && plan.exact;
  if (summary != nullptr) summary->entries_only = entries_only;
  return std::unique_ptr<DocumentScan>(std::make_unique<IndexScan>(
      engine, user_txn, std::move(view), entry.id, plan, entries_only ? 256 : expected, /*fetch_records=*/!entries_only));
}

Result<std::optional<int64_t>> CountExactMatches(EngineImpl* engine, rocksdb::Transaction* user_txn,
                                                 const storage::CollectionEntry& entry, const Document& filter,
                                                 const ResolvedHint& hint, const text::Collator* collation) {
  if (HasTextOperator(filter)) return std::optional<int64_t>();  // counted through the text plan's matches
  if (HasNearOperator(filter)) return std::optional<int64_t>();  // counted through the geo plan's matches
  if (hint.present && hint.index != nullptr && IsGeoIndex(*hint.index)) return std::optional<int64_t>();
  ReadViewPool::View view;
  index::Plan plan =
      PlanAtSnapshot(engine, user_txn, entry, filter, Document(), /*describe=*/false, hint, &view, collation);
  if (plan.index == nullptr || !plan.exact) {
    engine->read_views->Release(std::move(view));
    return std::optional<int64_t>();
  }
  plan.index->accesses().Record();
  if (MetricsCollecting()) NotePlan(PlanSummaryText("COUNT_SCAN", plan.index->key_pattern()));
  IndexScan scan(engine, user_txn, std::move(view), entry.id, plan, /*expected=*/256, /*fetch_records=*/false);
  int64_t count = 0;
  for (; scan.Valid(); scan.Next()) {
    DOCKET_RETURN_IF_ERROR(CheckDeadline());
    ++count;
  }
  DOCKET_RETURN_IF_ERROR(scan.status());
  return std::optional<int64_t>(count);
}

}  // namespace docket::engine
