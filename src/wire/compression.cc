#include "wire/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "wire/bytes.h"
#include "wire/message.h"

namespace docket::wire {
namespace {

Status Protocol(std::string message) { return Status(ErrorCode::kProtocolError, std::move(message)); }

}  // namespace

std::optional<Compressor> CompressorFromName(std::string_view name) {
  if (name == "snappy") return Compressor::kSnappy;
  if (name == "zlib") return Compressor::kZlib;
  if (name == "zstd") return Compressor::kZstd;
  if (name == "noop") return Compressor::kNoop;
  return std::nullopt;
}

const char* CompressorName(Compressor compressor) {
  switch (compressor) {
    case Compressor::kNoop: return "noop";
    case Compressor::kSnappy: return "snappy";
    case Compressor::kZlib: return "zlib";
    case Compressor::kZstd: return "zstd";
  }
  return "unknown";
}

Result<std::vector<uint8_t>> DecompressMessage(const uint8_t* message, size_t size, Compressor* compressor) {
  if (size < kHeaderSize + 9) return Protocol("OP_COMPRESSED too short");
  const int32_t original_opcode = ReadInt32(message + kHeaderSize);
  const int32_t uncompressed = ReadInt32(message + kHeaderSize + 4);
  const uint8_t id = message[kHeaderSize + 8];
  if (uncompressed < 0 || uncompressed > kMaxMessageSize - static_cast<int32_t>(kHeaderSize)) {
    return Protocol("OP_COMPRESSED announces " + std::to_string(uncompressed) + " bytes, over the message limit");
  }
  if (original_opcode == kOpCompressed) return Protocol("OP_COMPRESSED inside OP_COMPRESSED");
  if (id > static_cast<uint8_t>(Compressor::kZstd)) return Protocol("unknown compressor id " + std::to_string(id));
  *compressor = static_cast<Compressor>(id);
  const uint8_t* data = message + kHeaderSize + 9;
  const size_t data_size = size - kHeaderSize - 9;

  std::vector<uint8_t> out(kHeaderSize + static_cast<size_t>(uncompressed));
  uint8_t* body = out.data() + kHeaderSize;
  bool ok = false;
  switch (*compressor) {
    case Compressor::kNoop:
      ok = data_size == static_cast<size_t>(uncompressed);
      if (ok) std::memcpy(body, data, data_size);
      break;
    case Compressor::kSnappy: {
      size_t length = 0;
      ok = snappy::GetUncompressedLength(reinterpret_cast<const char*>(data), data_size, &length) &&
           length == static_cast<size_t>(uncompressed) &&
           snappy::RawUncompress(reinterpret_cast<const char*>(data), data_size, reinterpret_cast<char*>(body));
      break;
    }
    case Compressor::kZlib: {
      uLongf length = static_cast<uLongf>(uncompressed);
      ok = uncompress(body, &length, data, static_cast<uLong>(data_size)) == Z_OK &&
           length == static_cast<uLongf>(uncompressed);
      break;
    }
    case Compressor::kZstd: {
      size_t length = ZSTD_decompress(body, static_cast<size_t>(uncompressed), data, data_size);
      ok = !ZSTD_isError(length) && length == static_cast<size_t>(uncompressed);
      break;
    }
  }
  if (!ok) return Protocol(std::string("OP_COMPRESSED body does not decompress (") + CompressorName(*compressor) + ")");
  std::memcpy(out.data(), message, kHeaderSize);
  WriteInt32(out.data(), static_cast<int32_t>(out.size()));
  WriteInt32(out.data() + 12, original_opcode);
  return out;
}

std::string CompressMessage(const std::string& message, Compressor compressor) {
  const char* body = message.data() + kHeaderSize;
  const size_t body_size = message.size() - kHeaderSize;
  std::string compressed;
  switch (compressor) {
    case Compressor::kNoop:
      compressed.assign(body, body_size);
      break;
    case Compressor::kSnappy:
      snappy::Compress(body, body_size, &compressed);
      break;
    case Compressor::kZlib: {
      uLongf length = compressBound(static_cast<uLong>(body_size));
      compressed.resize(length);
      if (compress(reinterpret_cast<Bytef*>(compressed.data()), &length, reinterpret_cast<const Bytef*>(body),
                   static_cast<uLong>(body_size)) != Z_OK) {
        return message;  // cannot happen with a bound-sized buffer; send it uncompressed
      }
      compressed.resize(length);
      break;
    }
    case Compressor::kZstd: {
      compressed.resize(ZSTD_compressBound(body_size));
      size_t length = ZSTD_compress(compressed.data(), compressed.size(), body, body_size, 1);
      if (ZSTD_isError(length)) return message;
      compressed.resize(length);
      break;
    }
  }
  std::string out(kHeaderSize + 9, '\0');
  std::memcpy(out.data(), message.data(), kHeaderSize);
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  WriteInt32(p + 12, kOpCompressed);
  WriteInt32(p + kHeaderSize, ReadInt32(reinterpret_cast<const uint8_t*>(message.data()) + 12));
  WriteInt32(p + kHeaderSize + 4, static_cast<int32_t>(body_size));
  p[kHeaderSize + 8] = static_cast<uint8_t>(compressor);
  out += compressed;
  WriteInt32(reinterpret_cast<uint8_t*>(out.data()), static_cast<int32_t>(out.size()));
  return out;
}

}  // namespace docket::wire
