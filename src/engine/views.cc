#include "engine/views.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "aggregate/pipeline.h"
#include "bson/builder.h"
#include "engine/capped.h"
#include "engine/namespace.h"
#include "expr/expression.h"

namespace docket::engine {

Status NotACollection(std::string_view db, std::string_view name) {
  return Status(ErrorCode::kCommandNotSupportedOnView,
                "Namespace " + std::string(db) + "." + std::string(name) + " is a view, not a collection");
}

namespace {

// A read found more views in a row than a read may go through.
Status TooDeepToRead() {
  return Status(ErrorCode::kViewDepthLimitExceeded,
                "View depth too deep or view cycle detected; maximum depth is " + std::to_string(kMaxViewDepth));
}

// A definition would make a chain of views deeper than kMaxViewDepth.
Status TooDeepToDefine() {
  return Status(ErrorCode::kViewDepthLimitExceeded,
                "View depth limit exceeded; maximum depth is " + std::to_string(kMaxViewDepth));
}

size_t PipelineBytes(const std::vector<Document>& pipeline) {
  size_t bytes = 0;
  for (const Document& stage : pipeline) bytes += stage.size();
  return bytes;
}

// The current definition of db.`name` if it is a view (a copy, read under its
// lifecycle lock), nullopt for a collection or nothing.
std::optional<storage::ViewDefinition> ViewOf(EngineImpl* engine, std::string_view db, std::string_view name,
                                              Transaction* txn) {
  storage::EntryPtr entry = engine->catalog->Find(db, name, txn != nullptr ? txn->impl() : nullptr);
  if (!entry) return std::nullopt;
  std::lock_guard lock(entry->options_mutex);  // not lifecycle: an index build holds that for long
  return entry->view;
}

// The collections of database `db` that `stages` read besides their input:
// the `from` of $lookup and $graphLookup and the `coll` of $unionWith, in
// sub-pipelines too ($lookup's, $unionWith's, $facet's). REQUIRES: the stages
// parsed (so their shapes are known good and their nesting bounded).
void CollectReads(const std::vector<Document>& stages, std::string_view db, std::set<std::string>* out);

void CollectReadsOfArray(const bson_iter_t& array, std::string_view db, std::set<std::string>* out) {
  std::vector<Document> stages;
  bson_iter_t it;
  if (!bson_iter_recurse(&array, &it)) return;
  while (bson_iter_next(&it)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_document(&it, &len, &data);
    stages.push_back(Document::FromTrustedBytes(std::string(reinterpret_cast<const char*>(data), len)));
  }
  CollectReads(stages, db, out);
}

// `it` holds a stage's `from` / `coll`: a name, or {db, coll}.
void AddNamespace(const bson_iter_t& it, std::string_view db, std::set<std::string>* out) {
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    out->insert(bson_iter_utf8(&it, nullptr));
    return;
  }
  if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return;
  std::string other_db(db), coll;
  bson_iter_t field;
  bson_iter_recurse(&it, &field);
  while (bson_iter_next(&field)) {
    if (!BSON_ITER_HOLDS_UTF8(&field)) continue;
    if (std::string_view(bson_iter_key(&field)) == "db") other_db = bson_iter_utf8(&field, nullptr);
    if (std::string_view(bson_iter_key(&field)) == "coll") coll = bson_iter_utf8(&field, nullptr);
  }
  if (other_db == db && !coll.empty()) out->insert(coll);
}

void CollectReads(const std::vector<Document>& stages, std::string_view db, std::set<std::string>* out) {
  for (const Document& stage : stages) {
    bson_iter_t it;
    stage.Iterate(&it);
    if (!bson_iter_next(&it)) continue;
    const std::string_view name = bson_iter_key(&it);
    if (name == "$unionWith" && BSON_ITER_HOLDS_UTF8(&it)) {
      AddNamespace(it, db, out);
      continue;
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
    bson_iter_t field;
    bson_iter_recurse(&it, &field);
    while (bson_iter_next(&field)) {
      const std::string_view key = bson_iter_key(&field);
      if ((name == "$lookup" || name == "$graphLookup") && key == "from") AddNamespace(field, db, out);
      if (name == "$unionWith" && key == "coll") AddNamespace(field, db, out);
      if ((name == "$lookup" || name == "$unionWith") && key == "pipeline" && BSON_ITER_HOLDS_ARRAY(&field)) {
        CollectReadsOfArray(field, db, out);
      }
      if (name == "$facet" && BSON_ITER_HOLDS_ARRAY(&field)) CollectReadsOfArray(field, db, out);
    }
  }
}

// Stages MongoDB does not let a view hold; `view` is db.name for messages.
Status CheckStagesAllowed(const std::vector<Document>& stages, const std::string& view) {
  for (size_t i = 0; i < stages.size(); ++i) {
    bson_iter_t it;
    stages[i].Iterate(&it);
    if (!bson_iter_next(&it)) continue;
    const std::string name = bson_iter_key(&it);
    if (name == "$out" || name == "$merge") {
      return Status(ErrorCode::kOptionNotSupportedOnView,
                    "The aggregation stage " + name + " in location " + std::to_string(i) +
                        " of the pipeline cannot be used in the view definition of " + view +
                        " because it writes to disk");
    }
    if (name == "$changeStream") {
      return Status(ErrorCode::kOptionNotSupportedOnView, "$changeStream cannot be used in a view definition");
    }
    if (name == "$documents" || name == "$currentOp" || name == "$listLocalSessions") {
      return Status(ErrorCode::kInvalidNamespace, "'" + name + "' cannot be used in a view definition");
    }
  }
  return Status::OK();
}

// The pipeline's errors as create and collMod report them: wrapped in the
// view's name, except those MongoDB finds before it parses the stages.
Status CheckPipeline(const std::vector<Document>& stages, std::string_view db, const std::string& view) {
  Status s = CheckStagesAllowed(stages, view);
  if (s.ok()) {
    expr::Scope scope;
    aggregate::ParseContext parse{std::string(db), &scope};
    s = aggregate::ParsePipeline(stages, parse).status();
  }
  const int code = static_cast<int>(s.code());
  if (s.ok() || code == 40324 || code == 51047 || code == 40600) return s;
  return Status(s.code(), "Invalid pipeline for view " + view + " :: caused by :: " + s.message());
}

}  // namespace

Result<ResolvedView> ResolveView(EngineImpl* engine, std::string_view db, const storage::ViewDefinition& definition,
                                 Transaction* txn) {
  std::vector<const std::vector<Document>*> layers{&definition.pipeline};
  std::vector<storage::ViewDefinition> held;  // the copies `layers` points into
  held.reserve(kMaxViewDepth);
  std::string base = definition.view_on;
  while (auto next = ViewOf(engine, db, base, txn)) {
    // As MongoDB: a read looks at most kMaxViewDepth namespaces, and the
    // last must be a collection (so 19 views on a collection can be read).
    if (held.size() + 2 >= static_cast<size_t>(kMaxViewDepth)) return TooDeepToRead();
    held.push_back(std::move(*next));
    layers.push_back(&held.back().pipeline);
    base = held.back().view_on;
  }
  ResolvedView out;
  out.base = std::move(base);
  auto collation = ViewCollation(definition);
  if (!collation.ok()) return collation.status();
  out.collation = std::move(collation).value();
  size_t bytes = 0;
  for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer) {
    out.pipeline.insert(out.pipeline.end(), (*layer)->begin(), (*layer)->end());
    bytes += PipelineBytes(**layer);
  }
  if (bytes > kMaxViewPipelineBytes) {
    return Status(ErrorCode::kViewPipelineMaxSizeExceeded,
                  "View pipeline exceeds maximum size; maximum size is " + std::to_string(kMaxViewPipelineBytes));
  }
  return out;
}

