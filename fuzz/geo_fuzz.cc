// Fuzz target: geometry parsing and predicates (src/geo/geometry.h).
// Input: BSON documents (fuzz_util.h); every top-level value of each is
// parsed as a stored geometry, as a $geoWithin / $geoIntersects operand and
// as a $near operator object, and the parsed ones are tried against each
// other.
//
// Invariants (abort() when broken):
//   * parsing the same value twice answers the same;
//   * a stored geometry either gives 2dsphere cells or an error; a GeoJSON
//     Point (or an in-range legacy pair) gives exactly one cell, a leaf;
//   * every cell range CellRangesFor gives is ordered (min <= max);
//   * a distance is finite and non-negative, or absent;
//   * a stored geometry within a region also intersects it when the region
//     accepts both operators on the same operand (within implies
//     intersects), except for a $centerSphere, which mongod's
//     $geoIntersects never matches;
//   * a Point is within distance 0 of itself for a $nearSphere on its own
//     coordinates (when it parses as one);
//   * every location a 2d field value holds (geohash.h) is in the index's
//     square, and the geohash cells covering a box about it hold its code.
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "bson/builder.h"
#include "bson/value.h"
#include "fuzz_util.h"
#include "geo/geohash.h"
#include "geo/geometry.h"

using docket_fuzz::Fail;
namespace geo = docket::geo;

namespace {

void CheckStored(const geo::Geometry& g) {
  std::vector<uint64_t> cells;
  docket::Status s = g.SphereCells(geo::CoverParams(), &cells);
  if (!s.ok()) return;
  if (g.legacy_point() && cells.size() != 1) Fail("a legacy pair gave %zu cells", cells.size());
  for (uint64_t cell : cells) {
    std::vector<geo::CellRange> ranges;
    geo::CellRangesFor(cell, 2, &ranges);
    for (const geo::CellRange& r : ranges) {
      if (r.min > r.max) Fail("cell range out of order");
    }
  }
}

void CheckTwoD(const bson_iter_t& value) {
  for (const geo::GeoHashParams& params : {geo::GeoHashParams{}, geo::GeoHashParams{5, -1, 1}}) {
    std::vector<std::pair<double, double>> points;
    if (!geo::TwoDLocations(value, params, &points).ok()) continue;
    const geo::GeoHasher hasher(params);
    for (const auto& [x, y] : points) {
      if (!(x >= params.min && x <= params.max && y >= params.min && y <= params.max)) Fail("2d location out of its square");
      const uint64_t code = hasher.Hash(x, y);
      for (const double r : {0.0, 1e-9, 0.3, 50.0}) {
        std::vector<geo::CodeRange> ranges;
        hasher.Cover(geo::FlatBox{x - r, y - r, x + r, y + r}, &ranges);
        bool held = false;
        for (const geo::CodeRange& c : ranges) held = held || (c.min <= code && code <= c.max);
        if (!held) Fail("the cells covering a box about a location miss its geohash");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<docket::Document> docs = docket_fuzz::SplitDocuments(data, size, 4);
  std::vector<geo::Geometry> stored;
  std::vector<geo::Region> within, intersects;
  std::vector<geo::NearQuery> near;
  for (const docket::Document& doc : docs) {
    bson_iter_t it;
    doc.Iterate(&it);
    while (bson_iter_next(&it)) {
      CheckTwoD(it);
      auto g = geo::Geometry::Parse(it);
      auto g2 = geo::Geometry::Parse(it);
      if (g.ok() != g2.ok()) Fail("Geometry::Parse answered differently on the same value");
      if (g.ok()) {
        CheckStored(*g);
        stored.push_back(std::move(g).value());
      }
      auto w = geo::Region::Parse(geo::Region::Op::kWithin, it);
      auto x = geo::Region::Parse(geo::Region::Op::kIntersects, it);
      // mongod's $geoIntersects has no case for a $centerSphere cap (it
      // matches nothing), so the implication holds for the other shapes.
      bson_iter_t cap;
      const bool is_cap = BSON_ITER_HOLDS_DOCUMENT(&it) && bson_iter_recurse(&it, &cap) &&
                          bson_iter_find(&cap, "$centerSphere");
      if (w.ok() && x.ok() && !is_cap) {
        for (const geo::Geometry& s : stored) {
          if (w->Matches(s) && !x->Matches(s)) Fail("within the region but not intersecting it");
        }
      }
      if (w.ok()) {
        if (w->spherical()) {
          std::vector<uint64_t> cells;
          w->Covering(&cells);
        }
        within.push_back(std::move(w).value());
      }
      if (x.ok()) intersects.push_back(std::move(x).value());
      if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
        auto n = geo::NearQuery::Parse(it);
        if (n.ok()) {
          if (n->spherical() && std::isfinite(n->max_distance())) {
            std::vector<uint64_t> cells;
            n->CapCovering(n->max_distance(), &cells);
          }
          near.push_back(std::move(n).value());
        }
      }
    }
  }
  for (const geo::NearQuery& n : near) {
    for (const geo::Geometry& s : stored) {
      const std::optional<double> d = n.Distance(s);
      if (d && !(std::isfinite(*d) && *d >= 0)) Fail("distance %g is not finite and non-negative", *d);
    }
  }
  for (const geo::Region& r : within) {
    for (const geo::Geometry& s : stored) (void)r.Matches(s);
  }
  for (const geo::Region& r : intersects) {
    for (const geo::Geometry& s : stored) (void)r.Matches(s);
  }
  // A GeoJSON point is at distance 0 from a $nearSphere on itself.
  for (const docket::Document& doc : docs) {
    bson_iter_t it;
    doc.Iterate(&it);
    while (bson_iter_next(&it)) {
      if (!BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
      bson_iter_t inner;
      bson_iter_recurse(&it, &inner);
      if (!bson_iter_find(&inner, "type") || !BSON_ITER_HOLDS_UTF8(&inner) ||
          std::string_view(bson_iter_utf8(&inner, nullptr)) != "Point") {
        continue;
      }
      auto point = geo::Geometry::Parse(it);
      if (!point.ok()) continue;
      // {"": {$nearSphere: {$geometry: <the point>}}}: the operator object as a value.
      docket::bson::Builder holder;
      bson_t object, operand;
      bson_append_document_begin(holder.get(), "", 0, &object);
      bson_append_document_begin(&object, "$nearSphere", -1, &operand);
      docket::bson::AppendDocument(&operand, "$geometry",
                                   docket::Document::FromTrustedBytes(std::string(docket::bson::SubDocumentBytes(it))));
      bson_append_document_end(&object, &operand);
      bson_append_document_end(holder.get(), &object);
      const docket::Document held = holder.Finish();
      bson_iter_t value;
      held.Iterate(&value);
      if (!bson_iter_next(&value)) continue;
      auto self = geo::NearQuery::Parse(value);
      if (!self.ok()) continue;
      const std::optional<double> d = self->Distance(*point);
      if (!d || *d > 1e-6) Fail("a point is not at distance 0 from itself");
    }
  }
  return 0;
}
