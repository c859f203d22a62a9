// mongodump's --archive format (mongo-tools common/archive/spec.md):
//
//   magic 0x8199e26d (little-endian) | header document |
//   one collection-metadata document per collection | terminator 0xffffffff |
//   then, in any interleaving:
//     namespace header {db, collection, EOF: false, CRC: 0} | documents | terminator
//     EOF header {db, collection, EOF: true, CRC: CRC-64 of the documents} | terminator
//
// The whole stream may be gzipped (--gzip); ByteReader reads either.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/docket/transfer/byte_stream.h"
#include "tools/docket/transfer/crc64.h"

namespace docket::transfer {

// One collection-metadata document of the prelude.
struct ArchiveCollection {
  std::string db;
  std::string collection;
  std::string metadata_json;  // the .metadata.json text (canonical Extended JSON)
  std::string type;           // "" for a collection, "view", "timeseries"
};

// Writes one archive. Collections are written one after another: Begin,
// documents, End. Not thread-safe.
class ArchiveWriter {
 public:
  // Writes the magic number, the header and the prelude at once.
  ArchiveWriter(ByteWriter* out, const std::string& server_version, const std::string& tool_version,
                const std::vector<ArchiveCollection>& prelude);
  void BeginCollection(const std::string& db, const std::string& collection);
  void WriteDocument(const bson_t* doc);
  // Closes the open segment (if a document was written) and writes the
  // collection's EOF header with its CRC.
  void EndCollection();

 private:
  void WriteHeader(bool eof, uint64_t crc);

  ByteWriter* out_;
  std::string db_, collection_;
  bool in_segment_ = false;
  Crc64 crc_;
};

// Reads an archive as a sequence of events. Not thread-safe.
class ArchiveReader {
 public:
  // Reads the magic number, header and prelude; throws TransferError when the
  // input is not an archive.
  explicit ArchiveReader(ByteReader* in);

  const std::vector<ArchiveCollection>& prelude() const { return prelude_; }
  const std::string& server_version() const { return server_version_; }
  const std::string& tool_version() const { return tool_version_; }

  struct Event {
    std::string db;
    std::string collection;
    BsonPtr document;  // null: the collection's EOF (its CRC matched)
  };
  // The next document or collection end; nullopt at the end of the archive.
  // Throws TransferError on a damaged archive or a CRC mismatch.
  std::optional<Event> Next();

 private:
  BsonPtr ReadHeaderDocument(const uint8_t* first_four);

  ByteReader* in_;
  std::vector<ArchiveCollection> prelude_;
  std::string server_version_, tool_version_;
  std::optional<std::pair<std::string, std::string>> current_;  // the open segment's namespace
  std::map<std::pair<std::string, std::string>, Crc64> crcs_;
};

}  // namespace docket::transfer
