// Array expressions: $size $arrayElemAt $first $last $concatArrays $in
// $indexOfArray $isArray $reverseArray $range $slice $arrayToObject
// $objectToArray $allElementsTrue $anyElementTrue, the set operators, the
// accumulators used as expressions ($sum $avg $min $max $stdDevPop
// $stdDevSamp), and the iterating forms $map $filter $reduce $sortArray $zip.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "expr/arith.h"
#include "expr/ops.h"
#include "query/sort.h"

namespace docket::expr {
namespace {

std::string T(const Value& v) { return TypeName(v); }

Result<Value> Size(const Args& args, Variables&) {
  if (!args[0].is_array()) return Err(17124, "The argument to $size must be an array. Type of argument is " + T(args[0]));
  return Value::Integer(static_cast<int64_t>(args[0].ArrayLength()));
}

// The element at `index` (negative counts from the end), or missing.
Value ElementAt(const Value& array, int64_t index) {
  std::vector<Value> items = Elements(array);
  const auto n = static_cast<int64_t>(items.size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) return Value();
  return items[static_cast<size_t>(index)];
}

Result<Value> ArrayElemAt(const Args& args, Variables&) {
  if (args[0].is_nullish() || args[1].is_nullish()) return Value::Null();
  if (!args[0].is_array()) return Err(28689, "$arrayElemAt's first argument must be an array, but is " + T(args[0]));
  if (!args[1].is_number()) return Err(28690, "$arrayElemAt's second argument must be a numeric value, but is " + T(args[1]));
  int32_t index = 0;
  if (!AsInt32(args[1], &index)) {
    return Err(28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: " + args[1].ToJson());
  }
  return ElementAt(args[0], index);
}

template <bool Last>
Result<Value> FirstOrLast(const Args& args, Variables&) {
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_array()) {
    return Err(28689, std::string(Last ? "$last" : "$first") + "'s argument must be an array, but is " + T(args[0]));
  }
  return ElementAt(args[0], Last ? -1 : 0);
}

Result<Value> ConcatArrays(const Args& args, Variables&) {
  ArrayBuilder out;
  for (const Value& v : args) {
    if (v.is_nullish()) return Value::Null();
    if (!v.is_array()) return Err(28664, "$concatArrays only supports arrays, not " + T(v));
    ForEachElement(v, [&](const Value& e) {
      out.Append(e);
      return true;
    });
  }
  return out.Finish();
}

Result<Value> In(const Args& args, Variables& vars) {
  if (!args[1].is_array()) return Err(40081, "$in requires an array as a second argument, found: " + T(args[1]));
  bool found = false;
  ForEachElement(args[1], [&](const Value& e) {
    found = Equal(e, args[0], vars.strings());
    return !found;
  });
  return Value::Bool(found);
}

Result<Value> IndexOfArray(const Args& args, Variables& vars) {
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_array()) return Err(40090, "$indexOfArray requires an array as a first argument, found: " + T(args[0]));
  std::vector<Value> items = Elements(args[0]);
  int64_t bounds[2] = {0, static_cast<int64_t>(items.size())};
  for (size_t i = 2; i < args.size(); ++i) {
    if (!AsWholeInt64(args[i], &bounds[i - 2])) {
      return Err(40096, "$indexOfArray requires an integral " + std::string(i == 2 ? "starting" : "ending") +
                            " index, found a value of type: " + T(args[i]) + ", with value: " + args[i].ToJson());
    }
    if (bounds[i - 2] < 0) {
      return Err(40097, "$indexOfArray requires a nonnegative " + std::string(i == 2 ? "starting" : "ending") +
                            " index, found: " + args[i].ToJson());
    }
  }
  int64_t end = std::min<int64_t>(bounds[1], static_cast<int64_t>(items.size()));
  for (int64_t i = bounds[0]; i < end; ++i) {
    if (Equal(items[static_cast<size_t>(i)], args[1], vars.strings())) return Value::Integer(i);
  }
  return Value::Int32(-1);
}

Result<Value> IsArray(const Args& args, Variables&) { return Value::Bool(args[0].is_array()); }

Result<Value> ReverseArray(const Args& args, Variables&) {
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_array()) return Err(34435, "The argument to $reverseArray must be an array, but was of type: " + T(args[0]));
  std::vector<Value> items = Elements(args[0]);
  std::reverse(items.begin(), items.end());
  return MakeArray(items);
}

