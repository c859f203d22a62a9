// Date expressions: the parts ($year $month $dayOfMonth $hour $minute
// $second $millisecond $dayOfWeek $dayOfYear $week $isoWeek $isoWeekYear
// $isoDayOfWeek), $dateToString, $dateFromString, $dateFromParts,
// $dateToParts, $dateAdd, $dateSubtract, $dateDiff and $dateTrunc, each with
// an optional `timezone` (UTC, an offset, or an Olson name).
#include <cmath>
#include <optional>

#include "expr/dates.h"
#include "expr/ops.h"

namespace docket::expr {
namespace {

std::string T(const Value& v) { return TypeName(v); }

// Date arithmetic runs in 128 bits and checks that the result is a date (an
// int64 of milliseconds) once, at the end, instead of at every step.
__extension__ typedef __int128 Wide;

// Local times within a week of the ends of the int64 range are refused: the
// zone offsets added and taken away on the way (at most 99:59 hours) must not
// leave the range either.
constexpr int64_t kDateMargin = 7 * 86400000LL;

std::optional<int64_t> FitDate(Wide millis) {
  if (millis < Wide{INT64_MIN} + kDateMargin || millis > Wide{INT64_MAX} - kDateMargin) return std::nullopt;
  return static_cast<int64_t>(millis);
}

// The instant a date-like value stands for. Errors: Location16006.
Result<int64_t> DateOf(const Value& v) {
  int64_t millis = 0;
  if (!AsDateMillis(v, &millis)) return Err(16006, "can't convert from BSON type " + T(v) + " to Date");
  return millis;
}

// A timezone argument: constant zones are parsed once.
class ZoneArg {
 public:
  ZoneArg() = default;
  static Result<ZoneArg> Make(ExprPtr e) {
    ZoneArg z;
    if (!e) return z;
    if (e->IsConstant()) {
      Variables none;
      auto v = e->Evaluate(none);
      if (!v.ok()) return v.status();
      if (!v->is_nullish()) {
        if (!v->is_string()) return Err(40517, "timezone must evaluate to a string, found " + T(*v));
        auto zone = TimeZone::Parse(v->AsString());
        if (!zone.ok()) return zone.status();
        z.constant_ = *zone;
      } else {
        z.null_ = true;
      }
      return z;
    }
    z.expr_ = std::shared_ptr<Expression>(std::move(e));
    return z;
  }
  // nullopt: the timezone is null (the operator's result is then null).
  Result<std::optional<TimeZone>> Get(Variables& vars) const {
    if (null_) return std::optional<TimeZone>();
    if (!expr_) return std::optional<TimeZone>(constant_);
    auto v = expr_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (v->is_nullish()) return std::optional<TimeZone>();
    if (!v->is_string()) return Err(40517, "timezone must evaluate to a string, found " + T(*v));
    auto zone = TimeZone::Parse(v->AsString());
    if (!zone.ok()) return zone.status();
    return std::optional<TimeZone>(*zone);
  }

 private:
  TimeZone constant_;
  bool null_ = false;
  std::shared_ptr<Expression> expr_;
};

// ---- the parts ----

enum class Part { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond, kDayOfWeek, kDayOfYear, kWeek,
                  kIsoWeek, kIsoWeekYear, kIsoDayOfWeek };

int64_t PartOf(Part part, const DateParts& p) {
  switch (part) {
    case Part::kYear: return p.year;
    case Part::kMonth: return p.month;
    case Part::kDay: return p.day;
    case Part::kHour: return p.hour;
    case Part::kMinute: return p.minute;
    case Part::kSecond: return p.second;
    case Part::kMillisecond: return p.millisecond;
    case Part::kDayOfWeek: return p.day_of_week;
    case Part::kDayOfYear: return p.day_of_year;
    case Part::kWeek: return SundayWeek(p);
    case Part::kIsoWeek: return IsoWeek(p);
    case Part::kIsoWeekYear: return IsoWeekYear(p);
    case Part::kIsoDayOfWeek: return IsoDayOfWeek(p);
  }
  return 0;
}

class DatePartExpr : public Expression {
 public:
  DatePartExpr(Part part, ExprPtr date, ZoneArg zone) : part_(part), date_(std::move(date)), zone_(std::move(zone)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto v = date_->Evaluate(vars);
    if (!v.ok()) return v.status();
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (v->is_nullish() || !*zone) return Value::Null();
    auto millis = DateOf(*v);
    if (!millis.ok()) return millis.status();
    DateParts p = BreakDownLocal(*millis, (*zone)->OffsetAt(*millis));
    int64_t r = PartOf(part_, p);
    return part_ == Part::kIsoWeekYear ? Value::Int64(r) : Value::Integer(r);
  }

