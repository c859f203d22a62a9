// Geometries as MongoDB 6.0 parses and compares them (geometry.h). The
// parse follows mongod's order of checks so that the first error a value
// has is the one reported; the spherical work is libs2's, the flat shapes
// are the plane geometry below.
#include "geo/geometry.h"

#include <s2/s1angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell.h>
#include <s2/s2cell_id.h>
#include <s2/s2cell_union.h>
#include <s2/s2error.h>
#include <s2/s2latlng.h>
#include <s2/s2loop.h>
#include <s2/s2polygon.h>
#include <s2/s2polyline.h>
#include <s2/s2region_coverer.h>
#include <s2/s2region_union.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include "bson/type_names.h"
#include "bson/value.h"

namespace docket::geo {

namespace {

constexpr double kPi = 3.14159265358979323846;

struct FlatPoint {
  double x = 0;
  double y = 0;
};

// A point of a stored or query geometry: its coordinates as given and,
// when they are a valid lng/lat, its place on the sphere.
struct PointShape {
  FlatPoint flat;
  bool on_sphere = false;
  S2Point point;
  S2CellId cell;  // the leaf cell: MongoDB compares points through it
};

}  // namespace

// The parsed shape. A GeoJSON Multi* or GeometryCollection is kept as its
// members (points, lines, polygons): MongoDB answers every predicate member
// by member. Immutable once built; shared between copies of a Geometry.
class GeometryData {
 public:
  enum class Kind { kPoint, kLine, kPolygon, kMultiPoint, kMultiLine, kMultiPolygon, kCollection };

  Kind kind = Kind::kPoint;
  bool legacy = false;  // a legacy coordinate pair (flat)
  bool big = false;     // a strict-winding polygon: its one loop is not normalised
  std::vector<PointShape> points;
  std::vector<std::unique_ptr<S2Polyline>> lines;
  std::vector<std::unique_ptr<S2Polygon>> polygons;
  std::string source;  // a legacy pair as given, for "can't project" messages

  // Whether the shape can be put on the sphere: GeoJSON, or a legacy pair
  // in lng/lat range.
  bool Spherical() const { return !legacy || points[0].on_sphere; }
  // Whether a stored shape takes part in spherical predicates: a big
  // polygon never does.
  bool OnSphere() const { return !big && Spherical(); }
  // Whether the shape can be compared in the plane: a single point, legacy
  // or GeoJSON (MongoDB projects only points from the sphere to the plane).
  bool Flat() const { return !big && kind == Kind::kPoint; }

  // The members as S2 regions (points as their leaf cells), for coverings.
  std::unique_ptr<S2Region> Region() const {
    std::vector<std::unique_ptr<S2Region>> regions;
    for (const PointShape& p : points) regions.push_back(std::make_unique<S2Cell>(p.cell));
    for (const auto& l : lines) regions.emplace_back(l->Clone());
    for (const auto& p : polygons) regions.emplace_back(p->Clone());
    if (regions.size() == 1) return std::move(regions[0]);
    return std::make_unique<S2RegionUnion>(std::move(regions));
  }
};

class RegionData {
 public:
  enum class Shape { kBox, kFlatPolygon, kCenter, kCenterSphere, kSphere };