Result<Value> Range(const Args& args, Variables&) {
  int32_t v[3] = {0, 0, 1};
  const char* what[3] = {"starting value", "ending value", "step value"};
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_number()) {
      return Err(34443 + 2 * static_cast<int>(i), std::string("$range requires a numeric ") + what[i] + ", found value of type: " + T(args[i]));
    }
    if (!AsInt32(args[i], &v[i])) {
      return Err(34444 + 2 * static_cast<int>(i), std::string("$range requires a ") + what[i] + " that can be represented as a 32-bit integer, found value: " + args[i].ToJson());
    }
  }
  if (v[2] == 0) return Err(34449, "$range requires a non-zero step value");
  const int64_t start = v[0], end = v[1], step = v[2];
  // MongoDB's bound (internalQueryMaxRangeBytes, 100 MB), checked before
  // building anything, with its estimate: 16 bytes an element (its overcount
  // of one included) and 24 for the vector.
  const int64_t steps = (end - start) / step;
  const int64_t mem_needed = 24 + (steps >= 0 ? 1 + steps : 0) * 16;
  constexpr int64_t kMaxRangeBytes = 100 * 1024 * 1024;
  if (mem_needed >= kMaxRangeBytes) {
    return Err(146, "$range would use too much memory (" + std::to_string(mem_needed) +
                        " bytes) and cannot spill to disk. Memory limit: " + std::to_string(kMaxRangeBytes) + " bytes");
  }
  // Docket's values are BSON, so an array is at most 16 MiB, as a document
  // holding it would have to be: its exact size is known before it is built.
  const int64_t count = step > 0 ? (end > start ? (end - start + step - 1) / step : 0)
                                 : (start > end ? (start - end - step - 1) / -step : 0);
  int64_t array_bytes = 5;  // length and terminator
  for (int64_t digits = 1, low = 0, high = 10; low < count; ++digits, low = high, high *= 10) {
    array_bytes += (std::min(count, high) - low) * (6 + digits);  // type, key, NUL, int32
  }
  if (static_cast<size_t>(array_bytes) > kMaxDocumentSize) {
    return Err(10334, "$range result exceeds 16MB: " + std::to_string(count) + " elements, " +
                          std::to_string(array_bytes) + " bytes");
  }
  // Written straight into a held {"": [...]}: one allocation, not one a
  // element (a 16 MiB range is over a million of them).
  const auto holder_bytes = static_cast<uint32_t>(4 + 2 + array_bytes + 1);
  const auto array_len = static_cast<uint32_t>(array_bytes);
  std::string held(holder_bytes, '\0');
  char* p = held.data();
  std::memcpy(p, &holder_bytes, 4);  // BSON is little-endian, as is x86-64
  p[4] = static_cast<char>(BSON_TYPE_ARRAY);
  p += 6;  // type and the empty key
  std::memcpy(p, &array_len, 4);
  p += 4;
  char key[16] = "0";  // the element's index in decimal, counted up in place
  size_t key_len = 1;
  int64_t x = start;
  for (int64_t i = 0; i < count; ++i, x += step) {
    *p++ = static_cast<char>(BSON_TYPE_INT32);
    std::memcpy(p, key, key_len);
    p += key_len;
    *p++ = '\0';
    const auto element = static_cast<int32_t>(x);
    std::memcpy(p, &element, 4);
    p += 4;
    size_t digit = key_len;
    while (digit > 0 && key[digit - 1] == '9') key[--digit] = '0';
    if (digit == 0) {
      std::memmove(key + 1, key, key_len++);
      key[0] = '1';
    } else {
      ++key[digit - 1];
    }
  }
  // The array's terminator and the holder's are the zeros already there.
  return Value::FromHeld(std::move(held));
}

Result<Value> Slice(const Args& args, Variables&) {
  for (const Value& v : args) {
    if (v.is_nullish()) return Value::Null();
  }
  if (!args[0].is_array()) return Err(28724, "First argument to $slice must be an array, but is of type: " + T(args[0]));
  std::vector<Value> items = Elements(args[0]);
  const auto n = static_cast<int64_t>(items.size());
  int32_t second = 0, third = 0;
  if (!args[1].is_number() || !AsInt32(args[1], &second)) {
    return Err(28725, "Second argument to $slice must be a numeric value, but is of type: " + T(args[1]));
  }
  int64_t begin = 0, end = n;
  if (args.size() == 2) {
    if (second >= 0) end = std::min<int64_t>(second, n);
    else begin = std::max<int64_t>(0, n + second);
  } else {
    if (!args[2].is_number() || !AsInt32(args[2], &third)) {
      return Err(28727, "Third argument to $slice must be numeric, but is of type: " + T(args[2]));
    }
    if (third <= 0) return Err(28729, "Third argument to $slice must be positive: " + args[2].ToJson());
    begin = second >= 0 ? std::min<int64_t>(second, n) : std::max<int64_t>(0, n + second);
    end = std::min<int64_t>(n, begin + third);
  }
  return MakeArray(std::vector<Value>(items.begin() + begin, items.begin() + end));
}

