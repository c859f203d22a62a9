#include "aggregate/accumulators.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "bson/value.h"
#include "expr/arith.h"
#include "query/sort.h"

namespace docket::aggregate {
namespace {

Status Error(int code, std::string message) { return Status(static_cast<ErrorCode>(code), std::move(message)); }

size_t SizeOf(const Value& v) {
  if (v.missing()) return 16;
  if (v.is_document() || v.is_array()) return v.ContainerBytes().size() + 48;
  if (v.is_string()) return v.AsString().size() + 48;
  return 48;
}

// [v] for a present value, [] for missing: partial states that must tell
// the two apart.
Value Box(const Value& v) {
  expr::ArrayBuilder out;
  if (!v.missing()) out.Append(v);
  return out.Finish();
}
Value Unbox(const Value& boxed) {
  std::vector<Value> items = expr::Elements(boxed);
  return items.empty() ? Value() : items[0];
}

Value Field(const Value& doc, std::string_view name) {
  Value found;
  expr::ForEachElement(doc, [&](const Value& f) {
    bson_iter_t it;
    f.Iter(&it);
    if (std::string_view(bson_iter_key(&it)) != name) return true;
    found = f;
    return false;
  });
  return found;
}

// ---- $sum, $count, $avg ----

class SumAcc : public Accumulator {
 public:
  explicit SumAcc(bool mean) : mean_(mean) {}
  Status Add(const Value& v, const Value&) override {
    if (v.is_number()) {
      sum_.Add(v);
      ++count_;
    }
    return Status::OK();
  }
  Result<Value> Finish() const override {
    if (!mean_) return sum_.Total();
    return count_ == 0 ? Value::Null() : sum_.Mean(count_);
  }
  Value Partial() const override {
    expr::DocumentBuilder out;
    out.Append("s", sum_.Total());
    out.Append("n", Value::Int64(count_));
    return out.Finish();
  }
  Status Merge(const Value& partial) override {
    Value s = Field(partial, "s"), n = Field(partial, "n");
    if (s.is_number()) sum_.Add(s);
    count_ += n.is_number() ? n.AsInt64() : 0;
    return Status::OK();
  }
  size_t bytes() const override { return sizeof(*this); }

 private:
  bool mean_;
  expr::Sum sum_;
  int64_t count_ = 0;
};

// ---- $min, $max ----

class MinMaxAcc : public Accumulator {
 public:
  MinMaxAcc(bool max, const bson::StringOrder* strings) : max_(max), strings_(strings) {}
  Status Add(const Value& v, const Value&) override {
    if (v.is_nullish()) return Status::OK();
    const int c = best_.missing() ? 0 : expr::Compare(v, best_, strings_);
    if (best_.missing() || (max_ ? c > 0 : c < 0)) best_ = v.Owned();
    return Status::OK();
  }
  Result<Value> Finish() const override { return best_.missing() ? Value::Null() : best_; }
  Value Partial() const override { return Box(best_); }
  Status Merge(const Value& partial) override { return Add(Unbox(partial), Value()); }
  size_t bytes() const override { return sizeof(*this) + SizeOf(best_); }

 private:
  bool max_;
  const bson::StringOrder* strings_;
  Value best_;
};

// ---- $first, $last ----

class FirstLastAcc : public Accumulator {
 public:
  explicit FirstLastAcc(bool last) : last_(last) {}
  Status Add(const Value& v, const Value&) override {
    if (seen_ && !last_) return Status::OK();
    value_ = v.missing() ? Value::Null() : v.Owned();
    seen_ = true;
    return Status::OK();
  }
  Result<Value> Finish() const override { return seen_ ? value_ : Value::Null(); }
  Value Partial() const override { return seen_ ? Box(value_) : Box(Value()); }
  Status Merge(const Value& partial) override {
    Value v = Unbox(partial);
    if (v.missing()) return Status::OK();  // that part saw nothing
    return Add(v, Value());
  }
  size_t bytes() const override { return sizeof(*this) + SizeOf(value_); }

