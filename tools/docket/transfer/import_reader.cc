#include "tools/docket/transfer/import_reader.h"

#include <cstdio>
#include <memory>

#include "tools/docket/transfer/csv.h"
#include "tools/docket/transfer/json_documents.h"

namespace docket::transfer {
namespace {

// The dotted path of the first key or string in `it`'s document that is not
// UTF-8, or "" (libbson's bson_validate checks keys only).
std::string FirstBadUtf8(bson_iter_t* it, const std::string& prefix) {
  while (bson_iter_next(it)) {
    const std::string path = prefix + bson_iter_key(it);
    if (!bson_utf8_validate(bson_iter_key(it), bson_iter_key_len(it), false)) return prefix + "<key>";
    uint32_t length = 0;
    const char* text = nullptr;
    switch (bson_iter_type(it)) {
      case BSON_TYPE_UTF8:
        text = bson_iter_utf8(it, &length);
        break;
      case BSON_TYPE_SYMBOL:
        text = bson_iter_symbol(it, &length);
        break;
      case BSON_TYPE_CODE:
        text = bson_iter_code(it, &length);
        break;
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY: {
        bson_iter_t child;
        if (bson_iter_recurse(it, &child)) {
          std::string bad = FirstBadUtf8(&child, path + ".");
          if (!bad.empty()) return bad;
        }
        break;
      }
      default:
        break;
    }
    if (text != nullptr && !bson_utf8_validate(text, length, true)) return path;
  }
  return "";
}

// What would fail the whole batch or leave a document no driver can read
// (too large, invalid UTF-8, empty keys), found before the batch so that it
// is one bad document: BSON strings are UTF-8, and MongoDB drivers refuse to
// decode others.
bool Sendable(const bson_t* doc, std::string* why) {
  constexpr uint32_t kMaxDocument = 16 * 1024 * 1024;
  if (doc->len > kMaxDocument) {
    *why = "the document is " + std::to_string(doc->len) + " bytes of BSON, more than the 16 MiB a document may have";
    return false;
  }
  bson_error_t error;
  const auto flags =
      static_cast<bson_validate_flags_t>(BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL | BSON_VALIDATE_EMPTY_KEYS);
  if (!bson_validate_with_error(doc, flags, &error)) {
    *why = std::string("the document cannot be sent: ") + error.message;
    return false;
  }
  bson_iter_t it;
  const std::string bad = bson_iter_init(&it, doc) ? FirstBadUtf8(&it, "") : "";
  if (!bad.empty()) {
    *why = "the field \"" + bad + "\" is not UTF-8 text (convert the input to UTF-8)";
    return false;
  }
  return true;
}

// Reads the input and hands its documents to the writer.

}  // namespace

std::vector<ColumnSpec> ColumnsFromNames(const std::vector<std::string>& names, bool typed, bool array_indexes) {
  std::vector<ColumnSpec> columns = typed ? TypedColumns(names) : AutoColumns(names);
  std::vector<std::string> plain;
  for (const ColumnSpec& column : columns) plain.push_back(column.name);
  ValidateFieldNames(plain, array_indexes);
  return columns;
}

void ImportReader::Run(Progress* progress) {
  if (options_.type == InputType::kJson)
    ReadJson(progress);
  else
    ReadRows(progress);
}

void ImportReader::Advance(Progress* progress) {
  progress->Add(in_->consumed() - reported_);
  reported_ = in_->consumed();
}

void ImportReader::ReadJson(Progress* progress) {
  JsonDocumentReader reader(in_, options_.json_array);
  while (!stopped_) {
    BsonPtr doc;
    const JsonDocumentReader::Status status = reader.Next(&doc);
    if (status == JsonDocumentReader::Status::kEnd) break;
    if (status == JsonDocumentReader::Status::kError)
      Bad(reader.start_line(), reader.error());
    else
      Document(std::move(doc), reader.start_line());
    Advance(progress);
  }
}

void ImportReader::ReadRows(Progress* progress) {
  std::unique_ptr<RecordReader> reader;
  if (options_.type == InputType::kCsv)
    reader = std::make_unique<CsvReader>(in_);
  else
    reader = std::make_unique<TsvReader>(in_);
  std::vector<ColumnSpec> columns = options_.columns;
  std::vector<std::string> cells;
  if (options_.header_line) {
    const RecordReader::Status status = reader->Next(&cells);
    if (status == RecordReader::Status::kEnd) return;  // no input: no documents
    if (status == RecordReader::Status::kError)
      throw TransferError("the header line: line " + std::to_string(reader->start_line()) + ": " + reader->error());
    columns = ColumnsFromNames(cells, options_.columns_have_types, options_.row.array_indexes);
  }
  while (!stopped_) {
    const RecordReader::Status status = reader->Next(&cells);
    if (status == RecordReader::Status::kEnd) break;
    if (status == RecordReader::Status::kError) {
      Bad(reader->start_line(), reader->error());
    } else {
      BsonPtr doc;
      std::string message;
      switch (RowToDocument(columns, cells, options_.row, &doc, &message)) {
        case RowOutcome::kDocument:
          Document(std::move(doc), reader->start_line());
          break;
        case RowOutcome::kError:
          Bad(reader->start_line(), message);
          break;
        case RowOutcome::kSkipRow:
          Skipped(reader->start_line(), message, cells);
          break;
      }
    }
    Advance(progress);
  }
}

void ImportReader::Document(BsonPtr doc, uint64_t line) {
  std::string why;
  if (!Sendable(doc.get(), &why)) return Bad(line, why);
  if (!writer_->Add(std::move(doc), line)) stopped_ = true;
}

void ImportReader::Bad(uint64_t line, const std::string& message) {
  std::fprintf(stderr, "line %llu: %s\n", static_cast<unsigned long long>(line), message.c_str());
  ++bad_records_;
  if (options_.stop_on_error) {
    writer_->Flush();  // what came before the bad record goes in
    stopped_ = true;
  }
}

// --parseGrace skipRow: the row is left out on purpose; as mongoimport does,
// it is written to standard output so that the rejects can be kept.
void ImportReader::Skipped(uint64_t line, const std::string& message, const std::vector<std::string>& cells) {
  ++skipped_rows_;
  if (!options_.quiet)
    std::fprintf(stderr, "line %llu: skipping the row: %s\n", static_cast<unsigned long long>(line), message.c_str());
  std::string record;
  if (options_.type == InputType::kCsv) {
    record = CsvRecord(cells);
  } else {
    for (size_t i = 0; i < cells.size(); ++i) record += (i > 0 ? "\t" : "") + cells[i];
    record += "\n";
  }
  std::fwrite(record.data(), 1, record.size(), stdout);
}

}  // namespace docket::transfer
