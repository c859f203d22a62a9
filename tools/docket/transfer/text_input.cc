#include "tools/docket/transfer/text_input.h"

#include <cstring>

namespace docket::transfer {
namespace {
constexpr size_t kChunk = 1 << 16;
}  // namespace

TextInput::TextInput(ByteReader* reader) : reader_(reader), buffer_(kChunk) {
  // Gather three bytes (or all there is) to look for the BOM.
  while (end_ < 3) {
    const size_t n = reader_->ReadSome(buffer_.data() + end_, buffer_.size() - end_);
    if (n == 0) break;
    end_ += n;
  }
  if (end_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) {
    pos_ = 3;
    consumed_ = 3;
  }
}

bool TextInput::Fill() {
  pos_ = 0;
  end_ = 0;
  if (buffer_.size() < kChunk) buffer_.resize(kChunk);
  end_ = reader_->ReadSome(buffer_.data(), buffer_.size());
  return end_ > 0;
}

void TextInput::SkipLine() {
  for (int c = Get(); c != -1 && c != '\n'; c = Get()) {
  }
}

void TextInput::Unread(const std::string& text, uint64_t line) {
  std::vector<char> rest;
  rest.reserve(text.size() + (end_ - pos_));
  rest.insert(rest.end(), text.begin(), text.end());
  rest.insert(rest.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_),
              buffer_.begin() + static_cast<std::ptrdiff_t>(end_));
  buffer_ = std::move(rest);
  pos_ = 0;
  end_ = buffer_.size();
  consumed_ -= text.size();
  line_ = line;
}

}  // namespace docket::transfer
