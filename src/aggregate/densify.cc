// $densify (MongoDB 5.1+): documents added where a sequence of values of
// `field` has gaps, so that every step of a range is present:
//
//   {$densify: {field, partitionByFields: [...], range: {step, unit, bounds}}}
//
// The values are numbers, or dates with a `unit` (calendar units move the
// date in UTC, clamping the day). Within each partition (documents with the
// same values of partitionByFields) the output is sorted by `field`, and
// the values lower + k * step missing between the documents are added as
// new documents holding only the partition fields and `field`. `bounds`:
// "full" — from the smallest to the largest value over all partitions;
// "partition" — each partition's own smallest to largest; [lower, upper] —
// from lower, below upper (exclusive), documents outside it kept as they
// are. Documents without the field (or with null) pass through first, as
// mongod's sort puts them. The input is held in memory within the
// pipeline's budget.
#include <algorithm>
#include <cmath>

#include "aggregate/stages.h"
#include "aggregate/time_units.h"
#include "bson/path.h"
#include "bson/value.h"
#include "docket/deadline.h"

namespace docket::aggregate {
namespace {

using expr::Value;

using Unit = TimeUnit;
enum class Bounds { kFull, kPartition, kExplicit };

// mongod's internalQueryMaxAllowedDensifyDocs: the most documents one
// $densify may add.
constexpr size_t kMaxGenerated = 500000;

Status Invalid(int code, std::string message) { return StageError(code, std::move(message)); }

// The value at a dotted path through sub-documents (missing when a step is
// absent or not a document: $densify's field is a scalar).
Value ValueAt(const Value& doc, const bson::Path& path) {
  Value v = doc;
  for (const std::string& part : path) {
    if (!v.is_document()) return Value();
    bson_iter_t it, child;
    v.Iter(&it);
    if (!bson_iter_recurse(&it, &child) || !bson_iter_find(&child, part.c_str())) return Value();
    v = v.Child(child);
  }
  return v;
}

class DensifySpec : public StageSpec {
 public:
  std::string field;
  bson::Path path;
  std::vector<std::pair<std::string, bson::Path>> partition_fields;
  double step = 0;
  Unit unit = Unit::kNone;
  Bounds bounds = Bounds::kFull;
  Value lower, upper;  // kExplicit
  const bson::StringOrder* strings = nullptr;

  Result<StagePtr> Open(StagePtr input, const RunContext& ctx) const override;
  const char* name() const override { return "$densify"; }
};

// A value on the sequence: a number, or a date's milliseconds.
struct Point {
  bool date = false;
  double number = 0;
  int64_t millis = 0;
  bool operator<(const Point& o) const { return date ? millis < o.millis : number < o.number; }
  bool operator==(const Point& o) const { return date ? millis == o.millis : number == o.number; }
};

class DensifyStage : public Stage {
 public:
  DensifyStage(StagePtr input, const DensifySpec& spec, const RunContext& ctx)
      : input_(std::move(input)), spec_(spec), budget_(ctx.budget.memory_limit_bytes) {}

  Result<Value> Next() override {
    if (!loaded_) DOCKET_RETURN_IF_ERROR(Load());
    if (next_ >= out_.size()) return Value();
    return std::move(out_[next_++]);
  }

 private:
  struct Row {
    Value partition;  // an array of the partition fields' values
    Point point;
    Value doc;
  };

  Result<std::optional<Point>> PointOf(const Value& doc) {
    const Value v = ValueAt(doc, spec_.path);
    if (v.is_nullish()) return std::optional<Point>();
    Point p;
    if (spec_.unit != Unit::kNone) {
      if (v.type() != BSON_TYPE_DATE_TIME) {
        return Invalid(6053600, "Encountered non-date value in $densify with a unit: " + v.ToJson());
      }
      p.date = true;
      p.millis = v.AsDateMillis();
    } else {
      if (!v.is_number()) {
        return Invalid(5733201, "Densify field type must be numeric, found " + std::string(expr::TypeName(v)) +
                                    (v.type() == BSON_TYPE_DATE_TIME ? " (a date needs a 'unit')" : ""));
      }
      p.number = v.AsDouble();
    }
    return std::optional<Point>(p);
  }

  Value PointValue(const Point& p) const { return p.date ? Value::Date(p.millis) : NumberValue(p.number); }
  static Value NumberValue(double d) {
    if (d == std::trunc(d) && std::abs(d) < 9e15) return Value::Integer(static_cast<int64_t>(d));
    return Value::Double(d);
  }
  Point Advance(const Point& p) const {
    Point next = p;
    if (p.date) next.millis = AddTimeUnits(p.millis, spec_.unit, static_cast<int64_t>(spec_.step));
    else next.number = p.number + spec_.step;
    return next;
  }