 private:
  Part part_;
  ExprPtr date_;
  ZoneArg zone_;
};

Result<ExprPtr> ParseDatePart(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  static const std::pair<std::string_view, Part> kParts[] = {
      {"$year", Part::kYear},         {"$month", Part::kMonth},         {"$dayOfMonth", Part::kDay},
      {"$hour", Part::kHour},         {"$minute", Part::kMinute},       {"$second", Part::kSecond},
      {"$millisecond", Part::kMillisecond}, {"$dayOfWeek", Part::kDayOfWeek}, {"$dayOfYear", Part::kDayOfYear},
      {"$week", Part::kWeek},         {"$isoWeek", Part::kIsoWeek},     {"$isoWeekYear", Part::kIsoWeekYear},
      {"$isoDayOfWeek", Part::kIsoDayOfWeek}};
  Part part = Part::kYear;
  for (const auto& [n, p] : kParts) {
    if (n == name) part = p;
  }
  // {date, timezone} when the document's fields are not operators.
  bson_iter_t child;
  if (bson_iter_type(&arg) == BSON_TYPE_DOCUMENT && bson_iter_recurse(&arg, &child) && bson_iter_next(&child) &&
      bson_iter_key(&child)[0] != '$') {
    auto named = ReadNamedArgs(name, arg, {"date", "timezone"}, 40535, 40535);
    if (!named.ok()) return named.status();
    auto date = ParseNamed(*named, "date", scope);
    if (!date.ok()) return date.status();
    if (!*date) return Err(40539, "missing 'date' argument to " + std::string(name));
    auto tz = ParseNamed(*named, "timezone", scope);
    if (!tz.ok()) return tz.status();
    auto zone = ZoneArg::Make(std::move(tz).value());
    if (!zone.ok()) return zone.status();
    return ExprPtr(std::make_unique<DatePartExpr>(part, std::move(date).value(), std::move(zone).value()));
  }
  auto args = ParseArgs(arg, scope);
  if (!args.ok()) return args.status();
  DOCKET_RETURN_IF_ERROR(CheckArgCount(name, args->size(), 1, 1));
  return ExprPtr(std::make_unique<DatePartExpr>(part, std::move((*args)[0]), ZoneArg()));
}

// ---- $dateToString ----

class DateToStringExpr : public Expression {
 public:
  DateToStringExpr(ExprPtr date, ExprPtr format, ZoneArg zone, ExprPtr on_null)
      : date_(std::move(date)), format_(std::move(format)), zone_(std::move(zone)), on_null_(std::move(on_null)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    std::string format = "%Y-%m-%dT%H:%M:%S.%LZ";
    if (format_) {
      auto f = format_->Evaluate(vars);
      if (!f.ok()) return f.status();
      if (f->is_nullish()) return Value::Null();
      if (!f->is_string()) return Err(18533, "$dateToString requires that 'format' be a string, found: " + T(*f));
      format = std::string(f->AsString());
    }
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (!*zone) return Value::Null();
    auto v = date_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (v->is_nullish()) return on_null_ ? on_null_->Evaluate(vars) : Result<Value>(Value::Null());
    auto millis = DateOf(*v);
    if (!millis.ok()) return millis.status();
    auto text = FormatDate(*millis, format, **zone);
    if (!text.ok()) return text.status();
    return Value::String(*text);
  }

 private:
  ExprPtr date_, format_;
  ZoneArg zone_;
  ExprPtr on_null_;
};

Result<ExprPtr> ParseDateToString(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  static constexpr std::string_view keys[4] = {"date", "format", "timezone", "onNull"};
  auto parsed = ParseNamedArgs(name, arg, keys, 18629, 18534, scope);
  if (!parsed.ok()) return parsed.status();
  std::vector<ExprPtr>& parts = *parsed;
  if (!parts[0]) return Err(18628, "Missing 'date' parameter to $dateToString");
  if (parts[1] && parts[1]->IsConstant()) {
    Variables none;
    auto f = parts[1]->Evaluate(none);
    if (f.ok() && f->is_string()) DOCKET_RETURN_IF_ERROR(ValidateDateFormat(f->AsString()));
  }
  auto zone = ZoneArg::Make(std::move(parts[2]));
  if (!zone.ok()) return zone.status();
  return ExprPtr(std::make_unique<DateToStringExpr>(std::move(parts[0]), std::move(parts[1]), std::move(zone).value(),
                                                    std::move(parts[3])));
}

// ---- $dateFromString ----

class DateFromStringExpr : public Expression {
 public:
  DateFromStringExpr(ExprPtr text, ExprPtr format, ZoneArg zone, ExprPtr on_error, ExprPtr on_null)
      : text_(std::move(text)), format_(std::move(format)), zone_(std::move(zone)), on_error_(std::move(on_error)),
        on_null_(std::move(on_null)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (!*zone) return Value::Null();
    std::optional<std::string> format;
    if (format_) {
      auto f = format_->Evaluate(vars);
      if (!f.ok()) return f.status();
      if (f->is_nullish()) return Value::Null();
      if (!f->is_string()) return Err(40684, "$dateFromString requires that 'format' be a string, found: " + T(*f));
      format = std::string(f->AsString());
    }
    auto v = text_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (v->is_nullish()) return on_null_ ? on_null_->Evaluate(vars) : Result<Value>(Value::Null());
    Result<int64_t> parsed = Status(ErrorCode::kConversionFailure, "");
    if (!v->is_string()) {
      parsed = Status(ErrorCode::kConversionFailure, "$dateFromString requires that 'dateString' be a string, found: " + T(*v));
    } else {
      parsed = format ? ParseDateWithFormat(v->AsString(), *format, **zone) : ParseIsoDate(v->AsString(), **zone);
    }
    if (!parsed.ok()) {
      if (on_error_ && parsed.status().code() == ErrorCode::kConversionFailure) return on_error_->Evaluate(vars);
      return parsed.status();
    }
    return Value::Date(*parsed);
  }

