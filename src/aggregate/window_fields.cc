// $setWindowFields and $fill (MongoDB 5.0+/5.3+): the input grouped into
// partitions (by `partitionBy`'s value), each sorted by `sortBy`, and each
// document given output fields computed over a window of its partition:
//
//   accumulators   $sum $avg $min $max $count $push $addToSet $first $last
//                  $stdDevPop $stdDevSamp, the N ones ($firstN $lastN $minN
//                  $maxN $topN $bottomN $top $bottom), $covariancePop,
//                  $covarianceSamp, $derivative (the slope between the
//                  window's ends), $integral (the trapezoidal rule) — the
//                  last two by the one sortBy field, dates in a unit of
//                  week or smaller — over `window`: {documents: [lo,
//                  hi]} (positions relative to the document, or "unbounded",
//                  "current") or {range: [lo, hi], unit} (values of the one
//                  sortBy field relative to the document's, dates with a
//                  unit); no window: the whole partition
//   ranks          $documentNumber $rank $denseRank (one sortBy field)
//   $shift         {output, by, default}: the output of the document `by`
//                  places away in the partition
//   $locf          the last non-null value so far, for null or missing ones
//   $linearFill    null or missing values interpolated linearly between their
//                  neighbours by the one (numeric or date) sortBy field
//   $expMovingAvg  {input, N} or {input, alpha}
//
// Output: the partitions in partitionBy order, each in sortBy order (as
// mongod's, which sorts by both). The input is held in memory (at most the
// pipeline's memory budget: past it, 5414201 as mongod's in-memory stage).
// $median and $percentile (MongoDB 7.0) are refused by name.
//
// $fill is $setWindowFields underneath, as in mongod: {value: <expr>} sets
// null or missing fields to the expression; {method: "locf" | "linear"}
// uses $locf / $linearFill.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "aggregate/accumulators.h"
#include "aggregate/stages.h"
#include "aggregate/time_units.h"
#include "bson/append_element.h"
#include "bson/builder.h"
#include "bson/value.h"
#include "docket/deadline.h"
#include "bson/path.h"
#include "query/sort.h"

