// Type expressions: $type $isNumber, the conversions $convert $toBool $toInt
// $toLong $toDouble $toDecimal $toString $toDate $toObjectId with MongoDB's
// conversion table (ConversionFailure 241 for what it does not convert), and
// the string coercion other operators share.
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "bson/type_names.h"
#include "expr/arith.h"
#include "expr/dates.h"
#include "expr/ops.h"

namespace docket::expr {

std::string NumberToString(const Value& v) {
  switch (v.type()) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64: return std::to_string(v.AsInt64());
    case BSON_TYPE_DOUBLE: {
      double d = v.AsDouble();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      char buffer[64];
      auto r = std::to_chars(buffer, buffer + sizeof(buffer), d);
      return std::string(buffer, r.ptr);
    }
    default: {
      bson_decimal128_t dec = ToDecimal(v);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, text);
      return text;
    }
  }
}

Result<std::string> CoerceToString(const Value& v, std::string_view op) {
  if (v.is_nullish()) return std::string();
  if (v.is_string()) return std::string(v.AsString());
  if (v.is_number()) return NumberToString(v);
  if (v.type() == BSON_TYPE_DATE_TIME) return FormatIsoDate(v.AsDateMillis());
  if (v.type() == BSON_TYPE_TIMESTAMP) {
    int64_t millis = 0;
    AsDateMillis(v, &millis);
    return FormatIsoDate(millis);
  }
  return Err(16007, std::string(op) + " can't convert from BSON type " + TypeName(v) + " to String");
}