Result<Value> ArrayToObject(const Args& args, Variables&) {
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_array()) return Err(40386, "$arrayToObject requires an array input, found: " + T(args[0]));
  std::vector<std::pair<std::string, Value>> fields;
  Status error;
  int format = 0;  // 1: [k, v] pairs; 2: {k, v} documents
  ForEachElement(args[0], [&](const Value& e) {
    std::string key;
    Value value;
    if (e.is_array()) {
      if (format == 2) { error = Err(40391, "$arrayToObject requires a consistent input format."); return false; }
      format = 1;
      std::vector<Value> pair = Elements(e);
      if (pair.size() != 2) { error = Err(40397, "$arrayToObject requires an array of size 2 arrays"); return false; }
      if (!pair[0].is_string()) { error = Err(40395, "$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: " + T(pair[0])); return false; }
      key = std::string(pair[0].AsString());
      value = pair[1];
    } else if (e.is_document()) {
      if (format == 1) { error = Err(40391, "$arrayToObject requires a consistent input format."); return false; }
      format = 2;
      std::vector<std::pair<std::string, Value>> kv;
      ForEachElement(e, [&](const Value& f) {
        bson_iter_t it;
        f.Iter(&it);
        kv.emplace_back(bson_iter_key(&it), f);
        return true;
      });
      if (kv.size() != 2 || kv[0].first != "k" || kv[1].first != "v") {
        error = Err(40392, "$arrayToObject requires an object keys of 'k' and 'v'.");
        return false;
      }
      if (!kv[0].second.is_string()) { error = Err(40394, "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' must be of type string. Found type: " + T(kv[0].second)); return false; }
      key = std::string(kv[0].second.AsString());
      value = kv[1].second;
    } else {
      error = Err(40398, "Unrecognised input type format for $arrayToObject: " + T(e));
      return false;
    }
    if (key.find('\0') != std::string::npos) { error = Err(4940401, "Key field cannot contain an embedded null byte"); return false; }
    for (auto& f : fields) {
      if (f.first == key) { f.second = value; return true; }  // the last value wins, in the first position
    }
    fields.emplace_back(std::move(key), value);
    return true;
  });
  if (!error.ok()) return error;
  DocumentBuilder out;
  for (const auto& [k, v] : fields) out.Append(k, v);
  return out.Finish();
}

Result<Value> ObjectToArray(const Args& args, Variables&) {
  if (args[0].is_nullish()) return Value::Null();
  if (!args[0].is_document()) return Err(40390, "$objectToArray requires a document input, found: " + T(args[0]));
  ArrayBuilder out;
  ForEachElement(args[0], [&](const Value& f) {
    bson_iter_t it;
    f.Iter(&it);
    DocumentBuilder pair;
    pair.Append("k", Value::String(bson_iter_key(&it)));
    pair.Append("v", f);
    out.Append(pair.Finish());
    return true;
  });
  return out.Finish();
}

template <bool All>
Result<Value> ElementsTrue(const Args& args, Variables&) {
  if (!args[0].is_array()) {
    return Err(All ? 17040 : 17041, std::string(All ? "$allElementsTrue" : "$anyElementTrue") +
                                        "'s argument must be an array, but is " + T(args[0]));
  }
  bool result = All;
  ForEachElement(args[0], [&](const Value& e) {
    if (e.Truthy() != All) {
      result = !All;
      return false;
    }
    return true;
  });
  return Value::Bool(result);
}

// ---- sets: distinct values, returned in BSON order ----

// Under a collation (`strings`), values equal under it are one element:
// the first of them in sorted order.
std::vector<Value> SortedDistinct(std::vector<Value> items, const bson::StringOrder* strings) {
  std::stable_sort(items.begin(), items.end(),
                   [strings](const Value& a, const Value& b) { return Compare(a, b, strings) < 0; });
  items.erase(std::unique(items.begin(), items.end(),
                          [strings](const Value& a, const Value& b) { return Equal(a, b, strings); }),
              items.end());
  return items;
}

bool Contains(const std::vector<Value>& sorted, const Value& v, const bson::StringOrder* strings) {
  return std::binary_search(sorted.begin(), sorted.end(), v,
                            [strings](const Value& a, const Value& b) { return Compare(a, b, strings) < 0; });
}

