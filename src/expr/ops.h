// The pieces the expression operators are built from. Internal to src/expr.
//
// Most operators evaluate every argument and then compute: they are a
// FunctionEntry (name, argument count, a function of the argument values).
// Operators that take named arguments ({input, as, in}), evaluate lazily or
// bind variables are a SpecialEntry with their own parser.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "expr/expression.h"

namespace docket::expr {

// An error with a MongoDB code (often a Location code: "Location16020").
inline Status Err(int code, std::string message) { return Status(static_cast<ErrorCode>(code), std::move(message)); }

using Args = std::vector<Value>;
using EvalFn = Result<Value> (*)(const Args& args, Variables& vars);
using SpecialParser = Result<ExprPtr> (*)(std::string_view name, const bson_iter_t& arg, Scope& scope);

// max_args < 0: no upper bound.
struct FunctionEntry {
  std::string_view name;
  int min_args;
  int max_args;
  EvalFn fn;
};

struct SpecialEntry {
  std::string_view name;
  SpecialParser parse;
};

// The operator families, one file each.
std::span<const FunctionEntry> ArithmeticFunctions();   // ops_arithmetic.cc
std::span<const FunctionEntry> ComparisonFunctions();   // ops_logic.cc
std::span<const SpecialEntry> LogicSpecials();          // ops_logic.cc: $and $or $cond $ifNull $switch $let $literal
std::span<const FunctionEntry> StringFunctions();       // ops_string.cc
std::span<const SpecialEntry> StringSpecials();         // ops_string.cc: $regex*, $trim*, $replace*
std::span<const FunctionEntry> ArrayFunctions();        // ops_array.cc
std::span<const SpecialEntry> ArraySpecials();          // ops_array.cc: $map $filter $reduce $sortArray $zip
std::span<const FunctionEntry> TypeFunctions();         // ops_type.cc
std::span<const SpecialEntry> TypeSpecials();           // ops_type.cc: $convert
std::span<const FunctionEntry> ObjectFunctions();       // ops_object.cc
std::span<const SpecialEntry> ObjectSpecials();         // ops_object.cc: $getField $setField $unsetField
std::span<const SpecialEntry> DateSpecials();           // ops_date.cc

// $$CURRENT, whole.
ExprPtr CurrentDocument();

// An operator that evaluates all of its arguments, then calls `fn` (with
// Variables::strings() set to `strings`, the parse scope's collation).
ExprPtr MakeFunction(std::string_view name, std::vector<ExprPtr> args, EvalFn fn,
                     const bson::StringOrder* strings = nullptr);

// The argument list: an array is the list, any other value one argument.
Result<std::vector<ExprPtr>> ParseArgs(const bson_iter_t& arg, Scope& scope);
// "Expression $x takes exactly 2 arguments. 1 were passed in." (Location16020)
// and its "at least" / "at most" forms.
Status CheckArgCount(std::string_view name, size_t count, int min_args, int max_args);

// The fields of a named-argument document, validated against `allowed`.
// Errors: `not_object_code` when `arg` is not a document, `unknown_code`
// for a field not in `allowed`.
Result<std::map<std::string, Value, std::less<>>> ReadNamedArgs(std::string_view op, const bson_iter_t& arg,
                                                               std::span<const std::string_view> allowed,
                                                               int not_object_code, int unknown_code);
inline Result<std::map<std::string, Value, std::less<>>> ReadNamedArgs(std::string_view op, const bson_iter_t& arg,
                                                                      std::initializer_list<std::string_view> allowed,
                                                                      int not_object_code, int unknown_code) {
  return ReadNamedArgs(op, arg, std::span<const std::string_view>(allowed.begin(), allowed.size()), not_object_code,
                       unknown_code);
}
// Parses one named argument's value as an expression; nullptr when absent.
Result<ExprPtr> ParseNamed(const std::map<std::string, Value, std::less<>>& args, std::string_view name,
                           Scope& scope);
// ReadNamedArgs, then each of `keys` parsed in order: one expression per key,
// nullptr for an absent one (the caller says which are required).
Result<std::vector<ExprPtr>> ParseNamedArgs(std::string_view op, const bson_iter_t& arg,
                                            std::span<const std::string_view> keys, int not_object_code,
                                            int unknown_code, Scope& scope);

// Shared value helpers.
// A whole number that fits int32 (int32, int64 or an integral double/decimal).
bool AsInt32(const Value& v, int32_t* out);
// A whole number that fits int64.
bool AsWholeInt64(const Value& v, int64_t* out);
// A date as milliseconds since the epoch from a date, timestamp or ObjectId
// value; false otherwise.
bool AsDateMillis(const Value& v, int64_t* out);

// Numbers as $toString writes them ("1.5", "NaN", "Infinity", decimals' own text).
std::string NumberToString(const Value& v);
// MongoDB's coercion to string ($toLower, $substrBytes, $strcasecmp...):
// strings as they are, numbers as above, dates in ISO 8601, null and missing
// as "". Errors: Location16007 for other types.
Result<std::string> CoerceToString(const Value& v, std::string_view op);
// $convert of a present, non-null value. Errors: ConversionFailure (241).
Result<Value> ConvertTo(const Value& in, bson_type_t target);

}  // namespace docket::expr
