// Stages that decide which documents go on, and in what order: $limit,
// $skip, $sort, $count, $unwind, $sample, $documents, $facet.
#include <algorithm>
#include <random>

#include "aggregate/pipeline.h"
#include "aggregate/stages.h"

#include <optional>

#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/path.h"
#include "engine/spill.h"
#include "storage/keys.h"
#include "storage/status_from_rocks.h"

namespace docket::aggregate {
namespace {

// A whole number argument (int, long, or a double/decimal without fraction).
bool WholeNumber(const bson_iter_t& it, int64_t* out) {
  Value v = Value::Borrow(it);
  if (!v.is_number()) return false;
  double d = v.AsDouble();
  if (v.type() == BSON_TYPE_INT32 || v.type() == BSON_TYPE_INT64) {
    *out = v.AsInt64();
    return true;
  }
  if (d != static_cast<double>(static_cast<int64_t>(d))) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

// ---- $limit, $skip ----

class LimitStage : public Stage {
 public:
  LimitStage(StagePtr input, int64_t n) : input_(std::move(input)), remaining_(n) {}
  Result<Value> Next() override {
    if (remaining_ <= 0) {
      input_.reset();  // nothing more is read: let the scan go
      return Value();
    }
    auto doc = input_->Next();
    if (doc.ok() && !doc->missing()) --remaining_;
    return doc;
  }

 private:
  StagePtr input_;
  int64_t remaining_;
};

class SkipStage : public Stage {
 public:
  SkipStage(StagePtr input, int64_t n) : input_(std::move(input)), to_skip_(n) {}
  Result<Value> Next() override {
    while (to_skip_ > 0) {
      auto doc = input_->Next();
      if (!doc.ok() || doc->missing()) return doc;
      --to_skip_;
    }
    return input_->Next();
  }

 private:
  StagePtr input_;
  int64_t to_skip_;
};

Status ParseLimit(const bson_iter_t& arg, ParseContext&, std::vector<SpecPtr>* out) {
  int64_t n = 0;
  if (!WholeNumber(arg, &n)) return StageError(15957, "the limit must be specified as a number");
  if (n <= 0) return StageError(15958, "the limit must be positive");
  out->push_back(std::make_shared<LimitSpec>(n));
  return Status::OK();
}

Status ParseSkip(const bson_iter_t& arg, ParseContext&, std::vector<SpecPtr>* out) {
  int64_t n = 0;
  if (!WholeNumber(arg, &n)) return StageError(15972, "Argument to $skip must be a number.");
  if (n < 0) return StageError(15956, "Argument to $skip cannot be negative");
  out->push_back(std::make_shared<SkipSpec>(n));
  return Status::OK();
}

// ---- $sort ----

class SortStage : public Stage {
 public:
  // `wrapped` null: the documents are never wrapped (they have no text score).
  SortStage(StagePtr input, const query::SortSpec& spec, const query::SortSpec* wrapped, size_t keep,
            const RunContext& ctx)
      : input_(std::move(input)), spec_(spec), wrapped_(wrapped), keep_(keep), ctx_(ctx) {}
  Result<Value> Next() override {
    if (!sorted_) {
      while (true) {
        auto doc = input_->Next();
        if (!doc.ok()) return doc.status();
        if (doc->missing()) break;
        if (!sorter_) {
          // The first document decides: with a text score, every document
          // is sorted wrapped (see SortStageSpec).
          wrap_ = wrapped_ != nullptr && (doc->has_text_score() || spec_.has_text_score());
          sorter_.emplace(ctx_.engine, wrap_ ? *wrapped_ : spec_, keep_, ctx_.budget);
        }
        if (spec_.has_text_score() && !doc->has_text_score()) {
          return StageError(40218, "query requires text score metadata, but it is not available");
        }
        DOCKET_RETURN_IF_ERROR(sorter_->Add(wrap_ ? Wrap(*doc) : doc->AsDocument()));
      }
      input_.reset();
      if (!sorter_) return Value();  // nothing to sort
      auto sorted = sorter_->Finish();
      if (!sorted.ok()) return sorted.status();
      sorted_ = std::move(sorted).value();
    }
    auto next = sorted_->Next();
    if (!next.ok()) return next.status();
    if (!*next) return Value();
    return wrap_ ? Unwrap(**next) : Value::FromDocument(**next);
  }

 private:
  static Document Wrap(const Value& doc) {
    bson::Builder out;
    std::string_view bytes = doc.ContainerBytes();
    bson_t inner;
    bson_init_static(&inner, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    BSON_APPEND_DOCUMENT(out.get(), "d", &inner);
    if (doc.has_text_score()) BSON_APPEND_DOUBLE(out.get(), "s", doc.text_score());
    return out.Finish();
  }
  static Value Unwrap(const Document& wrapped) {
    bson_iter_t d, s;
    Value out;
    if (wrapped.Find("d", &d)) out = Value::FromDocumentBytes(bson::SubDocumentBytes(d));
    if (wrapped.Find("s", &s)) out.set_text_score(bson_iter_double(&s));
    return out;
  }

  StagePtr input_;
  const query::SortSpec& spec_;
  const query::SortSpec* wrapped_;
  size_t keep_;
  RunContext ctx_;
  bool wrap_ = false;
  std::optional<engine::Sorter> sorter_;  // made at the first document
  StreamPtr sorted_;
};

Status ParseSort(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) return StageError(15973, "the $sort key specification must be an object");
  Document doc = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(arg)));
  if (doc.empty()) return StageError(15976, "$sort stage must have at least one sort key");
  bson_iter_t key;
  doc.Iterate(&key);
  while (bson_iter_next(&key)) {
    Value v = Value::Borrow(key);
    if (v.is_document()) continue;  // {$meta: ...}: SortSpec::Compile checks it
    if (!v.is_number() || (v.AsDouble() != 1 && v.AsDouble() != -1)) {
      return StageError(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)");
    }
  }
  auto spec = query::SortSpec::Compile(doc, ctx.collation.get());
  if (!spec.ok()) return spec.status();
  // The same keys over {d: <document>, s: <text score>}.
  bson::Builder wrapped_doc;
  doc.Iterate(&key);
  while (bson_iter_next(&key)) {
    const std::string name = BSON_ITER_HOLDS_DOCUMENT(&key) ? std::string(bson_iter_key(&key))
                                                             : "d." + std::string(bson_iter_key(&key));
    bson::AppendElement(wrapped_doc.get(), name.c_str(), -1, &key);
  }
  auto wrapped = query::SortSpec::Compile(wrapped_doc.Finish(), ctx.collation.get());
  if (!wrapped.ok()) return wrapped.status();
  wrapped->set_text_score([](const Document& d) {
    bson_iter_t s;
    return d.Find("s", &s) ? bson_iter_double(&s) : 0.0;
  });
  out->push_back(std::make_shared<SortStageSpec>(std::move(doc), std::move(spec).value(), std::move(wrapped).value()));
  return Status::OK();
}

// ---- $count ----

class CountStage : public Stage {
 public:
  CountStage(StagePtr input, std::string field) : input_(std::move(input)), field_(std::move(field)) {}
  Result<Value> Next() override {
    if (done_) return Value();
    int64_t n = 0;
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      ++n;
    }
    done_ = true;
    if (n == 0) return Value();  // as MongoDB: counting nothing gives no document
    expr::DocumentBuilder out;
    out.Append(field_, Value::Integer(n));
    return out.Finish();
  }

