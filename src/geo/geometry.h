// Geometries as MongoDB 6.0 reads them (docs/design/geospatial.md §1, §3,
// §5): stored values (legacy coordinate pairs and GeoJSON), the regions of
// $geoWithin / $geoIntersects, the centre and bounds of $near /
// $nearSphere, and what each answers: containment, intersection, distance,
// and the S2 cell ids that stand for a geometry in a 2dsphere index.
// Spherical work is Debian's S2 (libs2); flat shapes ($box, $polygon,
// $center on legacy pairs) are plane geometry. Error messages are
// MongoDB's (BadValue unless noted); S2's own validity reasons may be
// worded differently from mongod's bundled S2.
//
// Everything here is immutable after parsing and safe to share between
// threads. No S2 type appears in this header: cell ids are uint64_t.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <bson/bson.h>

#include "docket/status.h"

namespace docket::geo {

// MongoDB's earth radius (geoconstants.h): distances in metres are angles
// times this.
inline constexpr double kEarthRadiusMeters = 6378100.0;

class GeometryData;  // geometry.cc: the parsed shape and its S2 form
class RegionData;
class NearData;

// A box of the plane (legacy coordinates), edges included.
struct FlatBox {
  double min_x, min_y, max_x, max_y;
};

// The plane box holding every legacy point within `radians` of (x, y) on
// the sphere (x longitude, y latitude, degrees): the latitude band, and the
// longitudes the cap reaches, all of them when it reaches a pole or crosses
// the antimeridian.
FlatBox SphericalCapBounds(double x, double y, double radians);

// The levels and cell budget of a covering (2dsphere index options
// coarsestIndexedLevel, finestIndexedLevel, maxCellsInCovering; MongoDB's
// version-3 defaults for stored shapes).
struct CoverParams {
  int coarsest_level = 2;
  int finest_level = 16;
  int max_cells = 20;
};
// The covering MongoDB makes for a query region (internalQueryS2Geo*).
inline constexpr CoverParams kQueryCoverParams{0, 23, 20};

// One geometry as a document stores it.
class Geometry {
 public:
  // A stored value (§1.1): a legacy point when it is an array or its first
  // field is a number (extra members allowed), else GeoJSON (§1.2, crs
  // included: a big polygon parses, but is never matched nor indexed).
  // Errors: BadValue with MongoDB's message ("Point must only contain
  // numeric elements", "Loop is not closed: ...", ...).
  static Result<Geometry> Parse(const bson_iter_t& value);

  Geometry(const Geometry&);
  Geometry& operator=(const Geometry&);
  Geometry(Geometry&&) noexcept;
  Geometry& operator=(Geometry&&) noexcept;
  ~Geometry();

  // A legacy coordinate pair (flat; on the sphere only when in range).
  bool legacy_point() const;
  // Stored with the strict-winding crs: never matched, never indexed.
  bool big_polygon() const;
  // The 2dsphere keys (§2.1), appended to *cells: a point's leaf cell; any
  // other shape a covering within `params`. Errors (the reason only; the
  // index wraps it in 16755): a legacy pair out of lng/lat range "can't
  // project geometry into spherical CRS: [x, y]"; a big polygon "can't
  // index geometry with strict winding order".
  Status SphereCells(const CoverParams& params, std::vector<uint64_t>* cells) const;

 private:
  friend class Region;
  friend class NearQuery;
  explicit Geometry(std::shared_ptr<const GeometryData> data);
  std::shared_ptr<const GeometryData> data_;
};

// Every geometry a document holds at one path value, appended to *out, as
// $geoWithin / $geoIntersects see them (GeoMatchExpression is a leaf match
// that traverses a trailing array: it tries the value itself and each of its
// elements, and whatever does not parse simply does not match): the value
// when it parses (a legacy pair, [x, y, ...] included, or a GeoJSON object),
// and, when it is an array, each element that parses (an array of pairs or
// of GeoJSON objects); elements that do not parse are skipped. Errors only
// when nothing parses: the value's own Geometry::Parse error ("geo element
// must be an array or object: <elem>", "Point must only contain numeric
// elements", ...).
// Not for 2dsphere keys: mongod does not expand a trailing array when it
// generates them (expandArrayOnTrailingField = false), so an array of
// points or of GeoJSON objects there fails 16755 with Geometry::Parse's
// error on the whole array ("Point must only contain numeric elements").
Status ParseStoredValues(const bson_iter_t& value, std::vector<Geometry>* out);

// The region of {$geoWithin: <operand>} or {$geoIntersects: <operand>}.
class Region {
 public:
  enum class Op { kWithin, kIntersects };
  // `operand` is the operator's value: {$geometry: <GeoJSON or legacy
  // point>} | {$box: ...} | {$polygon: ...} | {$center: ...} |
  // {$centerSphere: ...}, with $uniqueDocs ignored. Errors (§3.1): "geo
  // query doesn't have any geometry", "unknown geo specifier: ...",
  // "$within not supported with provided geometry: ...", "$geoIntersect not
  // supported with provided geometry: ...", "geometry must be an object",
  // "$geoWithin doesn't accept multiple shapes ...", the shape's own parse
  // errors.
  static Result<Region> Parse(Op op, const bson_iter_t& operand);

