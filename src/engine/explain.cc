// Collection::Explain: the plan a find would use, and what running it read,
// in the shape of MongoDB's explain at each verbosity.
#include <chrono>

#include "docket/deadline.h"
#include "bson/builder.h"
#include "docket/engine.h"
#include "engine/scan.h"
#include "bson/append_element.h"
#include "engine/text_plan.h"
#include "engine/operation_collation.h"
#include "engine/views.h"
#include "query/filter.h"
#include "query/sort.h"

namespace docket {

namespace {

// A $text plan's root, as MongoDB's: {stage: "TEXT_MATCH", indexPrefix,
// indexName, parsedTextQuery, textIndexVersion, inputStage: ...}. Returns
// the input stage's document (`*input`, opened in `parent`), which the
// caller closes.
bson_t* BeginTextMatch(bson_t* parent, const engine::PlanSummary& plan, bson_t* input) {
  BSON_APPEND_UTF8(parent, "stage", "TEXT_MATCH");
  bson_iter_t it;
  if (plan.bounds.Find("indexPrefix", &it)) bson::AppendElement(parent, "indexPrefix", -1, &it);
  BSON_APPEND_UTF8(parent, "indexName", plan.index_name.c_str());
  if (plan.bounds.Find("parsedTextQuery", &it)) bson::AppendElement(parent, "parsedTextQuery", -1, &it);
  BSON_APPEND_INT32(parent, "textIndexVersion", 3);
  BSON_APPEND_DOCUMENT_BEGIN(parent, "inputStage", input);
  return input;
}

// A $near plan's root, as MongoDB's: {stage: "GEO_NEAR_2DSPHERE",
// keyPattern, indexName, indexVersion, inputStage: ...}; as BeginTextMatch.
bson_t* BeginGeoNear(bson_t* parent, const engine::PlanSummary& plan, bson_t* input) {
  // GEO_NEAR_2D when the index's geo field is "2d".
  bool flat = false;
  bson_iter_t field;
  plan.key_pattern.Iterate(&field);
  while (bson_iter_next(&field)) {
    flat = flat || (BSON_ITER_HOLDS_UTF8(&field) && std::string_view(bson_iter_utf8(&field, nullptr)) == "2d");
  }
  BSON_APPEND_UTF8(parent, "stage", flat ? "GEO_NEAR_2D" : "GEO_NEAR_2DSPHERE");
  bson::AppendDocument(parent, "keyPattern", plan.key_pattern);
  BSON_APPEND_UTF8(parent, "indexName", plan.index_name.c_str());
  BSON_APPEND_INT32(parent, "indexVersion", 2);
  BSON_APPEND_DOCUMENT_BEGIN(parent, "inputStage", input);
  return input;
}

// {stage: "FETCH", inputStage: {stage: "IXSCAN", ...}} or {stage: "COLLSCAN"},
// under SORT when the scan does not give the order.
void AppendPlan(bson_t* out, const char* key, const engine::PlanSummary& plan, const Document& filter,
                const Document& sort, bool id_lookup) {
  bson_t stage, input, scan;
  bson_append_document_begin(out, key, -1, &stage);
  if (id_lookup) {
    BSON_APPEND_UTF8(&stage, "stage", "IDHACK");
    bson_append_document_end(out, &stage);
    return;
  }
  bson_t* leaf_parent = &stage;
  bool in_memory_sort = !sort.empty() && !plan.provides_sort;
  if (in_memory_sort) {
    BSON_APPEND_UTF8(&stage, "stage", "SORT");
    bson::AppendDocument(&stage, "sortPattern", sort);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "inputStage", &input);
    leaf_parent = &input;
  }
  bson_t text_input;
  if (plan.text) leaf_parent = BeginTextMatch(leaf_parent, plan, &text_input);
  if (plan.geo_near) leaf_parent = BeginGeoNear(leaf_parent, plan, &text_input);
  if (plan.index_name.empty()) {
    BSON_APPEND_UTF8(leaf_parent, "stage", "COLLSCAN");
    bson::AppendDocument(leaf_parent, "filter", filter);
    BSON_APPEND_UTF8(leaf_parent, "direction", plan.reverse ? "backward" : "forward");
  } else {
    BSON_APPEND_UTF8(leaf_parent, "stage", "FETCH");
    // As MongoDB's: no filter when the index bounds are exact.
    if (!plan.exact) bson::AppendDocument(leaf_parent, "filter", filter);
    BSON_APPEND_DOCUMENT_BEGIN(leaf_parent, "inputStage", &scan);
    BSON_APPEND_UTF8(&scan, "stage", "IXSCAN");
    bson::AppendDocument(&scan, "keyPattern", plan.key_pattern);
    BSON_APPEND_UTF8(&scan, "indexName", plan.index_name.c_str());
    BSON_APPEND_BOOL(&scan, "isMultiKey", plan.multikey);
    BSON_APPEND_BOOL(&scan, "isUnique", plan.unique);
    BSON_APPEND_BOOL(&scan, "isSparse", plan.sparse);
    BSON_APPEND_BOOL(&scan, "isPartial", plan.partial);
    BSON_APPEND_INT32(&scan, "indexVersion", 2);
    BSON_APPEND_UTF8(&scan, "direction", plan.reverse ? "backward" : "forward");
    bson::AppendDocument(&scan, "indexBounds", plan.text ? Document() : plan.bounds);
    bson_append_document_end(leaf_parent, &scan);
  }
  if (plan.text || plan.geo_near) bson_append_document_end(in_memory_sort ? &input : &stage, &text_input);
  if (in_memory_sort) bson_append_document_end(&stage, &input);
  bson_append_document_end(out, &stage);
}

// What running the plan did, per stage (MongoDB's executionStages).
struct StageCounts {
  int64_t returned = 0;  // after skip and limit
  int64_t matched = 0;   // documents that passed the filter
  int64_t keys = 0;      // index entries examined
  int64_t docs = 0;      // documents fetched
};

// The plan of AppendPlan with each stage's figures.
void AppendStages(bson_t* out, const engine::PlanSummary& plan, const Document& filter, const Document& sort,
                  bool id_lookup, const StageCounts& counts) {
  bson_t stage, input, scan;
  BSON_APPEND_DOCUMENT_BEGIN(out, "executionStages", &stage);
  if (id_lookup) {
    BSON_APPEND_UTF8(&stage, "stage", "IDHACK");
    BSON_APPEND_INT64(&stage, "nReturned", counts.returned);
    BSON_APPEND_INT64(&stage, "keysExamined", counts.keys);
    BSON_APPEND_INT64(&stage, "docsExamined", counts.docs);
    bson_append_document_end(out, &stage);
    return;
  }
  bson_t* leaf_parent = &stage;
  const bool in_memory_sort = !sort.empty() && !plan.provides_sort;
  if (in_memory_sort) {
    BSON_APPEND_UTF8(&stage, "stage", "SORT");
    BSON_APPEND_INT64(&stage, "nReturned", counts.returned);
    bson::AppendDocument(&stage, "sortPattern", sort);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "inputStage", &input);
    leaf_parent = &input;
  }
  bson_t text_input;
  if (plan.text) leaf_parent = BeginTextMatch(leaf_parent, plan, &text_input);
  if (plan.geo_near) leaf_parent = BeginGeoNear(leaf_parent, plan, &text_input);
  if (plan.index_name.empty()) {
    BSON_APPEND_UTF8(leaf_parent, "stage", "COLLSCAN");
    BSON_APPEND_INT64(leaf_parent, "nReturned", counts.matched);
    bson::AppendDocument(leaf_parent, "filter", filter);
    BSON_APPEND_UTF8(leaf_parent, "direction", plan.reverse ? "backward" : "forward");
    BSON_APPEND_INT64(leaf_parent, "docsExamined", counts.docs);
  } else {
    BSON_APPEND_UTF8(leaf_parent, "stage", "FETCH");
    BSON_APPEND_INT64(leaf_parent, "nReturned", counts.matched);
    if (!plan.exact) bson::AppendDocument(leaf_parent, "filter", filter);
    BSON_APPEND_INT64(leaf_parent, "docsExamined", counts.docs);
    BSON_APPEND_DOCUMENT_BEGIN(leaf_parent, "inputStage", &scan);
    BSON_APPEND_UTF8(&scan, "stage", "IXSCAN");
    BSON_APPEND_INT64(&scan, "nReturned", counts.docs);  // each entry it passed on was fetched
    bson::AppendDocument(&scan, "keyPattern", plan.key_pattern);
    BSON_APPEND_UTF8(&scan, "indexName", plan.index_name.c_str());
    BSON_APPEND_UTF8(&scan, "direction", plan.reverse ? "backward" : "forward");
    bson::AppendDocument(&scan, "indexBounds", plan.text ? Document() : plan.bounds);
    BSON_APPEND_INT64(&scan, "keysExamined", counts.keys);
    bson_append_document_end(leaf_parent, &scan);
  }
  if (plan.text || plan.geo_near) bson_append_document_end(in_memory_sort ? &input : &stage, &text_input);
  if (in_memory_sort) bson_append_document_end(&stage, &input);
  bson_append_document_end(out, &stage);
}

}  // namespace

