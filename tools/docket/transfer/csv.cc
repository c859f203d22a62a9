#include "tools/docket/transfer/csv.h"

namespace docket::transfer {
namespace {

// ASCII white space, as Go's unicode.IsSpace for the bytes a CSV file
// separates on. (Multi-byte spaces stay data.)
bool IsSpace(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Byte length of a Unicode white space character at the start of `s`, 0 if
// there is none (UTF-8: U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000).
size_t LeadingSpaceLength(const std::string& s) {
  if (s.empty()) return 0;
  const auto b = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0; };
  if (IsSpace(b(0))) return 1;
  if (b(0) == 0xC2 && (b(1) == 0x85 || b(1) == 0xA0)) return 2;
  if (b(0) == 0xE1 && b(1) == 0x9A && b(2) == 0x80) return 3;
  if (b(0) == 0xE2 && b(1) == 0x80 && (b(2) <= 0x8A || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF)) return 3;
  if (b(0) == 0xE2 && b(1) == 0x81 && b(2) == 0x9F) return 3;
  if (b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}

}  // namespace

int CsvReader::ReadChar() {
  int c = in_->Get();
  if (c == '\r' && in_->Peek() == '\n') c = in_->Get();
  ++record_chars_;
  return c;
}

// One field, as mongoimport's CSV reader (TrimLeadingSpace on, lazy quotes
// off). The field's terminator says how the record goes on.
CsvReader::FieldEnd CsvReader::ReadField(std::string* field) {
  field->clear();
  int c = ReadChar();
  while (c != -1 && c != '\n' && IsSpace(c)) c = ReadChar();
  if (c == -1) return FieldEnd::kEnd;  // "a,<end>": a last, empty field
  if (c == ',') return FieldEnd::kComma;
  if (c == '\n') return record_chars_ == 1 ? FieldEnd::kBlankLine : FieldEnd::kNewline;
  if (c == '"') {
    const uint64_t opened = in_->line();
    for (;;) {
      c = ReadChar();
      if (c == -1) {
        error_ = "a quoted field opened on line " + std::to_string(opened) + " is never closed";
        return FieldEnd::kError;
      }
      if (c == '"') {
        c = ReadChar();
        if (c != -1 && c != '\n' && IsSpace(c)) {
          while (c != -1 && c != '\n' && IsSpace(c)) c = ReadChar();
          if (c == '"') {
            error_ = "text after a closing quote (\" \")";
            return FieldEnd::kError;
          }
        }
        if (c == -1) return FieldEnd::kEnd;
        if (c == ',') return FieldEnd::kComma;
        if (c == '\n') return FieldEnd::kNewline;
        if (c != '"') {
          error_ = std::string("text after a closing quote ('") + static_cast<char>(c) +
                   "'); a quote inside a quoted field is written \"\"";
          return FieldEnd::kError;
        }
      }
      field->push_back(static_cast<char>(c));
    }
  }
  // Unquoted: white space is kept only between other characters.
  std::string space;
  for (;;) {
    if (IsSpace(c)) {
      space.push_back(static_cast<char>(c));
    } else {
      field->append(space);
      space.clear();
      field->push_back(static_cast<char>(c));
    }
    c = ReadChar();
    if (c == -1) return FieldEnd::kEnd;
    if (c == ',') return FieldEnd::kComma;
    if (c == '\n') return FieldEnd::kNewline;
    if (c == '"') {
      error_ = "a quote inside an unquoted field (quote the whole field and double the quote: \"a \"\"b\"\"\")";
      return FieldEnd::kError;
    }
  }
}

RecordReader::Status CsvReader::Next(std::vector<std::string>* fields) {
  for (;;) {
    fields->clear();
    start_line_ = in_->line();
    if (in_->Peek() == -1) return Status::kEnd;
    record_chars_ = 0;
    std::string field;
    for (;;) {
      const FieldEnd end = ReadField(&field);
      if (end == FieldEnd::kError) {
        // The offending character is never a newline: the rest of its line
        // goes with the bad record, and reading resumes on the next line.
        if (in_->line() != start_line_ && in_->Peek() != -1) error_ += " (on line " + std::to_string(in_->line()) + ")";
        in_->SkipLine();
        return Status::kError;
      }
      if (end == FieldEnd::kBlankLine) break;
      fields->push_back(field);
      if (end == FieldEnd::kNewline || end == FieldEnd::kEnd) return Status::kRecord;
    }
  }
}

RecordReader::Status TsvReader::Next(std::vector<std::string>* fields) {
  for (;;) {
    fields->clear();
    start_line_ = in_->line();
    if (in_->Peek() == -1) return Status::kEnd;
    std::string line;
    for (int c = in_->Get(); c != -1 && c != '\n'; c = in_->Get()) line.push_back(static_cast<char>(c));
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (line.empty()) continue;  // a blank line is no record
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      fields->push_back(line.substr(start, tab - start));
    fields->push_back(line.substr(start));
    return Status::kRecord;
  }
}

std::string CsvRecord(const std::vector<std::string>& fields, char separator) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(separator);
    const std::string& f = fields[i];
    // Also quoted, unlike Go's writer: a field ending in white space, which
    // mongoimport's reader (and ours) would otherwise trim away.
    const bool quote = !f.empty() && (f == "\\." || LeadingSpaceLength(f) > 0 || IsSpace(static_cast<unsigned char>(f.back())) ||
                                      f.find_first_of(std::string("\"\r\n") + separator) != std::string::npos);
    if (!quote) {
      out += f;
      continue;
    }
    out.push_back('"');
    for (char c : f) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('\n');
  return out;
}

}  // namespace docket::transfer
