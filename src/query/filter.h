// Query filters: compiled once from a filter document, then matched against
// any number of documents. The operators of MongoDB 6.0 that this version
// supports: $eq $ne $gt $gte $lt $lte $in $nin $exists $not, and the logical
// $and $or $nor, with dotted paths and implicit array traversal. Anything else
// fails at compile time with BadValue (2), never silently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::query {

class FilterNode;

// Immutable once compiled; safe to share between threads.
class Filter {
 public:
  static Result<Filter> Compile(const Document& filter);
  Filter();  // the empty filter: matches every document
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;
  ~Filter();

  bool Matches(const uint8_t* doc, size_t len) const;
  bool Matches(const Document& doc) const { return Matches(doc.data(), doc.size()); }

  // When the filter requires _id to equal one value (`{_id: v, ...}` or
  // `{_id: {$eq: v}}` at the top level), returns {"": v}: the engine then reads
  // that one record instead of scanning.
  const std::optional<Document>& id_equality() const { return id_equality_; }

  bool matches_everything() const { return root_ == nullptr; }

 private:
  std::unique_ptr<FilterNode> root_;  // null: the empty filter
  std::optional<Document> id_equality_;
};

}  // namespace docket::query