 private:
  ExprPtr text_, format_;
  ZoneArg zone_;
  ExprPtr on_error_, on_null_;
};

Result<ExprPtr> ParseDateFromString(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  static constexpr std::string_view keys[5] = {"dateString", "format", "timezone", "onError", "onNull"};
  auto parsed = ParseNamedArgs(name, arg, keys, 40540, 40541, scope);
  if (!parsed.ok()) return parsed.status();
  std::vector<ExprPtr>& parts = *parsed;
  if (!parts[0]) return Err(40542, "Missing 'dateString' parameter to $dateFromString");
  auto zone = ZoneArg::Make(std::move(parts[2]));
  if (!zone.ok()) return zone.status();
  return ExprPtr(std::make_unique<DateFromStringExpr>(std::move(parts[0]), std::move(parts[1]), std::move(zone).value(),
                                                      std::move(parts[3]), std::move(parts[4])));
}

// ---- $dateFromParts / $dateToParts ----

class DateFromPartsExpr : public Expression {
 public:
  // parts: year|isoWeekYear, month|isoWeek, day|isoDayOfWeek, hour, minute, second, millisecond
  DateFromPartsExpr(bool iso, std::vector<ExprPtr> parts, ZoneArg zone)
      : iso_(iso), parts_(std::move(parts)), zone_(std::move(zone)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    static const char* kNames[2][7] = {{"year", "month", "day", "hour", "minute", "second", "millisecond"},
                                       {"isoWeekYear", "isoWeek", "isoDayOfWeek", "hour", "minute", "second", "millisecond"}};
    int64_t v[7] = {1970, 1, 1, 0, 0, 0, 0};
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (!parts_[i]) continue;
      auto r = parts_[i]->Evaluate(vars);
      if (!r.ok()) return r.status();
      if (r->is_nullish()) return Value::Null();
      if (!AsWholeInt64(*r, &v[i])) {
        return Err(40515, std::string("'") + kNames[iso_][i] + "' must evaluate to an integer, found " + T(*r) +
                              " with value " + r->ToJson());
      }
      int64_t lo = i == 0 ? 1 : -32768, hi = i == 0 ? 9999 : 32767;
      if (v[i] < lo || v[i] > hi) {
        return Err(i == 0 ? 40523 : 31034, std::string("'") + kNames[iso_][i] + "' must evaluate to a value in the range [" +
                                               std::to_string(lo) + ", " + std::to_string(hi) + "]; value " +
                                               std::to_string(v[i]) + " is not in range");
      }
    }
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (!*zone) return Value::Null();
    int64_t days = 0;
    if (!iso_) {
      days = DaysFromCivil(v[0], v[1], v[2]);
    } else {
      // ISO week 1 holds January 4th; weeks start on Monday.
      int64_t jan4 = DaysFromCivil(v[0], 1, 4);
      int64_t jan4_iso_dow = ((jan4 + 3) % 7 + 7) % 7 + 1;  // 1970-01-01 was a Thursday (4)
      int64_t week1_monday = jan4 - (jan4_iso_dow - 1);
      days = week1_monday + (v[1] - 1) * 7 + (v[2] - 1);
    }
    int64_t local = days * 86400000 + v[3] * 3600000 + v[4] * 60000 + v[5] * 1000 + v[6];
    return Value::Date((*zone)->ToUtc(local));
  }