Result<text::CollatorPtr> ViewCollation(const storage::ViewDefinition& definition) {
  if (definition.collation.empty()) return text::CollatorPtr();
  return text::Collator::FromStored(definition.collation);
}

Status CheckViewDefinition(EngineImpl* engine, std::string_view db, std::string_view name,
                           const storage::ViewDefinition& definition) {
  const std::string full = std::string(db) + "." + std::string(name);
  if (name == "system.views") {
    return Status(ErrorCode::kInvalidNamespace,
                  "Cannot create a view called 'system.views': this is a reserved system namespace");
  }
  if (name.substr(0, 7) == "system.") {
    return Status(ErrorCode::kInvalidNamespace,
                  "View name cannot start with 'system.', which is reserved for system namespaces");
  }
  if (definition.view_on.empty()) return Status(ErrorCode::kBadValue, "'viewOn' cannot be empty");
  if (!ValidateCollectionName(db, definition.view_on).ok()) {
    return Status(ErrorCode::kInvalidNamespace, "invalid name for 'viewOn': " + definition.view_on);
  }
  DOCKET_RETURN_IF_ERROR(CheckPipeline(definition.pipeline, db, full));
  // A view on a view shares its collation (MongoDB's rule).
  if (auto below = ViewOf(engine, db, definition.view_on, nullptr); below && below->collation != definition.collation) {
    return Status(ErrorCode::kOptionNotSupportedOnView, "View " + full + " has conflicting collation with view " +
                                                            std::string(db) + "." + definition.view_on);
  }
  // The dependency graph with the new definition in place: from `name`,
  // every path must end within kMaxViewDepth views and never come back, and
  // the pipelines along the viewOn chain must fit in kMaxViewPipelineBytes.
  std::map<std::string, int> known;  // heights found so far (a shared dependency is walked once)
  std::function<Result<int>(const std::string&, std::vector<std::string>&)> height =
      [&](const std::string& view, std::vector<std::string>& path) -> Result<int> {
    if (std::find(path.begin(), path.end(), view) != path.end()) {
      // MongoDB's form: the start, then the walk from its end back to it.
      std::string cycle = full;
      cycle += " => " + std::string(db) + "." + view;
      for (auto step = path.rbegin(); step != path.rend(); ++step) cycle += " => " + std::string(db) + "." + *step;
      return Status(ErrorCode::kGraphContainsCycle, "View cycle detected: " + cycle);
    }
    if (path.size() > static_cast<size_t>(kMaxViewDepth)) return TooDeepToDefine();
    if (auto found = known.find(view); found != known.end()) return found->second;
    std::optional<storage::ViewDefinition> def;
    if (view == name) {
      def = definition;
    } else {
      def = ViewOf(engine, db, view, nullptr);
    }
    if (!def) return 0;  // a collection, or nothing yet
    std::set<std::string> reads{def->view_on};
    CollectReads(def->pipeline, db, &reads);
    path.push_back(view);
    int deepest = 0;
    for (const std::string& next : reads) {
      auto h = height(next, path);
      if (!h.ok()) return h.status();
      deepest = std::max(deepest, *h);
    }
    path.pop_back();
    if (deepest + 1 > kMaxViewDepth) return TooDeepToDefine();
    known[view] = deepest + 1;
    return deepest + 1;
  };
  std::vector<std::string> path;
  auto h = height(std::string(name), path);
  if (!h.ok()) return h.status();
  size_t bytes = PipelineBytes(definition.pipeline);
  std::string below = definition.view_on;
  for (int step = 0; step < kMaxViewDepth; ++step) {
    auto next = ViewOf(engine, db, below, nullptr);
    if (!next) break;
    bytes += PipelineBytes(next->pipeline);
    below = next->view_on;
  }
  if (bytes > kMaxViewPipelineBytes) {
    return Status(ErrorCode::kViewPipelineMaxSizeExceeded,
                  "Operation would result in a resolved view pipeline that exceeds the maximum size of " +
                      std::to_string(kMaxViewPipelineBytes) + " bytes");
  }
  return Status::OK();
}