Result<Value> SetUnion(const Args& args, Variables& vars) {
  std::vector<Value> all;
  for (const Value& v : args) {
    if (v.is_nullish()) return Value::Null();
    if (!v.is_array()) return Err(17043, "All operands of $setUnion must be arrays. One argument is of type: " + T(v));
    for (Value& e : Elements(v)) all.push_back(std::move(e));
  }
  return MakeArray(SortedDistinct(std::move(all), vars.strings()));
}

Result<Value> SetIntersection(const Args& args, Variables& vars) {
  std::vector<Value> result;
  for (size_t i = 0; i < args.size(); ++i) {
    const Value& v = args[i];
    if (v.is_nullish()) return Value::Null();
    if (!v.is_array()) return Err(17047, "All operands of $setIntersection must be arrays. One argument is of type: " + T(v));
    std::vector<Value> set = SortedDistinct(Elements(v), vars.strings());
    if (i == 0) {
      result = std::move(set);
      continue;
    }
    std::vector<Value> kept;
    for (const Value& x : result) {
      if (Contains(set, x, vars.strings())) kept.push_back(x);
    }
    result = std::move(kept);
  }
  return MakeArray(result);
}

Result<Value> SetDifference(const Args& args, Variables& vars) {
  if (args[0].is_nullish() || args[1].is_nullish()) return Value::Null();
  if (!args[0].is_array()) return Err(17048, "both operands of $setDifference must be arrays. First argument is of type: " + T(args[0]));
  if (!args[1].is_array()) return Err(17049, "both operands of $setDifference must be arrays. Second argument is of type: " + T(args[1]));
  std::vector<Value> remove = SortedDistinct(Elements(args[1]), vars.strings());
  std::vector<Value> out;
  for (const Value& x : SortedDistinct(Elements(args[0]), vars.strings())) {
    if (!Contains(remove, x, vars.strings())) out.push_back(x);
  }
  return MakeArray(out);
}

Result<Value> SetEquals(const Args& args, Variables& vars) {
  std::vector<Value> first;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].is_array()) return Err(17044, "All operands of $setEquals must be arrays. One argument is of type: " + T(args[i]));
    std::vector<Value> set = SortedDistinct(Elements(args[i]), vars.strings());
    if (i == 0) {
      first = std::move(set);
    } else if (set.size() != first.size() ||
               !std::equal(set.begin(), set.end(), first.begin(),
                           [&](const Value& a, const Value& b) { return Equal(a, b, vars.strings()); })) {
      return Value::Bool(false);
    }
  }
  return Value::Bool(true);
}

Result<Value> SetIsSubset(const Args& args, Variables& vars) {
  if (!args[0].is_array()) return Err(17046, "both operands of $setIsSubset must be arrays. First argument is of type: " + T(args[0]));
  if (!args[1].is_array()) return Err(17042, "both operands of $setIsSubset must be arrays. Second argument is of type: " + T(args[1]));
  std::vector<Value> super = SortedDistinct(Elements(args[1]), vars.strings());
  for (const Value& x : Elements(args[0])) {
    if (!Contains(super, x, vars.strings())) return Value::Bool(false);
  }
  return Value::Bool(true);
}

// ---- accumulators as expressions: one array argument, or several values ----

std::vector<Value> Operands(const Args& args) {
  if (args.size() == 1 && args[0].is_array()) return Elements(args[0]);
  return args;
}

Result<Value> SumFn(const Args& args, Variables&) {
  Sum sum;
  for (const Value& v : Operands(args)) {
    if (v.is_number()) sum.Add(v);
  }
  return sum.Total();
}

Result<Value> AvgFn(const Args& args, Variables&) {
  Sum sum;
  int64_t n = 0;
  for (const Value& v : Operands(args)) {
    if (!v.is_number()) continue;
    sum.Add(v);
    ++n;
  }
  return n == 0 ? Value::Null() : sum.Mean(n);
}

template <bool Max>
Result<Value> MinMaxFn(const Args& args, Variables& vars) {
  Value best;
  for (const Value& v : Operands(args)) {
    if (v.is_nullish()) continue;
    const int c = best.missing() ? 0 : Compare(v, best, vars.strings());
    if (best.missing() || (Max ? c > 0 : c < 0)) best = v;
  }
  return best.missing() ? Value::Null() : best;
}

template <bool Sample>
Result<Value> StdDevFn(const Args& args, Variables&) {
  double mean = 0, m2 = 0;
  int64_t n = 0;
  for (const Value& v : Operands(args)) {
    if (!v.is_number()) continue;
    double x = v.AsDouble();
    ++n;
    double delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean);
  }
  if (n == 0 || (Sample && n == 1)) return Value::Null();
  return Value::Double(std::sqrt(m2 / static_cast<double>(Sample ? n - 1 : n)));
}