  Region::Op op = Region::Op::kWithin;
  Shape shape = Shape::kSphere;
  FlatPoint box_min, box_max;                    // kBox, corners sorted
  std::vector<FlatPoint> flat_polygon;           // kFlatPolygon, implicitly closed
  FlatPoint center;                              // kCenter
  double radius = 0;                             // kCenter (flat units), kCenterSphere (radians)
  S2Cap cap;                                     // kCenterSphere
  std::shared_ptr<const GeometryData> geometry;  // kSphere: the $geometry on the sphere
};

class NearData {
 public:
  FlatPoint flat;        // the centre as given
  bool geojson = false;  // a GeoJSON point: metres
  bool sphere = false;   // distances on the sphere (GeoJSON or $nearSphere)
  S2Point point;         // the centre on the sphere when `sphere`
  double min_distance = 0;
  double max_distance = std::numeric_limits<double>::infinity();
};

namespace {

// ---------------------------------------------------------------------------
// BSON helpers

bool IsContainer(bson_type_t t) { return t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY; }

std::string Json(const bson_iter_t& it) { return bson::ValueToJson(it); }

// An element as mongod prints a BSONElement: "name: value" (just the value
// when it has no name, as a held value).
std::string ElementText(const bson_iter_t& it) {
  const char* key = bson_iter_key(&it);
  if (key == nullptr || *key == '\0') return Json(it);
  return std::string(key) + ": " + Json(it);
}

// mongod streams doubles into messages with "%g".
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

const char* TypeName(const bson_iter_t* it) {
  if (it == nullptr) return "missing";
  return bson::TypeAlias(bson_iter_type(it));
}

// Finds the first field `name` of a document value.
bool FindField(const bson_iter_t& doc, const char* name, bson_iter_t* out) {
  bson_iter_t child;
  if (!bson_iter_recurse(&doc, &child)) return false;
  while (bson_iter_next(&child)) {
    if (std::strcmp(bson_iter_key(&child), name) == 0) {
      *out = child;
      return true;
    }
  }
  return false;
}

bool FirstIsNumber(const bson_iter_t& container) {
  bson_iter_t child;
  return bson_iter_recurse(&container, &child) && bson_iter_next(&child) && bson::IsNumber(bson_iter_type(&child));
}

Status Bad(std::string message) { return Status(ErrorCode::kBadValue, std::move(message)); }

// ---------------------------------------------------------------------------
// Points

bool ValidLngLat(double lng, double lat) { return lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180; }

S2Point ToSphere(double lng, double lat) { return S2LatLng::FromDegrees(lat, lng).Normalized().ToPoint(); }

PointShape MakePoint(FlatPoint flat) {
  PointShape p;
  p.flat = flat;
  p.on_sphere = ValidLngLat(flat.x, flat.y);
  if (p.on_sphere) {
    p.point = ToSphere(flat.x, flat.y);
    p.cell = S2CellId(p.point);
  }
  return p;
}

// A point as two numbers, the values of an array or object (field names do
// not matter, order does); `elem` null when the value is missing.
Status ParseFlatPoint(const bson_iter_t* elem, bool allow_extra, FlatPoint* out) {
  if (elem == nullptr || !IsContainer(bson_iter_type(elem))) {
    return Bad(std::string("Point must be an array or object, instead got type ") + TypeName(elem));
  }
  bson_iter_t child;
  bson_iter_recurse(elem, &child);
  double v[2];
  for (double& d : v) {
    if (!bson_iter_next(&child) || !bson::IsNumber(bson_iter_type(&child))) {
      return Bad("Point must only contain numeric elements");
    }
    d = bson::NumberAsDouble(child);
  }
  if (!allow_extra && bson_iter_next(&child)) return Bad("Point must only contain two numeric elements");
  if (!std::isfinite(v[0]) || !std::isfinite(v[1])) return Bad("Point coordinates must be finite numbers");
  out->x = v[0];
  out->y = v[1];
  return Status::OK();
}

Status CheckLngLat(FlatPoint p) {
  if (!ValidLngLat(p.x, p.y)) {
    return Bad("longitude/latitude is out of bounds, lng: " + Num(p.x) + " lat: " + Num(p.y));
  }
  return Status::OK();
}

// One GeoJSON position: an array of >= 2 numbers (more, e.g. altitude, are
// ignored), a valid lng/lat.
Status ParseCoordinate(const bson_iter_t& elem, FlatPoint* flat, S2Point* out) {
  if (bson_iter_type(&elem) != BSON_TYPE_ARRAY) return Bad("GeoJSON coordinates must be an array");
  DOCKET_RETURN_IF_ERROR(ParseFlatPoint(&elem, true, flat));
  DOCKET_RETURN_IF_ERROR(CheckLngLat(*flat));
  *out = ToSphere(flat->x, flat->y);
  return Status::OK();
}

Status ParseCoordinates(const bson_iter_t* elem, std::vector<S2Point>* out, std::vector<FlatPoint>* flats = nullptr) {
  if (elem == nullptr || bson_iter_type(elem) != BSON_TYPE_ARRAY) {
    return Bad("GeoJSON coordinates must be an array of coordinates");
  }
  bson_iter_t child;
  bson_iter_recurse(elem, &child);
  while (bson_iter_next(&child)) {
    FlatPoint flat;
    S2Point p;
    DOCKET_RETURN_IF_ERROR(ParseCoordinate(child, &flat, &p));
    out->push_back(p);
    if (flats != nullptr) flats->push_back(flat);
  }
  return Status::OK();
}

void EraseAdjacentDuplicates(std::vector<S2Point>* v) { v->erase(std::unique(v->begin(), v->end()), v->end()); }

// ---------------------------------------------------------------------------
// GeoJSON shapes

enum class Crs { kSphere, kStrictSphere };

// The optional "crs" member: the ordinary sphere, or the strict-winding one
// (allowed only when `allow_strict`, i.e. for a Polygon).
Status ParseCrs(const bson_iter_t& obj, bool allow_strict, Crs* crs) {
  *crs = Crs::kSphere;
  bson_iter_t c;
  if (!FindField(obj, "crs", &c)) return Status::OK();
  if (!IsContainer(bson_iter_type(&c))) return Bad("GeoJSON CRS must be an object");
  bson_iter_t type;
  if (!FindField(c, "type", &type) || bson_iter_type(&type) != BSON_TYPE_UTF8 ||
      std::strcmp(bson_iter_utf8(&type, nullptr), "name") != 0) {
    return Bad("GeoJSON CRS must have field \"type\": \"name\"");
  }
  bson_iter_t props;
  if (!FindField(c, "properties", &props) || !IsContainer(bson_iter_type(&props))) {
    return Bad("CRS must have field \"properties\" which is an object");
  }
  bson_iter_t name;
  if (!FindField(props, "name", &name) || bson_iter_type(&name) != BSON_TYPE_UTF8) {
    return Bad("In CRS, \"properties.name\" must be a string");
  }
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&name, &len);
  const std::string_view n(s, len);
  if (n == "urn:ogc:def:crs:OGC:1.3:CRS84" || n == "EPSG:4326") return Status::OK();
  if (n == "urn:x-mongodb:crs:strictwinding:EPSG:4326") {
    if (!allow_strict) return Bad("Strict winding order is only supported by polygon");
    *crs = Crs::kStrictSphere;
    return Status::OK();
  }
  return Bad("Unknown CRS name: " + std::string(n));
}

Status ParseLineCoordinates(const bson_iter_t* elem, std::unique_ptr<S2Polyline>* out) {
  std::vector<S2Point> vertices;
  DOCKET_RETURN_IF_ERROR(ParseCoordinates(elem, &vertices));
  EraseAdjacentDuplicates(&vertices);
  if (vertices.size() < 2) {
    return Bad("GeoJSON LineString must have at least 2 vertices: " + Json(*elem));
  }
  auto line = std::make_unique<S2Polyline>(vertices, S2Debug::DISABLE);
  S2Error error;
  if (line->FindValidationError(&error)) {
    return Bad("GeoJSON LineString is not valid: " + error.text() + " " + Json(*elem));
  }
  *out = std::move(line);
  return Status::OK();
}

// One ring's vertices, closed check and duplicates removed, closing vertex
// dropped. `shown` is what the "at least 3" message prints.
Status ParseRing(const bson_iter_t& ring, const bson_iter_t& shown, std::vector<S2Point>* points) {
  DOCKET_RETURN_IF_ERROR(ParseCoordinates(&ring, points));
  if (points->empty()) return Bad("Loop has no vertices: " + Json(ring));
  if (points->front() != points->back()) return Bad("Loop is not closed: " + Json(ring));
  EraseAdjacentDuplicates(points);
  points->pop_back();
  if (points->size() < 3) return Bad("Loop must have at least 3 different vertices: " + Json(shown));
  return Status::OK();
}

// "Loop i shares more than one vertex with its parent loop p", as the
// S2 that mongod bundles says it, or empty.
std::string SharedVertexError(const S2Polygon& polygon) {
  for (int i = 0; i < polygon.num_loops(); ++i) {
    const int parent = polygon.GetParent(i);
    if (parent < 0) continue;
    const S2Loop& p = *polygon.loop(parent);
    std::set<S2Point> vertices;
    for (int k = 0; k < p.num_vertices(); ++k) vertices.insert(p.vertex(k));
    int shared = 0;
    const S2Loop& l = *polygon.loop(i);
    for (int k = 0; k < l.num_vertices(); ++k) shared += vertices.count(l.vertex(k)) > 0 ? 1 : 0;
    if (shared > 1) {
      return "Loop " + std::to_string(i) + " shares more than one vertex with its parent loop " +
             std::to_string(parent);
    }
  }
  return std::string();
}

// A GeoJSON polygon's rings (parseGeoJSONPolygonCoordinates): each ring
// normalised to the smaller side, the first the shell, the others holes.
Status ParsePolygonCoordinates(const bson_iter_t* elem, std::unique_ptr<S2Polygon>* out) {
  if (elem == nullptr || bson_iter_type(elem) != BSON_TYPE_ARRAY) return Bad("Polygon coordinates must be an array");
  std::vector<std::unique_ptr<S2Loop>> loops;
  bson_iter_t rings, first;
  bson_iter_recurse(elem, &rings);
  while (bson_iter_next(&rings)) {
    if (loops.empty()) first = rings;
    std::vector<S2Point> points;
    DOCKET_RETURN_IF_ERROR(ParseRing(rings, rings, &points));
    auto loop = std::make_unique<S2Loop>(points, S2Debug::DISABLE);
    S2Error error;
    if (loop->FindValidationError(&error)) {
      return Bad("Loop is not valid: " + Json(rings) + " " + error.text());
    }
    loop->Normalize();
    if (!loops.empty() && !loops[0]->Contains(*loop)) {
      return Bad("Secondary loops not contained by first exterior loop - secondary loops must be holes: " +
                 Json(rings) + " first loop: " + Json(first));
    }
    loops.push_back(std::move(loop));
  }
  if (loops.empty()) return Bad("Polygon has no loops.");
  auto polygon = std::make_unique<S2Polygon>();
  polygon->set_s2debug_override(S2Debug::DISABLE);
  polygon->InitNested(std::move(loops));
  S2Error error;
  if (polygon->FindValidationError(&error)) {
    return Bad("Polygon isn't valid: " + error.text() + " " + Json(*elem));
  }
  if (std::string shared = SharedVertexError(*polygon); !shared.empty()) {
    return Bad(shared + ": " + Json(*elem));
  }
  if (polygon->GetLastDescendant(0) < polygon->num_loops() - 1) {
    return Bad("Only one exterior polygon loop is allowed: " + Json(*elem));
  }
  for (int i = 0; i < polygon->num_loops(); ++i) {
    if (polygon->loop(i)->depth() > 1) return Bad("Polygon interior loops cannot be nested: " + Json(*elem));
  }
  *out = std::move(polygon);
  return Status::OK();
}

// A strict-winding polygon: one simple ring whose interior is on its left
// (parseBigSimplePolygonCoordinates); it may exceed a hemisphere.
Status ParseBigPolygonCoordinates(const bson_iter_t* elem, std::unique_ptr<S2Polygon>* out) {
  if (elem == nullptr || bson_iter_type(elem) != BSON_TYPE_ARRAY) {
    return Bad("Coordinates of polygon must be an array");
  }
  bson_iter_t rings;
  bson_iter_recurse(elem, &rings);
  int count = 0;
  bson_iter_t ring;
  while (bson_iter_next(&rings)) {
    if (count++ == 0) ring = rings;
  }
  if (count != 1) return Bad("Only one simple loop is allowed in a big polygon: " + Json(*elem));
  std::vector<S2Point> points;
  DOCKET_RETURN_IF_ERROR(ParseRing(ring, *elem, &points));
  auto loop = std::make_unique<S2Loop>(points, S2Debug::DISABLE);
  S2Error error;
  if (loop->FindValidationError(&error)) return Bad("Loop is not valid: " + Json(*elem) + " " + error.text());
  auto polygon = std::make_unique<S2Polygon>();
  polygon->set_s2debug_override(S2Debug::DISABLE);
  polygon->Init(std::move(loop));
  *out = std::move(polygon);
  return Status::OK();
}

enum class GeoJsonType {
  kUnknown,
  kPoint,
  kLineString,
  kPolygon,
  kMultiPoint,
  kMultiLineString,
  kMultiPolygon,
  kCollection
};

GeoJsonType TypeOf(const bson_iter_t& obj) {
  bson_iter_t type;
  if (!FindField(obj, "type", &type) || bson_iter_type(&type) != BSON_TYPE_UTF8) return GeoJsonType::kUnknown;
  uint32_t len = 0;
  const char* s = bson_iter_utf8(&type, &len);
  const std::string_view t(s, len);
  if (t == "Point") return GeoJsonType::kPoint;
  if (t == "LineString") return GeoJsonType::kLineString;
  if (t == "Polygon") return GeoJsonType::kPolygon;
  if (t == "MultiPoint") return GeoJsonType::kMultiPoint;
  if (t == "MultiLineString") return GeoJsonType::kMultiLineString;
  if (t == "MultiPolygon") return GeoJsonType::kMultiPolygon;
  if (t == "GeometryCollection") return GeoJsonType::kCollection;
  return GeoJsonType::kUnknown;
}

// The "coordinates" member, or null when missing.
const bson_iter_t* Coordinates(const bson_iter_t& obj, bson_iter_t* storage) {
  return FindField(obj, "coordinates", storage) ? storage : nullptr;
}

// A GeoJSON Point's position: crs, then any point-like value (extra
// members allowed), a valid lng/lat. A "type" other than "Point" is refused
// (mongod's valid_type.js: {type: "blah"} as a near point is BadValue).
Status ParseGeoJsonPoint(const bson_iter_t& obj, FlatPoint* flat) {
  bson_iter_t type;
  if (FindField(obj, "type", &type) &&
      !(BSON_ITER_HOLDS_UTF8(&type) && std::string_view(bson_iter_utf8(&type, nullptr)) == "Point")) {
    return Bad("unknown GeoJSON type: " + Json(obj));
  }
  Crs crs;
  DOCKET_RETURN_IF_ERROR(ParseCrs(obj, false, &crs));
  bson_iter_t storage;
  DOCKET_RETURN_IF_ERROR(ParseFlatPoint(Coordinates(obj, &storage), true, flat));
  return CheckLngLat(*flat);
}

// One member of a GeoJSON geometry (not a collection) added to `g`.
Status ParseGeoJsonMember(const bson_iter_t& obj, GeoJsonType type, GeometryData* g) {
  bson_iter_t storage;
  Crs crs;
  switch (type) {
    case GeoJsonType::kPoint: {
      FlatPoint flat;
      DOCKET_RETURN_IF_ERROR(ParseGeoJsonPoint(obj, &flat));
      g->points.push_back(MakePoint(flat));
      return Status::OK();
    }
    case GeoJsonType::kLineString: {
      DOCKET_RETURN_IF_ERROR(ParseCrs(obj, false, &crs));
      std::unique_ptr<S2Polyline> line;
      const bson_iter_t* coords = Coordinates(obj, &storage);
      DOCKET_RETURN_IF_ERROR(ParseLineCoordinates(coords, &line));
      g->lines.push_back(std::move(line));
      return Status::OK();
    }
    case GeoJsonType::kPolygon: {
      DOCKET_RETURN_IF_ERROR(ParseCrs(obj, true, &crs));
      std::unique_ptr<S2Polygon> polygon;
      if (crs == Crs::kStrictSphere) {
        // A big polygon stands alone; one inside a collection would have no
        // meaning for mongod either (it asserts).
        if (g->kind != GeometryData::Kind::kPolygon) return Bad("Strict winding order is only supported by polygon");
        DOCKET_RETURN_IF_ERROR(ParseBigPolygonCoordinates(Coordinates(obj, &storage), &polygon));
        g->big = true;
      } else {
        DOCKET_RETURN_IF_ERROR(ParsePolygonCoordinates(Coordinates(obj, &storage), &polygon));
      }
      g->polygons.push_back(std::move(polygon));
      return Status::OK();
    }
    case GeoJsonType::kMultiPoint: {
      DOCKET_RETURN_IF_ERROR(ParseCrs(obj, false, &crs));
      std::vector<S2Point> points;
      std::vector<FlatPoint> flats;
      DOCKET_RETURN_IF_ERROR(ParseCoordinates(Coordinates(obj, &storage), &points, &flats));
      if (points.empty()) return Bad("MultiPoint coordinates must have at least 1 element");
      for (const FlatPoint& f : flats) g->points.push_back(MakePoint(f));
      return Status::OK();
    }
    case GeoJsonType::kMultiLineString: {
      DOCKET_RETURN_IF_ERROR(ParseCrs(obj, false, &crs));
      const bson_iter_t* coords = Coordinates(obj, &storage);
      if (coords == nullptr || bson_iter_type(coords) != BSON_TYPE_ARRAY) {
        return Bad("MultiLineString coordinates must be an array");
      }
      bson_iter_t it;
      bson_iter_recurse(coords, &it);
      size_t n = 0;
      while (bson_iter_next(&it)) {
        std::unique_ptr<S2Polyline> line;
        DOCKET_RETURN_IF_ERROR(ParseLineCoordinates(&it, &line));
        g->lines.push_back(std::move(line));
        ++n;
      }
      if (n == 0) return Bad("MultiLineString coordinates must have at least 1 element");
      return Status::OK();
    }
    case GeoJsonType::kMultiPolygon: {
      DOCKET_RETURN_IF_ERROR(ParseCrs(obj, false, &crs));
      const bson_iter_t* coords = Coordinates(obj, &storage);
      if (coords == nullptr || bson_iter_type(coords) != BSON_TYPE_ARRAY) {
        return Bad("MultiPolygon coordinates must be an array");
      }
      bson_iter_t it;
      bson_iter_recurse(coords, &it);
      size_t n = 0;
      while (bson_iter_next(&it)) {
        std::unique_ptr<S2Polygon> polygon;
        DOCKET_RETURN_IF_ERROR(ParsePolygonCoordinates(&it, &polygon));
        g->polygons.push_back(std::move(polygon));
        ++n;
      }
      if (n == 0) return Bad("MultiPolygon coordinates must have at least 1 element");
      return Status::OK();
    }
    case GeoJsonType::kCollection:
    case GeoJsonType::kUnknown:
      break;
  }
  return Bad("unknown GeoJSON type: " + Json(obj));
}

Status ParseGeometryCollection(const bson_iter_t& obj, GeometryData* g) {
  bson_iter_t geometries;
  if (!FindField(obj, "geometries", &geometries) || bson_iter_type(&geometries) != BSON_TYPE_ARRAY) {
    return Bad("GeometryCollection geometries must be an array");
  }
  bson_iter_t it;
  bson_iter_recurse(&geometries, &it);
  size_t i = 0;
  while (bson_iter_next(&it)) {
    if (bson_iter_type(&it) != BSON_TYPE_DOCUMENT) {
      return Bad("Element " + std::to_string(i) + " of \"geometries\" is not an object");
    }
    const GeoJsonType type = TypeOf(it);
    if (type == GeoJsonType::kUnknown) return Bad("Unknown GeoJSON type: " + Json(it));
    if (type == GeoJsonType::kCollection) return Bad("GeometryCollections cannot be nested: " + Json(it));
    DOCKET_RETURN_IF_ERROR(ParseGeoJsonMember(it, type, g));
    ++i;
  }
  if (i == 0) return Bad("GeometryCollection geometries must have at least 1 element");
  return Status::OK();
}

Result<std::shared_ptr<GeometryData>> ParseGeoJson(const bson_iter_t& obj) {
  auto g = std::make_shared<GeometryData>();
  const GeoJsonType type = TypeOf(obj);
  using Kind = GeometryData::Kind;
  switch (type) {
    case GeoJsonType::kUnknown:
      return Bad("unknown GeoJSON type: " + Json(obj));
    case GeoJsonType::kPoint:
      g->kind = Kind::kPoint;
      break;
    case GeoJsonType::kLineString:
      g->kind = Kind::kLine;
      break;
    case GeoJsonType::kPolygon:
      g->kind = Kind::kPolygon;
      break;
    case GeoJsonType::kMultiPoint:
      g->kind = Kind::kMultiPoint;
      break;
    case GeoJsonType::kMultiLineString:
      g->kind = Kind::kMultiLine;
      break;
    case GeoJsonType::kMultiPolygon:
      g->kind = Kind::kMultiPolygon;
      break;
    case GeoJsonType::kCollection:
      g->kind = Kind::kCollection;
      break;
  }
  if (type == GeoJsonType::kCollection) {
    DOCKET_RETURN_IF_ERROR(ParseGeometryCollection(obj, g.get()));
  } else {
    DOCKET_RETURN_IF_ERROR(ParseGeoJsonMember(obj, type, g.get()));
  }
  return g;
}

// A legacy pair [x, y] or {a: x, b: y}, flat; `allow_extra` for stored
// values ([x, y, z], {x, y, label}).
Result<std::shared_ptr<GeometryData>> ParseLegacyPoint(const bson_iter_t& value, bool allow_extra) {
  FlatPoint flat;
  DOCKET_RETURN_IF_ERROR(ParseFlatPoint(&value, allow_extra, &flat));
  auto g = std::make_shared<GeometryData>();
  g->kind = GeometryData::Kind::kPoint;
  g->legacy = true;
  g->points.push_back(MakePoint(flat));
  g->source = Json(value);
  return g;
}

// A query point (parseQueryPoint): a legacy pair (exactly two numbers) or
// a GeoJSON point. *geojson tells which.
Status ParseQueryPoint(const bson_iter_t& value, FlatPoint* flat, bool* geojson) {
  if (!IsContainer(bson_iter_type(&value))) {
    return Bad(std::string("Point must be an array or object, instead got type ") + TypeName(&value));
  }
  if (bson_iter_type(&value) == BSON_TYPE_ARRAY || FirstIsNumber(value)) {
    *geojson = false;
    return ParseFlatPoint(&value, false, flat);
  }
  *geojson = true;
  return ParseGeoJsonPoint(value, flat);
}

// ---------------------------------------------------------------------------
// Flat predicates (2d semantics: boundaries inclusive)

bool BoxContains(FlatPoint lo, FlatPoint hi, FlatPoint p) {
  return p.x >= lo.x && p.x <= hi.x && p.y >= lo.y && p.y <= hi.y;
}

// mongod's rule for $polygon (shapes.cpp Polygon::contains, no fudge): a
// vertex, or a point on a horizontal edge, is inside; otherwise a ray to the
// right counts the edges it crosses, where a point exactly on a sloped edge
// counts as left of it (so it is inside on a polygon's right-hand edges and
// outside on its left-hand ones), and one exactly on a vertical edge is
// inside.
bool FlatPolygonContains(const std::vector<FlatPoint>& poly, FlatPoint p) {
  const size_t n = poly.size();
  int crossings = 0;
  for (size_t i = 0; i < n; ++i) {
    const FlatPoint a = poly[i], b = poly[(i + 1) % n];
    if ((p.x == a.x && p.y == a.y) || (p.x == b.x && p.y == b.y)) return true;
    if (a.y == b.y && p.y == a.y && p.x >= std::min(a.x, b.x) && p.x <= std::max(a.x, b.x)) return true;
    if (!(p.y > std::min(a.y, b.y) && p.y <= std::max(a.y, b.y) && p.x <= std::max(a.x, b.x) && a.y != b.y)) continue;
    if (a.x == b.x && p.x == a.x) return true;
    const double x_at = (p.y - a.y) * (b.x - a.x) / (b.y - a.y) + a.x;
    if (a.x == b.x || p.x <= x_at) ++crossings;
  }
  return crossings % 2 == 1;
}

// |a - b| <= r, comparing coordinates directly when the points share an
// axis (as mongod's distanceWithin, so that an axis-aligned point exactly r
// away is inside despite rounding).
bool FlatWithin(FlatPoint a, FlatPoint b, double r) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  if (dx == 0) return b.y > a.y ? a.y + r >= b.y : b.y + r >= a.y;
  if (dy == 0) return b.x > a.x ? a.x + r >= b.x : b.x + r >= a.x;
  return std::sqrt(dx * dx + dy * dy) <= r;
}

