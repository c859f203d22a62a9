// The aggregation framework's building blocks. A pipeline is parsed once into
// StageSpecs (immutable), then opened into a chain of running Stages, each
// pulling documents from the one before it. $lookup and $facet open their
// sub-pipelines as often as they need from the same specs.
//
// Documents flow between stages as expr::Values of type document, so that
// expressions can borrow fields without copying.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "docket/engine.h"
#include "engine/engine_impl.h"
#include "engine/sorter.h"
#include "expr/expression.h"
#include "expr/value.h"
#include "text/collation.h"

namespace docket::aggregate {

using expr::Value;

// A running stage. Not thread-safe: one pipeline runs on one thread at a time.
class Stage {
 public:
  virtual ~Stage() = default;
  // The next document, or a missing Value at the end. After the end or an
  // error, a stage keeps answering the same.
  virtual Result<Value> Next() = 0;
};

using StagePtr = std::unique_ptr<Stage>;

// What the running stages of one pipeline share.
struct RunContext {
  EngineImpl* engine = nullptr;
  std::string db;                // the database the pipeline runs in
  ReadOptions read;              // the transaction reads go through, if any
  WriteConcern write_concern;    // for $out and $merge
  bool bypass_document_validation = false;  // for $out and $merge
  engine::SortBudget budget;     // for $sort, $group and $facet
  int64_t now_millis = 0;        // $$NOW, one reading per pipeline
  // Variables bound for the whole run: the command's `let`, and for a
  // $lookup sub-pipeline the values of its `let` for the current document.
  std::vector<std::pair<int, Value>> bindings;
  // The pipeline's collation (null: simple), for the planner of the scans
  // it opens and the filters it compiles while running; the Pipeline owns it.
  text::CollatorPtr collation;

  // A Variables for one running stage: the bindings and $$NOW set.
  expr::Variables MakeVariables() const;
};

// A parsed stage.
class StageSpec {
 public:
  virtual ~StageSpec() = default;
  virtual Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const = 0;
  // The stage's name ("$match"), for messages and explain.
  virtual const char* name() const = 0;
  // Whether the stage's output depends on what its input documents hold, not
  // only on how many there are ($count and a $group of constants do not),
  // and whether its output is some of its input documents unchanged ($skip,
  // $limit), which later stages then read. A collection scan feeding a
  // pipeline none of whose stages read documents may skip fetching them.
  virtual bool ReadsDocuments() const { return true; }
  virtual bool ForwardsDocuments() const { return false; }
};

using SpecPtr = std::shared_ptr<const StageSpec>;

// Parse-time context.
struct ParseContext {
  std::string db;
  expr::Scope* scope = nullptr;  // the pipeline's variables
  // The pipeline's collation (null: simple): every stage and expression
  // compares strings by it (ParsePipeline sets it on `scope`); the parsed
  // Pipeline keeps it alive.
  text::CollatorPtr collation;
  bool in_facet = false;         // $facet forbids some stages inside
  bool in_lookup = false;        // $out/$merge are not allowed in sub-pipelines
  int sub_depth = 0;             // sub-pipelines ($lookup, $unionWith, $facet) around this one
};

// MongoDB's limit on nested sub-pipelines (MaxSubPipelineDepthExceeded).
inline constexpr int kMaxSubPipelineDepth = 20;

// A stream of documents read from a collection (or given) for a pipeline.
// An adapter over an engine DocumentStream.
class StreamStage : public Stage {
 public:
  explicit StreamStage(StreamPtr stream) : stream_(std::move(stream)) {}
  Result<Value> Next() override;

 private:
  StreamPtr stream_;
};

// A Stage read as an engine DocumentStream (what a Cursor needs).
class StageStream : public DocumentStream {
 public:
  explicit StageStream(StagePtr stage) : stage_(std::move(stage)) {}
  Result<std::optional<Document>> Next() override;

 private:
  StagePtr stage_;
};

// Documents in hand (for $documents, $facet's input, tests).
class ValuesStage : public Stage {
 public:
  explicit ValuesStage(std::vector<Value> docs) : docs_(std::move(docs)) {}
  Result<Value> Next() override {
    if (next_ >= docs_.size()) return Value();
    return std::move(docs_[next_++]);
  }

 private:
  std::vector<Value> docs_;
  size_t next_ = 0;
};

// Location codes used by several stages.
inline Status StageError(int code, std::string message) {
  return Status(static_cast<ErrorCode>(code), std::move(message));
}

}  // namespace docket::aggregate