 private:
  bool iso_;
  std::vector<ExprPtr> parts_;
  ZoneArg zone_;
};

Result<ExprPtr> ParseDateFromParts(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg,
                             {"year", "month", "day", "hour", "minute", "second", "millisecond", "isoWeekYear",
                              "isoWeek", "isoDayOfWeek", "timezone"},
                             40519, 40518);
  if (!named.ok()) return named.status();
  bool calendar = named->count("year") || named->count("month") || named->count("day");
  bool iso = named->count("isoWeekYear") || named->count("isoWeek") || named->count("isoDayOfWeek");
  if (calendar && iso) return Err(40489, "$dateFromParts does not allow mixing natural dates with ISO dates");
  if (!iso && !named->count("year")) return Err(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  if (iso && !named->count("isoWeekYear")) return Err(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  const char* keys[2][7] = {{"year", "month", "day", "hour", "minute", "second", "millisecond"},
                            {"isoWeekYear", "isoWeek", "isoDayOfWeek", "hour", "minute", "second", "millisecond"}};
  std::vector<ExprPtr> parts;
  for (const char* key : keys[iso]) {
    auto e = ParseNamed(*named, key, scope);
    if (!e.ok()) return e.status();
    parts.push_back(std::move(e).value());
  }
  auto tz = ParseNamed(*named, "timezone", scope);
  if (!tz.ok()) return tz.status();
  auto zone = ZoneArg::Make(std::move(tz).value());
  if (!zone.ok()) return zone.status();
  return ExprPtr(std::make_unique<DateFromPartsExpr>(iso, std::move(parts), std::move(zone).value()));
}

class DateToPartsExpr : public Expression {
 public:
  DateToPartsExpr(ExprPtr date, ZoneArg zone, ExprPtr iso) : date_(std::move(date)), zone_(std::move(zone)), iso_(std::move(iso)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    bool iso = false;
    if (iso_) {
      auto i = iso_->Evaluate(vars);
      if (!i.ok()) return i.status();
      if (i->is_nullish()) return Value::Null();
      if (i->type() != BSON_TYPE_BOOL) return Err(40521, "iso8601 must evaluate to a bool, found " + T(*i));
      iso = i->AsBool();
    }
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    auto v = date_->Evaluate(vars);
    if (!v.ok()) return v.status();
    if (v->is_nullish() || !*zone) return Value::Null();
    auto millis = DateOf(*v);
    if (!millis.ok()) return millis.status();
    DateParts p = BreakDownLocal(*millis, (*zone)->OffsetAt(*millis));
    DocumentBuilder out;
    if (iso) {
      out.Append("isoWeekYear", Value::Integer(IsoWeekYear(p)));
      out.Append("isoWeek", Value::Int32(IsoWeek(p)));
      out.Append("isoDayOfWeek", Value::Int32(IsoDayOfWeek(p)));
    } else {
      out.Append("year", Value::Integer(p.year));
      out.Append("month", Value::Int32(p.month));
      out.Append("day", Value::Int32(p.day));
    }
    out.Append("hour", Value::Int32(p.hour));
    out.Append("minute", Value::Int32(p.minute));
    out.Append("second", Value::Int32(p.second));
    out.Append("millisecond", Value::Int32(p.millisecond));
    return out.Finish();
  }

 private:
  ExprPtr date_;
  ZoneArg zone_;
  ExprPtr iso_;
};

Result<ExprPtr> ParseDateToParts(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"date", "timezone", "iso8601"}, 40524, 40520);
  if (!named.ok()) return named.status();
  auto date = ParseNamed(*named, "date", scope);
  if (!date.ok()) return date.status();
  if (!*date) return Err(40522, "Missing 'date' parameter to $dateToParts");
  auto tz = ParseNamed(*named, "timezone", scope);
  if (!tz.ok()) return tz.status();
  auto zone = ZoneArg::Make(std::move(tz).value());
  if (!zone.ok()) return zone.status();
  auto iso = ParseNamed(*named, "iso8601", scope);
  if (!iso.ok()) return iso.status();
  return ExprPtr(std::make_unique<DateToPartsExpr>(std::move(date).value(), std::move(zone).value(), std::move(iso).value()));
}

// ---- units: $dateAdd, $dateSubtract, $dateDiff, $dateTrunc ----

enum class Unit { kYear, kQuarter, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };

Result<Unit> ParseUnit(const Value& v, std::string_view op) {
  static const std::pair<std::string_view, Unit> kUnits[] = {
      {"year", Unit::kYear}, {"quarter", Unit::kQuarter}, {"month", Unit::kMonth}, {"week", Unit::kWeek},
      {"day", Unit::kDay},   {"hour", Unit::kHour},       {"minute", Unit::kMinute}, {"second", Unit::kSecond},
      {"millisecond", Unit::kMillisecond}};
  if (v.is_string()) {
    for (const auto& [n, u] : kUnits) {
      if (n == v.AsString()) return u;
    }
  }
  return Err(5439014, std::string(op) + " requires 'unit' to be a valid time unit, found " + v.ToJson());
}

int64_t FixedUnitMillis(Unit u) {
  switch (u) {
    case Unit::kWeek: return 7 * 86400000LL;
    case Unit::kDay: return 86400000;
    case Unit::kHour: return 3600000;
    case Unit::kMinute: return 60000;
    case Unit::kSecond: return 1000;
    default: return 1;
  }
}

int64_t MonthsOf(Unit u) { return u == Unit::kYear ? 12 : u == Unit::kQuarter ? 3 : 1; }
bool IsCalendarUnit(Unit u) { return u == Unit::kYear || u == Unit::kQuarter || u == Unit::kMonth; }