namespace docket::aggregate {
namespace {

using expr::Value;

constexpr int kFailedToParse = 9;

Status ParseError(std::string message) { return StageError(kFailedToParse, std::move(message)); }

// ---- windows ----

struct Bound {
  enum class Kind { kUnbounded, kCurrent, kOffset } kind = Kind::kUnbounded;
  double offset = 0;  // kOffset: positions (documents) or sortBy units (range)
};

struct Window {
  bool range = false;  // false: documents
  Bound lower, upper;
  TimeUnit unit = TimeUnit::kNone;
  bool whole_partition() const {
    return lower.kind == Bound::Kind::kUnbounded && upper.kind == Bound::Kind::kUnbounded;
  }
};


Result<Bound> ParseBound(const Value& v, bool range, bool with_unit) {
  Bound b;
  if (v.is_string() && v.AsString() == "unbounded") return b;
  if (v.is_string() && v.AsString() == "current") {
    b.kind = Bound::Kind::kCurrent;
    return b;
  }
  if (!v.is_number()) {
    return ParseError(std::string("Window bounds must be 'unbounded', 'current', or a number, not ") + v.ToJson());
  }
  b.kind = Bound::Kind::kOffset;
  b.offset = v.AsDouble();
  if (!std::isfinite(b.offset)) return ParseError("Window bounds must be finite, not " + v.ToJson());
  if ((!range || with_unit) && b.offset != std::trunc(b.offset)) {
    return ParseError(std::string(range ? "With a unit, range-based bounds" : "Document-based bounds") +
                      " must be integers, not " + v.ToJson());
  }
  return b;
}

// {documents: [lo, hi]} | {range: [lo, hi], unit: "..."}.
Result<Window> ParseWindow(const Value& spec) {
  if (!spec.is_document()) return ParseError("'window' field must be an object, not " + spec.ToJson());
  Window w;
  std::optional<Value> bounds, unit;
  bool documents = false;
  const Document doc = spec.AsDocument();
  bson_iter_t it;
  doc.Iterate(&it);
  while (bson_iter_next(&it)) {
    const std::string_view key = KeyOf(it);
    if (key == "documents" || key == "range") {
      if (bounds) return ParseError("Window bounds can specify either 'documents' or 'range', not both");
      documents = key == "documents";
      w.range = !documents;
      bounds = Value::Copy(it);
    } else if (key == "unit") {
      unit = Value::Copy(it);
    } else {
      return ParseError("'window' field has an unexpected argument: " + std::string(key));
    }
  }
  if (!bounds) return ParseError("'window' field must specify 'documents' or 'range'");
  if (unit) {
    if (documents) return ParseError("'unit' is only valid with 'range' window bounds");
    auto parsed = ParseTimeUnit(*unit);
    if (!parsed.ok()) return parsed.status();
    w.unit = *parsed;
  }
  if (!bounds->is_array() || bounds->ArrayLength() != 2) {
    return ParseError(std::string("Window bounds must be a 2-element array: ") + bounds->ToJson());
  }
  const std::vector<Value> pair = expr::Elements(*bounds);
  auto lower = ParseBound(pair[0], w.range, unit.has_value());
  if (!lower.ok()) return lower.status();
  auto upper = ParseBound(pair[1], w.range, unit.has_value());
  if (!upper.ok()) return upper.status();
  w.lower = *lower;
  w.upper = *upper;
  const auto rank = [](const Bound& b) { return b.kind == Bound::Kind::kCurrent ? 0.0 : b.offset; };
  if (w.lower.kind == Bound::Kind::kUnbounded && w.upper.kind == Bound::Kind::kUnbounded) return w;
  if (w.upper.kind == Bound::Kind::kUnbounded || w.lower.kind == Bound::Kind::kUnbounded) {
    // "unbounded" as the upper bound only means the end, as the lower the start.
    return w;
  }
  if (rank(w.lower) > rank(w.upper)) {
    return ParseError("Lower bound must not exceed upper bound: " + bounds->ToJson());
  }
  return w;
}

// ---- output fields ----

enum class Function {
  kAccumulator,
  kCovariancePop,
  kCovarianceSamp,
  kDerivative,
  kIntegral,
  kDocumentNumber,
  kRank,
  kDenseRank,
  kShift,
  kLocf,
  kLinearFill,
  kExpMovingAvg
};


struct OutputField {
  std::string dotted;
  bson::Path path;
  Function function = Function::kAccumulator;
  std::unique_ptr<const AccumulatorSpec> accumulator;
  expr::ExprPtr input;   // $shift's output; the input of $locf, $linearFill, $expMovingAvg,
                         // $derivative, $integral; a covariance's first operand
  expr::ExprPtr input2;  // a covariance's second operand
  expr::ExprPtr shift_default;
  TimeUnit unit = TimeUnit::kNone;  // $derivative / $integral over dates
  int64_t shift_by = 0;
  double alpha = 0;  // $expMovingAvg
  Window window;
  bool window_given = false;
};

// Window functions of later MongoDB versions (7.0's $median and
// $percentile): refused by name, never guessed.
bool NotYetSupported(std::string_view op) { return op == "$median" || op == "$percentile"; }

bool IsAccumulator(std::string_view op) {
  static const std::string_view kNames[] = {"$sum",     "$avg",      "$min",   "$max",      "$count",   "$push",
                                            "$addToSet", "$first",   "$last",  "$stdDevPop", "$stdDevSamp",
                                            "$firstN",  "$lastN",    "$minN",  "$maxN",     "$top",     "$bottom",
                                            "$topN",    "$bottomN"};
  return std::find(std::begin(kNames), std::end(kNames), op) != std::end(kNames);
}

// One {path: {<$function>: <argument>, window: {...}}} of `output`.
Result<OutputField> ParseOutputField(const bson_iter_t& field, expr::Scope& scope) {
  OutputField out;
  out.dotted = KeyOf(field);
  if (out.dotted.empty() || out.dotted[0] == '$') {
    return ParseError("Field name '" + out.dotted + "' of $setWindowFields' output is not a valid field path");
  }
  out.path = bson::SplitPath(out.dotted);
  if (!BSON_ITER_HOLDS_DOCUMENT(&field)) {
    return ParseError("The field '" + out.dotted + "' must be an object with a window function");
  }
  bson_iter_t arg;
  bson_iter_recurse(&field, &arg);
  std::optional<bson_iter_t> function;
  std::string op;
  while (bson_iter_next(&arg)) {
    const std::string_view key = KeyOf(arg);
    if (key == "window") {
      auto window = ParseWindow(Value::Borrow(arg));
      if (!window.ok()) return window.status();
      out.window = *window;
      out.window_given = true;
    } else if (!key.empty() && key[0] == '$') {
      if (function) return ParseError("Window function found an unknown argument: " + std::string(key));
      function = arg;
      op = key;
    } else {
      return ParseError("Window function found an unknown argument: " + std::string(key));
    }
  }
  if (!function) return ParseError("Expected a $-prefixed window function, " + out.dotted);
  const Value value = Value::Borrow(*function);
  const auto no_window = [&]() -> Status {
    if (out.window_given) return ParseError(op + " does not accept a 'window' field");
    return Status::OK();
  };
  if (IsAccumulator(op)) {
    if (op == "$count") {  // {$count: {}}: $sum of 1
      if (!value.is_document() || !value.AsDocument().empty()) return ParseError("$count only accepts an empty object");
      const Document one = *Document::FromJson(R"({"": 1})");
      bson_iter_t one_it;
      one.Iterate(&one_it);
      bson_iter_next(&one_it);
      auto spec = AccumulatorSpec::Parse("$sum", one_it, scope);
      if (!spec.ok()) return spec.status();
      out.accumulator = std::move(spec).value();
    } else {
      auto spec = AccumulatorSpec::Parse(op, *function, scope);
      if (!spec.ok()) return spec.status();
      out.accumulator = std::move(spec).value();
    }
    return out;
  }
  if (op == "$documentNumber" || op == "$rank" || op == "$denseRank") {
    out.function = op == "$documentNumber" ? Function::kDocumentNumber
                   : op == "$rank"        ? Function::kRank
                                          : Function::kDenseRank;
    if (!value.is_document() || !value.AsDocument().empty()) {
      return ParseError("Window function " + op + " only accepts an empty object as its argument");
    }
    if (out.window_given) return ParseError("Rank style window functions take no other arguments");
    return out;
  }
  if (op == "$shift") {
    out.function = Function::kShift;
    DOCKET_RETURN_IF_ERROR(no_window());
    if (!value.is_document()) return ParseError("Argument to $shift must be an object");
    bson_iter_t part;
    bson_iter_recurse(&*function, &part);
    bool has_by = false;
    while (bson_iter_next(&part)) {
      const std::string_view key = KeyOf(part);
      if (key == "output") {
        auto e = expr::Parse(part, scope);
        if (!e.ok()) return e.status();
        out.input = std::move(e).value();
      } else if (key == "by") {
        const Value by = Value::Borrow(part);
        if (!by.is_number() || by.AsDouble() != std::trunc(by.AsDouble()) || std::abs(by.AsDouble()) > 2147483647.0) {
          return ParseError("'$shift:by' field must be an integer, but found " + by.ToJson());
        }
        out.shift_by = by.AsInt64();
        has_by = true;
      } else if (key == "default") {
        auto e = expr::Parse(part, scope);
        if (!e.ok()) return e.status();
        if (!e.value()->IsConstant()) return ParseError("'$shift:default' expression must yield a constant value.");
        out.shift_default = std::move(e).value();
      } else {
        return ParseError("Unknown argument in $shift: " + std::string(key));
      }
    }
    if (!out.input || !has_by) return ParseError("$shift requires an 'output' and a 'by' field");
    return out;
  }
  if (op == "$locf" || op == "$linearFill") {
    out.function = op == "$locf" ? Function::kLocf : Function::kLinearFill;
    DOCKET_RETURN_IF_ERROR(no_window());
    auto e = expr::Parse(*function, scope);
    if (!e.ok()) return e.status();
    out.input = std::move(e).value();
    return out;
  }
  if (op == "$expMovingAvg") {
    out.function = Function::kExpMovingAvg;
    DOCKET_RETURN_IF_ERROR(no_window());
    if (!value.is_document()) return ParseError("$expMovingAvg must have exactly one of 'N' or 'alpha' and an 'input'");
    bson_iter_t part;
    bson_iter_recurse(&*function, &part);
    std::optional<double> n, alpha;
    while (bson_iter_next(&part)) {
      const std::string_view key = KeyOf(part);
      const Value v = Value::Borrow(part);
      if (key == "input") {
        auto e = expr::Parse(part, scope);
        if (!e.ok()) return e.status();
        out.input = std::move(e).value();
      } else if (key == "N") {
        if (!v.is_number() || v.AsDouble() != std::trunc(v.AsDouble()) || v.AsDouble() <= 0) {
          return ParseError("'N' field must be an integer greater than zero, but found " + v.ToJson());
        }
        n = v.AsDouble();
      } else if (key == "alpha") {
        if (!v.is_number() || !(v.AsDouble() > 0 && v.AsDouble() < 1)) {
          return ParseError("'alpha' must be a number between 0 and 1 (exclusive), but found " + v.ToJson());
        }
        alpha = v.AsDouble();
      } else {
        return ParseError("Got unrecognized field in $expMovingAvg: " + std::string(key));
      }
    }
    if (!out.input || n.has_value() == alpha.has_value()) {
      return ParseError("$expMovingAvg must have exactly one of 'N' or 'alpha' and an 'input'");
    }
    out.alpha = alpha ? *alpha : 2.0 / (*n + 1.0);
    return out;
  }
  if (op == "$covariancePop" || op == "$covarianceSamp") {
    out.function = op == "$covariancePop" ? Function::kCovariancePop : Function::kCovarianceSamp;
    if (!value.is_array() || value.ArrayLength() != 2) return ParseError(op + " requires an array of two expressions");
    bson_iter_t operands;
    bson_iter_recurse(&*function, &operands);
    bson_iter_next(&operands);
    auto x = expr::Parse(operands, scope);
    if (!x.ok()) return x.status();
    bson_iter_next(&operands);
    auto y = expr::Parse(operands, scope);
    if (!y.ok()) return y.status();
    out.input = std::move(x).value();
    out.input2 = std::move(y).value();
    return out;
  }
  if (op == "$derivative" || op == "$integral") {
    out.function = op == "$derivative" ? Function::kDerivative : Function::kIntegral;
    if (!value.is_document()) return ParseError(op + " requires an object with an 'input'");
    bson_iter_t part;
    bson_iter_recurse(&*function, &part);
    while (bson_iter_next(&part)) {
      const std::string_view key = KeyOf(part);
      if (key == "input") {
        auto e = expr::Parse(part, scope);
        if (!e.ok()) return e.status();
        out.input = std::move(e).value();
      } else if (key == "unit") {
        auto unit = ParseTimeUnit(Value::Borrow(part));
        if (!unit.ok()) return unit.status();
        if (*unit == TimeUnit::kMonth || *unit == TimeUnit::kQuarter || *unit == TimeUnit::kYear) {
          return StageError(5490704, op + "'s unit must be 'week' or smaller");
        }
        out.unit = *unit;
      } else {
        return ParseError(op + " got an unexpected argument: " + std::string(key));
      }
    }
    if (!out.input) return ParseError(op + " requires an 'input' expression");
    if (out.function == Function::kDerivative && (!out.window_given || out.window.whole_partition())) {
      return StageError(5624901, "$derivative requires explicit window bounds");
    }
    return out;
  }
  if (NotYetSupported(op)) {
    return Status(ErrorCode::kNotImplemented, "the window function " + op + " is not supported by Docket yet");
  }
  return ParseError("Unrecognized window function, " + op);
}

// ---- the stage ----

class SetWindowFieldsSpec : public StageSpec {
 public:
  SetWindowFieldsSpec(expr::ExprPtr partition_by, Document sort_doc, query::SortSpec sort,
                      std::optional<std::string> sort_field, bool sort_descending, std::vector<OutputField> outputs,
                      const bson::StringOrder* strings)
      : partition_by_(std::move(partition_by)),
        sort_doc_(std::move(sort_doc)),
        sort_(std::move(sort)),
        sort_field_(std::move(sort_field)),
        sort_descending_(sort_descending),
        outputs_(std::move(outputs)),
        strings_(strings) {}
  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$setWindowFields"; }

