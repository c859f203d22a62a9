// The documents of a JSON import: Extended JSON objects one after another
// (usually one a line, but an object may span lines, as --pretty exports
// do), or with --jsonArray a single array of objects. Canonical, relaxed and
// the legacy forms libbson reads are all accepted.
//
// A malformed document is reported by the line it starts on and skipped, so
// the caller can import the rest: an object whose braces balance is skipped
// whole (unless its second line starts a document: then it is taken for a
// broken line, as is one that never closes or has a newline inside a
// string, and reading resumes on its second line).
#pragma once

#include <cstdint>
#include <string>

#include "tools/docket/transfer/bson_value.h"
#include "tools/docket/transfer/text_input.h"

namespace docket::transfer {

// Not thread-safe. The TextInput must outlive the reader.
class JsonDocumentReader {
 public:
  enum class Status { kDocument, kError, kEnd };
  JsonDocumentReader(TextInput* in, bool array) : in_(in), array_(array) {}

  // The next document into *doc, or an error (error() says what; start_line()
  // where), or the end of input.
  Status Next(BsonPtr* doc);
  uint64_t start_line() const { return start_line_; }
  const std::string& error() const { return error_; }

 private:
  // Skips white space; the next byte or -1.
  int SkipSpace();
  // Reads the object starting at the next '{' and parses it.
  Status ReadObject(BsonPtr* doc);
  Status Fail(std::string message, bool skip_line);
  // --jsonArray: skips a bad stretch between documents up to the next
  // ',' (consumed: true), '{' or ']'.
  bool SkipToSeparator();

  TextInput* in_;
  bool array_;
  // Where a --jsonArray reader is: before '[', where a document (or ']')
  // may come, after a document (',' or ']'), after ']', or done.
  enum class ArrayState { kBeforeOpen, kElement, kAfterElement, kClosed, kDone } state_ = ArrayState::kBeforeOpen;
  bool after_failure_ = false;  // the last element was bad: a '{' may follow without a comma
  uint64_t start_line_ = 0;
  std::string error_;
};

}  // namespace docket::transfer
