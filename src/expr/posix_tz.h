// The POSIX TZ rule at the end of a TZif file ("EST5EDT,M3.2.0,M11.1.0"):
// what a zone does after its last listed transition (Debian's tzdata lists
// them up to 2037). RFC 8536 section 3.3 and POSIX's TZ variable: a standard
// offset, and optionally a daylight offset with the rules that start and end
// it each year (Mm.w.d, Jn or n, each with an optional /time).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace docket::expr {

class PosixTimeZone {
 public:
  // nullopt for a rule this parser does not understand (the caller then
  // keeps the last transition's offset).
  static std::optional<PosixTimeZone> Parse(std::string_view rule);
  // Seconds east of UTC at the UTC instant `utc_seconds`.
  int32_t OffsetAt(int64_t utc_seconds) const;

 private:
  // When daylight time starts or ends in a year.
  struct Transition {
    enum class Kind { kMonthWeekDay, kJulianNoLeap, kZeroBasedDay } kind = Kind::kMonthWeekDay;
    int month = 0, week = 0, weekday = 0;  // Mm.w.d: week 5 is the last
    int day = 0;                           // Jn (1..365, no Feb 29) or n (0..365)
    int32_t time = 7200;                   // seconds after local midnight (may be negative or > 24h)
  };
  // The UTC second at which `t` happens in `year`, local time at `offset`.
  static int64_t InstantOf(const Transition& t, int64_t year, int32_t offset);

  int32_t std_offset_ = 0;  // seconds east of UTC
  bool has_dst_ = false;
  int32_t dst_offset_ = 0;
  Transition start_, end_;
};

}  // namespace docket::expr
