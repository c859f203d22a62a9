#include "wire/message.h"

#include <cstring>

#include "wire/bytes.h"
#include "wire/crc32c.h"

namespace docket::wire {
namespace {

void AppendInt64(std::string* out, int64_t value) {
  AppendInt32(out, static_cast<int32_t>(static_cast<uint64_t>(value) & 0xFFFFFFFF));
  AppendInt32(out, static_cast<int32_t>(static_cast<uint64_t>(value) >> 32));
}

void PatchLength(std::string* out) {
  WriteInt32(reinterpret_cast<uint8_t*>(out->data()), static_cast<int32_t>(out->size()));
}

Status Protocol(std::string message) { return Status(ErrorCode::kProtocolError, std::move(message)); }
// MongoDB's codes for OP_MSG parse errors (op_msg.cpp); the ones marked
// fatal are its ConnectionFatalMessageParseError category.
Status OpMsgError(int32_t code, std::string message) { return Status(static_cast<ErrorCode>(code), std::move(message)); }
constexpr int32_t kMultipleBodies = 40430;
constexpr int32_t kDuplicateSequence = 40431;
constexpr int32_t kUnknownSection = 40432;
constexpr int32_t kNoBody = 40587;
constexpr int32_t kIllegalOpMsgFlag = 223;           // fatal
constexpr int32_t kTooManyDocumentSequences = 233;  // fatal
constexpr int32_t kChecksumMismatch = 288;          // fatal

Status Invalid(std::string message) { return Status(ErrorCode::kInvalidBSON, std::move(message)); }

// Reads one BSON document at p (at most `available` bytes): its length first.
Result<Document> ReadDocument(const uint8_t* p, size_t available, size_t* consumed) {
  if (available < 5) return Invalid("truncated BSON document in message");
  int32_t length = ReadInt32(p);
  if (length < 5 || static_cast<size_t>(length) > available) {
    return Invalid("BSON document length " + std::to_string(length) + " does not fit the message");
  }
  *consumed = static_cast<size_t>(length);
  // MongoDB's BSONObjMaxInternalSize: a user document's 16 MiB plus room for
  // the command around it.
  constexpr int32_t kMaxInternalSize = 16 * 1024 * 1024 + 16 * 1024;
  if (length > kMaxInternalSize) {
    return Status(ErrorCode::kBSONObjectTooLarge, "BSONObj size: " + std::to_string(length) +
                                                      " is invalid. Size must be between 0 and 16793600(16MB)");
  }
  return Document::FromBytes(p, static_cast<size_t>(length));
}

// Reads a NUL-terminated string within [p, p + available).
Result<std::string> ReadCString(const uint8_t* p, size_t available, size_t* consumed) {
  const void* nul = std::memchr(p, 0, available);
  if (nul == nullptr) return Protocol("unterminated string in message");
  size_t length = static_cast<size_t>(static_cast<const uint8_t*>(nul) - p);
  *consumed = length + 1;
  return std::string(reinterpret_cast<const char*>(p), length);
}

}  // namespace

Result<Header> ParseHeader(const uint8_t* bytes) {
  Header h{ReadInt32(bytes), ReadInt32(bytes + 4), ReadInt32(bytes + 8), ReadInt32(bytes + 12)};
  if (h.length < static_cast<int32_t>(kHeaderSize)) {
    return Protocol("message length " + std::to_string(h.length) + " is shorter than its header");
  }
  if (h.length > kMaxMessageSize) {
    return Protocol("message length " + std::to_string(h.length) + " is over the maximum of " +
                    std::to_string(kMaxMessageSize));
  }
  return h;
}

bool IsConnectionFatal(const Status& status) {
  const auto code = static_cast<int32_t>(status.code());
  return code == kIllegalOpMsgFlag || code == kTooManyDocumentSequences || code == kChecksumMismatch ||
         status.code() == ErrorCode::kProtocolError;
}

Result<OpMsg> ParseOpMsg(const uint8_t* message, size_t size) {
  if (size < kHeaderSize + 4) return Protocol("OP_MSG too short for its flags");
  OpMsg msg;
  msg.flags = static_cast<uint32_t>(ReadInt32(message + kHeaderSize));
  const uint32_t known = kChecksumPresent | kMoreToCome;
  if ((msg.flags & 0xFFFF & ~known) != 0) {
    return OpMsgError(kIllegalOpMsgFlag, "Message contains illegal flags value: " + std::to_string(msg.flags));
  }
  size_t end = size;
  if (msg.checksum_present()) {
    if (size < kHeaderSize + 4 + 4) return Protocol("OP_MSG too short for its checksum");
    end -= 4;
    uint32_t expected = static_cast<uint32_t>(ReadInt32(message + end));
    if (Crc32c(message, end) != expected) return OpMsgError(kChecksumMismatch, "OP_MSG checksum mismatch");
  }
  bool have_body = false;
  size_t pos = kHeaderSize + 4;
  while (pos < end) {
    uint8_t kind = message[pos++];
    size_t consumed = 0;
    if (kind == 0) {
      if (have_body) return OpMsgError(kMultipleBodies, "Multiple body sections in message");
      auto body = ReadDocument(message + pos, end - pos, &consumed);
      if (!body.ok()) return body.status();
      msg.body = std::move(body).value();
      have_body = true;
      pos += consumed;
    } else if (kind == 1) {
      if (msg.sequences.size() >= 2) {
        return OpMsgError(kTooManyDocumentSequences, "Too many document sequences in OP_MSG");
      }
      if (end - pos < 4) return Invalid("truncated OP_MSG document sequence");
      int32_t length = ReadInt32(message + pos);
      if (length < 5 || static_cast<size_t>(length) > end - pos) {
        return Invalid("OP_MSG document sequence length " + std::to_string(length) + " does not fit the message");
      }
      const size_t section_end = pos + static_cast<size_t>(length);
      pos += 4;
      DocumentSequence sequence;
      auto identifier = ReadCString(message + pos, section_end - pos, &consumed);
      if (!identifier.ok()) return identifier.status();
      sequence.identifier = std::move(identifier).value();
      for (const DocumentSequence& other : msg.sequences) {
        if (other.identifier == sequence.identifier) {
          return OpMsgError(kDuplicateSequence, "Duplicate document sequence: " + sequence.identifier);
        }
      }
      pos += consumed;
      while (pos < section_end) {
        auto doc = ReadDocument(message + pos, section_end - pos, &consumed);
        if (!doc.ok()) return doc.status();
        sequence.documents.push_back(std::move(doc).value());
        pos += consumed;
      }
      msg.sequences.push_back(std::move(sequence));
    } else {
      return OpMsgError(kUnknownSection, "Unknown section kind " + std::to_string(kind));
    }
  }
  if (!have_body) return OpMsgError(kNoBody, "OP_MSG messages must have a body");
  return msg;
}

Result<OpQuery> ParseOpQuery(const uint8_t* message, size_t size) {
  if (size < kHeaderSize + 4) return Protocol("OP_QUERY too short");
  OpQuery q;
  size_t pos = kHeaderSize;
  q.flags = ReadInt32(message + pos);
  pos += 4;
  size_t consumed = 0;
  auto name = ReadCString(message + pos, size - pos, &consumed);
  if (!name.ok()) return name.status();
  q.full_collection_name = std::move(name).value();
  pos += consumed;
  if (size - pos < 8) return Protocol("OP_QUERY too short");
  q.number_to_skip = ReadInt32(message + pos);
  q.number_to_return = ReadInt32(message + pos + 4);
  pos += 8;
  auto query = ReadDocument(message + pos, size - pos, &consumed);
  if (!query.ok()) return query.status();
  q.query = std::move(query).value();
  return q;  // an optional field selector may follow; commands ignore it
}

std::string BuildOpMsg(int32_t request_id, int32_t response_to, const Document& body, bool checksum) {
  std::string out;
  out.reserve(kHeaderSize + 5 + body.size() + 4);
  AppendInt32(&out, 0);  // length, patched below
  AppendInt32(&out, request_id);
  AppendInt32(&out, response_to);
  AppendInt32(&out, kOpMsg);
  AppendInt32(&out, checksum ? static_cast<int32_t>(kChecksumPresent) : 0);
  out.push_back('\0');  // section kind 0
  out.append(body.bytes());
  if (checksum) {
    AppendInt32(&out, 0);  // reserve the checksum's 4 bytes: the length field covers them
    PatchLength(&out);
    uint32_t crc = Crc32c(out.data(), out.size() - 4);
    out.resize(out.size() - 4);
    AppendInt32(&out, static_cast<int32_t>(crc));
  } else {
    PatchLength(&out);
  }
  return out;
}

std::string BuildOpReply(int32_t request_id, int32_t response_to, const Document& document, int32_t flags) {
  std::string out;
  out.reserve(kHeaderSize + 20 + document.size());
  AppendInt32(&out, 0);
  AppendInt32(&out, request_id);
  AppendInt32(&out, response_to);
  AppendInt32(&out, kOpReply);
  AppendInt32(&out, flags);  // responseFlags
  AppendInt64(&out, 0);  // cursorID
  AppendInt32(&out, 0);  // startingFrom
  AppendInt32(&out, 1);  // numberReturned
  out.append(document.bytes());
  PatchLength(&out);
  return out;
}

}  // namespace docket::wire
