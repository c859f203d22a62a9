// How strings compare when not by their bytes: the seam through which a
// collation (text/collation.h, ICU) reaches the value comparisons of
// bson/value.h without the BSON layer depending on ICU.
#pragma once

#include <bson/bson.h>

#include <string>
#include <string_view>

namespace docket::bson {

// Implementations are immutable and safe to use from any number of threads.
class StringOrder {
 public:
  virtual ~StringOrder() = default;
  // <0, 0, >0 as `a` orders before, with, or after `b` (UTF-8 text).
  virtual int CompareStrings(std::string_view a, std::string_view b) const = 0;
  // Bytes whose memcmp order (shorter prefix first) is CompareStrings' order,
  // and that are equal exactly when the strings compare equal. Contains no
  // NUL byte.
  virtual std::string SortKey(std::string_view text) const = 0;
};

// The comparison key of a value under `order` (MongoDB's "collation index
// key"), as a {"": value} document (bson::HoldValue's shape): every string
// and symbol in it, at any depth, replaced by a string holding its SortKey;
// field names and other types unchanged. Values compared by CompareValues
// without an order then compare as the originals do with it, so keys can be
// hashed, sorted and encoded (index keys). With `order` null, a plain copy.
std::string ComparisonKey(const bson_iter_t& value, const StringOrder* order);

// Appends the order-preserving key encoding (bson/key_encoding.h) of the
// value's comparison key under `order` (null: of the value itself): equal
// exactly when the values are equal under it. What index keys, $in lists,
// group keys and distinct are made of.
void AppendComparisonKeyValue(std::string* out, const bson_iter_t& value, const StringOrder* order);

// Whether ComparisonKey would change the value: it is or holds a string.
bool HasStrings(const bson_iter_t& value);

}  // namespace docket::bson
