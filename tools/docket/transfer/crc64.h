// CRC-64 with the ECMA-182 polynomial in its reflected form, initial and
// final value all ones (CRC-64/XZ, what Go's crc64.ECMA table computes):
// mongodump's archive carries it over each collection's documents.
#pragma once

#include <cstddef>
#include <cstdint>

namespace docket::transfer {

class Crc64 {
 public:
  void Update(const void* data, size_t size);
  uint64_t value() const { return ~state_; }

 private:
  uint64_t state_ = ~uint64_t{0};
};

}  // namespace docket::transfer
