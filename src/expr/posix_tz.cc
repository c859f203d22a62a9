#include "expr/posix_tz.h"

#include <algorithm>
#include <cctype>

#include "expr/dates.h"

namespace docket::expr {
namespace {

// A cursor over the rule text; every reader returns false on a syntax error.
struct Reader {
  std::string_view s;
  size_t at = 0;

  bool done() const { return at >= s.size(); }
  char peek() const { return done() ? '\0' : s[at]; }
  bool Take(char c) {
    if (peek() != c) return false;
    ++at;
    return true;
  }
  // A zone abbreviation: three or more letters, or <...> quoted.
  bool Name() {
    if (Take('<')) {
      size_t close = s.find('>', at);
      if (close == std::string_view::npos) return false;
      at = close + 1;
      return true;
    }
    size_t start = at;
    while (std::isalpha(static_cast<unsigned char>(peek()))) ++at;
    return at - start >= 3;
  }
  bool Number(int max_digits, int* out) {
    int n = 0, digits = 0;
    while (std::isdigit(static_cast<unsigned char>(peek())) && digits < max_digits) {
      n = n * 10 + (s[at++] - '0');
      ++digits;
    }
    *out = n;
    return digits > 0;
  }
  // [+-]hh[:mm[:ss]] as seconds.
  bool Time(int32_t* out) {
    int sign = 1;
    if (Take('-')) sign = -1;
    else Take('+');
    int h = 0, m = 0, sec = 0;
    if (!Number(3, &h)) return false;
    if (Take(':')) {
      if (!Number(2, &m)) return false;
      if (Take(':') && !Number(2, &sec)) return false;
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
};

}  // namespace

std::optional<PosixTimeZone> PosixTimeZone::Parse(std::string_view rule) {
  Reader r{rule};
  PosixTimeZone zone;
  int32_t west = 0;  // POSIX offsets count west of UTC: EST5 is UTC-5
  if (!r.Name() || !r.Time(&west)) return std::nullopt;
  zone.std_offset_ = -west;
  if (r.done()) return zone;
  if (!r.Name()) return std::nullopt;
  zone.has_dst_ = true;
  zone.dst_offset_ = zone.std_offset_ + 3600;
  if (r.peek() != ',' && !r.done()) {
    int32_t dst_west = 0;
    if (!r.Time(&dst_west)) return std::nullopt;
    zone.dst_offset_ = -dst_west;
  }
  auto transition = [&](Transition* t) {
    if (!r.Take(',')) return false;
    if (r.Take('M')) {
      t->kind = Transition::Kind::kMonthWeekDay;
      if (!r.Number(2, &t->month) || !r.Take('.') || !r.Number(1, &t->week) || !r.Take('.') ||
          !r.Number(1, &t->weekday)) {
        return false;
      }
      if (t->month < 1 || t->month > 12 || t->week < 1 || t->week > 5 || t->weekday > 6) return false;
    } else if (r.Take('J')) {
      t->kind = Transition::Kind::kJulianNoLeap;
      if (!r.Number(3, &t->day) || t->day < 1 || t->day > 365) return false;
    } else {
      t->kind = Transition::Kind::kZeroBasedDay;
      if (!r.Number(3, &t->day) || t->day > 365) return false;
    }
    if (r.Take('/') && !r.Time(&t->time)) return false;
    return true;
  };
  if (!transition(&zone.start_) || !transition(&zone.end_) || !r.done()) return std::nullopt;
  return zone;
}

int64_t PosixTimeZone::InstantOf(const Transition& t, int64_t year, int32_t offset) {
  int64_t day = 0;  // days since the epoch of the transition's local date
  switch (t.kind) {
    case Transition::Kind::kMonthWeekDay: {
      const int64_t first = DaysFromCivil(year, t.month, 1);
      const int first_weekday = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
      day = first + (t.weekday - first_weekday + 7) % 7 + 7 * (t.week - 1);
      const int64_t next_month = t.month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, t.month + 1, 1);
      while (day >= next_month) day -= 7;  // week 5: the last such weekday
      break;
    }
    case Transition::Kind::kJulianNoLeap: {
      const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
      day = DaysFromCivil(year, 1, 1) + t.day - 1 + (leap && t.day >= 60 ? 1 : 0);
      break;
    }
    case Transition::Kind::kZeroBasedDay:
      day = DaysFromCivil(year, 1, 1) + t.day;
      break;
  }
  return day * 86400 + t.time - offset;
}

int32_t PosixTimeZone::OffsetAt(int64_t utc_seconds) const {
  if (!has_dst_) return std_offset_;
  // Seconds as milliseconds: clamped first, since a date's seconds near the
  // ends of the range times 1000 leave int64 (the rule is the same every year).
  constexpr int64_t kMaxSeconds = INT64_MAX / 1000 - 86400;
  const int64_t local_seconds = std::clamp<int64_t>(utc_seconds, -kMaxSeconds, kMaxSeconds) + std_offset_;
  const int64_t year = BreakDown(local_seconds * 1000).year;
  // Daylight time starts at a local standard time and ends at a local
  // daylight time.
  const int64_t start = InstantOf(start_, year, std_offset_);
  const int64_t end = InstantOf(end_, year, dst_offset_);
  const bool in_dst = start < end ? (utc_seconds >= start && utc_seconds < end)   // northern hemisphere
                                  : (utc_seconds < end || utc_seconds >= start);  // southern
  return in_dst ? dst_offset_ : std_offset_;
}

}  // namespace docket::expr
