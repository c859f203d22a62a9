#include "tools/docket/transfer/json_documents.h"

#include <cstdio>

namespace docket::transfer {
namespace {

// JSON text longer than this is not taken for one document: BSON's 16 MiB
// can take more text than that in canonical form, but not four times more.
constexpr size_t kMaxDocumentText = 64u << 20;

std::string Describe(int c) {
  if (c == -1) return "the end of input";
  if (c >= 0x21 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  char hex[16];
  std::snprintf(hex, sizeof hex, "byte 0x%02X", c);
  return hex;
}

}  // namespace

int JsonDocumentReader::SkipSpace() {
  for (;;) {
    const int c = in_->Peek();
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return c;
    in_->Get();
  }
}

JsonDocumentReader::Status JsonDocumentReader::Fail(std::string message, bool skip_line) {
  error_ = std::move(message);
  if (skip_line) in_->SkipLine();
  return Status::kError;
}

JsonDocumentReader::Status JsonDocumentReader::ReadObject(BsonPtr* doc) {
  start_line_ = in_->line();
  std::string text;
  int depth = 0;
  bool in_string = false, escaped = false;
  const auto unclosed = [&](const std::string& why) {
    // Take the document to end with its first line: re-read the rest.
    const size_t newline = text.find('\n');
    if (newline != std::string::npos) in_->Unread(text.substr(newline + 1), start_line_ + 1);
    return Fail(why, false);
  };
  for (;;) {
    const int c = in_->Get();
    if (c == -1) return unclosed("the document is never closed (a '}' or ']' is missing)");
    text.push_back(static_cast<char>(c));
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      else if (c == '\n')
        return unclosed(text.find('\n') + 1 == text.size() ? "a string is not closed before the end of its line"
                                                           : "the document is never closed (a '}' or ']' is missing)");
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    }
    if (text.size() > kMaxDocumentText)
      return unclosed("the document is not closed within " + std::to_string(kMaxDocumentText >> 20) + " MiB");
  }
  bson_error_t error;
  bson_t* parsed =
      bson_new_from_json(reinterpret_cast<const uint8_t*>(text.data()), static_cast<ssize_t>(text.size()), &error);
  if (parsed == nullptr) {
    // A span of lines whose second line starts a document is more likely a
    // broken line followed by good ones than one document: re-read those.
    const size_t newline = text.find('\n');
    const size_t next = newline == std::string::npos ? newline : text.find_first_not_of(" \t\r", newline + 1);
    if (next != std::string::npos && text[next] == '{') in_->Unread(text.substr(newline + 1), start_line_ + 1);
    return Fail(std::string("not valid Extended JSON: ") + error.message, false);
  }
  *doc = BsonPtr(parsed);
  return Status::kDocument;
}

bool JsonDocumentReader::SkipToSeparator() {
  for (int c = in_->Peek(); c != -1; c = in_->Peek()) {
    if (c == '{' || c == ']') return false;
    in_->Get();
    if (c == ',') return true;
  }
  return false;
}

JsonDocumentReader::Status JsonDocumentReader::Next(BsonPtr* doc) {
  if (!array_) {
    const int c = SkipSpace();
    start_line_ = in_->line();
    if (c == -1) return Status::kEnd;
    if (c == '{') return ReadObject(doc);
    if (c == '[')
      return Fail("a JSON array where a document should be (--jsonArray imports the documents of an array)", true);
    return Fail("expected a document ('{') but found " + Describe(c), true);
  }
  for (;;) {
    const int c = SkipSpace();
    start_line_ = in_->line();
    switch (state_) {
      case ArrayState::kBeforeOpen:
        if (c == -1) {
          state_ = ArrayState::kClosed;
          return Status::kEnd;  // no input at all: no documents
        }
        if (c != '[') {
          state_ = ArrayState::kDone;
          return Fail("with --jsonArray the input must be one JSON array, but it starts with " + Describe(c), false);
        }
        in_->Get();
        state_ = ArrayState::kElement;
        continue;
      case ArrayState::kElement:
      case ArrayState::kAfterElement:
        if (c == -1) {
          state_ = ArrayState::kDone;
          return Fail("the array is never closed (no ']' at the end)", false);
        }
        if (c == ']') {
          in_->Get();
          state_ = ArrayState::kClosed;
          continue;
        }
        if (state_ == ArrayState::kAfterElement && c == ',') {
          in_->Get();
          state_ = ArrayState::kElement;
          continue;
        }
        if (c == '{' && (state_ == ArrayState::kElement || after_failure_)) {
          state_ = ArrayState::kAfterElement;
          const Status status = ReadObject(doc);
          after_failure_ = status == Status::kError;
          return status;
        }
        error_ = state_ == ArrayState::kElement ? "expected a document in the array but found " + Describe(c)
                                                : "expected ',' or ']' after a document but found " + Describe(c);
        after_failure_ = true;
        state_ = SkipToSeparator() ? ArrayState::kElement : ArrayState::kAfterElement;
        return Status::kError;
      case ArrayState::kClosed:
        if (c == -1) {
          state_ = ArrayState::kDone;
          return Status::kEnd;
        }
        state_ = ArrayState::kDone;
        return Fail("text after the end of the array: " + Describe(c), false);
      case ArrayState::kDone:
        return Status::kEnd;
    }
  }
}

}  // namespace docket::transfer
