// Geometries (src/geo/geometry.h): MongoDB's golden 2dsphere cell ids, every
// parse error of docs/design/geospatial.md §1.2, §3.1 and §3.2 (code and
// message), the within / intersects / distance oracles of MongoDB's jstests
// (§7), and metamorphic properties over random shapes: a covering holds
// every point of its shape, a reversed ring changes nothing, within implies
// intersects, $centerSphere r <=> distance <= r * R.
#include <bson/bson.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "docket/document.h"
#include "geo/geohash.h"
#include "geo/geometry.h"

namespace docket::geo {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180;

// A JSON value held as the document {"v": value}; it() is positioned on it.
class V {
 public:
  explicit V(const std::string& json) {
    auto doc = Document::FromJson("{\"v\": " + json + "}");
    EXPECT_TRUE(doc.ok()) << json;
    if (doc.ok()) doc_ = *doc;
    doc_.Iterate(&it_);
    EXPECT_TRUE(bson_iter_next(&it_)) << json;
  }
  const bson_iter_t& it() const { return it_; }

 private:
  Document doc_;
  bson_iter_t it_;
};

std::string N(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Pt(double x, double y) { return "[" + N(x) + ", " + N(y) + "]"; }
std::string GeoPoint(double x, double y) { return R"({"type": "Point", "coordinates": )" + Pt(x, y) + "}"; }

Geometry Stored(const std::string& json) {
  V v(json);
  auto g = Geometry::Parse(v.it());
  EXPECT_TRUE(g.ok()) << json << ": " << g.status().ToString();
  return std::move(g).value();
}

Region Query(Region::Op op, const std::string& json) {
  V v(json);
  auto r = Region::Parse(op, v.it());
  EXPECT_TRUE(r.ok()) << json << ": " << r.status().ToString();
  return std::move(r).value();
}
Region Within(const std::string& json) { return Query(Region::Op::kWithin, json); }
Region Intersects(const std::string& json) { return Query(Region::Op::kIntersects, json); }

NearQuery Near(const std::string& json) {
  V v(json);
  auto n = NearQuery::Parse(v.it());
  EXPECT_TRUE(n.ok()) << json << ": " << n.status().ToString();
  return std::move(n).value();
}

int64_t PointCell(const std::string& json) {
  std::vector<uint64_t> cells;
  Status s = Stored(json).SphereCells(CoverParams{}, &cells);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(cells.size(), 1u);
  return cells.empty() ? 0 : static_cast<int64_t>(cells[0]);
}

uint64_t Leaf(double lng, double lat) { return static_cast<uint64_t>(PointCell(Pt(lng, lat))); }

bool CellHolds(uint64_t cell, uint64_t leaf) {
  std::vector<CellRange> r;
  CellRangesFor(cell, 31, &r);  // coarsest 31: the descendants range only
  return leaf >= r[0].min && leaf <= r[0].max;
}

bool CoveringHolds(const std::vector<uint64_t>& cells, uint64_t leaf) {
  return std::any_of(cells.begin(), cells.end(), [&](uint64_t c) { return CellHolds(c, leaf); });
}

// Sorted, and no cell inside another.
void ExpectNormalised(const std::vector<uint64_t>& cells) {
  ASSERT_FALSE(cells.empty());
  EXPECT_TRUE(std::is_sorted(cells.begin(), cells.end()));
  for (size_t i = 0; i + 1 < cells.size(); ++i) {
    std::vector<CellRange> a, b;
    CellRangesFor(cells[i], 31, &a);
    CellRangesFor(cells[i + 1], 31, &b);
    EXPECT_LT(a[0].max, b[0].min) << "cells " << i << " and " << i + 1 << " overlap";
  }
}

void ExpectError(const Status& s, int code, const std::string& message) {
  EXPECT_EQ(static_cast<int>(s.code()), code) << s.ToString();
  EXPECT_EQ(s.message(), message);
}

void ExpectErrorPrefix(const Status& s, int code, const std::string& prefix) {
  EXPECT_EQ(static_cast<int>(s.code()), code) << s.ToString();
  EXPECT_EQ(s.message().substr(0, prefix.size()), prefix) << s.message();
}

Status StoredError(const std::string& json) {
  V v(json);
  auto g = Geometry::Parse(v.it());
  EXPECT_FALSE(g.ok()) << json;
  return g.status();
}

Status RegionError(Region::Op op, const std::string& json) {
  V v(json);
  auto r = Region::Parse(op, v.it());
  EXPECT_FALSE(r.ok()) << json;
  return r.status();
}

Status NearError(const std::string& json) {
  V v(json);
  auto n = NearQuery::Parse(v.it());
  EXPECT_FALSE(n.ok()) << json;
  return n.status();
}

constexpr int kBadValue = 2;

// ---------------------------------------------------------------------------
// Cell ids

// A 2d index's geohash (default bits 26, square [-180, 180]) has the bits
// of the 8-byte BinData mongod stores as its key: MongoDB's golden 2d keys
// (src/mongo/db/index/expected_output/key_generator_golden_test/two_d_keys.txt),
// read big-endian.
TEST(GeoHashTest, CodesAreMongoDbsGolden2dKeys) {
  const geo::GeoHasher hasher(geo::GeoHashParams{});
  EXPECT_EQ(hasher.Hash(0, 0), 0xC000000000000000ULL);
  EXPECT_EQ(hasher.Hash(5, 10), 0xC01F81F81F81F000ULL);
  EXPECT_EQ(hasher.Hash(-73.97, 40.77), 0x61DA7D795DA54000ULL);
  EXPECT_EQ(hasher.Hash(179.5, 89.5), 0xEFFFCC30FFCC3000ULL);
  EXPECT_EQ(hasher.Hash(10, 20), 0xC07E07E07E07E000ULL);
}

// Cover's ranges hold every point of the box, for any bits and box.
TEST(GeoHashTest, CoverHoldsEveryPointOfTheBox) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int bits : {1, 5, 17, 26, 32}) {
    const geo::GeoHasher hasher(geo::GeoHashParams{bits, -10, 30});
    for (int round = 0; round < 200; ++round) {
      const double x = -10 + 40 * unit(rng), y = -10 + 40 * unit(rng);
      const double w = 40 * unit(rng) * unit(rng), h = 40 * unit(rng) * unit(rng);
      std::vector<geo::CodeRange> ranges;
      hasher.Cover(geo::FlatBox{x, y, x + w, y + h}, &ranges);
      ASSERT_FALSE(ranges.empty());
      for (size_t i = 1; i < ranges.size(); ++i) ASSERT_GT(ranges[i].min, ranges[i - 1].max) << "not ascending, disjoint";
      for (int p = 0; p < 50; ++p) {
        const double px = std::min(30.0, x + w * unit(rng)), py = std::min(30.0, y + h * unit(rng));
        const uint64_t code = hasher.Hash(px, py);
        const bool covered = std::any_of(ranges.begin(), ranges.end(),
                                         [&](const geo::CodeRange& r) { return r.min <= code && code <= r.max; });
        ASSERT_TRUE(covered) << "bits " << bits << " point " << px << "," << py;
      }
    }
  }
  std::vector<geo::CodeRange> ranges;
  geo::GeoHasher(geo::GeoHashParams{}).Cover(geo::FlatBox{200, 200, 300, 300}, &ranges);
  EXPECT_TRUE(ranges.empty());  // outside the square
}

TEST(GeoCellTest, PointKeysAreMongoDbsGoldenLeafCells) {
  EXPECT_EQ(PointCell(GeoPoint(40, -73)), -5691773093605457193);
  EXPECT_EQ(PointCell("[40, -73]"), -5691773093605457193);
  EXPECT_EQ(PointCell(R"({"x": 40, "y": -73})"), -5691773093605457193);
  EXPECT_EQ(PointCell(GeoPoint(0, 0)), 1152921504606846977);
  EXPECT_EQ(PointCell(GeoPoint(1, 1)), 1153277837650709461);
  EXPECT_EQ(PointCell(GeoPoint(3, 3)), 1157514470122841853);
}

TEST(GeoCellTest, MultiPointIsCoveredByMongoDbsLevel16Cells) {
  std::vector<uint64_t> cells;
  ASSERT_TRUE(Stored(R"({"type": "MultiPoint", "coordinates": [[0, 0], [1, 0], [1, 1]]})")
                  .SphereCells(CoverParams{}, &cells)
                  .ok());
  std::sort(cells.begin(), cells.end());
  EXPECT_EQ(cells, (std::vector<uint64_t>{1152921504875282432ULL, 1153105535097110528ULL, 1153277837910736896ULL}));
}

TEST(GeoCellTest, AmbiguousLegacyAndGeoJsonIsTheLegacyPoint) {
  // First field a number: a legacy pair, whatever follows (golden key
  // V3_AmbiguousLegacyAndGeoJSON).
  Geometry g = Stored(R"({"x": 40, "y": -70, "type": "Point", "coordinates": [-70, 40]})");
  EXPECT_TRUE(g.legacy_point());
  EXPECT_EQ(PointCell(R"({"x": 40, "y": -70, "type": "Point", "coordinates": [-70, 40]})"), PointCell("[40, -70]"));
  EXPECT_FALSE(Stored(GeoPoint(1, 2)).legacy_point());
  EXPECT_TRUE(Stored("[1, 2, 3]").legacy_point());  // extra members allowed when stored
}