  const expr::Expression* partition_by() const { return partition_by_.get(); }
  const query::SortSpec& sort() const { return sort_; }
  bool sorted() const { return !sort_doc_.empty(); }
  const std::optional<std::string>& sort_field() const { return sort_field_; }  // when sortBy has one field
  bool sort_descending() const { return sort_descending_; }
  const std::vector<OutputField>& outputs() const { return outputs_; }
  const bson::StringOrder* strings() const { return strings_; }

 private:
  expr::ExprPtr partition_by_;  // null: one partition
  Document sort_doc_;
  query::SortSpec sort_;
  std::optional<std::string> sort_field_;
  bool sort_descending_;
  std::vector<OutputField> outputs_;
  const bson::StringOrder* strings_;
};

class SetWindowFieldsStage : public Stage {
 public:
  SetWindowFieldsStage(StagePtr input, const SetWindowFieldsSpec& spec, const RunContext& ctx)
      : input_(std::move(input)), spec_(spec), vars_(ctx.MakeVariables()), budget_(ctx.budget.memory_limit_bytes) {}

  Result<Value> Next() override {
    if (!loaded_) DOCKET_RETURN_IF_ERROR(Load());
    if (next_ >= out_.size()) return Value();
    return std::move(out_[next_++]);
  }

 private:
  struct Row {
    Value partition;
    query::SortSpec::SortValues sort;
    Value doc;
    size_t arrival = 0;
  };

