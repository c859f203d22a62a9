#include "query/predicates.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "bson/key_encoding.h"
#include "bson/type_names.h"
#include "bson/value.h"

namespace docket::query {
namespace {

using bson::CanonicalType;
using bson::IsNaN;
using bson::IsNullish;

Status BadValue(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }

// A number operand as a whole int64: truncates doubles and decimals toward
// zero; NaN, infinities and out-of-range values are errors.
Result<int64_t> WholeNumber(const bson_iter_t& it, const std::string& what) {
  bson_type_t t = bson_iter_type(&it);
  if (t == BSON_TYPE_INT32) return static_cast<int64_t>(bson_iter_int32(&it));
  if (t == BSON_TYPE_INT64) return bson_iter_int64(&it);
  double d = bson::NumberAsDouble(it);
  if (!std::isfinite(d) || d >= 9.2233720368547758e18 || d < -9.2233720368547758e18) {
    return BadValue(what + " value is invalid: " + bson::ValueToJson(it));
  }
  return static_cast<int64_t>(std::trunc(d));
}

// A binary number (int32, int64 or double) as a long double, exact for all
// three (its 64-bit mantissa holds any int64).
bool IsBinaryNumber(bson_type_t t) { return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 || t == BSON_TYPE_DOUBLE; }
long double BinaryNumber(const bson_iter_t& it, bson_type_t t) {
  if (t == BSON_TYPE_INT32) return bson_iter_int32(&it);
  if (t == BSON_TYPE_INT64) return static_cast<long double>(bson_iter_int64(&it));
  return bson_iter_double(&it);
}

class ComparePredicate : public ValuePredicate {
 public:
  ComparePredicate(CompareOp op, const bson_iter_t& operand, const bson::StringOrder* strings)
      : op_(op),
        strings_(strings),
        operand_(bson::HoldValue(operand)),
        operand_is_null_(IsNullish(bson_iter_type(&operand))),
        operand_canonical_(CanonicalType(bson_iter_type(&operand))),
        operand_is_binary_number_(IsBinaryNumber(bson_iter_type(&operand))),
        operand_is_nan_(IsNaN(operand)),
        operand_bound_(bson_iter_type(&operand) == BSON_TYPE_MINKEY || bson_iter_type(&operand) == BSON_TYPE_MAXKEY
                           ? bson_iter_type(&operand)
                           : BSON_TYPE_EOD) {
    if (operand_is_binary_number_) number_ = BinaryNumber(operand, bson_iter_type(&operand));
  }
  bool Test(const bson_iter_t* value) const override {
    if (operand_bound_ != BSON_TYPE_EOD) {
      // MinKey and MaxKey compare across type brackets, as in MongoDB's
      // matcher: every other value, and a missing field, is above MinKey
      // and below MaxKey.
      if (value != nullptr && bson_iter_type(value) == operand_bound_) return Holds(0);
      return Holds(operand_bound_ == BSON_TYPE_MINKEY ? 1 : -1);
    }
    if (operand_is_null_) {
      // null matches null, undefined and missing, for $eq $gte $lte.
      if (op_ == CompareOp::kGt || op_ == CompareOp::kLt) return false;
      return value == nullptr || IsNullish(bson_iter_type(value));
    }
    if (value == nullptr) return false;
    if (operand_is_nan_) {
      // As MongoDB: a NaN operand is matched by NaN alone, and never by
      // $gt/$lt (NaN sorts below every number, but is no bound).
      if (op_ == CompareOp::kGt || op_ == CompareOp::kLt) return false;
      return IsNaN(*value);
    }
    const bson_type_t type = bson_iter_type(value);
    // The common case, a number against a number, without re-reading the
    // operand. The operand is not NaN here (above).
    if (operand_is_binary_number_ && IsBinaryNumber(type)) {
      long double x = BinaryNumber(*value, type);
      // As MongoDB's matcher: a NaN value equals only NaN and is in no
      // range (it sorts below every number, but $lt does not reach it).
      if (std::isnan(x)) return false;
      return Holds(x < number_ ? -1 : (x > number_ ? 1 : 0));
    }
    // Type bracketing: only values of the operand's canonical type compare.
    if (CanonicalType(type) != operand_canonical_) return false;
    if (IsNaN(*value)) return false;  // a decimal NaN, as the double above
    bson_iter_t operand;
    bson::IterHeldValue(operand_, &operand);
    return Holds(bson::CompareValues(*value, operand, strings_));
  }