int DaysInMonth(int64_t year, int month) {
  return static_cast<int>(DaysFromCivil(year, month + 1, 1) - DaysFromCivil(year, month, 1));
}

// MongoDB's bound on $dateAdd's amount (about what fits in a date), checked
// before adding; its error 5976500.
bool DateAddAmountValid(int64_t amount, Unit unit) {
  constexpr int64_t kMaxDays = static_cast<int64_t>(UINT64_MAX / 86400000ULL + 1);
  constexpr int64_t kMaxYears = kMaxDays / 365 + 1;
  int64_t max = 0;
  switch (unit) {
    case Unit::kYear: max = kMaxYears; break;
    case Unit::kQuarter: max = kMaxYears * 4; break;
    case Unit::kMonth: max = kMaxYears * 12; break;
    case Unit::kWeek: max = kMaxDays / 7; break;
    case Unit::kDay: max = kMaxDays; break;
    case Unit::kHour: max = kMaxDays * 24; break;
    case Unit::kMinute: max = kMaxDays * 24 * 60; break;
    case Unit::kSecond: max = kMaxDays * 24 * 60 * 60; break;
    case Unit::kMillisecond: return true;
  }
  return -max < amount && amount < max;
}

const char* UnitName(Unit u) {
  static const char* kNames[] = {"year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond"};
  return kNames[static_cast<int>(u)];
}

// Adds `amount` units to `utc` in `zone`: calendar units move the local
// date (clamping the day to the month's length), the others add time.
// Errors: 5166406 when the result is not a date (MongoDB's "dateAdd overflowed").
Result<int64_t> AddUnits(int64_t utc, Unit unit, int64_t amount, const TimeZone& zone) {
  auto overflowed = [] { return Err(5166406, "dateAdd overflowed"); };
  const int64_t offset = zone.OffsetAt(utc);
  if (!IsCalendarUnit(unit)) {
    const Wide delta = Wide{amount} * FixedUnitMillis(unit);
    if (unit == Unit::kDay || unit == Unit::kWeek) {
      auto local = FitDate(Wide{utc} + offset + delta);
      if (!local) return overflowed();
      return zone.ToUtc(*local);
    }
    auto moved = FitDate(Wide{utc} + delta);
    if (!moved) return overflowed();
    return *moved;
  }
  const DateParts p = BreakDownLocal(utc, offset);
  const Wide months = Wide{p.year} * 12 + (p.month - 1) + Wide{amount} * MonthsOf(unit);
  const Wide year_wide = months >= 0 ? months / 12 : (months - 11) / 12;
  // Years this far out are no dates (|year| < 3e8 for any int64 of milliseconds).
  if (year_wide > 1'000'000'000 || year_wide < -1'000'000'000) return overflowed();
  const auto year = static_cast<int64_t>(year_wide);
  const int month = static_cast<int>(months - year_wide * 12) + 1;
  const int day = std::min(p.day, DaysInMonth(year, month));
  const Wide moved = Wide{DaysFromCivil(year, month, day)} * 86400000 + Wide{p.hour} * 3600000 +
                     Wide{p.minute} * 60000 + Wide{p.second} * 1000 + p.millisecond;
  auto local = FitDate(moved);
  if (!local) return overflowed();
  return zone.ToUtc(*local);
}

int StartOfWeekDay(const Value& v) {  // 1 = Sunday .. 7 = Saturday; 0 for an invalid name
  static const std::pair<std::string_view, int> kDays[] = {
      {"sunday", 1}, {"monday", 2}, {"tuesday", 3}, {"wednesday", 4}, {"thursday", 5}, {"friday", 6}, {"saturday", 7},
      {"sun", 1},    {"mon", 2},    {"tue", 3},     {"wed", 4},       {"thu", 5},      {"fri", 6},    {"sat", 7}};
  if (!v.is_string()) return 0;
  std::string lower;
  for (char c : v.AsString()) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& [n, d] : kDays) {
    if (n == lower) return d;
  }
  return 0;
}

Wide FloorTo(Wide x, Wide m) {
  Wide r = x % m;
  return x - (r < 0 ? r + m : r);
}

// The local time (`offset` east of UTC at `utc`) truncated to the start of
// its `unit` period (binSize 1), as local milliseconds; in 128 bits, since it
// can lie just outside the int64 range.
Wide TruncateLocal(int64_t utc, int64_t offset, Unit unit, int start_of_week) {
  const Wide local = Wide{utc} + offset;
  if (unit == Unit::kWeek) {
    const Wide days = FloorTo(local, 86400000) / 86400000;
    const Wide dow = (days + 4) - FloorTo(days + 4, 7);  // 0 = Sunday (1970-01-01 was a Thursday)
    const int back = (static_cast<int>(dow) + 1 - start_of_week + 7) % 7;
    return (days - back) * 86400000;
  }
  if (!IsCalendarUnit(unit)) return FloorTo(local, FixedUnitMillis(unit));
  const DateParts p = BreakDownLocal(utc, offset);
  const int month = unit == Unit::kYear ? 1 : unit == Unit::kQuarter ? ((p.month - 1) / 3) * 3 + 1 : p.month;
  return Wide{DaysFromCivil(p.year, month, 1)} * 86400000;
}

