// String expressions: $concat $toLower $toUpper $substr $substrBytes
// $substrCP $strLenBytes $strLenCP $split $strcasecmp $indexOfBytes
// $indexOfCP $trim $ltrim $rtrim $replaceOne $replaceAll $regexMatch
// $regexFind $regexFindAll. Case mapping is ASCII-only and positions count
// bytes or code points, as in MongoDB.
#include <algorithm>
#include <memory>

#include "expr/ops.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace docket::expr {
namespace {

std::string T(const Value& v) { return TypeName(v); }

Result<Value> Concat(const Args& args, Variables&) {
  std::string out;
  for (const Value& v : args) {
    if (v.is_nullish()) return Value::Null();
    if (!v.is_string()) return Err(16702, "$concat only supports strings, not " + T(v));
    out.append(v.AsString());
  }
  return Value::String(out);
}

template <bool Upper>
Result<Value> ChangeCase(const Args& args, Variables&) {
  auto s = CoerceToString(args[0], Upper ? "$toUpper" : "$toLower");
  if (!s.ok()) return s.status();
  return Value::String(Upper ? text::AsciiUpper(*s) : text::AsciiLower(*s));
}

Result<Value> SubstrBytes(const Args& args, Variables&) {
  auto s = CoerceToString(args[0], "$substrBytes");
  if (!s.ok()) return s.status();
  if (!args[1].is_number()) {
    return Err(16034, "$substrBytes: starting index must be a numeric type (is BSON type " + T(args[1]) + ")");
  }
  if (!args[2].is_number()) {
    return Err(16035, "$substrBytes: length must be a numeric type (is BSON type " + T(args[2]) + ")");
  }
  int64_t start = args[1].AsInt64(), length = args[2].AsInt64();
  const std::string& str = *s;
  if (start < 0 || static_cast<size_t>(start) >= str.size()) return Value::String("");
  size_t begin = static_cast<size_t>(start);
  size_t end = length < 0 ? str.size() : std::min(str.size(), begin + static_cast<size_t>(length));
  if (text::IsContinuationByte(str[begin])) {
    return Err(28656, "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.");
  }
  if (end < str.size() && text::IsContinuationByte(str[end])) {
    return Err(28657, "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.");
  }
  return Value::String(std::string_view(str).substr(begin, end - begin));
}

Result<Value> SubstrCP(const Args& args, Variables&) {
  auto s = CoerceToString(args[0], "$substrCP");
  if (!s.ok()) return s.status();
  int32_t start = 0, length = 0;
  if (!args[1].is_number()) {
    return Err(34450, "$substrCP: starting index must be a numeric type (is BSON type " + T(args[1]) + ")");
  }
  if (!AsInt32(args[1], &start)) {
    return Err(34451, "$substrCP: starting index cannot be represented as a 32-bit integral value: " + args[1].ToJson());
  }
  if (!args[2].is_number()) {
    return Err(34452, "$substrCP: length must be a numeric type (is BSON type " + T(args[2]) + ")");
  }
  if (!AsInt32(args[2], &length)) {
    return Err(34453, "$substrCP: length cannot be represented as a 32-bit integral value: " + args[2].ToJson());
  }
  if (length < 0) return Err(34454, "$substrCP: length must be a nonnegative integer.");
  if (start < 0) return Err(34455, "$substrCP: the starting index must be nonnegative integer.");
  size_t begin = text::CodePointOffset(*s, static_cast<size_t>(start));
  size_t end = text::CodePointOffset(*s, static_cast<size_t>(start) + static_cast<size_t>(length));
  return Value::String(std::string_view(*s).substr(begin, end - begin));
}

template <bool CodePoints>
Result<Value> StrLen(const Args& args, Variables&) {
  if (!args[0].is_string()) {
    return CodePoints ? Err(34471, "$strLenCP requires a string argument, found: " + T(args[0]))
                      : Err(34473, "$strLenBytes requires a string argument, found: " + T(args[0]));
  }
  std::string_view s = args[0].AsString();
  return Value::Integer(static_cast<int64_t>(CodePoints ? text::CodePointCount(s) : s.size()));
}

Result<Value> Split(const Args& args, Variables&) {
  if (args[0].is_nullish() || args[1].is_nullish()) return Value::Null();
  if (!args[0].is_string()) {
    return Err(40085, "$split requires an expression that evaluates to a string as a first argument, found: " + T(args[0]));
  }
  if (!args[1].is_string()) {
    return Err(40086, "$split requires an expression that evaluates to a string as a second argument, found: " + T(args[1]));
  }
  std::string_view s = args[0].AsString(), sep = args[1].AsString();
  if (sep.empty()) return Err(40087, "$split requires a non-empty separator");
  ArrayBuilder out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.Append(Value::String(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) break;
    start = at + sep.size();
  }
  return out.Finish();
}

Result<Value> StrCaseCmp(const Args& args, Variables&) {
  auto a = CoerceToString(args[0], "$strcasecmp");
  if (!a.ok()) return a.status();
  auto b = CoerceToString(args[1], "$strcasecmp");
  if (!b.ok()) return b.status();
  int c = text::AsciiLower(*a).compare(text::AsciiLower(*b));
  return Value::Int32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

template <bool CodePoints>
Result<Value> IndexOf(const Args& args, Variables&) {
  const char* op = CodePoints ? "$indexOfCP" : "$indexOfBytes";
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_string()) return Err(CodePoints ? 40093 : 40091, std::string(op) + " requires a string as the first argument, found: " + T(args[0]));
  if (!args[1].is_string()) return Err(CodePoints ? 40094 : 40092, std::string(op) + " requires a string as the second argument, found: " + T(args[1]));
  std::string_view s = args[0].AsString(), sub = args[1].AsString();
  const size_t length = CodePoints ? text::CodePointCount(s) : s.size();
  int64_t bounds[2] = {0, static_cast<int64_t>(length)};
  for (size_t i = 2; i < args.size(); ++i) {
    if (!AsWholeInt64(args[i], &bounds[i - 2])) {
      return Err(40096, std::string(op) + " requires an integral " + (i == 2 ? "starting" : "ending") +
                            " index, found a value of type: " + T(args[i]) + ", with value: " + args[i].ToJson());
    }
    if (bounds[i - 2] < 0) {
      return Err(40097, std::string(op) + " requires a nonnegative " + (i == 2 ? "start" : "ending") +
                            " index, found: " + args[i].ToJson());
    }
  }
  int64_t start = bounds[0], end = std::min<int64_t>(bounds[1], static_cast<int64_t>(length));
  if (start > end) return Value::Int32(-1);
  size_t byte_start = CodePoints ? text::CodePointOffset(s, start) : static_cast<size_t>(start);
  size_t byte_end = CodePoints ? text::CodePointOffset(s, end) : static_cast<size_t>(end);
  size_t at = s.substr(0, byte_end).find(sub, byte_start);
  if (at == std::string_view::npos) return Value::Int32(-1);
  return Value::Integer(static_cast<int64_t>(CodePoints ? text::CodePointIndex(s, at) : at));
}

// ---- $trim, $ltrim, $rtrim ----

// The code points MongoDB trims by default: ASCII and Unicode whitespace, NUL.
const std::vector<std::string>& DefaultTrimChars() {
  static const std::vector<std::string> chars = {
      std::string(1, '\0'), " ", "\t", "\n", "\v", "\f", "\r", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002",
      "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f",
      "\u205f", "\u3000"};
  return chars;
}

std::vector<std::string> CodePoints(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t next = i + 1;
    while (next < s.size() && text::IsContinuationByte(s[next])) ++next;
    out.emplace_back(s.substr(i, next - i));
    i = next;
  }
  return out;
}