namespace {

Status Unsupported(const Value& in, bson_type_t target) {
  return Status(ErrorCode::kConversionFailure, std::string("Unsupported conversion from ") + TypeName(in) + " to " +
                                                   bson::TypeAlias(target) + " in $convert with no onError value");
}

Status ParseFailure(std::string_view text, std::string_view what) {
  return Status(ErrorCode::kConversionFailure, "Failed to parse " + std::string(what) + " '" + std::string(text) +
                                                   "' in $convert with no onError value");
}

Status Overflow(const Value& in, bson_type_t target) {
  return Status(ErrorCode::kConversionFailure, "Conversion would overflow target type in $convert with no onError value: " +
                                                   in.ToJson() + " to " + bson::TypeAlias(target));
}

// Strict base-10 integers: optional sign, digits, nothing else.
bool ParseInteger(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !(s[0] == '+' && s.size() == 1);
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string text(s);
  if (text.find('x') != std::string::npos || text.find('X') != std::string::npos) return false;  // no hex
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// An integer-typed result from a double or decimal: truncated, checked for range.
Result<Value> TruncateTo(const Value& in, bson_type_t target) {
  double d = in.AsDouble();
  if (std::isnan(d) || std::isinf(d)) return Status(ErrorCode::kConversionFailure, "Attempt to convert NaN or infinity value to integer type in $convert with no onError value");
  double t = std::trunc(d);
  if (target == BSON_TYPE_INT32) {
    if (t < INT32_MIN || t > INT32_MAX) return Overflow(in, target);
    return Value::Int32(static_cast<int32_t>(t));
  }
  if (t < -9.2233720368547758e18 || t >= 9.2233720368547758e18) return Overflow(in, target);
  return Value::Int64(static_cast<int64_t>(t));
}

}  // namespace

// Converts a present, non-null value to `target`.
Result<Value> ConvertTo(const Value& in, bson_type_t target) {
  const bson_type_t from = in.type();
  if (from == target && target != BSON_TYPE_UTF8) return in;
  switch (target) {
    case BSON_TYPE_DOUBLE:
      if (in.is_number()) return Value::Double(in.AsDouble());
      if (from == BSON_TYPE_BOOL) return Value::Double(in.AsBool() ? 1 : 0);
      if (from == BSON_TYPE_DATE_TIME) return Value::Double(static_cast<double>(in.AsDateMillis()));
      if (in.is_string()) {
        double d = 0;
        if (!ParseDouble(in.AsString(), &d)) return ParseFailure(in.AsString(), "number");
        return Value::Double(d);
      }
      break;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
      if (from == BSON_TYPE_INT32 || from == BSON_TYPE_INT64) {
        int64_t n = in.AsInt64();
        if (target == BSON_TYPE_INT32 && (n < INT32_MIN || n > INT32_MAX)) return Overflow(in, target);
        return target == BSON_TYPE_INT32 ? Value::Int32(static_cast<int32_t>(n)) : Value::Int64(n);
      }
      if (from == BSON_TYPE_DOUBLE || from == BSON_TYPE_DECIMAL128) return TruncateTo(in, target);
      if (from == BSON_TYPE_BOOL) {
        return target == BSON_TYPE_INT32 ? Value::Int32(in.AsBool()) : Value::Int64(in.AsBool());
      }
      if (from == BSON_TYPE_DATE_TIME && target == BSON_TYPE_INT64) return Value::Int64(in.AsDateMillis());
      if (in.is_string()) {
        int64_t n = 0;
        if (!ParseInteger(in.AsString(), &n)) return ParseFailure(in.AsString(), "number");
        if (target == BSON_TYPE_INT32 && (n < INT32_MIN || n > INT32_MAX)) return Overflow(in, target);
        return target == BSON_TYPE_INT32 ? Value::Int32(static_cast<int32_t>(n)) : Value::Int64(n);
      }
      break;
    case BSON_TYPE_DECIMAL128:
      if (in.is_number()) return Value::Decimal(ToDecimal(in));
      if (from == BSON_TYPE_BOOL) return Value::Decimal(ToDecimal(Value::Int32(in.AsBool())));
      if (from == BSON_TYPE_DATE_TIME) return Value::Decimal(ToDecimal(Value::Int64(in.AsDateMillis())));
      if (in.is_string()) {
        bson_decimal128_t d;
        std::string text(in.AsString());
        if (text.empty() || !bson_decimal128_from_string(text.c_str(), &d)) return ParseFailure(text, "number");
        return Value::Decimal(d);
      }
      break;
    case BSON_TYPE_BOOL:
      if (in.is_number()) return Value::Bool(in.Truthy());
      return Value::Bool(true);  // strings (even ""), ObjectIds, dates and the rest are true
    case BSON_TYPE_UTF8:
      if (from == BSON_TYPE_BOOL) return Value::String(in.AsBool() ? "true" : "false");
      if (from == BSON_TYPE_OID) {
        bson_iter_t it;
        in.Iter(&it);
        char hex[25];
        bson_oid_to_string(bson_iter_oid(&it), hex);
        return Value::String(hex);
      }
      if (in.is_string() || in.is_number() || from == BSON_TYPE_DATE_TIME) {
        auto s = CoerceToString(in, "$convert");
        if (!s.ok()) return s.status();
        return Value::String(*s);
      }
      break;
    case BSON_TYPE_OID:
      if (in.is_string()) {
        std::string text(in.AsString());
        if (text.size() != 24 || !bson_oid_is_valid(text.c_str(), text.size())) return ParseFailure(text, "objectId");
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, text.c_str());
        return Value::Oid(oid);
      }
      break;
    case BSON_TYPE_DATE_TIME: {
      int64_t millis = 0;
      if (from == BSON_TYPE_OID || from == BSON_TYPE_TIMESTAMP) {
        AsDateMillis(in, &millis);
        return Value::Date(millis);
      }
      if (from == BSON_TYPE_DOUBLE || from == BSON_TYPE_DECIMAL128) {
        auto n = TruncateTo(in, BSON_TYPE_INT64);
        if (!n.ok()) return n.status();
        return Value::Date(n->AsInt64());
      }
      if (from == BSON_TYPE_INT64) return Value::Date(in.AsInt64());
      if (in.is_string()) {
        auto parsed = ParseIsoDate(in.AsString(), TimeZone());
        if (!parsed.ok()) return parsed.status();
        return Value::Date(*parsed);
      }
      break;
    }
    default:
      break;
  }
  return Unsupported(in, target);
}