 private:
  StagePtr input_;
  std::string field_;
  bool done_ = false;
};

class CountSpec : public StageSpec {
 public:
  explicit CountSpec(std::string field) : field_(std::move(field)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext&) const override {
    return StagePtr(std::make_unique<CountStage>(std::move(input), field_));
  }
  const char* name() const override { return "$count"; }
  bool ReadsDocuments() const override { return false; }

 private:
  std::string field_;
};

Status ParseCount(const bson_iter_t& arg, ParseContext&, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_UTF8 || bson_iter_utf8(&arg, nullptr)[0] == '\0') {
    return StageError(40156, "the count field must be a non-empty string");
  }
  std::string field = bson_iter_utf8(&arg, nullptr);
  if (field[0] == '$') return StageError(40158, "the count field cannot be a $-prefixed path");
  if (field.find('.') != std::string::npos) return StageError(40160, "the count field cannot contain '.'");
  out->push_back(std::make_shared<CountSpec>(std::move(field)));
  return Status::OK();
}

// ---- $unwind ----

// The document with the field at `path` (through documents) set to `v`, or
// removed when `v` is missing.
Value WithField(const Value& doc, const bson::Path& path, size_t i, const Value& v) {
  expr::DocumentBuilder out;
  bool replaced = false;
  expr::ForEachElement(doc, [&](const Value& field) {
    bson_iter_t it;
    field.Iter(&it);
    std::string_view key = KeyOf(it);
    if (key != path[i]) {
      out.Append(key, field);
      return true;
    }
    replaced = true;
    if (i + 1 == path.size()) {
      out.Append(key, v);
    } else if (field.is_document()) {
      out.Append(key, WithField(field, path, i + 1, v));
    } else {
      out.Append(key, field);
    }
    return true;
  });
  if (!replaced && i + 1 == path.size()) out.Append(path[i], v);
  return out.Finish();
}