 private:
  bool last_;
  bool seen_ = false;
  Value value_;
};

// ---- $push, $addToSet ----

class PushAcc : public Accumulator {
 public:
  PushAcc(bool set, const bson::StringOrder* strings) : set_(set), strings_(strings) {}
  Status Add(const Value& v, const Value&) override {
    if (v.missing()) return Status::OK();
    if (set_) {
      // Under a collation, values equal under it are one: the first added.
      auto at = std::lower_bound(items_.begin(), items_.end(), v,
                                 [this](const Value& a, const Value& b) { return expr::Compare(a, b, strings_) < 0; });
      if (at != items_.end() && expr::Equal(*at, v, strings_)) return Status::OK();
      bytes_ += SizeOf(v);
      items_.insert(at, v.Owned());
      return Status::OK();
    }
    bytes_ += SizeOf(v);
    items_.push_back(v.Owned());
    return Status::OK();
  }
  Result<Value> Finish() const override {
    Value out = expr::MakeArray(items_);
    if (out.ContainerBytes().size() > kMaxDocumentSize) {
      return Error(10334, std::string(set_ ? "$addToSet" : "$push") + " produced a value larger than 16MB");
    }
    return out;
  }
  Value Partial() const override { return expr::MakeArray(items_); }
  Status Merge(const Value& partial) override {
    for (const Value& v : expr::Elements(partial)) DOCKET_RETURN_IF_ERROR(Add(v, Value()));
    return Status::OK();
  }
  size_t bytes() const override { return sizeof(*this) + bytes_; }

 private:
  bool set_;
  const bson::StringOrder* strings_;
  std::vector<Value> items_;  // sorted and distinct for $addToSet
  size_t bytes_ = 0;
};

// ---- $mergeObjects ----

class MergeObjectsAcc : public Accumulator {
 public:
  Status Add(const Value& v, const Value&) override {
    if (v.is_nullish()) return Status::OK();
    if (!v.is_document()) {
      return Error(40400, "$mergeObjects requires object inputs, but input " + v.ToJson() + " is of type " +
                              expr::TypeName(v));
    }
    expr::ForEachElement(v, [&](const Value& f) {
      bson_iter_t it;
      f.Iter(&it);
      std::string key = bson_iter_key(&it);
      for (auto& field : fields_) {
        if (field.first == key) {
          field.second = f.Owned();
          return true;
        }
      }
      bytes_ += key.size() + SizeOf(f);
      fields_.emplace_back(std::move(key), f.Owned());
      return true;
    });
    return Status::OK();
  }
  Result<Value> Finish() const override {
    expr::DocumentBuilder out;
    for (const auto& [k, v] : fields_) out.Append(k, v);
    return out.Finish();
  }
  Value Partial() const override { return *Finish(); }
  Status Merge(const Value& partial) override { return Add(partial, Value()); }
  size_t bytes() const override { return sizeof(*this) + bytes_; }

 private:
  std::vector<std::pair<std::string, Value>> fields_;
  size_t bytes_ = 0;
};

// ---- $stdDevPop, $stdDevSamp (Welford; Chan's merge) ----

class StdDevAcc : public Accumulator {
 public:
  explicit StdDevAcc(bool sample) : sample_(sample) {}
  Status Add(const Value& v, const Value&) override {
    if (!v.is_number()) return Status::OK();
    Combine(1, v.AsDouble(), 0);
    return Status::OK();
  }
  Result<Value> Finish() const override {
    if (n_ == 0 || (sample_ && n_ == 1)) return Value::Null();
    return Value::Double(std::sqrt(m2_ / static_cast<double>(sample_ ? n_ - 1 : n_)));
  }
  Value Partial() const override {
    expr::DocumentBuilder out;
    out.Append("n", Value::Int64(n_));
    out.Append("mean", Value::Double(mean_));
    out.Append("m2", Value::Double(m2_));
    return out.Finish();
  }
  Status Merge(const Value& partial) override {
    Value n = Field(partial, "n"), mean = Field(partial, "mean"), m2 = Field(partial, "m2");
    if (n.is_number() && n.AsInt64() > 0) Combine(n.AsInt64(), mean.AsDouble(), m2.AsDouble());
    return Status::OK();
  }
  size_t bytes() const override { return sizeof(*this); }

