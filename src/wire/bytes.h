// Little-endian integers in wire messages.
#pragma once

#include <cstdint>
#include <string>

namespace docket::wire {

inline int32_t ReadInt32(const uint8_t* p) {
  uint32_t v = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
               static_cast<uint32_t>(p[3]) << 24;
  return static_cast<int32_t>(v);
}

inline void WriteInt32(uint8_t* p, int32_t value) {
  uint32_t v = static_cast<uint32_t>(value);
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>((v >> (8 * i)) & 0xFF);
}

inline void AppendInt32(std::string* out, int32_t value) {
  uint8_t bytes[4];
  WriteInt32(bytes, value);
  out->append(reinterpret_cast<const char*>(bytes), 4);
}

}  // namespace docket::wire