Status CreateView(EngineImpl* engine, std::string_view db, std::string_view name, const CollectionOptions& options,
                  Transaction* txn) {
  // MongoDB 6.0 checks capped/size/max as for a collection and then ignores
  // them for a view.
  auto capped = CappedLimitsFor(options);
  if (!capped.ok()) return capped.status();
  if (txn != nullptr) {
    return Status(ErrorCode::kOperationNotSupportedInTransaction,
                  "Cannot create a view in a multi-document transaction.");
  }
  storage::ViewDefinition definition{*options.view_on, options.pipeline, Document()};
  if (!options.collation.empty()) {
    auto collation = text::Collator::Make(options.collation);
    if (!collation.ok()) return collation.status();
    if (*collation != nullptr) definition.collation = (*collation)->spec();
  }
  std::lock_guard serial(engine->view_definitions);
  DOCKET_RETURN_IF_ERROR(CheckViewDefinition(engine, db, name, definition));
  return engine->catalog->Create(db, name, std::nullopt, std::move(definition));
}

bool IsView(EngineImpl* engine, std::string_view db, std::string_view name) {
  return ViewOf(engine, db, name, nullptr).has_value();
}

std::vector<Document> FindAsPipeline(const Document& filter, const FindOptions& options) {
  std::vector<Document> stages;
  auto one = [&](const char* stage, auto append) {
    bson::Builder b;
    append(b.get(), stage);
    stages.push_back(b.Finish());
  };
  if (!filter.empty()) one("$match", [&](bson_t* b, const char* k) { bson::AppendDocument(b, k, filter); });
  if (!options.sort.empty()) one("$sort", [&](bson_t* b, const char* k) { bson::AppendDocument(b, k, options.sort); });
  if (options.skip > 0) one("$skip", [&](bson_t* b, const char* k) { BSON_APPEND_INT64(b, k, options.skip); });
  if (options.limit != 0) {
    one("$limit", [&](bson_t* b, const char* k) { BSON_APPEND_INT64(b, k, std::abs(options.limit)); });
  }
  if (!options.projection.empty()) {
    one("$project", [&](bson_t* b, const char* k) { bson::AppendDocument(b, k, options.projection); });
  }
  return stages;
}

