#include "aggregate/change_stream.h"

#include <bson/bson.h>

#include <algorithm>
#include <deque>
#include <string_view>

#include "aggregate/pipeline.h"
#include "bson/builder.h"
#include "bson/value.h"
#include "engine/change_events.h"
#include "engine/oplog.h"
#include "engine/resume_token.h"
#include "engine/tail_stream.h"

namespace docket::aggregate {
namespace {

using engine::ChangeEvent;
using engine::ChangeScope;
using engine::ResumePoint;

// The stages MongoDB 6.0 allows after $changeStream.
constexpr std::string_view kAllowedAfter[] = {"$match", "$project", "$addFields", "$set",
                                              "$unset", "$replaceRoot", "$replaceWith", "$redact"};

struct Spec {
  std::string full_document = "default";
  std::string full_document_before_change = "off";
  std::optional<ResumePoint> resume_after, start_after;
  std::optional<LogicalTime> start_at;
  bool all_changes_for_cluster = false;
  bool show_expanded = false;
};

Status WrongType(std::string_view field, const char* expected) {
  return Status(ErrorCode::kTypeMismatch,
                "BSON field '$changeStream." + std::string(field) + "' is the wrong type, expected type '" + expected + "'");
}

Status NotOneOf(std::string_view field, const std::string& value) {
  return Status(ErrorCode::kBadValue, "Enumeration value '" + value + "' for field '$changeStream." +
                                          std::string(field) + "' is not a valid value.");
}

Result<Spec> ParseSpec(const bson_iter_t& stage) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&stage)) {
    return Status(static_cast<ErrorCode>(50808), "$changeStream stage expects a document as argument");
  }
  Spec spec;
  int resume_options = 0;
  bson_iter_t it;
  bson_iter_recurse(&stage, &it);
  while (bson_iter_next(&it)) {
    const std::string_view key = bson_iter_key(&it);
    if (key == "fullDocument" || key == "fullDocumentBeforeChange") {
      if (!BSON_ITER_HOLDS_UTF8(&it)) return WrongType(key, "string");
      const std::string value = bson_iter_utf8(&it, nullptr);
      if (key == "fullDocument") {
        if (value != "default" && value != "updateLookup" && value != "whenAvailable" && value != "required") {
          return NotOneOf(key, value);
        }
        spec.full_document = value;
      } else {
        if (value != "off" && value != "whenAvailable" && value != "required") return NotOneOf(key, value);
        spec.full_document_before_change = value;
      }
    } else if (key == "resumeAfter" || key == "startAfter") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) return WrongType(key, "object");
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(&it, &len, &data);
      auto point = engine::DecodeResumeToken(*Document::FromBytes(data, len));
      if (!point.ok()) return point.status();
      (key == "resumeAfter" ? spec.resume_after : spec.start_after) = *point;
      ++resume_options;
    } else if (key == "startAtOperationTime") {
      if (!BSON_ITER_HOLDS_TIMESTAMP(&it)) return WrongType(key, "timestamp");
      LogicalTime t;
      bson_iter_timestamp(&it, &t.seconds, &t.increment);
      spec.start_at = t;
      ++resume_options;
    } else if (key == "allChangesForCluster" || key == "showExpandedEvents") {
      if (!BSON_ITER_HOLDS_BOOL(&it)) return WrongType(key, "bool");
      (key == "allChangesForCluster" ? spec.all_changes_for_cluster : spec.show_expanded) = bson_iter_bool(&it);
    } else {
      return Status(ErrorCode::kIDLUnknownField, "BSON field '$changeStream." + std::string(key) + "' is an unknown field.");
    }
  }
  if (resume_options > 1) {
    return Status(static_cast<ErrorCode>(40674), "Only one type of resume option is allowed, but multiple were found.");
  }
  if (spec.resume_after && spec.resume_after->kind == ResumePoint::Kind::kInvalidate) {
    return Status(ErrorCode::kInvalidResumeToken,
                  "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate "
                  "notification.");
  }
  return spec;
}

