// Arithmetic on numeric Values with MongoDB's type promotion, shared by the
// arithmetic expressions and the $sum/$avg accumulators:
//   int32 op int32 -> int32, or int64 when the result does not fit;
//   int64 involved -> int64, or double when the result overflows int64;
//   double involved -> double; decimal128 involved -> decimal128 (exact
//   decimal arithmetic for + - * /; other functions go through double).
#pragma once

#include <bson/bson.h>

#include <cstdint>

#include "expr/value.h"

namespace docket::expr {

// A running sum ($sum, $avg, $add). Integers are summed exactly; doubles with
// double-double compensation (as MongoDB does), so the order of a long list
// of doubles barely matters.
class Sum {
 public:
  // REQUIRES: v.is_number().
  void Add(const Value& v);
  // The total in the widest type seen (int32 when every input was int32 and
  // the total fits). 0 (int32) when nothing was added.
  Value Total() const;
  // The total as a double or, when a decimal was added, a decimal ($avg).
  Value Mean(int64_t count) const;
  bool has_decimal() const { return kind_ == Kind::kDecimal; }

 private:
  enum class Kind { kInt32, kInt64, kDouble, kDecimal };
  void AddDouble(double d);
  Kind kind_ = Kind::kInt32;
  int64_t exact_ = 0;        // the integer inputs' sum, while it fits
  bool exact_overflow_ = false;
  double hi_ = 0, lo_ = 0;   // double-double sum of every non-decimal input
  bson_decimal128_t decimal_ = {0, 0};  // the sum of every input, once a decimal is seen
  bool has_decimal_sum_ = false;
};

// REQUIRES: both are numbers.
Value Subtract(const Value& a, const Value& b);
Value Multiply(const Value& a, const Value& b);
// Always a double, or a decimal when either is one. REQUIRES: b is not zero.
Value Divide(const Value& a, const Value& b);
// Remainder with the sign of the dividend, in the operands' widest type.
// REQUIRES: b is not zero.
Value Mod(const Value& a, const Value& b);

bool IsZero(const Value& number);
// The value as a decimal128 (doubles through their 15 significant digits,
// as MongoDB converts them).
bson_decimal128_t ToDecimal(const Value& number);
// A decimal from a double, as above.
Value DecimalFromDouble(double d);

}  // namespace docket::expr
