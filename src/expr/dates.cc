#include "expr/dates.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>

#include "expr/posix_tz.h"

namespace docket::expr {
namespace {

constexpr int64_t kMillisPerDay = 86400000;

// Floor division and its remainder (in [0, b) for b > 0). Neither overflows
// for any a (REQUIRES: b != 0 and not a == INT64_MIN with b == -1): the
// remainder is not computed as a - FloorDiv(a, b) * b, whose product leaves
// int64 for a near INT64_MIN.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

struct Civil {
  int64_t year;
  int month;
  int day;
};

// The inverse of DaysFromCivil (the well-known era/day-of-era method).
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2), month, day};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int IsoWeeksInYear(int64_t year) {
  // 53 weeks when the year starts on a Thursday, or is leap and starts on a Wednesday.
  int64_t jan1 = DaysFromCivil(year, 1, 1);
  int dow0 = static_cast<int>(FloorMod(jan1 + 4, 7));  // 0 = Sunday
  return (dow0 == 4 || (IsLeap(year) && dow0 == 3)) ? 53 : 52;
}

// Fixed-width decimal with zero padding.
void AppendPadded(std::string* out, int64_t v, int width) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%0*lld", width, static_cast<long long>(v));
  out->append(buffer);
}

std::string OffsetText(int64_t offset_millis, bool colon) {
  int64_t minutes = offset_millis / 60000;
  std::string out(1, minutes < 0 ? '-' : '+');
  minutes = std::llabs(minutes);
  AppendPadded(&out, minutes / 60, 2);
  if (colon) out.push_back(':');
  AppendPadded(&out, minutes % 60, 2);
  return out;
}

Status ConversionError(std::string message) { return Status(ErrorCode::kConversionFailure, std::move(message)); }

}  // namespace

int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year += FloorDiv(month - 1, 12);
  month = FloorMod(month - 1, 12) + 1;
  year -= month <= 2;
  const int64_t era = FloorDiv(year, 400);
  const int64_t yoe = year - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + (day - 1);
}

DateParts BreakDown(int64_t millis) { return BreakDownLocal(millis, 0); }

DateParts BreakDownLocal(int64_t utc_millis, int64_t offset_millis) {
  // Days and the time of day apart, so that utc + offset is never formed: it
  // leaves int64 for dates near the ends of the range (MongoDB works in
  // seconds there, where it fits).
  const int64_t utc_in_day = FloorMod(utc_millis, kMillisPerDay);
  const int64_t shifted = utc_in_day + FloorMod(offset_millis, kMillisPerDay);  // in [0, 2 days)
  const int64_t days = FloorDiv(utc_millis, kMillisPerDay) + FloorDiv(offset_millis, kMillisPerDay) +
                       FloorDiv(shifted, kMillisPerDay);
  const int64_t in_day = FloorMod(shifted, kMillisPerDay);
  Civil c = CivilFromDays(days);
  DateParts p;
  p.year = c.year;
  p.month = c.month;
  p.day = c.day;
  p.hour = static_cast<int>(in_day / 3600000);
  p.minute = static_cast<int>(in_day / 60000 % 60);
  p.second = static_cast<int>(in_day / 1000 % 60);
  p.millisecond = static_cast<int>(in_day % 1000);
  p.day_of_week = static_cast<int>(FloorMod(days + 4, 7)) + 1;
  p.day_of_year = static_cast<int>(days - DaysFromCivil(c.year, 1, 1)) + 1;
  return p;
}

int64_t MillisFromParts(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second,
                        int64_t millisecond) {
  return DaysFromCivil(year, month, day) * kMillisPerDay + hour * 3600000 + minute * 60000 + second * 1000 +
         millisecond;
}

int IsoDayOfWeek(const DateParts& p) { return (p.day_of_week + 5) % 7 + 1; }

int IsoWeek(const DateParts& p) {
  int week = (p.day_of_year - IsoDayOfWeek(p) + 10) / 7;
  if (week < 1) return IsoWeeksInYear(p.year - 1);
  if (week > IsoWeeksInYear(p.year)) return 1;
  return week;
}

int64_t IsoWeekYear(const DateParts& p) {
  int week = (p.day_of_year - IsoDayOfWeek(p) + 10) / 7;
  if (week < 1) return p.year - 1;
  if (week > IsoWeeksInYear(p.year)) return p.year + 1;
  return p.year;
}

int SundayWeek(const DateParts& p) { return (p.day_of_year - 1 + 7 - (p.day_of_week - 1)) / 7; }

// ---- time zones ----