TEST(GeoCellTest, ShapeCoveringsRespectTheLevelsAndHoldTheShape) {
  Geometry poly = Stored(R"({"type": "Polygon", "coordinates": [[[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]]]})");
  CoverParams params{4, 12, 8};
  std::vector<uint64_t> cells;
  ASSERT_TRUE(poly.SphereCells(params, &cells).ok());
  ASSERT_FALSE(cells.empty());
  for (uint64_t c : cells) {
    std::vector<CellRange> r;
    CellRangesFor(c, 0, &r);
    const int level = static_cast<int>(r.size()) - 1;  // one range per ancestor level 0..level-1
    EXPECT_GE(level, 4);
    EXPECT_LE(level, 12);
  }
  for (double x = 0; x <= 3; x += 0.25) {
    for (double y = 0; y <= 3; y += 0.25) EXPECT_TRUE(CoveringHolds(cells, Leaf(x, y))) << x << "," << y;
  }
}

TEST(GeoCellTest, SphereCellsAppend) {
  std::vector<uint64_t> cells{42};
  ASSERT_TRUE(Stored(GeoPoint(0, 0)).SphereCells(CoverParams{}, &cells).ok());
  EXPECT_EQ(cells, (std::vector<uint64_t>{42, 1152921504606846977ULL}));
}

TEST(GeoCellTest, UnindexableGeometriesSayWhy) {
  std::vector<uint64_t> cells;
  ExpectError(Stored("[200, 0]").SphereCells(CoverParams{}, &cells), kBadValue,
              "can't project geometry into spherical CRS: [ 200, 0 ]");
  ExpectError(Stored(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
                         "crs": {"type": "name", "properties": {"name": "urn:x-mongodb:crs:strictwinding:EPSG:4326"}}})")
                  .SphereCells(CoverParams{}, &cells),
              kBadValue, "can't index geometry with strict winding order");
  EXPECT_TRUE(cells.empty());
}

TEST(GeoCellTest, CellRangesAreTheDescendantsAndEachAncestor) {
  const uint64_t leaf = Leaf(1, 1);
  std::vector<CellRange> ranges{{7, 7}};
  CellRangesFor(leaf, 28, &ranges);  // appends
  ASSERT_EQ(ranges.size(), 4u);      // the kept one, the leaf itself, levels 29 and 28
  EXPECT_EQ(ranges[1].min, leaf);
  EXPECT_EQ(ranges[1].max, leaf);
  const uint64_t p29 = ranges[2].min;
  EXPECT_EQ(ranges[2].max, p29);
  // The level-29 parent: lowest set bit 4, so its range holds 4 leaves and
  // itself is the leaf's id with the two low bits cleared and bit 2 set.
  EXPECT_EQ(p29, (leaf & ~uint64_t{7}) | 4);
  std::vector<CellRange> of_parent;
  CellRangesFor(p29, 29, &of_parent);
  ASSERT_EQ(of_parent.size(), 1u);
  EXPECT_EQ(of_parent[0].min, p29 - 3);
  EXPECT_EQ(of_parent[0].max, p29 + 3);
  EXPECT_TRUE(leaf >= of_parent[0].min && leaf <= of_parent[0].max);
}

// ---------------------------------------------------------------------------
// Parse errors, §1.1 and §1.2

TEST(GeoParseTest, LegacyPointErrors) {
  ExpectError(StoredError("5"), kBadValue, "geo element must be an array or object: v: 5");
  ExpectError(StoredError(R"([1, "a"])"), kBadValue, "Point must only contain numeric elements");
  ExpectError(StoredError("[1]"), kBadValue, "Point must only contain numeric elements");
  ExpectError(StoredError(R"({"x": 1, "y": {"$numberDouble": "NaN"}})"), kBadValue,
              "Point coordinates must be finite numbers");
  ExpectError(StoredError(R"([{"$numberDouble": "Infinity"}, 1])"), kBadValue,
              "Point coordinates must be finite numbers");
}

TEST(GeoParseTest, GeoJsonPointErrors) {
  ExpectError(StoredError(R"({"type": "Point", "coordinates": [1.5]})"), kBadValue,
              "Point must only contain numeric elements");
  ExpectError(StoredError(R"({"type": "Point"})"), kBadValue,
              "Point must be an array or object, instead got type missing");
  ExpectError(StoredError(R"({"type": "Point", "coordinates": "x"})"), kBadValue,
              "Point must be an array or object, instead got type string");
  ExpectError(StoredError(GeoPoint(200, 0)), kBadValue, "longitude/latitude is out of bounds, lng: 200 lat: 0");
  ExpectError(StoredError(GeoPoint(0, -90.5)), kBadValue, "longitude/latitude is out of bounds, lng: 0 lat: -90.5");
  ExpectError(StoredError(R"({"type": "Foo", "coordinates": [1, 2]})"), kBadValue,
              R"(unknown GeoJSON type: { "type" : "Foo", "coordinates" : [ 1, 2 ] })");
  ExpectError(StoredError(R"({"coordinates": [1, 2]})"), kBadValue,
              R"(unknown GeoJSON type: { "coordinates" : [ 1, 2 ] })");
  ExpectError(StoredError("{}"), kBadValue, "unknown GeoJSON type: {  }");
  // Extra members of a position (altitude) are allowed; the edges of the
  // lng/lat range are in.
  Stored(R"({"type": "Point", "coordinates": [180, -90, 12]})");
}

TEST(GeoParseTest, LineStringErrors) {
  ExpectError(StoredError(R"({"type": "LineString", "coordinates": "x"})"), kBadValue,
              "GeoJSON coordinates must be an array of coordinates");
  ExpectError(StoredError(R"({"type": "LineString", "coordinates": [[1, 2], 5]})"), kBadValue,
              "GeoJSON coordinates must be an array");
  ExpectError(StoredError(R"({"type": "LineString", "coordinates": [[1, 2]]})"), kBadValue,
              "GeoJSON LineString must have at least 2 vertices: [ [ 1, 2 ] ]");
  // Consecutive duplicates are dropped first.
  ExpectError(StoredError(R"({"type": "LineString", "coordinates": [[1, 2], [1, 2]]})"), kBadValue,
              "GeoJSON LineString must have at least 2 vertices: [ [ 1, 2 ], [ 1, 2 ] ]");
  // (7.5, 0) and (-172.5, 0) are exactly antipodal as S2 points.
  ExpectErrorPrefix(StoredError(R"({"type": "LineString", "coordinates": [[7.5, 0], [-172.5, 0]]})"), kBadValue,
                    "GeoJSON LineString is not valid: ");
  Stored(R"({"type": "LineString", "coordinates": [[0, 0], [180, 0]]})");  // nearly antipodal is fine
  // A self-crossing line is fine.
  Stored(R"({"type": "LineString", "coordinates": [[0, 0], [1, 1], [1, 0], [0, 1]]})");
}

TEST(GeoParseTest, PolygonErrors) {
  ExpectError(StoredError(R"({"type": "Polygon", "coordinates": 5})"), kBadValue,
              "Polygon coordinates must be an array");
  ExpectError(StoredError(R"({"type": "Polygon", "coordinates": []})"), kBadValue, "Polygon has no loops.");
  ExpectError(StoredError(R"({"type": "Polygon", "coordinates": [[]]})"), kBadValue, "Loop has no vertices: [  ]");
  ExpectError(StoredError(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]})"), kBadValue,
              "Loop is not closed: [ [ 0, 0 ], [ 1, 0 ], [ 1, 1 ] ]");
  ExpectError(StoredError(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 0], [0, 0]]]})"), kBadValue,
              "Loop must have at least 3 different vertices: [ [ 0, 0 ], [ 1, 0 ], [ 1, 0 ], [ 0, 0 ] ]");
  // The bow tie of geo_invalid_polygon.js.
  ExpectErrorPrefix(StoredError(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]})"),
                    kBadValue, "Loop is not valid: [ [ 0, 0 ], [ 1, 1 ], [ 1, 0 ], [ 0, 1 ], [ 0, 0 ] ] ");
  ExpectErrorPrefix(StoredError(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0], [0, 1], [0, 0]]]})"),
                    kBadValue, "Loop is not valid: ");
}

