// Value types the ODM's models use for BSON's own types: ObjectId,
// Decimal128 (for money: exact decimal arithmetic happens in the database),
// Date (milliseconds since the epoch, as BSON stores it), and the error the
// ODM throws.
#pragma once

#include <chrono>
#include <compare>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "docket/status.h"

namespace docket {

// What the ODM throws: a MongoDB error code and message, the same ones the
// engine and the server report.
class Error : public std::runtime_error {
 public:
  explicit Error(Status status) : std::runtime_error(status.ToString()), status_(std::move(status)) {}
  ErrorCode code() const { return status_.code(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// Throws an Error for a non-OK status.
inline void ThrowIfError(const Status& s) {
  if (!s.ok()) throw Error(s);
}

// A BSON ObjectId: 12 bytes, time-ordered.
class ObjectId {
 public:
  ObjectId();  // all zero; see Generate()
  static ObjectId Generate();
  // Errors: BadValue for anything but 24 hex digits.
  static Result<ObjectId> FromHex(std::string_view hex);
  static ObjectId FromBytes(const uint8_t bytes[12]);

  std::string ToHex() const;
  const uint8_t* bytes() const { return bytes_; }
  bool is_zero() const;
  // Seconds since the epoch at which it was generated.
  int64_t timestamp() const;

  friend bool operator==(const ObjectId& a, const ObjectId& b);
  friend std::strong_ordering operator<=>(const ObjectId& a, const ObjectId& b);

 private:
  uint8_t bytes_[12];
};

// A BSON Decimal128 (IEEE 754-2008, 34 digits). Arithmetic on balances goes
// through the database ($inc), which adds decimals exactly.
class Decimal128 {
 public:
  Decimal128();  // 0
  // Integers convert exactly (and implicitly: field(&A::balance) > 0).
  template <std::integral I>
    requires(!std::is_same_v<I, bool>)
  Decimal128(I v) : Decimal128(FromInt64(static_cast<int64_t>(v))) {}  // NOLINT: implicit by design
  // A double is not an exact decimal: spell the value with FromString or _dec.
  Decimal128(double) = delete;
  static Decimal128 FromInt64(int64_t v);
  // Errors: BadValue for text that is not a decimal number.
  static Result<Decimal128> FromString(std::string_view text);
  static Decimal128 FromBits(uint64_t high, uint64_t low);

  std::string ToString() const;
  uint64_t high() const { return high_; }
  uint64_t low() const { return low_; }

  // Exact decimal arithmetic and comparison, as the database does it.
  friend Decimal128 operator+(const Decimal128& a, const Decimal128& b);
  friend Decimal128 operator-(const Decimal128& a, const Decimal128& b);
  friend bool operator==(const Decimal128& a, const Decimal128& b);  // by value: 1.0 == 1.00
  friend std::partial_ordering operator<=>(const Decimal128& a, const Decimal128& b);

 private:
  uint64_t high_ = 0, low_ = 0;
};

// "12.50"-style literal: Decimal128 price = "12.50"_dec;
inline namespace literals {
Decimal128 operator""_dec(const char* text, size_t len);
}

// BSON dates: UTC milliseconds since the epoch.
using Date = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// The current time as a BSON date.
inline Date Now() { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

}  // namespace docket
