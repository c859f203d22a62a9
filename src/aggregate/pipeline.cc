#include "docket/deadline.h"
#include "aggregate/pipeline.h"

#include "engine/text_plan.h"
#include "engine/operation_collation.h"

#include "aggregate/change_stream.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "aggregate/geo_near.h"
#include "aggregate/stages.h"
#include "bson/builder.h"
#include "bson/value.h"
#include "engine/cursor_impl.h"
#include "engine/namespace.h"
#include "expr/let.h"
#include "engine/scan.h"
#include "engine/views.h"
#include "bson/append_element.h"

namespace docket::aggregate {

// ---- shared pieces of stage.h ----

expr::Variables RunContext::MakeVariables() const {
  expr::Variables vars;
  vars.SetNow(now_millis);
  for (const auto& [slot, value] : bindings) vars.Set(slot, value);
  return vars;
}

Result<Value> StreamStage::Next() {
  auto next = stream_->Next();
  if (!next.ok()) return next.status();
  if (!*next) return Value();
  return Value::FromDocument(**next);
}

Result<std::optional<Document>> StageStream::Next() {
  auto next = stage_->Next();
  if (!next.ok()) return next.status();
  if (next->missing()) return std::optional<Document>();
  return std::optional<Document>(next->AsDocument());
}

std::string_view KeyOf(const bson_iter_t& it) { return {bson_iter_key(&it), bson_iter_key_len(&it)}; }

namespace {

// ---- the stage table ----

const std::unordered_map<std::string_view, StageParser>& Parsers() {
  static const std::unordered_map<std::string_view, StageParser> table = [] {
    std::unordered_map<std::string_view, StageParser> t;
    for (auto family : {TransformStages(), FlowStages(), GroupStages(), WindowStages(), DensifyStages(), JoinStages(), OutputStages()}) {
      for (const StageEntry& e : family) t.emplace(e.name, e.parse);
    }
    t.emplace("$geoNear", &GeoNearSpec::Parse);
    return t;
  }();
  return table;
}

// Stages that must come last, and those MongoDB refuses inside $facet.
bool IsOutputStage(std::string_view name) { return name == "$out" || name == "$merge"; }
bool ForbiddenInFacet(std::string_view name) {
  return IsOutputStage(name) || name == "$facet" || name == "$collStats" || name == "$indexStats" ||
         name == "$geoNear" || name == "$planCacheStats" || name == "$documents";
}

// Merges adjacent $match stages and gives a $sort the size of the $limit
// after it (through $skip).
Status Optimize(Pipeline* p, ParseContext& ctx) {
  // $text reads the collection's text index: only from the first stage.
  for (size_t i = 1; i < p->stages.size(); ++i) {
    auto match = std::dynamic_pointer_cast<const MatchSpec>(p->stages[i]);
    if (match && match->filter().text_search() != nullptr) {
      return StageError(17313, "$match with $text is only allowed as the first pipeline stage");
    }
  }
  std::vector<SpecPtr> out;
  for (size_t i = 0; i < p->stages.size(); ++i) {
    auto match = std::dynamic_pointer_cast<const MatchSpec>(p->stages[i]);
    auto previous = out.empty() ? nullptr : std::dynamic_pointer_cast<const MatchSpec>(out.back());
    if (match && previous) {
      bson::Builder merged;
      bson_t list;
      BSON_APPEND_ARRAY_BEGIN(merged.get(), "$and", &list);
      bson::AppendDocument(&list, "0", previous->filter_doc());
      bson::AppendDocument(&list, "1", match->filter_doc());
      bson_append_array_end(merged.get(), &list);
      Document doc = merged.Finish();
      auto filter = query::Filter::Compile(doc, ctx.scope, ctx.collation);
      if (!filter.ok()) return filter.status();
      out.back() = std::make_shared<MatchSpec>(doc, std::move(filter).value());
      continue;
    }
    out.push_back(p->stages[i]);
  }
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    auto sort = std::dynamic_pointer_cast<const SortStageSpec>(out[i]);
    if (!sort) continue;
    int64_t skip = 0;
    size_t j = i + 1;
    for (; j < out.size(); ++j) {
      auto s = std::dynamic_pointer_cast<const SkipSpec>(out[j]);
      if (!s) break;
      skip += s->n();
    }
    auto limit = j < out.size() ? std::dynamic_pointer_cast<const LimitSpec>(out[j]) : nullptr;
    if (!limit) continue;
    auto bounded = std::make_shared<SortStageSpec>(*sort);
    bounded->set_keep(static_cast<size_t>(skip + limit->n()));
    out[i] = bounded;
  }
  p->stages = std::move(out);
  return Status::OK();
}

// Reads a collection's planned scan, matching on the stored bytes and
// copying only the documents that pass. With `entries_only` (an exact plan
// read from index entries alone, for stages that only count their inputs)
// each match is an empty document.
class CollectionSource : public Stage {
 public:
  CollectionSource(std::unique_ptr<engine::DocumentScan> scan, storage::EntryPtr entry,
                   std::vector<const query::Filter*> filters, std::vector<std::shared_ptr<const query::Filter>> owned,
                   const query::Filter* text_scorer, expr::Variables vars, bool entries_only)
      : scan_(std::move(scan)), entry_(std::move(entry)), filters_(std::move(filters)), owned_(std::move(owned)),
        text_scorer_(text_scorer),
        vars_(std::move(vars)), entries_only_(entries_only) {
    // The scan was planned for the conjunction of `filters`: an exact plan
    // returns only documents that match them all.
    if (scan_ && scan_->returns_only_matches()) filters_.clear();
    for (const query::Filter* f : filters_) needs_vars_ = needs_vars_ || f->has_expr();
  }