class DateArithExpr : public Expression {
 public:
  DateArithExpr(std::string op, int sign, ExprPtr start, ExprPtr unit, ExprPtr amount, ZoneArg zone)
      : op_(std::move(op)), sign_(sign), start_(std::move(start)), unit_(std::move(unit)), amount_(std::move(amount)),
        zone_(std::move(zone)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto start = start_->Evaluate(vars);
    if (!start.ok()) return start.status();
    auto unit = unit_->Evaluate(vars);
    if (!unit.ok()) return unit.status();
    auto amount = amount_->Evaluate(vars);
    if (!amount.ok()) return amount.status();
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (start->is_nullish() || unit->is_nullish() || amount->is_nullish() || !*zone) return Value::Null();
    int64_t millis = 0;
    if (!AsDateMillis(*start, &millis)) return Err(5166403, op_ + " requires startDate to be convertible to a date");
    auto u = ParseUnit(*unit, op_);
    if (!u.ok()) return u.status();
    int64_t n = 0;
    if (!AsWholeInt64(*amount, &n)) return Err(5166405, op_ + " expects integer amount of time units");
    if (sign_ < 0 && n == INT64_MIN) {
      return Err(6045000, "invalid $dateSubtract 'amount' parameter value: " + std::to_string(n));
    }
    n *= sign_;
    if (!DateAddAmountValid(n, *u)) {
      return Err(5976500, "invalid dateAdd 'amount' parameter value: " + std::to_string(n) + " " + UnitName(*u));
    }
    auto moved = AddUnits(millis, *u, n, **zone);
    if (!moved.ok()) return moved.status();
    return Value::Date(*moved);
  }

 private:
  std::string op_;
  int sign_;
  ExprPtr start_, unit_, amount_;
  ZoneArg zone_;
};

Result<ExprPtr> ParseDateArith(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  static constexpr std::string_view keys[4] = {"startDate", "unit", "amount", "timezone"};
  auto parsed = ParseNamedArgs(name, arg, keys, 5166400, 5166401, scope);
  if (!parsed.ok()) return parsed.status();
  std::vector<ExprPtr>& parts = *parsed;
  for (int i = 0; i < 3; ++i) {
    if (!parts[i]) return Err(5166402, std::string(name) + " requires '" + std::string(keys[i]) + "' to be present");
  }
  auto zone = ZoneArg::Make(std::move(parts[3]));
  if (!zone.ok()) return zone.status();
  return ExprPtr(std::make_unique<DateArithExpr>(std::string(name), name == "$dateSubtract" ? -1 : 1,
                                                 std::move(parts[0]), std::move(parts[1]), std::move(parts[2]),
                                                 std::move(zone).value()));
}

class DateDiffExpr : public Expression {
 public:
  DateDiffExpr(ExprPtr start, ExprPtr end, ExprPtr unit, ZoneArg zone, ExprPtr start_of_week)
      : start_(std::move(start)), end_(std::move(end)), unit_(std::move(unit)), zone_(std::move(zone)),
        start_of_week_(std::move(start_of_week)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    Value v[3];
    const Expression* parts[3] = {start_.get(), end_.get(), unit_.get()};
    for (int i = 0; i < 3; ++i) {
      auto r = parts[i]->Evaluate(vars);
      if (!r.ok()) return r.status();
      v[i] = std::move(r).value();
    }
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (v[0].is_nullish() || v[1].is_nullish() || v[2].is_nullish() || !*zone) return Value::Null();
    int64_t a = 0, b = 0;
    if (!AsDateMillis(v[0], &a)) return Err(5166307, "$dateDiff requires 'startDate' to be a date, but got " + T(v[0]));
    if (!AsDateMillis(v[1], &b)) return Err(5166307, "$dateDiff requires 'endDate' to be a date, but got " + T(v[1]));
    auto unit = ParseUnit(v[2], "$dateDiff");
    if (!unit.ok()) return unit.status();
    int week_start = 1;
    if (start_of_week_ && *unit == Unit::kWeek) {
      auto w = start_of_week_->Evaluate(vars);
      if (!w.ok()) return w.status();
      if (w->is_nullish()) return Value::Null();
      week_start = StartOfWeekDay(*w);
      if (week_start == 0) return Err(5439018, "$dateDiff parameter 'startOfWeek' value cannot be recognized as a day of a week: " + w->ToJson());
    }
    const int64_t offset_a = (*zone)->OffsetAt(a), offset_b = (*zone)->OffsetAt(b);
    if (IsCalendarUnit(*unit)) {
      DateParts pa = BreakDownLocal(a, offset_a), pb = BreakDownLocal(b, offset_b);
      int64_t ma = pa.year * 12 + pa.month - 1, mb = pb.year * 12 + pb.month - 1;
      int64_t per = MonthsOf(*unit);
      auto period = [per](int64_t m) { return m >= 0 ? m / per : (m - per + 1) / per; };
      return Value::Int64(period(mb) - period(ma));
    }
    const Wide ta = TruncateLocal(a, offset_a, *unit, week_start), tb = TruncateLocal(b, offset_b, *unit, week_start);
    const Wide diff = (tb - ta) / FixedUnitMillis(*unit);
    if (diff > INT64_MAX || diff < INT64_MIN) return Err(5166308, "dateDiff overflowed");
    return Value::Int64(static_cast<int64_t>(diff));
  }