namespace {

template <bson_type_t Target>
Result<Value> ToType(const Args& args, Variables&) {
  if (args[0].is_nullish()) return Value::Null();
  return ConvertTo(args[0], Target);
}

Result<Value> TypeFn(const Args& args, Variables&) { return Value::String(TypeName(args[0])); }
Result<Value> IsNumberFn(const Args& args, Variables&) { return Value::Bool(args[0].is_number()); }

// The target of $convert's `to`: a type name or number.
Result<bson_type_t> TargetType(const Value& to) {
  if (to.is_string()) {
    auto t = bson::TypeFromAlias(to.AsString());
    if (!t) return Status(ErrorCode::kBadValue, "Unknown type name: " + std::string(to.AsString()));
    return *t;
  }
  if (to.is_number()) {
    int64_t code = 0;
    if (!AsWholeInt64(to, &code) || !bson::IsValidTypeCode(code)) {
      return Status(ErrorCode::kFailedToParse, "In $convert, numeric value for 'to' does not correspond to a BSON type: " + to.ToJson());
    }
    return bson::TypeFromCode(code);  // -1 (minKey) is not libbson's number for it
  }
  return Status(ErrorCode::kFailedToParse, "$convert's 'to' argument must be a string or number, but is " +
                                               std::string(TypeName(to)));
}

class ConvertExpr : public Expression {
 public:
  ConvertExpr(ExprPtr input, ExprPtr to, ExprPtr on_error, ExprPtr on_null)
      : input_(std::move(input)), to_(std::move(to)), on_error_(std::move(on_error)), on_null_(std::move(on_null)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto to = to_->Evaluate(vars);
    if (!to.ok()) return to.status();
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (to->is_nullish()) return Value::Null();
    auto target = TargetType(*to);
    if (!target.ok()) return target.status();
    if (input->is_nullish()) return on_null_ ? on_null_->Evaluate(vars) : Result<Value>(Value::Null());
    auto converted = ConvertTo(*input, *target);
    if (!converted.ok() && converted.status().code() == ErrorCode::kConversionFailure && on_error_) {
      return on_error_->Evaluate(vars);
    }
    return converted;
  }

 private:
  ExprPtr input_, to_, on_error_, on_null_;
};

Result<ExprPtr> ParseConvert(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "to", "onError", "onNull"}, 9, 9);
  if (!named.ok()) return named.status();
  ExprPtr parts[4];
  const char* keys[4] = {"input", "to", "onError", "onNull"};
  for (int i = 0; i < 4; ++i) {
    auto e = ParseNamed(*named, keys[i], scope);
    if (!e.ok()) return e.status();
    parts[i] = std::move(e).value();
  }
  if (!parts[0]) return Status(ErrorCode::kFailedToParse, "Missing 'input' parameter to $convert");
  if (!parts[1]) return Status(ErrorCode::kFailedToParse, "Missing 'to' parameter to $convert");
  return ExprPtr(std::make_unique<ConvertExpr>(std::move(parts[0]), std::move(parts[1]), std::move(parts[2]),
                                               std::move(parts[3])));
}

constexpr FunctionEntry kFunctions[] = {
    {"$type", 1, 1, TypeFn},
    {"$isNumber", 1, 1, IsNumberFn},
    {"$toBool", 1, 1, ToType<BSON_TYPE_BOOL>},
    {"$toInt", 1, 1, ToType<BSON_TYPE_INT32>},
    {"$toLong", 1, 1, ToType<BSON_TYPE_INT64>},
    {"$toDouble", 1, 1, ToType<BSON_TYPE_DOUBLE>},
    {"$toDecimal", 1, 1, ToType<BSON_TYPE_DECIMAL128>},
    {"$toString", 1, 1, ToType<BSON_TYPE_UTF8>},
    {"$toDate", 1, 1, ToType<BSON_TYPE_DATE_TIME>},
    {"$toObjectId", 1, 1, ToType<BSON_TYPE_OID>},
};

constexpr SpecialEntry kSpecials[] = {{"$convert", ParseConvert}};

}  // namespace

std::span<const FunctionEntry> TypeFunctions() { return kFunctions; }
std::span<const SpecialEntry> TypeSpecials() { return kSpecials; }

}  // namespace docket::expr