 private:
  bool Holds(int c) const {
    switch (op_) {
      case CompareOp::kEq: return c == 0;
      case CompareOp::kGt: return c > 0;
      case CompareOp::kGte: return c >= 0;
      case CompareOp::kLt: return c < 0;
      case CompareOp::kLte: return c <= 0;
    }
    return false;
  }

  CompareOp op_;
  const bson::StringOrder* strings_;  // the collation; null: binary
  std::string operand_;  // bson::HoldValue form
  bool operand_is_null_;
  int operand_canonical_;
  bool operand_is_binary_number_;  // then number_ is its value
  bool operand_is_nan_;
  bson_type_t operand_bound_;  // BSON_TYPE_MINKEY or BSON_TYPE_MAXKEY, else BSON_TYPE_EOD
  long double number_ = 0;
};

class RegexPredicate : public ValuePredicate {
 public:
  explicit RegexPredicate(Regex regex) : regex_(std::move(regex)) {}
  bool Test(const bson_iter_t* value) const override {
    if (value == nullptr) return false;
    uint32_t len = 0;
    switch (bson_iter_type(value)) {
      case BSON_TYPE_UTF8: {
        const char* s = bson_iter_utf8(value, &len);
        return regex_.Matches(std::string_view(s, len));
      }
      case BSON_TYPE_SYMBOL: {
        const char* s = bson_iter_symbol(value, &len);
        return regex_.Matches(std::string_view(s, len));
      }
      case BSON_TYPE_REGEX: {
        const char* options = nullptr;
        const char* pattern = bson_iter_regex(value, &options);
        return regex_.pattern() == pattern && regex_.options() == options;
      }
      default:
        return false;
    }
  }

 private:
  Regex regex_;
};

class AnyOfPredicate : public ValuePredicate {
 public:
  explicit AnyOfPredicate(std::vector<PredicatePtr> choices) : choices_(std::move(choices)) {}
  bool Test(const bson_iter_t* value) const override {
    for (const auto& c : choices_) {
      if (c->Test(value)) return true;
    }
    return false;
  }

 private:
  std::vector<PredicatePtr> choices_;
};

class EqualsAnyOfPredicate : public ValuePredicate {
 public:
  EqualsAnyOfPredicate(const bson_iter_t& array, const bson::StringOrder* strings) : strings_(strings) {
    std::vector<size_t> ends;
    bson_iter_t element;
    if (bson_iter_recurse(&array, &element)) {
      while (bson_iter_next(&element)) {
        AppendKey(&keys_, element);
        ends.push_back(keys_.size());
      }
    }
    size_t begin = 0;
    for (size_t end : ends) {
      sorted_.emplace_back(keys_.data() + begin, end - begin);
      begin = end;
    }
    std::sort(sorted_.begin(), sorted_.end());
    sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
  }
  EqualsAnyOfPredicate(const EqualsAnyOfPredicate&) = delete;  // sorted_ points into keys_
  EqualsAnyOfPredicate& operator=(const EqualsAnyOfPredicate&) = delete;
  bool Test(const bson_iter_t* value) const override {
    if (value == nullptr) return false;  // no element is null
    // Keys order as CompareValues does, which orders by type bracket first:
    // equal keys mean the same bracket and equal, what equality asks.
    std::string key;
    AppendKey(&key, *value);
    return std::binary_search(sorted_.begin(), sorted_.end(), std::string_view(key));
  }

 private:
  // The key encoding of the value's comparison key under the collation:
  // equal exactly when the values are equal under it.
  void AppendKey(std::string* out, const bson_iter_t& value) const {
    bson::AppendComparisonKeyValue(out, value, strings_);
  }

  const bson::StringOrder* strings_;
  std::string keys_;                      // the values' key encodings (bson/key_encoding.h), one after another
  std::vector<std::string_view> sorted_;  // each of them once, sorted (views into keys_, never resized after)
};

class ExistsPredicate : public ValuePredicate {
 public:
  bool Test(const bson_iter_t* value) const override { return value != nullptr; }
};

class TypePredicate : public ValuePredicate {
 public:
  TypePredicate(std::vector<bson_type_t> types, bool any_number)
      : types_(std::move(types)), any_number_(any_number) {}
  bool Test(const bson_iter_t* value) const override {
    if (value == nullptr) return false;
    bson_type_t t = bson_iter_type(value);
    if (any_number_ && bson::IsNumber(t)) return true;
    for (bson_type_t want : types_) {
      if (want == t) return true;
    }
    return false;
  }

