// MongoDB's hash of a BSON value (BSONElementHasher::hash64, seed 0): what a
// "hashed" index stores for a field, and what convertShardKeyToHashed,
// $toHashedIndexKey and _hashBSONElement answer. The same bytes in, the same
// int64 out as mongod, so hashed keys agree between the two.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>

namespace docket::bson {

// The first 8 bytes (little-endian) of the MD5 of: the seed (int32, LE),
// then the value as MongoDB hashes it — its canonical type (int32, LE;
// MinKey -1, undefined 0, null 5, numbers 10 ...), numbers as an int64
// (doubles truncated, NaN 0, clamped), other scalars as their BSON value
// bytes, documents and arrays element by element (type, name with its NUL,
// value) and then their terminator's type (0).
int64_t HashValue(const bson_iter_t& value, int32_t seed = 0);

// The index key of a hash: the order-preserving encoding
// (bson/key_encoding.h) of the NumberLong `hash`.
std::string HashKey(int64_t hash);

}  // namespace docket::bson