// ---------------------------------------------------------------------------
// Spherical predicates (mongod's GeometryContainer::contains/intersects)

// A point is within a polygon when inside it or when its leaf cell touches
// it: edges and vertices count.
bool PolygonHasPoint(const S2Polygon& polygon, const PointShape& p) {
  return polygon.Contains(p.point) || polygon.MayIntersect(S2Cell(p.cell));
}

bool PolygonHasLine(const S2Polygon& polygon, const S2Polyline& line) { return polygon.Contains(line); }

// Whether the cap holds all of a shape: the shape stays out of the open
// complement cap, i.e. no part of it is nearer than pi - r to the antipode.
bool CapHasShapeAt(const S2Cap& cap, S1Angle nearest_to_antipode) {
  if (cap.is_full()) return true;
  const double complement = kPi - cap.GetRadius().radians();
  return !(nearest_to_antipode.radians() < complement);
}

S1Angle LineDistance(const S2Polyline& line, const S2Point& p) {
  int next = 0;
  return S1Angle(p, line.Project(p, &next));
}

bool CapContains(const S2Cap& cap, const GeometryData& g) {
  const S2Point antipode = -cap.center();
  for (const PointShape& p : g.points) {
    if (!cap.MayIntersect(S2Cell(p.cell))) return false;
  }
  for (const auto& l : g.lines) {
    if (!CapHasShapeAt(cap, LineDistance(*l, antipode))) return false;
  }
  for (const auto& poly : g.polygons) {
    if (!CapHasShapeAt(cap, poly->GetDistance(antipode))) return false;
  }
  return true;
}

