// Update specifications: operator updates ({$set: ..., $inc: ...}) or a
// replacement document, compiled once and applied to any number of documents.
// Operators supported in this version: $set $unset $inc $setOnInsert. Other
// MongoDB operators fail at compile time with FailedToParse (9) saying so.
#pragma once

#include <string>
#include <vector>

#include "bson/path.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket::update {

class Update {
 public:
  enum class Mode { kAny, kReplacementOnly, kOperatorsOnly };
  static Result<Update> Compile(const Document& spec, Mode mode = Mode::kAny);

  bool is_replacement() const { return is_replacement_; }

  // Applies the update to `doc` (the stored version, or the seed of an upsert
  // when `is_insert`). Sets *changed when the bytes differ. Enforces that _id
  // does not change (ImmutableField 66) unless `is_insert`.
  Result<Document> Apply(const Document& doc, bool is_insert, bool* changed) const;

 private:
  enum class OpKind { kSet, kUnset, kInc, kSetOnInsert };
  struct Op {
    OpKind kind;
    bson::Path path;
    std::string dotted;
    std::string value;  // {"": value}
  };
  bool is_replacement_ = false;
  Document replacement_;
  std::vector<Op> ops_;  // sorted by path, so new fields appear in MongoDB's order
};

// The document an upsert starts from: the filter's equality conditions
// (`{a: 1}`, `{a: {$eq: 1}}`, inside $and too), with dotted paths expanded.
Result<Document> SeedFromFilter(const Document& filter);

}  // namespace docket::update