  Status Load() {
    loaded_ = true;
    std::vector<Row> rows;
    size_t bytes = 0;
    for (;;) {
      auto doc = input_->Next();
      if (!doc.ok()) return doc.status();
      if (doc->missing()) break;
      bytes += doc->ContainerBytes().size() + 64;
      if (bytes > budget_) {
        return StageError(6007200, "$densify exceeded its memory limit of " + std::to_string(budget_) + " bytes");
      }
      auto point = PointOf(*doc);
      if (!point.ok()) return point.status();
      if (!*point) {
        out_.push_back(*doc);  // no value: passed through, first
        continue;
      }
      std::vector<Value> parts;
      for (const auto& [name, path] : spec_.partition_fields) {
        const Value v = ValueAt(*doc, path);
        parts.push_back(v.missing() ? Value::Null() : v);
      }
      rows.push_back(Row{expr::MakeArray(parts), **point, *doc});
    }
    input_.reset();
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      const int c = expr::Compare(a.partition, b.partition, spec_.strings);
      return c != 0 ? c < 0 : a.point < b.point;
    });
    std::optional<Point> global_min, global_max;
    for (const Row& r : rows) {
      if (!global_min || r.point < *global_min) global_min = r.point;
      if (!global_max || *global_max < r.point) global_max = r.point;
    }
    size_t start = 0;
    while (start < rows.size()) {
      size_t end = start + 1;
      while (end < rows.size() && expr::Compare(rows[start].partition, rows[end].partition, spec_.strings) == 0) ++end;
      Point low, high;  // the sequence runs from low, up to high
      bool high_inclusive = true;
      switch (spec_.bounds) {
        case Bounds::kFull: low = *global_min, high = *global_max; break;
        case Bounds::kPartition: low = rows[start].point, high = rows[end - 1].point; break;
        case Bounds::kExplicit:
          low = *PointFromBound(spec_.lower);
          high = *PointFromBound(spec_.upper);
          high_inclusive = false;
          break;
      }
      DOCKET_RETURN_IF_ERROR(Emit(rows, start, end, low, high, high_inclusive));
      start = end;
    }
    return Status::OK();
  }

  std::optional<Point> PointFromBound(const Value& v) const {
    Point p;
    if (v.type() == BSON_TYPE_DATE_TIME) {
      p.date = true;
      p.millis = v.AsDateMillis();
    } else {
      p.number = v.AsDouble();
    }
    return p;
  }

  // The partition's documents, with the missing steps of [low, high] (or
  // [low, high)) added in order.
  // Errors: MaxTimeMSExpired / Interrupted (a small step over a wide range
  // makes many documents), and 5897900 past the generated documents' budget.
  Status Emit(const std::vector<Row>& rows, size_t start, size_t end, Point low, Point high, bool high_inclusive) {
    const auto within = [&](const Point& p) { return high_inclusive ? !(high < p) : p < high; };
    const auto generate = [&](const Point& p) -> Status {
      if (++generated_ % 1024 == 0) DOCKET_RETURN_IF_ERROR(CheckDeadline());
      if (generated_ > kMaxGenerated) {
        return StageError(5897900, "$densify would generate more than " + std::to_string(kMaxGenerated) +
                                       " documents: use a larger step or narrower bounds");
      }
      out_.push_back(Generated(rows[start].partition, p));
      return Status::OK();
    };
    Point next = low;
    bool sequence_open = true;
    for (size_t i = start; i < end; ++i) {
      const Point& at = rows[i].point;
      // The steps before this document that no document holds.
      while (sequence_open && next < at && within(next)) {
        DOCKET_RETURN_IF_ERROR(generate(next));
        next = Advance(next);
      }
      if (!within(next)) sequence_open = false;
      // Past this document: the next step after its value.
      while (sequence_open && !(at < next)) next = Advance(next);
      out_.push_back(rows[i].doc);
    }
    while (sequence_open && within(next)) {
      DOCKET_RETURN_IF_ERROR(generate(next));
      next = Advance(next);
    }
    return Status::OK();
  }

  Value Generated(const Value& partition, const Point& p) const {
    Value doc = Value::FromDocument(Document());
    const std::vector<Value> parts = expr::Elements(partition);
    for (size_t k = 0; k < spec_.partition_fields.size(); ++k) {
      // A partition without the field (null) gives documents without it.
      if (parts[k].type() != BSON_TYPE_NULL) doc = SetPath(doc, spec_.partition_fields[k].second, 0, parts[k]);
    }
    return SetPath(doc, spec_.path, 0, PointValue(p));
  }

  StagePtr input_;
  const DensifySpec& spec_;
  size_t budget_;
  bool loaded_ = false;
  std::vector<Value> out_;
  size_t next_ = 0;
  size_t generated_ = 0;
};

Result<StagePtr> DensifySpec::Open(StagePtr input, const RunContext& ctx) const {
  return StagePtr(std::make_unique<DensifyStage>(std::move(input), *this, ctx));
}

