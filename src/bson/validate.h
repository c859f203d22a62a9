// Strict validation of BSON bytes from outside: every length, terminator and
// type byte, at every depth, without recursion (an explicit stack of open
// documents), so that no input can exhaust the stack here or later.
//
// libbson's bson_validate is not enough on its own: it skips an embedded
// document it cannot open (a last byte that is not 0, a length past its
// parent), so such bytes were stored and served back until drivers could no
// longer read the collection.
//
// Checked (as MongoDB's validateBSON, default mode): the declared length of
// each document matches; each element's type is a BSON type; keys are
// NUL-terminated inside the document; strings, code and symbols have a
// positive length that fits and end with NUL; binary lengths fit (and the old
// binary subtype 2 carries a consistent inner length); regex patterns and
// options are NUL-terminated; code-with-scope's total length agrees with its
// parts; booleans are 0 or 1; each document and array ends with one 0 byte
// exactly at its end. UTF-8 is not checked (MongoDB does not either).
#pragma once

#include <cstddef>
#include <cstdint>

#include "docket/status.h"

namespace docket::bson {

// The nesting MongoDB accepts in a command (its maxBSONDepth).
inline constexpr int kMaxCommandDepth = 200;
// The nesting MongoDB stores (getMaxDepthForUserStorage): a stored document
// with more levels is refused with Overflow.
inline constexpr int kMaxStorageDepth = 100;

// Errors: InvalidBSON (22) naming the offset and the reason; Overflow (15)
// when documents and arrays nest deeper than `max_depth` (the top-level
// document is depth 1; empty sub-documents do not count, as in MongoDB).
Status ValidateBson(const uint8_t* data, size_t size, int max_depth = kMaxCommandDepth);

// The nesting depth of a valid document (top level 1; empty sub-documents
// and arrays do not add a level). REQUIRES: ValidateBson passed.
int NestingDepth(const uint8_t* data, size_t size);

}  // namespace docket::bson
