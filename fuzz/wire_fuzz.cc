// Fuzz target: the wire decoder (src/wire). The input is one whole message as
// a client would send it: a 16-byte header then the body.
//
// Runs, whatever the opcode says: ParseHeader, ParseOpMsg, ParseOpQuery and
// DecompressMessage (which reads the compressor id from the message, so the
// snappy, zlib, zstd and noop seeds each reach their decompressor); then what
// the server does, by opcode: OP_COMPRESSED is unwrapped and its content
// parsed as its original opcode says. A message with the checksum flag is also
// parsed with its CRC-32C recomputed, so that the fuzzer gets past it.
//
// Invariants (abort() when broken):
//   * a parsed OP_MSG body and every sequence document is valid BSON;
//     BuildOpMsg(body) parses back to the same body, with and without checksum;
//   * a parsed OP_QUERY's query is valid BSON;
//   * a decompressed message is its announced size plus the header, and its
//     header carries the original opcode and the new length;
//   * CompressMessage then DecompressMessage, with each compressor, gives back
//     the message's body unchanged (and reports that compressor).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "wire/compression.h"
#include "wire/crc32c.h"
#include "wire/message.h"

using docket_fuzz::CheckValidOutput;
using docket_fuzz::Fail;
using docket_fuzz::ReadLe32;
namespace wire = docket::wire;

namespace {

void CheckOpMsg(const uint8_t* data, size_t size) {
  auto msg = wire::ParseOpMsg(data, size);
  if (!msg.ok()) {
    (void)wire::IsConnectionFatal(msg.status());
    return;
  }
  CheckValidOutput(msg->body, "ParseOpMsg (body)");
  for (const wire::DocumentSequence& sequence : msg->sequences) {
    for (const docket::Document& doc : sequence.documents) CheckValidOutput(doc, "ParseOpMsg (sequence)");
  }
  for (bool checksum : {false, true}) {
    std::string rebuilt = wire::BuildOpMsg(7, 9, msg->body, checksum);
    auto again = wire::ParseOpMsg(reinterpret_cast<const uint8_t*>(rebuilt.data()), rebuilt.size());
    if (!again.ok()) Fail("BuildOpMsg output does not parse: %s", again.status().ToString().c_str());
    if (!(again->body == msg->body)) Fail("BuildOpMsg/ParseOpMsg round trip changed the body");
    if (!again->sequences.empty()) Fail("BuildOpMsg/ParseOpMsg round trip invented a sequence");
    auto header = wire::ParseHeader(reinterpret_cast<const uint8_t*>(rebuilt.data()));
    if (!header.ok() || header->length != static_cast<int32_t>(rebuilt.size()) || header->op_code != wire::kOpMsg) {
      Fail("BuildOpMsg wrote a wrong header");
    }
  }
}

void CheckOpQuery(const uint8_t* data, size_t size) {
  auto q = wire::ParseOpQuery(data, size);
  if (!q.ok()) return;
  CheckValidOutput(q->query, "ParseOpQuery");
}

void CheckDecompress(const uint8_t* data, size_t size, int depth) {
  wire::Compressor compressor = wire::Compressor::kNoop;
  auto out = wire::DecompressMessage(data, size, &compressor);
  if (!out.ok()) return;
  const int32_t announced = ReadLe32(data + wire::kHeaderSize + 4);
  if (out->size() != wire::kHeaderSize + static_cast<size_t>(announced)) {
    Fail("DecompressMessage returned %zu bytes for %d announced", out->size(), announced);
  }
  if (ReadLe32(out->data()) != static_cast<int32_t>(out->size())) Fail("DecompressMessage: wrong length in header");
  if (ReadLe32(out->data() + 12) != ReadLe32(data + wire::kHeaderSize)) Fail("DecompressMessage: wrong opcode");
  if (depth > 0) return;
  // What the server does next with the original message.
  switch (ReadLe32(out->data() + 12)) {
    case wire::kOpMsg: CheckOpMsg(out->data(), out->size()); break;
    case wire::kOpQuery: CheckOpQuery(out->data(), out->size()); break;
    case wire::kOpCompressed: CheckDecompress(out->data(), out->size(), depth + 1); break;
    default: break;
  }
}

void CheckCompressionRoundTrip(const uint8_t* data, size_t size) {
  const std::string message(reinterpret_cast<const char*>(data), size);
  for (wire::Compressor c : {wire::Compressor::kNoop, wire::Compressor::kSnappy, wire::Compressor::kZlib,
                             wire::Compressor::kZstd}) {
    std::string packed = wire::CompressMessage(message, c);
    wire::Compressor seen = wire::Compressor::kNoop;
    auto unpacked = wire::DecompressMessage(reinterpret_cast<const uint8_t*>(packed.data()), packed.size(), &seen);
    if (ReadLe32(data + 12) == wire::kOpCompressed) {
      // Compressing an OP_COMPRESSED is the caller's mistake: it must be refused.
      if (unpacked.ok()) Fail("DecompressMessage accepted OP_COMPRESSED inside OP_COMPRESSED");
      continue;
    }
    if (!unpacked.ok()) {
      Fail("%s round trip: %s", wire::CompressorName(c), unpacked.status().ToString().c_str());
    }
    if (seen != c) Fail("%s round trip reported compressor %s", wire::CompressorName(c), wire::CompressorName(seen));
    if (unpacked->size() != size ||
        std::memcmp(unpacked->data() + wire::kHeaderSize, data + wire::kHeaderSize, size - wire::kHeaderSize) != 0 ||
        std::memcmp(unpacked->data() + 4, data + 4, 12) != 0) {
      Fail("%s round trip changed the message", wire::CompressorName(c));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < wire::kHeaderSize) return 0;
  // Own copies, sized exactly, so that ASan sees any read past the message.
  std::vector<uint8_t> message(data, data + size);
  (void)wire::ParseHeader(message.data());
  CheckOpMsg(message.data(), message.size());
  CheckOpQuery(message.data(), message.size());
  CheckDecompress(message.data(), message.size(), 0);

  // The same message with its checksum made right.
  if (size >= wire::kHeaderSize + 8 && (ReadLe32(message.data() + wire::kHeaderSize) & wire::kChecksumPresent)) {
    std::vector<uint8_t> fixed = message;
    const uint32_t crc = docket::wire::Crc32c(fixed.data(), fixed.size() - 4);
    for (int i = 0; i < 4; ++i) fixed[fixed.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
    CheckOpMsg(fixed.data(), fixed.size());
  }
  if (size <= 64 * 1024) CheckCompressionRoundTrip(message.data(), message.size());
  return 0;
}