// ---- $map, $filter, $reduce ----

// Parses an "as" variable name (default "this").
Result<std::string> AsName(const std::map<std::string, Value, std::less<>>& named, int code, std::string_view op) {
  auto as = named.find("as");
  if (as == named.end()) return std::string("this");
  if (!as->second.is_string()) return Err(code, std::string(op) + "'s 'as' must be a string");
  return std::string(as->second.AsString());
}

class MapExpr : public Expression {
 public:
  MapExpr(ExprPtr input, int slot, ExprPtr in) : input_(std::move(input)), slot_(slot), in_(std::move(in)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (input->is_nullish()) return Value::Null();
    if (!input->is_array()) return Err(16883, "input to $map must be an array not " + T(*input));
    ArrayBuilder out;
    Status error;
    ForEachElement(*input, [&](const Value& e) {
      vars.Set(slot_, e);
      auto v = in_->Evaluate(vars);
      if (!v.ok()) {
        error = v.status();
        return false;
      }
      out.Append(*v);
      return true;
    });
    if (!error.ok()) return error;
    return out.Finish();
  }

 private:
  ExprPtr input_;
  int slot_;
  ExprPtr in_;
};

Result<ExprPtr> ParseMap(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "as", "in"}, 16878, 16879);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  if (!*input) return Err(16880, "Missing 'input' parameter to $map");
  if (!named->count("in")) return Err(16882, "Missing 'in' parameter to $map");
  auto as = AsName(*named, 16866, name);
  if (!as.ok()) return as.status();
  auto slot = scope.Define(*as);
  if (!slot.ok()) return slot.status();
  auto in = ParseNamed(*named, "in", scope);
  scope.Pop(1);
  if (!in.ok()) return in.status();
  return ExprPtr(std::make_unique<MapExpr>(std::move(input).value(), *slot, std::move(in).value()));
}

class FilterExpr : public Expression {
 public:
  FilterExpr(ExprPtr input, int slot, ExprPtr cond, ExprPtr limit)
      : input_(std::move(input)), slot_(slot), cond_(std::move(cond)), limit_(std::move(limit)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (input->is_nullish()) return Value::Null();
    if (!input->is_array()) return Err(28651, "input to $filter must be an array not " + T(*input));
    int64_t limit = -1;
    if (limit_) {
      auto l = limit_->Evaluate(vars);
      if (!l.ok()) return l.status();
      if (!l->is_nullish()) {
        int32_t n = 0;
        if (!AsInt32(*l, &n)) return Err(327391, "$filter: limit must be represented as a 32-bit integral value: " + l->ToJson());
        if (n < 1) return Err(327392, "$filter: limit must be greater than 0: " + l->ToJson());
        limit = n;
      }
    }
    ArrayBuilder out;
    Status error;
    ForEachElement(*input, [&](const Value& e) {
      vars.Set(slot_, e);
      auto keep = cond_->Evaluate(vars);
      if (!keep.ok()) {
        error = keep.status();
        return false;
      }
      if (keep->Truthy()) out.Append(e);
      return limit < 0 || static_cast<int64_t>(out.size()) < limit;
    });
    if (!error.ok()) return error;
    return out.Finish();
  }

 private:
  ExprPtr input_;
  int slot_;
  ExprPtr cond_, limit_;
};

Result<ExprPtr> ParseFilter(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "as", "cond", "limit"}, 28646, 28647);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  if (!*input) return Err(28648, "Missing 'input' parameter to $filter");
  if (!named->count("cond")) return Err(28650, "Missing 'cond' parameter to $filter");
  auto limit = ParseNamed(*named, "limit", scope);
  if (!limit.ok()) return limit.status();
  auto as = AsName(*named, 16866, name);
  if (!as.ok()) return as.status();
  auto slot = scope.Define(*as);
  if (!slot.ok()) return slot.status();
  auto cond = ParseNamed(*named, "cond", scope);
  scope.Pop(1);
  if (!cond.ok()) return cond.status();
  return ExprPtr(std::make_unique<FilterExpr>(std::move(input).value(), *slot, std::move(cond).value(),
                                              std::move(limit).value()));
}