 private:
  ExprPtr start_, end_, unit_;
  ZoneArg zone_;
  ExprPtr start_of_week_;
};

Result<ExprPtr> ParseDateDiff(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  static constexpr std::string_view keys[5] = {"startDate", "endDate", "unit", "timezone", "startOfWeek"};
  auto parsed = ParseNamedArgs(name, arg, keys, 5166301, 5166302, scope);
  if (!parsed.ok()) return parsed.status();
  std::vector<ExprPtr>& parts = *parsed;
  for (int i = 0; i < 3; ++i) {
    if (!parts[i]) return Err(5166303 + i, "Missing '" + std::string(keys[i]) + "' parameter to $dateDiff");
  }
  auto zone = ZoneArg::Make(std::move(parts[3]));
  if (!zone.ok()) return zone.status();
  return ExprPtr(std::make_unique<DateDiffExpr>(std::move(parts[0]), std::move(parts[1]), std::move(parts[2]),
                                                std::move(zone).value(), std::move(parts[4])));
}

class DateTruncExpr : public Expression {
 public:
  DateTruncExpr(ExprPtr date, ExprPtr unit, ExprPtr bin, ZoneArg zone, ExprPtr start_of_week)
      : date_(std::move(date)), unit_(std::move(unit)), bin_(std::move(bin)), zone_(std::move(zone)),
        start_of_week_(std::move(start_of_week)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto date = date_->Evaluate(vars);
    if (!date.ok()) return date.status();
    auto unit_v = unit_->Evaluate(vars);
    if (!unit_v.ok()) return unit_v.status();
    auto zone = zone_.Get(vars);
    if (!zone.ok()) return zone.status();
    if (date->is_nullish() || unit_v->is_nullish() || !*zone) return Value::Null();
    int64_t millis = 0;
    if (!AsDateMillis(*date, &millis)) return Err(5439012, "$dateTrunc requires 'date' to be a date, but got " + T(*date));
    auto unit = ParseUnit(*unit_v, "$dateTrunc");
    if (!unit.ok()) return unit.status();
    int64_t bin = 1;
    if (bin_) {
      auto b = bin_->Evaluate(vars);
      if (!b.ok()) return b.status();
      if (b->is_nullish()) return Value::Null();
      if (!AsWholeInt64(*b, &bin) || bin <= 0) return Err(5439017, "$dateTrunc requires 'binSize' to be a positive 64-bit integer, found " + b->ToJson());
    }
    int week_start = 1;
    if (start_of_week_ && *unit == Unit::kWeek) {
      auto w = start_of_week_->Evaluate(vars);
      if (!w.ok()) return w.status();
      if (w->is_nullish()) return Value::Null();
      week_start = StartOfWeekDay(*w);
      if (week_start == 0) return Err(5439016, "$dateTrunc parameter 'startOfWeek' value cannot be recognized as a day of a week: " + w->ToJson());
    }
    // MongoDB's bounds on binSize: units of a day or more go through its
    // dateAdd (5439006), the others must give a bin width in int64 (5439002).
    if (bin > 100'000'000'000 && (IsCalendarUnit(*unit) || *unit == Unit::kWeek || *unit == Unit::kDay)) {
      return Err(5439006, "dateTrunc unsupported binSize value");
    }
    const Wide width = Wide{FixedUnitMillis(*unit)} * bin;
    if (!IsCalendarUnit(*unit) && width > INT64_MAX) return Err(5439002, "dateTrunc overflowed");
    const int64_t offset = (*zone)->OffsetAt(millis);
    Wide truncated = TruncateLocal(millis, offset, *unit, week_start);
    if (bin > 1) {
      // Bins count from the reference instant 2000-01-01 (a Saturday; weeks
      // from the first startOfWeek day on or after it), as MongoDB does.
      const int64_t reference_day = MillisFromParts(2000, 1, 1, 0, 0, 0, 0);
      Wide reference = reference_day;
      if (*unit == Unit::kWeek) reference = TruncateLocal(reference_day + 6 * 86400000LL, 0, Unit::kWeek, week_start);
      if (IsCalendarUnit(*unit)) {
        const DateParts p = BreakDownLocal(millis, offset);
        const int64_t months = (p.year - 2000) * 12 + (p.month - 1);
        const int64_t per = MonthsOf(*unit) * bin;
        const int64_t bins = months >= 0 ? months / per : (months - per + 1) / per;
        const Wide start_months = Wide{bins} * per;
        const Wide year = 2000 + (start_months >= 0 ? start_months / 12 : (start_months - 11) / 12);
        if (year > 1'000'000'000 || year < -1'000'000'000) return Err(5166406, "dateAdd overflowed");
        const int month = static_cast<int>(start_months - (year - 2000) * 12) + 1;
        truncated = Wide{DaysFromCivil(static_cast<int64_t>(year), month, 1)} * 86400000;
      } else {
        const Wide from_reference = truncated - reference;
        const Wide bins = from_reference >= 0 ? from_reference / width : (from_reference - width + 1) / width;
        truncated = reference + bins * width;
      }
    }
    auto local = FitDate(truncated);
    if (!local) return Err(5439001, "dateTrunc overflowed");
    return Value::Date((*zone)->ToUtc(*local));
  }

