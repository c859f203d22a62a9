// BSON values as MongoDB orders and compares them.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "bson/string_order.h"

namespace docket::bson {

// MongoDB's canonical type order ("type bracket"): values of different
// brackets compare by bracket alone; int32/int64/double/decimal128 share one
// bracket and compare by numeric value, as do string and symbol.
//   MinKey < undefined < null < numbers < string < object < array < binData
//   < ObjectId < bool < date < timestamp < regex < dbPointer < code
//   < codeWScope < MaxKey
int CanonicalType(bson_type_t type);

inline bool IsNumber(bson_type_t t) {
  return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE ||
         t == BSON_TYPE_DECIMAL128;
}
inline bool IsNullish(bson_type_t t) { return t == BSON_TYPE_NULL || t == BSON_TYPE_UNDEFINED; }

// Whether a value is a double or Decimal128 NaN.
bool IsNaN(const bson_iter_t& it);

// Any number as a double (decimal128 through its decimal text, so NaN and
// infinities survive). REQUIRES: IsNumber(type).
double NumberAsDouble(const bson_iter_t& it);

// Whether `it` is a document whose first key starts with '$' ({$gt: 1}): an
// operator document in a filter, not a value.
bool IsOperatorDocument(const bson_iter_t& it);

// Total order over BSON values, MongoDB's: strings by their bytes (the simple
// binary collation) or, when `strings` is given, by that order (a
// collation), at any depth. Returns <0, 0 or >0.
int CompareValues(const bson_iter_t& a, const bson_iter_t& b, const StringOrder* strings = nullptr);

// Compares two embedded documents or arrays element by element: canonical type,
// then (when compare_names) field name, then value. A prefix sorts first.
int CompareDocumentBytes(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                         bool compare_names, const StringOrder* strings = nullptr);

// The raw bytes of an element's value, as laid out in BSON (no type, no name).
std::string_view RawValueBytes(const bson_iter_t& it);

// The bytes of an embedded document or array value.
// REQUIRES: it is of type document or array.
std::string_view SubDocumentBytes(const bson_iter_t& it);

// Human-readable rendering of one value as relaxed Extended JSON ("1", "\"x\"",
// "{ \"a\" : 1 }"), for error messages.
std::string ValueToJson(const bson_iter_t& it);

// A single value held as the one-field document {"": value}, so that it can be
// kept after its source is gone and re-read as an iterator at any time.
std::string HoldValue(const bson_iter_t& it);
// Positions `it` on the value of a HoldValue() result. `held` must outlive it.
void IterHeldValue(const std::string& held, bson_iter_t* it);

// "{ _id: 1 }"-style rendering of {name: value} for error messages.
std::string FieldToJson(std::string_view name, const bson_iter_t& it);

}  // namespace docket::bson