Result<Document> Collection::Explain(const Document& filter_doc, const FindOptions& given, ExplainVerbosity verbosity) {
  {
    auto guard = engine::ResolveForRead(engine_, db_, name_, nullptr, engine::Views::kAllow);
    if (!guard.ok()) return guard.status();
    if (guard->entry && guard->entry->view) {
      // As MongoDB: the explain of the aggregation the find becomes.
      guard->lock.unlock();
      AggregateOptions aggregate;
      aggregate.hint = given.hint;
      aggregate.let = given.let;
      aggregate.collation = given.collation;
      return ExplainAggregate(engine::FindAsPipeline(filter_doc, given), aggregate);  // its own shape
    }
  }
  FindOptions options = given;
  DOCKET_RETURN_IF_ERROR(engine::RewriteNaturalSort(&options.sort, &options.hint));
  text::CollatorPtr collation;
  {
    const storage::EntryPtr entry = engine_->catalog->Find(db_, name_);
    auto resolved = engine::ResolveCollation(options.collation, entry.get());
    if (!resolved.ok()) return resolved.status();
    collation = std::move(resolved).value();
  }
  auto filter = query::Filter::CompileWithLet(filter_doc, options.let, collation);
  if (!filter.ok()) return filter.status();
  auto sort = query::SortSpec::Compile(options.sort, collation.get());
  if (!sort.ok()) return sort.status();
  engine::PlanSummary plan;
  StageCounts counts;
  const bool run = verbosity != ExplainVerbosity::kQueryPlanner;
  const auto started = std::chrono::steady_clock::now();
  auto guard = engine::ResolveForRead(engine_, db_, name_);
  if (!guard.ok()) return guard.status();
  DOCKET_RETURN_IF_ERROR(engine::BindTextSearch(guard->entry.get(), &*filter));
  engine::ResolvedHint hint;
  if (guard->entry) {
    auto resolved = engine::ResolveHint(*guard->entry, options.hint, filter_doc);
    if (!resolved.ok()) return resolved.status();
    hint = std::move(resolved).value();
    DOCKET_RETURN_IF_ERROR(engine::ResolveMinMax(options.min, options.max, collation.get(), &hint));
  }
  bool id_lookup = filter->id_equality().has_value() && options.sort.empty() && hint.index == nullptr && hint.natural == 0;
  if (id_lookup) {
    guard->lock.unlock();  // FindOne resolves the collection itself
    if (run) {
      auto found = FindOne(filter_doc, options);
      if (!found.ok()) return found.status();
      counts.returned = counts.matched = *found ? 1 : 0;
      counts.keys = counts.docs = counts.returned;  // as mongod's IDHACK: the key and record found
    }
  } else if (guard->entry && !run) {
    DOCKET_RETURN_IF_ERROR(
        engine::DescribePlan(engine_, *guard->entry, filter_doc, options.sort, hint, &plan, collation.get()));
  } else if (guard->entry) {
    auto opened = engine::OpenScan(engine_, nullptr, *guard->entry, filter_doc, options.sort, &plan,
                                   /*describe=*/true, 0, false, hint, collation.get());
    if (!opened.ok()) return opened.status();
    auto scan = std::move(opened).value();
    for (; scan->Valid(); scan->Next()) {
      DOCKET_RETURN_IF_ERROR(CheckDeadline());
      rocksdb::Slice v = scan->value();
      if (filter->Matches(reinterpret_cast<const uint8_t*>(v.data()), v.size())) ++counts.matched;
    }
    DOCKET_RETURN_IF_ERROR(scan->status());
    counts.keys = scan->keys_examined();
    counts.docs = scan->docs_examined();
    counts.returned = std::max<int64_t>(0, counts.matched - options.skip);
    if (options.limit != 0) counts.returned = std::min<int64_t>(counts.returned, std::abs(options.limit));
  }
  const int64_t millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  bson::Builder out;
  bson_t planner, stats, rejected;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "queryPlanner", &planner);
  BSON_APPEND_UTF8(&planner, "namespace", (db_ + "." + name_).c_str());
  bson::AppendDocument(&planner, "parsedQuery", filter_doc);
  AppendPlan(&planner, "winningPlan", plan, filter_doc, options.sort, id_lookup);
  BSON_APPEND_ARRAY_BEGIN(&planner, "rejectedPlans", &rejected);
  bson_append_array_end(&planner, &rejected);
  bson_append_document_end(out.get(), &planner);
  if (!run) return out.Finish();
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "executionStats", &stats);
  BSON_APPEND_BOOL(&stats, "executionSuccess", true);
  BSON_APPEND_INT64(&stats, "nReturned", counts.returned);
  BSON_APPEND_INT64(&stats, "executionTimeMillis", millis);
  BSON_APPEND_INT64(&stats, "totalKeysExamined", counts.keys);
  BSON_APPEND_INT64(&stats, "totalDocsExamined", counts.docs);
  AppendStages(&stats, plan, filter_doc, options.sort, id_lookup, counts);
  if (verbosity == ExplainVerbosity::kAllPlansExecution) {
    bson_t candidates;  // one plan chosen by rule: none raced, none rejected
    BSON_APPEND_ARRAY_BEGIN(&stats, "allPlansExecution", &candidates);
    bson_append_array_end(&stats, &candidates);
  }
  bson_append_document_end(out.get(), &stats);
  return out.Finish();
}

}  // namespace docket