  Result<Value> Next() override {
    if (scan_ && advance_pending_) {  // moved past the last document only now: a $limit reads no further
      scan_->Next();
      advance_pending_ = false;
    }
    while (scan_ && scan_->Valid()) {
      DOCKET_RETURN_IF_ERROR(CheckDeadline());
      if (entries_only_) {  // every entry is a match (the filters were cleared)
        advance_pending_ = true;
        return Value::FromDocument(Document());
      }
      rocksdb::Slice v = scan_->value();
      const auto* data = reinterpret_cast<const uint8_t*>(v.data());
      Value doc;
      if (needs_vars_) {
        doc = Value::FromDocumentBytes(std::string_view(v.data(), v.size()));
        vars_.SetRoot(doc);
      }
      bool keep = true;
      for (const query::Filter* f : filters_) {
        auto match = f->Evaluate(data, v.size(), needs_vars_ ? &vars_ : nullptr);
        if (!match.ok()) return match.status();
        if (!*match) {
          keep = false;
          break;
        }
      }
      if (keep) {
        if (doc.missing()) doc = Value::FromDocumentBytes(std::string_view(v.data(), v.size()));
        if (text_scorer_ != nullptr) {
          doc.set_text_score(text_scorer_->TextScore(std::string_view(v.data(), v.size())));
        }
        advance_pending_ = true;
        return doc;
      }
      scan_->Next();
    }
    if (scan_) {
      DOCKET_RETURN_IF_ERROR(scan_->status());
      scan_.reset();  // releases the snapshot
    }
    return Value();
  }

 private:
  std::unique_ptr<engine::DocumentScan> scan_;
  storage::EntryPtr entry_;  // keeps the collection id alive while scanning
  std::vector<const query::Filter*> filters_;
  std::vector<std::shared_ptr<const query::Filter>> owned_;  // filters made for this run (`filters` may point here)
  const query::Filter* text_scorer_ = nullptr;  // a bound $text whose scores the pipeline reads (in owned_)
  expr::Variables vars_;
  bool entries_only_ = false;
  bool needs_vars_ = false;
  bool advance_pending_ = false;
};

rocksdb::Transaction* UserTxn(const RunContext& ctx) {
  return ctx.read.transaction != nullptr ? ctx.read.transaction->impl()->txn : nullptr;
}

// Owns the parsed pipeline for as long as its stages run.
class PipelineStream : public DocumentStream {
 public:
  PipelineStream(PipelinePtr pipeline, StagePtr stage) : pipeline_(std::move(pipeline)), stage_(std::move(stage)) {}
  ~PipelineStream() override { stage_.reset(); }  // the stages before the specs they refer to
  Result<std::optional<Document>> Next() override {
    auto next = stage_->Next();
    if (!next.ok()) return next.status();
    if (next->missing()) return std::optional<Document>();
    return std::optional<Document>(next->AsDocument());
  }