 private:
  void Combine(int64_t n, double mean, double m2) {
    int64_t total = n_ + n;
    double delta = mean - mean_;
    mean_ += delta * static_cast<double>(n) / static_cast<double>(total);
    m2_ += m2 + delta * delta * static_cast<double>(n_) * static_cast<double>(n) / static_cast<double>(total);
    n_ = total;
  }
  bool sample_;
  int64_t n_ = 0;
  double mean_ = 0, m2_ = 0;
};

// ---- $firstN, $lastN, $minN, $maxN ----

class NAcc : public Accumulator {
 public:
  enum class Kind { kFirst, kLast, kMin, kMax };
  NAcc(Kind kind, size_t n, const bson::StringOrder* strings) : kind_(kind), n_(n), strings_(strings) {}
  Status Add(const Value& v, const Value&) override {
    if ((kind_ == Kind::kMin || kind_ == Kind::kMax) && v.is_nullish()) return Status::OK();
    Value item = v.missing() ? Value::Null() : v.Owned();
    switch (kind_) {
      case Kind::kFirst:
        if (items_.size() < n_) items_.push_back(item);
        break;
      case Kind::kLast:
        items_.push_back(item);
        if (items_.size() > n_) items_.erase(items_.begin());
        break;
      case Kind::kMin:
      case Kind::kMax: {
        auto before = [this](const Value& a, const Value& b) {
          int c = expr::Compare(a, b, strings_);
          return kind_ == Kind::kMin ? c < 0 : c > 0;
        };
        items_.insert(std::upper_bound(items_.begin(), items_.end(), item, before), item);
        if (items_.size() > n_) items_.pop_back();
        break;
      }
    }
    return Status::OK();
  }
  Result<Value> Finish() const override { return expr::MakeArray(items_); }
  Value Partial() const override { return expr::MakeArray(items_); }
  Status Merge(const Value& partial) override {
    for (const Value& v : expr::Elements(partial)) DOCKET_RETURN_IF_ERROR(Add(v, Value()));
    return Status::OK();
  }
  size_t bytes() const override {
    size_t b = sizeof(*this);
    for (const Value& v : items_) b += SizeOf(v);
    return b;
  }

 private:
  Kind kind_;
  size_t n_;
  const bson::StringOrder* strings_;
  std::vector<Value> items_;
};

// ---- $top, $bottom, $topN, $bottomN: by sortBy over the input documents ----

class TopAcc : public Accumulator {
 public:
  TopAcc(const query::SortSpec& sort, bool bottom, size_t n, bool single)
      : sort_(sort), bottom_(bottom), n_(n), single_(single) {}
  Status Add(const Value& v, const Value& root) override {
    Entry e{sort_.Extract(root.is_document() ? root.AsDocument() : Document()), v.missing() ? Value::Null() : v.Owned()};
    Insert(std::move(e));
    return Status::OK();
  }
  Result<Value> Finish() const override {
    if (single_) return entries_.empty() ? Value::Null() : entries_.front().output;
    std::vector<Value> out;
    for (const Entry& e : entries_) out.push_back(e.output);
    if (bottom_) std::reverse(out.begin(), out.end());  // $bottomN answers in sort order
    return expr::MakeArray(out);
  }
  Value Partial() const override {
    expr::ArrayBuilder out;
    for (const Entry& e : entries_) {
      expr::ArrayBuilder entry;
      expr::ArrayBuilder keys;
      for (const std::string& held : e.keys) keys.Append(Value::FromHeld(held));
      entry.Append(keys.Finish());
      entry.Append(e.output);
      out.Append(entry.Finish());
    }
    return out.Finish();
  }
  Status Merge(const Value& partial) override {
    for (const Value& entry : expr::Elements(partial)) {
      std::vector<Value> parts = expr::Elements(entry);
      if (parts.size() != 2) continue;
      Entry e;
      for (const Value& k : expr::Elements(parts[0])) {
        bson_iter_t it;
        k.Iter(&it);
        e.keys.push_back(bson::HoldValue(it));
      }
      e.output = parts[1];
      Insert(std::move(e));
    }
    return Status::OK();
  }
  size_t bytes() const override {
    size_t b = sizeof(*this);
    for (const Entry& e : entries_) b += SizeOf(e.output) + 64;
    return b;
  }

 private:
  struct Entry {
    query::SortSpec::SortValues keys;
    Value output;
  };
  // Keeps the first n by the sort (the last n for $bottom), earlier inputs
  // first among equals.
  void Insert(Entry e) {
    auto before = [this](const Entry& a, const Entry& b) {
      int c = sort_.Compare(a.keys, b.keys);
      return bottom_ ? c > 0 : c < 0;
    };
    entries_.insert(std::upper_bound(entries_.begin(), entries_.end(), e, before), std::move(e));
    if (entries_.size() > n_) entries_.pop_back();
  }
  const query::SortSpec& sort_;
  bool bottom_;
  size_t n_;
  bool single_;
  std::vector<Entry> entries_;
};

// ---- specs ----

using Factory = std::function<std::unique_ptr<Accumulator>()>;

class SimpleSpec : public AccumulatorSpec {
 public:
  SimpleSpec(expr::ExprPtr argument, Factory make) : make_(std::move(make)) { argument_ = std::move(argument); }
  Result<std::unique_ptr<Accumulator>> Make(const Value&, const expr::Variables&) const override { return make_(); }