 private:
  ExprPtr date_, unit_, bin_;
  ZoneArg zone_;
  ExprPtr start_of_week_;
};

Result<ExprPtr> ParseDateTrunc(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  static constexpr std::string_view keys[5] = {"date", "unit", "binSize", "timezone", "startOfWeek"};
  auto parsed = ParseNamedArgs(name, arg, keys, 5439007, 5439008, scope);
  if (!parsed.ok()) return parsed.status();
  std::vector<ExprPtr>& parts = *parsed;
  for (int i = 0; i < 2; ++i) {
    if (!parts[i]) return Err(5439009 + i, "$dateTrunc requires '" + std::string(keys[i]) + "' parameter");
  }
  auto zone = ZoneArg::Make(std::move(parts[3]));
  if (!zone.ok()) return zone.status();
  return ExprPtr(std::make_unique<DateTruncExpr>(std::move(parts[0]), std::move(parts[1]), std::move(parts[2]),
                                                 std::move(zone).value(), std::move(parts[4])));
}

// $tsSecond / $tsIncrement: the parts of a timestamp.
Result<ExprPtr> ParseTimestampPart(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto args = ParseArgs(arg, scope);
  if (!args.ok()) return args.status();
  DOCKET_RETURN_IF_ERROR(CheckArgCount(name, args->size(), 1, 1));
  EvalFn fn = name == "$tsSecond"
                  ? +[](const Args& a, Variables&) -> Result<Value> {
                      if (a[0].is_nullish()) return Value::Null();
                      if (a[0].type() != BSON_TYPE_TIMESTAMP) return Err(5687301, "$tsSecond requires a timestamp argument, found: " + T(a[0]));
                      bson_iter_t it;
                      a[0].Iter(&it);
                      uint32_t t = 0, i = 0;
                      bson_iter_timestamp(&it, &t, &i);
                      return Value::Int64(t);
                    }
                  : +[](const Args& a, Variables&) -> Result<Value> {
                      if (a[0].is_nullish()) return Value::Null();
                      if (a[0].type() != BSON_TYPE_TIMESTAMP) return Err(5687302, "$tsIncrement requires a timestamp argument, found: " + T(a[0]));
                      bson_iter_t it;
                      a[0].Iter(&it);
                      uint32_t t = 0, i = 0;
                      bson_iter_timestamp(&it, &t, &i);
                      return Value::Int64(i);
                    };
  return MakeFunction(name, std::move(args).value(), fn);
}

constexpr SpecialEntry kSpecials[] = {
    {"$year", ParseDatePart},        {"$month", ParseDatePart},       {"$dayOfMonth", ParseDatePart},
    {"$hour", ParseDatePart},        {"$minute", ParseDatePart},      {"$second", ParseDatePart},
    {"$millisecond", ParseDatePart}, {"$dayOfWeek", ParseDatePart},   {"$dayOfYear", ParseDatePart},
    {"$week", ParseDatePart},        {"$isoWeek", ParseDatePart},     {"$isoWeekYear", ParseDatePart},
    {"$isoDayOfWeek", ParseDatePart}, {"$dateToString", ParseDateToString}, {"$dateFromString", ParseDateFromString},
    {"$dateFromParts", ParseDateFromParts}, {"$dateToParts", ParseDateToParts}, {"$dateAdd", ParseDateArith},
    {"$dateSubtract", ParseDateArith}, {"$dateDiff", ParseDateDiff}, {"$dateTrunc", ParseDateTrunc},
    {"$tsSecond", ParseTimestampPart}, {"$tsIncrement", ParseTimestampPart},
};

}  // namespace

std::span<const SpecialEntry> DateSpecials() { return kSpecials; }

}  // namespace docket::expr