class ReduceExpr : public Expression {
 public:
  ReduceExpr(ExprPtr input, ExprPtr initial, int value_slot, int this_slot, ExprPtr in)
      : input_(std::move(input)), initial_(std::move(initial)), value_slot_(value_slot), this_slot_(this_slot),
        in_(std::move(in)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (input->is_nullish()) return Value::Null();
    if (!input->is_array()) return Err(40080, "$reduce requires 'input' to be an array, found: " + T(*input));
    auto acc = initial_->Evaluate(vars);
    if (!acc.ok()) return acc.status();
    Value value = std::move(acc).value();
    Status error;
    ForEachElement(*input, [&](const Value& e) {
      vars.Set(value_slot_, value);
      vars.Set(this_slot_, e);
      auto next = in_->Evaluate(vars);
      if (!next.ok()) {
        error = next.status();
        return false;
      }
      value = next->Owned();
      return true;
    });
    if (!error.ok()) return error;
    return value;
  }

 private:
  ExprPtr input_, initial_;
  int value_slot_, this_slot_;
  ExprPtr in_;
};

Result<ExprPtr> ParseReduce(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "initialValue", "in"}, 40075, 40076);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  if (!*input) return Err(40077, "$reduce requires 'input' to be specified");
  auto initial = ParseNamed(*named, "initialValue", scope);
  if (!initial.ok()) return initial.status();
  if (!*initial) return Err(40078, "$reduce requires 'initialValue' to be specified");
  if (!named->count("in")) return Err(40079, "$reduce requires 'in' to be specified");
  // "value" and "this" are bound for `in` (defined directly: user names are lowercase too).
  auto value_slot = scope.Define("value");
  auto this_slot = scope.Define("this");
  auto in = ParseNamed(*named, "in", scope);
  scope.Pop(2);
  if (!in.ok()) return in.status();
  return ExprPtr(std::make_unique<ReduceExpr>(std::move(input).value(), std::move(initial).value(), *value_slot,
                                              *this_slot, std::move(in).value()));
}

// ---- $sortArray: {input, sortBy: 1 | -1 | {field: 1, ...}} ----

class SortArrayExpr : public Expression {
 public:
  SortArrayExpr(ExprPtr input, int direction, std::shared_ptr<const query::SortSpec> fields,
                const bson::StringOrder* strings)
      : input_(std::move(input)), direction_(direction), fields_(std::move(fields)), strings_(strings) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto input = input_->Evaluate(vars);
    if (!input.ok()) return input.status();
    if (input->is_nullish()) return Value::Null();
    if (!input->is_array()) return Err(2942504, "The input argument to $sortArray must be an array, but was of type: " + T(*input));
    std::vector<Value> items = Elements(*input);
    if (!fields_) {
      std::stable_sort(items.begin(), items.end(),
                       [&](const Value& a, const Value& b) { return direction_ * Compare(a, b, strings_) < 0; });
      return MakeArray(items);
    }
    // By fields: each element is read as a document (non-documents sort as
    // if every field were missing).
    std::vector<std::pair<query::SortSpec::SortValues, size_t>> keys;
    for (size_t i = 0; i < items.size(); ++i) {
      Document doc = items[i].is_document() ? items[i].AsDocument() : Document();
      keys.emplace_back(fields_->Extract(doc), i);
    }
    std::stable_sort(keys.begin(), keys.end(),
                     [&](const auto& a, const auto& b) { return fields_->Compare(a.first, b.first) < 0; });
    std::vector<Value> sorted;
    for (const auto& k : keys) sorted.push_back(items[k.second]);
    return MakeArray(sorted);
  }

 private:
  ExprPtr input_;
  int direction_;
  std::shared_ptr<const query::SortSpec> fields_;
  const bson::StringOrder* strings_;  // the parse scope's collation
};

Result<ExprPtr> ParseSortArray(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "sortBy"}, 2942500, 2942501);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  if (!*input) return Err(2942502, "$sortArray requires 'input' to be specified");
  auto sort_by = named->find("sortBy");
  if (sort_by == named->end()) return Err(2942503, "$sortArray requires 'sortBy' to be specified");
  const Value& by = sort_by->second;
  if (by.is_number()) {
    double d = by.AsDouble();
    if (d != 1 && d != -1) return Err(2942505, "$sortArray's sortBy must be 1, -1 or a sort pattern");
    return ExprPtr(std::make_unique<SortArrayExpr>(std::move(input).value(), d > 0 ? 1 : -1, nullptr, scope.strings()));
  }
  if (!by.is_document()) return Err(2942505, "$sortArray's sortBy must be 1, -1 or a sort pattern");
  auto spec = query::SortSpec::Compile(by.AsDocument(), scope.strings());
  if (!spec.ok()) return spec.status();
  return ExprPtr(std::make_unique<SortArrayExpr>(std::move(input).value(), 1,
                                                 std::make_shared<const query::SortSpec>(std::move(spec).value()),
                                                 scope.strings()));
}

