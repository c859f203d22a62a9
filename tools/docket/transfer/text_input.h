// Character-at-a-time reading of import input (JSON, CSV, TSV) over a
// ByteReader, counting lines so that every bad record can be reported by the
// line it starts on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/docket/transfer/byte_stream.h"

namespace docket::transfer {

// Not thread-safe. The ByteReader must outlive the TextInput.
class TextInput {
 public:
  // Skips a UTF-8 byte order mark at the start, as mongoimport does.
  explicit TextInput(ByteReader* reader);
  TextInput(const TextInput&) = delete;
  TextInput& operator=(const TextInput&) = delete;

  // The next byte (0-255) without consuming it, or -1 at the end of input.
  int Peek() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buffer_[pos_]);
  }
  // Consumes and returns the next byte, or -1 at the end of input.
  int Get() {
    if (pos_ == end_ && !Fill()) return -1;
    const char c = buffer_[pos_++];
    ++consumed_;
    if (c == '\n') ++line_;
    return static_cast<unsigned char>(c);
  }
  // Consumes through the next newline (or to the end of input).
  void SkipLine();
  // Puts `text` back in front of the unread input, as if it had not been
  // read, and says that it starts on `line`. Used to re-read what followed
  // the first line of a record that turned out to be unusable.
  void Unread(const std::string& text, uint64_t line);

  // The 1-based line of the next byte.
  uint64_t line() const { return line_; }
  // Bytes consumed so far (after decompression; the BOM included).
  uint64_t consumed() const { return consumed_; }

 private:
  bool Fill();

  ByteReader* reader_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t line_ = 1;
  uint64_t consumed_ = 0;
};

}  // namespace docket::transfer
