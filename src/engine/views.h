// Read-only views (MongoDB's `create` with viewOn and pipeline). A view is a
// catalog entry (storage::ViewDefinition) without records or indexes; a read
// of it runs its pipeline over what it is defined on, a collection or another
// view of the same database, followed by the read itself:
//   * aggregate: the view's pipeline, then the user's (aggregate/pipeline.cc,
//     OpenOnCollection, which $lookup, $graphLookup and $unionWith share);
//   * find: the aggregate [$match, $sort, $skip, $limit, $project]
//     (FindOnView);
//   * count, distinct: through find.
// Everything that needs a collection (writes, indexes, stats, validate,
// rename, capped conversions) gets CommandNotSupportedOnView (166).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "engine/stream.h"
#include "storage/catalog.h"

namespace docket::engine {

// MongoDB's limits: a chain of views is at most kMaxViewDepth deep when
// defined, and a read looks through at most kMaxViewDepth namespaces (so it
// reads a chain of up to 19 views); the pipelines of a chain together hold
// at most kMaxViewPipelineBytes.
inline constexpr int kMaxViewDepth = 20;
inline constexpr size_t kMaxViewPipelineBytes = 16 * 1000 * 1000;

// CommandNotSupportedOnView: "Namespace db.name is a view, not a collection".
Status NotACollection(std::string_view db, std::string_view name);

// What a read of a view reads: the collection at the end of the chain of
// views (it may not exist: then nothing) and the pipelines of the views on
// the way, innermost first, concatenated.
struct ResolvedView {
  std::string base;
  std::vector<Document> pipeline;
  text::CollatorPtr collation;  // the view's default collation (null: simple)
};

// A view's default collation (null: simple). Errors: the stored spec cannot
// be made (an internal error).
Result<text::CollatorPtr> ViewCollation(const storage::ViewDefinition& definition);

// Resolves view db.`name` whose definition is `definition` (read under the
// entry's lifecycle lock by the caller) through the views it is defined on.
// Errors: ViewDepthLimitExceeded, ViewPipelineMaxSizeExceeded.
Result<ResolvedView> ResolveView(EngineImpl* engine, std::string_view db, const storage::ViewDefinition& definition,
                                 Transaction* txn);

// Checks a definition before `create` or `collMod` makes db.`name` a view
// with it: viewOn a valid collection name; a pipeline that parses, with no
// stage a view cannot hold ($out, $merge, $changeStream, $documents...); no
// cycle through viewOn and the collections its $lookup, $graphLookup and
// $unionWith stages read (GraphContainsCycle, 5) and no chain deeper than
// kMaxViewDepth (ViewDepthLimitExceeded, 165), with the definition in place.
Status CheckViewDefinition(EngineImpl* engine, std::string_view db, std::string_view name,
                           const storage::ViewDefinition& definition);

// Engine::CreateCollection with options.view_on set. Errors: the options a
// view cannot have (InvalidOptions), inside a transaction
// (OperationNotSupportedInTransaction), CheckViewDefinition's, NamespaceExists.
Status CreateView(EngineImpl* engine, std::string_view db, std::string_view name, const CollectionOptions& options,
                  Transaction* txn);

// Whether db.`name` is a view now (for what only a collection can do,
// checked before it starts, with the command's own message).
bool IsView(EngineImpl* engine, std::string_view db, std::string_view name);

// find on view db.`name`, as MongoDB runs it: the aggregation of the view's
// pipeline and FindAsPipeline; the stream a Cursor reads. Errors: what find
// refuses on a view (tailable, a $natural sort: InvalidPipelineOperator),
// the aggregation's (its InvalidPipelineOperator prefixed "Unsupported in
// view pipeline: ").
Result<StreamPtr> FindOnView(EngineImpl* engine, std::string_view db, std::string_view name, const Document& filter,
                          const FindOptions& options);

// The aggregation `find` becomes on a view: [$match, $sort, $skip, $limit,
// $project], each present only when the option is set (so a find-only
// projection, `a.$` or $elemMatch, fails as $project, as in MongoDB).
std::vector<Document> FindAsPipeline(const Document& filter, const FindOptions& options);

}  // namespace docket::engine
