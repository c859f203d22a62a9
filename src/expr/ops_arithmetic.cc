// Arithmetic expressions: $add $subtract $multiply $divide $mod $abs $ceil
// $floor $trunc $round $sqrt $pow $exp $ln $log $log10 and the trigonometric
// family. A null or missing argument makes the result null, as in MongoDB.
#include <cmath>

#include "expr/arith.h"
#include "expr/ops.h"

namespace docket::expr {
namespace {

bool AnyNullish(const Args& args) {
  for (const Value& v : args) {
    if (v.is_nullish()) return true;
  }
  return false;
}

std::string T(const Value& v) { return TypeName(v); }

// date + sign * millis (a number, rounded to the millisecond), or MongoDB's
// Overflow (15) "date overflow in $add" when that is not a date: the sum in
// 128 bits, so that no operand is cast or added out of its range.
Result<int64_t> DatePlusMillis(int64_t date, const Value& millis, const char* op, int sign = 1) {
  __extension__ typedef __int128 Wide;
  Wide offset = 0;
  if (millis.type() == BSON_TYPE_INT32 || millis.type() == BSON_TYPE_INT64) {
    offset = millis.AsInt64();
  } else {
    const double d = std::round(millis.AsDouble());
    if (!(d > -1e20 && d < 1e20)) return Err(15, std::string("date overflow in ") + op);  // NaN too
    offset = static_cast<Wide>(d);
  }
  const Wide result = Wide{date} + sign * offset;
  if (result < INT64_MIN || result > INT64_MAX) return Err(15, std::string("date overflow in ") + op);
  return static_cast<int64_t>(result);
}

Result<Value> Add(const Args& args, Variables&) {
  Sum sum;
  bool have_date = false;
  int64_t date = 0;
  for (const Value& v : args) {
    if (v.is_nullish()) return Value::Null();
    if (v.type() == BSON_TYPE_DATE_TIME) {
      if (have_date) return Err(16612, "only one date allowed in an $add expression");
      have_date = true;
      date = v.AsDateMillis();
      continue;
    }
    if (!v.is_number()) return Err(16554, "$add only supports numeric or date types, not " + T(v));
    sum.Add(v);
  }
  if (!have_date) return sum.Total();
  Value total = sum.Total();
  auto moved = DatePlusMillis(date, total, "$add");
  if (!moved.ok()) return moved.status();
  return Value::Date(*moved);
}

Result<Value> SubtractFn(const Args& args, Variables&) {
  const Value &a = args[0], &b = args[1];
  if (AnyNullish(args)) return Value::Null();
  if (a.type() == BSON_TYPE_DATE_TIME) {
    if (b.type() == BSON_TYPE_DATE_TIME) {
      int64_t difference = 0;
      if (__builtin_sub_overflow(a.AsDateMillis(), b.AsDateMillis(), &difference)) {
        return Err(15, "date overflow in $subtract");
      }
      return Value::Int64(difference);
    }
    if (b.is_number()) {
      auto moved = DatePlusMillis(a.AsDateMillis(), b, "$subtract", -1);
      if (!moved.ok()) return moved.status();
      return Value::Date(*moved);
    }
    return Err(16613, "can't $subtract " + T(b) + " from a date");
  }
  if (!a.is_number() || !b.is_number()) {
    return Err(16556, "can't $subtract " + T(b) + " from " + T(a));
  }
  return Subtract(a, b);
}

Result<Value> MultiplyFn(const Args& args, Variables&) {
  Value product = Value::Int32(1);
  for (const Value& v : args) {
    if (v.is_nullish()) return Value::Null();
    if (!v.is_number()) return Err(16555, "$multiply only supports numeric types, not " + T(v));
    product = Multiply(product, v);
  }
  return product;
}

Result<Value> DivideFn(const Args& args, Variables&) {
  const Value &a = args[0], &b = args[1];
  if (AnyNullish(args)) return Value::Null();
  if (!a.is_number() || !b.is_number()) {
    return Err(16609, "$divide only supports numeric types, not " + T(a) + " and " + T(b));
  }
  if (IsZero(b)) return Err(16608, "can't $divide by zero");
  return Divide(a, b);
}

Result<Value> ModFn(const Args& args, Variables&) {
  const Value &a = args[0], &b = args[1];
  if (AnyNullish(args)) return Value::Null();
  if (!a.is_number() || !b.is_number()) {
    return Err(16611, "$mod only supports numeric types, not " + T(a) + " and " + T(b));
  }
  if (IsZero(b)) return Err(16610, "can't $mod by zero");
  return Mod(a, b);
}

// One numeric argument; null for null; Location28765 otherwise.
Status CheckUnaryNumber(std::string_view op, const Value& v) {
  if (!v.is_number()) return Err(28765, std::string(op) + " only supports numeric types, not " + T(v));
  return Status::OK();
}

Result<Value> Abs(const Args& args, Variables&) {
  const Value& v = args[0];
  if (v.is_nullish()) return Value::Null();
  DOCKET_RETURN_IF_ERROR(CheckUnaryNumber("$abs", v));
  switch (v.type()) {
    case BSON_TYPE_INT32: return Value::Integer(std::llabs(v.AsInt64()));
    case BSON_TYPE_INT64:
      if (v.AsInt64() == INT64_MIN) return Err(28680, "can't take $abs of long long min");
      return Value::Int64(std::llabs(v.AsInt64()));
    case BSON_TYPE_DOUBLE: return Value::Double(std::fabs(v.AsDouble()));
    default: {
      bson_decimal128_t d = ToDecimal(v);
      d.high &= ~(1ULL << 63);  // clear the sign bit
      return Value::Decimal(d);
    }
  }
}

// $ceil $floor: integers are returned as they are.
template <double (*F)(double)>
Result<Value> Rounding(const Args& args, Variables&) {
  const Value& v = args[0];
  if (v.is_nullish()) return Value::Null();
  DOCKET_RETURN_IF_ERROR(CheckUnaryNumber("$ceil/$floor", v));
  if (v.type() == BSON_TYPE_INT32 || v.type() == BSON_TYPE_INT64) return v;
  if (v.type() == BSON_TYPE_DECIMAL128) return DecimalFromDouble(F(v.AsDouble()));
  return Value::Double(F(v.AsDouble()));
}

// $round and $trunc: [number, place]; place in [-20, 100]. $round rounds a
// half to even, as MongoDB does.
Result<Value> RoundTo(const Args& args, bool truncate) {
  const char* op = truncate ? "$trunc" : "$round";
  const Value& v = args[0];
  int64_t place = 0;
  if (args.size() > 1) {
    if (args[1].is_nullish()) return Value::Null();
    if (!AsWholeInt64(args[1], &place)) {
      return Err(51082, std::string("precision argument to ") + op + " must be a integral value");
    }
    if (place < -20 || place > 100) {
      return Err(51083, std::string("cannot apply ") + op + " with precision value " + std::to_string(place) +
                            " value must be in [-20, 100]");
    }
  }
  if (v.is_nullish()) return Value::Null();
  if (!v.is_number()) return Err(51081, std::string(op) + " only supports numeric types, not " + T(v));
  auto apply = [&](double x) {
    if (!std::isfinite(x)) return x;
    long double scale = std::pow(10.0L, static_cast<long double>(place));
    long double scaled = static_cast<long double>(x) * scale;
    long double r = truncate ? std::trunc(scaled) : std::nearbyint(scaled);  // default mode: half to even
    return static_cast<double>(r / scale);
  };
  if (v.type() == BSON_TYPE_INT32 || v.type() == BSON_TYPE_INT64) {
    if (place >= 0) return v;
    int64_t n = v.AsInt64();
    double r = apply(static_cast<double>(n));
    return v.type() == BSON_TYPE_INT32 ? Value::Integer(static_cast<int64_t>(r)) : Value::Int64(static_cast<int64_t>(r));
  }
  if (v.type() == BSON_TYPE_DECIMAL128) return DecimalFromDouble(apply(v.AsDouble()));
  return Value::Double(apply(v.AsDouble()));
}

Result<Value> Round(const Args& args, Variables&) { return RoundTo(args, false); }
Result<Value> Trunc(const Args& args, Variables&) { return RoundTo(args, true); }

// A function of one double: the result is a double, or a decimal for a
// decimal argument (computed through double).
Result<Value> UnaryDouble(const Args& args, const char* op, double (*f)(double), int domain_code,
                          bool (*in_domain)(double), const char* domain_text) {
  const Value& v = args[0];
  if (v.is_nullish()) return Value::Null();
  DOCKET_RETURN_IF_ERROR(CheckUnaryNumber(op, v));
  double x = v.AsDouble();
  if (in_domain != nullptr && !std::isnan(x) && !in_domain(x)) {
    return Err(domain_code, std::string(op) + "'s argument must be " + domain_text + ", but is " + v.ToJson());
  }
  double r = f(x);
  return v.type() == BSON_TYPE_DECIMAL128 ? DecimalFromDouble(r) : Value::Double(r);
}

bool Finite(double x) { return std::isfinite(x); }
bool NonNegative(double x) { return x >= 0; }
bool Positive(double x) { return x > 0; }
bool UnitRange(double x) { return x >= -1 && x <= 1; }
bool AtLeastOne(double x) { return x >= 1; }
bool OpenUnitRange(double x) { return x > -1 && x < 1; }
double Sqrt(double x) { return std::sqrt(x); }
double Exp(double x) { return std::exp(x); }
double Ln(double x) { return std::log(x); }
double Log10(double x) { return std::log10(x); }
double DegToRad(double x) { return x * M_PI / 180.0; }
double RadToDeg(double x) { return x * 180.0 / M_PI; }

#define DOCKET_UNARY(fn_name, op, f, code, domain, text)                         \
  Result<Value> fn_name(const Args& args, Variables&) {                          \
    return UnaryDouble(args, op, f, code, domain, text);                         \
  }
DOCKET_UNARY(SqrtFn, "$sqrt", Sqrt, 28714, NonNegative, "greater than or equal to 0")
DOCKET_UNARY(ExpFn, "$exp", Exp, 0, nullptr, "")
DOCKET_UNARY(LnFn, "$ln", Ln, 28766, Positive, "a positive number")
DOCKET_UNARY(Log10Fn, "$log10", Log10, 28761, Positive, "a positive number")
DOCKET_UNARY(SinFn, "$sin", ::sin, 50989, Finite, "finite")
DOCKET_UNARY(CosFn, "$cos", ::cos, 50989, Finite, "finite")
DOCKET_UNARY(TanFn, "$tan", ::tan, 50989, Finite, "finite")
DOCKET_UNARY(AsinFn, "$asin", ::asin, 50989, UnitRange, "in [-1, 1]")
DOCKET_UNARY(AcosFn, "$acos", ::acos, 50989, UnitRange, "in [-1, 1]")
DOCKET_UNARY(AtanFn, "$atan", ::atan, 0, nullptr, "")
DOCKET_UNARY(SinhFn, "$sinh", ::sinh, 0, nullptr, "")
DOCKET_UNARY(CoshFn, "$cosh", ::cosh, 0, nullptr, "")
DOCKET_UNARY(TanhFn, "$tanh", ::tanh, 0, nullptr, "")
DOCKET_UNARY(AsinhFn, "$asinh", ::asinh, 0, nullptr, "")
DOCKET_UNARY(AcoshFn, "$acosh", ::acosh, 50989, AtLeastOne, "at least 1")
DOCKET_UNARY(AtanhFn, "$atanh", ::atanh, 50989, OpenUnitRange, "in (-1, 1)")
DOCKET_UNARY(DegreesToRadians, "$degreesToRadians", DegToRad, 0, nullptr, "")
DOCKET_UNARY(RadiansToDegrees, "$radiansToDegrees", RadToDeg, 0, nullptr, "")
#undef DOCKET_UNARY

Result<Value> Atan2(const Args& args, Variables&) {
  if (AnyNullish(args)) return Value::Null();
  if (!args[0].is_number() || !args[1].is_number()) {
    return Err(51044, "$atan2 only supports numeric types, not " + T(args[0]) + " and " + T(args[1]));
  }
  double r = std::atan2(args[0].AsDouble(), args[1].AsDouble());
  bool dec = args[0].type() == BSON_TYPE_DECIMAL128 || args[1].type() == BSON_TYPE_DECIMAL128;
  return dec ? DecimalFromDouble(r) : Value::Double(r);
}

Result<Value> Log(const Args& args, Variables&) {
  if (AnyNullish(args)) return Value::Null();
  const Value &n = args[0], &base = args[1];
  if (!n.is_number()) return Err(28756, "$log's argument must be numeric, not " + T(n));
  if (!base.is_number()) return Err(28757, "$log's base must be numeric, not " + T(base));
  double x = n.AsDouble(), b = base.AsDouble();
  if (!(x > 0)) return Err(28758, "$log's argument must be a positive number, but is " + n.ToJson());
  if (!(b > 0) || b == 1) return Err(28759, "$log's base must be a positive number not equal to 1, but is " + base.ToJson());
  double r = std::log(x) / std::log(b);
  bool dec = n.type() == BSON_TYPE_DECIMAL128 || base.type() == BSON_TYPE_DECIMAL128;
  return dec ? DecimalFromDouble(r) : Value::Double(r);
}

Result<Value> Pow(const Args& args, Variables&) {
  if (AnyNullish(args)) return Value::Null();
  const Value &base = args[0], &exp = args[1];
  if (!base.is_number()) return Err(28762, "$pow's base must be numeric, not " + T(base));
  if (!exp.is_number()) return Err(28763, "$pow's exponent must be numeric, not " + T(exp));
  double b = base.AsDouble(), e = exp.AsDouble();
  if (b == 0 && e < 0) return Err(28764, "$pow cannot take a base of 0 and a negative exponent");
  if (base.type() == BSON_TYPE_DECIMAL128 || exp.type() == BSON_TYPE_DECIMAL128) {
    return DecimalFromDouble(std::pow(b, e));
  }
  bool integers = (base.type() == BSON_TYPE_INT32 || base.type() == BSON_TYPE_INT64) &&
                  (exp.type() == BSON_TYPE_INT32 || exp.type() == BSON_TYPE_INT64);
  if (!integers) return Value::Double(std::pow(b, e));
  int64_t x = base.AsInt64(), n = exp.AsInt64();
  if (n < 0) {
    // Only 1 and -1 stay integers under a negative exponent.
    if (x == 1) return base;
    if (x == -1) return Value::Integer(n % 2 == 0 ? 1 : -1);
    return Value::Double(std::pow(b, e));
  }
  int64_t result = 1;
  bool overflow = false;
  for (int64_t i = 0; i < n && !overflow; ++i) {
    overflow = __builtin_mul_overflow(result, x, &result);
    if (result == 0 || result == 1) break;  // x is 0 or 1: no need to go on
  }
  if (x == -1) result = n % 2 == 0 ? 1 : -1;
  if (overflow) return Value::Double(std::pow(b, e));
  bool both_int32 = base.type() == BSON_TYPE_INT32 && exp.type() == BSON_TYPE_INT32;
  if (both_int32 && result >= INT32_MIN && result <= INT32_MAX) return Value::Int32(static_cast<int32_t>(result));
  return Value::Int64(result);
}

constexpr FunctionEntry kFunctions[] = {
    {"$add", 0, -1, Add},
    {"$subtract", 2, 2, SubtractFn},
    {"$multiply", 0, -1, MultiplyFn},
    {"$divide", 2, 2, DivideFn},
    {"$mod", 2, 2, ModFn},
    {"$abs", 1, 1, Abs},
    {"$ceil", 1, 1, Rounding<std::ceil>},
    {"$floor", 1, 1, Rounding<std::floor>},
    {"$round", 1, 2, Round},
    {"$trunc", 1, 2, Trunc},
    {"$sqrt", 1, 1, SqrtFn},
    {"$exp", 1, 1, ExpFn},
    {"$ln", 1, 1, LnFn},
    {"$log", 2, 2, Log},
    {"$log10", 1, 1, Log10Fn},
    {"$pow", 2, 2, Pow},
    {"$sin", 1, 1, SinFn},
    {"$cos", 1, 1, CosFn},
    {"$tan", 1, 1, TanFn},
    {"$asin", 1, 1, AsinFn},
    {"$acos", 1, 1, AcosFn},
    {"$atan", 1, 1, AtanFn},
    {"$atan2", 2, 2, Atan2},
    {"$sinh", 1, 1, SinhFn},
    {"$cosh", 1, 1, CoshFn},
    {"$tanh", 1, 1, TanhFn},
    {"$asinh", 1, 1, AsinhFn},
    {"$acosh", 1, 1, AcoshFn},
    {"$atanh", 1, 1, AtanhFn},
    {"$degreesToRadians", 1, 1, DegreesToRadians},
    {"$radiansToDegrees", 1, 1, RadiansToDegrees},
};

}  // namespace

std::span<const FunctionEntry> ArithmeticFunctions() { return kFunctions; }

}  // namespace docket::expr