// The point just before every event at `t` and later.
ResumePoint Before(LogicalTime t) {
  if (t.null()) return ResumePoint{};
  if (t.increment > 0) return ResumePoint::HighWaterMark(LogicalTime{t.seconds, t.increment - 1});
  return ResumePoint::HighWaterMark(LogicalTime{t.seconds - 1, 0xFFFFFFFF});
}

// `doc` with `field` appended.
Document WithField(const Document& doc, const char* field, const std::optional<Document>& value) {
  bson::Builder out;
  bson_t copy;
  if (bson_init_static(&copy, doc.data(), doc.size())) bson_concat(out.get(), &copy);
  if (value) bson::AppendDocument(out.get(), field, *value);
  else BSON_APPEND_NULL(out.get(), field);
  return out.Finish();
}

// Reads the oplog from a position and turns its entries into the events of
// one scope. A Stage: the stages after $changeStream read it. Its end is
// "nothing more for now", until it has returned an invalidate.
class ChangeStreamSource : public Stage {
 public:
  ChangeStreamSource(EngineImpl* engine, ChangeScope scope, Spec spec, uint64_t after_sequence, ResumePoint skip_through,
                     ResumePoint high_water)
      : engine_(engine),
        scope_(std::move(scope)),
        spec_(std::move(spec)),
        tail_(engine, engine->oplog, std::make_shared<engine::FindStream::Shape>(), after_sequence),
        skip_through_(skip_through),
        last_(high_water),
        read_to_(high_water),
        // Resumed after an event (not a high-water mark): that event must
        // be met again before any later one, as mongod checks
        // (DocumentSourceChangeStreamEnsureResumeTokenPresent).
        must_meet_resume_event_((spec_.resume_after || spec_.start_after) &&
                                skip_through.kind == ResumePoint::Kind::kEvent) {}

  Result<Value> Next() override {
    while (!ended_) {
      if (!pending_.empty()) {
        ChangeEvent event = std::move(pending_.front());
        pending_.pop_front();
        if (!(skip_through_ < event.point)) {  // at or before where the stream starts
          if (!(event.point < skip_through_)) must_meet_resume_event_ = false;  // the resume event itself
          continue;
        }
        if (must_meet_resume_event_) {
          return Status(ErrorCode::kChangeStreamFatalError,
                        "cannot resume stream; the resume token was not found. " +
                            engine::EncodeResumeToken(skip_through_).ToJson());
        }
        auto doc = Render(event);
        if (!doc.ok()) return doc.status();
        last_ = event.point;
        last_id_ = engine::EncodeResumeToken(event.point);
        ended_ = event.invalidates;
        return Value::FromDocument(*doc);
      }
      auto next = tail_.Next();
      if (!next.ok()) {
        if (next.status().code() == ErrorCode::kCappedPositionLost) {
          return Status(ErrorCode::kChangeStreamHistoryLost,
                        "the change stream fell behind the oplog: entries it had not read yet were removed to keep "
                        "the oplog within its size");
        }
        return next.status();
      }
      if (!*next) return Value();  // nothing more for now
      bson_iter_t ts;
      if ((*next)->Find("ts", &ts) && BSON_ITER_HOLDS_TIMESTAMP(&ts)) {
        LogicalTime t;
        bson_iter_timestamp(&ts, &t.seconds, &t.increment);
        read_to_ = ResumePoint::HighWaterMark(t);
      }
      std::vector<ChangeEvent> events;
      DOCKET_RETURN_IF_ERROR(engine::EventsFromEntry(**next, scope_, spec_.show_expanded, &events));
      for (ChangeEvent& e : events) pending_.push_back(std::move(e));
    }
    return Value();
  }

  bool ended() const { return ended_; }
  bool Wait(std::chrono::steady_clock::time_point until, const std::function<bool()>& cancelled) {
    return !ended_ && tail_.WaitForInsert(until, cancelled);
  }
  // Where a stream resumed from here would go on: past the last event
  // returned, and past every entry read once all its events were returned.
  Document Token() const {
    ResumePoint point = last_;
    if (pending_.empty() && !ended_ && last_ < read_to_) point = read_to_;
    return engine::EncodeResumeToken(point);
  }
  const Document& last_id() const { return last_id_; }

