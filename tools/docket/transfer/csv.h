// CSV and TSV records as mongoimport reads them and mongoexport writes them.
//
// CSV (RFC 4180 with mongoimport's leniencies): fields separated by commas;
// a field in double quotes may hold commas, newlines and quotes (doubled);
// spaces around unquoted fields and after a closing quote are trimmed; \r\n
// reads as \n; blank lines are skipped; rows may have any number of fields.
// A bare quote inside an unquoted field, or text after a closing quote, is an
// error. TSV, as mongoimport's: one record a line, fields split on tabs, no
// quoting at all (quotes are data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/docket/transfer/text_input.h"

namespace docket::transfer {

// Not thread-safe. The TextInput must outlive the reader.
class RecordReader {
 public:
  enum class Status { kRecord, kError, kEnd };
  virtual ~RecordReader() = default;
  // Reads the next record into `fields`. kError: the record is malformed;
  // error() says why, and the reader has skipped to the line after the
  // problem, so the caller may go on with the next record.
  virtual Status Next(std::vector<std::string>* fields) = 0;
  // The line the last record (or error) started on.
  uint64_t start_line() const { return start_line_; }
  const std::string& error() const { return error_; }

 protected:
  uint64_t start_line_ = 0;
  std::string error_;
};

class CsvReader : public RecordReader {
 public:
  explicit CsvReader(TextInput* in) : in_(in) {}
  Status Next(std::vector<std::string>* fields) override;

 private:
  enum class FieldEnd { kComma, kNewline, kEnd, kBlankLine, kError };
  FieldEnd ReadField(std::string* field);
  int ReadChar();  // folds \r\n into \n; counts the record's characters

  TextInput* in_;
  uint64_t record_chars_ = 0;
};

class TsvReader : public RecordReader {
 public:
  explicit TsvReader(TextInput* in) : in_(in) {}
  Status Next(std::vector<std::string>* fields) override;

 private:
  TextInput* in_;
};

// One CSV record as Go's encoding/csv writes it (mongoexport's): a field is
// quoted only when it holds the separator, a quote, \r or \n, starts with a
// space, or is exactly \. ; quotes inside are doubled; the record ends "\n".
// One difference, so that what export writes import reads back the same: a
// field that ends in white space is quoted too (mongoexport leaves it bare,
// and mongoimport then trims it).
std::string CsvRecord(const std::vector<std::string>& fields, char separator = ',');

}  // namespace docket::transfer
