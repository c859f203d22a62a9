// $bucketAuto: the input sorted by `groupBy`, cut into `buckets` buckets of
// about equal counts (round(n / buckets) documents each, at least 1; the
// last takes the rest), with MongoDB 6.0's boundaries: a bucket also takes
// every later document whose key equals its largest one, its `max` is the
// next bucket's `min` (exclusive; the last bucket's is its largest key), and
// with a `granularity` the boundaries are rounded to a preferred-number
// series (Renard R5-R80, E6-E192, 1-2-5) or to powers of two. Output:
// {_id: {min, max}, <output fields>} (default: {count: {$sum: 1}}). The sort
// goes through engine::Sorter, so it spills past the memory budget as $sort
// does. Keys compare by the pipeline's collation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "aggregate/accumulators.h"
#include "aggregate/stages.h"
#include "bson/builder.h"
#include "engine/sorter.h"

namespace docket::aggregate {
namespace {

using expr::Value;

// Rounds non-negative numbers to the boundaries of a granularity: up to the
// smallest boundary strictly greater, down to the largest strictly smaller.
// REQUIRES: the value is a non-negative number, not NaN (the stage checks).
class Granularity {
 public:
  virtual ~Granularity() = default;
  virtual Value RoundUp(const Value& v) const = 0;
  virtual Value RoundDown(const Value& v) const = 0;
};

Value AsDecimal(double d) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.17g", d);
  bson_decimal128_t dec;
  bson_decimal128_from_string(text, &dec);
  return Value::Decimal(dec);
}

// A preferred-number series: one decade of it (e.g. 10 16 25 40 63), scaled
// by powers of ten.
class PreferredNumbers : public Granularity {
 public:
  explicit PreferredNumbers(std::vector<double> series) : series_(std::move(series)) {}

  Value RoundUp(const Value& v) const override {
    const double x = v.AsDouble();
    if (x == 0.0) return v;
    double m = 1.0;
    while (x >= series_.back() * m) m *= 10.0;
    while (x < series_.front() * m) {
      const double previous_min = series_.front() * m;
      m /= 10.0;
      if (x >= series_.back() * m) return Out(v, previous_min);  // between two decades
    }
    auto it = std::upper_bound(series_.begin(), series_.end(), x, [m](double a, double s) { return a < s * m; });
    return Out(v, *it * m);
  }

  Value RoundDown(const Value& v) const override {
    const double x = v.AsDouble();
    if (x == 0.0) return v;
    double m = 1.0;
    while (x <= series_.front() * m) m /= 10.0;
    while (x > series_.back() * m) {
      const double previous_max = series_.back() * m;
      m *= 10.0;
      if (x <= series_.front() * m) return Out(v, previous_max);
    }
    auto it = std::lower_bound(series_.begin(), series_.end(), x, [m](double s, double a) { return s * m < a; });
    return Out(v, *(it - 1) * m);
  }

 private:
  // A decimal rounds to a decimal, anything else to a double.
  static Value Out(const Value& in, double d) {
    return in.type() == BSON_TYPE_DECIMAL128 ? AsDecimal(d) : Value::Double(d);
  }
  std::vector<double> series_;
};

// Powers of two: as MongoDB computes them, 2 raised to a whole exponent,
// which is an int or a long when it fits (whatever the input's type, but a
// decimal's), else a double.
class PowersOfTwo : public Granularity {
 public:
  Value RoundUp(const Value& v) const override {
    if (v.AsDouble() == 0.0) return v;
    int exp = 0;
    if (v.type() == BSON_TYPE_INT32 || v.type() == BSON_TYPE_INT64) {
      exp = 64 - __builtin_clzll(static_cast<uint64_t>(v.AsInt64()));
    } else {
      exp = static_cast<int>(std::floor(std::log2(v.AsDouble())) + 1.0);
    }
    return Pow2(v, exp);
  }
  Value RoundDown(const Value& v) const override {
    if (v.AsDouble() == 0.0) return v;
    int exp = 0;
    if (v.type() == BSON_TYPE_INT32 || v.type() == BSON_TYPE_INT64) {
      const uint64_t n = static_cast<uint64_t>(v.AsInt64());
      const int leading = __builtin_clzll(n), trailing = __builtin_ctzll(n);
      exp = leading + trailing == 63 ? 63 - leading - 1 : 63 - leading;  // a power of two goes one lower
    } else {
      exp = static_cast<int>(std::ceil(std::log2(v.AsDouble())) - 1.0);
    }
    return Pow2(v, exp);
  }

