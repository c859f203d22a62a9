#include "tools/docket/transfer/go_time_layout.h"

#include <cctype>
#include <utility>
#include <vector>

namespace docket::transfer {
namespace {

// Go's strings.Replacer: at each position the first pair (in list order)
// whose old text matches is replaced; otherwise the byte is copied.
std::string ReplaceInOrder(const std::string& in, const std::vector<std::pair<const char*, const char*>>& pairs) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    bool replaced = false;
    for (const auto& [from, to] : pairs) {
      const std::string f(from);
      if (in.compare(i, f.size(), f) == 0) {
        out += to;
        i += f.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(in[i++]);
  }
  return out;
}

bool StartsWith(const std::string& s, size_t i, const char* what) {
  return s.compare(i, std::string(what).size(), what) == 0;
}
bool IsDigitAt(const std::string& s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

}  // namespace

LayoutChunk NextLayoutChunk(const std::string& layout) {
  const auto make = [&](size_t i, size_t len, LayoutElement element) {
    return LayoutChunk{layout.substr(0, i), element, layout.substr(i, len), layout.substr(i + len), 0};
  };
  const auto lower_at = [&](size_t i) { return i < layout.size() && layout[i] >= 'a' && layout[i] <= 'z'; };
  for (size_t i = 0; i < layout.size(); ++i) {
    switch (layout[i]) {
      case 'J':
        if (StartsWith(layout, i, "January")) return make(i, 7, LayoutElement::kLongMonth);
        if (StartsWith(layout, i, "Jan") && !lower_at(i + 3)) return make(i, 3, LayoutElement::kMonth);
        break;
      case 'M':
        if (StartsWith(layout, i, "Monday")) return make(i, 6, LayoutElement::kLongWeekDay);
        if (StartsWith(layout, i, "Mon") && !lower_at(i + 3)) return make(i, 3, LayoutElement::kWeekDay);
        if (StartsWith(layout, i, "MST")) return make(i, 3, LayoutElement::kTZ);
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          static const LayoutElement kZeroes[] = {LayoutElement::kZeroMonth,  LayoutElement::kZeroDay,
                                                  LayoutElement::kZeroHour12, LayoutElement::kZeroMinute,
                                                  LayoutElement::kZeroSecond, LayoutElement::kYear};
          return make(i, 2, kZeroes[layout[i + 1] - '1']);
        }
        if (StartsWith(layout, i, "002")) return make(i, 3, LayoutElement::kZeroYearDay);
        break;
      case '1':
        if (StartsWith(layout, i, "15")) return make(i, 2, LayoutElement::kHour);
        return make(i, 1, LayoutElement::kNumMonth);
      case '2':
        if (StartsWith(layout, i, "2006")) return make(i, 4, LayoutElement::kLongYear);
        return make(i, 1, LayoutElement::kDay);
      case '_':
        if (StartsWith(layout, i, "_2006")) return make(i + 1, 4, LayoutElement::kLongYear);
        if (StartsWith(layout, i, "_2")) return make(i, 2, LayoutElement::kUnderDay);
        if (StartsWith(layout, i, "__2")) return make(i, 3, LayoutElement::kUnderYearDay);
        break;
      case '3':
        return make(i, 1, LayoutElement::kHour12);
      case '4':
        return make(i, 1, LayoutElement::kMinute);
      case '5':
        return make(i, 1, LayoutElement::kSecond);
      case 'P':
        if (StartsWith(layout, i, "PM")) return make(i, 2, LayoutElement::kPM);
        break;
      case 'p':
        if (StartsWith(layout, i, "pm")) return make(i, 2, LayoutElement::kpm);
        break;
      case '-':
        if (StartsWith(layout, i, "-070000")) return make(i, 7, LayoutElement::kNumSecondsTZ);
        if (StartsWith(layout, i, "-07:00:00")) return make(i, 9, LayoutElement::kNumColonSecondsTZ);
        if (StartsWith(layout, i, "-0700")) return make(i, 5, LayoutElement::kNumTZ);
        if (StartsWith(layout, i, "-07:00")) return make(i, 6, LayoutElement::kNumColonTZ);
        if (StartsWith(layout, i, "-07")) return make(i, 3, LayoutElement::kNumShortTZ);
        break;
      case 'Z':
        if (StartsWith(layout, i, "Z070000")) return make(i, 7, LayoutElement::kISO8601SecondsTZ);
        if (StartsWith(layout, i, "Z07:00:00")) return make(i, 9, LayoutElement::kISO8601ColonSecondsTZ);
        if (StartsWith(layout, i, "Z0700")) return make(i, 5, LayoutElement::kISO8601TZ);
        if (StartsWith(layout, i, "Z07:00")) return make(i, 6, LayoutElement::kISO8601ColonTZ);
        if (StartsWith(layout, i, "Z07")) return make(i, 3, LayoutElement::kISO8601ShortTZ);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          const char digit = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == digit) ++j;
          if (!IsDigitAt(layout, j)) {
            LayoutChunk c = make(i, j - i, digit == '0' ? LayoutElement::kFrac0 : LayoutElement::kFrac9);
            c.frac_digits = static_cast<int>(j - i - 1);
            return c;
          }
        }
        break;
      default:
        break;
    }
  }
  return LayoutChunk{layout, LayoutElement::kNone, "", "", 0};
}

std::string GoLayoutFromMs(const std::string& layout) {
  static const std::vector<std::pair<const char*, const char*>> kPairs = {
      {"dddd", "Monday"}, {"ddd", "Mon"}, {"dd", "02"},      {"d", "2"},   {"MMMM", "January"}, {"MMM", "Jan"},
      {"MM", "01"},       {"M", "1"},     {"hh", "03"},      {"h", "3"},   {"HH", "15"},        {"H", "15"},
      {"mm", "04"},       {"m", "4"},     {"ss", "05"},      {"s", "5"},   {"tt", "PM"},        {"yyyy", "2006"},
      {"yyy", "2006"},    {"yy", "06"},   {"zzz", "-07:00"}, {"zz", "-07"}};
  return ReplaceInOrder(layout, kPairs);
}

std::string GoLayoutFromOracle(const std::string& layout) {
  static const std::vector<std::pair<const char*, const char*>> kPairs = {
      {"AM", "PM"},   {"DAY", "Monday"},     {"DY", "Mon"},        {"DD", "02"},     {"HH12", "03"}, {"HH24", "15"},
      {"HH", "03"},   {"MI", "04"},          {"MONTH", "January"}, {"MON", "Jan"},   {"MM", "01"},   {"SS", "05"},
      {"TZD", "MST"}, {"TZH:TZM", "-07:00"}, {"TZH", "-07"},       {"YYYY", "2006"}, {"YY", "06"}};
  std::string upper = layout;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return ReplaceInOrder(upper, kPairs);
}

}  // namespace docket::transfer