// The value at a dotted path through documents only (no array traversal).
Value FieldAt(const Value& doc, const bson::Path& path) {
  Value v = doc;
  for (const std::string& part : path) {
    if (!v.is_document()) return Value();
    Value next;
    expr::ForEachElement(v, [&](const Value& field) {
      bson_iter_t it;
      field.Iter(&it);
      if (KeyOf(it) != part) return true;
      next = field;
      return false;
    });
    v = next;
    if (v.missing()) return v;
  }
  return v;
}

class UnwindStage : public Stage {
 public:
  UnwindStage(StagePtr input, const bson::Path& path, const bson::Path& index_path, bool preserve)
      : input_(std::move(input)), path_(path), index_path_(index_path), preserve_(preserve) {}
  Result<Value> Next() override {
    while (true) {
      if (!elements_.empty() && next_ < elements_.size()) {
        Value out = WithField(current_, path_, 0, elements_[next_]);
        if (!index_path_.empty()) out = WithField(out, index_path_, 0, Value::Int64(static_cast<int64_t>(next_)));
        ++next_;
        return out.WithMetadataOf(current_);
      }
      auto doc = input_->Next();
      if (!doc.ok() || doc->missing()) return doc;
      Value v = FieldAt(*doc, path_);
      elements_.clear();
      next_ = 0;
      if (v.is_array()) {
        elements_ = expr::Elements(v);
        if (!elements_.empty()) {
          current_ = *doc;
          continue;
        }
        if (!preserve_) continue;
        // an empty array is removed
        return WithIndex(WithField(*doc, path_, 0, Value()), Value::Null()).WithMetadataOf(*doc);
      }
      if (v.is_nullish()) {
        if (!preserve_) continue;
        return WithIndex(*doc, Value::Null()).WithMetadataOf(*doc);
      }
      return WithIndex(*doc, Value::Null()).WithMetadataOf(*doc);  // a scalar unwinds to itself, without an index
    }
  }

 private:
  Value WithIndex(const Value& doc, const Value& index) {
    if (index_path_.empty()) return doc;
    return WithField(doc, index_path_, 0, index);
  }

  StagePtr input_;
  const bson::Path& path_;
  const bson::Path& index_path_;
  bool preserve_;
  Value current_;
  std::vector<Value> elements_;
  size_t next_ = 0;
};

class UnwindSpec : public StageSpec {
 public:
  UnwindSpec(bson::Path path, bson::Path index_path, bool preserve)
      : path_(std::move(path)), index_path_(std::move(index_path)), preserve_(preserve) {}
  Result<StagePtr> Open(StagePtr input, const RunContext&) const override {
    return StagePtr(std::make_unique<UnwindStage>(std::move(input), path_, index_path_, preserve_));
  }
  const char* name() const override { return "$unwind"; }

 private:
  bson::Path path_;
  bson::Path index_path_;
  bool preserve_;
};

