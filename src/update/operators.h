// The update operators, one parsed field at a time ({$inc: {"a.b": 2}} gives
// one Op for "a.b"), and how each changes a document at one concrete path
// (positional elements already replaced by indexes). Internal to src/update.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bson/mutable_document.h"
#include "bson/path.h"
#include "docket/document.h"
#include "docket/status.h"
#include "query/filter.h"
#include "query/sort.h"

namespace docket::update {

enum class OpKind {
  kSet, kUnset, kInc, kMul, kMin, kMax, kRename, kCurrentDate, kBit, kSetOnInsert,
  kPush, kAddToSet, kPop, kPull, kPullAll,
};

// $push's and $addToSet's {$each: [...], $position, $sort, $slice}.
struct ArrayModifiers {
  std::vector<std::string> each;  // values, each as bson::HoldValue
  std::optional<int64_t> position;
  std::optional<int64_t> slice;
  enum class Sort { kNone, kWhole, kFields } sort = Sort::kNone;
  bool sort_descending = false;   // kWhole
  query::SortSpec sort_fields;    // kFields
};

struct Op {
  OpKind kind;
  bson::Path path;
  std::string dotted;
  std::string value;  // the operand, as bson::HoldValue
  bson::Path to_path;  // $rename's destination
  std::string to_dotted;
  std::shared_ptr<const ArrayModifiers> modifiers;     // $push, $addToSet
  std::shared_ptr<const query::ElementMatcher> pull;   // $pull
  // The update's collation (null: binary) for $min, $max, $addToSet,
  // $pullAll, $pull and $push's $sort; the Update keeps it alive.
  const bson::StringOrder* strings = nullptr;
};

// The operator named `name` ("$inc"), or nullopt if there is none.
std::optional<OpKind> OpKindFromName(std::string_view name);

// Parses `field` (one entry of the operator's document) into an Op. Checks the
// operand; the path itself is checked by the caller.
Result<Op> ParseOp(OpKind kind, std::string_view op_name, const bson_iter_t& field,
                   const bson::StringOrder* strings = nullptr);

struct ApplyEnv {
  const Document* doc;  // the document before the update, for messages
  bool is_insert;       // applying to an upsert's new document
  int64_t now_millis;   // one clock reading for the whole update ($currentDate)
};

// Applies `op` at `path` (concrete: numeric components only) inside `root`.
Status ApplyOp(const Op& op, const bson::Path& path, bson::MutableValue* root, const ApplyEnv& env);

// "{_id: 1}" of the document, for error messages.
std::string IdForMessage(const Document& doc);

}  // namespace docket::update