 private:
  std::vector<bson_type_t> types_;
  bool any_number_;
};

class ModPredicate : public ValuePredicate {
 public:
  ModPredicate(int64_t divisor, int64_t remainder) : divisor_(divisor), remainder_(remainder) {}
  bool Test(const bson_iter_t* value) const override {
    if (value == nullptr || !bson::IsNumber(bson_iter_type(value))) return false;
    auto whole = WholeNumber(*value, "");  // fails for NaN and infinities: no match
    if (!whole.ok()) return false;
    int64_t v = *whole;
    if (divisor_ == -1) return remainder_ == 0;  // avoids INT64_MIN % -1
    return v % divisor_ == remainder_;
  }

 private:
  int64_t divisor_;
  int64_t remainder_;
};

enum class BitTest { kAllSet, kAnySet, kAllClear, kAnyClear };

class BitTestPredicate : public ValuePredicate {
 public:
  BitTestPredicate(BitTest test, std::vector<uint32_t> positions) : test_(test), positions_(std::move(positions)) {}
  bool Test(const bson_iter_t* value) const override {
    if (value == nullptr) return false;
    const bson_type_t t = bson_iter_type(value);
    if (t == BSON_TYPE_BINARY) {
      bson_subtype_t subtype;
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_binary(value, &subtype, &len, &data);
      return Holds([&](uint32_t p) { return p / 8 < len && (data[p / 8] >> (p % 8)) & 1; });
    }
    if (!bson::IsNumber(t)) return false;
    int64_t v = 0;
    if (t == BSON_TYPE_INT32) {
      v = bson_iter_int32(value);
    } else if (t == BSON_TYPE_INT64) {
      v = bson_iter_int64(value);
    } else {
      // Doubles and decimals take part only as whole numbers within int64.
      const double d = bson::NumberAsDouble(*value);
      if (!std::isfinite(d) || std::trunc(d) != d || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) {
        return false;
      }
      v = static_cast<int64_t>(d);
    }
    return Holds([&](uint32_t p) { return p >= 63 ? v < 0 : ((v >> p) & 1) != 0; });
  }

 private:
  template <typename IsSet>
  bool Holds(IsSet is_set) const {
    switch (test_) {
      case BitTest::kAllSet:
        return std::all_of(positions_.begin(), positions_.end(), is_set);
      case BitTest::kAnySet:
        return std::any_of(positions_.begin(), positions_.end(), is_set);
      case BitTest::kAllClear:
        return std::none_of(positions_.begin(), positions_.end(), is_set);
      case BitTest::kAnyClear:
        return !std::all_of(positions_.begin(), positions_.end(), is_set);
    }
    return false;
  }

  BitTest test_;
  std::vector<uint32_t> positions_;
};

// A bitmask or bit position as MongoDB's parseIntegerElementToNonNegativeLong
// reads it. Errors: FailedToParse.
Result<int64_t> NonNegativeWhole(std::string_view op, const bson_iter_t& it) {
  const std::string shown = std::string(op) + ": " + bson::ValueToJson(it);
  const bson_type_t t = bson_iter_type(&it);
  int64_t v = 0;
  if (t == BSON_TYPE_INT32) {
    v = bson_iter_int32(&it);
  } else if (t == BSON_TYPE_INT64) {
    v = bson_iter_int64(&it);
  } else {
    const double d = bson::NumberAsDouble(it);
    if (std::isnan(d)) return Status(ErrorCode::kFailedToParse, "Expected an integer, but found NaN in: " + shown);
    if (!std::isfinite(d) || d < -9.2233720368547758e18 || d >= 9.2233720368547758e18) {
      return Status(ErrorCode::kFailedToParse, "Cannot represent as a 64-bit integer: " + shown);
    }
    if (std::trunc(d) != d) return Status(ErrorCode::kFailedToParse, "Expected an integer: " + shown);
    v = static_cast<int64_t>(d);
  }
  if (v < 0) return Status(ErrorCode::kFailedToParse, "Expected a non-negative number in: " + shown);
  return v;
}

class SizePredicate : public ValuePredicate {
 public:
  explicit SizePredicate(int64_t size) : size_(size) {}
  bool Test(const bson_iter_t* value) const override {
    if (value == nullptr || bson_iter_type(value) != BSON_TYPE_ARRAY) return false;
    bson_iter_t element;
    int64_t n = 0;
    if (bson_iter_recurse(value, &element)) {
      while (bson_iter_next(&element)) ++n;
    }
    return n == size_;
  }

