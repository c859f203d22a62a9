// The columns of a CSV or TSV import and the values of their cells, as
// mongoimport reads them: plain field names take each cell's type from its
// text (integers that fit become int32, larger ones int64, other numbers
// double, the rest strings); with --columnsHaveTypes every name carries a
// type, "name.type(arg)", one of auto(), binary(base64|base32|hex),
// boolean(), date(layout), date_go(layout), date_ms(layout),
// date_oracle(layout), decimal(), double(), int32(), int64(), string().
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace docket::transfer {

// What to do with a cell whose text does not fit its column's type
// (--parseGrace).
enum class ParseGrace { kAutoCast, kSkipField, kSkipRow, kStop };
std::optional<ParseGrace> ParseGraceNamed(const std::string& name);

enum class ColumnType { kAuto, kBinary, kBoolean, kDate, kDecimal, kDouble, kInt32, kInt64, kString };

struct ColumnSpec {
  std::string name;                // "a.b"
  std::vector<std::string> parts;  // {"a", "b"}
  ColumnType type = ColumnType::kAuto;
  std::string type_name = "auto";  // as written: "date_ms", "int32"...
  std::string arg;                 // Go date layout, or binary encoding
};

// One cell's value, ready to be appended to a BSON document.
struct CellValue {
  enum class Kind { kString, kInt32, kInt64, kDouble, kBool, kDate, kDecimal, kBinary } kind = Kind::kString;
  std::string text;     // kString, or the bytes of kBinary
  int64_t integer = 0;  // kInt32, kInt64, kDate (milliseconds), kBool (0/1)
  double number = 0;
  bson_decimal128_t decimal{};
};

// Appends `value` to `doc` under `key`.
void AppendCell(bson_t* doc, const std::string& key, const CellValue& value);

// --fields a,b.int32(),c.date(2006-01-02): split on commas outside
// parentheses, so that layouts may hold commas.
std::vector<std::string> SplitFieldList(const std::string& list);
// A --fieldFile: one field a line (a final newline optional; \r\n accepted).
// Throws TransferError when unreadable.
std::vector<std::string> ReadFieldFile(const std::string& path);

// Columns from plain names (every column auto).
std::vector<ColumnSpec> AutoColumns(const std::vector<std::string>& names);
// Columns from typed names; throws TransferError naming a bad one.
std::vector<ColumnSpec> TypedColumns(const std::vector<std::string>& names);

// The value of a cell of an untyped column (mongoimport's autoParse).
CellValue AutoValue(const std::string& text);
// The value of `text` in `column`'s type; false (with `why`) when it does not fit.
bool ParseCell(const ColumnSpec& column, const std::string& text, CellValue* out, std::string* why);

// Go's strconv.ParseInt(text, 10, bits) and ParseFloat(text, 64): what
// mongoimport accepts as numbers.
bool ParseGoInt(const std::string& text, int bits, int64_t* out);
bool ParseGoFloat(const std::string& text, double* out);

}  // namespace docket::transfer