// Within a $geometry query: every member of the stored shape lies in one of
// the query's polygons (each member on its own, as mongod does).
bool QueryContains(const GeometryData& q, const GeometryData& g) {
  for (const PointShape& p : g.points) {
    if (!std::any_of(q.polygons.begin(), q.polygons.end(),
                     [&](const auto& poly) { return PolygonHasPoint(*poly, p); })) {
      return false;
    }
  }
  for (const auto& l : g.lines) {
    if (!std::any_of(q.polygons.begin(), q.polygons.end(),
                     [&](const auto& poly) { return PolygonHasLine(*poly, *l); })) {
      return false;
    }
  }
  for (const auto& sp : g.polygons) {
    if (!std::any_of(q.polygons.begin(), q.polygons.end(), [&](const auto& poly) { return poly->Contains(*sp); })) {
      return false;
    }
  }
  return true;
}

// Intersects: some member of one meets some member of the other; points
// meet through their leaf cells.
bool QueryIntersects(const GeometryData& q, const GeometryData& g) {
  for (const PointShape& p : g.points) {
    const S2Cell cell(p.cell);
    for (const PointShape& qp : q.points) {
      if (S2Cell(qp.cell).MayIntersect(cell)) return true;
    }
    for (const auto& ql : q.lines) {
      if (ql->MayIntersect(cell)) return true;
    }
    for (const auto& qpoly : q.polygons) {
      if (qpoly->MayIntersect(cell)) return true;
    }
  }
  for (const auto& l : g.lines) {
    for (const PointShape& qp : q.points) {
      if (l->MayIntersect(S2Cell(qp.cell))) return true;
    }
    for (const auto& ql : q.lines) {
      if (ql->Intersects(*l)) return true;
    }
    for (const auto& qpoly : q.polygons) {
      if (qpoly->Intersects(*l)) return true;
    }
  }
  for (const auto& poly : g.polygons) {
    for (const PointShape& qp : q.points) {
      if (poly->MayIntersect(S2Cell(qp.cell))) return true;
    }
    for (const auto& ql : q.lines) {
      if (poly->Intersects(*ql)) return true;
    }
    for (const auto& qpoly : q.polygons) {
      if (qpoly->Intersects(*poly)) return true;
    }
  }
  return false;
}

