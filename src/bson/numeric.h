// Arithmetic on BSON numbers with MongoDB's type promotion:
//   int32 op int32 -> int32, or int64 when it overflows;
//   int64 involved -> int64 (overflow is an error);
//   double involved -> double; decimal128 involved -> decimal128.
#pragma once

#include <bson/bson.h>

#include <optional>

#include "bson/mutable_document.h"

namespace docket::bson {

// a + b, or nullopt on int64 overflow. REQUIRES: both are numbers.
std::optional<MutableValue> AddNumbers(const bson_iter_t& a, const bson_iter_t& b);

// a * b with the same promotion rules, or nullopt on int64 overflow.
std::optional<MutableValue> MultiplyNumbers(const bson_iter_t& a, const bson_iter_t& b);

// `like` * int32 0, what $mul sets a missing field to (as MongoDB computes it:
// a zero of `like`'s type, -0.0 for a negative double, NaN for an infinite
// or NaN one, a decimal zero with `like`'s sign and exponent).
// REQUIRES: `like` is a number.
MutableValue TimesZero(const bson_iter_t& like);

MutableValue MakeInt32(int32_t v);
MutableValue MakeInt64(int64_t v);
MutableValue MakeDouble(double v);
MutableValue MakeDecimal(const bson_decimal128_t& v);

}  // namespace docket::bson