 private:
  static Value Pow2(const Value& in, int exp) {
    const double d = std::ldexp(1.0, exp);
    if (in.type() == BSON_TYPE_DECIMAL128) return AsDecimal(d);
    if (exp >= 0 && exp <= 62) return Value::Integer(int64_t{1} << exp);
    return Value::Double(d);
  }
};

// MongoDB's series (its R40 has no 335, and so neither has this one).
Result<std::shared_ptr<const Granularity>> GranularityNamed(std::string_view name) {
  using Series = std::vector<double>;
  static const std::pair<std::string_view, Series> kSeries[] = {
      {"R5", {10, 16, 25, 40, 63}},
      {"R10", {100, 125, 160, 200, 250, 315, 400, 500, 630, 800}},
      {"R20", {100, 112, 125, 140, 160, 180, 200, 224, 250, 280, 315, 355, 400, 450, 500, 560, 630, 710, 800, 900}},
      {"R40", {100, 106, 112, 118, 125, 132, 140, 150, 160, 170, 180, 190, 200, 212, 224, 236, 250, 265, 280, 300,
               315, 355, 375, 400, 425, 450, 475, 500, 530, 560, 600, 630, 670, 710, 750, 800, 850, 900, 950}},
      {"R80", {103, 109, 115, 122, 128, 136, 145, 155, 165, 175, 185, 195, 206, 218, 230, 243, 258, 272, 290, 307,
               325, 345, 365, 387, 412, 437, 462, 487, 515, 545, 575, 615, 650, 690, 730, 775, 825, 875, 925, 975}},
      {"1-2-5", {10, 20, 50}},
      {"E6", {10, 15, 22, 33, 47, 68}},
      {"E12", {10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82}},
      {"E24", {10, 11, 12, 13, 15, 16, 18, 20, 22, 24, 27, 30, 33, 36, 39, 43, 47, 51, 56, 62, 68, 75, 82, 91}},
      {"E48", {100, 105, 110, 115, 121, 127, 133, 140, 147, 154, 162, 169, 178, 187, 196, 205,
               215, 226, 237, 249, 261, 274, 287, 301, 316, 332, 348, 365, 383, 402, 422, 442,
               464, 487, 511, 536, 562, 590, 619, 649, 681, 715, 750, 787, 825, 866, 909, 953}},
      {"E96", {100, 102, 105, 107, 110, 113, 115, 118, 121, 124, 127, 130, 133, 137, 140, 143, 147, 150, 154, 158,
               162, 165, 169, 174, 178, 182, 187, 191, 196, 200, 205, 210, 215, 221, 226, 232, 237, 243, 249, 255,
               261, 267, 274, 280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357, 365, 374, 383, 392, 402, 412,
               422, 432, 442, 453, 464, 475, 487, 499, 511, 523, 536, 549, 562, 576, 590, 604, 619, 634, 649, 665,
               681, 698, 715, 732, 750, 768, 787, 806, 825, 845, 866, 887, 909, 931, 953, 976}},
      {"E192", {100, 101, 102, 104, 105, 106, 107, 109, 110, 111, 113, 114, 115, 117, 118, 120, 121, 123, 124, 126,
                127, 129, 130, 132, 133, 135, 137, 138, 140, 142, 143, 145, 147, 149, 150, 152, 154, 156, 158, 160,
                162, 164, 165, 167, 169, 172, 174, 176, 178, 180, 182, 184, 187, 189, 191, 193, 196, 198, 200, 203,
                205, 208, 210, 213, 215, 218, 221, 223, 226, 229, 232, 234, 237, 240, 243, 246, 249, 252, 255, 258,
                261, 264, 267, 271, 274, 277, 280, 284, 287, 291, 294, 298, 301, 305, 309, 312, 316, 320, 324, 328,
                332, 336, 340, 344, 348, 352, 357, 361, 365, 370, 374, 379, 383, 388, 392, 397, 402, 407, 412, 417,
                422, 427, 432, 437, 442, 448, 453, 459, 464, 470, 475, 481, 487, 493, 499, 505, 511, 517, 523, 530,
                536, 542, 549, 556, 562, 569, 576, 583, 590, 597, 604, 612, 619, 626, 634, 642, 649, 657, 665, 673,
                681, 690, 698, 706, 715, 723, 732, 741, 750, 759, 768, 777, 787, 796, 806, 816, 825, 835, 845, 856,
                866, 876, 887, 898, 909, 920, 931, 942, 953, 965, 976, 988}},
  };
  if (name == "POWERSOF2") return std::shared_ptr<const Granularity>(std::make_shared<PowersOfTwo>());
  for (const auto& [series_name, series] : kSeries) {
    if (name == series_name) return std::shared_ptr<const Granularity>(std::make_shared<PreferredNumbers>(series));
  }
  return StageError(40257, "Unknown rounding granularity '" + std::string(name) + "'");
}

class BucketAutoSpec : public StageSpec {
 public:
  BucketAutoSpec(expr::ExprPtr group_by, int buckets, std::vector<AccumulatorField> fields,
                 std::shared_ptr<const Granularity> granularity, query::SortSpec by_key, const bson::StringOrder* strings)
      : group_by_(std::move(group_by)),
        buckets_(buckets),
        fields_(std::move(fields)),
        granularity_(std::move(granularity)),
        by_key_(std::move(by_key)),
        strings_(strings) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$bucketAuto"; }