// Sorted, no cell inside another (S2CellUnion's normal form).
void Normalise(std::vector<S2CellId> ids, std::vector<uint64_t>* cells) {
  S2CellUnion::Normalize(&ids);
  cells->clear();
  for (S2CellId id : ids) cells->push_back(id.id());
}

void Cover(const S2Region& region, const CoverParams& params, std::vector<S2CellId>* out) {
  S2RegionCoverer::Options options;
  options.set_min_level(std::clamp(params.coarsest_level, 0, S2CellId::kMaxLevel));
  options.set_max_level(std::clamp(params.finest_level, 0, S2CellId::kMaxLevel));
  options.set_max_cells(std::max(1, params.max_cells));
  S2RegionCoverer coverer(options);
  coverer.GetCovering(region, out);
}

// The rendering of {$geoWithin: operand} / {$geoIntersects: operand} in
// messages.
std::string QueryText(Region::Op op, const bson_iter_t& operand) {
  return std::string("{ ") + (op == Region::Op::kWithin ? "$geoWithin" : "$geoIntersects") + ": " + Json(operand) +
         " }";
}

}  // namespace

// ---------------------------------------------------------------------------
// Geometry

Geometry::Geometry(std::shared_ptr<const GeometryData> data) : data_(std::move(data)) {}
Geometry::Geometry(const Geometry&) = default;
Geometry& Geometry::operator=(const Geometry&) = default;
Geometry::Geometry(Geometry&&) noexcept = default;
Geometry& Geometry::operator=(Geometry&&) noexcept = default;
Geometry::~Geometry() = default;

