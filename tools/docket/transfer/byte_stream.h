// Files and standard streams for the data-moving commands, gzip or plain,
// through zlib: a reader takes gzip and plain input alike (zlib reads plain
// bytes through), so restore and import need no flag to read either; a writer
// compresses only when asked.
#pragma once

#include <bson/bson.h>
#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "tools/docket/transfer/bson_value.h"

namespace docket::transfer {

// "-" names standard input or output.
class ByteWriter {
 public:
  ByteWriter(const std::string& path, bool gzip);
  ~ByteWriter();  // closes quietly; call Close() to learn of a failed write
  ByteWriter(const ByteWriter&) = delete;
  ByteWriter& operator=(const ByteWriter&) = delete;

  void Write(const void* data, size_t size);
  void Write(const std::string& text) { Write(text.data(), text.size()); }
  // Writes one BSON document as it is stored: its length prefix and bytes.
  void WriteDocument(const bson_t* doc) { Write(bson_get_data(doc), doc->len); }
  // Flushes and closes; throws TransferError if anything was not written.
  void Close();
  uint64_t bytes_written() const { return written_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  uint64_t written_ = 0;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& path);
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Reads exactly `size` bytes; false at a clean end of input (nothing
  // read). Throws TransferError on a read error or a partial read.
  bool ReadExactly(void* data, size_t size, const char* what);
  // Reads up to `size` bytes; 0 at the end.
  size_t ReadSome(void* data, size_t size);
  // The next BSON document: nullopt at the end of input. Throws on a
  // truncated or malformed document, naming the byte offset where it began.
  // `first_four`: the four bytes of the length prefix, when the caller already read them.
  std::optional<BsonPtr> ReadDocument(const uint8_t* first_four = nullptr);
  // The rest of the input as text.
  std::string ReadAll();
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  uint64_t offset_ = 0;  // uncompressed bytes consumed
};

// Largest document a dump or archive may hold: MongoDB's 16 MiB plus the
// 16 KiB of room it allows internally.
inline constexpr uint32_t kMaxDocumentBytes = 16 * 1024 * 1024 + 16 * 1024;

}  // namespace docket::transfer
