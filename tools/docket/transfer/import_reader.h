// The reading half of `docket import`: input records (JSON documents, CSV or
// TSV rows) turned into documents and handed to an ImportWriter. A record
// that cannot become a document is reported on standard error as
// "line N: why" and counted; with stop_on_error the reader stops there,
// after the writer has written what came before.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/docket/transfer/import_writer.h"
#include "tools/docket/transfer/progress.h"
#include "tools/docket/transfer/row_document.h"
#include "tools/docket/transfer/text_input.h"
#include "tools/docket/transfer/typed_columns.h"

namespace docket::transfer {

enum class InputType { kJson, kCsv, kTsv };

struct InputOptions {
  InputType type = InputType::kJson;
  bool json_array = false;   // json: one array of documents
  bool header_line = false;  // csv/tsv: the first record names the columns
  bool columns_have_types = false;
  std::vector<ColumnSpec> columns;  // csv/tsv without a header line
  RowOptions row;
  bool stop_on_error = false;
  bool quiet = false;  // no notes on rows skipped by --parseGrace skipRow
};

// Columns from field names, typed or not; throws TransferError when a name
// or a type is bad, or names clash.
std::vector<ColumnSpec> ColumnsFromNames(const std::vector<std::string>& names, bool typed, bool array_indexes);

// Not thread-safe. `in` and `writer` must outlive the reader.
class ImportReader {
 public:
  ImportReader(InputOptions options, TextInput* in, ImportWriter* writer)
      : options_(std::move(options)), in_(in), writer_(writer) {}

  // Reads to the end of input, or until stopped. Throws TransferError when
  // the header line is unusable or the writer cannot write at all.
  void Run(Progress* progress);

  uint64_t bad_records() const { return bad_records_; }
  uint64_t skipped_rows() const { return skipped_rows_; }
  bool stopped() const { return stopped_; }

 private:
  void ReadJson(Progress* progress);
  void ReadRows(Progress* progress);
  void Document(BsonPtr doc, uint64_t line);
  void Bad(uint64_t line, const std::string& message);
  void Skipped(uint64_t line, const std::string& message, const std::vector<std::string>& cells);
  void Advance(Progress* progress);

  InputOptions options_;
  TextInput* in_;
  ImportWriter* writer_;
  uint64_t reported_ = 0;  // input bytes already given to the progress
  uint64_t bad_records_ = 0;
  uint64_t skipped_rows_ = 0;
  bool stopped_ = false;
};

}  // namespace docket::transfer