struct TimeZone::Rules {
  std::vector<int64_t> transitions;  // UTC seconds, ascending
  std::vector<int32_t> offsets;      // seconds east of UTC from each transition on
  int32_t initial_offset = 0;        // before the first transition
  std::optional<PosixTimeZone> after;  // the file's footer rule: after the last transition
};

namespace {

uint32_t ReadBe32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) | static_cast<uint8_t>(s[at + 3]);
}

int64_t ReadBe64(const std::string& s, size_t at) {
  return static_cast<int64_t>((static_cast<uint64_t>(ReadBe32(s, at)) << 32) | ReadBe32(s, at + 4));
}

// Reads a TZif file (RFC 8536), version 2 or later: the 64-bit section and
// the footer's POSIX rule, which says what happens after the last listed
// transition (Debian's tzdata lists them up to 2037). A footer this reader
// does not understand leaves *after empty: the last offset then holds.
bool ParseTzif(const std::string& data, std::vector<int64_t>* transitions, std::vector<int32_t>* offsets,
               int32_t* initial, std::optional<PosixTimeZone>* after) {
  auto header_ok = [&](size_t at) { return data.size() >= at + 44 && data.compare(at, 4, "TZif") == 0; };
  if (!header_ok(0) || data[4] < '2') return false;
  auto counts = [&](size_t at, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = ReadBe32(data, at + 20 + 4 * i);
  };
  uint32_t c[6];
  counts(0, c);  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  size_t v1_size = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  size_t at = 44 + v1_size;
  if (!header_ok(at)) return false;
  counts(at, c);
  const uint32_t timecnt = c[3], typecnt = c[4];
  size_t times_at = at + 44, index_at = times_at + timecnt * 8, types_at = index_at + timecnt;
  if (typecnt == 0 || data.size() < types_at + typecnt * 6) return false;
  const size_t footer_at = types_at + typecnt * 6 + c[5] + size_t{c[2]} * 12 + c[1] + c[0];
  if (footer_at + 1 < data.size() && data[footer_at] == '\n') {
    size_t end = data.find('\n', footer_at + 1);
    if (end != std::string::npos) *after = PosixTimeZone::Parse(std::string_view(data).substr(footer_at + 1, end - footer_at - 1));
  }
  std::vector<int32_t> type_offsets(typecnt);
  for (uint32_t i = 0; i < typecnt; ++i) type_offsets[i] = static_cast<int32_t>(ReadBe32(data, types_at + 6 * i));
  transitions->resize(timecnt);
  offsets->resize(timecnt);
  for (uint32_t i = 0; i < timecnt; ++i) {
    (*transitions)[i] = ReadBe64(data, times_at + 8 * i);
    uint8_t type = static_cast<uint8_t>(data[index_at + i]);
    if (type >= typecnt) return false;
    (*offsets)[i] = type_offsets[type];
  }
  *initial = type_offsets[0];
  return true;
}

bool ValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '/' && ch != '_' && ch != '-' && ch != '+') return false;
  }
  return name.find("..") == std::string_view::npos;
}

}  // namespace