  Status Load() {
    loaded_ = true;
    std::vector<Row> rows;
    size_t bytes = 0;
    for (;;) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      Row row;
      if (spec_.partition_by() != nullptr) {
        vars_.SetRoot(*doc);
        auto p = spec_.partition_by()->Evaluate(vars_);
        if (!p.ok()) return p.status();
        if (p->is_array()) {
          return StageError(5435602, "The partition key for $setWindowFields must not evaluate to an array");
        }
        row.partition = p->missing() ? Value::Null() : *p;
      } else {
        row.partition = Value::Null();
      }
      if (spec_.sorted()) row.sort = spec_.sort().Extract(doc->AsDocument());
      row.doc = *doc;
      row.arrival = rows.size();
      bytes += doc->ContainerBytes().size() + 64;
      if (bytes > budget_) {
        return StageError(5414201, "Exceeded memory limit in $setWindowFields, used " + std::to_string(bytes) +
                                       " bytes but max allowed is " + std::to_string(budget_) + " bytes");
      }
      rows.push_back(std::move(row));
    }
    input_.reset();
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      const int by_partition = expr::Compare(a.partition, b.partition, spec_.strings());
      if (by_partition != 0) return by_partition < 0;
      return spec_.sorted() && spec_.sort().Compare(a.sort, b.sort) < 0;
    });
    size_t start = 0;
    while (start < rows.size()) {
      size_t end = start + 1;
      while (end < rows.size() && expr::Compare(rows[start].partition, rows[end].partition, spec_.strings()) == 0) ++end;
      DOCKET_RETURN_IF_ERROR(CheckDeadline());
      DOCKET_RETURN_IF_ERROR(Partition(rows, start, end));
      start = end;
    }
    return Status::OK();
  }

  // The one sortBy field's value of each row (ranks, range windows,
  // $linearFill).
  Result<std::vector<Value>> SortKeys(const std::vector<Row>& rows, size_t start, size_t end) {
    std::vector<Value> keys;
    auto path = expr::FieldPath(*spec_.sort_field());
    if (!path.ok()) return path.status();
    for (size_t i = start; i < end; ++i) {
      vars_.SetRoot(rows[i].doc);
      auto v = (*path)->Evaluate(vars_);
      if (!v.ok()) return v.status();
      keys.push_back(*v);
    }
    return keys;
  }

  // A range window's bound for a row whose sortBy value is `key`.
  static double RangeValue(double key, const Bound& b, TimeUnit unit, bool lower) {
    switch (b.kind) {
      case Bound::Kind::kUnbounded:
        return lower ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      case Bound::Kind::kCurrent:
        return key;
      case Bound::Kind::kOffset:
        if (unit == TimeUnit::kNone) return key + b.offset;
        return static_cast<double>(AddTimeUnits(static_cast<int64_t>(key), unit, static_cast<int64_t>(b.offset)));
    }
    return key;
  }

  Status Partition(std::vector<Row>& rows, size_t start, size_t end) {
    const size_t n = end - start;
    std::vector<Value> outputs_of_row(n);
    std::vector<Value> docs(n);
    for (size_t i = 0; i < n; ++i) docs[i] = rows[start + i].doc;
    std::optional<std::vector<Value>> keys;  // loaded on first need
    const auto sort_keys = [&]() -> Status {
      if (keys) return Status::OK();
      auto k = SortKeys(rows, start, end);
      if (!k.ok()) return k.status();
      keys = std::move(k).value();
      return Status::OK();
    };
    // Range windows and $linearFill need numbers (or dates) to measure by.
    const auto numeric_keys = [&](bool dates) -> Result<std::vector<double>> {
      DOCKET_RETURN_IF_ERROR(sort_keys());
      std::vector<double> out;
      for (const Value& k : *keys) {
        if (dates ? k.type() != BSON_TYPE_DATE_TIME : !k.is_number()) {
          return StageError(5429513, std::string("Invalid range: Expected the sortBy field to be a ") +
                                         (dates ? "date" : "number") + ", but it was " + expr::TypeName(k));
        }
        out.push_back(dates ? static_cast<double>(k.AsDateMillis()) : k.AsDouble());
      }
      return out;
    };
    for (const OutputField& field : spec_.outputs()) {
      std::vector<Value> results(n);
      switch (field.function) {
        case Function::kAccumulator:
        case Function::kCovariancePop:
        case Function::kCovarianceSamp:
        case Function::kDerivative:
        case Function::kIntegral: {
          const Window& w = field.window;
          const bool calculus = field.function == Function::kDerivative || field.function == Function::kIntegral;
          std::vector<double> range_keys;
          if (w.range) {
            auto k = numeric_keys(w.unit != TimeUnit::kNone);
            if (!k.ok()) return k.status();
            range_keys = std::move(k).value();
          }
          // The x of $derivative / $integral: the sortBy field, a date's
          // milliseconds in `unit`s.
          std::vector<double> xs;
          if (calculus) {
            DOCKET_RETURN_IF_ERROR(sort_keys());
            const bool dates = !keys->empty() && (*keys)[0].type() == BSON_TYPE_DATE_TIME;
            if (dates != (field.unit != TimeUnit::kNone)) {
              return StageError(5624900, dates ? "a date sortBy needs a 'unit' in " + field.dotted
                                               : "'unit' is only for a date sortBy, in " + field.dotted);
            }
            auto x = numeric_keys(dates);
            if (!x.ok()) return x.status();
            xs = std::move(x).value();
            if (dates) {
              for (double& v : xs) v /= static_cast<double>(AddTimeUnits(0, field.unit, 1));
            }
          }
          std::vector<Value> arguments(n), seconds(n);
          for (size_t i = 0; i < n; ++i) {
            vars_.SetRoot(docs[i]);
            auto a = field.function == Function::kAccumulator ? field.accumulator->argument().Evaluate(vars_)
                                                                : field.input->Evaluate(vars_);
            if (!a.ok()) return a.status();
            arguments[i] = *a;
            if (field.input2) {
              auto b = field.input2->Evaluate(vars_);
              if (!b.ok()) return b.status();
              seconds[i] = *b;
            }
          }
          // [lo, hi) of row i's window.
          const auto window_of = [&](size_t i) -> std::pair<size_t, size_t> {
            if (w.whole_partition()) return {0, n};
            if (!w.range) {
              const auto position = [&](const Bound& b, bool lower) -> int64_t {
                if (b.kind == Bound::Kind::kUnbounded) return lower ? 0 : static_cast<int64_t>(n);
                const int64_t p = static_cast<int64_t>(i) + (b.kind == Bound::Kind::kCurrent ? 0 : static_cast<int64_t>(b.offset));
                return lower ? p : p + 1;
              };
              const int64_t l = std::clamp<int64_t>(position(w.lower, true), 0, static_cast<int64_t>(n));
              const int64_t h = std::clamp<int64_t>(position(w.upper, false), 0, static_cast<int64_t>(n));
              return {static_cast<size_t>(l), static_cast<size_t>(std::max(l, h))};
            }
            // The rows whose value lies in [a, b]: one run, the keys being sorted.
            const double a = RangeValue(range_keys[i], w.lower, w.unit, true);
            const double b = RangeValue(range_keys[i], w.upper, w.unit, false);
            size_t lo = 0, hi = 0;
            if (!spec_.sort_descending()) {
              lo = std::lower_bound(range_keys.begin(), range_keys.end(), a) - range_keys.begin();
              hi = std::upper_bound(range_keys.begin(), range_keys.end(), b) - range_keys.begin();
            } else {
              lo = std::lower_bound(range_keys.begin(), range_keys.end(), b, std::greater<double>()) - range_keys.begin();
              hi = std::upper_bound(range_keys.begin(), range_keys.end(), a, std::greater<double>()) - range_keys.begin();
            }
            return {lo, std::max(lo, hi)};
          };
          std::optional<Value> whole;  // the whole partition's result, computed once
          for (size_t i = 0; i < n; ++i) {
            DOCKET_RETURN_IF_ERROR(CheckDeadline());  // maxTimeMS, killOp: windows can cost n * w
            if (w.whole_partition() && whole) {
              results[i] = *whole;
              continue;
            }
            const auto [lo, hi] = window_of(i);
            Value result = Value::Null();
            if (field.function == Function::kAccumulator) {
              auto acc = field.accumulator->Make(Value::Null(), vars_);
              if (!acc.ok()) return acc.status();
              for (size_t j = lo; j < hi; ++j) DOCKET_RETURN_IF_ERROR((*acc)->Add(arguments[j], docs[j]));
              auto r = (*acc)->Finish();
              if (!r.ok()) return r.status();
              result = *r;
            } else if (!calculus) {  // covariance of the pairs where both are numbers
              double sx = 0, sy = 0, count = 0;
              for (size_t j = lo; j < hi; ++j) {
                if (!arguments[j].is_number() || !seconds[j].is_number()) continue;
                sx += arguments[j].AsDouble();
                sy += seconds[j].AsDouble();
                ++count;
              }
              const double divisor = field.function == Function::kCovariancePop ? count : count - 1;
              if (divisor > 0) {
                double c = 0;
                for (size_t j = lo; j < hi; ++j) {
                  if (!arguments[j].is_number() || !seconds[j].is_number()) continue;
                  c += (arguments[j].AsDouble() - sx / count) * (seconds[j].AsDouble() - sy / count);
                }
                result = Value::Double(c / divisor);
              }
            } else {
              for (size_t j = lo; j < hi; ++j) {
                if (!arguments[j].is_number()) {
                  return StageError(5423900, std::string("the input of ") +
                                                 (field.function == Function::kDerivative ? "$derivative" : "$integral") +
                                                 " must be a number, not " + expr::TypeName(arguments[j]));
                }
              }
              if (field.function == Function::kDerivative) {
                if (hi - lo >= 2 && xs[hi - 1] != xs[lo]) {
                  result = Value::Double((arguments[hi - 1].AsDouble() - arguments[lo].AsDouble()) / (xs[hi - 1] - xs[lo]));
                }
              } else if (hi > lo) {  // the trapezoidal rule
                double area = 0;
                for (size_t j = lo + 1; j < hi; ++j) {
                  area += (xs[j] - xs[j - 1]) * (arguments[j].AsDouble() + arguments[j - 1].AsDouble()) / 2;
                }
                result = Value::Double(area);
              }
            }
            if (w.whole_partition()) whole = result;
            results[i] = result;
          }
          break;
        }
        case Function::kDocumentNumber:
          for (size_t i = 0; i < n; ++i) results[i] = Value::Integer(static_cast<int64_t>(i + 1));
          break;
        case Function::kRank:
        case Function::kDenseRank: {
          DOCKET_RETURN_IF_ERROR(sort_keys());
          int64_t rank = 0, dense = 0;
          for (size_t i = 0; i < n; ++i) {
            const bool tie = i > 0 && expr::Compare((*keys)[i], (*keys)[i - 1], spec_.strings()) == 0;
            if (!tie) {
              rank = static_cast<int64_t>(i) + 1;
              ++dense;
            }
            results[i] = Value::Integer(field.function == Function::kRank ? rank : dense);
          }
          break;
        }
        case Function::kShift: {
          Value fallback = Value::Null();
          if (field.shift_default) {
            auto d = field.shift_default->Evaluate(vars_);
            if (!d.ok()) return d.status();
            if (!d->missing()) fallback = *d;
          }
          for (size_t i = 0; i < n; ++i) {
            const int64_t j = static_cast<int64_t>(i) + field.shift_by;
            if (j < 0 || j >= static_cast<int64_t>(n)) {
              results[i] = fallback;
              continue;
            }
            vars_.SetRoot(docs[static_cast<size_t>(j)]);
            auto v = field.input->Evaluate(vars_);
            if (!v.ok()) return v.status();
            results[i] = v->missing() ? Value::Null() : *v;
          }
          break;
        }
        case Function::kLocf: {
          Value last = Value::Null();
          for (size_t i = 0; i < n; ++i) {
            vars_.SetRoot(docs[i]);
            auto v = field.input->Evaluate(vars_);
            if (!v.ok()) return v.status();
            if (!v->is_nullish()) last = *v;
            results[i] = v->is_nullish() ? last : *v;
          }
          break;
        }
        case Function::kLinearFill: {
          DOCKET_RETURN_IF_ERROR(sort_keys());
          const bool dates = !keys->empty() && (*keys)[0].type() == BSON_TYPE_DATE_TIME;
          auto x = numeric_keys(dates);
          if (!x.ok()) return x.status();
          std::vector<Value> y(n);
          for (size_t i = 0; i < n; ++i) {
            vars_.SetRoot(docs[i]);
            auto v = field.input->Evaluate(vars_);
            if (!v.ok()) return v.status();
            if (!v->is_nullish() && !v->is_number()) {
              return StageError(6050106, std::string("There can be no non-numeric values in a $linearFill input, "
                                                     "but found ") + expr::TypeName(*v));
            }
            if (i > 0 && (*x)[i] == (*x)[i - 1]) {
              return StageError(6050107, "There can be no repeated values in the sortBy field of a $linearFill");
            }
            y[i] = *v;
          }
          for (size_t i = 0; i < n; ++i) {
            if (!y[i].is_nullish()) {
              results[i] = y[i];
              continue;
            }
            size_t before = i, after = i;
            while (before > 0 && y[before].is_nullish()) --before;
            while (after + 1 < n && y[after].is_nullish()) ++after;
            if (y[before].is_nullish() || y[after].is_nullish()) {
              results[i] = Value::Null();  // no value on one side: nothing to interpolate
              continue;
            }
            const double x0 = (*x)[before], x1 = (*x)[after], y0 = y[before].AsDouble(), y1 = y[after].AsDouble();
            results[i] = Value::Double(y0 + (y1 - y0) * ((*x)[i] - x0) / (x1 - x0));
          }
          break;
        }
        case Function::kExpMovingAvg: {
          std::optional<double> average;
          for (size_t i = 0; i < n; ++i) {
            vars_.SetRoot(docs[i]);
            auto v = field.input->Evaluate(vars_);
            if (!v.ok()) return v.status();
            if (!v->is_number()) {
              results[i] = Value::Null();
              continue;
            }
            average = average ? v->AsDouble() * field.alpha + *average * (1 - field.alpha) : v->AsDouble();
            results[i] = Value::Double(*average);
          }
          break;
        }
      }
      for (size_t i = 0; i < n; ++i) docs[i] = SetPath(docs[i], field.path, 0, results[i]);
    }
    for (size_t i = 0; i < n; ++i) out_.push_back(std::move(docs[i]));
    return Status::OK();
  }

  StagePtr input_;
  const SetWindowFieldsSpec& spec_;
  expr::Variables vars_;
  size_t budget_;
  bool loaded_ = false;
  std::vector<Value> out_;
  size_t next_ = 0;
};