 private:
  PipelinePtr pipeline_;
  StagePtr stage_;
};

}  // namespace

namespace {

// Whether `doc` holds {$meta: "textScore"} anywhere (sub-pipelines too).
bool MentionsTextScore(const uint8_t* data, size_t len) {
  bson_iter_t it;
  if (!bson_iter_init_from_data(&it, data, len)) return false;
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) == "$meta" && BSON_ITER_HOLDS_UTF8(&it) &&
        std::string_view(bson_iter_utf8(&it, nullptr)) == "textScore") {
      return true;
    }
    if (BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)) {
      std::string_view bytes = bson::SubDocumentBytes(it);
      if (MentionsTextScore(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) return true;
    }
  }
  return false;
}

// As MongoDB, at parse time: a stage of this pipeline (not of a
// sub-pipeline, which has its own first stage) reading {$meta: "textScore"}
// needs a first $match with $text. Location40218 otherwise.
Status CheckTextScoreAvailable(const Pipeline& p, const std::vector<Document>& stages) {
  if (!p.uses_text_score) return Status::OK();
  auto first = p.stages.empty() ? nullptr : std::dynamic_pointer_cast<const MatchSpec>(p.stages[0]);
  if (first && first->filter().text_search() != nullptr) return Status::OK();
  for (const Document& stage : stages) {
    bson_iter_t it;
    stage.Iterate(&it);
    if (!bson_iter_next(&it)) continue;
    const std::string_view name = bson_iter_key(&it);
    if (name == "$lookup" || name == "$unionWith" || name == "$facet" || name == "$graphLookup") continue;
    if (MentionsTextScore(stage.data(), stage.size())) {
      return StageError(40218, "query requires text score metadata, but it is not available");
    }
  }
  return Status::OK();
}

}  // namespace

