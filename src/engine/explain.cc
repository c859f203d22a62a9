// Collection::Explain: the plan a find would use, and what running it read,
// in the shape of MongoDB's explain("executionStats").
#include "docket/deadline.h"
#include "bson/builder.h"
#include "docket/engine.h"
#include "engine/scan.h"
#include "engine/views.h"
#include "query/filter.h"
#include "query/sort.h"

namespace docket {

namespace {

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
    bson::AppendDocument(&scan, "indexBounds", plan.bounds);
    bson_append_document_end(leaf_parent, &scan);
  }
  if (in_memory_sort) bson_append_document_end(&stage, &input);
  bson_append_document_end(out, &stage);
}

}  // namespace

Result<Document> Collection::Explain(const Document& filter_doc, const FindOptions& given) {
  {
    auto guard = engine::ResolveForRead(engine_, db_, name_, nullptr, engine::Views::kAllow);
    if (!guard.ok()) return guard.status();
    if (guard->entry && guard->entry->view) {
      // As MongoDB: the explain of the aggregation the find becomes.
      guard->lock.unlock();
      AggregateOptions aggregate;
      aggregate.hint = given.hint;
      aggregate.let = given.let;
      return ExplainAggregate(engine::FindAsPipeline(filter_doc, given), aggregate);
    }
  }
  FindOptions options = given;
  DOCKET_RETURN_IF_ERROR(engine::RewriteNaturalSort(&options.sort, &options.hint));
  auto filter = query::Filter::CompileWithLet(filter_doc, options.let);
  if (!filter.ok()) return filter.status();
  auto sort = query::SortSpec::Compile(options.sort);
  if (!sort.ok()) return sort.status();
  engine::PlanSummary plan;
  int64_t returned = 0, keys = 0, docs = 0;
  auto guard = engine::ResolveForRead(engine_, db_, name_);
  if (!guard.ok()) return guard.status();
  engine::ResolvedHint hint;
  if (guard->entry) {
    auto resolved = engine::ResolveHint(*guard->entry, options.hint, filter_doc);
    if (!resolved.ok()) return resolved.status();
    hint = std::move(resolved).value();
  }
  bool id_lookup = filter->id_equality().has_value() && options.sort.empty() && hint.index == nullptr && hint.natural == 0;
  if (id_lookup) {
    guard->lock.unlock();  // FindOne resolves the collection itself
    auto found = FindOne(filter_doc, options);
    if (!found.ok()) return found.status();
    returned = *found ? 1 : 0;
    keys = docs = returned;
  } else {
    if (guard->entry) {
      auto opened = engine::OpenScan(engine_, nullptr, *guard->entry, filter_doc, options.sort, &plan,
                                     /*describe=*/true, 0, false, hint);
      if (!opened.ok()) return opened.status();
      auto scan = std::move(opened).value();
      for (; scan->Valid(); scan->Next()) {
        DOCKET_RETURN_IF_ERROR(CheckDeadline());
        rocksdb::Slice v = scan->value();
        if (filter->Matches(reinterpret_cast<const uint8_t*>(v.data()), v.size())) ++returned;
      }
      DOCKET_RETURN_IF_ERROR(scan->status());
      keys = scan->keys_examined();
      docs = scan->docs_examined();
      returned = std::max<int64_t>(0, returned - options.skip);
      if (options.limit != 0) returned = std::min<int64_t>(returned, std::abs(options.limit));
    }
  }
  bson::Builder out;
  bson_t planner, stats, rejected;
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "queryPlanner", &planner);
  BSON_APPEND_UTF8(&planner, "namespace", (db_ + "." + name_).c_str());
  bson::AppendDocument(&planner, "parsedQuery", filter_doc);
  AppendPlan(&planner, "winningPlan", plan, filter_doc, options.sort, id_lookup);
  BSON_APPEND_ARRAY_BEGIN(&planner, "rejectedPlans", &rejected);
  bson_append_array_end(&planner, &rejected);
  bson_append_document_end(out.get(), &planner);
  BSON_APPEND_DOCUMENT_BEGIN(out.get(), "executionStats", &stats);
  BSON_APPEND_BOOL(&stats, "executionSuccess", true);
  BSON_APPEND_INT64(&stats, "nReturned", returned);
  BSON_APPEND_INT64(&stats, "totalKeysExamined", keys);
  BSON_APPEND_INT64(&stats, "totalDocsExamined", docs);
  bson_append_document_end(out.get(), &stats);
  return out.Finish();
}

}  // namespace docket
