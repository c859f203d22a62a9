// Fuzz target: what the data tools read from files a user hands them
// (tools/docket/transfer/): mongodump archives, BSON dump files, collection
// metadata, and mongoimport's JSON, CSV and TSV input. The first byte picks
// the reader; the rest is the file.
//
// Invariants (abort() when broken): a reader either reads or throws
// TransferError (any other exception, a crash or a hang is a finding); an
// archive's documents are valid BSON; a CSV record written by CsvRecord
// reads back as the same fields.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tools/docket/transfer/archive.h"
#include "tools/docket/transfer/byte_stream.h"
#include "tools/docket/transfer/csv.h"
#include "tools/docket/transfer/dump_layout.h"
#include "tools/docket/transfer/json_documents.h"
#include "tools/docket/transfer/text_input.h"

using docket_fuzz::Fail;
namespace transfer = docket::transfer;

namespace {

// The input as a file (the readers take paths): one per process, in memory.
const std::string& InputPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/docket-transfer-fuzz-" + std::to_string(getpid());
  }();
  return path;
}

void WriteFile(const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(InputPath().c_str(), "wb");
  if (f == nullptr) Fail("cannot write the input file");
  if (size > 0 && std::fwrite(data, 1, size, f) != size) Fail("cannot write the input file");
  std::fclose(f);
}

void ReadArchive() {
  transfer::ByteReader in(InputPath());
  transfer::ArchiveReader archive(&in);
  for (const transfer::ArchiveCollection& c : archive.prelude()) {
    if (!c.metadata_json.empty()) (void)transfer::MetadataFromJson(c.metadata_json, "metadata");
  }
  while (auto event = archive.Next()) {
    if (event->document != nullptr && !bson_validate(event->document.get(), BSON_VALIDATE_NONE, nullptr)) {
      Fail("an archive document is not valid BSON");
    }
  }
}

void ReadBsonFile() {
  transfer::ByteReader in(InputPath());
  while (in.ReadDocument()) {
  }
}

void ReadRecords(bool csv) {
  transfer::ByteReader in(InputPath());
  transfer::TextInput text(&in);
  transfer::CsvReader csv_reader(&text);
  transfer::TsvReader tsv_reader(&text);
  transfer::RecordReader& reader = csv ? static_cast<transfer::RecordReader&>(csv_reader) : tsv_reader;
  std::vector<std::string> fields;
  for (int n = 0; n < 10000; ++n) {
    const auto status = reader.Next(&fields);
    if (status == transfer::RecordReader::Status::kEnd) break;
    if (status != transfer::RecordReader::Status::kRecord || !csv) continue;
    // Written back as mongoexport writes it, the record reads the same.
    const std::string written = transfer::CsvRecord(fields);
    std::FILE* f = std::fopen((InputPath() + ".csv").c_str(), "wb");
    if (f == nullptr) Fail("cannot write the round-trip file");
    std::fwrite(written.data(), 1, written.size(), f);
    std::fclose(f);
    transfer::ByteReader again_in(InputPath() + ".csv");
    transfer::TextInput again_text(&again_in);
    transfer::CsvReader again(&again_text);
    std::vector<std::string> reread;
    const auto status2 = again.Next(&reread);
    // Not comparable: a record of one empty field is a blank line, which
    // CSV readers skip; a byte order mark at the start of a file is not
    // data (mongoimport's rule); \r\n inside a quoted field reads as \n
    // (Go's csv reader's rule).
    const bool blank = (fields.size() == 1 && fields[0].empty()) || fields[0].rfind("\xEF\xBB\xBF", 0) == 0 ||
                       std::any_of(fields.begin(), fields.end(),
                                   [](const std::string& f) { return f.find("\r\n") != std::string::npos; });
    if (!blank && (status2 != transfer::RecordReader::Status::kRecord || reread != fields)) {
      const auto escaped = [](const std::vector<std::string>& record) {
        std::string out;
        for (const std::string& f : record) {
          out += "[";
          for (unsigned char c : f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
            out += hex;
          }
          out += "]";
        }
        return out;
      };
      const std::string shown = escaped(fields) + " became " + escaped(reread);
      Fail("a CSV record written by CsvRecord does not read back the same: %s", shown.c_str());
    }
  }
}

void ReadJson(bool array) {
  transfer::ByteReader in(InputPath());
  transfer::TextInput text(&in);
  transfer::JsonDocumentReader reader(&text, array);
  transfer::BsonPtr doc;
  for (int n = 0; n < 10000; ++n) {
    if (reader.Next(&doc) == transfer::JsonDocumentReader::Status::kEnd) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  WriteFile(data + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0: ReadArchive(); break;
      case 1: ReadBsonFile(); break;
      case 2: ReadRecords(/*csv=*/true); break;
      case 3: ReadRecords(/*csv=*/false); break;
      case 4: ReadJson(/*array=*/false); break;
      case 5: ReadJson(/*array=*/true); break;
    }
  } catch (const transfer::TransferError&) {
    // a clear error: what a damaged file must give
  }
  return 0;
}