Result<StagePtr> SetWindowFieldsSpec::Open(StagePtr input, const RunContext& ctx) const {
  return StagePtr(std::make_unique<SetWindowFieldsStage>(std::move(input), *this, ctx));
}

// The checks that need both sortBy and output.
Status CheckFunctionsAgainstSort(const std::vector<OutputField>& outputs, const Document& sort_doc, size_t sort_fields) {
  for (const OutputField& f : outputs) {
    const bool needs_one = f.function == Function::kRank || f.function == Function::kDenseRank ||
                           f.function == Function::kLinearFill || f.function == Function::kDerivative ||
                           f.function == Function::kIntegral || (f.window_given && f.window.range);
    const bool needs_some = f.function == Function::kDocumentNumber || f.function == Function::kShift ||
                            f.function == Function::kLocf || f.function == Function::kExpMovingAvg ||
                            (f.window_given && !f.window.whole_partition());
    if (needs_one && sort_fields != 1) {
      return StageError(5371602, "'" + f.dotted + "' needs a sortBy with exactly one field, not " +
                                     (sort_doc.empty() ? std::string("none") : sort_doc.ToJson()));
    }
    if (needs_some && sort_fields == 0) {
      return StageError(5339901, "'" + f.dotted + "' needs a sortBy (its window function or window depends on "
                                     "the order of the partition)");
    }
  }
  return Status::OK();
}

