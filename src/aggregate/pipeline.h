// Parsing and running whole pipelines. The engine's Collection::Aggregate and
// Engine::Aggregate are built from these (aggregate/pipeline.cc).
//
// Optimisations, the ones MongoDB makes that matter most:
//   * a leading $match (consecutive ones merged) becomes the collection
//     scan's filter, so the planner can use an index, and is matched on the
//     stored bytes before anything is copied;
//   * a $sort right after it is handed to the planner too; when an index
//     gives the order, the $sort stage disappears;
//   * $sort followed by $limit (with $skip between) keeps only the first
//     skip+limit documents in a bounded heap.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aggregate/stage.h"

namespace docket::aggregate {

struct Pipeline {
  std::vector<SpecPtr> stages;
  text::CollatorPtr collation;  // what its stages compare strings by (they point here)
  // Whether a stage reads {$meta: "textScore"}: then the documents of a
  // first $match with $text carry their scores (expr::Value::text_score).
  bool uses_text_score = false;
};

using PipelinePtr = std::shared_ptr<const Pipeline>;

// Errors: Location40324 for an unknown stage, Location40323 for a stage that
// is not a one-field document, the stages' own codes.
Result<PipelinePtr> ParsePipeline(const std::vector<Document>& stages, ParseContext& ctx);

// Runs `pipeline` from `first` over `input`.
Result<StagePtr> OpenOn(const Pipeline& pipeline, size_t first, StagePtr input, const RunContext& ctx);
// Runs `pipeline` over the documents of collection `name` in ctx.db; when
// `name` is a view, over what the view's pipeline makes of its collection.
// `extra_filter`, when set, narrows the scan further (a $lookup's join
// condition); the pushed-down $match still applies. `hint` names the index
// the scan must use (the command's hint; errors: BadValue, see ResolveHint).
Result<StagePtr> OpenOnCollection(const Pipeline& pipeline, const std::string& name, const RunContext& ctx,
                                  const Document* extra_filter = nullptr, const IndexHint* hint = nullptr);

// Runs `stages` over collection (or view) db.`name`, as Collection::Aggregate
// does, as a stream of its results (what find on a view reads).
Result<StreamPtr> AggregateStream(EngineImpl* engine, const std::string& db, const std::string& name,
                                  const std::vector<Document>& stages, const AggregateOptions& options);

// The documents of collection ctx.db.`name` matching `filter` (with its $expr
// evaluated in `vars` when given), through the planner.
Result<StagePtr> ScanCollection(const std::string& name, const Document& filter, const RunContext& ctx);

}  // namespace docket::aggregate