// geo_s2polywithholes.js: every malformed hole fails.
TEST(GeoParseTest, PolygonHoleErrors) {
  const std::string shell = "[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]";
  ExpectError(StoredError(R"({"type": "Polygon", "coordinates": [)" + shell +
                          R"(, [[0.25, 0.75], [0.25, 1.25], [0.5, 1.25], [0.5, 0.75], [0.25, 0.75]]]})"),
              kBadValue,
              "Secondary loops not contained by first exterior loop - secondary loops must be holes: "
              "[ [ 0.25, 0.75 ], [ 0.25, 1.25 ], [ 0.5, 1.25 ], [ 0.5, 0.75 ], [ 0.25, 0.75 ] ] first loop: "
              "[ [ 0, 0 ], [ 0, 1 ], [ 1, 1 ], [ 1, 0 ], [ 0, 0 ] ]");
  ExpectErrorPrefix(StoredError(R"({"type": "Polygon", "coordinates": [)" + shell +
                                R"(, [[0.2, 0.6], [0.2, 0.9], [0.6, 0.9], [0.6, 0.6], [0.2, 0.6]],
                                     [[0.5, 0.4], [0.5, 0.7], [0.8, 0.7], [0.8, 0.4], [0.5, 0.4]]]})"),
                    kBadValue, "Polygon isn't valid: ");
  ExpectErrorPrefix(StoredError(R"({"type": "Polygon", "coordinates": [)" + shell +
                                R"(, [[0.1, 0.1], [0.1, 0.9], [0.9, 0.9], [0.9, 0.1], [0.1, 0.1]],
                                     [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]]})"),
                    kBadValue, "Polygon interior loops cannot be nested: ");
  ExpectErrorPrefix(StoredError(R"({"type": "Polygon", "coordinates": [
                                     [[0.1, 0.1], [0.1, 0.9], [0.9, 0.9], [0.9, 0.1], [0.1, 0.1]], )" +
                                shell + "]}"),
                    kBadValue, "Secondary loops not contained by first exterior loop");
  ExpectErrorPrefix(StoredError(R"({"type": "Polygon", "coordinates": [)" + shell +
                                R"(, [[0, 0], [0.1, 0.9], [1, 1], [0.9, 0.1], [0, 0]]]})"),
                    kBadValue, "Loop 1 shares more than one vertex with its parent loop 0: ");
}

TEST(GeoParseTest, MultiAndCollectionErrors) {
  ExpectError(StoredError(R"({"type": "MultiPoint", "coordinates": []})"), kBadValue,
              "MultiPoint coordinates must have at least 1 element");
  ExpectError(StoredError(R"({"type": "MultiPoint", "coordinates": 5})"), kBadValue,
              "GeoJSON coordinates must be an array of coordinates");
  ExpectError(StoredError(R"({"type": "MultiLineString", "coordinates": 5})"), kBadValue,
              "MultiLineString coordinates must be an array");
  ExpectError(StoredError(R"({"type": "MultiLineString", "coordinates": []})"), kBadValue,
              "MultiLineString coordinates must have at least 1 element");
  ExpectError(StoredError(R"({"type": "MultiPolygon", "coordinates": 5})"), kBadValue,
              "MultiPolygon coordinates must be an array");
  ExpectError(StoredError(R"({"type": "MultiPolygon", "coordinates": []})"), kBadValue,
              "MultiPolygon coordinates must have at least 1 element");
  ExpectError(StoredError(R"({"type": "GeometryCollection", "geometries": 5})"), kBadValue,
              "GeometryCollection geometries must be an array");
  ExpectError(StoredError(R"({"type": "GeometryCollection", "geometries": []})"), kBadValue,
              "GeometryCollection geometries must have at least 1 element");
  ExpectError(StoredError(R"({"type": "GeometryCollection", "geometries": [)" + GeoPoint(0, 0) + ", 5]}"), kBadValue,
              "Element 1 of \"geometries\" is not an object");
  ExpectError(StoredError(R"({"type": "GeometryCollection", "geometries": [{"type": "Foo"}]})"), kBadValue,
              R"(Unknown GeoJSON type: { "type" : "Foo" })");
  ExpectError(StoredError(R"({"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection"}]})"),
              kBadValue, R"(GeometryCollections cannot be nested: { "type" : "GeometryCollection" })");
  // A member's own error surfaces.
  ExpectError(StoredError(R"({"type": "GeometryCollection", "geometries": [)" + GeoPoint(0, 95) + "]}"), kBadValue,
              "longitude/latitude is out of bounds, lng: 0 lat: 95");
}

TEST(GeoParseTest, CrsErrors) {
  auto with_crs = [](const std::string& crs) {
    return R"({"type": "Point", "coordinates": [0, 0], "crs": )" + crs + "}";
  };
  ExpectError(StoredError(with_crs("5")), kBadValue, "GeoJSON CRS must be an object");
  ExpectError(StoredError(with_crs(R"({"type": "link"})")), kBadValue,
              "GeoJSON CRS must have field \"type\": \"name\"");
  ExpectError(StoredError(with_crs(R"({"type": "name"})")), kBadValue,
              "CRS must have field \"properties\" which is an object");
  ExpectError(StoredError(with_crs(R"({"type": "name", "properties": {}})")), kBadValue,
              "In CRS, \"properties.name\" must be a string");
  ExpectError(StoredError(with_crs(R"({"type": "name", "properties": {"name": "EPSG:3857"}})")), kBadValue,
              "Unknown CRS name: EPSG:3857");
  ExpectError(
      StoredError(with_crs(R"({"type": "name", "properties": {"name": "urn:x-mongodb:crs:strictwinding:EPSG:4326"}})")),
      kBadValue, "Strict winding order is only supported by polygon");
  Stored(with_crs(R"({"type": "name", "properties": {"name": "EPSG:4326"}})"));
  Stored(with_crs(R"({"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}})"));
}

const char kStrict[] =
    R"("crs": {"type": "name", "properties": {"name": "urn:x-mongodb:crs:strictwinding:EPSG:4326"}})";

TEST(GeoParseTest, BigPolygonErrors) {
  ExpectError(StoredError(std::string(R"({"type": "Polygon", "coordinates": 5, )") + kStrict + "}"), kBadValue,
              "Coordinates of polygon must be an array");
  ExpectError(StoredError(std::string(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]],
                                                                              [[0, 0], [1, 0], [1, 1], [0, 0]]], )") +
                          kStrict + "}"),
              kBadValue,
              "Only one simple loop is allowed in a big polygon: [ [ [ 0, 0 ], [ 1, 0 ], [ 1, 1 ], [ 0, 0 ] ], "
              "[ [ 0, 0 ], [ 1, 0 ], [ 1, 1 ], [ 0, 0 ] ] ]");
  ExpectError(
      StoredError(std::string(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]], )") + kStrict + "}"),
      kBadValue, "Loop must have at least 3 different vertices: [ [ [ 0, 0 ], [ 1, 0 ], [ 0, 0 ] ] ]");
  EXPECT_TRUE(
      Stored(std::string(R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]], )") + kStrict + "}")
          .big_polygon());
}

// ---------------------------------------------------------------------------
// Stored values at one path

TEST(GeoStoredValuesTest, ArraysAreGeometriesOneByOneAsGeoMatchExpressionSeesThem) {
  auto count = [](const std::string& json) {
    V v(json);
    std::vector<Geometry> out;
    Status s = ParseStoredValues(v.it(), &out);
    EXPECT_TRUE(s.ok()) << json << ": " << s.ToString();
    return out.size();
  };
  EXPECT_EQ(count("[1, 2]"), 1u);            // one legacy pair
  EXPECT_EQ(count("[[1, 2], [3, 4]]"), 2u);  // an array of pairs
  EXPECT_EQ(count("[" + GeoPoint(1, 2) + ", " + GeoPoint(3, 4) + "]"), 2u);
  EXPECT_EQ(count("[" + GeoPoint(1, 2) + R"(, "x", {"type": "Point"}, 7])"), 1u);  // the rest does not parse
  EXPECT_EQ(count(GeoPoint(1, 2)), 1u);
  EXPECT_EQ(count("[1, 2, " + GeoPoint(5, 5) + "]"), 2u);  // the pair (extra member) and the element
  V bad(R"([{"type": "Point"}])");
  std::vector<Geometry> out;
  ExpectError(ParseStoredValues(bad.it(), &out), kBadValue, "Point must only contain numeric elements");
  V number("5");
  ExpectError(ParseStoredValues(number.it(), &out), kBadValue, "geo element must be an array or object: v: 5");
  EXPECT_TRUE(out.empty());
}

// ---------------------------------------------------------------------------
// Region parse errors, §3.1

