// Order-preserving encoding of BSON values into byte strings: for any values
// a and b, memcmp(Encode(a), Encode(b)) has the sign of CompareValues(a, b).
// Record keys and index keys are built from it.
//
// On-disk format (do not change without a storage format version bump):
//   [canonical type byte] then, by type:
//   numbers   [class: 1 NaN, 2 -inf, 3 negative, 4 zero, 5 positive, 6 +inf]
//             finite non-zero: magnitude M, bytes inverted when negative:
//               M = [binary exponent + 20000: u16 BE][64-bit significand BE]
//                   [0 exact | 1 inexact (decimal128 only) + 18-byte decimal]
//             The significand is the magnitude truncated to 64 bits (x87
//             long double), which represents every int32, int64 and double
//             exactly; decimals that it cannot hold exactly carry their own
//             normalised decimal digits so that they still order exactly.
//   string    bytes with 0x00 written as 00 FF, terminated by 00 00
//   object    per field: [canonical type][escaped name][value]; then 00
//   array     per element: [canonical type][value]; then 00
//   binData   [length u32 BE][subtype][bytes]
//   ObjectId  12 bytes; bool 1 byte; date int64 with the sign bit flipped;
//   timestamp u64 BE; regex pattern and options as strings; others as strings
//   null, undefined, MinKey, MaxKey: the type byte alone.
#pragma once

#include <bson/bson.h>

#include <string>

namespace docket::bson {

void AppendKeyValue(std::string* out, const bson_iter_t& value);
// The key of a missing field in an index: sorts as null.
void AppendKeyNull(std::string* out);

// Compares numbers exactly across int32, int64, double and decimal128.
// REQUIRES: both are numbers. NaN equals NaN and sorts below every number.
int CompareNumbers(const bson_iter_t& a, const bson_iter_t& b);

}  // namespace docket::bson