Result<PipelinePtr> ParsePipeline(const std::vector<Document>& stages, ParseContext& ctx) {
  auto p = std::make_shared<Pipeline>();
  p->collation = ctx.collation;
  for (const Document& stage : stages) p->uses_text_score = p->uses_text_score || MentionsTextScore(stage.data(), stage.size());
  ctx.scope->set_strings(ctx.collation.get());
  for (size_t i = 0; i < stages.size(); ++i) {
    bson_iter_t it;
    stages[i].Iterate(&it);
    if (!bson_iter_next(&it)) {
      return StageError(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    bson_iter_t only = it;
    if (bson_iter_next(&it)) {
      return StageError(40323, "A pipeline stage specification object must contain exactly one field.");
    }
    std::string_view name = KeyOf(only);
    auto parser = Parsers().find(name);
    static const std::string_view kKnownElsewhere[] = {
        "$search", "$searchMeta",
        "$collStats", "$indexStats", "$currentOp", "$listSessions", "$listLocalSessions", "$planCacheStats",
        "$listSearchIndexes", "$shardedDataDistribution"};
    if (name == "$changeStream") {  // a change stream's own is taken off first (change_stream.h)
      return StageError(40602, "$changeStream is only valid as the first stage in a pipeline");
    }
    if (name == "$planCacheStats") {
      return Status(ErrorCode::kCommandNotSupported,
                    "the $planCacheStats stage is not supported by Docket: its planner plans every query afresh and "
                    "keeps no plan cache to list");
    }
    if (parser == Parsers().end() &&
        std::find(std::begin(kKnownElsewhere), std::end(kKnownElsewhere), name) != std::end(kKnownElsewhere)) {
      return Status(ErrorCode::kCommandNotSupported, "the " + std::string(name) + " stage is not supported by Docket");
    }
    if (parser == Parsers().end()) {
      return StageError(40324, "Unrecognized pipeline stage name: '" + std::string(name) + "'");
    }
    if (name == "$geoNear" && i != 0) {
      return StageError(40602, "$geoNear is only valid as the first stage in a pipeline");
    }
    if (ctx.in_facet && ForbiddenInFacet(name)) {
      return StageError(40600, std::string(name) + " is not allowed to be used within a $facet stage");
    }
    if (IsOutputStage(name)) {
      if (ctx.in_lookup || ctx.in_facet) {
        return StageError(51047, std::string(name) + " is not allowed within a $lookup, $unionWith or $facet pipeline");
      }
      if (i + 1 != stages.size()) {
        return StageError(40601, std::string(name) + " can only be the final stage in the pipeline");
      }
    }
    DOCKET_RETURN_IF_ERROR(parser->second(only, ctx, &p->stages));
  }
  DOCKET_RETURN_IF_ERROR(Optimize(p.get(), ctx));
  DOCKET_RETURN_IF_ERROR(CheckTextScoreAvailable(*p, stages));
  return PipelinePtr(p);
}

Result<std::shared_ptr<const Pipeline>> ParseSubPipeline(const bson_iter_t& array, ParseContext& ctx) {
  if (++ctx.sub_depth > kMaxSubPipelineDepth) {
    return Status(static_cast<ErrorCode>(232), "Maximum number of nested sub-pipelines exceeded. Limit is " +
                                                   std::to_string(kMaxSubPipelineDepth));
  }
  if (bson_iter_type(&array) != BSON_TYPE_ARRAY) {
    return Status(ErrorCode::kFailedToParse, "a pipeline must be an array of stage documents");
  }
  std::vector<Document> stages;
  bson_iter_t child;
  bson_iter_recurse(&array, &child);
  while (bson_iter_next(&child)) {
    if (bson_iter_type(&child) != BSON_TYPE_DOCUMENT) {
      return Status(ErrorCode::kTypeMismatch, "Each element of the 'pipeline' array must be an object");
    }
    stages.push_back(Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(child))));
  }
  return ParsePipeline(stages, ctx);
}

Result<StagePtr> OpenOn(const Pipeline& pipeline, size_t first, StagePtr input, const RunContext& ctx) {
  StagePtr stage = std::move(input);
  for (size_t i = first; i < pipeline.stages.size(); ++i) {
    auto opened = pipeline.stages[i]->Open(std::move(stage), ctx);
    if (!opened.ok()) return opened.status();
    stage = std::move(opened).value();
  }
  return stage;
}

// Whether the stages from `first` on read the documents they are given (see
// StageSpec::ReadsDocuments); the pipeline's own output is read by its caller.
bool ReadsDocuments(const Pipeline& pipeline, size_t first) {
  for (size_t i = first; i < pipeline.stages.size(); ++i) {
    const StageSpec& stage = *pipeline.stages[i];
    if (stage.ReadsDocuments()) return true;
    if (!stage.ForwardsDocuments()) return false;  // later stages read its own output
  }
  return true;
}

namespace {

// A stage that keeps the parsed pipeline its stages refer to alive.
class HoldingStage : public Stage {
 public:
  HoldingStage(PipelinePtr pipeline, StagePtr stage) : pipeline_(std::move(pipeline)), stage_(std::move(stage)) {}
  ~HoldingStage() override { stage_.reset(); }  // the stages before the specs they refer to
  Result<Value> Next() override { return stage_->Next(); }

