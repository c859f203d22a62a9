#include "expr/arith.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <decimal/decimal>

namespace docket::expr {
namespace {

using Dec = std::decimal::decimal128;

// GCC's decimal128 and BSON's Decimal128 are both IEEE 754-2008 BID on
// x86-64, so they convert by copy.
Dec FromBson(const bson_decimal128_t& d) {
  Dec out;
  std::memcpy(static_cast<void*>(&out), &d, sizeof(out));
  return out;
}

bson_decimal128_t ToBson(const Dec& d) {
  bson_decimal128_t out;
  std::memcpy(&out, static_cast<const void*>(&d), sizeof(out));
  return out;
}

Dec DecFromDouble(double d) {
  bson_decimal128_t out;
  if (std::isnan(d)) {
    bson_decimal128_from_string("NaN", &out);
  } else if (std::isinf(d)) {
    bson_decimal128_from_string(d > 0 ? "Infinity" : "-Infinity", &out);
  } else {
    char text[64];
    std::snprintf(text, sizeof(text), "%.15g", d);
    bson_decimal128_from_string(text, &out);
  }
  return FromBson(out);
}

Dec AsDec(const Value& v) {
  bson_iter_t it;
  v.Iter(&it);
  switch (v.type()) {
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t d;
      bson_iter_decimal128(&it, &d);
      return FromBson(d);
    }
    case BSON_TYPE_INT32: return Dec(bson_iter_int32(&it));
    case BSON_TYPE_INT64: return Dec(static_cast<long long>(bson_iter_int64(&it)));
    default: return DecFromDouble(bson_iter_double(&it));
  }
}

Value MakeDec(const Dec& d) { return Value::Decimal(ToBson(d)); }

bool Either(const Value& a, const Value& b, bson_type_t t) { return a.type() == t || b.type() == t; }

// For two integers: int32 when both are int32 and the result fits, int64
// when it fits, else nullopt-like (overflow) so that callers use double.
Value IntegerResult(bool both_int32, int64_t r) {
  if (both_int32 && r >= INT32_MIN && r <= INT32_MAX) return Value::Int32(static_cast<int32_t>(r));
  return Value::Int64(r);
}

}  // namespace

void Sum::AddDouble(double x) {
  if (!std::isfinite(x) || !std::isfinite(hi_)) {
    hi_ += x;  // infinities and NaN: plain arithmetic gives MongoDB's answers
    lo_ = 0;
    return;
  }
  double s = hi_ + x;
  double bp = s - hi_;
  double err = (hi_ - (s - bp)) + (x - bp);
  hi_ = s;
  lo_ += err;
}

void Sum::Add(const Value& v) {
  bson_iter_t it;
  v.Iter(&it);
  if (v.type() == BSON_TYPE_DECIMAL128 || kind_ == Kind::kDecimal) {
    if (kind_ != Kind::kDecimal) {
      decimal_ = ToBson(AsDec(Total()));
      kind_ = Kind::kDecimal;
    }
    decimal_ = ToBson(FromBson(decimal_) + AsDec(v));
    return;
  }
  if (v.type() == BSON_TYPE_DOUBLE) {
    kind_ = Kind::kDouble;
    AddDouble(bson_iter_double(&it));
    return;
  }
  int64_t n = v.type() == BSON_TYPE_INT32 ? bson_iter_int32(&it) : bson_iter_int64(&it);
  if (v.type() == BSON_TYPE_INT64 && kind_ == Kind::kInt32) kind_ = Kind::kInt64;
  if (!exact_overflow_ && __builtin_add_overflow(exact_, n, &exact_)) exact_overflow_ = true;
  // The same integer into the double-double sum, exactly (x87 long double
  // holds every int64).
  long double wide = n;
  double high = static_cast<double>(wide);
  AddDouble(high);
  AddDouble(static_cast<double>(wide - high));
}

Value Sum::Total() const {
  switch (kind_) {
    case Kind::kDecimal: return Value::Decimal(decimal_);
    case Kind::kDouble: return Value::Double(hi_ + lo_);
    case Kind::kInt32:
    case Kind::kInt64:
      if (exact_overflow_) return Value::Double(hi_ + lo_);
      return IntegerResult(kind_ == Kind::kInt32, exact_);
  }
  return Value::Int32(0);
}

Value Sum::Mean(int64_t count) const {
  if (kind_ == Kind::kDecimal) return MakeDec(FromBson(decimal_) / Dec(static_cast<long long>(count)));
  return Value::Double((hi_ + lo_) / static_cast<double>(count));
}

Value Subtract(const Value& a, const Value& b) {
  if (Either(a, b, BSON_TYPE_DECIMAL128)) return MakeDec(AsDec(a) - AsDec(b));
  if (Either(a, b, BSON_TYPE_DOUBLE)) return Value::Double(a.AsDouble() - b.AsDouble());
  int64_t r = 0;
  if (__builtin_sub_overflow(a.AsInt64(), b.AsInt64(), &r)) {
    return Value::Double(static_cast<double>(a.AsInt64()) - static_cast<double>(b.AsInt64()));
  }
  return IntegerResult(a.type() == BSON_TYPE_INT32 && b.type() == BSON_TYPE_INT32, r);
}

Value Multiply(const Value& a, const Value& b) {
  if (Either(a, b, BSON_TYPE_DECIMAL128)) return MakeDec(AsDec(a) * AsDec(b));
  if (Either(a, b, BSON_TYPE_DOUBLE)) return Value::Double(a.AsDouble() * b.AsDouble());
  int64_t r = 0;
  if (__builtin_mul_overflow(a.AsInt64(), b.AsInt64(), &r)) {
    return Value::Double(static_cast<double>(a.AsInt64()) * static_cast<double>(b.AsInt64()));
  }
  return IntegerResult(a.type() == BSON_TYPE_INT32 && b.type() == BSON_TYPE_INT32, r);
}

Value Divide(const Value& a, const Value& b) {
  if (Either(a, b, BSON_TYPE_DECIMAL128)) return MakeDec(AsDec(a) / AsDec(b));
  return Value::Double(a.AsDouble() / b.AsDouble());
}

Value Mod(const Value& a, const Value& b) {
  if (Either(a, b, BSON_TYPE_DECIMAL128)) {
    Dec x = AsDec(a), y = AsDec(b);
    Dec q = x / y;
    double qd = a.AsDouble() / b.AsDouble();
    if (std::fabs(qd) < 9e18) {
      Dec whole(std::decimal::decimal128_to_long_long(q));
      return MakeDec(x - y * whole);
    }
    return DecimalFromDouble(std::fmod(a.AsDouble(), b.AsDouble()));
  }
  if (Either(a, b, BSON_TYPE_DOUBLE)) return Value::Double(std::fmod(a.AsDouble(), b.AsDouble()));
  int64_t x = a.AsInt64(), y = b.AsInt64();
  int64_t r = (y == -1) ? 0 : x % y;  // INT64_MIN % -1 is undefined in C++; the answer is 0
  return IntegerResult(a.type() == BSON_TYPE_INT32 && b.type() == BSON_TYPE_INT32, r);
}

bool IsZero(const Value& number) {
  if (number.type() == BSON_TYPE_INT32 || number.type() == BSON_TYPE_INT64) return number.AsInt64() == 0;
  return number.AsDouble() == 0;
}

bson_decimal128_t ToDecimal(const Value& number) { return ToBson(AsDec(number)); }

Value DecimalFromDouble(double d) { return MakeDec(DecFromDouble(d)); }

}  // namespace docket::expr