Status ParseUnwind(const bson_iter_t& arg, ParseContext&, std::vector<SpecPtr>* out) {
  std::string path, index;
  bool preserve = false;
  if (bson_iter_type(&arg) == BSON_TYPE_UTF8) {
    path = bson_iter_utf8(&arg, nullptr);
  } else if (bson_iter_type(&arg) == BSON_TYPE_DOCUMENT) {
    bson_iter_t field;
    bson_iter_recurse(&arg, &field);
    bool has_path = false;
    while (bson_iter_next(&field)) {
      std::string_view key = KeyOf(field);
      if (key == "path") {
        if (bson_iter_type(&field) != BSON_TYPE_UTF8) return StageError(28808, "expected a string as the path for $unwind stage");
        path = bson_iter_utf8(&field, nullptr);
        has_path = true;
      } else if (key == "preserveNullAndEmptyArrays") {
        if (bson_iter_type(&field) != BSON_TYPE_BOOL) {
          return StageError(28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage");
        }
        preserve = bson_iter_bool(&field);
      } else if (key == "includeArrayIndex") {
        if (bson_iter_type(&field) != BSON_TYPE_UTF8) {
          return StageError(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage");
        }
        index = bson_iter_utf8(&field, nullptr);
        if (index.empty()) return StageError(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage");
        if (index[0] == '$') return StageError(28822, "includeArrayIndex option to $unwind stage should not be prefixed with a '$': " + index);
      } else {
        return StageError(28811, "unrecognized option to $unwind stage: " + std::string(key));
      }
    }
    if (!has_path) return StageError(28812, "no path specified to $unwind stage");
  } else {
    return StageError(15981, "expected either a string or an object as specification for $unwind stage, got " +
                                 std::string(TypeName(Value::Borrow(arg))));
  }
  if (path.empty() || path[0] != '$') {
    return StageError(28818, "path option to $unwind stage should be prefixed with a '$': " + path);
  }
  DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(path.substr(1)));
  if (!index.empty()) DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(index));
  out->push_back(std::make_shared<UnwindSpec>(bson::SplitPath(path.substr(1)),
                                              index.empty() ? bson::Path() : bson::SplitPath(index), preserve));
  return Status::OK();
}

// ---- $sample ----

// A uniform sample of `size` documents, by reservoir, in random order.
class SampleStage : public Stage {
 public:
  SampleStage(StagePtr input, int64_t size) : input_(std::move(input)), size_(size), rng_(std::random_device{}()) {}
  Result<Value> Next() override {
    if (!filled_) {
      int64_t seen = 0;
      while (true) {
        auto doc = input_->Next();
        if (!doc.ok()) return doc.status();
        if (doc->missing()) break;
        ++seen;
        if (static_cast<int64_t>(reservoir_.size()) < size_) {
          reservoir_.push_back(doc->Owned());
        } else {
          std::uniform_int_distribution<int64_t> pick(0, seen - 1);
          int64_t at = pick(rng_);
          if (at < size_) reservoir_[static_cast<size_t>(at)] = doc->Owned();
        }
      }
      std::shuffle(reservoir_.begin(), reservoir_.end(), rng_);
      input_.reset();
      filled_ = true;
    }
    if (next_ >= reservoir_.size()) return Value();
    return std::move(reservoir_[next_++]);
  }

 private:
  StagePtr input_;
  int64_t size_;
  std::mt19937_64 rng_;
  std::vector<Value> reservoir_;
  size_t next_ = 0;
  bool filled_ = false;
};

class SampleSpec : public StageSpec {
 public:
  explicit SampleSpec(int64_t size) : size_(size) {}
  Result<StagePtr> Open(StagePtr input, const RunContext&) const override {
    return StagePtr(std::make_unique<SampleStage>(std::move(input), size_));
  }
  const char* name() const override { return "$sample"; }

 private:
  int64_t size_;
};

Status ParseSample(const bson_iter_t& arg, ParseContext&, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) return StageError(28745, "the $sample stage specification must be an object");
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  std::optional<int64_t> size;
  while (bson_iter_next(&field)) {
    if (KeyOf(field) != "size") return StageError(28748, "unrecognized option to $sample: " + std::string(KeyOf(field)));
    int64_t n = 0;
    if (!WholeNumber(field, &n)) return StageError(28746, "size argument to $sample must be a number");
    if (n < 0) return StageError(28747, "size argument to $sample must not be negative");
    size = n;
  }
  if (!size) return StageError(28749, "$sample stage must specify a size");
  out->push_back(std::make_shared<SampleSpec>(*size));
  return Status::OK();
}