 private:
  Result<Document> Render(const ChangeEvent& event) {
    std::optional<std::optional<Document>> looked_up;
    if (event.operation_type == "update" && spec_.full_document != "default") {
      if (spec_.full_document == "required") return MissingImage("post-image", event);
      if (spec_.full_document == "whenAvailable") {
        looked_up = std::optional<Document>();
      } else {  // updateLookup: the document as it is now, or null
        bson_iter_t id;
        event.document_key->Find("_id", &id);
        auto found = engine_->collection(event.db, event.coll).FindOne(*event.document_key);
        if (!found.ok()) return found.status();
        looked_up = *found;
      }
    }
    Document doc = engine::EventDocument(event, spec_.show_expanded, looked_up);
    const bool has_before = event.operation_type == "update" || event.operation_type == "replace" ||
                            event.operation_type == "delete";
    if (has_before && spec_.full_document_before_change == "required") return MissingImage("pre-image", event);
    if (has_before && spec_.full_document_before_change == "whenAvailable") {
      doc = WithField(doc, "fullDocumentBeforeChange", std::nullopt);
    }
    return doc;
  }

  static Status MissingImage(const char* image, const ChangeEvent& event) {
    return Status(ErrorCode::kNoMatchingDocument,
                  std::string("Change stream was configured to require a ") + image + " for all update, delete and "
                  "replace events, but the " + image + " was not found for event: " +
                  engine::EventDocument(event, false).ToJson() +
                  " (collection " + event.db + "." + event.coll + " does not keep changeStreamPreAndPostImages)");
  }

  EngineImpl* engine_;
  ChangeScope scope_;
  Spec spec_;
  engine::TailStream tail_;
  std::deque<ChangeEvent> pending_;
  ResumePoint skip_through_;  // events at or before it are not returned
  ResumePoint last_;          // the last event returned (or the start)
  ResumePoint read_to_;       // after the last entry read
  Document last_id_;
  bool ended_ = false;
  bool must_meet_resume_event_;  // until the event of the resume token is read
};

// The cursor's stream: the pipeline over the source, which it asks for the
// things only the source knows.
class ChangeStreamCursorStream : public DocumentStream {
 public:
  ChangeStreamCursorStream(PipelinePtr pipeline, StagePtr top, ChangeStreamSource* source)
      : pipeline_(std::move(pipeline)), top_(std::move(top)), source_(source) {}
  ~ChangeStreamCursorStream() override { top_.reset(); }

  Result<std::optional<Document>> Next() override {
    auto next = top_->Next();
    if (!next.ok()) return next.status();
    if (next->missing()) return std::optional<Document>();
    Document doc = next->AsDocument();
    bson_iter_t id;
    if (!doc.Find("_id", &id) || !BSON_ITER_HOLDS_DOCUMENT(&id) ||
        std::string_view(reinterpret_cast<const char*>(source_->last_id().data()), source_->last_id().size()) !=
            bson::SubDocumentBytes(id)) {
      return Status(ErrorCode::kChangeStreamFatalError,
                    "Encountered an event whose _id field, which contains the resume token, was modified by the "
                    "pipeline. Modifying the _id field of an event makes it impossible to resume the stream from "
                    "that point. Only transformations that retain the unmodified _id field are allowed.");
    }
    return std::optional<Document>(std::move(doc));
  }
  bool tailable() const override { return !source_->ended(); }
  bool WaitForInsert(std::chrono::steady_clock::time_point until, const std::function<bool()>& cancelled) override {
    return source_->Wait(until, cancelled);
  }
  std::optional<Document> resume_token() const override { return source_->Token(); }

 private:
  PipelinePtr pipeline_;
  StagePtr top_;
  ChangeStreamSource* source_;  // owned by top_'s chain
};

}  // namespace

bool StartsWithChangeStream(const std::vector<Document>& stages) {
  bson_iter_t it;
  return !stages.empty() && stages[0].Find("$changeStream", &it);
}

