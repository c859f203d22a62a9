#include "tools/docket/transfer/typed_columns.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/go_time.h"
#include "tools/docket/transfer/go_time_layout.h"

namespace docket::transfer {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Go allows '_' between digits of a float literal ("1_000.5"); returns the
// text without them, or false when one is misplaced.
bool StripUnderscores(const std::string& text, bool hex, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '_') {
      out->push_back(text[i]);
      continue;
    }
    const auto digit = [&](size_t k) { return k < text.size() && (hex ? IsHexDigit(text[k]) : IsDigit(text[k])); };
    const bool after_prefix = hex && i == 2;  // 0x_1p0
    if (!(digit(i + 1) && (after_prefix || (i > 0 && digit(i - 1))))) return false;
  }
  return true;
}

bool DecodeHex(const std::string& in, std::string* out) {
  if (in.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < in.size(); i += 2) {
    if (!IsHexDigit(in[i]) || !IsHexDigit(in[i + 1])) return false;
    out->push_back(static_cast<char>(std::stoi(in.substr(i, 2), nullptr, 16)));
  }
  return true;
}

// Go's base64.StdEncoding and base32.StdEncoding: padded; \r and \n ignored.
bool DecodeBaseN(const std::string& raw, int bits, std::string* out) {
  const std::string alphabet = bits == 6 ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                                         : "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const size_t block = bits == 6 ? 4 : 8;
  std::string in;
  for (char c : raw)
    if (c != '\r' && c != '\n') in.push_back(c);
  if (in.size() % block != 0) return false;
  size_t padding = 0;
  while (padding < in.size() && in[in.size() - 1 - padding] == '=') ++padding;
  if (bits == 6 ? padding > 2 : !(padding == 0 || padding == 1 || padding == 3 || padding == 4 || padding == 6))
    return false;
  out->clear();
  uint64_t acc = 0;
  int held = 0;
  for (size_t i = 0; i < in.size() - padding; ++i) {
    const size_t v = alphabet.find(in[i]);
    if (v == std::string::npos) return false;
    acc = (acc << bits) | v;
    held += bits;
    if (held >= 8) {
      held -= 8;
      out->push_back(static_cast<char>((acc >> held) & 0xFF));
    }
  }
  return true;
}

std::string UnescapeArg(const std::string& arg) {
  std::string out;
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] != '\\') {
      out.push_back(arg[i]);
    } else if (i + 1 < arg.size() && (arg[i + 1] == '\\' || arg[i + 1] == '(' || arg[i + 1] == ')')) {
      out.push_back(arg[++i]);
    }  // a lone backslash is dropped
  }
  return out;
}

std::vector<std::string> SplitDots(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(name.substr(start, dot - start));
  parts.push_back(name.substr(start));
  return parts;
}

ColumnSpec TypedColumn(const std::string& header) {
  // name.type(arg): the last ".word(" whose text runs to a final ')'.
  if (header.empty() || header.back() != ')')
    throw TransferError("could not parse a type from the field \"" + header + "\" (expected name.type(arg))");
  for (size_t dot = header.rfind('.'); dot != std::string::npos;
       dot = dot == 0 ? std::string::npos : header.rfind('.', dot - 1)) {
    size_t end = dot + 1;
    while (end < header.size() && IsWordChar(header[end])) ++end;
    if (end == dot + 1 || end >= header.size() || header[end] != '(' || end + 1 > header.size() - 1) continue;
    ColumnSpec spec;
    spec.name = header.substr(0, dot);
    spec.parts = SplitDots(spec.name);
    spec.type_name = header.substr(dot + 1, end - dot - 1);
    std::string arg = UnescapeArg(header.substr(end + 1, header.size() - end - 2));
    const std::string& t = spec.type_name;
    const bool takes_arg = t == "binary" || t == "date" || t == "date_go" || t == "date_ms" || t == "date_oracle";
    if (t == "auto")
      spec.type = ColumnType::kAuto;
    else if (t == "binary")
      spec.type = ColumnType::kBinary;
    else if (t == "boolean")
      spec.type = ColumnType::kBoolean;
    else if (takes_arg)
      spec.type = ColumnType::kDate;
    else if (t == "decimal")
      spec.type = ColumnType::kDecimal;
    else if (t == "double")
      spec.type = ColumnType::kDouble;
    else if (t == "int32")
      spec.type = ColumnType::kInt32;
    else if (t == "int64")
      spec.type = ColumnType::kInt64;
    else if (t == "string")
      spec.type = ColumnType::kString;
    else
      throw TransferError("invalid type \"" + t + "\" in the field \"" + header +
                          "\" (types: auto, binary, boolean, date, date_go, date_ms, date_oracle, decimal, double, "
                          "int32, int64, string)");
    if (!takes_arg && !arg.empty())
      throw TransferError("type " + t + " takes no argument (in the field \"" + header + "\")");
    if (t == "binary" && arg != "base64" && arg != "base32" && arg != "hex")
      throw TransferError("invalid binary encoding \"" + arg + "\" in the field \"" + header +
                          "\" (base64, base32 or hex)");
    if (t == "date_ms") arg = GoLayoutFromMs(arg);
    if (t == "date_oracle") arg = GoLayoutFromOracle(arg);
    spec.arg = arg;
    return spec;
  }
  throw TransferError("could not parse a type from the field \"" + header + "\" (expected name.type(arg))");
}

}  // namespace