  const expr::Expression& group_by() const { return *group_by_; }
  int buckets() const { return buckets_; }
  const std::vector<AccumulatorField>& fields() const { return fields_; }
  const Granularity* granularity() const { return granularity_.get(); }
  const query::SortSpec& by_key() const { return by_key_; }  // {k: 1} over {k: [key], d: document}
  const bson::StringOrder* strings() const { return strings_; }

 private:
  expr::ExprPtr group_by_;
  int buckets_;
  std::vector<AccumulatorField> fields_;
  std::shared_ptr<const Granularity> granularity_;
  query::SortSpec by_key_;
  const bson::StringOrder* strings_;  // the pipeline's collation
};

class BucketAutoStage : public Stage {
 public:
  BucketAutoStage(StagePtr input, const BucketAutoSpec& spec, const RunContext& ctx)
      : input_(std::move(input)),
        spec_(spec),
        vars_(ctx.MakeVariables()),
        sorter_(ctx.engine, spec.by_key(), SIZE_MAX, ctx.budget) {}

  Result<Value> Next() override {
    if (!sorted_) DOCKET_RETURN_IF_ERROR(SortInput());
    if (bucket_number_ >= spec_.buckets()) return Value();
    ++bucket_number_;
    return NextBucket();
  }

 private:
  struct Entry {
    Value key;
    Value doc;
  };

  Status SortInput() {
    int64_t count = 0;
    while (true) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      vars_.SetRoot(*doc);
      auto key = spec_.group_by().Evaluate(vars_);
      if (!key.ok()) return key.status();
      Value k = key->missing() ? Value::Null() : *key;
      if (spec_.granularity() != nullptr) {
        if (!k.is_number()) {
          return StageError(40258, std::string("$bucketAuto can specify a 'granularity' with numeric boundaries only, "
                                               "but found a value with type: ") + expr::TypeName(k));
        }
        if (std::isnan(k.AsDouble())) {
          return StageError(40259, "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found "
                                   "a NaN");
        }
        if (k.AsDouble() < 0) {
          return StageError(40260, "$bucketAuto can specify a 'granularity' with non-negative numbers only, but "
                                   "found a negative number");
        }
      }
      // The key inside a one-element array: a sort key of an array is its
      // smallest element, and this key must compare as a whole value.
      expr::DocumentBuilder entry;
      entry.Append("k", expr::MakeArray({k}));
      entry.Append("d", *doc);
      DOCKET_RETURN_IF_ERROR(sorter_.Add(entry.Finish().AsDocument()));
      ++count;
    }
    input_.reset();
    auto sorted = sorter_.Finish();
    if (!sorted.ok()) return sorted.status();
    sorted_ = std::move(sorted).value();
    approx_size_ = std::max<int64_t>(1, static_cast<int64_t>(std::round(static_cast<double>(count) / spec_.buckets())));
    return Status::OK();
  }