TEST(GeoRegionParseTest, Errors) {
  using Op = Region::Op;
  ExpectError(RegionError(Op::kWithin, "5"), kBadValue, "geometry must be an object");
  ExpectError(RegionError(Op::kWithin, "[]"), kBadValue, "geometry must be an object");
  ExpectError(RegionError(Op::kWithin, "{}"), kBadValue, "geo query doesn't have any geometry");
  ExpectError(RegionError(Op::kIntersects, R"({"$uniqueDocs": true})"), kBadValue,
              "geo query doesn't have any geometry");
  ExpectError(RegionError(Op::kWithin, R"({"$foo": [1]})"), kBadValue, "unknown geo specifier: $foo: [ 1 ]");
  ExpectError(RegionError(Op::kWithin, R"({"$box": 5})"), kBadValue, "unknown geo specifier: $box: 5");
  ExpectError(RegionError(Op::kWithin, R"({"$geometry": )" + GeoPoint(1, 2) + "}"), kBadValue,
              R"($within not supported with provided geometry: { $geoWithin: { "$geometry" : { "type" : "Point", )"
              R"("coordinates" : [ 1, 2 ] } } })");
  ExpectError(RegionError(Op::kWithin, R"({"$geometry": [1, 2]})"), kBadValue,
              R"($within not supported with provided geometry: { $geoWithin: { "$geometry" : [ 1, 2 ] } })");
  ExpectError(RegionError(Op::kIntersects, R"({"$box": [[0, 0], [1, 1]]})"), kBadValue,
              R"($geoIntersect not supported with provided geometry: { $geoIntersects: { "$box" : )"
              R"([ [ 0, 0 ], [ 1, 1 ] ] } })");
  ExpectErrorPrefix(RegionError(Op::kIntersects, R"({"$polygon": [[0, 0], [1, 1], [0, 1]]})"), kBadValue,
                    "$geoIntersect not supported with provided geometry: ");
  ExpectErrorPrefix(RegionError(Op::kIntersects, R"({"$center": [[0, 0], 1]})"), kBadValue,
                    "$geoIntersect not supported with provided geometry: ");
  ExpectErrorPrefix(RegionError(Op::kIntersects, R"({"$geometry": [200, 0]})"), kBadValue,
                    "$geoIntersect not supported with provided geometry: ");
  ExpectError(RegionError(Op::kWithin, R"({"$polygon": [[1, 2], [2, 3]]})"), kBadValue,
              "Polygon must have at least 3 points");
  ExpectError(RegionError(Op::kWithin, R"({"$polygon": [1, 2]})"), kBadValue,
              "Point must be an array or object, instead got type int");
  ExpectError(RegionError(Op::kWithin, R"({"$box": [[0, 0], [1, 2, 3]]})"), kBadValue,
              "Point must only contain two numeric elements");
  ExpectError(RegionError(Op::kWithin, R"({"$box": [[0, 0]]})"), kBadValue,
              "Point must be an array or object, instead got type missing");
  ExpectError(RegionError(Op::kWithin, R"({"$center": [[0, 0], -1]})"), kBadValue,
              "radius must be a non-negative number");
  ExpectError(RegionError(Op::kWithin, R"({"$center": [[0, 0], "1"]})"), kBadValue,
              "radius must be a non-negative number");
  ExpectError(RegionError(Op::kWithin, R"({"$center": [[0, 0], 1, 2]})"), kBadValue,
              "Only 2 fields allowed for circular region");
  ExpectError(RegionError(Op::kWithin, R"({"$centerSphere": [[200, 0], 1]})"), kBadValue,
              "longitude/latitude is out of bounds, lng: 200 lat: 0");
  ExpectError(RegionError(Op::kWithin, R"({"$centerSphere": [[0, 0], -0.5]})"), kBadValue,
              "radius must be a non-negative number");
  ExpectError(RegionError(Op::kWithin, R"({"$box": [[0, 0], [1, 1]], "$center": [[0, 0], 1]})"), kBadValue,
              R"($geoWithin doesn't accept multiple shapes $geoWithin: { "$box" : [ [ 0, 0 ], [ 1, 1 ] ], )"
              R"("$center" : [ [ 0, 0 ], 1 ] })");
  // The shape's own parse errors come through.
  ExpectError(RegionError(Op::kIntersects, R"({"$geometry": {"type": "Polygon", "coordinates": []}})"), kBadValue,
              "Polygon has no loops.");
  ExpectError(RegionError(Op::kIntersects, R"({"$geometry": [1, 2, 3]})"), kBadValue,
              "Point must only contain two numeric elements");
}

TEST(GeoRegionParseTest, WhatIsSpherical) {
  EXPECT_TRUE(Within(R"({"$centerSphere": [[0, 0], 0.1]})").spherical());
  EXPECT_TRUE(Intersects(R"({"$geometry": [1, 2]})").spherical());
  EXPECT_TRUE(
      Within(R"({"$geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}})").spherical());
  EXPECT_FALSE(Within(R"({"$box": [[0, 0], [1, 1]]})").spherical());
  EXPECT_FALSE(Within(R"({"$polygon": [[0, 0], [1, 0], [1, 1]]})").spherical());
  EXPECT_FALSE(Within(R"({"$center": [[0, 0], 1]})").spherical());
  EXPECT_EQ(Within(R"({"$center": [[0, 0], 1], "$uniqueDocs": true})").op(), Region::Op::kWithin);
  EXPECT_EQ(Intersects(R"({"$uniqueDocs": true, "$geometry": [0, 0]})").op(), Region::Op::kIntersects);
  // $geoIntersects takes the last of several shapes.
  EXPECT_TRUE(Intersects(R"({"$geometry": [50, 50], "$geometry": [0, 0]})").Matches(Stored("[0, 0]")));
}

// ---------------------------------------------------------------------------
// $near parse errors and units, §3.2

TEST(GeoNearParseTest, LegacyFormErrorsCarryMongoDbsCodes) {
  ExpectError(NearError(R"({"$near": [0, 0, -1]})"), 18522, "max distance must be non-negative");
  ExpectError(NearError(R"({"$near": [0, 0], "$minDistance": "a"})"), 16893, "$minDistance must be a number");
  ExpectError(NearError(R"({"$near": [0, 0], "$minDistance": -1})"), 16894, "$minDistance must be non-negative");
  ExpectError(NearError(R"({"$near": [0, 0], "$maxDistance": "a"})"), 16895, "$maxDistance must be a number");
  ExpectError(NearError(R"({"$near": [0, 0], "$maxDistance": -1})"), 16896, "$maxDistance must be non-negative");
  ExpectError(NearError(R"({"$near": [0, 0], "$foo": 1})"), 34413, "invalid argument in geo near query: $foo");
  ExpectError(NearError(R"({"$nearSphere": [200, 0]})"), kBadValue,
              "Legacy point is out of bounds for spherical query");
  ExpectError(NearError(R"({"$nearSphere": [179, -91]})"), kBadValue,
              "Legacy point is out of bounds for spherical query");
  ExpectError(NearError(R"({"$near": 5})"), kBadValue, "geo near query argument is not an object");
}

TEST(GeoNearParseTest, GeometryFormErrorsAreBadValue) {
  const std::string p = GeoPoint(0, 0);
  ExpectError(NearError(R"({"$near": {"$geometry": )" + p + R"(}, "$maxDistance": 5})"), kBadValue,
              "geo near accepts just one argument when querying for a GeoJSON point. Extra field found: "
              "$maxDistance: 5");
  ExpectError(NearError(R"({"$near": {"$geometry": )" + GeoPoint(200, 0) + "}}"), kBadValue,
              R"(invalid point in geo near query $geometry argument: { "type" : "Point", "coordinates" : )"
              R"([ 200, 0 ] }  longitude/latitude is out of bounds, lng: 200 lat: 0)");
  ExpectError(NearError(R"({"$near": {"$geometry": {}}})"), kBadValue,
              "invalid point in geo near query $geometry argument: {  }  Point must be an array or object, "
              "instead got type missing");
  ExpectError(NearError(R"({"$near": {"$geometry": [0, 0]}})"), kBadValue,
              "$near requires geojson point, given [ 0, 0 ]");
  ExpectError(NearError(R"({"$near": {"$maxDistance": 5}})"), kBadValue, "$geometry is required for geo near query");
  ExpectError(NearError(R"({"$nearSphere": {"$geometry": )" + p + R"(, "$minDistance": "a"}})"), kBadValue,
              "$minDistance must be a number");
  ExpectError(NearError(R"({"$near": {"$geometry": )" + p + R"(, "$minDistance": -1}})"), kBadValue,
              "$minDistance must be non-negative");
  ExpectError(NearError(R"({"$near": {"$geometry": )" + p + R"(, "$maxDistance": "a"}})"), kBadValue,
              "$maxDistance must be a number");
  ExpectError(NearError(R"({"$near": {"$geometry": )" + p + R"(, "$maxDistance": {"$numberDouble": "Infinity"}}})"),
              kBadValue, "$maxDistance must be non-negative");
  ExpectError(NearError(R"({"$near": {"$geometry": )" + p + R"(, "$foo": 1}})"), kBadValue,
              "invalid argument in geo near query: $foo");
}

TEST(GeoNearParseTest, FormsAndUnits) {
  NearQuery flat = Near(R"({"$near": [1, 2], "$maxDistance": 3})");
  EXPECT_FALSE(flat.spherical());
  EXPECT_FALSE(flat.geojson());
  EXPECT_EQ(flat.max_distance(), 3);
  EXPECT_EQ(flat.min_distance(), 0);

  NearQuery with_max = Near(R"({"$geoNear": [1, 2, 4]})");  // $geoNear is $near
  EXPECT_FALSE(with_max.spherical());
  EXPECT_EQ(with_max.max_distance(), 4);

  NearQuery radians = Near(R"({"$nearSphere": {"x": 1, "y": 2}, "$minDistance": 0.1})");
  EXPECT_TRUE(radians.spherical());
  EXPECT_FALSE(radians.geojson());
  EXPECT_EQ(radians.min_distance(), 0.1);
  EXPECT_TRUE(std::isinf(radians.max_distance()));

  NearQuery metres = Near(R"({"$nearSphere": {"$geometry": )" + GeoPoint(0, 0) + R"(, "$minDistance": 10}})");
  EXPECT_TRUE(metres.spherical());
  EXPECT_TRUE(metres.geojson());
  EXPECT_EQ(metres.min_distance(), 10);

  // A GeoJSON point as the legacy operand: metres, siblings allowed.
  NearQuery legacy_geojson = Near(R"({"$near": )" + GeoPoint(0, 0) + R"(, "$maxDistance": 100})");
  EXPECT_TRUE(legacy_geojson.geojson());
  EXPECT_TRUE(legacy_geojson.spherical());
  EXPECT_EQ(legacy_geojson.max_distance(), 100);
  // $near with a legacy point out of lng/lat range is flat: fine.
  EXPECT_FALSE(Near(R"({"$near": [500, 500]})").spherical());
}