std::optional<ParseGrace> ParseGraceNamed(const std::string& name) {
  if (name == "autoCast") return ParseGrace::kAutoCast;
  if (name == "skipField") return ParseGrace::kSkipField;
  if (name == "skipRow") return ParseGrace::kSkipRow;
  if (name == "stop") return ParseGrace::kStop;
  return std::nullopt;
}

void AppendCell(bson_t* doc, const std::string& key, const CellValue& v) {
  const char* k = key.c_str();
  const int kl = static_cast<int>(key.size());
  switch (v.kind) {
    case CellValue::Kind::kString:
      bson_append_utf8(doc, k, kl, v.text.data(), static_cast<int>(v.text.size()));
      break;
    case CellValue::Kind::kInt32:
      bson_append_int32(doc, k, kl, static_cast<int32_t>(v.integer));
      break;
    case CellValue::Kind::kInt64:
      bson_append_int64(doc, k, kl, v.integer);
      break;
    case CellValue::Kind::kDouble:
      bson_append_double(doc, k, kl, v.number);
      break;
    case CellValue::Kind::kBool:
      bson_append_bool(doc, k, kl, v.integer != 0);
      break;
    case CellValue::Kind::kDate:
      bson_append_date_time(doc, k, kl, v.integer);
      break;
    case CellValue::Kind::kDecimal:
      bson_append_decimal128(doc, k, kl, &v.decimal);
      break;
    case CellValue::Kind::kBinary:
      bson_append_binary(doc, k, kl, BSON_SUBTYPE_BINARY, reinterpret_cast<const uint8_t*>(v.text.data()),
                         static_cast<uint32_t>(v.text.size()));
      break;
  }
}

std::vector<std::string> SplitFieldList(const std::string& list) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  for (char c : list) {
    if (c == '(')
      ++depth;
    else if (c == ')' && depth > 0)
      --depth;
    if (c == ',' && depth == 0) {
      out.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  out.push_back(current);
  return out;
}

std::vector<std::string> ReadFieldFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw TransferError("cannot read the field file " + path + ": " + std::strerror(errno));
  std::vector<std::string> fields;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) fields.push_back(line);
  }
  return fields;
}

std::vector<ColumnSpec> AutoColumns(const std::vector<std::string>& names) {
  std::vector<ColumnSpec> out;
  for (const std::string& name : names) {
    ColumnSpec spec;
    spec.name = name;
    spec.parts = SplitDots(name);
    out.push_back(std::move(spec));
  }
  return out;
}

std::vector<ColumnSpec> TypedColumns(const std::vector<std::string>& names) {
  std::vector<ColumnSpec> out;
  for (const std::string& name : names) out.push_back(TypedColumn(name));
  return out;
}

bool ParseGoInt(const std::string& text, int bits, int64_t* out) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  if (i == text.size()) return false;
  uint64_t magnitude = 0;
  const uint64_t limit = negative ? (uint64_t{1} << (bits - 1)) : (uint64_t{1} << (bits - 1)) - 1;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (magnitude > (limit - digit) / 10) return false;  // out of range
    magnitude = magnitude * 10 + digit;
  }
  *out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