// ---- $documents ----

class DocumentsSpec : public StageSpec {
 public:
  explicit DocumentsSpec(expr::ExprPtr docs) : docs_(std::move(docs)) {}
  Result<StagePtr> Open(StagePtr, const RunContext& ctx) const override {
    expr::Variables vars = ctx.MakeVariables();
    auto v = docs_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (!v->is_array()) return StageError(5858203, "an array is expected as the argument of $documents");
    std::vector<Value> docs;
    Status error;
    expr::ForEachElement(*v, [&](const Value& d) {
      if (!d.is_document()) {
        error = StageError(5858202, "each element of $documents must be an object, found " + std::string(TypeName(d)));
        return false;
      }
      docs.push_back(d.Owned());
      return true;
    });
    if (!error.ok()) return error;
    return StagePtr(std::make_unique<ValuesStage>(std::move(docs)));
  }
  const char* name() const override { return "$documents"; }

 private:
  expr::ExprPtr docs_;
};

Status ParseDocuments(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  auto e = expr::Parse(arg, *ctx.scope);
  if (!e.ok()) return e.status();
  out->push_back(std::make_shared<DocumentsSpec>(std::move(e).value()));
  return Status::OK();
}

// ---- $facet ----

// The facet's input, kept once for every sub-pipeline: in memory up to the
// budget, then in a spill area.
class InputBuffer {
 public:
  InputBuffer(EngineImpl* engine, engine::SortBudget budget) : engine_(engine), budget_(budget) {}
  Status Add(const Value& doc) {
    if (spill_) return Put(doc);
    bytes_ += doc.ContainerBytes().size() + 64;
    docs_.push_back(doc.Owned());
    if (bytes_ <= budget_.memory_limit_bytes) return Status::OK();
    if (!budget_.allow_disk_use) {
      return Status(ErrorCode::kQueryExceededMemoryLimitNoDiskUseAllowed,
                    "$facet exceeded its memory limit of " + std::to_string(budget_.memory_limit_bytes) +
                        " bytes, but did not opt in to external storage.");
    }
    spill_ = std::make_unique<engine::SpillArea>(engine_);
    for (const Value& d : docs_) DOCKET_RETURN_IF_ERROR(Put(d));
    docs_.clear();
    return Status::OK();
  }
  Status Finish() { return spill_ ? spill_->Flush() : Status::OK(); }
  // A stage replaying the buffer from the start. The buffer outlives it.
  StagePtr Replay() const;

 private:
  friend class ReplayStage;
  Status Put(const Value& doc) {
    std::string key;
    storage::AppendBigEndian64(&key, count_++);
    std::string_view bytes = doc.ContainerBytes();
    return spill_->Put(key, bytes);
  }
  EngineImpl* engine_;
  engine::SortBudget budget_;
  std::vector<Value> docs_;
  size_t bytes_ = 0;
  uint64_t count_ = 0;
  std::unique_ptr<engine::SpillArea> spill_;
};

class ReplayStage : public Stage {
 public:
  explicit ReplayStage(const InputBuffer& buffer) : buffer_(buffer) {
    if (buffer_.spill_) it_ = buffer_.spill_->NewIterator();
  }
  Result<Value> Next() override {
    if (!it_) {
      if (next_ >= buffer_.docs_.size()) return Value();
      return buffer_.docs_[next_++];
    }
    if (!it_->Valid()) {
      DOCKET_RETURN_IF_ERROR(storage::FromRocks(it_->status(), "reading $facet's input"));
      return Value();
    }
    Value doc = Value::FromDocumentBytes(std::string_view(it_->value().data(), it_->value().size()));
    it_->Next();
    return doc;
  }

 private:
  const InputBuffer& buffer_;
  std::unique_ptr<rocksdb::Iterator> it_;
  size_t next_ = 0;
};

StagePtr InputBuffer::Replay() const { return std::make_unique<ReplayStage>(*this); }