 private:
  Factory make_;
};

// A positive whole number, as the `n` of the N accumulators must be.
Result<size_t> CheckN(std::string_view op, const Value& n) {
  if (!n.is_number() || n.AsDouble() != std::trunc(n.AsDouble())) {
    return Error(5787902, std::string(op) + " requires 'n' to be an integer, found " + n.ToJson());
  }
  int64_t count = n.AsInt64();
  if (count <= 0) return Error(5787908, std::string(op) + " requires 'n' to be a positive integer, found " + n.ToJson());
  return static_cast<size_t>(count);
}

// The `n` of an N accumulator: a constant, or an expression evaluated once
// per group over {_id: <the group's _id>} (as MongoDB allows).
class NCount {
 public:
  static Result<NCount> Parse(std::string_view op, const Value& n, expr::Scope& scope) {
    if (n.missing()) return Error(5787906, std::string(op) + " requires 'n'");
    NCount out;
    out.op_ = std::string(op);
    if (n.is_number()) {
      auto count = CheckN(op, n);
      if (!count.ok()) return count.status();
      out.constant_ = *count;
      return out;
    }
    bson_iter_t it;
    n.Iter(&it);
    auto e = expr::Parse(it, scope);
    if (!e.ok()) return e.status();
    out.expression_ = std::shared_ptr<const expr::Expression>(std::move(e).value());
    return out;
  }

  Result<size_t> For(const Value& group_id, const expr::Variables& pipeline_vars) const {
    if (expression_ == nullptr) return constant_;
    expr::Variables vars = pipeline_vars;
    expr::DocumentBuilder root;
    root.Append("_id", group_id);
    Value doc = root.Finish();
    vars.SetRoot(doc);
    auto n = expression_->Evaluate(vars);
    if (!n.ok()) return n.status();
    return CheckN(op_, *n);
  }

 private:
  std::string op_;
  size_t constant_ = 0;
  std::shared_ptr<const expr::Expression> expression_;  // null: constant_
};

class NSpec : public AccumulatorSpec {
 public:
  NSpec(expr::ExprPtr input, NAcc::Kind kind, NCount n, const bson::StringOrder* strings)
      : kind_(kind), n_(std::move(n)), strings_(strings) {
    argument_ = std::move(input);
  }
  Result<std::unique_ptr<Accumulator>> Make(const Value& group_id, const expr::Variables& vars) const override {
    auto n = n_.For(group_id, vars);
    if (!n.ok()) return n.status();
    return std::unique_ptr<Accumulator>(std::make_unique<NAcc>(kind_, *n, strings_));
  }

 private:
  NAcc::Kind kind_;
  NCount n_;
  const bson::StringOrder* strings_;
};

class TopSpec : public AccumulatorSpec {
 public:
  TopSpec(expr::ExprPtr output, query::SortSpec sort, bool bottom, NCount n, bool single)
      : sort_(std::move(sort)), bottom_(bottom), n_(std::move(n)), single_(single) {
    argument_ = std::move(output);
  }
  bool ReadsInput() const override { return true; }  // sortBy reads every input
  Result<std::unique_ptr<Accumulator>> Make(const Value& group_id, const expr::Variables& vars) const override {
    size_t n = 1;
    if (!single_) {
      auto counted = n_.For(group_id, vars);
      if (!counted.ok()) return counted.status();
      n = *counted;
    }
    return std::unique_ptr<Accumulator>(std::make_unique<TopAcc>(sort_, bottom_, n, single_));
  }

 private:
  query::SortSpec sort_;
  bool bottom_;
  NCount n_;  // unused when single_
  bool single_;
};

// The fields of a named-argument accumulator ({input, n} / {sortBy, output, n}).
Result<std::vector<std::pair<std::string, Value>>> NamedArgs(std::string_view op, const bson_iter_t& arg,
                                                             std::initializer_list<std::string_view> allowed) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return Error(5787801, std::string(op) + " expects an object of named arguments");
  }
  std::vector<std::pair<std::string, Value>> out;
  bson_iter_t child;
  bson_iter_recurse(&arg, &child);
  while (bson_iter_next(&child)) {
    std::string key = bson_iter_key(&child);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Error(5787901, std::string(op) + " found an unknown argument: " + key);
    }
    out.emplace_back(std::move(key), Value::Borrow(child));
  }
  return out;
}

Value Named(const std::vector<std::pair<std::string, Value>>& args, std::string_view name) {
  for (const auto& [k, v] : args) {
    if (k == name) return v;
  }
  return Value();
}

Result<expr::ExprPtr> ParseValue(const Value& v, expr::Scope& scope) {
  bson_iter_t it;
  v.Iter(&it);
  return expr::Parse(it, scope);
}

}  // namespace

