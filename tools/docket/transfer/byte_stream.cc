#include "tools/docket/transfer/byte_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace docket::transfer {
namespace {

std::string Describe(const std::string& path) { return path == "-" ? std::string("standard input/output") : path; }

std::string GzMessage(gzFile file) {
  int code = 0;
  const char* message = gzerror(file, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return message != nullptr ? message : "unknown error";
}

}  // namespace

ByteWriter::ByteWriter(const std::string& path, bool gzip) : path_(path) {
  // "T": zlib writes plain bytes (no gzip header) when not compressing.
  const char* mode = gzip ? "wb6" : "wbT";
  file_ = path == "-" ? gzdopen(dup(STDOUT_FILENO), mode) : gzopen(path.c_str(), mode);
  if (file_ == nullptr) throw TransferError("cannot write " + Describe(path) + ": " + std::strerror(errno));
  gzbuffer(file_, 1 << 17);
}

ByteWriter::~ByteWriter() {
  if (file_ != nullptr) gzclose(file_);
}

void ByteWriter::Write(const void* data, size_t size) {
  if (size == 0) return;
  if (gzwrite(file_, data, static_cast<unsigned>(size)) != static_cast<int>(size))
    throw TransferError("writing " + Describe(path_) + ": " + GzMessage(file_));
  written_ += size;
}

void ByteWriter::Close() {
  gzFile file = file_;
  file_ = nullptr;
  if (file != nullptr && gzclose(file) != Z_OK)
    throw TransferError("writing " + Describe(path_) + ": the file could not be completed (disk full?)");
}

ByteReader::ByteReader(const std::string& path) : path_(path) {
  file_ = path == "-" ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path.c_str(), "rb");
  if (file_ == nullptr) throw TransferError("cannot read " + Describe(path) + ": " + std::strerror(errno));
  gzbuffer(file_, 1 << 17);
}

ByteReader::~ByteReader() {
  if (file_ != nullptr) gzclose(file_);
}

size_t ByteReader::ReadSome(void* data, size_t size) {
  const int n = gzread(file_, data, static_cast<unsigned>(size));
  if (n < 0) throw TransferError("reading " + Describe(path_) + ": " + GzMessage(file_));
  offset_ += static_cast<uint64_t>(n);
  return static_cast<size_t>(n);
}

bool ByteReader::ReadExactly(void* data, size_t size, const char* what) {
  size_t got = 0;
  while (got < size) {
    const size_t n = ReadSome(static_cast<char*>(data) + got, size - got);
    if (n == 0) break;
    got += n;
  }
  if (got == 0 && size > 0) return false;
  if (got < size)
    throw TransferError(Describe(path_) + " ends in the middle of " + what + " (at byte " +
                        std::to_string(offset_) + "): the file is truncated");
  return true;
}

std::optional<BsonPtr> ByteReader::ReadDocument(const uint8_t* first_four) {
  const uint64_t start = offset_ - (first_four != nullptr ? 4 : 0);
  uint8_t prefix[4];
  if (first_four != nullptr) {
    std::memcpy(prefix, first_four, 4);
  } else if (!ReadExactly(prefix, 4, "a document")) {
    return std::nullopt;
  }
  const uint32_t length = static_cast<uint32_t>(prefix[0]) | static_cast<uint32_t>(prefix[1]) << 8 |
                          static_cast<uint32_t>(prefix[2]) << 16 | static_cast<uint32_t>(prefix[3]) << 24;
  if (length < 5 || length > kMaxDocumentBytes)
    throw TransferError(Describe(path_) + ": the document at byte " + std::to_string(start) + " claims " +
                        std::to_string(length) + " bytes, which no BSON document can have: the file is damaged");
  std::vector<uint8_t> bytes(length);
  std::memcpy(bytes.data(), prefix, 4);
  ReadExactly(bytes.data() + 4, length - 4, "a document");
  bson_t view;
  size_t bad_offset = 0;
  if (!bson_init_static(&view, bytes.data(), length) ||
      !bson_validate(&view, BSON_VALIDATE_NONE, &bad_offset))
    throw TransferError(Describe(path_) + ": the document at byte " + std::to_string(start) +
                        " is not valid BSON: the file is damaged");
  return CopyBson(&view);
}

std::string ByteReader::ReadAll() {
  std::string out;
  char buffer[1 << 16];
  for (size_t n; (n = ReadSome(buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  return out;
}

}  // namespace docket::transfer