Status ParseSetWindowFields(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&arg)) return ParseError("the $setWindowFields stage specification must be an object");
  expr::ExprPtr partition_by;
  std::optional<Document> sort_doc;
  std::vector<OutputField> outputs;
  bool has_output = false;
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = KeyOf(field);
    if (key == "partitionBy") {
      auto e = expr::Parse(field, *ctx.scope);
      if (!e.ok()) return e.status();
      partition_by = std::move(e).value();
    } else if (key == "sortBy") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&field)) {
        return StageError(14, "BSON field '$setWindowFields.sortBy' is the wrong type, expected object");
      }
      sort_doc = Document::FromTrustedBytes(std::string(bson::SubDocumentBytes(field)));
    } else if (key == "output") {
      if (!BSON_ITER_HOLDS_DOCUMENT(&field)) {
        return StageError(14, "BSON field '$setWindowFields.output' is the wrong type, expected object");
      }
      has_output = true;
      bson_iter_t each;
      bson_iter_recurse(&field, &each);
      while (bson_iter_next(&each)) {
        auto parsed = ParseOutputField(each, *ctx.scope);
        if (!parsed.ok()) return parsed.status();
        outputs.push_back(std::move(parsed).value());
      }
    } else {
      return StageError(40415, "BSON field '$setWindowFields." + std::string(key) + "' is an unknown field.");
    }
  }
  if (!has_output) return StageError(40414, "BSON field '$setWindowFields.output' is missing but a required field");
  if (outputs.empty()) return ParseError("$setWindowFields must have at least one output field");
  const Document sort = sort_doc.value_or(Document());
  size_t sort_fields = 0;
  std::optional<std::string> sort_field;
  bool descending = false;
  bson_iter_t s;
  sort.Iterate(&s);
  while (bson_iter_next(&s)) {
    if (!bson::IsNumber(bson_iter_type(&s))) {
      return StageError(15974, "$setWindowFields sortBy values must be 1 or -1 (no $meta): " + sort.ToJson());
    }
    ++sort_fields;
    sort_field = KeyOf(s);
    descending = bson_iter_as_double(&s) < 0;
  }
  if (sort_fields != 1) sort_field.reset();
  DOCKET_RETURN_IF_ERROR(CheckFunctionsAgainstSort(outputs, sort, sort_fields));
  auto compiled = query::SortSpec::Compile(sort, ctx.scope->strings());
  if (!compiled.ok()) return compiled.status();
  out->push_back(std::make_shared<SetWindowFieldsSpec>(std::move(partition_by), sort, std::move(compiled).value(),
                                                       std::move(sort_field), descending, std::move(outputs),
                                                       ctx.scope->strings()));
  return Status::OK();
}