Result<std::unique_ptr<CursorImpl>> OpenChangeStream(EngineImpl* engine, const std::string& db,
                                                     const std::string& collection,
                                                     const std::vector<Document>& stages,
                                                     const AggregateOptions& options) {
  if (engine->oplog == nullptr) {
    return Status(static_cast<ErrorCode>(40573), "The $changeStream stage is only supported on replica sets");
  }
  if (options.read.transaction != nullptr) {
    return Status(ErrorCode::kOperationNotSupportedInTransaction,
                  "Operation not permitted in transaction :: caused by :: $changeStream");
  }
  if (!options.collation.empty()) {
    auto collation = text::Collator::Make(options.collation);
    if (!collation.ok()) return collation.status();
    if (*collation != nullptr) {
      return Status(ErrorCode::kBadValue,
                    "a collation other than {locale: \"simple\"} on $changeStream is not supported by Docket yet");
    }
  }
  bson_iter_t stage;
  stages[0].Iterate(&stage);
  bson_iter_next(&stage);
  if (bson_iter_next(&stage)) {
    return StageError(40323, "A pipeline stage specification object must contain exactly one field.");
  }
  stages[0].Find("$changeStream", &stage);
  auto spec = ParseSpec(stage);
  if (!spec.ok()) return spec.status();
  ChangeScope scope;
  if (spec->all_changes_for_cluster) {
    if (db != "admin" || !collection.empty()) {
      return Status(ErrorCode::kInvalidNamespace,
                    "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, "
                    "and with no collection name; found " + db + (collection.empty() ? "" : "." + collection));
    }
    scope.kind = ChangeScope::Kind::kCluster;
  } else if (db == "admin" || db == "config" || db == "local") {
    return Status(ErrorCode::kInvalidNamespace,
                  "$changeStream may not be opened on the internal " + db + " database");
  } else {
    scope.kind = collection.empty() ? ChangeScope::Kind::kDatabase : ChangeScope::Kind::kCollection;
    scope.db = db;
    scope.collection = collection;
  }
  // The stages after it: parsed as any pipeline, then checked against the
  // ones a change stream allows.
  const std::vector<Document> rest(stages.begin() + 1, stages.end());
  expr::Scope variables;
  ParseContext parse{db, &variables};
  auto pipeline = ParsePipeline(rest, parse);
  if (!pipeline.ok()) return pipeline.status();
  for (const SpecPtr& s : (*pipeline)->stages) {
    const std::string_view name = s->name();
    if (std::find(std::begin(kAllowedAfter), std::end(kAllowedAfter), name) == std::end(kAllowedAfter)) {
      return Status(ErrorCode::kIllegalOperation, std::string(name) + " is not permitted in a $changeStream pipeline");
    }
  }
  // Where it starts.
  uint64_t after_sequence = 0;
  ResumePoint skip_through, high_water;
  std::optional<ResumePoint> from = spec->resume_after ? spec->resume_after : spec->start_after;
  if (from || spec->start_at) {
    const LogicalTime t = from ? from->ts : *spec->start_at;
    auto start = engine::OplogStartBefore(engine, t);
    if (!start.ok()) return start.status();
    if (start->history_lost) {
      return Status(ErrorCode::kChangeStreamHistoryLost,
                    "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
    }
    after_sequence = start->after_sequence;
    skip_through = from ? *from : Before(t);
    high_water = skip_through;
  } else {
    auto [sequence, t] = engine::NewestOplogEntry(engine);
    after_sequence = sequence;
    skip_through = high_water = ResumePoint::HighWaterMark(t);
  }
  RunContext ctx;
  ctx.engine = engine;
  ctx.db = db;
  ctx.budget = engine::SortBudget{engine->query_memory_limit_bytes, options.allow_disk_use};
  ctx.now_millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto source = std::make_unique<ChangeStreamSource>(engine, std::move(scope), *spec, after_sequence, skip_through,
                                                     high_water);
  ChangeStreamSource* raw = source.get();
  auto top = OpenOn(**pipeline, 0, std::move(source), ctx);
  if (!top.ok()) return top.status();
  auto stream =
      std::make_unique<ChangeStreamCursorStream>(std::move(pipeline).value(), std::move(top).value(), raw);
  const size_t batch_size = options.batch_size > 0 ? static_cast<size_t>(options.batch_size) : 101;
  return std::make_unique<CursorImpl>(std::move(stream), batch_size);
}

}  // namespace docket::aggregate