 private:
  PipelinePtr pipeline_;
  StagePtr stage_;
};

// Parses `stages` on their own (a view's pipeline: no user variables) and
// opens them over `input`, or over collection `name` when input is null.
Result<StagePtr> OpenParsed(const std::vector<Document>& stages, const std::string& name, StagePtr input,
                            const RunContext& ctx, const IndexHint* hint) {
  expr::Scope scope;
  ParseContext parse{ctx.db, &scope, ctx.collation};  // a view's pipeline runs under the reading pipeline's collation
  auto parsed = ParsePipeline(stages, parse);
  if (!parsed.ok()) return parsed.status();
  RunContext own = ctx;
  own.bindings.clear();
  auto stage = input == nullptr ? OpenOnCollection(**parsed, name, own, nullptr, hint)
                                : OpenOn(**parsed, 0, std::move(input), own);
  if (!stage.ok()) return stage.status();
  return StagePtr(std::make_unique<HoldingStage>(std::move(parsed).value(), std::move(stage).value()));
}

// `pipeline` over view `name` (resolved as `view`): the view's pipeline over
// its collection (with `hint`), then `extra_filter` as a $match, then
// `pipeline`.
Result<StagePtr> OpenOnView(const Pipeline& pipeline, const engine::ResolvedView& view, const RunContext& ctx,
                            const Document* extra_filter, const IndexHint* hint) {
  auto source = OpenParsed(view.pipeline, view.base, nullptr, ctx, hint);
  if (!source.ok()) return source.status();
  StagePtr input = std::move(source).value();
  if (extra_filter != nullptr) {
    bson::Builder match;
    bson::AppendDocument(match.get(), "$match", *extra_filter);
    auto narrowed = OpenParsed({match.Finish()}, view.base, std::move(input), ctx, nullptr);
    if (!narrowed.ok()) return narrowed.status();
    input = std::move(narrowed).value();
  }
  return OpenOn(pipeline, 0, std::move(input), ctx);
}

}  // namespace

Result<StagePtr> OpenOnCollection(const Pipeline& pipeline, const std::string& name, const RunContext& ctx,
                                  const Document* extra_filter, const IndexHint* hint) {
  auto guard = engine::ResolveForRead(ctx.engine, ctx.db, name, ctx.read.transaction, engine::Views::kAllow);
  if (!guard.ok()) return guard.status();
  if (guard->entry && guard->entry->view) {
    const storage::ViewDefinition definition = *guard->entry->view;
    guard->lock.unlock();
    auto view = engine::ResolveView(ctx.engine, ctx.db, definition, ctx.read.transaction);
    if (!view.ok()) return view.status();
    return OpenOnView(pipeline, *view, ctx, extra_filter, hint);
  }
  if (!pipeline.stages.empty()) {
    if (const auto* geo_near = dynamic_cast<const GeoNearSpec*>(pipeline.stages[0].get())) {
      if (extra_filter != nullptr) {
        return StageError(40602, "$geoNear is only valid as the first stage in a pipeline");
      }
      auto source = geo_near->OpenSource(guard->entry, ctx, UserTxn(ctx));
      if (!source.ok()) return source.status();
      return OpenOn(pipeline, 1, std::move(source).value(), ctx);
    }
  }
  size_t first = 0;
  const MatchSpec* match = nullptr;
  const SortStageSpec* sort = nullptr;
  if (!pipeline.stages.empty()) match = dynamic_cast<const MatchSpec*>(pipeline.stages[0].get());
  if (match != nullptr) first = 1;
  if (first < pipeline.stages.size()) sort = dynamic_cast<const SortStageSpec*>(pipeline.stages[first].get());

  std::shared_ptr<const query::Filter> extra;
  std::vector<const query::Filter*> filters;
  Document plan_filter = match != nullptr ? match->filter_doc() : Document();
  if (extra_filter != nullptr) {
    auto compiled = query::Filter::Compile(*extra_filter, nullptr, ctx.collation);
    if (!compiled.ok()) return compiled.status();
    extra = std::make_shared<const query::Filter>(std::move(compiled).value());
    filters.push_back(extra.get());
    if (match != nullptr) {
      bson::Builder merged;
      bson_t list;
      BSON_APPEND_ARRAY_BEGIN(merged.get(), "$and", &list);
      bson::AppendDocument(&list, "0", *extra_filter);
      bson::AppendDocument(&list, "1", match->filter_doc());
      bson_append_array_end(merged.get(), &list);
      plan_filter = merged.Finish();
    } else {
      plan_filter = *extra_filter;
    }
  }
  // A leading $match with $text matches through the collection's text
  // index: a copy of it bound to that index for this run (the spec's own
  // is shared by every run, on whatever collection).
  std::shared_ptr<const query::Filter> text_bound;
  if (match != nullptr && match->filter().text_search() != nullptr) {
    auto compiled = query::Filter::Compile(match->filter_doc(), nullptr, ctx.collation);
    if (!compiled.ok()) return compiled.status();
    DOCKET_RETURN_IF_ERROR(engine::BindTextSearch(guard->entry.get(), &*compiled));
    text_bound = std::make_shared<const query::Filter>(std::move(compiled).value());
  }
  if (match != nullptr) filters.push_back(text_bound ? text_bound.get() : &match->filter());
  std::vector<std::shared_ptr<const query::Filter>> owned;
  if (extra) owned.push_back(extra);
  if (text_bound) owned.push_back(text_bound);

  StagePtr source;
  bool sorted_by_scan = false;
  if (!guard->entry) {
    source = std::make_unique<ValuesStage>(std::vector<Value>());
    sorted_by_scan = true;  // nothing to order
  } else {
    engine::PlanSummary plan;
    const bool counts_only = !ReadsDocuments(pipeline, first);
    auto resolved = engine::ResolveHint(*guard->entry, hint != nullptr ? *hint : IndexHint(), plan_filter);
    if (!resolved.ok()) return resolved.status();
    auto scan = engine::OpenScan(ctx.engine, UserTxn(ctx), *guard->entry, plan_filter,
                                 sort != nullptr ? sort->sort_doc() : Document(), &plan, /*describe=*/false,
                                 /*limit_hint=*/0, /*entries_if_exact=*/counts_only, *resolved,
                                 ctx.collation.get());
    if (!scan.ok()) return scan.status();
    sorted_by_scan = plan.provides_sort;
    source = std::make_unique<CollectionSource>(std::move(scan).value(), guard->entry, std::move(filters), std::move(owned),
                                                pipeline.uses_text_score ? text_bound.get() : nullptr,
                                                ctx.MakeVariables(), plan.entries_only);
  }
  if (sort != nullptr && sorted_by_scan) ++first;  // the index gives the order
  return OpenOn(pipeline, first, std::move(source), ctx);
}