Result<Geometry> Geometry::Parse(const bson_iter_t& value) {
  const bson_type_t type = bson_iter_type(&value);
  if (!IsContainer(type)) return Bad("geo element must be an array or object: " + ElementText(value));
  Result<std::shared_ptr<GeometryData>> parsed =
      type == BSON_TYPE_ARRAY || FirstIsNumber(value) ? ParseLegacyPoint(value, true) : ParseGeoJson(value);
  if (!parsed.ok()) return parsed.status();
  return Geometry(std::move(parsed).value());
}

bool Geometry::legacy_point() const { return data_->legacy; }
bool Geometry::big_polygon() const { return data_->big; }

Status Geometry::SphereCells(const CoverParams& params, std::vector<uint64_t>* cells) const {
  const GeometryData& g = *data_;
  if (g.big) return Bad("can't index geometry with strict winding order");
  if (!g.OnSphere()) return Bad("can't project geometry into spherical CRS: " + g.source);
  if (g.kind == GeometryData::Kind::kPoint) {
    cells->push_back(g.points[0].cell.id());
    return Status::OK();
  }
  std::vector<S2CellId> covering;
  Cover(*g.Region(), params, &covering);
  for (S2CellId id : covering) cells->push_back(id.id());
  return Status::OK();
}

Status ParseStoredValues(const bson_iter_t& value, std::vector<Geometry>* out) {
  Result<Geometry> whole = Geometry::Parse(value);
  bool any = whole.ok();
  if (any) out->push_back(*whole);
  if (bson_iter_type(&value) == BSON_TYPE_ARRAY) {
    bson_iter_t element;
    bson_iter_recurse(&value, &element);
    while (bson_iter_next(&element)) {
      if (!IsContainer(bson_iter_type(&element))) continue;
      Result<Geometry> one = Geometry::Parse(element);
      if (!one.ok()) continue;
      out->push_back(*one);
      any = true;
    }
  }
  return any ? Status::OK() : whole.status();
}

// ---------------------------------------------------------------------------
// Region

Region::Region(std::shared_ptr<const RegionData> data) : data_(std::move(data)) {}
Region::Region(const Region&) = default;
Region& Region::operator=(const Region&) = default;
Region::Region(Region&&) noexcept = default;
Region& Region::operator=(Region&&) noexcept = default;
Region::~Region() = default;

namespace {

// One geo specifier (GeometryContainer::parseFromQuery) into `r`.
Status ParseSpecifier(const bson_iter_t& elem, RegionData* r) {
  const std::string_view name = bson_iter_key(&elem);
  const bool container = IsContainer(bson_iter_type(&elem));
  using Shape = RegionData::Shape;
  if (!container ||
      (name != "$box" && name != "$polygon" && name != "$center" && name != "$centerSphere" && name != "$geometry")) {
    return Bad("unknown geo specifier: " + ElementText(elem));
  }
  bson_iter_t it;
  bson_iter_recurse(&elem, &it);
  // The next value of the specifier's array/object, or null at its end.
  auto next = [&it]() -> const bson_iter_t* { return bson_iter_next(&it) ? &it : nullptr; };
  if (name == "$box") {
    FlatPoint a, b;
    DOCKET_RETURN_IF_ERROR(ParseFlatPoint(next(), false, &a));
    DOCKET_RETURN_IF_ERROR(ParseFlatPoint(next(), false, &b));
    r->shape = Shape::kBox;
    r->box_min = {std::min(a.x, b.x), std::min(a.y, b.y)};
    r->box_max = {std::max(a.x, b.x), std::max(a.y, b.y)};
    return Status::OK();
  }
  if (name == "$polygon") {
    std::vector<FlatPoint> points;
    while (const bson_iter_t* p = next()) {
      FlatPoint flat;
      DOCKET_RETURN_IF_ERROR(ParseFlatPoint(p, false, &flat));
      points.push_back(flat);
    }
    if (points.size() < 3) return Bad("Polygon must have at least 3 points");
    r->shape = Shape::kFlatPolygon;
    r->flat_polygon = std::move(points);
    return Status::OK();
  }
  if (name == "$center" || name == "$centerSphere") {
    FlatPoint c;
    DOCKET_RETURN_IF_ERROR(ParseFlatPoint(next(), false, &c));
    const bool sphere = name == "$centerSphere";
    if (sphere) DOCKET_RETURN_IF_ERROR(CheckLngLat(c));
    const bson_iter_t* radius = next();
    const double rad =
        radius != nullptr && bson::IsNumber(bson_iter_type(radius)) ? bson::NumberAsDouble(*radius) : std::nan("");
    if (!(rad >= 0)) return Bad("radius must be a non-negative number");
    if (next() != nullptr) return Bad("Only 2 fields allowed for circular region");
    r->center = c;
    r->radius = rad;
    if (sphere) {
      r->shape = Shape::kCenterSphere;
      r->cap = S2Cap(ToSphere(c.x, c.y), S1Angle::Radians(std::min(rad, kPi)));
    } else {
      r->shape = Shape::kCenter;
    }
    return Status::OK();
  }
  // $geometry: a legacy point (flat) or GeoJSON.
  r->shape = Shape::kSphere;
  if (bson_iter_type(&elem) == BSON_TYPE_ARRAY || FirstIsNumber(elem)) {
    auto point = ParseLegacyPoint(elem, false);
    if (!point.ok()) return point.status();
    r->geometry = std::move(point).value();
  } else {
    auto geo = ParseGeoJson(elem);
    if (!geo.ok()) return geo.status();
    r->geometry = std::move(geo).value();
  }
  return Status::OK();
}

}  // namespace