// $fill: {partitionBy | partitionByFields, sortBy, output: {field: {value} |
// {method}}}, rewritten as mongod rewrites it: $setWindowFields for the
// methods ($locf, $linearFill), then $addFields with $ifNull for the values.
Status ParseFill(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&arg)) return ParseError("$fill specification must be an object");
  std::optional<Value> partition_by, partition_fields, sort_by, output;
  bson_iter_t field;
  bson_iter_recurse(&arg, &field);
  while (bson_iter_next(&field)) {
    const std::string_view key = KeyOf(field);
    const Value v = Value::Copy(field);
    if (key == "partitionBy") partition_by = v;
    else if (key == "partitionByFields") partition_fields = v;
    else if (key == "sortBy") sort_by = v;
    else if (key == "output") output = v;
    else return StageError(40415, "BSON field '$fill." + std::string(key) + "' is an unknown field.");
  }
  if (!output) return StageError(40414, "BSON field '$fill.output' is missing but a required field");
  if (!output->is_document()) return StageError(14, "BSON field '$fill.output' is the wrong type, expected object");
  if (partition_by && partition_fields) {
    return StageError(6050204, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'");
  }
  bson::Builder window_spec, add_fields;
  bool any_method = false, any_value = false;
  bson_t window_output;
  BSON_APPEND_DOCUMENT_BEGIN(window_spec.get(), "output", &window_output);
  const Document outputs = output->AsDocument();
  bson_iter_t each;
  outputs.Iterate(&each);
  while (bson_iter_next(&each)) {
    const std::string name = std::string(KeyOf(each));
    if (!BSON_ITER_HOLDS_DOCUMENT(&each)) return ParseError("Each fill output field must be an object");
    bson_iter_t how;
    bson_iter_recurse(&each, &how);
    if (!bson_iter_next(&how)) return ParseError("Each fill output field must specify 'value' or 'method'");
    const std::string_view kind = KeyOf(how);
    bson_iter_t only = how;
    if (bson_iter_next(&how)) return StageError(6050203, "Exactly one of 'value' and 'method' must be specified in a fill output field");
    if (kind == "value") {
      any_value = true;
      // {$ifNull: ["$<name>", <value>]}
      bson_t set, if_null;
      BSON_APPEND_DOCUMENT_BEGIN(add_fields.get(), name.c_str(), &set);
      BSON_APPEND_ARRAY_BEGIN(&set, "$ifNull", &if_null);
      const std::string path = "$" + name;
      BSON_APPEND_UTF8(&if_null, "0", path.c_str());
      docket::bson::AppendElement(&if_null, "1", -1, &only);
      bson_append_array_end(&set, &if_null);
      bson_append_document_end(add_fields.get(), &set);
    } else if (kind == "method") {
      const Value method = Value::Borrow(only);
      const bool locf = method.is_string() && method.AsString() == "locf";
      const bool linear = method.is_string() && method.AsString() == "linear";
      if (!locf && !linear) return StageError(6050202, "Method must be either locf or linear, not " + method.ToJson());
      any_method = true;
      bson_t fn;
      BSON_APPEND_DOCUMENT_BEGIN(&window_output, name.c_str(), &fn);
      const std::string path = "$" + name;
      BSON_APPEND_UTF8(&fn, locf ? "$locf" : "$linearFill", path.c_str());
      bson_append_document_end(&window_output, &fn);
    } else {
      return StageError(40415, "BSON field '$fill.output." + name + "." + std::string(kind) + "' is an unknown field.");
    }
  }
  bson_append_document_end(window_spec.get(), &window_output);
  if (any_method) {
    if (!sort_by) return StageError(6050201, "sortBy required if any output field specifies a 'method'");
    bson::Builder spec;
    bson_t partition;
    if (partition_by) {
      partition_by->AppendTo(spec.get(), "partitionBy");
    } else if (partition_fields) {
      if (!partition_fields->is_array()) return StageError(14, "BSON field '$fill.partitionByFields' must be an array");
      BSON_APPEND_DOCUMENT_BEGIN(spec.get(), "partitionBy", &partition);
      for (const Value& f : expr::Elements(*partition_fields)) {
        if (!f.is_string() || f.AsString().empty() || f.AsString()[0] == '$') {
          return StageError(9527100, "partitionByFields field must be an array of field names, not " + f.ToJson());
        }
        const std::string path = "$" + std::string(f.AsString());
        BSON_APPEND_UTF8(&partition, std::string(f.AsString()).c_str(), path.c_str());
      }
      bson_append_document_end(spec.get(), &partition);
    }
    sort_by->AppendTo(spec.get(), "sortBy");
    const Document window_doc = window_spec.Finish();
    bson_iter_t w;
    window_doc.Iterate(&w);
    bson_iter_next(&w);
    docket::bson::AppendElement(spec.get(), "output", -1, &w);
    const Document stage = spec.Finish();
    bson::Builder holder;
    bson::AppendDocument(holder.get(), "", stage);
    const Document held = holder.Finish();
    bson_iter_t held_it;
    held.Iterate(&held_it);
    bson_iter_next(&held_it);
    DOCKET_RETURN_IF_ERROR(ParseSetWindowFields(held_it, ctx, out));
  } else if (sort_by && !sort_by->is_document()) {
    return StageError(14, "BSON field '$fill.sortBy' is the wrong type, expected object");
  }
  if (any_value) {
    const Document fields = add_fields.Finish();
    bson::Builder holder;
    bson::AppendDocument(holder.get(), "", fields);
    const Document held = holder.Finish();
    bson_iter_t held_it;
    held.Iterate(&held_it);
    bson_iter_next(&held_it);
    for (const StageEntry& entry : TransformStages()) {
      if (entry.name == "$addFields") return entry.parse(held_it, ctx, out);
    }
    return Status(ErrorCode::kInternalError, "$addFields is not registered");
  }
  return Status::OK();
}

const StageEntry kStages[] = {
    {"$setWindowFields", &ParseSetWindowFields},
    {"$fill", &ParseFill},
};

}  // namespace

std::span<const StageEntry> WindowStages() { return kStages; }

}  // namespace docket::aggregate