Result<StagePtr> ScanCollection(const std::string& name, const Document& filter, const RunContext& ctx) {
  static const Pipeline kEmpty;
  return OpenOnCollection(kEmpty, name, ctx, &filter);
}

namespace {

std::unique_ptr<CursorImpl> MakeCursorImpl(PipelinePtr pipeline, StagePtr stage, int32_t batch_size) {
  auto stream = std::make_unique<PipelineStream>(std::move(pipeline), std::move(stage));
  return std::make_unique<CursorImpl>(std::move(stream), batch_size > 0 ? static_cast<size_t>(batch_size) : 101);
}

// The collation a pipeline over db.`name` runs with: the one it names, or
// the collection's (or view's) default; a view refuses another (167).
Result<text::CollatorPtr> PipelineCollation(EngineImpl* engine, const std::string& db, const std::string& name,
                                            const Document& requested) {
  const storage::EntryPtr entry = name.empty() ? nullptr : engine->catalog->Find(db, name);
  return engine::ResolveCollation(requested, entry.get());
}

Result<RunContext> MakeContext(EngineImpl* engine, std::string db, const AggregateOptions& options,
                               expr::Scope* scope) {
  RunContext ctx;
  ctx.engine = engine;
  ctx.db = std::move(db);
  ctx.read = options.read;
  ctx.write_concern = options.write_concern;
  ctx.bypass_document_validation = options.bypass_document_validation;
  ctx.budget = engine::SortBudget{engine->query_memory_limit_bytes, options.allow_disk_use};
  ctx.now_millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  DOCKET_RETURN_IF_ERROR(expr::BindLet(options.let, *scope, ctx.now_millis, &ctx.bindings));
  return ctx;
}

}  // namespace

