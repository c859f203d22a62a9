// The elements of a Go time layout ("2006-01-02 15:04:05.000 -0700"), as
// Go's time package finds them, for the date parser of go_time.cc; and
// mongoimport's conversions of SQL Server and Oracle layouts into Go's.
#pragma once

#include <string>

namespace docket::transfer {

// One of Go's layout elements: January, Jan, 1, 01, Monday, Mon, 2, _2, 02,
// __2, 002, 15, 3, 03, 4, 04, 5, 05, 2006, 06, PM, pm, MST, the zone forms
// Z0700 Z070000 Z07 Z07:00 Z07:00:00 -0700 -070000 -07 -07:00 -07:00:00,
// and fractions of a second .000 (exact digits) or .999 (optional).
enum class LayoutElement {
  kNone,
  kLongMonth,
  kMonth,
  kNumMonth,
  kZeroMonth,
  kLongWeekDay,
  kWeekDay,
  kDay,
  kUnderDay,
  kZeroDay,
  kUnderYearDay,
  kZeroYearDay,
  kHour,
  kHour12,
  kZeroHour12,
  kMinute,
  kZeroMinute,
  kSecond,
  kZeroSecond,
  kLongYear,
  kYear,
  kPM,
  kpm,
  kTZ,
  kISO8601TZ,
  kISO8601SecondsTZ,
  kISO8601ShortTZ,
  kISO8601ColonTZ,
  kISO8601ColonSecondsTZ,
  kNumTZ,
  kNumSecondsTZ,
  kNumShortTZ,
  kNumColonTZ,
  kNumColonSecondsTZ,
  kFrac0,
  kFrac9,
};

struct LayoutChunk {
  std::string prefix;                            // literal text before the element
  LayoutElement element = LayoutElement::kNone;  // kNone: the layout is all literal
  std::string text;                              // the element as written in the layout
  std::string suffix;                            // the layout after it
  int frac_digits = 0;                           // kFrac0/kFrac9: digits written
};

// The first element of `layout` (Go's nextStdChunk).
LayoutChunk NextLayoutChunk(const std::string& layout);

// date_ms(...): "yyyy-MM-dd HH:mm:ss" -> "2006-01-02 15:04:05".
std::string GoLayoutFromMs(const std::string& layout);
// date_oracle(...): "YYYY-MM-DD HH24:MI:SS" -> "2006-01-02 15:04:05"
// (the layout is upper-cased first, as mongoimport does).
std::string GoLayoutFromOracle(const std::string& layout);

}  // namespace docket::transfer