  Result<std::optional<Entry>> Read() {
    auto next = sorted_->Next();
    if (!next.ok()) return next.status();
    if (!*next) return std::optional<Entry>();
    bson_iter_t wrapped, k, d;
    if (!(*next)->Find("k", &wrapped) || !BSON_ITER_HOLDS_ARRAY(&wrapped) || !bson_iter_recurse(&wrapped, &k) ||
        !bson_iter_next(&k) || !(*next)->Find("d", &d)) {
      return Status(ErrorCode::kInternalError, "a sorted $bucketAuto entry is damaged");
    }
    return std::optional<Entry>(Entry{Value::Copy(k), Value::Copy(d)});
  }

  int Compare(const Value& a, const Value& b) const { return expr::Compare(a, b, spec_.strings()); }

  struct Bucket {
    Value min, max;
    std::vector<std::unique_ptr<Accumulator>> accumulators;
  };

  Status Add(const Entry& e, Bucket* bucket) {
    bucket->max = e.key;
    vars_.SetRoot(e.doc);
    for (size_t i = 0; i < bucket->accumulators.size(); ++i) {
      auto v = spec_.fields()[i].spec->argument().Evaluate(vars_);
      if (!v.ok()) return v.status();
      DOCKET_RETURN_IF_ERROR(bucket->accumulators[i]->Add(*v, e.doc));
    }
    return Status::OK();
  }

  Result<Value> NextBucket() {
    std::optional<Entry> current = std::move(pending_);
    pending_.reset();
    if (!current) {
      auto read = Read();
      if (!read.ok()) return read.status();
      current = std::move(read).value();
    }
    if (!current) return Value();  // fewer documents than buckets
    Bucket bucket{current->key, current->key, {}};
    const Granularity* g = spec_.granularity();
    if (g != nullptr) bucket.min = previous_max_ ? *previous_max_ : g->RoundDown(current->key);
    for (const AccumulatorField& f : spec_.fields()) {
      auto made = f.spec->Make(Value::Null(), vars_);
      if (!made.ok()) return made.status();
      bucket.accumulators.push_back(std::move(made).value());
    }
    DOCKET_RETURN_IF_ERROR(Add(*current, &bucket));
    const bool last = bucket_number_ == spec_.buckets();
    for (int64_t i = 1; last || i < approx_size_; ++i) {
      auto read = Read();
      if (!read.ok()) return read.status();
      if (!*read) break;
      DOCKET_RETURN_IF_ERROR(Add(**read, &bucket));
    }
    // The boundary: what else belongs here, and where the next bucket starts.
    auto read = Read();
    if (!read.ok()) return read.status();
    std::optional<Entry> next = std::move(read).value();
    if (g != nullptr) {
      const Value boundary = g->RoundUp(bucket.max);
      while (next && (Compare(boundary, next->key) > 0 || Compare(bucket.max, next->key) == 0)) {
        DOCKET_RETURN_IF_ERROR(Add(*next, &bucket));
        auto more = Read();
        if (!more.ok()) return more.status();
        next = std::move(more).value();
      }
      bucket.max = boundary.AsDouble() == 0.0 && next ? g->RoundDown(next->key) : boundary;
    } else {
      while (next && Compare(bucket.max, next->key) == 0) {
        DOCKET_RETURN_IF_ERROR(Add(*next, &bucket));
        auto more = Read();
        if (!more.ok()) return more.status();
        next = std::move(more).value();
      }
      if (next) bucket.max = next->key;
    }
    pending_ = std::move(next);
    previous_max_ = bucket.max;

    expr::DocumentBuilder id;
    id.Append("min", bucket.min);
    id.Append("max", bucket.max);
    expr::DocumentBuilder out;
    out.Append("_id", id.Finish());
    for (size_t i = 0; i < bucket.accumulators.size(); ++i) {
      auto v = bucket.accumulators[i]->Finish();
      if (!v.ok()) return v.status();
      out.Append(spec_.fields()[i].name, v->missing() ? Value::Null() : *v);
    }
    if (out.bytes() > kMaxDocumentSize) return Status(ErrorCode::kBSONObjectTooLarge, "a $bucketAuto result exceeds 16MB");
    return out.Finish();
  }

