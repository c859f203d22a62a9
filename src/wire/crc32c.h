// CRC-32C (Castagnoli), the checksum of OP_MSG's optional trailing field.
#pragma once

#include <cstddef>
#include <cstdint>

namespace docket::wire {

// CRC-32C of `size` bytes, continuing from `crc` (0 to start). Uses the
// SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace docket::wire