Result<std::unique_ptr<const AccumulatorSpec>> AccumulatorSpec::Parse(std::string_view op, const bson_iter_t& arg,
                                                                      expr::Scope& scope) {
  using Ptr = std::unique_ptr<const AccumulatorSpec>;
  auto simple = [&](Factory make) -> Result<Ptr> {
    auto e = expr::Parse(arg, scope);
    if (!e.ok()) return e.status();
    return Ptr(std::make_unique<SimpleSpec>(std::move(e).value(), std::move(make)));
  };
  if (op == "$sum") return simple([] { return std::make_unique<SumAcc>(false); });
  if (op == "$avg") return simple([] { return std::make_unique<SumAcc>(true); });
  // The comparing accumulators use the pipeline's collation.
  const bson::StringOrder* strings = scope.strings();
  if (op == "$min") return simple([strings] { return std::make_unique<MinMaxAcc>(false, strings); });
  if (op == "$max") return simple([strings] { return std::make_unique<MinMaxAcc>(true, strings); });
  if (op == "$first") return simple([] { return std::make_unique<FirstLastAcc>(false); });
  if (op == "$last") return simple([] { return std::make_unique<FirstLastAcc>(true); });
  if (op == "$push") return simple([strings] { return std::make_unique<PushAcc>(false, strings); });
  if (op == "$addToSet") return simple([strings] { return std::make_unique<PushAcc>(true, strings); });
  if (op == "$mergeObjects") return simple([] { return std::make_unique<MergeObjectsAcc>(); });
  if (op == "$stdDevPop") return simple([] { return std::make_unique<StdDevAcc>(false); });
  if (op == "$stdDevSamp") return simple([] { return std::make_unique<StdDevAcc>(true); });
  if (op == "$count") {
    bson_iter_t child;
    if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT || (bson_iter_recurse(&arg, &child) && bson_iter_next(&child))) {
      return Error(40237, "$count takes no arguments, i.e. $count:{}");
    }
    return Ptr(std::make_unique<SimpleSpec>(expr::Constant(Value::Int32(1)),
                                            [] { return std::make_unique<SumAcc>(false); }));
  }
  if (op == "$firstN" || op == "$lastN" || op == "$minN" || op == "$maxN") {
    auto args = NamedArgs(op, arg, {"input", "n"});
    if (!args.ok()) return args.status();
    Value input = Named(*args, "input");
    if (input.missing()) return Error(5787907, std::string(op) + " requires 'input'");
    auto n = NCount::Parse(op, Named(*args, "n"), scope);
    if (!n.ok()) return n.status();
    auto e = ParseValue(input, scope);
    if (!e.ok()) return e.status();
    NAcc::Kind kind = op == "$firstN" ? NAcc::Kind::kFirst
                      : op == "$lastN" ? NAcc::Kind::kLast
                      : op == "$minN"  ? NAcc::Kind::kMin
                                       : NAcc::Kind::kMax;
    return Ptr(std::make_unique<NSpec>(std::move(e).value(), kind, std::move(n).value(), strings));
  }
  if (op == "$top" || op == "$bottom" || op == "$topN" || op == "$bottomN") {
    const bool single = op == "$top" || op == "$bottom";
    auto args = single ? NamedArgs(op, arg, {"sortBy", "output"}) : NamedArgs(op, arg, {"sortBy", "output", "n"});
    if (!args.ok()) return args.status();
    Value sort_by = Named(*args, "sortBy"), output = Named(*args, "output");
    if (!sort_by.is_document()) return Error(5788005, std::string(op) + " requires a sortBy object");
    if (output.missing()) return Error(5788004, std::string(op) + " requires an 'output' field");
    NCount n;
    if (!single) {
      auto parsed = NCount::Parse(op, Named(*args, "n"), scope);
      if (!parsed.ok()) return parsed.status();
      n = std::move(parsed).value();
    }
    auto sort = query::SortSpec::Compile(sort_by.AsDocument(), strings);
    if (!sort.ok()) return sort.status();
    auto e = ParseValue(output, scope);
    if (!e.ok()) return e.status();
    return Ptr(std::make_unique<TopSpec>(std::move(e).value(), std::move(sort).value(),
                                         op == "$bottom" || op == "$bottomN", std::move(n), single));
  }
  if (op == "$accumulator") {
    return Status(ErrorCode::kCommandNotSupported, "$accumulator runs JavaScript, which Docket does not");
  }
  return Error(15952, "unknown group operator '" + std::string(op) + "'");
}

}  // namespace docket::aggregate