class FacetStage : public Stage {
 public:
  FacetStage(StagePtr input, const std::vector<std::pair<std::string, PipelinePtr>>& facets, const RunContext& ctx)
      : input_(std::move(input)), facets_(facets), ctx_(ctx), buffer_(ctx.engine, ctx.budget) {}
  Result<Value> Next() override {
    if (done_) return Value();
    done_ = true;
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      DOCKET_RETURN_IF_ERROR(buffer_.Add(*doc));
    }
    input_.reset();
    DOCKET_RETURN_IF_ERROR(buffer_.Finish());
    expr::DocumentBuilder out;
    for (const auto& [name, pipeline] : facets_) {
      auto stage = OpenOn(*pipeline, 0, buffer_.Replay(), ctx_);
      if (!stage.ok()) return stage.status();
      expr::ArrayBuilder results;
      while (true) {
        auto r = (*stage)->Next();
        if (!r.ok()) return r.status();
        if (r->missing()) break;
        results.Append(*r);
        if (results.bytes() + out.bytes() > kMaxDocumentSize) {
          return Status(ErrorCode::kBSONObjectTooLarge, "document constructed by $facet exceeds the 16MB limit");
        }
      }
      out.Append(name, results.Finish());
    }
    return out.Finish();
  }

 private:
  StagePtr input_;
  const std::vector<std::pair<std::string, PipelinePtr>>& facets_;
  RunContext ctx_;
  InputBuffer buffer_;
  bool done_ = false;
};

class FacetSpec : public StageSpec {
 public:
  explicit FacetSpec(std::vector<std::pair<std::string, PipelinePtr>> facets) : facets_(std::move(facets)) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override {
    return StagePtr(std::make_unique<FacetStage>(std::move(input), facets_, ctx));
  }
  const char* name() const override { return "$facet"; }

 private:
  std::vector<std::pair<std::string, PipelinePtr>> facets_;
};

Status ParseFacet(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  bson_iter_t field;
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT || !bson_iter_recurse(&arg, &field)) {
    return StageError(40169, "the $facet specification must be a non-empty object");
  }
  std::vector<std::pair<std::string, PipelinePtr>> facets;
  while (bson_iter_next(&field)) {
    std::string name(KeyOf(field));
    DOCKET_RETURN_IF_ERROR(expr::ValidateFieldPath(name));
    if (name.find('.') != std::string::npos) return StageError(40172, "$facet pipeline names must not contain '.'");
    if (bson_iter_type(&field) != BSON_TYPE_ARRAY) {
      return StageError(40170, "arguments to $facet must be arrays, " + name + " is type " +
                                   TypeName(Value::Borrow(field)));
    }
    ParseContext inner = ctx;
    inner.in_facet = true;
    auto pipeline = ParseSubPipeline(field, inner);
    if (!pipeline.ok()) return pipeline.status();
    facets.emplace_back(std::move(name), std::move(pipeline).value());
  }
  if (facets.empty()) return StageError(40169, "the $facet specification must be a non-empty object");
  out->push_back(std::make_shared<FacetSpec>(std::move(facets)));
  return Status::OK();
}

constexpr StageEntry kStages[] = {
    {"$limit", ParseLimit},   {"$skip", ParseSkip},     {"$sort", ParseSort},         {"$count", ParseCount},
    {"$unwind", ParseUnwind}, {"$sample", ParseSample}, {"$documents", ParseDocuments}, {"$facet", ParseFacet},
};

}  // namespace

Result<StagePtr> LimitSpec::Open(StagePtr input, const RunContext&) const {
  return StagePtr(std::make_unique<LimitStage>(std::move(input), n_));
}

Result<StagePtr> SkipSpec::Open(StagePtr input, const RunContext&) const {
  return StagePtr(std::make_unique<SkipStage>(std::move(input), n_));
}

Result<StagePtr> SortStageSpec::Open(StagePtr input, const RunContext& ctx) const {
  return StagePtr(std::make_unique<SortStage>(std::move(input), spec_, can_wrap_ ? &wrapped_ : nullptr, keep_, ctx));
}

std::span<const StageEntry> FlowStages() { return kStages; }

}  // namespace docket::aggregate
