// A 2d index's keys (MongoDB's legacy geospatial index, docs/engine.md
// "Geospatial"): a location [x, y] in the square [min, max]^2 is scaled to
// two 32-bit integers, and the top `bits` bits of each are interleaved (x's
// bit first, most significant first) into a code of 2 * bits bits, the
// geohash. Codes are kept left-aligned in 64 bits, so that a cell of any
// coarser level is one contiguous range of codes.
//
// Also here: which locations a document holds at a 2d field, read as mongod
// reads them (its grammar and error codes). Immutable; safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <bson/bson.h>

#include "docket/status.h"
#include "geo/geometry.h"

namespace docket::geo {

// A 2d index's options: bits (1..32, default 26), min and max (the square
// of coordinates it can hold, default [-180, 180]).
struct GeoHashParams {
  int bits = 26;
  double min = -180;
  double max = 180;
};

struct CodeRange {  // inclusive, left-aligned codes
  uint64_t min;
  uint64_t max;
};

class GeoHasher {
 public:
  explicit GeoHasher(const GeoHashParams& params);

  const GeoHashParams& params() const { return params_; }
  // The code of a location. REQUIRES: min <= x, y <= max.
  uint64_t Hash(double x, double y) const;
  // Replaces *ranges with ascending, disjoint code ranges whose cells
  // together cover `box` (clipped to the square; nothing when it misses
  // it): the cells of the coarsest level at which the box spans at most
  // four cells each way.
  void Cover(const FlatBox& box, std::vector<CodeRange>* ranges) const;

 private:
  uint32_t Scale(double v) const;  // [min, max] to [0, 2^32)

  GeoHashParams params_;
  double scaling_;
};

// The locations a 2d field's value holds, appended to *points, as mongod's
// 2d key generator reads it: a value that is not an array or document, or
// is an empty one, holds none; a value whose first element is a number is
// one location (its first two elements); otherwise every element is a
// location (an array or document; empty ones are skipped). Errors (the
// caller adds " :: caused by :: <document>"): 16804 "location object
// expected, location array not in correct format" for an element that is
// neither; 13068 "geo field only has 1 element"; 13026 "geo values must be
// 'legacy coordinate pairs' for 2d indexes" when the two are not numbers;
// 13027 "point not in interval of [ min, max ]".
Status TwoDLocations(const bson_iter_t& value, const GeoHashParams& params, std::vector<std::pair<double, double>>* points);

}  // namespace docket::geo