Result<TimeZone> TimeZone::Parse(std::string_view name) {
  TimeZone zone;
  if (name == "UTC" || name == "GMT" || name == "Z" || name == "Etc/UTC" || name == "Etc/GMT") return zone;
  if (!name.empty() && (name[0] == '+' || name[0] == '-')) {
    std::string digits;
    bool all_digits = true;
    for (size_t i = 1; i < name.size(); ++i) {
      if (name[i] == ':' && i == 3) continue;
      all_digits = all_digits && std::isdigit(static_cast<unsigned char>(name[i]));
      digits.push_back(name[i]);
    }
    if (all_digits && (digits.size() == 2 || digits.size() == 4)) {
      int hours = std::stoi(digits.substr(0, 2));
      int minutes = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
      if (hours <= 99 && minutes < 60) {
        int64_t offset = (hours * 60 + minutes) * 60000LL;
        zone.fixed_offset_ = name[0] == '-' ? -offset : offset;
        return zone;
      }
    }
    return Status(static_cast<ErrorCode>(40485), "unrecognized time zone identifier: \"" + std::string(name) + "\"");
  }
  // Olson names, read once per process and kept.
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Rules>, std::less<>> cache;  // GUARDED_BY(mutex)
  std::lock_guard lock(mutex);
  if (auto found = cache.find(name); found != cache.end()) {
    if (!found->second) {
      return Status(static_cast<ErrorCode>(40485), "unrecognized time zone identifier: \"" + std::string(name) + "\"");
    }
    zone.rules_ = found->second;
    return zone;
  }
  std::shared_ptr<Rules> rules;
  if (ValidZoneName(name)) {
    std::ifstream in("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = std::make_shared<Rules>();
    if (in.good() || in.eof()) {
      if (ParseTzif(data, &parsed->transitions, &parsed->offsets, &parsed->initial_offset, &parsed->after)) {
        rules = parsed;
      }
    }
  }
  cache.emplace(std::string(name), rules);
  if (!rules) {
    return Status(static_cast<ErrorCode>(40485), "unrecognized time zone identifier: \"" + std::string(name) + "\"");
  }
  zone.rules_ = rules;
  return zone;
}

int64_t TimeZone::OffsetAt(int64_t utc_millis) const {
  if (!rules_) return fixed_offset_;
  const int64_t seconds = FloorDiv(utc_millis, 1000);
  auto it = std::upper_bound(rules_->transitions.begin(), rules_->transitions.end(), seconds);
  if (it == rules_->transitions.end() && rules_->after) return rules_->after->OffsetAt(seconds) * 1000LL;
  if (it == rules_->transitions.begin()) return rules_->initial_offset * 1000LL;
  return rules_->offsets[it - rules_->transitions.begin() - 1] * 1000LL;
}

int64_t TimeZone::ToUtc(int64_t local_millis) const {
  if (!rules_) return local_millis - fixed_offset_;
  // Try the offsets in force around the instant; the first that maps back wins.
  int64_t guess = local_millis - OffsetAt(local_millis);
  int64_t second = local_millis - OffsetAt(guess);
  return guess + OffsetAt(guess) == local_millis ? guess : second;
}

// ---- formatting and parsing ----

Result<std::string> FormatIsoDate(int64_t millis) { return FormatDate(millis, "%Y-%m-%dT%H:%M:%S.%LZ", TimeZone()); }

Status ValidateDateFormat(std::string_view format) {
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size()) return Status(static_cast<ErrorCode>(18535), "Unmatched '%' at end of format string");
    char spec = format[++i];
    if (std::string_view("YmdHMSLjwuUVGZz%").find(spec) == std::string_view::npos) {
      return Status(static_cast<ErrorCode>(18536), std::string("Invalid format character '%") + spec + "' in format string");
    }
  }
  return Status::OK();
}

Result<std::string> FormatDate(int64_t utc_millis, std::string_view format, const TimeZone& zone) {
  DOCKET_RETURN_IF_ERROR(ValidateDateFormat(format));
  const int64_t offset = zone.OffsetAt(utc_millis);
  const DateParts p = BreakDownLocal(utc_millis, offset);
  // MongoDB prints every component with at most four digits and refuses the
  // others (a year before 0 or after 9999), in the same words.
  auto out_of_range = [](int64_t v) {
    return Status(static_cast<ErrorCode>(18537),
                  "Could not convert date to string: date component was outside the supported range of 0-9999: " +
                      std::to_string(v));
  };
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out.push_back(format[i]);
      continue;
    }
    switch (format[++i]) {
      case 'Y':
        if (p.year < 0 || p.year > 9999) return out_of_range(p.year);
        AppendPadded(&out, p.year, 4);
        break;
      case 'm': AppendPadded(&out, p.month, 2); break;
      case 'd': AppendPadded(&out, p.day, 2); break;
      case 'H': AppendPadded(&out, p.hour, 2); break;
      case 'M': AppendPadded(&out, p.minute, 2); break;
      case 'S': AppendPadded(&out, p.second, 2); break;
      case 'L': AppendPadded(&out, p.millisecond, 3); break;
      case 'j': AppendPadded(&out, p.day_of_year, 3); break;
      case 'w': AppendPadded(&out, p.day_of_week, 1); break;
      case 'u': AppendPadded(&out, IsoDayOfWeek(p), 1); break;
      case 'U': AppendPadded(&out, SundayWeek(p), 2); break;
      case 'V': AppendPadded(&out, IsoWeek(p), 2); break;
      case 'G': {
        const int64_t iso_year = IsoWeekYear(p);
        if (iso_year < 0 || iso_year > 9999) return out_of_range(iso_year);
        AppendPadded(&out, iso_year, 4);
        break;
      }
      case 'z': out += OffsetText(offset, false); break;
      case 'Z': AppendPadded(&out, offset / 60000, 1); break;
      case '%': out.push_back('%'); break;
    }
  }
  return out;
}

