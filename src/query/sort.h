// Sort specifications ({a: 1, "b.c": -1}) and MongoDB's sort order: an array
// sorts by its smallest element ascending and its largest descending; a
// missing field sorts as null.
#pragma once

#include <string>
#include <vector>

#include "bson/path.h"
#include "bson/string_order.h"
#include "docket/document.h"
#include "docket/status.h"

namespace docket::query {

class SortSpec {
 public:
  // `strings`: the collation strings sort by (null: their bytes); must
  // outlive the spec.
  static Result<SortSpec> Compile(const Document& spec, const bson::StringOrder* strings = nullptr);

  bool empty() const { return keys_.empty(); }

  // The values a document sorts by, one per key, each as {"": value} (under
  // a collation, its comparison key: bson::ComparisonKey). Computed once
  // per document so that comparisons are cheap.
  using SortValues = std::vector<std::string>;
  SortValues Extract(const Document& doc) const;
  // <0, 0, >0 as `a` sorts before, with, or after `b`.
  int Compare(const SortValues& a, const SortValues& b) const;
  // Bytes that order as Compare does (memcmp): the order-preserving key
  // encoding of each value, inverted for descending keys. For spilling.
  std::string EncodeKey(const SortValues& values) const;

 private:
  struct Key {
    bson::Path path;
    bool descending = false;
  };
  std::vector<Key> keys_;
  const bson::StringOrder* strings_ = nullptr;
};

}  // namespace docket::query