// ---- $zip: {inputs: [arrays], useLongestLength, defaults} ----

class ZipExpr : public Expression {
 public:
  ZipExpr(std::vector<ExprPtr> inputs, bool longest, ExprPtr defaults)
      : inputs_(std::move(inputs)), longest_(longest), defaults_(std::move(defaults)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    std::vector<std::vector<Value>> arrays;
    for (const ExprPtr& e : inputs_) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (v->is_nullish()) return Value::Null();
      if (!v->is_array()) return Err(34468, "$zip found a non-array expression in input: " + v->ToJson());
      arrays.push_back(Elements(*v));
    }
    std::vector<Value> defaults(arrays.size(), Value::Null());
    if (defaults_) {
      auto d = defaults_->Evaluate(vars);
      if (!d.ok()) return d.status();
      if (!d->is_array()) return Err(34462, "$zip requires defaults to be an array");
      std::vector<Value> given = Elements(*d);
      if (given.size() != arrays.size()) return Err(34466, "$zip requires that 'defaults' have the same number of elements as 'inputs'");
      defaults = std::move(given);
    }
    size_t n = longest_ ? 0 : SIZE_MAX;
    for (const auto& a : arrays) n = longest_ ? std::max(n, a.size()) : std::min(n, a.size());
    if (arrays.empty()) n = 0;
    ArrayBuilder out;
    for (size_t i = 0; i < n; ++i) {
      ArrayBuilder row;
      for (size_t k = 0; k < arrays.size(); ++k) row.Append(i < arrays[k].size() ? arrays[k][i] : defaults[k]);
      out.Append(row.Finish());
    }
    return out.Finish();
  }

 private:
  std::vector<ExprPtr> inputs_;
  bool longest_;
  ExprPtr defaults_;
};

Result<ExprPtr> ParseZip(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"inputs", "useLongestLength", "defaults"}, 34460, 34464);
  if (!named.ok()) return named.status();
  auto inputs_it = named->find("inputs");
  if (inputs_it == named->end()) return Err(34465, "$zip requires at least one input array");
  if (!inputs_it->second.is_array()) return Err(34461, "inputs must be an array of expressions");
  bson_iter_t it;
  inputs_it->second.Iter(&it);
  auto inputs = ParseArgs(it, scope);
  if (!inputs.ok()) return inputs.status();
  bool longest = false;
  if (auto l = named->find("useLongestLength"); l != named->end()) {
    if (l->second.type() != BSON_TYPE_BOOL) return Err(34463, "useLongestLength must be a bool");
    longest = l->second.AsBool();
  }
  auto defaults = ParseNamed(*named, "defaults", scope);
  if (!defaults.ok()) return defaults.status();
  if (*defaults && !longest) return Err(34466, "cannot specify defaults unless useLongestLength is true");
  return ExprPtr(std::make_unique<ZipExpr>(std::move(inputs).value(), longest, std::move(defaults).value()));
}

// ---- $firstN / $lastN: {input, n} ----

// The {input, n} arguments of $firstN, $lastN, $minN and $maxN.
struct InputAndN {
  ExprPtr input, n;
};

Result<InputAndN> ParseInputAndN(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto named = ReadNamedArgs(name, arg, {"input", "n"}, 5787801, 5787901);
  if (!named.ok()) return named.status();
  auto input = ParseNamed(*named, "input", scope);
  if (!input.ok()) return input.status();
  auto n = ParseNamed(*named, "n", scope);
  if (!n.ok()) return n.status();
  if (!*input || !*n) return Err(5787906, std::string(name) + " requires 'input' and 'n'");
  return InputAndN{std::move(input).value(), std::move(n).value()};
}

// Evaluates n (a positive whole number) and input (an array): its elements.
Result<std::pair<int64_t, std::vector<Value>>> EvaluateInputAndN(const std::string& op, const InputAndN& args,
                                                                  Variables& vars) {
  auto n = args.n->Evaluate(vars);
  if (!n.ok()) return n.status();
  int64_t count = 0;
  if (!AsWholeInt64(*n, &count)) return Err(5787902, op + " requires 'n' to be an integer: " + n->ToJson());
  if (count <= 0) return Err(5787908, op + " requires 'n' to be a positive integer: " + n->ToJson());
  auto input = args.input->Evaluate(vars);
  if (!input.ok()) return input.status();
  if (!input->is_array()) return Err(5788200, op + " requires 'input' to be an array, found: " + T(*input));
  return std::make_pair(count, Elements(*input));
}