namespace {

// Reads exactly `width` digits (or 1..width when !exact) at *at.
bool ReadNumber(std::string_view text, size_t* at, int width, bool exact, int64_t* out) {
  size_t start = *at;
  int64_t v = 0;
  while (*at < text.size() && *at - start < static_cast<size_t>(width) &&
         std::isdigit(static_cast<unsigned char>(text[*at]))) {
    v = v * 10 + (text[(*at)++] - '0');
  }
  size_t n = *at - start;
  if (n == 0 || (exact && n != static_cast<size_t>(width))) return false;
  *out = v;
  return true;
}

// "Z", "+hh", "+hhmm", "+hh:mm" at *at; sets *offset_millis.
bool ReadOffset(std::string_view text, size_t* at, int64_t* offset_millis) {
  if (*at >= text.size()) return false;
  if (text[*at] == 'Z') {
    ++*at;
    *offset_millis = 0;
    return true;
  }
  if (text[*at] != '+' && text[*at] != '-') return false;
  bool negative = text[(*at)++] == '-';
  int64_t hours = 0, minutes = 0;
  if (!ReadNumber(text, at, 2, true, &hours)) return false;
  if (*at < text.size() && text[*at] == ':') ++*at;
  if (*at < text.size() && std::isdigit(static_cast<unsigned char>(text[*at])) &&
      !ReadNumber(text, at, 2, true, &minutes)) {
    return false;
  }
  *offset_millis = (negative ? -1 : 1) * (hours * 60 + minutes) * 60000;
  return true;
}

bool ValidParts(int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second) {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59;
}

}  // namespace

Result<int64_t> ParseIsoDate(std::string_view text, const TimeZone& zone) {
  auto fail = [&] {
    return ConversionError("Error parsing date string '" + std::string(text) + "'");
  };
  size_t at = 0;
  int64_t year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  if (!ReadNumber(text, &at, 4, true, &year) || at >= text.size() || text[at++] != '-' ||
      !ReadNumber(text, &at, 2, true, &month) || at >= text.size() || text[at++] != '-' ||
      !ReadNumber(text, &at, 2, true, &day)) {
    return fail();
  }
  std::optional<int64_t> offset;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    ++at;
    if (!ReadNumber(text, &at, 2, true, &hour) || at >= text.size() || text[at++] != ':' ||
        !ReadNumber(text, &at, 2, true, &minute)) {
      return fail();
    }
    if (at < text.size() && text[at] == ':') {
      ++at;
      if (!ReadNumber(text, &at, 2, true, &second)) return fail();
      if (at < text.size() && text[at] == '.') {
        ++at;
        size_t start = at;
        if (!ReadNumber(text, &at, 9, false, &millis)) return fail();
        for (size_t n = at - start; n < 3; ++n) millis *= 10;
        for (size_t n = at - start; n > 3; --n) millis /= 10;
      }
    }
    int64_t off = 0;
    if (at < text.size()) {
      if (!ReadOffset(text, &at, &off)) return fail();
      offset = off;
    }
  }
  if (at != text.size() || !ValidParts(month, day, hour, minute, second)) return fail();
  int64_t local = MillisFromParts(year, month, day, hour, minute, second, millis);
  return offset ? local - *offset : zone.ToUtc(local);
}

Result<int64_t> ParseDateWithFormat(std::string_view text, std::string_view format, const TimeZone& zone) {
  DOCKET_RETURN_IF_ERROR(ValidateDateFormat(format));
  auto fail = [&] {
    return ConversionError("Error parsing date string '" + std::string(text) + "' with format '" +
                           std::string(format) + "'");
  };
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  std::optional<int64_t> offset;
  size_t at = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      if (at >= text.size() || text[at++] != format[i]) return fail();
      continue;
    }
    char spec = format[++i];
    bool ok = true;
    switch (spec) {
      case 'Y': ok = ReadNumber(text, &at, 4, true, &year); break;
      case 'm': ok = ReadNumber(text, &at, 2, false, &month); break;
      case 'd': ok = ReadNumber(text, &at, 2, false, &day); break;
      case 'H': ok = ReadNumber(text, &at, 2, false, &hour); break;
      case 'M': ok = ReadNumber(text, &at, 2, false, &minute); break;
      case 'S': ok = ReadNumber(text, &at, 2, false, &second); break;
      case 'L': ok = ReadNumber(text, &at, 3, false, &millis); break;
      case 'z': {
        int64_t off = 0;
        ok = ReadOffset(text, &at, &off);
        offset = off;
        break;
      }
      case '%': ok = at < text.size() && text[at++] == '%'; break;
      default:
        return Status(static_cast<ErrorCode>(18536),
                      std::string("format specifier '%") + spec + "' is not supported when parsing dates");
    }
    if (!ok) return fail();
  }
  if (at != text.size() || !ValidParts(month, day, hour, minute, second)) return fail();
  int64_t local = MillisFromParts(year, month, day, hour, minute, second, millis);
  return offset ? local - *offset : zone.ToUtc(local);
}

}  // namespace docket::expr
