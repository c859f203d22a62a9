#include "tools/docket/transfer/go_time.h"

#include <cctype>
#include <string>
#include <vector>

#include "tools/docket/transfer/go_time_layout.h"

namespace docket::transfer {
namespace {

bool IsDigitAt(const std::string& s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Go's skip: the literal `prefix` must come next; a run of spaces in the
// layout matches any run of spaces in the text.
bool SkipLiteral(std::string* value, const std::string& prefix) {
  size_t p = 0, v = 0;
  const std::string& s = *value;
  while (p < prefix.size()) {
    if (prefix[p] == ' ') {
      if (v < s.size() && s[v] != ' ') return false;
      while (p < prefix.size() && prefix[p] == ' ') ++p;
      while (v < s.size() && s[v] == ' ') ++v;
      continue;
    }
    if (v >= s.size() || s[v] != prefix[p]) return false;
    ++p;
    ++v;
  }
  value->erase(0, v);
  return true;
}

// Go's getnum/getnum3: up to `max_digits` digits; `fixed` requires them all.
bool GetNum(std::string* value, size_t max_digits, bool fixed, int* out) {
  size_t n = 0;
  while (n < max_digits && IsDigitAt(*value, n)) ++n;
  if (n == 0 || (fixed && n < max_digits)) return false;
  *out = std::stoi(value->substr(0, n));
  value->erase(0, n);
  return true;
}

// Case-insensitive prefix match against a table; the index of the name.
bool Lookup(std::string* value, const std::vector<std::string>& names, int* index) {
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (value->size() < name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k)
      same = std::tolower(static_cast<unsigned char>((*value)[k])) == std::tolower(static_cast<unsigned char>(name[k]));
    if (same) {
      value->erase(0, name.size());
      *index = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

const std::vector<std::string> kLongMonths = {"January", "February", "March",     "April",   "May",      "June",
                                              "July",    "August",   "September", "October", "November", "December"};
const std::vector<std::string> kShortMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const std::vector<std::string> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                            "Thursday", "Friday", "Saturday"};
const std::vector<std::string> kShortDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

bool IsLeap(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }
int DaysIn(int month, int64_t year) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// Fraction ".123" (or ",123") of `length` bytes, as nanoseconds.
bool Nanoseconds(const std::string& value, size_t length, int* nanos) {
  if (length < 2 || (value[0] != '.' && value[0] != ',')) return false;
  int64_t n = 0;
  size_t digits = 0;
  for (size_t i = 1; i < length; ++i) {
    if (!IsDigitAt(value, i)) return false;
    if (digits < 9) n = n * 10 + (value[i] - '0'), ++digits;
  }
  while (digits < 9) n *= 10, ++digits;
  *nanos = static_cast<int>(n);
  return true;
}

// Go's parseTimeZone: the length of a zone abbreviation at the start, 0 if
// there is none. GMT+N sets the offset.
size_t TimeZoneLength(const std::string& v, int* offset_seconds) {
  if (v.size() < 3) return 0;
  if (v.compare(0, 4, "ChST") == 0 || v.compare(0, 4, "MeST") == 0) return 4;
  if (v.compare(0, 3, "GMT") == 0) {
    size_t n = 3;
    if (n < v.size() && (v[n] == '+' || v[n] == '-')) {
      size_t d = n + 1;
      while (IsDigitAt(v, d)) ++d;
      if (d > n + 1 && d - n - 1 <= 2) {
        const int hours = std::stoi(v.substr(n + 1, d - n - 1));
        if (hours <= 23) {
          *offset_seconds = (v[n] == '-' ? -hours : hours) * 3600;
          n = d;
        }
      }
    }
    return n;
  }
  size_t upper = 0;
  while (upper < 6 && upper < v.size() && v[upper] >= 'A' && v[upper] <= 'Z') ++upper;
  if (upper == 3) return 3;
  if (upper == 4 && (v[3] == 'T' || v.compare(0, 4, "WITA") == 0)) return 4;
  if (upper == 5 && v[4] == 'T') return 5;
  return 0;
}

// A numeric zone offset in the element's form; seconds east of UTC.
bool NumericZone(std::string* value, LayoutElement element, int* offset) {
  std::string sign, hh, mm = "00", ss = "00";
  const std::string& v = *value;
  size_t used;
  if (element == LayoutElement::kISO8601ColonTZ || element == LayoutElement::kNumColonTZ) {
    if (v.size() < 6 || v[3] != ':') return false;
    sign = v.substr(0, 1), hh = v.substr(1, 2), mm = v.substr(4, 2), used = 6;
  } else if (element == LayoutElement::kNumShortTZ || element == LayoutElement::kISO8601ShortTZ) {
    if (v.size() < 3) return false;
    sign = v.substr(0, 1), hh = v.substr(1, 2), used = 3;
  } else if (element == LayoutElement::kISO8601ColonSecondsTZ || element == LayoutElement::kNumColonSecondsTZ) {
    if (v.size() < 9 || v[3] != ':' || v[6] != ':') return false;
    sign = v.substr(0, 1), hh = v.substr(1, 2), mm = v.substr(4, 2), ss = v.substr(7, 2), used = 9;
  } else if (element == LayoutElement::kISO8601SecondsTZ || element == LayoutElement::kNumSecondsTZ) {
    if (v.size() < 7) return false;
    sign = v.substr(0, 1), hh = v.substr(1, 2), mm = v.substr(3, 2), ss = v.substr(5, 2), used = 7;
  } else {
    if (v.size() < 5) return false;
    sign = v.substr(0, 1), hh = v.substr(1, 2), mm = v.substr(3, 2), used = 5;
  }
  int h, m, s;
  if (!GetNum(&hh, 2, true, &h) || !GetNum(&mm, 2, true, &m) || !GetNum(&ss, 2, true, &s)) return false;
  if (sign != "+" && sign != "-") return false;
  *offset = ((h * 60 + m) * 60 + s) * (sign == "-" ? -1 : 1);
  value->erase(0, used);
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool ParseGoTime(const std::string& layout_in, const std::string& value_in, int64_t* millis, std::string* error) {
  std::string layout = layout_in, value = value_in;
  int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0, nanos = 0;
  int offset = 0;
  bool am = false, pm = false;
  const auto fail = [&](const std::string& what) {
    *error = "cannot parse \"" + value_in + "\" with layout \"" + layout_in + "\": " + what;
    return false;
  };
  for (;;) {
    const LayoutChunk chunk = NextLayoutChunk(layout);
    if (!SkipLiteral(&value, chunk.prefix)) return fail("expected \"" + chunk.prefix + "\" at \"" + value + "\"");
    if (chunk.element == LayoutElement::kNone) {
      if (!value.empty()) return fail("extra text \"" + value + "\"");
      break;
    }
    layout = chunk.suffix;
    const std::string before = value;
    bool ok = true;
    std::string range;
    int n = 0;
    switch (chunk.element) {
      case LayoutElement::kYear:
        ok = value.size() >= 2 && IsDigitAt(value, 0) && IsDigitAt(value, 1);
        if (ok) {
          year = std::stoi(value.substr(0, 2));
          year += year >= 69 ? 1900 : 2000;
          value.erase(0, 2);
        }
        break;
      case LayoutElement::kLongYear:
        ok = value.size() >= 4 && IsDigitAt(value, 0) && IsDigitAt(value, 1) && IsDigitAt(value, 2) &&
             IsDigitAt(value, 3);
        if (ok) {
          year = std::stoi(value.substr(0, 4));
          value.erase(0, 4);
        }
        break;
      case LayoutElement::kMonth:
        ok = Lookup(&value, kShortMonths, &month);
        ++month;  // January is 1
        break;
      case LayoutElement::kLongMonth:
        ok = Lookup(&value, kLongMonths, &month);
        ++month;
        break;
      case LayoutElement::kNumMonth:
      case LayoutElement::kZeroMonth:
        ok = GetNum(&value, 2, chunk.element == LayoutElement::kZeroMonth, &month);
        if (ok && (month < 1 || month > 12)) range = "month";
        break;
      case LayoutElement::kWeekDay:
        ok = Lookup(&value, kShortDays, &n);
        break;
      case LayoutElement::kLongWeekDay:
        ok = Lookup(&value, kLongDays, &n);
        break;
      case LayoutElement::kDay:
      case LayoutElement::kUnderDay:
      case LayoutElement::kZeroDay:
        if (chunk.element == LayoutElement::kUnderDay && !value.empty() && value[0] == ' ') value.erase(0, 1);
        ok = GetNum(&value, 2, chunk.element == LayoutElement::kZeroDay, &day);
        break;
      case LayoutElement::kUnderYearDay:
      case LayoutElement::kZeroYearDay:
        for (int i = 0; i < 2 && chunk.element == LayoutElement::kUnderYearDay && !value.empty() && value[0] == ' ';
             ++i)
          value.erase(0, 1);
        ok = GetNum(&value, 3, chunk.element == LayoutElement::kZeroYearDay, &yday);
        break;
      case LayoutElement::kHour:
        ok = GetNum(&value, 2, false, &hour);
        if (ok && hour > 23) range = "hour";
        break;
      case LayoutElement::kHour12:
      case LayoutElement::kZeroHour12:
        ok = GetNum(&value, 2, chunk.element == LayoutElement::kZeroHour12, &hour);
        if (ok && hour > 12) range = "hour";
        break;
      case LayoutElement::kMinute:
      case LayoutElement::kZeroMinute:
        ok = GetNum(&value, 2, chunk.element == LayoutElement::kZeroMinute, &minute);
        if (ok && minute > 59) range = "minute";
        break;
      case LayoutElement::kSecond:
      case LayoutElement::kZeroSecond: {
        ok = GetNum(&value, 2, chunk.element == LayoutElement::kZeroSecond, &second);
        if (!ok) break;
        if (second > 59) {
          range = "second";
          break;
        }
        // A fraction after the seconds is accepted even when the layout has none.
        const LayoutElement next = NextLayoutChunk(layout).element;
        if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && IsDigitAt(value, 1) &&
            next != LayoutElement::kFrac0 && next != LayoutElement::kFrac9) {
          size_t len = 2;
          while (IsDigitAt(value, len)) ++len;
          ok = Nanoseconds(value, len, &nanos);
          value.erase(0, len);
        }
        break;
      }
      case LayoutElement::kPM:
      case LayoutElement::kpm: {
        const bool upper = chunk.element == LayoutElement::kPM;
        const std::string two = value.substr(0, 2);
        pm = two == (upper ? "PM" : "pm");
        am = two == (upper ? "AM" : "am");
        ok = pm || am;
        if (ok) value.erase(0, 2);
        break;
      }
      case LayoutElement::kISO8601TZ:
      case LayoutElement::kISO8601SecondsTZ:
      case LayoutElement::kISO8601ShortTZ:
      case LayoutElement::kISO8601ColonTZ:
      case LayoutElement::kISO8601ColonSecondsTZ:
        if (!value.empty() && value[0] == 'Z') {
          value.erase(0, 1);
          offset = 0;
          break;
        }
        ok = NumericZone(&value, chunk.element, &offset);
        break;
      case LayoutElement::kNumTZ:
      case LayoutElement::kNumSecondsTZ:
      case LayoutElement::kNumShortTZ:
      case LayoutElement::kNumColonTZ:
      case LayoutElement::kNumColonSecondsTZ:
        ok = NumericZone(&value, chunk.element, &offset);
        break;
      case LayoutElement::kTZ: {
        if (value.compare(0, 3, "UTC") == 0) {
          value.erase(0, 3);
          break;
        }
        const size_t length = TimeZoneLength(value, &offset);
        ok = length > 0;
        value.erase(0, length);
        break;
      }
      case LayoutElement::kFrac0: {
        const size_t length = 1 + static_cast<size_t>(chunk.frac_digits);
        ok = value.size() >= length && Nanoseconds(value, length, &nanos);
        if (ok) value.erase(0, length);
        break;
      }
      case LayoutElement::kFrac9: {
        if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !IsDigitAt(value, 1)) break;
        size_t len = 2;
        while (IsDigitAt(value, len)) ++len;
        ok = Nanoseconds(value, len, &nanos);
        value.erase(0, len);
        break;
      }
      case LayoutElement::kNone:
        break;
    }
    if (!range.empty()) return fail(range + " out of range");
    if (!ok) return fail("cannot parse \"" + before + "\" as \"" + chunk.text + "\"");
  }
  if (pm && hour < 12)
    hour += 12;
  else if (am && hour == 12)
    hour = 0;
  if (yday >= 0) {
    int m = 0, d = 0;
    static const int kBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
    if (IsLeap(year)) {
      if (yday == 31 + 29)
        m = 2, d = 29;
      else if (yday > 31 + 29)
        --yday;
    }
    if (yday < 1 || yday > 365) return fail("day-of-year out of range");
    if (m == 0) {
      m = (yday - 1) / 31 + 1;
      if (kBefore[m] < yday) ++m;
      d = yday - kBefore[m - 1];
    }
    if (month >= 0 && month != m) return fail("day-of-year does not match month");
    if (day >= 0 && day != d) return fail("day-of-year does not match day");
    month = m;
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > DaysIn(month, year)) return fail("day out of range");
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  *millis = seconds * 1000 + nanos / 1000000;
  return true;
}

}  // namespace docket::transfer
