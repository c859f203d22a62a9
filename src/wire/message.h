// MongoDB wire protocol framing: the 16-byte header, OP_MSG (kind-0 body and
// kind-1 document sequences, optional CRC-32C), the legacy OP_QUERY used for
// the handshake and `*.$cmd` commands, and the replies (OP_MSG, OP_REPLY).
// Pure functions over bytes: no sockets here. All integers are little-endian.
//
//   header:  int32 messageLength | int32 requestID | int32 responseTo | int32 opCode
//   OP_MSG:  uint32 flagBits | sections... | [uint32 CRC-32C if flagBits & 1]
//            section kind 0: one BSON document (the command)
//            section kind 1: int32 size | cstring identifier | BSON documents
//   OP_QUERY: int32 flags | cstring fullCollectionName | int32 skip |
//             int32 numberToReturn | BSON query | [BSON fieldSelector]
//   OP_REPLY: int32 responseFlags | int64 cursorID | int32 startingFrom |
//             int32 numberReturned | BSON documents
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "docket/document.h"
#include "docket/status.h"

namespace docket::wire {

enum OpCode : int32_t {
  kOpReply = 1,
  kOpUpdate = 2001,       // legacy, refused (no reply: fire and forget)
  kOpInsert = 2002,       // legacy, refused (no reply)
  kOpQuery = 2004,
  kOpGetMore = 2005,      // legacy, refused with an OP_REPLY
  kOpDelete = 2006,       // legacy, refused (no reply)
  kOpKillCursors = 2007,  // legacy, refused (no reply)
  kOpCompressed = 2012,
  kOpMsg = 2013,
};

// Whether `op_code` is one of the opcodes above (any other ends the connection).
inline bool IsKnownOpCode(int32_t op_code) {
  switch (op_code) {
    case kOpReply:
    case kOpUpdate:
    case kOpInsert:
    case kOpQuery:
    case kOpGetMore:
    case kOpDelete:
    case kOpKillCursors:
    case kOpCompressed:
    case kOpMsg:
      return true;
    default:
      return false;
  }
}

// OP_REPLY responseFlags.
inline constexpr int32_t kReplyQueryFailure = 1 << 1;
inline constexpr int32_t kReplyAwaitCapable = 1 << 3;

inline constexpr size_t kHeaderSize = 16;
// Largest message accepted or sent, as MongoDB (maxMessageSizeBytes).
inline constexpr int32_t kMaxMessageSize = 48'000'000;

// OP_MSG flag bits. Bits 0-15 are "required": an unknown one is an error.
inline constexpr uint32_t kChecksumPresent = 1u << 0;
inline constexpr uint32_t kMoreToCome = 1u << 1;
inline constexpr uint32_t kExhaustAllowed = 1u << 16;

struct Header {
  int32_t length = 0;
  int32_t request_id = 0;
  int32_t response_to = 0;
  int32_t op_code = 0;
};

// Reads a header from kHeaderSize bytes. Errors: ProtocolError when the
// length is below the header size or above kMaxMessageSize.
Result<Header> ParseHeader(const uint8_t* bytes);

struct DocumentSequence {
  std::string identifier;  // the command's array field it stands for ("documents")
  std::vector<Document> documents;
};

struct OpMsg {
  uint32_t flags = 0;
  Document body;
  std::vector<DocumentSequence> sequences;

  bool more_to_come() const { return (flags & kMoreToCome) != 0; }
  bool checksum_present() const { return (flags & kChecksumPresent) != 0; }
};

// Parses a whole OP_MSG message (header included, `size` == header.length).
// Verifies the checksum when present. Errors, with MongoDB's codes:
// IllegalOpMsgFlag (223), ChecksumMismatch (288), TooManyDocumentSequences
// (233), 40430 (two bodies), 40431 (a sequence twice), 40432 (unknown
// section kind), 40587 (no body), InvalidBSON (a document or sequence whose
// bytes do not fit or do not validate), Overflow (nested too deep).
Result<OpMsg> ParseOpMsg(const uint8_t* message, size_t size);

// Whether a parse error ends the connection (MongoDB's
// ConnectionFatalMessageParseError, and framing errors); the others are
// answered and the connection kept.
bool IsConnectionFatal(const Status& status);

struct OpQuery {
  int32_t flags = 0;
  std::string full_collection_name;  // "admin.$cmd"
  int32_t number_to_skip = 0;
  int32_t number_to_return = 0;
  Document query;
};

// Parses a whole OP_QUERY message. Errors: ProtocolError, InvalidBSON.
Result<OpQuery> ParseOpQuery(const uint8_t* message, size_t size);

// An OP_MSG reply carrying `body`; with `checksum`, the CRC-32C is appended.
std::string BuildOpMsg(int32_t request_id, int32_t response_to, const Document& body, bool checksum);

// An OP_REPLY carrying one document (the answer to an OP_QUERY command, or,
// with kReplyQueryFailure, the {$err, code} of a refused legacy operation).
std::string BuildOpReply(int32_t request_id, int32_t response_to, const Document& document,
                         int32_t flags = kReplyAwaitCapable);

}  // namespace docket::wire