Status ParseDensify(const bson_iter_t& arg, ParseContext& ctx, std::vector<SpecPtr>* out) {
  if (!BSON_ITER_HOLDS_DOCUMENT(&arg)) return Invalid(14, "$densify specification must be an object");
  auto spec = std::make_shared<DensifySpec>();
  spec->strings = ctx.scope->strings();
  std::optional<Value> range;
  bool has_field = false;
  bson_iter_t f;
  bson_iter_recurse(&arg, &f);
  while (bson_iter_next(&f)) {
    const std::string_view key = KeyOf(f);
    const Value v = Value::Copy(f);
    if (key == "field") {
      if (!v.is_string()) return Invalid(14, "BSON field '$densify.field' is the wrong type, expected string");
      spec->field = std::string(v.AsString());
      if (spec->field.empty() || spec->field[0] == '$') {
        return Invalid(16410, "FieldPath field names may not start with '$'. Given: " + spec->field);
      }
      spec->path = bson::SplitPath(spec->field);
      has_field = true;
    } else if (key == "partitionByFields") {
      if (!v.is_array()) return Invalid(14, "BSON field '$densify.partitionByFields' is the wrong type, expected array");
      for (const Value& name : expr::Elements(v)) {
        if (!name.is_string() || name.AsString().empty() || name.AsString()[0] == '$') {
          return Invalid(8993000, "partitionByFields must be field names, not " + name.ToJson());
        }
        spec->partition_fields.emplace_back(std::string(name.AsString()), bson::SplitPath(name.AsString()));
      }
    } else if (key == "range") {
      if (!v.is_document()) return Invalid(14, "BSON field '$densify.range' is the wrong type, expected object");
      range = v;
    } else {
      return Invalid(40415, "BSON field '$densify." + std::string(key) + "' is an unknown field.");
    }
  }
  if (!has_field) return Invalid(40414, "BSON field '$densify.field' is missing but a required field");
  if (!range) return Invalid(40414, "BSON field '$densify.range' is missing but a required field");
  for (const auto& [name, path] : spec->partition_fields) {
    if (name == spec->field || name.rfind(spec->field + ".", 0) == 0 || spec->field.rfind(name + ".", 0) == 0) {
      return Invalid(8993000, "$densify: the field to densify, " + spec->field +
                                  ", cannot be one of partitionByFields, nor a prefix of one, nor have one as a prefix");
    }
  }
  std::optional<Value> step, bounds, unit;
  const Document r = range->AsDocument();
  bson_iter_t ri;
  r.Iterate(&ri);
  while (bson_iter_next(&ri)) {
    const std::string_view key = KeyOf(ri);
    const Value v = Value::Copy(ri);
    if (key == "step") step = v;
    else if (key == "bounds") bounds = v;
    else if (key == "unit") unit = v;
    else return Invalid(40415, "BSON field '$densify.range." + std::string(key) + "' is an unknown field.");
  }
  if (!step || !bounds) return Invalid(40414, "$densify.range needs 'step' and 'bounds'");
  if (!step->is_number() || !(step->AsDouble() > 0) || !std::isfinite(step->AsDouble())) {
    return Invalid(5733401, "the step parameter in a range statement must be a strictly positive numeric value");
  }
  spec->step = step->AsDouble();
  if (unit) {
    auto u = ParseTimeUnit(*unit);
    if (!u.ok()) return u.status();
    spec->unit = *u;
    if (spec->step != std::trunc(spec->step)) {
      return Invalid(5733412, "The step parameter in a range satement must be a whole number when densifying a date range");
    }
  }
  if (bounds->is_string() && bounds->AsString() == "full") {
    spec->bounds = Bounds::kFull;
  } else if (bounds->is_string() && bounds->AsString() == "partition") {
    spec->bounds = Bounds::kPartition;
  } else if (bounds->is_array() && bounds->ArrayLength() == 2) {
    const std::vector<Value> pair = expr::Elements(*bounds);
    const bool dates = pair[0].type() == BSON_TYPE_DATE_TIME && pair[1].type() == BSON_TYPE_DATE_TIME;
    const bool numbers = pair[0].is_number() && pair[1].is_number();
    if (!dates && !numbers) {
      return Invalid(5733403, "a bounding array in a range statement must contain two dates or two numbers");
    }
    if (dates != (spec->unit != Unit::kNone)) {
      return Invalid(5733409, dates ? "a date range needs a 'unit'" : "numeric bounds may not have a 'unit'");
    }
    if (expr::Compare(pair[0], pair[1]) > 0) {
      return Invalid(5733402, "the lower bound of a range must not be greater than its upper bound");
    }
    spec->bounds = Bounds::kExplicit;
    spec->lower = pair[0];
    spec->upper = pair[1];
  } else {
    return Invalid(5946800, "bounds must be \"full\", \"partition\" or an array of two values, not " + bounds->ToJson());
  }
  if (spec->bounds == Bounds::kPartition && spec->partition_fields.empty()) {
    return Invalid(5733408, "one may only specify the \"partition\" bounds with a partitionByFields");
  }
  out->push_back(std::move(spec));
  return Status::OK();
}

const StageEntry kStages[] = {{"$densify", &ParseDensify}};

}  // namespace

std::span<const StageEntry> DensifyStages() { return kStages; }

}  // namespace docket::aggregate