 private:
  int64_t size_;
};

Status AddTypeCode(const bson_iter_t& it, std::vector<bson_type_t>* types, bool* any_number) {
  bson_type_t t = bson_iter_type(&it);
  if (t == BSON_TYPE_UTF8) {
    std::string alias = bson_iter_utf8(&it, nullptr);
    if (alias == "number") {
      *any_number = true;
      return Status::OK();
    }
    auto type = bson::TypeFromAlias(alias);
    if (!type) return BadValue("Unknown type name alias: " + alias);
    types->push_back(*type);
    return Status::OK();
  }
  if (!bson::IsNumber(t)) {
    return Status(ErrorCode::kTypeMismatch, "type must be represented as a number or a string");
  }
  const double d = bson_iter_as_double(&it);
  // Every type code lies in [-1, 127]: test the range before the cast, which
  // is undefined for NaN and for doubles outside long long's range.
  if (!(d >= -1 && d <= 127) || d != std::trunc(d)) {
    return BadValue("Invalid numerical type code: " + bson::ValueToJson(it));
  }
  const auto code = static_cast<long long>(d);
  if (code == 0) {
    return BadValue("Invalid numerical type code: " + bson::ValueToJson(it) + ". Instead use {$exists:false}.");
  }
  if (!bson::IsValidTypeCode(code)) return BadValue("Invalid numerical type code: " + bson::ValueToJson(it));
  types->push_back(bson::TypeFromCode(code));
  return Status::OK();
}

}  // namespace

PredicatePtr MakeCompare(CompareOp op, const bson_iter_t& operand, const bson::StringOrder* strings) {
  return std::make_unique<ComparePredicate>(op, operand, strings);
}
PredicatePtr MakeRegexMatch(Regex regex) { return std::make_unique<RegexPredicate>(std::move(regex)); }
PredicatePtr MakeAnyOf(std::vector<PredicatePtr> choices) {
  return std::make_unique<AnyOfPredicate>(std::move(choices));
}
PredicatePtr MakeEqualsAnyOf(const bson_iter_t& array, const bson::StringOrder* strings) {
  return std::make_unique<EqualsAnyOfPredicate>(array, strings);
}
bool InListIsPlain(const bson_iter_t& value) {
  const bson_type_t t = bson_iter_type(&value);
  return !IsNullish(t) && t != BSON_TYPE_REGEX && t != BSON_TYPE_MINKEY && t != BSON_TYPE_MAXKEY && !IsNaN(value);
}
PredicatePtr MakeExists() { return std::make_unique<ExistsPredicate>(); }

Result<PredicatePtr> ParseTypeOperand(const bson_iter_t& operand) {
  std::vector<bson_type_t> types;
  bool any_number = false;
  if (bson_iter_type(&operand) == BSON_TYPE_ARRAY) {
    bson_iter_t element;
    bson_iter_recurse(&operand, &element);
    while (bson_iter_next(&element)) {
      DOCKET_RETURN_IF_ERROR(AddTypeCode(element, &types, &any_number));
    }
  } else {
    DOCKET_RETURN_IF_ERROR(AddTypeCode(operand, &types, &any_number));
  }
  return PredicatePtr(std::make_unique<TypePredicate>(std::move(types), any_number));
}

Result<PredicatePtr> ParseModOperand(const bson_iter_t& operand) {
  if (bson_iter_type(&operand) != BSON_TYPE_ARRAY) return BadValue("malformed mod, needs to be an array");
  bson_iter_t element;
  bson_iter_recurse(&operand, &element);
  if (!bson_iter_next(&element)) return BadValue("malformed mod, not enough elements");
  if (!bson::IsNumber(bson_iter_type(&element))) return BadValue("malformed mod, divisor not a number");
  auto divisor = WholeNumber(element, "malformed mod, divisor");
  if (!divisor.ok()) return divisor.status();
  if (!bson_iter_next(&element)) return BadValue("malformed mod, not enough elements");
  if (!bson::IsNumber(bson_iter_type(&element))) return BadValue("malformed mod, remainder not a number");
  auto remainder = WholeNumber(element, "malformed mod, remainder");
  if (!remainder.ok()) return remainder.status();
  if (bson_iter_next(&element)) return BadValue("malformed mod, too many elements");
  if (*divisor == 0) return BadValue("divisor cannot be 0");
  return PredicatePtr(std::make_unique<ModPredicate>(*divisor, *remainder));
}

Result<PredicatePtr> ParseBitTestOperand(std::string_view op, std::string_view path, const bson_iter_t& operand) {
  const BitTest test = op == "$bitsAllSet"   ? BitTest::kAllSet
                       : op == "$bitsAnySet" ? BitTest::kAnySet
                       : op == "$bitsAllClear" ? BitTest::kAllClear
                                               : BitTest::kAnyClear;
  std::vector<uint32_t> positions;
  const bson_type_t t = bson_iter_type(&operand);
  if (t == BSON_TYPE_ARRAY) {
    bson_iter_t element;
    bson_iter_recurse(&operand, &element);
    while (bson_iter_next(&element)) {
      if (!bson::IsNumber(bson_iter_type(&element))) {
        return BadValue("bit positions must be an integer but got: " + bson::FieldToJson(bson_iter_key(&element), element));
      }
      auto p = NonNegativeWhole(op, element);
      if (!p.ok()) return p.status();
      if (*p > 2147483647) {
        return BadValue("bit positions cannot be represented as a 32-bit signed integer: " +
                        bson::FieldToJson(bson_iter_key(&element), element));
      }
      positions.push_back(static_cast<uint32_t>(*p));
    }
  } else if (bson::IsNumber(t)) {
    auto mask = NonNegativeWhole(op, operand);
    if (!mask.ok()) return mask.status();
    for (uint32_t p = 0; p < 64; ++p) {
      if ((static_cast<uint64_t>(*mask) >> p) & 1) positions.push_back(p);
    }
  } else if (t == BSON_TYPE_BINARY) {
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_binary(&operand, &subtype, &len, &data);
    for (uint32_t byte = 0; byte < len; ++byte) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if ((data[byte] >> bit) & 1) positions.push_back(byte * 8 + bit);
      }
    }
  } else {
    return BadValue(std::string(path) + " takes an Array, a number, or a BinData but received: " + std::string(op) +
                    ": " + bson::ValueToJson(operand));
  }
  return PredicatePtr(std::make_unique<BitTestPredicate>(test, std::move(positions)));
}

