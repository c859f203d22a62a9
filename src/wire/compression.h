// OP_COMPRESSED (opcode 2012): a message whose body is compressed with
// snappy, zlib or zstd, negotiated in the handshake (`compression` field).
//
//   header (opCode 2012) | int32 originalOpcode | int32 uncompressedSize |
//   uint8 compressorId | compressed bytes of the original message after its header
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docket/status.h"

namespace docket::wire {

enum class Compressor : uint8_t { kNoop = 0, kSnappy = 1, kZlib = 2, kZstd = 3 };

// "snappy", "zlib", "zstd" (and "noop"); nullopt for anything else.
std::optional<Compressor> CompressorFromName(std::string_view name);
const char* CompressorName(Compressor compressor);

// Unwraps a whole OP_COMPRESSED message into the original whole message (its
// header rewritten with the original opcode and length). Sets *compressor.
// Errors: ProtocolError for an unknown compressor, a size over the message
// limit, or data that does not decompress to exactly the announced size.
Result<std::vector<uint8_t>> DecompressMessage(const uint8_t* message, size_t size, Compressor* compressor);

// Wraps a whole message in OP_COMPRESSED with `compressor`.
std::string CompressMessage(const std::string& message, Compressor compressor);

}  // namespace docket::wire