class TrimExpr : public Expression {
 public:
  TrimExpr(std::string op, bool left, bool right, ExprPtr input, ExprPtr chars)
      : op_(std::move(op)), left_(left), right_(right), input_(std::move(input)), chars_(std::move(chars)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (input->is_nullish()) return Value::Null();
    if (!input->is_string()) return Err(50699, op_ + " requires its input to be a string, got " + input->ToJson() + " (of type " + T(*input) + ") instead.");
    std::vector<std::string> chars = DefaultTrimChars();
    if (chars_) {
      auto c = chars_->Evaluate(vars);
      if (!c.ok()) return c.status();
      if (c->is_nullish()) return Value::Null();
      if (!c->is_string()) return Err(50700, op_ + " requires 'chars' to be a string, got " + c->ToJson() + " (of type " + T(*c) + ") instead.");
      chars = CodePoints(c->AsString());
    }
    std::string_view s = input->AsString();
    auto starts_with_any = [&](std::string_view x, bool at_end) -> size_t {
      for (const std::string& ch : chars) {
        if (ch.empty() || ch.size() > x.size()) continue;
        if (at_end ? x.substr(x.size() - ch.size()) == ch : x.substr(0, ch.size()) == ch) return ch.size();
      }
      return 0;
    };
    while (left_ && !s.empty()) {
      size_t n = starts_with_any(s, false);
      if (n == 0) break;
      s.remove_prefix(n);
    }
    while (right_ && !s.empty()) {
      size_t n = starts_with_any(s, true);
      if (n == 0) break;
      s.remove_suffix(n);
    }
    return Value::String(s);
  }