// ---------------------------------------------------------------------------
// Matching oracles, §7

// geo_s2polywithholes.js
TEST(GeoMatchTest, CentreEdgeAndCornerPointsAreWithin) {
  Region square =
      Within(R"({"$geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}})");
  EXPECT_TRUE(square.Matches(Stored(GeoPoint(0.5, 0.5))));
  EXPECT_TRUE(square.Matches(Stored(GeoPoint(0, 0.5))));
  EXPECT_TRUE(square.Matches(Stored(GeoPoint(0, 0))));
  EXPECT_FALSE(square.Matches(Stored(GeoPoint(1.5, 0.5))));
  EXPECT_TRUE(square.Matches(Stored("[0.5, 0.5]")));  // an in-range legacy pair is put on the sphere
  EXPECT_FALSE(square.Matches(Stored("[200.5, 0.5]")));
}

TEST(GeoMatchTest, HolesAreOutsideTheirEdgesIn) {
  Region holed = Within(R"({"$geometry": {"type": "Polygon", "coordinates": [
      [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
      [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75], [0.25, 0.25]]]}})");
  EXPECT_FALSE(holed.Matches(Stored(GeoPoint(0.5, 0.5))));
  EXPECT_TRUE(holed.Matches(Stored(GeoPoint(0.1, 0.1))));
  EXPECT_TRUE(holed.Matches(Stored(GeoPoint(0.25, 0.5))));  // on the hole's edge
  EXPECT_FALSE(holed.Matches(Stored(R"({"type": "LineString", "coordinates": [[0.1, 0.5], [0.9, 0.5]]})")));
  EXPECT_TRUE(holed.Matches(Stored(R"({"type": "LineString", "coordinates": [[0.1, 0.1], [0.9, 0.1]]})")));
  Region intersects = Intersects(R"({"$geometry": {"type": "Polygon", "coordinates": [
      [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
      [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75], [0.25, 0.25]]]}})");
  EXPECT_TRUE(intersects.Matches(Stored(R"({"type": "LineString", "coordinates": [[0.1, 0.5], [0.9, 0.5]]})")));
  EXPECT_FALSE(intersects.Matches(Stored(R"({"type": "LineString", "coordinates": [[0.4, 0.5], [0.6, 0.5]]})")));
}

// geo_s2meridian.js
TEST(GeoMatchTest, AntimeridianWraps) {
  Region along = Intersects(R"({"$geometry": {"type": "LineString", "coordinates": [[180, 11], [180, 9]]}})");
  EXPECT_TRUE(along.Matches(Stored(R"({"type": "LineString", "coordinates": [[-178, 10], [178, 10]]})")));
  EXPECT_FALSE(along.Matches(Stored(R"({"type": "LineString", "coordinates": [[-170, 20], [170, 20]]})")));
  Region across = Within(R"({"$geometry": {"type": "Polygon",
      "coordinates": [[[-178, 10], [178, 10], [178, -10], [-178, -10], [-178, 10]]]}})");
  EXPECT_TRUE(across.Matches(Stored(GeoPoint(-179, 1))));
  EXPECT_TRUE(across.Matches(Stored(GeoPoint(180, 1))));
  EXPECT_TRUE(across.Matches(Stored(GeoPoint(179, 1))));
  EXPECT_TRUE(across.Matches(Stored(GeoPoint(-180, 1))));
  EXPECT_FALSE(across.Matches(Stored(GeoPoint(0, 1))));
  EXPECT_FALSE(across.Matches(Stored(GeoPoint(177, 1))));
}

// geo_big_polygon.js: a strict-winding square keeps its CCW interior; its
// reverse is everything else. Stored big polygons never match.
TEST(GeoMatchTest, BigPolygonCounts) {
  const std::vector<Geometry> stored = {
      Stored(R"({"type": "Polygon", "coordinates": [[[5, 5], [5, -5], [-5, -5], [-5, 5], [5, 5]]]})"),
      Stored(R"({"type": "LineString", "coordinates": [[5, 5], [5, -5], [-5, -5], [-5, 5], [5, 5]]})"),
      Stored(GeoPoint(0, 0)),
      Stored(GeoPoint(85, 85)),
      Stored(R"({"type": "LineString", "coordinates": [[-20, 0], [20, 0]]})"),
      Stored(std::string(R"({"type": "Polygon", "coordinates": [[[5, 5], [-5, 5], [-5, -5], [5, -5], [5, 5]]], )") +
             kStrict + "}"),
  };
  auto count = [&](const Region& r) {
    return std::count_if(stored.begin(), stored.end(), [&](const Geometry& g) { return r.Matches(g); });
  };
  const std::string ccw = std::string(R"({"$geometry": {"type": "Polygon", "coordinates": )"
                                      R"([[[10, 10], [-10, 10], [-10, -10], [10, -10], [10, 10]]], )") +
                          kStrict + "}}";
  const std::string cw = std::string(R"({"$geometry": {"type": "Polygon", "coordinates": )"
                                     R"([[[10, 10], [10, -10], [-10, -10], [-10, 10], [10, 10]]], )") +
                         kStrict + "}}";
  EXPECT_EQ(count(Within(ccw)), 3);
  EXPECT_EQ(count(Intersects(ccw)), 4);
  EXPECT_EQ(count(Within(cw)), 1);
  EXPECT_EQ(count(Intersects(cw)), 2);
  // An ordinary polygon of the same ring means the small square either way.
  EXPECT_EQ(count(Within(R"({"$geometry": {"type": "Polygon", "coordinates": )"
                         R"([[[10, 10], [10, -10], [-10, -10], [-10, 10], [10, 10]]]}})")),
            3);
  // Big polygon queries can be covered.
  std::vector<uint64_t> cells;
  Within(cw).Covering(&cells);
  ExpectNormalised(cells);
  EXPECT_TRUE(CoveringHolds(cells, Leaf(85, 85)));
  EXPECT_TRUE(CoveringHolds(cells, Leaf(-120, -40)));
}

// geo_s2within_line_polygon_sphere.js: its coordinates and radii are exact
// oracles.
TEST(GeoMatchTest, CenterSphereWithLinesAndPolygons) {
  struct Named {
    std::string name;
    Geometry g;
  };
  std::vector<Named> docs = {
      {"Point1", Stored(GeoPoint(1, 1))},
      {"LineString1", Stored(R"({"type": "LineString", "coordinates": [[1, 1], [2, 2]]})")},
      {"Polygon1", Stored(R"({"type": "Polygon", "coordinates": [[[1, 1], [2, 2], [2, 1], [1, 1]]]})")},
      {"LineString2", Stored(R"({"type": "LineString", "coordinates":
          [[151.0997772216797, -33.86157820443923], [151.21719360351562, -33.8952122494965]]})")},
      {"LineString3", Stored(R"({"type": "LineString", "coordinates": [
          [174.72896575927734, -36.86698689106876], [174.72965240478516, -36.90707799098374],
          [174.7808074951172, -36.9062544131224], [174.77840423583982, -36.88154294352893],
          [174.72827911376953, -36.88373984256185]]})")},
      {"Polygon2", Stored(R"({"type": "Polygon", "coordinates": [[
          [174.72930908203125, -41.281676559981676], [174.76261138916013, -41.34820622928743],
          [174.84329223632812, -41.32861539747227], [174.8312759399414, -41.280902559820895],
          [174.72930908203125, -41.281676559981676]]]})")},
      {"MultiPolygon1", Stored(R"({"type": "MultiPolygon", "coordinates": [
          [[[151.21032714843747, -33.85074408022877], [151.23367309570312, -33.84333046657819],
            [151.20929718017578, -33.81680727566872], [151.1876678466797, -33.829927301798676],
            [151.21032714843747, -33.85074408022877]]],
          [[[151.20140075683594, -33.856446422184305], [151.17565155029297, -33.88979749364442],
            [151.2044906616211, -33.9151583833889], [151.23058319091797, -33.87041555094182],
            [151.20140075683594, -33.856446422184305]]]]})")},
      {"MultiPolygon2", Stored(R"({"type": "MultiPolygon", "coordinates": [[
          [[151.203031539917, -33.87116383262648], [151.20401859283447, -33.88270791866475],
           [151.21891021728516, -33.88256540860479], [151.2138032913208, -33.86817066653049],
           [151.203031539917, -33.87116383262648]],
          [[151.21041297912598, -33.86980979429744], [151.20938301086426, -33.8767579211837],
           [151.2121295928955, -33.87722110953139], [151.21315956115723, -33.86995232565932],
           [151.21041297912598, -33.86980979429744]]]]})")},
  };
  // The jstest inserts the documents as it goes: each query sees the first
  // `n` of them.
  auto names = [&](size_t n, double lng, double lat, double r) {
    Region q = Within(R"({"$centerSphere": [)" + Pt(lng, lat) + ", " + N(r) + "]}");
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
      if (q.Matches(docs[i].g)) out.push_back(docs[i].name);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  using S = std::vector<std::string>;
  EXPECT_EQ(names(3, 1, 1, 1), (S{"LineString1", "Point1", "Polygon1"}));
  EXPECT_EQ(names(4, 151.16789425018004, -33.8508357122312, 0.0011167360027064348), (S{"LineString2"}));
  EXPECT_EQ(names(4, 151.09822404831158, -33.85109290503663, 0.0013568277575574095), S{});
  EXPECT_EQ(names(5, 174.75211152791763, -36.88962755605813, 0.000550933650273084), (S{"LineString3"}));
  EXPECT_EQ(names(5, 174.75689891704758, -36.8998373317427, 0.0005315628331256537), S{});
  EXPECT_EQ(names(5, 174.8099591465865, -36.89409450096385, 0.00027296698925637807), S{});
  EXPECT_EQ(names(6, 174.78536621904806, -41.30510816038769, 0.0009483659386360411), (S{"Polygon2"}));
  EXPECT_EQ(names(6, 174.79144274337722, -41.307682001033385, 0), S{});
  EXPECT_EQ(names(6, 174.7599527533759, -41.27137819591382, 0.0011247013153526434), S{});
  EXPECT_EQ(names(6, 174.80008799649448, -41.201484845543426, 0.0007748581633291528), S{});
  EXPECT_EQ(names(7, 151.20821632978107, -33.865139891361636, 0.000981007241416606), (S{"MultiPolygon1"}));
  EXPECT_EQ(names(7, 151.20438542915883, -33.89006380099829, 0.0006390286437185907), S{});
  EXPECT_EQ(names(8, 151.20936119647115, -33.875266834633265, 0.00020277354002627845), (S{"MultiPolygon2"}));
  EXPECT_EQ(names(8, 151.20936119647115, -33.875266834633265, 3.14159265358979323846),
            (S{"LineString1", "LineString2", "LineString3", "MultiPolygon1", "MultiPolygon2", "Point1", "Polygon1",
               "Polygon2"}));
  EXPECT_EQ(names(8, 151.21028000820485, -33.87067923462358, 0.00013138775245714733), S{});
  EXPECT_EQ(names(8, 151.21093787887645, -33.87533330567804, 0.000016565456776516003), S{});

  // A large cap holding both ends of a line but not its arc; all the
  // vertices of a polygon but not all of it.
  Region cap1 = Within(R"({"$centerSphere": [[-59.80246852929814, -2.3633072488322853], 2.768403272464979]})");
  EXPECT_FALSE(cap1.Matches(Stored(
      R"({"type": "LineString", "coordinates": [[96.328125, 5.61598581915534], [153.984375, -6.315298538330033]]})")));
  EXPECT_TRUE(cap1.Matches(Stored(GeoPoint(96.328125, 5.61598581915534))));
  EXPECT_TRUE(cap1.Matches(Stored(GeoPoint(153.984375, -6.315298538330033))));
  Region cap2 = Within(R"({"$centerSphere": [[-61.52266094410311, 17.79937981451866], 2.9592242752161573]})");
  EXPECT_FALSE(cap2.Matches(Stored(R"({"type": "Polygon", "coordinates": [[
      [98.96484375, -11.350796722383672], [135.35156249999997, -11.350796722383672],
      [135.35156249999997, 0.8788717828324276], [98.96484375, 0.8788717828324276],
      [98.96484375, -11.350796722383672]]]})")));
}