bool ParseGoFloat(const std::string& text, double* out) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string rest = text.substr(i);
  std::string lower;
  for (char c : rest) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "inf" || lower == "infinity") {
    *out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan" && i == 0) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const bool hex = lower.size() > 2 && lower[0] == '0' && lower[1] == 'x';
  std::string digits;
  if (rest.find('_') != std::string::npos) {
    if (!StripUnderscores(rest, hex, &digits)) return false;
  } else {
    digits = rest;
  }
  if (hex) {
    digits = digits.substr(2);
    // Go requires the binary exponent of a hexadecimal float.
    if (digits.find_first_of("pP") == std::string::npos || digits.empty() ||
        !(IsHexDigit(digits[0]) || digits[0] == '.'))
      return false;
  } else if (digits.empty() || !(IsDigit(digits[0]) || digits[0] == '.')) {
    return false;
  }
  double value = 0;
  const char* begin = digits.data();
  const char* end = begin + digits.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value, hex ? std::chars_format::hex : std::chars_format::general);
  if (ptr != end) return false;
  if (ec == std::errc::result_out_of_range) {
    // Go refuses only overflow; an underflow reads as zero or a subnormal.
    const std::string c_text = (hex ? "0x" : "") + digits;
    errno = 0;
    value = std::strtod(c_text.c_str(), nullptr);
    if (std::isinf(value)) return false;
  } else if (ec != std::errc()) {
    return false;
  }
  *out = negative ? -value : value;
  return true;
}

CellValue AutoValue(const std::string& text) {
  CellValue v;
  int64_t integer;
  double number;
  if (ParseGoInt(text, 64, &integer)) {
    const bool fits32 =
        integer >= std::numeric_limits<int32_t>::min() && integer <= std::numeric_limits<int32_t>::max();
    v.kind = fits32 ? CellValue::Kind::kInt32 : CellValue::Kind::kInt64;
    v.integer = integer;
  } else if (ParseGoFloat(text, &number)) {
    v.kind = CellValue::Kind::kDouble;
    v.number = number;
  } else {
    v.text = text;
  }
  return v;
}

bool ParseCell(const ColumnSpec& column, const std::string& text, CellValue* out, std::string* why) {
  bool ok = true;
  *out = CellValue();
  switch (column.type) {
    case ColumnType::kAuto:
      *out = AutoValue(text);
      return true;
    case ColumnType::kString:
      out->text = text;
      return true;
    case ColumnType::kInt32:
    case ColumnType::kInt64:
      out->kind = column.type == ColumnType::kInt32 ? CellValue::Kind::kInt32 : CellValue::Kind::kInt64;
      ok = ParseGoInt(text, column.type == ColumnType::kInt32 ? 32 : 64, &out->integer);
      break;
    case ColumnType::kDouble:
      out->kind = CellValue::Kind::kDouble;
      ok = ParseGoFloat(text, &out->number);
      break;
    case ColumnType::kBoolean: {
      std::string lower;
      for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      out->kind = CellValue::Kind::kBool;
      out->integer = lower == "true" || text == "1";
      ok = out->integer != 0 || lower == "false" || text == "0";
      break;
    }
    case ColumnType::kDecimal:
      out->kind = CellValue::Kind::kDecimal;
      ok = bson_decimal128_from_string(text.c_str(), &out->decimal);
      break;
    case ColumnType::kBinary:
      out->kind = CellValue::Kind::kBinary;
      ok = column.arg == "hex" ? DecodeHex(text, &out->text)
                               : DecodeBaseN(text, column.arg == "base64" ? 6 : 5, &out->text);
      break;
    case ColumnType::kDate: {
      out->kind = CellValue::Kind::kDate;
      std::string error;
      if (!ParseGoTime(column.arg, text, &out->integer, &error)) {
        *why = "could not parse \"" + text + "\" as " + column.type_name + " for the field \"" + column.name +
               "\": " + error;
        return false;
      }
      return true;
    }
  }
  if (!ok) {
    std::string type = column.type_name;
    if (column.type == ColumnType::kBinary) type += "(" + column.arg + ")";
    *why = "could not parse \"" + text + "\" as " + type + " for the field \"" + column.name + "\"";
  }
  return ok;
}

}  // namespace docket::transfer
