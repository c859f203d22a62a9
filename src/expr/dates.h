// Calendar arithmetic for the date expressions: proleptic Gregorian calendar,
// milliseconds since the Unix epoch (BSON dates), and time zones — UTC, fixed
// offsets ("+05:30") and Olson names ("Europe/Paris", read from the system's
// tzdata, /usr/share/zoneinfo).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "docket/status.h"

namespace docket::expr {

struct DateParts {
  int64_t year = 1970;
  int month = 1;   // 1..12
  int day = 1;     // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millisecond = 0;
  int day_of_week = 5;  // 1 = Sunday .. 7 = Saturday (1970-01-01 was a Thursday)
  int day_of_year = 1;  // 1..366
};

// Days since 1970-01-01 of a civil date (month and day may be out of range:
// they carry, as $dateFromParts allows).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);
DateParts BreakDown(int64_t millis);
// The parts of the local time `offset_millis` east of UTC at `utc_millis`:
// BreakDown(utc_millis + offset_millis), without the sum (which can leave
// int64). Defined for every int64 instant and offset.
DateParts BreakDownLocal(int64_t utc_millis, int64_t offset_millis);
int64_t MillisFromParts(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second,
                        int64_t millisecond);

// ISO 8601 week numbering ($isoWeek, $isoWeekYear, %V, %G).
int IsoWeek(const DateParts& p);
int64_t IsoWeekYear(const DateParts& p);
int IsoDayOfWeek(const DateParts& p);  // 1 = Monday .. 7 = Sunday
// %U / $week: weeks starting on Sunday, 0..53.
int SundayWeek(const DateParts& p);

// A time zone: the offset from UTC at any instant.
class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // "UTC", "GMT", "Z", "+hh", "+hhmm", "+hh:mm" (and '-'), or an Olson name.
  // Errors: Location40485 for an unknown zone.
  static Result<TimeZone> Parse(std::string_view name);
  // Offset in milliseconds at the UTC instant `utc_millis`.
  int64_t OffsetAt(int64_t utc_millis) const;
  // The UTC instant whose local time is `local_millis` (for $dateFromParts
  // and parsing): the first offset that round-trips.
  int64_t ToUtc(int64_t local_millis) const;
  bool is_utc() const { return fixed_offset_ == 0 && rules_ == nullptr; }

 private:
  struct Rules;  // transitions read from a TZif file
  int64_t fixed_offset_ = 0;
  std::shared_ptr<const Rules> rules_;
};

// "2018-03-20T12:00:00.000Z": MongoDB's default date rendering; error 18537
// for a year outside 0-9999, as MongoDB.
Result<std::string> FormatIsoDate(int64_t millis);
// $dateToString's format specifiers (%Y %m %d %H %M %S %L %j %w %u %U %V %G
// %Z %z %%), in `zone`. Errors: Location18536 for an unknown specifier,
// Location18535 for a trailing '%'.
Result<std::string> FormatDate(int64_t utc_millis, std::string_view format, const TimeZone& zone);
// Checks a format string without formatting anything.
Status ValidateDateFormat(std::string_view format);
// Parses ISO 8601 dates and date-times: "2018-03-20", "2018-03-20T12:30",
// "2018-03-20 12:30:15.250", with "Z", "+02:00" or "+0200"; without an
// offset the text is local time in `zone`. Errors: ConversionFailure (241).
Result<int64_t> ParseIsoDate(std::string_view text, const TimeZone& zone);
// Parses `text` by a $dateFromString format (the specifiers above).
Result<int64_t> ParseDateWithFormat(std::string_view text, std::string_view format, const TimeZone& zone);

}  // namespace docket::expr