// §5: 2dsphere edges are great circles, $polygon edges straight lines.
TEST(GeoMatchTest, SphericalAndFlatEdgesDiffer) {
  const std::string ring = "[[-40, 60], [40, 60], [40, 70], [-40, 70], [-40, 60]]";
  Region sphere = Within(R"({"$geometry": {"type": "Polygon", "coordinates": [)" + ring + "]}}");
  Region flat = Within(R"({"$polygon": [[-40, 60], [40, 60], [40, 70], [-40, 70]]})");
  EXPECT_FALSE(sphere.Matches(Stored(GeoPoint(0, 60.5))));
  EXPECT_TRUE(flat.Matches(Stored(GeoPoint(0, 60.5))));
  EXPECT_TRUE(flat.Matches(Stored("[0, 60.5]")));
  EXPECT_TRUE(sphere.Matches(Stored(GeoPoint(0, 67))));
  EXPECT_TRUE(flat.Matches(Stored(GeoPoint(0, 67))));
}

// geo_polygon1.js over its 8x8 grid (x, y in 1..8).
TEST(GeoMatchTest, FlatPolygonOracles) {
  auto count = [](const Region& r) {
    int n = 0;
    for (int x = 1; x < 9; ++x) {
      for (int y = 1; y < 9; ++y) n += r.Matches(Stored(Pt(x, y))) ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(count(Within(R"({"$polygon": [[0, 0], [1, 1], [0, 2]]})")), 1);  // the vertex (1, 1)
  EXPECT_EQ(count(Within(R"({"$polygon": [[0, 0], [0, 10], [10, 10], [10, 0]]})")), 64);
  EXPECT_EQ(count(Within(R"({"$polygon": {"a": [-10, -10], "b": [-10, 10], "c": [10, 10], "d": [10, -10]}})")), 64);
  Region pacman = Within(R"({"$polygon": [[0, 2], [0, 4], [2, 6], [4, 6], [6, 4], [4, 3], [6, 2], [4, 0], [2, 0]]})");
  EXPECT_TRUE(pacman.Matches(Stored("[1, 3]")));
  EXPECT_FALSE(pacman.Matches(Stored("[5, 3]")));
  EXPECT_FALSE(pacman.Matches(Stored("[3, 7]")));
  EXPECT_FALSE(pacman.Matches(Stored("[3, -1]")));
  EXPECT_TRUE(pacman.Matches(Stored("[0, 3]")));    // on an edge
  EXPECT_TRUE(pacman.Matches(Stored("[5, 2.5]")));  // on the slanted edge of the mouth
}

// geo_s2nearwithin.js's grid, x and y in -10..9.
TEST(GeoMatchTest, CircleOracles) {
  auto count = [](const Region& r) {
    int n = 0;
    for (int x = -10; x < 10; ++x) {
      for (int y = -10; y < 10; ++y) n += r.Matches(Stored(GeoPoint(x, y))) ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(count(Within(R"({"$center": [[0, 0], 1]})")), 5);
  EXPECT_EQ(count(Within(R"({"$centerSphere": [[0, 0], )" + N(kPi / 180) + "]}")), 5);
  EXPECT_EQ(count(Within(R"({"$centerSphere": [[0, 0], 0]})")), 1);
  EXPECT_EQ(count(Within(R"({"$centerSphere": [[1, 0], )" + N(0.5 * kDeg) + "]}")), 1);
  EXPECT_EQ(count(Within(R"({"$center": [[1, 0], 1.5]})")), 9);
}

TEST(GeoMatchTest, BoxCornersInAnyOrderBoundaryIncluded) {
  Region box = Within(R"({"$box": [[2, 2], [0, 0]]})");
  EXPECT_TRUE(box.Matches(Stored("[0, 0]")));
  EXPECT_TRUE(box.Matches(Stored("[2, 1]")));
  EXPECT_TRUE(box.Matches(Stored(GeoPoint(1, 1))));  // a GeoJSON point in the plane
  EXPECT_FALSE(box.Matches(Stored("[2.0000001, 1]")));
  EXPECT_FALSE(box.Matches(Stored(R"({"type": "LineString", "coordinates": [[0.5, 0.5], [1, 1]]})")));
  EXPECT_FALSE(box.Matches(Stored(R"({"type": "MultiPoint", "coordinates": [[0.5, 0.5]]})")));
  // No wrap-around in the plane; legacy pairs out of lng/lat range still count.
  EXPECT_TRUE(Within(R"({"$box": [[190, -1], [210, 1]]})").Matches(Stored("[200, 0]")));
  // mongod's axis-aligned comparison: exactly r away along an axis is in.
  EXPECT_TRUE(Within(R"({"$center": [[51.9999, 0], 0.0001]})").Matches(Stored("[52, 0]")));
}

TEST(GeoMatchTest, IntersectsWithPointsAndMultiShapes) {
  Geometry poly = Stored(R"({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]})");
  EXPECT_TRUE(Intersects(R"({"$geometry": [1, 1]})").Matches(poly));  // a legacy point put on the sphere
  EXPECT_FALSE(Intersects(R"({"$geometry": [3, 3]})").Matches(poly));
  EXPECT_TRUE(Intersects(R"({"$geometry": )" + GeoPoint(2, 1) + "}").Matches(poly));  // on an edge
  Region multi = Intersects(R"({"$geometry": {"type": "MultiPoint", "coordinates": [[10, 10], [1, 1]]}})");
  EXPECT_TRUE(multi.Matches(poly));
  EXPECT_TRUE(multi.Matches(Stored("[10, 10]")));
  EXPECT_FALSE(multi.Matches(Stored("[10, 11]")));
  Region collection = Within(R"({"$geometry": {"type": "GeometryCollection", "geometries": [
      {"type": "Point", "coordinates": [50, 50]},
      {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]},
      {"type": "MultiPolygon", "coordinates": [[[[10, 10], [12, 10], [12, 12], [10, 12], [10, 10]]]]}]}})");
  EXPECT_TRUE(collection.Matches(Stored(R"({"type": "MultiPoint", "coordinates": [[1, 1], [11, 11]]})")));
  EXPECT_FALSE(collection.Matches(Stored(R"({"type": "MultiPoint", "coordinates": [[1, 1], [5, 5]]})")));
  EXPECT_FALSE(collection.Matches(Stored(GeoPoint(50, 50))));  // only its polygons count for within
  // A line across both polygons of a MultiPolygon is within neither.
  EXPECT_FALSE(collection.Matches(Stored(R"({"type": "LineString", "coordinates": [[1, 1], [11, 11]]})")));
}