 private:
  std::string op_;
  bool left_, right_;
  ExprPtr input_, chars_;
};

Result<ExprPtr> ParseTrim(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "chars"}, 50696, 50694);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  if (!*input) return Err(50695, std::string(name) + " requires an 'input' field");
  auto chars = ParseNamed(*named, "chars", scope);
  if (!chars.ok()) return chars.status();
  bool left = name != "$rtrim", right = name != "$ltrim";
  return ExprPtr(std::make_unique<TrimExpr>(std::string(name), left, right, std::move(input).value(),
                                            std::move(chars).value()));
}

// ---- $replaceOne, $replaceAll ----

class ReplaceExpr : public Expression {
 public:
  ReplaceExpr(std::string op, bool all, ExprPtr input, ExprPtr find, ExprPtr replacement)
      : op_(std::move(op)), all_(all), input_(std::move(input)), find_(std::move(find)), replacement_(std::move(replacement)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    Value v[3];
    const Expression* parts[3] = {input_.get(), find_.get(), replacement_.get()};
    const char* names[3] = {"input", "find", "replacement"};
    const int codes[3] = {51746, 51745, 51744};
    bool null = false;
    for (int i = 0; i < 3; ++i) {
      auto r = parts[i]->Evaluate(vars);
      if (!r.ok()) return r.status();
      v[i] = std::move(r).value();
      if (v[i].is_nullish()) {
        null = true;
      } else if (!v[i].is_string()) {
        return Err(codes[i], op_ + " requires that '" + names[i] + "' be a string, found: " + v[i].ToJson());
      }
    }
    if (null) return Value::Null();
    std::string s(v[0].AsString());
    std::string_view find = v[1].AsString(), with = v[2].AsString();
    if (find.empty()) {
      // "" matches before every code point and at the end.
      if (!all_) return Value::String(std::string(with) + s);
      std::string out(with);
      for (const std::string& cp : CodePoints(s)) out.append(cp).append(with);
      return Value::String(out);
    }
    std::string out;
    size_t start = 0;
    for (size_t at = s.find(find); at != std::string::npos; at = s.find(find, start)) {
      out.append(s, start, at - start).append(with);
      start = at + find.size();
      if (!all_) break;
    }
    out.append(s, start, std::string::npos);
    return Value::String(out);
  }

 private:
  std::string op_;
  bool all_;
  ExprPtr input_, find_, replacement_;
};