  StagePtr input_;
  const BucketAutoSpec& spec_;
  expr::Variables vars_;
  engine::Sorter sorter_;
  StreamPtr sorted_;
  int64_t approx_size_ = 1;
  int bucket_number_ = 0;
  std::optional<Entry> pending_;     // the first entry of the next bucket, read already
  std::optional<Value> previous_max_;
};

Result<StagePtr> BucketAutoSpec::Open(StagePtr input, const RunContext& ctx) const {
  return StagePtr(std::make_unique<BucketAutoStage>(std::move(input), *this, ctx));
}

}  // namespace

Status ParseBucketAuto(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (bson_iter_type(&arg) != BSON_TYPE_DOCUMENT) {
    return StageError(40240, "The argument to $bucketAuto must be an object, but found type: " +
                                 std::string(expr::TypeName(Value::Borrow(arg))));
  }
  std::optional<expr::ExprPtr> group_by;
  std::optional<int> buckets;
  std::vector<AccumulatorField> fields;
  std::shared_ptr<const Granularity> granularity;
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = KeyOf(field);
    const Value v = Value::Borrow(field);
    if (key == "groupBy") {
      const bool expression_object = v.is_document() && bson::IsOperatorDocument(field);
      const bool path = BSON_ITER_HOLDS_UTF8(&field) && v.AsString().size() > 1 && v.AsString()[0] == '$';
      if (!expression_object && !path) {
        return StageError(40239, "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an "
                                 "expression object, but found: " + v.ToJson());
      }
      auto e = expr::Parse(field, *ctx.scope);
      if (!e.ok()) return e.status();
      group_by = std::move(e).value();
    } else if (key == "buckets") {
      if (!v.is_number()) {
        return StageError(40241, "The $bucketAuto 'buckets' field must be a numeric value, but found type: " +
                                     std::string(expr::TypeName(v)));
      }
      const double d = v.AsDouble();
      if (std::trunc(d) != d || d < -2147483648.0 || d > 2147483647.0) {
        return StageError(40242, "The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but "
                                 "found " + v.ToJson());
      }
      if (d <= 0) {
        return StageError(40243, "The $bucketAuto 'buckets' field must be greater than 0, but found: " + v.ToJson());
      }
      buckets = static_cast<int>(d);
    } else if (key == "output") {
      if (!v.is_document()) {
        return StageError(40244, "The $bucketAuto 'output' field must be an object, but found type: " +
                                     std::string(expr::TypeName(v)));
      }
      DOCKET_RETURN_IF_ERROR(ParseAccumulatorFields(field, false, *ctx.scope, &fields));
    } else if (key == "granularity") {
      if (!BSON_ITER_HOLDS_UTF8(&field)) {
        return StageError(40261, "The $bucketAuto 'granularity' field must be a string, but found type: " +
                                     std::string(expr::TypeName(v)));
      }
      auto named = GranularityNamed(v.AsString());
      if (!named.ok()) return named.status();
      granularity = std::move(named).value();
    } else {
      return StageError(40245, "Unrecognized option to $bucketAuto: " + std::string(key));
    }
  }
  if (!group_by || !buckets) return StageError(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
  if (fields.empty()) {
    const Document one = *Document::FromJson(R"({"": 1})");
    bson_iter_t one_it;
    one.Iterate(&one_it);
    bson_iter_next(&one_it);
    auto count = AccumulatorSpec::Parse("$sum", one_it, *ctx.scope);
    if (!count.ok()) return count.status();
    fields.push_back(AccumulatorField{"count", std::move(count).value()});
  }
  auto by_key = query::SortSpec::Compile(*Document::FromJson(R"({"k": 1})"), ctx.scope->strings());
  if (!by_key.ok()) return by_key.status();
  out->push_back(std::make_shared<BucketAutoSpec>(std::move(*group_by), *buckets, std::move(fields),
                                                  std::move(granularity), std::move(by_key).value(),
                                                  ctx.scope->strings()));
  return Status::OK();
}

}  // namespace docket::aggregate