Result<Region> Region::Parse(Op op, const bson_iter_t& operand) {
  if (bson_iter_type(&operand) != BSON_TYPE_DOCUMENT) return Bad("geometry must be an object");
  auto r = std::make_shared<RegionData>();
  r->op = op;
  bool parsed = false;
  bson_iter_t it;
  bson_iter_recurse(&operand, &it);
  while (bson_iter_next(&it)) {
    // Deprecated, ignored. (mongod checks for a second shape first, so that
    // {$geoWithin: {$box: ..., $uniqueDocs: true}} fails there while the
    // same under $within works; Op cannot tell the two names apart, so
    // both are accepted here.)
    if (std::strcmp(bson_iter_key(&it), "$uniqueDocs") == 0) continue;
    if (parsed && op == Op::kWithin) {
      return Bad("$geoWithin doesn't accept multiple shapes $geoWithin: " + Json(operand));
    }
    *r = RegionData();
    r->op = op;
    DOCKET_RETURN_IF_ERROR(ParseSpecifier(it, r.get()));
    parsed = true;
  }
  if (!parsed) return Bad("geo query doesn't have any geometry");
  using Shape = RegionData::Shape;
  const GeometryData* g = r->geometry.get();
  if (op == Op::kWithin) {
    // $within needs an area: a polygon, box or circle.
    const bool area = r->shape != Shape::kSphere || !g->polygons.empty();
    if (!area) return Bad("$within not supported with provided geometry: " + QueryText(op, operand));
  } else {
    // $geoIntersects works on the sphere only.
    const bool sphere = r->shape == Shape::kCenterSphere || (r->shape == Shape::kSphere && g->Spherical());
    if (!sphere) return Bad("$geoIntersect not supported with provided geometry: " + QueryText(op, operand));
  }
  return Region(std::move(r));
}

Region::Op Region::op() const { return data_->op; }

FlatBox SphericalCapBounds(double x, double y, double radians) {
  const double degrees = radians * 180.0 / M_PI;
  FlatBox box{-180, std::max(-90.0, y - degrees), 180, std::min(90.0, y + degrees)};
  if (y + degrees >= 90 || y - degrees <= -90) return box;  // a pole: every longitude
  const double spread = std::sin(radians) / std::cos(y * M_PI / 180.0);
  if (!(spread < 1)) return box;
  const double half = std::asin(spread) * 180.0 / M_PI;
  if (x - half < -180 || x + half > 180) return box;  // across the antimeridian
  box.min_x = x - half;
  box.max_x = x + half;
  return box;
}

std::optional<FlatBox> Region::FlatBounds() const {
  const RegionData& r = *data_;
  switch (r.shape) {
    case RegionData::Shape::kBox:
      return FlatBox{r.box_min.x, r.box_min.y, r.box_max.x, r.box_max.y};
    case RegionData::Shape::kFlatPolygon: {
      FlatBox box{r.flat_polygon[0].x, r.flat_polygon[0].y, r.flat_polygon[0].x, r.flat_polygon[0].y};
      for (const FlatPoint& p : r.flat_polygon) {
        box.min_x = std::min(box.min_x, p.x);
        box.min_y = std::min(box.min_y, p.y);
        box.max_x = std::max(box.max_x, p.x);
        box.max_y = std::max(box.max_y, p.y);
      }
      return box;
    }
    case RegionData::Shape::kCenter:
      return FlatBox{r.center.x - r.radius, r.center.y - r.radius, r.center.x + r.radius, r.center.y + r.radius};
    case RegionData::Shape::kCenterSphere:
      return SphericalCapBounds(r.center.x, r.center.y, r.radius);
    case RegionData::Shape::kSphere:
      return std::nullopt;
  }
  return std::nullopt;
}

bool Region::spherical() const {
  return data_->shape == RegionData::Shape::kSphere || data_->shape == RegionData::Shape::kCenterSphere;
}

bool Region::Matches(const Geometry& stored) const {
  const RegionData& r = *data_;
  const GeometryData& g = *stored.data_;
  if (g.big) return false;
  using Shape = RegionData::Shape;
  switch (r.shape) {
    case Shape::kBox:
      return g.Flat() && BoxContains(r.box_min, r.box_max, g.points[0].flat);
    case Shape::kFlatPolygon:
      return g.Flat() && FlatPolygonContains(r.flat_polygon, g.points[0].flat);
    case Shape::kCenter:
      return g.Flat() && FlatWithin(r.center, g.points[0].flat, r.radius);
    case Shape::kCenterSphere:
      // mongod has no cap case in its intersects: $geoIntersects with a
      // $centerSphere matches nothing.
      return r.op == Op::kWithin && g.OnSphere() && CapContains(r.cap, g);
    case Shape::kSphere:
      if (!g.OnSphere()) return false;
      return r.op == Op::kWithin ? QueryContains(*r.geometry, g) : QueryIntersects(*r.geometry, g);
  }
  return false;
}

void Region::Covering(std::vector<uint64_t>* cells) const {
  const RegionData& r = *data_;
  std::vector<S2CellId> ids;
  if (r.shape == RegionData::Shape::kCenterSphere) {
    Cover(r.cap, kQueryCoverParams, &ids);
  } else if (r.shape == RegionData::Shape::kSphere) {
    Cover(*r.geometry->Region(), kQueryCoverParams, &ids);
  }
  Normalise(std::move(ids), cells);
}

// ---------------------------------------------------------------------------
// NearQuery

NearQuery::NearQuery(std::shared_ptr<const NearData> data) : data_(std::move(data)) {}
NearQuery::NearQuery(const NearQuery&) = default;
NearQuery& NearQuery::operator=(const NearQuery&) = default;
NearQuery::NearQuery(NearQuery&&) noexcept = default;
NearQuery& NearQuery::operator=(NearQuery&&) noexcept = default;
NearQuery::~NearQuery() = default;