Result<StreamPtr> AggregateStream(EngineImpl* engine, const std::string& db, const std::string& name,
                                  const std::vector<Document>& stages, const AggregateOptions& options) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db, name));
  auto collation = PipelineCollation(engine, db, name, options.collation);
  if (!collation.ok()) return collation.status();
  expr::Scope scope;
  auto ctx = MakeContext(engine, db, options, &scope);
  if (!ctx.ok()) return ctx.status();
  ctx->collation = *collation;
  ParseContext parse{db, &scope, *collation};
  auto pipeline = ParsePipeline(stages, parse);
  if (!pipeline.ok()) return pipeline.status();
  if (!(*pipeline)->stages.empty() && std::string_view((*pipeline)->stages[0]->name()) == "$documents") {
    return Status(ErrorCode::kInvalidNamespace, "$documents is only valid in a collectionless aggregate ({aggregate: 1})");
  }
  auto stage = OpenOnCollection(**pipeline, name, *ctx, nullptr, &options.hint);
  if (!stage.ok()) return stage.status();
  return StreamPtr(std::make_unique<PipelineStream>(std::move(pipeline).value(), std::move(stage).value()));
}

}  // namespace docket::aggregate

namespace docket {

Result<Cursor> Collection::Aggregate(const std::vector<Document>& stages, const AggregateOptions& options) {
  if (aggregate::StartsWithChangeStream(stages)) {
    DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db_, name_));
    auto impl = aggregate::OpenChangeStream(engine_, db_, name_, stages, options);
    if (!impl.ok()) return impl.status();
    return Cursor(std::move(impl).value());
  }
  auto stream = aggregate::AggregateStream(engine_, db_, name_, stages, options);
  if (!stream.ok()) return stream.status();
  const size_t batch_size = options.batch_size > 0 ? static_cast<size_t>(options.batch_size) : 101;
  return Cursor(std::make_unique<CursorImpl>(std::move(stream).value(), batch_size));
}

Result<Document> Collection::ExplainAggregate(const std::vector<Document>& stages, const AggregateOptions& options) {
  // The pipeline must parse, as it would to run.
  DOCKET_RETURN_IF_ERROR(engine::ValidateCollectionName(db_, name_));
  {
    auto guard = engine::ResolveForRead(engine_, db_, name_, options.read.transaction, engine::Views::kAllow);
    if (!guard.ok()) return guard.status();
    if (guard->entry && guard->entry->view) {
      // A view: the explain of its pipeline and this one over its collection.
      const storage::ViewDefinition definition = *guard->entry->view;
      guard->lock.unlock();
      auto view = engine::ResolveView(engine_, db_, definition, options.read.transaction);
      if (!view.ok()) return view.status();
      std::vector<Document> whole = view->pipeline;
      whole.insert(whole.end(), stages.begin(), stages.end());
      return engine_->collection(db_, view->base).ExplainAggregate(whole, options);
    }
  }
  auto collation = aggregate::PipelineCollation(engine_, db_, name_, options.collation);
  if (!collation.ok()) return collation.status();
  expr::Scope scope;
  auto ctx = aggregate::MakeContext(engine_, db_, options, &scope);
  if (!ctx.ok()) return ctx.status();
  ctx->collation = *collation;
  aggregate::ParseContext parse{db_, &scope, *collation};
  auto pipeline = aggregate::ParsePipeline(stages, parse);
  if (!pipeline.ok()) return pipeline.status();
  // A leading $geoNear is its $near query's read (MongoDB's $geoNearCursor).
  Document geo_filter;
  bool geo_near = false;
  if (!(*pipeline)->stages.empty()) {
    if (const auto* spec = dynamic_cast<const aggregate::GeoNearSpec*>((*pipeline)->stages[0].get())) {
      auto guard = engine::ResolveForRead(engine_, db_, name_, options.read.transaction, engine::Views::kAllow);
      if (!guard.ok()) return guard.status();
      if (guard->entry) {
        auto query = spec->QueryFor(*guard->entry);
        if (!query.ok()) return query.status();
        geo_filter = std::move(query).value();
      }
      geo_near = true;
    }
  }
  // What goes to the collection scan: the leading $match stages, and the
  // $sort after them when an index gives its order.
  size_t pushed = geo_near ? 1 : 0;
  bson::Builder and_filter;
  bson_t conditions;
  BSON_APPEND_ARRAY_BEGIN(and_filter.get(), "$and", &conditions);
  for (; !geo_near && pushed < stages.size(); ++pushed) {
    bson_iter_t it;
    if (!stages[pushed].Find("$match", &it)) break;
    bson_iter_t only;
    stages[pushed].Iterate(&only);
    bson_iter_next(&only);
    if (bson_iter_next(&only)) break;
    docket::bson::AppendElement(&conditions, std::to_string(pushed).c_str(), -1, &it);
  }
  bson_append_array_end(and_filter.get(), &conditions);
  Document filter = geo_near ? geo_filter : pushed == 0 ? Document() : pushed == 1 ? [&] {
    bson_iter_t it;
    stages[0].Find("$match", &it);
    return Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(it)));
  }() : and_filter.Finish();
  FindOptions find;
  find.collation = options.collation;
  bson_iter_t sort_it;
  const bool has_sort = !geo_near && pushed < stages.size() && stages[pushed].Find("$sort", &sort_it) &&
                        bson_iter_type(&sort_it) == BSON_TYPE_DOCUMENT;
  if (has_sort) find.sort = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(sort_it)));
  auto cursor_explain = Explain(filter, find);
  if (!cursor_explain.ok()) return cursor_explain.status();
  bson_iter_t plan;
  bool sorted_in_memory = false;
  if (cursor_explain->Find("queryPlanner", &plan)) {
    bson_iter_t winning;
    if (bson_iter_recurse(&plan, &winning) && bson_iter_find(&winning, "winningPlan")) {
      bson_iter_t stage;
      sorted_in_memory = bson_iter_recurse(&winning, &stage) && bson_iter_find(&stage, "stage") &&
                         std::string_view(bson_iter_utf8(&stage, nullptr)) == "SORT";
    }
  }
  if (has_sort && !sorted_in_memory) ++pushed;
  bson::Builder out;
  BSON_APPEND_UTF8(out.get(), "explainVersion", "1");
  bson_t list, cursor_stage;
  BSON_APPEND_ARRAY_BEGIN(out.get(), "stages", &list);
  BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &cursor_stage);
  bson::AppendDocument(&cursor_stage, geo_near ? "$geoNearCursor" : "$cursor", *cursor_explain);
  bson_append_document_end(&list, &cursor_stage);
  for (size_t i = pushed, k = 1; i < stages.size(); ++i, ++k) {
    bson::AppendDocument(&list, std::to_string(k).c_str(), stages[i]);
  }
  bson_append_array_end(out.get(), &list);
  return out.Finish();
}

