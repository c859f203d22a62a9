// Sort specifications ({a: 1, "b.c": -1}) and MongoDB's sort order: an array
// sorts by its smallest element ascending and its largest descending; a
// missing field sorts as null.
#pragma once

#include <functional>
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

  // Ascending by a number computed per document (a $near query's distance):
  // the order MongoDB gives a $near query without a sort.
  static SortSpec ByComputed(std::function<double(const Document&)> value);

  bool empty() const { return keys_.empty(); }
  // Whether a key is {$meta: "textScore"} (sorted highest first); its
  // values come from set_text_score's function (0 without one). The query
  // must have $text (Location40218 otherwise, the caller's check).
  bool has_text_score() const { return has_text_score_; }
  void set_text_score(std::function<double(const Document&)> score) { text_score_ = std::move(score); }

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
    bool text_score = false;  // the value is text_score_'s (a textScore, or ByComputed's number)
  };
  bool has_text_score_ = false;
  std::function<double(const Document&)> text_score_;
  std::vector<Key> keys_;
  const bson::StringOrder* strings_ = nullptr;
};

}  // namespace docket::query
