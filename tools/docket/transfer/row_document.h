// One CSV or TSV row to one document, as mongoimport builds it: dotted
// column names make nested documents ("a.b" and "a.c" share "a"), cells
// beyond the named columns become field<N>, and with --useArrayIndexFields
// numeric parts make arrays ("tags.0", "tags.1").
#pragma once

#include <string>
#include <vector>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/typed_columns.h"

namespace docket::transfer {

struct RowOptions {
  bool ignore_blanks = false;  // empty cells add no field
  bool array_indexes = false;  // --useArrayIndexFields
  ParseGrace grace = ParseGrace::kStop;
};

enum class RowOutcome {
  kDocument,  // *out holds the document
  kSkipRow,   // a cell did not fit its type and --parseGrace skipRow
  kError,     // a cell did not fit its type (--parseGrace stop), or the fields clash
};

// `message` says why on kSkipRow and kError.
RowOutcome RowToDocument(const std::vector<ColumnSpec>& columns, const std::vector<std::string>& cells,
                         const RowOptions& options, BsonPtr* out, std::string* message);

// mongoimport's field name rules: no leading or trailing '.', no leading '$',
// no "..", no name twice, no name that is both a value and a document (a and
// a.b). With `array_indexes`, numeric parts make arrays, which must be filled
// from 0 in order (a.0, a.1). Throws TransferError.
void ValidateFieldNames(const std::vector<std::string>& names, bool array_indexes);

// An array index as mongoimport reads one: digits without a leading zero
// ("0" itself excepted).
bool IsNaturalNumber(const std::string& text, size_t* value);

}  // namespace docket::transfer