class FirstLastNExpr : public Expression {
 public:
  FirstLastNExpr(std::string op, bool last, InputAndN args) : op_(std::move(op)), last_(last), args_(std::move(args)) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto evaluated = EvaluateInputAndN(op_, args_, vars);
    if (!evaluated.ok()) return evaluated.status();
    auto& [count, items] = *evaluated;
    size_t take = std::min(items.size(), static_cast<size_t>(count));
    auto begin = last_ ? items.end() - static_cast<ptrdiff_t>(take) : items.begin();
    return MakeArray(std::vector<Value>(begin, begin + static_cast<ptrdiff_t>(take)));
  }

 private:
  std::string op_;
  bool last_;
  InputAndN args_;
};

Result<ExprPtr> ParseFirstLastN(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto args = ParseInputAndN(name, arg, scope);
  if (!args.ok()) return args.status();
  return ExprPtr(std::make_unique<FirstLastNExpr>(std::string(name), name == "$lastN", std::move(args).value()));
}

// ---- $minN / $maxN: {input, n}: the n smallest (largest) values of the
// array, nulls and missing left out, in that order (by the collation) ----

class MinMaxNExpr : public Expression {
 public:
  MinMaxNExpr(std::string op, bool max, InputAndN args, const bson::StringOrder* strings)
      : op_(std::move(op)), max_(max), args_(std::move(args)), strings_(strings) {}
  Result<Value> Evaluate(Variables& vars) const override {
    auto evaluated = EvaluateInputAndN(op_, args_, vars);
    if (!evaluated.ok()) return evaluated.status();
    const int64_t count = evaluated->first;
    std::vector<Value> items;
    for (Value& v : evaluated->second) {
      if (!v.is_nullish()) items.push_back(std::move(v));
    }
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      const int c = Compare(a, b, strings_);
      return max_ ? c > 0 : c < 0;
    });
    if (items.size() > static_cast<size_t>(count)) items.resize(static_cast<size_t>(count));
    return MakeArray(items);
  }

 private:
  std::string op_;
  bool max_;
  InputAndN args_;
  const bson::StringOrder* strings_;  // the parse scope's collation
};

Result<ExprPtr> ParseMinMaxN(std::string_view name, const bson_iter_t& arg, Scope& scope) {
  auto args = ParseInputAndN(name, arg, scope);
  if (!args.ok()) return args.status();
  return ExprPtr(
      std::make_unique<MinMaxNExpr>(std::string(name), name == "$maxN", std::move(args).value(), scope.strings()));
}

constexpr FunctionEntry kFunctions[] = {
    {"$size", 1, 1, Size},
    {"$arrayElemAt", 2, 2, ArrayElemAt},
    {"$first", 1, 1, FirstOrLast<false>},
    {"$last", 1, 1, FirstOrLast<true>},
    {"$concatArrays", 0, -1, ConcatArrays},
    {"$in", 2, 2, In},
    {"$indexOfArray", 2, 4, IndexOfArray},
    {"$isArray", 1, 1, IsArray},
    {"$reverseArray", 1, 1, ReverseArray},
    {"$range", 2, 3, Range},
    {"$slice", 2, 3, Slice},
    {"$arrayToObject", 1, 1, ArrayToObject},
    {"$objectToArray", 1, 1, ObjectToArray},
    {"$allElementsTrue", 1, 1, ElementsTrue<true>},
    {"$anyElementTrue", 1, 1, ElementsTrue<false>},
    {"$setUnion", 0, -1, SetUnion},
    {"$setIntersection", 0, -1, SetIntersection},
    {"$setDifference", 2, 2, SetDifference},
    {"$setEquals", 2, -1, SetEquals},
    {"$setIsSubset", 2, 2, SetIsSubset},
    {"$sum", 0, -1, SumFn},
    {"$avg", 0, -1, AvgFn},
    {"$min", 0, -1, MinMaxFn<false>},
    {"$max", 0, -1, MinMaxFn<true>},
    {"$stdDevPop", 0, -1, StdDevFn<false>},
    {"$stdDevSamp", 0, -1, StdDevFn<true>},
};

constexpr SpecialEntry kSpecials[] = {
    {"$map", ParseMap},         {"$filter", ParseFilter}, {"$reduce", ParseReduce}, {"$sortArray", ParseSortArray},
    {"$zip", ParseZip},         {"$firstN", ParseFirstLastN}, {"$lastN", ParseFirstLastN},
    {"$minN", ParseMinMaxN},    {"$maxN", ParseMinMaxN},
};

}  // namespace

std::span<const FunctionEntry> ArrayFunctions() { return kFunctions; }
std::span<const SpecialEntry> ArraySpecials() { return kSpecials; }

}  // namespace docket::expr