  Region(const Region&);
  Region& operator=(const Region&);
  Region(Region&&) noexcept;
  Region& operator=(Region&&) noexcept;
  ~Region();

  Op op() const;
  // Whether `stored` is within / intersects the region, in the region's
  // CRS (a stored shape that cannot be projected into it does not match;
  // boundaries count as inside; a stored big polygon never matches).
  bool Matches(const Geometry& stored) const;
  // Whether a 2dsphere index can find the candidates: a $geometry or
  // $centerSphere region.
  bool spherical() const;
  // Replaces *cells with cells whose union covers the region
  // (kQueryCoverParams), sorted and disjoint. REQUIRES: spherical().
  void Covering(std::vector<uint64_t>* cells) const;
  // A $box, $polygon, $center or $centerSphere region: the plane box that
  // holds every legacy point it can match, which a 2d index reads.
  // nullopt for a $geometry region (a 2d index cannot answer it).
  std::optional<FlatBox> FlatBounds() const;

 private:
  explicit Region(std::shared_ptr<const RegionData> data);
  std::shared_ptr<const RegionData> data_;
};

// The centre and bounds of $near / $nearSphere / $geoNear (§3.2).
class NearQuery {
 public:
  // `operators` is the whole operator object of the field: {$near: <point>,
  // $minDistance, $maxDistance} or {$nearSphere: ...} or {$geoNear: ...}
  // (an alias of $near); the point as [x, y], [x, y, maxDistance], {x, y},
  // or {$geometry: <GeoJSON Point>, $minDistance, $maxDistance}. Errors
  // with MongoDB 6.0's codes: the legacy form 18522, 16893-16896, 34413;
  // everything else BadValue (6.0 returns BadValue where older servers
  // asserted 16897-16900, 16681 and 17444; geo_oob_sphere.js expects 2).
  static Result<NearQuery> Parse(const bson_iter_t& operators);

  NearQuery(const NearQuery&);
  NearQuery& operator=(const NearQuery&);
  NearQuery(NearQuery&&) noexcept;
  NearQuery& operator=(NearQuery&&) noexcept;
  ~NearQuery();

  // A GeoJSON centre: distances in metres on the sphere.
  bool geojson() const;
  // Distances on the sphere (GeoJSON, or $nearSphere): a 2dsphere index can
  // serve it; otherwise (legacy $near) only a 2d index can.
  bool spherical() const;
  // The bounds, inclusive, in the query's unit (metres for GeoJSON, radians
  // for a legacy $nearSphere, coordinate units for a legacy $near); max is
  // +infinity when not given.
  double min_distance() const;
  double max_distance() const;

  // The distance in the query's unit from the centre to `stored` (for a
  // line or polygon, to its nearest point; 0 inside a polygon); nullopt
  // when `stored` cannot be measured in the query's CRS (a big polygon, a
  // GeoJSON shape other than a single Point under a flat query — a Point is
  // measured in the plane on its lng/lat — a legacy pair out of range on
  // the sphere).
  std::optional<double> Distance(const Geometry& stored) const;
  // Replaces *cells with cells covering the stored shapes whose distance
  // may fall in [inner, outer] (query units): a covering of the cap of
  // radius `outer` about the centre (the six faces when outer >= pi R, or
  // pi radians), minus nothing — the caller filters by exact distance;
  // sorted and disjoint. REQUIRES: spherical().
  void CapCovering(double outer, std::vector<uint64_t>* cells) const;
  // A legacy centre ($near or $nearSphere with coordinates): the plane box
  // holding every legacy point at most `outer` (query units: coordinate
  // units flat, radians on the sphere) from it, which a 2d index reads;
  // infinite `outer` gives an infinite box. nullopt for a GeoJSON centre (a
  // 2d index cannot answer it).
  std::optional<FlatBox> FlatBoundsWithin(double outer) const;

 private:
  explicit NearQuery(std::shared_ptr<const NearData> data);
  std::shared_ptr<const NearData> data_;
};

// Appends the range of leaf cell ids under `cell` ([range_min, range_max])
// and, as [id, id], each of `cell`'s ancestors from its parent up to
// `coarsest_level`: what an index scan must read for a query cell (shapes
// stored at coarser cells contain it).
struct CellRange {
  uint64_t min;
  uint64_t max;
};
void CellRangesFor(uint64_t cell, int coarsest_level, std::vector<CellRange>* out);

}  // namespace docket::geo