Result<ExprPtr> ParseReplace(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "find", "replacement"}, 51751, 51750);
  if (!named.ok()) return named.status();
  ExprPtr parts[3];
  const char* keys[3] = {"input", "find", "replacement"};
  for (int i = 0; i < 3; ++i) {
    auto e = ParseNamed(*named, keys[i], scope);
    if (!e.ok()) return e.status();
    if (!*e) return Err(51749 - i, std::string(name) + " requires '" + keys[i] + "' to be specified");
    parts[i] = std::move(e).value();
  }
  return ExprPtr(std::make_unique<ReplaceExpr>(std::string(name), name == "$replaceAll", std::move(parts[0]),
                                               std::move(parts[1]), std::move(parts[2])));
}

// ---- $regexMatch, $regexFind, $regexFindAll ----

enum class RegexOp { kMatch, kFind, kFindAll };

class RegexExpr : public Expression {
 public:
  RegexExpr(std::string op, RegexOp kind, ExprPtr input, ExprPtr regex, ExprPtr options,
            std::shared_ptr<const text::Regex> constant)
      : op_(std::move(op)), kind_(kind), input_(std::move(input)), regex_(std::move(regex)),
        options_(std::move(options)), constant_(std::move(constant)) {}

  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    std::shared_ptr<const text::Regex> regex = constant_;
    if (!regex) {
      auto compiled = Compile(vars);
      if (!compiled.ok()) return compiled.status();
      regex = std::move(compiled).value();
    }
    if (input->is_nullish() || !regex) return NoMatch();
    if (!input->is_string()) return Err(51104, op_ + " needs 'input' to be of type string");
    std::string_view s = input->AsString();
    std::vector<text::Regex::Span> groups;
    Status error;
    if (kind_ == RegexOp::kMatch) {
      const bool found = regex->Find(s, 0, &groups, &error);
      if (!error.ok()) return error;
      return Value::Bool(found);
    }
    ArrayBuilder all;
    size_t start = 0;
    while (start <= s.size() && regex->Find(s, start, &groups, &error)) {
      Value found = MatchDocument(s, groups);
      if (kind_ == RegexOp::kFind) return found;
      all.Append(found);
      size_t end = groups[0].end;
      if (end == groups[0].begin) {  // an empty match: step one code point
        ++end;
        while (end < s.size() && text::IsContinuationByte(s[end])) ++end;
      }
      start = end;
    }
    if (!error.ok()) return error;
    if (kind_ == RegexOp::kFind) return Value::Null();
    return all.Finish();
  }

  // Compiles the regex and options values; a null regex gives nullptr.
  Result<std::shared_ptr<const text::Regex>> Compile(Variables& vars) const {
    auto regex = regex_->Evaluate(vars);
    if (!regex.ok()) return regex.status();
    Value options;
    if (options_) {
      auto o = options_->Evaluate(vars);
      if (!o.ok()) return o.status();
      options = std::move(o).value();
    }
    return CompileValues(op_, *regex, options);
  }

  static Result<std::shared_ptr<const text::Regex>> CompileValues(const std::string& op, const Value& regex,
                                                                   const Value& options) {
    if (!options.is_nullish() && !options.is_string()) return Err(51106, op + " needs 'options' to be of type string");
    if (regex.is_nullish()) return std::shared_ptr<const text::Regex>();
    std::string pattern, flags = options.is_string() ? std::string(options.AsString()) : std::string();
    if (regex.type() == BSON_TYPE_REGEX) {
      bson_iter_t it;
      regex.Iter(&it);
      const char* own_flags = nullptr;
      pattern = bson_iter_regex(&it, &own_flags);
      if (own_flags != nullptr && *own_flags != '\0') {
        if (!flags.empty()) return Err(51107, op + " found regex option(s) specified in both 'regex' and 'option' fields");
        flags = own_flags;
      }
    } else if (regex.is_string()) {
      pattern = std::string(regex.AsString());
    } else {
      return Err(51105, op + " needs 'regex' to be of type string or regex");
    }
    auto compiled = text::Regex::Compile(pattern, flags);
    if (!compiled.ok()) {
      if (compiled.status().code() == ErrorCode::kInvalidRegex) {
        return Err(51111, "Invalid Regex in " + op + ": " + compiled.status().message());
      }
      return compiled.status();
    }
    return std::make_shared<const text::Regex>(std::move(compiled).value());
  }

 private:
  Value NoMatch() const {
    switch (kind_) {
      case RegexOp::kMatch: return Value::Bool(false);
      case RegexOp::kFind: return Value::Null();
      case RegexOp::kFindAll: return ArrayBuilder().Finish();
    }
    return Value::Null();
  }

  static Value MatchDocument(std::string_view s, const std::vector<text::Regex::Span>& groups) {
    DocumentBuilder doc;
    doc.Append("match", Value::String(s.substr(groups[0].begin, groups[0].end - groups[0].begin)));
    doc.Append("idx", Value::Integer(static_cast<int64_t>(text::CodePointIndex(s, groups[0].begin))));
    ArrayBuilder captures;
    for (size_t i = 1; i < groups.size(); ++i) {
      if (groups[i].begin == std::string_view::npos) {
        captures.Append(Value::Null());
      } else {
        captures.Append(Value::String(s.substr(groups[i].begin, groups[i].end - groups[i].begin)));
      }
    }
    doc.Append("captures", captures.Finish());
    return doc.Finish();
  }

  std::string op_;
  RegexOp kind_;
  ExprPtr input_, regex_, options_;
  std::shared_ptr<const text::Regex> constant_;  // when regex and options are literals
};

