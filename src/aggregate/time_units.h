// The time units of $setWindowFields' range windows and $derivative /
// $integral, and of $densify's date steps: parsing their names and adding
// an amount of them to a date.
#pragma once

#include <cstdint>

#include "docket/status.h"
#include "expr/value.h"

namespace docket::aggregate {

enum class TimeUnit { kNone, kMillisecond, kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };

// "millisecond" ... "year". Errors: FailedToParse (9) naming the value.
Result<TimeUnit> ParseTimeUnit(const expr::Value& v);

// `millis` moved by `amount` units: fixed units add time; month, quarter
// and year move the calendar date (UTC), clamping the day to the month's
// length (Jan 31 + 1 month is Feb 28 or 29).
int64_t AddTimeUnits(int64_t millis, TimeUnit unit, int64_t amount);

}  // namespace docket::aggregate