Result<Cursor> Engine::Aggregate(std::string_view db, const std::vector<Document>& stages,
                                 const AggregateOptions& options) {
  DOCKET_RETURN_IF_ERROR(engine::ValidateDatabaseName(db));
  if (aggregate::StartsWithChangeStream(stages)) {
    auto impl = aggregate::OpenChangeStream(impl_.get(), std::string(db), "", stages, options);
    if (!impl.ok()) return impl.status();
    return Cursor(std::move(impl).value());
  }
  auto collation = engine::ResolveCollation(options.collation, nullptr);
  if (!collation.ok()) return collation.status();
  expr::Scope scope;
  auto ctx = aggregate::MakeContext(impl_.get(), std::string(db), options, &scope);
  if (!ctx.ok()) return ctx.status();
  ctx->collation = *collation;
  aggregate::ParseContext parse{std::string(db), &scope, *collation};
  auto pipeline = aggregate::ParsePipeline(stages, parse);
  if (!pipeline.ok()) return pipeline.status();
  if ((*pipeline)->stages.empty() || std::string_view((*pipeline)->stages[0]->name()) != "$documents") {
    return Status(ErrorCode::kInvalidNamespace,
                  "{aggregate: 1} is only valid with $documents as the first stage on Docket");
  }
  auto stage = aggregate::OpenOn(**pipeline, 0, std::make_unique<aggregate::ValuesStage>(std::vector<expr::Value>()), *ctx);
  if (!stage.ok()) return stage.status();
  return Cursor(aggregate::MakeCursorImpl(std::move(pipeline).value(), std::move(stage).value(), options.batch_size));
}

}  // namespace docket