Result<ExprPtr> ParseRegex(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return Err(51103, std::string(name) + " expects an object of named arguments but found: " + TypeName(Value::Borrow(arg)));
  }
  auto named = ReadNamedArgs(name, arg, {"input", "regex", "options"}, 51103, 31024);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  if (!*input) return Err(31022, std::string(name) + " requires 'input' parameter");
  auto regex = ParseNamed(*named, "regex", scope);
  if (!regex.ok()) return regex.status();
  if (!*regex) return Err(31023, std::string(name) + " requires 'regex' parameter");
  auto options = ParseNamed(*named, "options", scope);
  if (!options.ok()) return options.status();
  RegexOp kind = name == "$regexMatch" ? RegexOp::kMatch : name == "$regexFind" ? RegexOp::kFind : RegexOp::kFindAll;
  std::shared_ptr<const text::Regex> constant;
  if ((*regex)->IsConstant() && (!*options || (*options)->IsConstant())) {
    Variables none;
    auto r = (*regex)->Evaluate(none);
    Value o;
    if (*options) o = *(*options)->Evaluate(none);
    auto compiled = RegexExpr::CompileValues(std::string(name), *r, o);
    if (!compiled.ok()) return compiled.status();
    constant = std::move(compiled).value();
  }
  return ExprPtr(std::make_unique<RegexExpr>(std::string(name), kind, std::move(input).value(), std::move(regex).value(),
                                             std::move(options).value(), std::move(constant)));
}

constexpr FunctionEntry kFunctions[] = {
    {"$concat", 0, -1, Concat},
    {"$toLower", 1, 1, ChangeCase<false>},
    {"$toUpper", 1, 1, ChangeCase<true>},
    {"$substr", 3, 3, SubstrBytes},
    {"$substrBytes", 3, 3, SubstrBytes},
    {"$substrCP", 3, 3, SubstrCP},
    {"$strLenBytes", 1, 1, StrLen<false>},
    {"$strLenCP", 1, 1, StrLen<true>},
    {"$split", 2, 2, Split},
    {"$strcasecmp", 2, 2, StrCaseCmp},
    {"$indexOfBytes", 2, 4, IndexOf<false>},
    {"$indexOfCP", 2, 4, IndexOf<true>},
};

constexpr SpecialEntry kSpecials[] = {
    {"$trim", ParseTrim},           {"$ltrim", ParseTrim},          {"$rtrim", ParseTrim},
    {"$replaceOne", ParseReplace},  {"$replaceAll", ParseReplace},  {"$regexMatch", ParseRegex},
    {"$regexFind", ParseRegex},     {"$regexFindAll", ParseRegex},
};

}  // namespace

std::span<const FunctionEntry> StringFunctions() { return kFunctions; }
std::span<const SpecialEntry> StringSpecials() { return kSpecials; }

}  // namespace docket::expr