namespace {

bool IsNearName(std::string_view n) { return n == "$near" || n == "$nearSphere" || n == "$geoNear"; }

// [x, y, maxDistance]: exactly three numbers.
bool ParsePointWithMaxDistance(const bson_iter_t& value, FlatPoint* flat, double* max) {
  bson_iter_t it;
  if (!bson_iter_recurse(&value, &it)) return false;
  double v[3];
  for (double& d : v) {
    if (!bson_iter_next(&it) || !bson::IsNumber(bson_iter_type(&it))) return false;
    d = bson::NumberAsDouble(it);
  }
  if (bson_iter_next(&it)) return false;
  *flat = {v[0], v[1]};
  *max = v[2];
  return true;
}

// The legacy forms (parseLegacyQuery): the point is the operator's value,
// siblings give the bounds. Returns false (and leaves *status OK) when the
// operator object is not in this form; errors here carry mongod's codes.
bool ParseLegacyNear(const bson_iter_t& operators, NearData* n, bool* near_sphere, Status* status) {
  bool has_geometry = false;
  bson_iter_t it;
  bson_iter_recurse(&operators, &it);
  while (bson_iter_next(&it)) {
    const std::string_view name = bson_iter_key(&it);
    const bson_type_t type = bson_iter_type(&it);
    if (IsNearName(name)) {
      if (!IsContainer(type)) return false;
      bool geojson = false;
      FlatPoint flat;
      bool ok = ParseQueryPoint(it, &flat, &geojson).ok();
      if (!ok) {
        geojson = false;
        ok = ParsePointWithMaxDistance(it, &flat, &n->max_distance);
      }
      if (ok) {
        if (!(n->max_distance >= 0.0)) {
          *status = Status(static_cast<ErrorCode>(18522), "max distance must be non-negative");
          return false;
        }
        n->flat = flat;
        n->geojson = geojson;
        has_geometry = true;
        *near_sphere = name == "$nearSphere";
      }
    } else if (name == "$minDistance" || name == "$maxDistance") {
      const bool min = name == "$minDistance";
      if (!bson::IsNumber(type)) {
        *status = Status(static_cast<ErrorCode>(min ? 16893 : 16895), std::string(name) + " must be a number");
        return false;
      }
      const double v = bson::NumberAsDouble(it);
      (min ? n->min_distance : n->max_distance) = v;
      if (!(v >= 0.0)) {
        *status = Status(static_cast<ErrorCode>(min ? 16894 : 16896), std::string(name) + " must be non-negative");
        return false;
      }
    } else if (name == "$uniqueDocs") {
      // deprecated, ignored
    } else {
      *status = Status(static_cast<ErrorCode>(34413), "invalid argument in geo near query: " + std::string(name));
      return false;
    }
  }
  return has_geometry;
}

// {$near: {$geometry: <GeoJSON point>, $minDistance, $maxDistance}}
// (parseNewQuery): the only field of the operator object.
Status ParseNewNear(const bson_iter_t& operators, NearData* n) {
  bson_iter_t it;
  bson_iter_recurse(&operators, &it);
  if (!bson_iter_next(&it)) return Bad("empty geo near query object");
  bson_iter_t op = it;
  if (bson_iter_next(&it)) {
    return Bad("geo near accepts just one argument when querying for a GeoJSON point. Extra field found: " +
               ElementText(it));
  }
  if (!IsContainer(bson_iter_type(&op))) return Bad("geo near query argument is not an object");
  if (!IsNearName(bson_iter_key(&op))) {
    return Bad(std::string("invalid geo near query operator: ") + bson_iter_key(&op));
  }
  bool has_geometry = false;
  bson_iter_t arg;
  bson_iter_recurse(&op, &arg);
  while (bson_iter_next(&arg)) {
    const std::string_view name = bson_iter_key(&arg);
    if (name == "$geometry") {
      if (!IsContainer(bson_iter_type(&arg))) continue;
      bool geojson = false;
      FlatPoint flat;
      Status s = ParseQueryPoint(arg, &flat, &geojson);
      if (!s.ok()) {
        return Bad("invalid point in geo near query $geometry argument: " + Json(arg) + "  " + s.message());
      }
      if (!geojson) return Bad("$near requires geojson point, given " + Json(arg));
      n->flat = flat;
      n->geojson = true;
      has_geometry = true;
    } else if (name == "$minDistance" || name == "$maxDistance") {
      if (!bson::IsNumber(bson_iter_type(&arg))) return Bad(std::string(name) + " must be a number");
      const double v = bson::NumberAsDouble(arg);
      if (!(v >= 0.0 && std::isfinite(v))) return Bad(std::string(name) + " must be non-negative");
      (name == "$minDistance" ? n->min_distance : n->max_distance) = v;
    } else {
      return Bad("invalid argument in geo near query: " + std::string(name));
    }
  }
  if (!has_geometry) return Bad("$geometry is required for geo near query");
  return Status::OK();
}

}  // namespace

Result<NearQuery> NearQuery::Parse(const bson_iter_t& operators) {
  if (bson_iter_type(&operators) != BSON_TYPE_DOCUMENT) return Bad("geo near query argument is not an object");
  auto n = std::make_shared<NearData>();
  bool near_sphere = false;
  Status status;
  if (!ParseLegacyNear(operators, n.get(), &near_sphere, &status)) {
    if (!status.ok()) return status;
    *n = NearData();
    near_sphere = false;
    DOCKET_RETURN_IF_ERROR(ParseNewNear(operators, n.get()));
  }
  if (near_sphere && !n->geojson && !ValidLngLat(n->flat.x, n->flat.y)) {
    return Bad("Legacy point is out of bounds for spherical query");
  }
  n->sphere = n->geojson || near_sphere;
  if (n->sphere) n->point = ToSphere(n->flat.x, n->flat.y);
  return NearQuery(std::move(n));
}

bool NearQuery::geojson() const { return data_->geojson; }

std::optional<FlatBox> NearQuery::FlatBoundsWithin(double outer) const {
  const NearData& n = *data_;
  if (n.geojson) return std::nullopt;
  const double inf = std::numeric_limits<double>::infinity();
  if (std::isinf(outer)) return FlatBox{-inf, -inf, inf, inf};
  if (n.sphere) return SphericalCapBounds(n.flat.x, n.flat.y, outer);
  return FlatBox{n.flat.x - outer, n.flat.y - outer, n.flat.x + outer, n.flat.y + outer};
}
bool NearQuery::spherical() const { return data_->sphere; }
double NearQuery::min_distance() const { return data_->min_distance; }
double NearQuery::max_distance() const { return data_->max_distance; }

std::optional<double> NearQuery::Distance(const Geometry& stored) const {
  const NearData& n = *data_;
  const GeometryData& g = *stored.data_;
  if (!n.sphere) {
    if (!g.Flat()) return std::nullopt;
    const double dx = g.points[0].flat.x - n.flat.x, dy = g.points[0].flat.y - n.flat.y;
    return std::sqrt(dx * dx + dy * dy);
  }
  if (!g.OnSphere()) return std::nullopt;
  double best = std::numeric_limits<double>::infinity();
  for (const PointShape& p : g.points) best = std::min(best, S1Angle(n.point, p.point).radians());
  for (const auto& l : g.lines) best = std::min(best, LineDistance(*l, n.point).radians());
  for (const auto& poly : g.polygons) best = std::min(best, poly->GetDistance(n.point).radians());
  return n.geojson ? best * kEarthRadiusMeters : best;
}

void NearQuery::CapCovering(double outer, std::vector<uint64_t>* cells) const {
  const NearData& n = *data_;
  const double radians = n.geojson ? outer / kEarthRadiusMeters : outer;
  std::vector<S2CellId> ids;
  if (!(radians < kPi)) {
    for (int face = 0; face < 6; ++face) ids.push_back(S2CellId::FromFace(face));
  } else {
    Cover(S2Cap(n.point, S1Angle::Radians(std::max(0.0, radians))), kQueryCoverParams, &ids);
  }
  Normalise(std::move(ids), cells);
}

// ---------------------------------------------------------------------------

void CellRangesFor(uint64_t cell, int coarsest_level, std::vector<CellRange>* out) {
  const S2CellId id(cell);
  out->push_back({id.range_min().id(), id.range_max().id()});
  for (int level = id.level() - 1; level >= std::max(0, coarsest_level); --level) {
    const uint64_t parent = id.parent(level).id();
    out->push_back({parent, parent});
  }
}

}  // namespace docket::geo
