#include "aggregate/time_units.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "expr/dates.h"

namespace docket::aggregate {

Result<TimeUnit> ParseTimeUnit(const expr::Value& v) {
  static const std::pair<std::string_view, TimeUnit> kUnits[] = {
      {"millisecond", TimeUnit::kMillisecond}, {"second", TimeUnit::kSecond}, {"minute", TimeUnit::kMinute},
      {"hour", TimeUnit::kHour},               {"day", TimeUnit::kDay},       {"week", TimeUnit::kWeek},
      {"month", TimeUnit::kMonth},             {"quarter", TimeUnit::kQuarter}, {"year", TimeUnit::kYear}};
  if (v.is_string()) {
    for (const auto& [name, unit] : kUnits) {
      if (v.AsString() == name) return unit;
    }
  }
  return Status(ErrorCode::kFailedToParse, "unknown time unit value: " + v.ToJson());
}

int64_t AddTimeUnits(int64_t millis, TimeUnit unit, int64_t amount) {
  switch (unit) {
    case TimeUnit::kNone:
    case TimeUnit::kMillisecond: return millis + amount;
    case TimeUnit::kSecond: return millis + amount * 1000;
    case TimeUnit::kMinute: return millis + amount * 60000;
    case TimeUnit::kHour: return millis + amount * 3600000;
    case TimeUnit::kDay: return millis + amount * 86400000;
    case TimeUnit::kWeek: return millis + amount * 7 * 86400000;
    default: break;
  }
  const int64_t per = unit == TimeUnit::kYear ? 12 : unit == TimeUnit::kQuarter ? 3 : 1;
  const expr::DateParts p = expr::BreakDown(millis);
  const int64_t months = p.year * 12 + (p.month - 1) + amount * per;
  const int64_t year = months >= 0 ? months / 12 : (months - 11) / 12;
  const int month = static_cast<int>(months - year * 12) + 1;
  const int64_t days = expr::DaysFromCivil(year, month + 1, 1) - expr::DaysFromCivil(year, month, 1);
  return expr::MillisFromParts(year, month, std::min<int64_t>(p.day, days), p.hour, p.minute, p.second, p.millisecond);
}

}  // namespace docket::aggregate
