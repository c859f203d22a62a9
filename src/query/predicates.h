// Tests on single values, the leaves of a compiled filter: each is applied to
// every value a path reaches (see bson::VisitPath). Internal to src/query.
#pragma once

#include <bson/bson.h>

#include <memory>
#include <string_view>
#include <vector>

#include "bson/string_order.h"
#include "docket/status.h"
#include "text/regex.h"

namespace docket::query {

using text::Regex;

// `value` is nullptr for a branch of the walk where the path is missing.
// Implementations are immutable and safe to share between threads.
class ValuePredicate {
 public:
  virtual ~ValuePredicate() = default;
  virtual bool Test(const bson_iter_t* value) const = 0;
};

using PredicatePtr = std::unique_ptr<ValuePredicate>;

enum class CompareOp { kEq, kGt, kGte, kLt, kLte };

// $eq/$gt/... with type bracketing; a null operand also matches missing.
// Strings compare by `strings` (a collation; null: by their bytes), which
// must outlive the predicate, as for MakeEqualsAnyOf.
PredicatePtr MakeCompare(CompareOp op, const bson_iter_t& operand, const bson::StringOrder* strings = nullptr);
// Strings and symbols matching the pattern, and regex values equal to it.
PredicatePtr MakeRegexMatch(Regex regex);
// True when any of `choices` holds ($in).
PredicatePtr MakeAnyOf(std::vector<PredicatePtr> choices);
// Equality to any element of `array` ($in of plain values), by binary
// search over the elements' key encodings (bson/key_encoding.h, whose order
// is CompareValues'): what MakeAnyOf of one MakeCompare(kEq) per element
// answers, in O(log n). REQUIRES: no element is null, undefined, a regex,
// NaN, MinKey or MaxKey (their equality is not CompareValues' order); see
// InListIsPlain.
PredicatePtr MakeEqualsAnyOf(const bson_iter_t& array, const bson::StringOrder* strings = nullptr);
// Whether MakeEqualsAnyOf may take this $in element.
bool InListIsPlain(const bson_iter_t& value);
// True for any present value ($exists: true).
PredicatePtr MakeExists();

// The operand parsers below fail with MongoDB's codes for malformed operands.
// $type: an alias, a type number, "number", or an array of those.
Result<PredicatePtr> ParseTypeOperand(const bson_iter_t& operand);
// $mod: [divisor, remainder].
Result<PredicatePtr> ParseModOperand(const bson_iter_t& operand);
// $bitsAllSet, $bitsAnySet, $bitsAllClear, $bitsAnyClear (`op` names it):
// the operand is a non-negative whole-number bitmask, a BinData bitmask or
// an array of bit positions. Matches whole numbers that fit in an int64
// (two's complement: positions past 63 are the sign) and BinData values
// (bit i is bit i%8 of byte i/8; past the end, clear). `path` names the
// field in messages. Errors: FailedToParse (9) for a fractional, negative,
// NaN or too large number; BadValue (2) for another operand type or a
// position that is not a number or does not fit in an int32.
Result<PredicatePtr> ParseBitTestOperand(std::string_view op, std::string_view path, const bson_iter_t& operand);
// $size: a non-negative whole number; matches arrays of that length.
Result<PredicatePtr> ParseSizeOperand(const bson_iter_t& operand);
// A regex value (/x/i) with optional separate $options, or a string pattern.
// `options_first` says $options came before $regex in the operator document.
Result<Regex> ParseRegexOperand(const bson_iter_t& regex, const bson_iter_t* options, bool options_first);

}  // namespace docket::query