Result<PredicatePtr> ParseSizeOperand(const bson_iter_t& operand) {
  if (!bson::IsNumber(bson_iter_type(&operand))) return BadValue("$size needs a number");
  double d = bson_iter_as_double(&operand);
  if (bson_iter_type(&operand) == BSON_TYPE_DOUBLE && d != std::trunc(d)) {
    return BadValue("$size must be a whole number");
  }
  auto n = WholeNumber(operand, "$size");
  if (!n.ok()) return n.status();
  if (*n < 0) return BadValue("$size may not be negative");
  return PredicatePtr(std::make_unique<SizePredicate>(*n));
}

Result<Regex> ParseRegexOperand(const bson_iter_t& regex, const bson_iter_t* options, bool options_first) {
  std::string extra_options;
  if (options != nullptr) {
    if (bson_iter_type(options) != BSON_TYPE_UTF8) return BadValue("$options has to be a string");
    uint32_t len = 0;
    const char* s = bson_iter_utf8(options, &len);
    extra_options.assign(s, len);
  }
  switch (bson_iter_type(&regex)) {
    case BSON_TYPE_UTF8: {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&regex, &len);
      return Regex::Compile(std::string_view(s, len), extra_options);
    }
    case BSON_TYPE_REGEX: {
      const char* own_options = nullptr;
      const char* pattern = bson_iter_regex(&regex, &own_options);
      if (options != nullptr && own_options[0] != '\0') {
        return Status(options_first ? ErrorCode::kRegexOptionsBeforeRegex : ErrorCode::kRegexOptionsTwice,
                      "options set in both $regex and $options");
      }
      return Regex::Compile(pattern, options != nullptr ? extra_options : std::string(own_options));
    }
    default:
      return BadValue("$regex has to be a string");
  }
}

}  // namespace docket::query