TEST(GeoMatchTest, CenterSphereIntersectsMatchesNothingAsInMongoDb) {
  // mongod's GeometryContainer::intersects has no case for a cap.
  Region r = Intersects(R"({"$centerSphere": [[0, 0], 0.1]})");
  EXPECT_FALSE(r.Matches(Stored(GeoPoint(0, 0))));
  EXPECT_TRUE(Within(R"({"$centerSphere": [[0, 0], 0.1]})").Matches(Stored(GeoPoint(0, 0))));
}

TEST(GeoMatchTest, LegacyPointsOutOfRangeAreNotOnTheSphere) {
  EXPECT_FALSE(Within(R"({"$centerSphere": [[0, 0], 3.2]})").Matches(Stored("[0, 100]")));
  EXPECT_TRUE(Within(R"({"$centerSphere": [[0, 0], 3.2]})").Matches(Stored("[0, 90]")));
  EXPECT_TRUE(Within(R"({"$center": [[0, 0], 101]})").Matches(Stored("[0, 100]")));
}

// ---------------------------------------------------------------------------
// Distances, §5 and §7

TEST(GeoDistanceTest, OperatorCrsOracles) {
  // geo_operator_crs.js: [90, 0] from [0, 0].
  Geometry p = Stored("[90, 0]");
  EXPECT_NEAR(*Near(R"({"$nearSphere": [0, 0]})").Distance(p), kPi / 2, 1e-12);
  EXPECT_NEAR(*Near(R"({"$nearSphere": {"$geometry": )" + GeoPoint(0, 0) + "}}").Distance(p), 10018696.05, 0.01);
  EXPECT_NEAR(*Near(R"({"$geoNear": )" + GeoPoint(0, 0) + "}").Distance(Stored(GeoPoint(90, 0))), 10018696.05, 0.01);
  EXPECT_DOUBLE_EQ(*Near(R"({"$near": [0, 0]})").Distance(p), 90);
}

TEST(GeoDistanceTest, EquatorOppositeAndMeridian) {
  NearQuery opposite = Near(R"({"$near": {"$geometry": )" + GeoPoint(180, 0) + R"(, "$maxDistance": 20037501}})");
  const double d0 = *opposite.Distance(Stored(GeoPoint(0, 0)));
  const double d1 = *opposite.Distance(Stored(GeoPoint(-1, 0)));
  EXPECT_NEAR(d0, kPi * kEarthRadiusMeters, 1e-3);
  EXPECT_LT(d0, 20037501);
  EXPECT_LT(d1, d0);
  EXPECT_NEAR(d1, 179 * kDeg * kEarthRadiusMeters, 1e-3);

  NearQuery meridian = Near(R"({"$geoNear": )" + GeoPoint(179, 0) + "}");
  EXPECT_NEAR(*meridian.Distance(Stored(GeoPoint(-179, 0))), 222637.7, 0.1);
  EXPECT_NEAR(*meridian.Distance(Stored(GeoPoint(176, 0))), 333956.5, 0.1);
  // Poles: every longitude at lat 90 is one point.
  EXPECT_NEAR(*Near(R"({"$nearSphere": [0, 90]})").Distance(Stored("[123, 90]")), 0, 1e-12);
}

// geo_mindistance.js: 121 points on 0..10 x 0..10, counted by distance from
// (0, 0), in metres (GeoJSON) and radians (legacy $nearSphere).
TEST(GeoDistanceTest, MinDistanceCounts) {
  NearQuery metres = Near(R"({"$nearSphere": {"$geometry": )" + GeoPoint(0, 0) + "}}");
  NearQuery radians = Near(R"({"$nearSphere": [0, 0]})");
  int m500 = 0, m1000 = 0, m1400 = 0, r500 = 0, r1000 = 0, r1400 = 0;
  for (int x = 0; x <= 10; ++x) {
    for (int y = 0; y <= 10; ++y) {
      const double m = *metres.Distance(Stored(GeoPoint(x, y)));
      const double r = *radians.Distance(Stored(Pt(x, y)));
      EXPECT_NEAR(m, r * kEarthRadiusMeters, 1e-6);
      m500 += m <= 500e3;
      m1000 += m <= 1000e3;
      m1400 += m <= 1400e3;
      r500 += r <= 500e3 / kEarthRadiusMeters;
      r1000 += r <= 1000e3 / kEarthRadiusMeters;
      r1400 += r <= 1400e3 / kEarthRadiusMeters;
    }
  }
  EXPECT_EQ(m500, 22);
  EXPECT_EQ(m1000, 71);
  EXPECT_EQ(m1400, 115);
  EXPECT_EQ(r500, 22);
  EXPECT_EQ(r1000, 71);
  EXPECT_EQ(r1400, 115);
  // The 2d part: [0, 40..42] from [0, 0] in flat units.
  NearQuery flat = Near(R"({"$near": [0, 0], "$minDistance": 41.5})");
  EXPECT_EQ(*flat.Distance(Stored("[0, 41]")), 41);
  EXPECT_EQ(*flat.Distance(Stored("[0, 42]")), 42);
  EXPECT_EQ(flat.min_distance(), 41.5);
}

TEST(GeoDistanceTest, ShapesAreMeasuredToTheirNearestPoint) {
  NearQuery q = Near(R"({"$nearSphere": [2, 0]})");
  Geometry square = Stored(R"({"type": "Polygon", "coordinates": [[[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]]})");
  EXPECT_NEAR(*q.Distance(square), 1 * kDeg, 1e-12);                     // to (1, 0) on the eastern edge, a meridian
  EXPECT_EQ(*Near(R"({"$nearSphere": [0, 0.5]})").Distance(square), 0);  // inside
  EXPECT_NEAR(*Near(R"({"$nearSphere": [0, 1]})").Distance(Stored(R"({"type": "LineString",
      "coordinates": [[-1, 0], [1, 0]]})")),
              1 * kDeg, 1e-12);
  Geometry multi = Stored(R"({"type": "MultiPoint", "coordinates": [[10, 0], [0, 3], [5, 5]]})");
  EXPECT_NEAR(*Near(R"({"$nearSphere": [0, 0]})").Distance(multi), 3 * kDeg, 1e-12);
  // What cannot be measured in the query's CRS.
  EXPECT_FALSE(Near(R"({"$nearSphere": [0, 0]})")
                   .Distance(Stored(std::string(R"({"type": "Polygon", "coordinates": )"
                                                R"([[[0, 0], [1, 0], [1, 1], [0, 0]]], )") +
                                    kStrict + "}"))
                   .has_value());
  EXPECT_FALSE(Near(R"({"$near": [0, 0]})").Distance(square).has_value());
  EXPECT_FALSE(Near(R"({"$nearSphere": [0, 0]})").Distance(Stored("[0, 100]")).has_value());
  EXPECT_EQ(*Near(R"({"$near": [0, 0]})").Distance(Stored("[3, 104]")), std::hypot(3, 104));
  EXPECT_EQ(*Near(R"({"$near": [0, 0]})").Distance(Stored(GeoPoint(3, 4))), 5);  // GeoJSON point in the plane
}

TEST(GeoDistanceTest, ExactPointIsAtDistanceZero) {
  // geo_near_point_query.js: maxDistance 0 finds the document at the point.
  for (const auto& [x, y] : std::vector<std::pair<double, double>>{
           {0, 0}, {90.00007, -45}, {-180, 0}, {180, 90}, {45.5, 89.9999}, {-0.0001, 0.0001}}) {
    NearQuery q = Near(R"({"$near": {"$geometry": )" + GeoPoint(x, y) + R"(, "$maxDistance": 0}})");
    EXPECT_EQ(*q.Distance(Stored(GeoPoint(x, y))), 0) << x << "," << y;
    EXPECT_EQ(*Near(R"({"$nearSphere": )" + Pt(x, y) + "}").Distance(Stored(Pt(x, y))), 0);
  }
}

TEST(GeoDistanceTest, CapCoveringOfTheWholeSphereIsTheSixFaces) {
  NearQuery q = Near(R"({"$near": {"$geometry": )" + GeoPoint(10, 10) + "}}");
  std::vector<uint64_t> cells{1, 2, 3};  // replaced
  q.CapCovering(kPi * kEarthRadiusMeters, &cells);
  ASSERT_EQ(cells.size(), 6u);
  for (int face = 0; face < 6; ++face) EXPECT_EQ(cells[face], static_cast<uint64_t>(2 * face + 1) << 60);
  q.CapCovering(std::numeric_limits<double>::infinity(), &cells);
  EXPECT_EQ(cells.size(), 6u);
  Near(R"({"$nearSphere": [10, 10]})").CapCovering(kPi, &cells);
  EXPECT_EQ(cells.size(), 6u);
  q.CapCovering(1000, &cells);
  ExpectNormalised(cells);
  EXPECT_LE(cells.size(), 20u);
  EXPECT_TRUE(CoveringHolds(cells, Leaf(10, 10)));
}

// ---------------------------------------------------------------------------
// Metamorphic properties over random shapes

class GeoPropertyTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng_{20261207};
  double U(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

  // A star-shaped ring around (cx, cy): k vertices at increasing angles,
  // radii in [0.6 r, r] degrees; closed; counter-clockwise unless `reverse`.
  std::vector<std::pair<double, double>> RandomRing(double cx, double cy, double r, int k) {
    std::vector<std::pair<double, double>> ring;
    for (int i = 0; i < k; ++i) {
      const double a = 2 * kPi * (i + U(0.1, 0.9)) / k;
      const double rr = U(0.6 * r, r);
      ring.push_back({cx + rr * std::cos(a), cy + rr * std::sin(a)});
    }
    ring.push_back(ring.front());
    return ring;
  }
  static std::string RingJson(const std::vector<std::pair<double, double>>& ring, bool reverse) {
    std::vector<std::pair<double, double>> r = ring;
    if (reverse) std::reverse(r.begin(), r.end());
    std::string s = "[";
    for (size_t i = 0; i < r.size(); ++i) s += (i ? ", " : "") + Pt(r[i].first, r[i].second);
    return s + "]";
  }
  static std::string PolygonJson(const std::vector<std::pair<double, double>>& ring, bool reverse) {
    return R"({"type": "Polygon", "coordinates": [)" + RingJson(ring, reverse) + "]}";
  }
};

TEST_F(GeoPropertyTest, CoveringsHoldEveryPointOfTheirShape) {
  for (int t = 0; t < 30; ++t) {
    const double cx = U(-165, 165), cy = U(-50, 50), r = U(0.05, 12);
    const auto ring = RandomRing(cx, cy, r, 3 + t % 8);
    const std::string poly = PolygonJson(ring, false);
    Region within = Within(R"({"$geometry": )" + poly + "}");
    std::vector<uint64_t> covering;
    within.Covering(&covering);
    ExpectNormalised(covering);
    EXPECT_LE(covering.size(), 20u);
    std::vector<uint64_t> stored_cells;
    ASSERT_TRUE(Stored(poly).SphereCells(CoverParams{}, &stored_cells).ok());
    int inside = 0;
    for (int i = 0; i < 200; ++i) {
      const double x = cx + U(-r, r), y = cy + U(-r, r);
      if (!within.Matches(Stored(GeoPoint(x, y)))) continue;
      ++inside;
      const uint64_t leaf = Leaf(x, y);
      EXPECT_TRUE(CoveringHolds(covering, leaf)) << poly << " misses " << x << "," << y;
      EXPECT_TRUE(CoveringHolds(stored_cells, leaf)) << poly << " (index keys) misses " << x << "," << y;
    }
    EXPECT_GT(inside, 0) << poly;
  }
  for (int t = 0; t < 30; ++t) {
    const double cx = U(-180, 180), cy = U(-90, 90), rad = U(1e-4, 1.5);
    Region cap = Within(R"({"$centerSphere": [)" + Pt(cx, cy) + ", " + N(rad) + "]}");
    NearQuery near = Near(R"({"$nearSphere": {"$geometry": )" + GeoPoint(cx, cy) + "}}");
    std::vector<uint64_t> covering, cap_covering;
    cap.Covering(&covering);
    ExpectNormalised(covering);
    near.CapCovering(rad * kEarthRadiusMeters, &cap_covering);
    ExpectNormalised(cap_covering);
    const double span = std::min(180.0, rad / kDeg * 1.2);
    for (int i = 0; i < 100; ++i) {
      const double x = std::clamp(cx + U(-span, span) / std::max(0.05, std::cos(cy * kDeg)), -180.0, 180.0);
      const double y = std::clamp(cy + U(-span, span), -90.0, 90.0);
      const Geometry p = Stored(GeoPoint(x, y));
      if (!cap.Matches(p)) continue;
      EXPECT_TRUE(CoveringHolds(covering, Leaf(x, y)));
      EXPECT_TRUE(CoveringHolds(cap_covering, Leaf(x, y)));
    }
  }
}

TEST_F(GeoPropertyTest, ReversingARingChangesNothing) {
  for (int t = 0; t < 25; ++t) {
    const double cx = U(-160, 160), cy = U(-50, 50), r = U(0.1, 15);
    const auto ring = RandomRing(cx, cy, r, 3 + t % 7);
    const std::string ccw = PolygonJson(ring, false), cw = PolygonJson(ring, true);
    Region w1 = Within(R"({"$geometry": )" + ccw + "}"), w2 = Within(R"({"$geometry": )" + cw + "}");
    Region i1 = Intersects(R"({"$geometry": )" + ccw + "}"), i2 = Intersects(R"({"$geometry": )" + cw + "}");
    std::vector<uint64_t> c1, c2, k1, k2;
    w1.Covering(&c1);
    w2.Covering(&c2);
    EXPECT_EQ(c1, c2);
    ASSERT_TRUE(Stored(ccw).SphereCells(CoverParams{}, &k1).ok());
    ASSERT_TRUE(Stored(cw).SphereCells(CoverParams{}, &k2).ok());
    EXPECT_EQ(k1, k2);
    for (int i = 0; i < 60; ++i) {
      const Geometry p =
          Stored(GeoPoint(std::clamp(cx + U(-1.5 * r, 1.5 * r), -180.0, 180.0), cy + U(-1.5 * r, 1.5 * r)));
      EXPECT_EQ(w1.Matches(p), w2.Matches(p));
      EXPECT_EQ(i1.Matches(p), i2.Matches(p));
    }
    // As a stored shape too: distance and matching of the reversed ring.
    const Geometry s1 = Stored(ccw), s2 = Stored(cw);
    NearQuery n = Near(R"({"$nearSphere": )" + Pt(cx + r / 2, cy) + "}");
    EXPECT_NEAR(*n.Distance(s1), *n.Distance(s2), 1e-12);
    Region big = Within(R"({"$centerSphere": [)" + Pt(cx, cy) + ", " + N(2 * r * kDeg + 0.01) + "]}");
    EXPECT_TRUE(big.Matches(s1));
    EXPECT_TRUE(big.Matches(s2));
  }
}

TEST_F(GeoPropertyTest, WithinImpliesIntersects) {
  int within_seen = 0;
  for (int t = 0; t < 25; ++t) {
    const double cx = U(-150, 150), cy = U(-50, 50), r = U(0.5, 10);
    const std::string poly = PolygonJson(RandomRing(cx, cy, r, 4 + t % 6), t % 2 == 1);
    Region w = Within(R"({"$geometry": )" + poly + "}"), i = Intersects(R"({"$geometry": )" + poly + "}");
    for (int k = 0; k < 40; ++k) {
      const double x = cx + U(-r, r), y = cy + U(-r, r);
      std::vector<Geometry> shapes = {
          Stored(GeoPoint(x, y)),
          Stored(R"({"type": "LineString", "coordinates": [)" + Pt(x, y) + ", " +
                 Pt(x + U(-r, r) / 4, y + U(-r, r) / 4) + "]}"),
          Stored(PolygonJson(RandomRing(x, y, U(0.01, r / 3), 3 + k % 4), k % 2 == 0)),
          Stored(R"({"type": "MultiPoint", "coordinates": [)" + Pt(x, y) + ", " + Pt(cx, cy) + "]}"),
      };
      for (const Geometry& g : shapes) {
        if (w.Matches(g)) {
          ++within_seen;
          EXPECT_TRUE(i.Matches(g)) << poly;
        }
      }
    }
  }
  EXPECT_GT(within_seen, 100);
}

TEST_F(GeoPropertyTest, CenterSphereRadiusIsNearMaxDistance) {
  int in = 0, out = 0;
  for (int t = 0; t < 40; ++t) {
    const double cx = U(-180, 180), cy = U(-90, 90), rad = U(1e-5, 3.0);
    Region cap = Within(R"({"$centerSphere": [)" + Pt(cx, cy) + ", " + N(rad) + "]}");
    NearQuery metres = Near(R"({"$near": {"$geometry": )" + GeoPoint(cx, cy) + "}}");
    NearQuery radians = Near(R"({"$nearSphere": )" + Pt(cx, cy) + "}");
    for (int i = 0; i < 60; ++i) {
      // Half the points near the cap's rim, half anywhere.
      double x, y;
      if (i % 2 == 0) {
        x = U(-180, 180);
        y = std::asin(U(-1, 1)) / kDeg;
      } else {
        const double span = std::min(90.0, rad / kDeg * 1.1);
        x = std::clamp(cx + U(-span, span), -180.0, 180.0);
        y = std::clamp(cy + U(-span, span), -90.0, 90.0);
      }
      const Geometry p = Stored(GeoPoint(x, y));
      const double d = *metres.Distance(p);
      if (std::abs(d - rad * kEarthRadiusMeters) < 0.05) continue;  // on the rim: either way
      EXPECT_EQ(cap.Matches(p), d <= rad * kEarthRadiusMeters)
          << cx << "," << cy << " r " << rad << ": " << x << "," << y;
      EXPECT_NEAR(*radians.Distance(Stored(Pt(x, y))) * kEarthRadiusMeters, d, 1e-6);
      (cap.Matches(p) ? in : out)++;
    }
  }
  EXPECT_GT(in, 200);
  EXPECT_GT(out, 200);
}

}  // namespace
}  // namespace docket::geo