Result<StreamPtr> FindOnView(EngineImpl* engine, std::string_view db, std::string_view name, const Document& filter,
                             const FindOptions& options) {
  if (options.tailable) {
    return Status(ErrorCode::kInvalidPipelineOperator, "Tailable cursors are not supported in aggregation.");
  }
  bson_iter_t natural;
  if (options.sort.Find("$natural", &natural)) {
    return Status(ErrorCode::kInvalidPipelineOperator, "Sort option $natural not supported in aggregation.");
  }
  if (options.skip < 0) return Status(ErrorCode::kBadValue, "skip value must be non-negative");
  AggregateOptions aggregate;
  aggregate.batch_size = options.batch_size;
  aggregate.allow_disk_use = options.allow_disk_use;
  aggregate.let = options.let;
  aggregate.hint = options.hint;
  aggregate.read = options.read;
  aggregate.collation = options.collation;
  auto stream = aggregate::AggregateStream(engine, std::string(db), std::string(name),
                                           FindAsPipeline(filter, options), aggregate);
  if (stream.status().code() == ErrorCode::kInvalidPipelineOperator) {
    return Status(ErrorCode::kInvalidPipelineOperator, "Unsupported in view pipeline: " + stream.status().message());
  }
  return stream;
}

}  // namespace docket::engine

namespace docket {

bool Engine::IsView(std::string_view db, std::string_view name) { return engine::IsView(impl_.get(), db, name); }

Status Engine::ModifyView(std::string_view db, std::string_view name, const std::optional<std::string>& view_on,
                          const std::optional<std::vector<Document>>& pipeline) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  std::lock_guard serial(impl_->view_definitions);
  while (true) {
    storage::EntryPtr entry = impl_->catalog->Find(db, name);
    if (!entry) return Status(ErrorCode::kNamespaceNotFound, "ns does not exist: " + std::string(db) + "." + std::string(name));
    std::optional<storage::ViewDefinition> definition;
    {
      std::shared_lock read(entry->lifecycle);
      if (entry->retired) continue;
      definition = entry->view;
    }
    if (!definition) {
      return Status(ErrorCode::kInvalidOptions,
                    std::string("option only supported on a view: ") + (view_on ? "viewOn" : "pipeline"));
    }
    // What is not given stays (as MongoDB without access control).
    if (view_on) definition->view_on = *view_on;
    if (pipeline) definition->pipeline = *pipeline;
    // Checked with view_definitions held: no other definition changes meanwhile.
    DOCKET_RETURN_IF_ERROR(engine::CheckViewDefinition(impl_.get(), db, name, *definition));
    std::unique_lock write(entry->lifecycle);  // readers copy the definition under it shared
    if (entry->retired) continue;
    std::optional<storage::ViewDefinition> before;
    {
      std::lock_guard options(entry->options_mutex);
      before = std::move(entry->view);
      entry->view = std::move(definition);
    }
    Status stored = impl_->catalog->PersistEntry(*entry);
    if (!stored.ok()) {
      std::lock_guard options(entry->options_mutex);
      entry->view = std::move(before);  // as it is on disk
    }
    return stored;
  }
}

}  // namespace docket
