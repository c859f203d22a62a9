// geo_bench: geospatial queries over the same points, 1,000,000 of them by
// default (deterministic pseudo-random lng/lat in degrees: a quarter uniform
// on the sphere, the rest in 40 city-like clusters of different weights and
// spreads), in Docket's embedded engine ({_id, loc: GeoJSON Point, n}, a
// 2dsphere index on loc, compacted after the load), PostgreSQL 15 with
// PostGIS 3 (a geography(Point,4326) column with a GiST index; over loopback
// through libpq, prepared statements) and SQLite 3 (an R*Tree virtual table
// holding each point as a degenerate box in degrees, the exact coordinates
// and n in auxiliary columns), in one run. bench/run_geo_bench.sh starts
// PostgreSQL and runs this.
//
//   geo_bench <postgres-conninfo> <scratch-dir> [seconds-per-case] [points]
//
// The cases, each going round the same eight probe centres:
//   (a) the nearest 10 within 5 km: $near {$geometry, $maxDistance: 5000},
//       limit 10 | ST_DWithin(geog, p, r, false) ORDER BY geog <-> p LIMIT 10
//       | the R*Tree candidates in the cap's bounding box, the exact
//       great-circle distance, a sort and the first 10 in C++;
//   (b) every point within 20 km: $geoWithin {$centerSphere} |
//       ST_DWithin(geog, p, r, false) | the R*Tree box, then the exact
//       great-circle filter in C++;
//   (c) every point in a 1-degree square: $geoWithin {$geometry: Polygon} |
//       ST_Covers(square::geography, geog) | the R*Tree box, then the exact
//       spherical-polygon test in C++.
// SQLite's exact filters run in C++ on the rows the R*Tree query returns (its
// auxiliary columns hold the coordinates as doubles), not in SQL (SQLite has
// no great-circle function; a user function would do the same arithmetic
// behind a call per row). A square's edges are great-circle arcs in Docket
// (MongoDB's 2dsphere rule) and in PostGIS's geography alike, so SQLite's
// test is the same: inside the four planes of the edges, not inside the
// lng/lat box (an arc between two corners at one latitude bulges poleward of
// it, so the R*Tree box is widened to cover it).
//
// Earth radius. MongoDB (so Docket) turns metres into angles with its own
// sphere, R = 6378100 m (geoconstants.h); PostGIS's geography with
// use_spheroid=false uses a sphere of the WGS84 mean radius (2a + b) / 3 =
// 6371008.77 m, and by default (use_spheroid=true) the spheroid itself,
// where a distance depends on direction and latitude and no radius makes the
// two ask the same question. So every query here is an angle on the sphere:
// 5 km and 20 km are turned into angles with MongoDB's radius (what Docket's
// $maxDistance does; $centerSphere takes that angle in radians), PostgreSQL
// gets ST_DWithin(..., angle * R_pg, false) with R_pg measured on the server
// (ST_Distance along a quarter of the equator, use_spheroid=false, over
// pi/2), and SQLite compares the angle itself. The three then ask the same question and
// their counts must be equal, not merely close: no tolerance. (Ordering by
// geog <-> p is spherical in PostGIS too, so the nearest 10 come in the same
// order as Docket's.) A point within rounding error of a boundary (the three
// compute the angle differently: ~1e-15 relative, nanometres) could still
// come out on different sides; for these points the chance is remote, and
// the check reports any difference with how far each differing point lies
// from the boundary, so such a case is told apart from a wrong answer.
//
// Prints two Markdown tables: each system's rate and Docket's ratio to the
// fastest other, then the row count each system gives for each probe.
#include <bson/bson.h>
#include <fmt/core.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "bench/measure.h"
#include "bench/query_data.h"
#include "bench/sql_clients.h"
#include "docket/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
using docket::bench::Pg;
using docket::bench::PgPrepare;
using docket::bench::PgRows;
using docket::bench::SqlCheck;
double g_seconds = 2.0;
int64_t g_points = 1000000;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "geo_bench: {}\n", what);
  std::exit(1);
}

double Measure(const std::function<void(int64_t)>& op) { return docket::bench::WarmOpsPerSecond(g_seconds, op); }

constexpr double kPi = std::numbers::pi;
constexpr double kRad = kPi / 180;
// MongoDB's earth radius (src/mongo/db/geo/geoconstants.h), which Docket's
// $near turns metres into angles with.
constexpr double kMongoEarthRadius = 6378100.0;
constexpr double kNearMeters = 5000, kCapMeters = 20000;
constexpr double kNearAngle = kNearMeters / kMongoEarthRadius;  // radians
constexpr double kCapAngle = kCapMeters / kMongoEarthRadius;
constexpr double kSquareDegrees = 1.0;
constexpr int kNearest = 10;

// ---- Sphere arithmetic (for the points, SQLite's exact filters, the check) ----

struct Vec {
  double x, y, z;
};
Vec ToUnit(double lng, double lat) {
  const double phi = lat * kRad, lambda = lng * kRad;
  return {std::cos(phi) * std::cos(lambda), std::cos(phi) * std::sin(lambda), std::sin(phi)};
}
Vec Cross(const Vec& a, const Vec& b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
double Dot(const Vec& a, const Vec& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
// The great-circle angle between two unit vectors, as S2 (hence MongoDB's
// 2dsphere distances) computes it: atan2(|a x b|, a . b).
double Angle(const Vec& a, const Vec& b) {
  const Vec c = Cross(a, b);
  return std::atan2(std::sqrt(Dot(c, c)), Dot(a, b));
}

// ---- The points ----

struct GeoPoint {
  double lng, lat;
  int32_t n;
};

// Cluster centres (lng, lat) and spreads (one standard deviation, degrees of
// latitude). Weights fall off as (rank + 1)^-0.6, so the first holds about
// nine times the last.
struct City {
  const char* name;
  double lng, lat, sigma;
};
constexpr City kCities[] = {
    {"Tokyo", 139.69, 35.69, 0.35},        {"Delhi", 77.21, 28.61, 0.3},
    {"Shanghai", 121.47, 31.23, 0.3},      {"Sao Paulo", -46.63, -23.55, 0.3},
    {"Mexico City", -99.13, 19.43, 0.25},  {"Cairo", 31.24, 30.04, 0.2},
    {"Mumbai", 72.88, 19.08, 0.2},         {"Beijing", 116.41, 39.90, 0.3},
    {"Dhaka", 90.41, 23.81, 0.15},         {"Osaka", 135.50, 34.69, 0.25},
    {"New York", -74.01, 40.71, 0.4},      {"Karachi", 67.01, 24.86, 0.2},
    {"Buenos Aires", -58.38, -34.60, 0.3}, {"Istanbul", 28.98, 41.01, 0.25},
    {"Kolkata", 88.36, 22.57, 0.2},        {"Lagos", 3.38, 6.52, 0.2},
    {"Manila", 120.98, 14.60, 0.2},        {"Rio de Janeiro", -43.17, -22.91, 0.25},
    {"Moscow", 37.62, 55.76, 0.35},        {"Paris", 2.35, 48.86, 0.3},
    {"London", -0.13, 51.51, 0.3},         {"Lima", -77.04, -12.05, 0.2},
    {"Bangkok", 100.50, 13.76, 0.25},      {"Seoul", 126.98, 37.57, 0.25},
    {"Jakarta", 106.85, -6.21, 0.25},      {"Los Angeles", -118.24, 34.05, 0.5},
    {"Bogota", -74.07, 4.71, 0.15},        {"Tehran", 51.39, 35.69, 0.2},
    {"Johannesburg", 28.05, -26.20, 0.3},  {"Sydney", 151.21, -33.87, 0.4},
    {"Berlin", 13.40, 52.52, 0.25},        {"Madrid", -3.70, 40.42, 0.2},
    {"Nairobi", 36.82, -1.29, 0.15},       {"Toronto", -79.38, 43.65, 0.3},
    {"Chicago", -87.63, 41.88, 0.35},      {"Singapore", 103.82, 1.35, 0.1},
    {"Santiago", -70.67, -33.45, 0.2},     {"Reykjavik", -21.94, 64.15, 0.1},
    {"Anchorage", -149.90, 61.22, 0.15},   {"Auckland", 174.76, -36.85, 0.2},
};
constexpr size_t kCityCount = std::size(kCities);
constexpr double kUniformShare = 0.25;

// splitmix64: the i-th point depends on i alone.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::vector<GeoPoint> MakePoints(int64_t count) {
  std::array<double, kCityCount> cumulative{};
  double total = 0;
  for (size_t c = 0; c < kCityCount; ++c) cumulative[c] = total += std::pow(static_cast<double>(c + 1), -0.6);
  std::vector<GeoPoint> points;
  points.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    uint64_t state = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL;
    auto next = [&state] { return Mix(state += 0x9E3779B97F4A7C15ULL); };
    auto unit = [&next] { return static_cast<double>(next() >> 11) * 0x1.0p-53; };  // [0, 1)
    GeoPoint p{0, 0, static_cast<int32_t>(next() % 1000)};
    if (unit() < kUniformShare) {  // uniform on the sphere: lat = asin(uniform in [-1, 1])
      p.lng = 360 * unit() - 180;
      p.lat = std::asin(2 * unit() - 1) / kRad;
    } else {
      const double pick = unit() * total;
      const City& c = kCities[std::min<size_t>(
          static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), pick) - cumulative.begin()),
          kCityCount - 1)];
      // Box-Muller: two independent normal offsets.
      const double r = std::sqrt(-2 * std::log(1 - unit())), theta = 2 * kPi * unit();
      p.lat = c.lat + c.sigma * r * std::cos(theta);
      p.lng = c.lng + c.sigma * r * std::sin(theta) / std::cos(c.lat * kRad);
      if (p.lat > 90) p.lat = 180 - p.lat, p.lng += 180;
      if (p.lat < -90) p.lat = -180 - p.lat, p.lng += 180;
      p.lng = std::remainder(p.lng, 360.0);  // into [-180, 180]
    }
    points.push_back(p);
  }
  return points;
}

// ---- The probes ----

// A bounding box in degrees (no probe comes near the antimeridian or a pole,
// so one box always does).
struct Box {
  double lng0, lng1, lat0, lat1;
};

struct Probe {
  std::string label;
  double lng, lat;
  Vec centre;
  Box near_box, cap_box, square_box;
  double x0, y0, x1, y1;            // the square's corners
  std::array<Vec, 4> edge_normals;  // corner i x corner i+1, counter-clockwise: inside has all >= 0
};

// The bounding box of the cap of `angle` radians round (lng, lat): latitudes
// lat -+ angle, longitudes lng -+ asin(sin(angle) / cos(lat)); widened by a
// hair so that rounding never drops a point the exact test keeps.
Box CapBox(double lng, double lat, double angle) {
  const double dlat = angle / kRad, dlng = std::asin(std::sin(angle) / std::cos(lat * kRad)) / kRad, eps = 1e-9;
  return {lng - dlng - eps, lng + dlng + eps, lat - dlat - eps, lat + dlat + eps};
}

Probe MakeProbe(std::string label, double lng, double lat) {
  Probe p{std::move(label), lng, lat, ToUnit(lng, lat), {}, {}, {}, 0, 0, 0, 0, {}};
  if (std::fabs(lat) + kSquareDegrees > 80 || std::fabs(lng) + kSquareDegrees > 179)
    Die("probe too near a pole or the antimeridian: " + p.label);
  p.near_box = CapBox(lng, lat, kNearAngle);
  p.cap_box = CapBox(lng, lat, kCapAngle);
  const double h = kSquareDegrees / 2;
  p.x0 = lng - h, p.x1 = lng + h, p.y0 = lat - h, p.y1 = lat + h;
  // An arc between two corners at latitude y reaches atan(tan(y) / cos(dlng / 2))
  // at its middle: poleward of y.
  auto bulge = [&](double y) { return std::atan(std::tan(y * kRad) / std::cos(kSquareDegrees / 2 * kRad)) / kRad; };
  const double eps = 1e-9;
  p.square_box = {p.x0 - eps, p.x1 + eps, std::min(p.y0, bulge(p.y0)) - eps, std::max(p.y1, bulge(p.y1)) + eps};
  const std::array<Vec, 4> corners = {ToUnit(p.x0, p.y0), ToUnit(p.x1, p.y0), ToUnit(p.x1, p.y1), ToUnit(p.x0, p.y1)};
  for (size_t i = 0; i < 4; ++i) p.edge_normals[i] = Cross(corners[i], corners[(i + 1) % 4]);
  return p;
}

// Denser and sparser places, both hemispheres, a cluster's edge, and open sea
// (uniform points only: (a) finds no point within 5 km there, (b) and (c) a
// handful).
std::vector<Probe> MakeProbes() {
  return {MakeProbe("Tokyo", 139.69, 35.69),
          MakeProbe("Paris", 2.35, 48.86),
          MakeProbe("New York +0.25 E", -73.76, 40.71),
          MakeProbe("Sao Paulo", -46.63, -23.55),
          MakeProbe("Sydney -0.2 N", 151.21, -34.07),
          MakeProbe("Reykjavik", -21.94, 64.15),
          MakeProbe("Nairobi +0.3 E", 37.12, -1.29),
          MakeProbe("South Atlantic", -20.0, -30.0)};
}

size_t Pick(int64_t n, size_t k) {
  const int64_t m = static_cast<int64_t>(k);
  return static_cast<size_t>(((n % m) + m) % m);
}

bool InSquare(const Probe& p, const Vec& v) {
  for (const Vec& normal : p.edge_normals) {
    if (Dot(normal, v) < 0) return false;
  }
  return true;
}

// ---- Docket ----

// {type: "Point", coordinates: [lng, lat]} as `key` of `parent`.
void AppendPoint(bson_t* parent, const char* key, double lng, double lat) {
  bson_t point, coordinates;
  BSON_APPEND_DOCUMENT_BEGIN(parent, key, &point);
  BSON_APPEND_UTF8(&point, "type", "Point");
  BSON_APPEND_ARRAY_BEGIN(&point, "coordinates", &coordinates);
  BSON_APPEND_DOUBLE(&coordinates, "0", lng);
  BSON_APPEND_DOUBLE(&coordinates, "1", lat);
  bson_append_array_end(&point, &coordinates);
  bson_append_document_end(parent, &point);
}

docket::Document Take(bson_t* b) {
  auto d = docket::Document::FromBson(b);
  bson_destroy(b);
  if (!d.ok()) Die(d.status().ToString());
  return *d;
}

// The filters, built as BSON as a driver hands them over.
// {loc: {$near: {$geometry: <point>, $maxDistance: metres}}}
docket::Document NearFilter(const Probe& p) {
  bson_t f = BSON_INITIALIZER, loc, near;
  BSON_APPEND_DOCUMENT_BEGIN(&f, "loc", &loc);
  BSON_APPEND_DOCUMENT_BEGIN(&loc, "$near", &near);
  AppendPoint(&near, "$geometry", p.lng, p.lat);
  BSON_APPEND_DOUBLE(&near, "$maxDistance", kNearMeters);
  bson_append_document_end(&loc, &near);
  bson_append_document_end(&f, &loc);
  return Take(&f);
}

// {loc: {$geoWithin: {$centerSphere: [[lng, lat], radians]}}}
docket::Document CapFilter(const Probe& p) {
  bson_t f = BSON_INITIALIZER, loc, within, sphere, centre;
  BSON_APPEND_DOCUMENT_BEGIN(&f, "loc", &loc);
  BSON_APPEND_DOCUMENT_BEGIN(&loc, "$geoWithin", &within);
  BSON_APPEND_ARRAY_BEGIN(&within, "$centerSphere", &sphere);
  BSON_APPEND_ARRAY_BEGIN(&sphere, "0", &centre);
  BSON_APPEND_DOUBLE(&centre, "0", p.lng);
  BSON_APPEND_DOUBLE(&centre, "1", p.lat);
  bson_append_array_end(&sphere, &centre);
  BSON_APPEND_DOUBLE(&sphere, "1", kCapAngle);
  bson_append_array_end(&within, &sphere);
  bson_append_document_end(&loc, &within);
  bson_append_document_end(&f, &loc);
  return Take(&f);
}

// {loc: {$geoWithin: {$geometry: {type: "Polygon", coordinates: [[corners..., first]]}}}}
docket::Document SquareFilter(const Probe& p) {
  bson_t f = BSON_INITIALIZER, loc, within, geometry, rings, ring;
  BSON_APPEND_DOCUMENT_BEGIN(&f, "loc", &loc);
  BSON_APPEND_DOCUMENT_BEGIN(&loc, "$geoWithin", &within);
  BSON_APPEND_DOCUMENT_BEGIN(&within, "$geometry", &geometry);
  BSON_APPEND_UTF8(&geometry, "type", "Polygon");
  BSON_APPEND_ARRAY_BEGIN(&geometry, "coordinates", &rings);
  BSON_APPEND_ARRAY_BEGIN(&rings, "0", &ring);
  const double corners[5][2] = {{p.x0, p.y0}, {p.x1, p.y0}, {p.x1, p.y1}, {p.x0, p.y1}, {p.x0, p.y0}};
  for (int i = 0; i < 5; ++i) {
    bson_t position;
    const std::string key = std::to_string(i);
    BSON_APPEND_ARRAY_BEGIN(&ring, key.c_str(), &position);
    BSON_APPEND_DOUBLE(&position, "0", corners[i][0]);
    BSON_APPEND_DOUBLE(&position, "1", corners[i][1]);
    bson_append_array_end(&ring, &position);
  }
  bson_append_array_end(&rings, &ring);
  bson_append_array_end(&geometry, &rings);
  bson_append_document_end(&within, &geometry);
  bson_append_document_end(&loc, &within);
  bson_append_document_end(&f, &loc);
  return Take(&f);
}

std::unique_ptr<docket::Engine> LoadDocket(const std::string& path, const std::vector<GeoPoint>& points) {
  auto engine = docket::bench::OpenFreshDocket(path, 512ull << 20);
  docket::Collection c = engine->collection("bench", "points");
  auto start = Clock::now();
  std::vector<docket::Document> batch;
  for (size_t i = 0; i < points.size(); ++i) {
    bson_t b = BSON_INITIALIZER;
    BSON_APPEND_INT64(&b, "_id", static_cast<int64_t>(i));
    AppendPoint(&b, "loc", points[i].lng, points[i].lat);
    BSON_APPEND_INT32(&b, "n", points[i].n);
    batch.push_back(Take(&b));
    if (batch.size() == 1000 || i + 1 == points.size()) {
      auto r = c.InsertMany(batch);
      if (!r.ok() || !r->write_errors.empty()) Die("docket insert");
      batch.clear();
    }
  }
  // The index is built over the loaded rows, as the others' are.
  auto indexed = c.CreateIndexes({docket::bench::J(R"({"key": {"loc": "2dsphere"}, "name": "loc_2dsphere"})")});
  if (!indexed.ok()) Die(indexed.status().ToString());
  if (auto s = engine->Compact(); !s.ok()) Die(s.ToString());
  fmt::print(stderr, "docket: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
  return engine;
}

// The _ids a find returns, in its order (for the check; the timed calls
// count with DrainDocket).
std::vector<int64_t> DocketIds(docket::Result<docket::Cursor> cursor) {
  if (!cursor.ok()) Die("docket: " + cursor.status().ToString());
  std::vector<int64_t> ids;
  while (!cursor->exhausted()) {
    auto batch = cursor->NextBatch(1000);
    if (!batch.ok()) Die("docket: " + batch.status().ToString());
    for (const docket::Document& d : *batch) {
      bson_iter_t id;
      if (!d.Find("_id", &id)) Die("docket: a document without _id");
      ids.push_back(bson_iter_as_int64(&id));
    }
  }
  return ids;
}

// ---- SQLite ----

// Each point a degenerate box; R*Tree coordinates are 32-bit floats, rounded
// outwards, so the box query finds a superset and the exact filters read the
// doubles of the auxiliary columns.
sqlite3* LoadSqlite(const std::string& path, const std::vector<GeoPoint>& points) {
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  SqlCheck(sqlite3_open(path.c_str(), &db), db, "open");
  SqlCheck(sqlite3_exec(db,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-524288;"
                        "CREATE VIRTUAL TABLE points USING rtree(id, min_lng, max_lng, min_lat, max_lat,"
                        " +lng, +lat, +n)",
                        nullptr, nullptr, nullptr),
           db, "create");
  auto start = Clock::now();
  sqlite3_stmt* insert;
  SqlCheck(sqlite3_prepare_v2(db, "INSERT INTO points VALUES(?1, ?2, ?2, ?3, ?3, ?2, ?3, ?4)", -1, &insert, nullptr),
           db, "prepare");
  SqlCheck(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  for (size_t i = 0; i < points.size(); ++i) {
    sqlite3_bind_int64(insert, 1, static_cast<int64_t>(i));
    sqlite3_bind_double(insert, 2, points[i].lng);
    sqlite3_bind_double(insert, 3, points[i].lat);
    sqlite3_bind_int(insert, 4, points[i].n);
    SqlCheck(sqlite3_step(insert), db, "insert");
    sqlite3_reset(insert);
  }
  SqlCheck(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  sqlite3_finalize(insert);
  fmt::print(stderr, "sqlite: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
  return db;
}

struct LiteRow {
  int64_t id;
  double lng, lat;
  int32_t n;
  double key;  // the distance for (a); unused otherwise
};

// The rows whose box overlaps `box` and that keep(row) accepts (keep may set
// row.key).
template <typename Keep>
std::vector<LiteRow> SqliteBox(sqlite3* db, sqlite3_stmt* stmt, const Box& box, Keep keep) {
  sqlite3_bind_double(stmt, 1, box.lng0);
  sqlite3_bind_double(stmt, 2, box.lng1);
  sqlite3_bind_double(stmt, 3, box.lat0);
  sqlite3_bind_double(stmt, 4, box.lat1);
  std::vector<LiteRow> rows;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    LiteRow row{sqlite3_column_int64(stmt, 0), sqlite3_column_double(stmt, 1), sqlite3_column_double(stmt, 2),
                sqlite3_column_int(stmt, 3), 0};
    if (keep(row)) rows.push_back(row);
  }
  SqlCheck(rc, db, "step");
  sqlite3_reset(stmt);
  return rows;
}

std::vector<LiteRow> SqliteNear(sqlite3* db, sqlite3_stmt* stmt, const Probe& p) {
  auto rows = SqliteBox(db, stmt, p.near_box, [&](LiteRow& r) {
    r.key = Angle(p.centre, ToUnit(r.lng, r.lat));
    return r.key <= kNearAngle;
  });
  const auto by_distance = [](const LiteRow& a, const LiteRow& b) {
    return a.key != b.key ? a.key < b.key : a.id < b.id;
  };
  const size_t k = std::min<size_t>(rows.size(), kNearest);
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(k), rows.end(), by_distance);
  rows.resize(k);
  return rows;
}

std::vector<LiteRow> SqliteCap(sqlite3* db, sqlite3_stmt* stmt, const Probe& p) {
  return SqliteBox(db, stmt, p.cap_box, [&](LiteRow& r) { return Angle(p.centre, ToUnit(r.lng, r.lat)) <= kCapAngle; });
}

std::vector<LiteRow> SqliteSquare(sqlite3* db, sqlite3_stmt* stmt, const Probe& p) {
  return SqliteBox(db, stmt, p.square_box, [&](LiteRow& r) { return InSquare(p, ToUnit(r.lng, r.lat)); });
}

std::vector<int64_t> LiteIds(const std::vector<LiteRow>& rows) {
  std::vector<int64_t> ids;
  for (const LiteRow& r : rows) ids.push_back(r.id);
  return ids;
}

// ---- PostgreSQL ----

void LoadPostgres(PGconn* pg, const std::vector<GeoPoint>& points) {
  auto start = Clock::now();
  PQclear(Pg(pg,
             "CREATE EXTENSION IF NOT EXISTS postgis; DROP TABLE IF EXISTS points;"
             "CREATE UNLOGGED TABLE points(id bigint PRIMARY KEY, geog geography(Point, 4326), n int)"));
  // fmt's shortest round-trip form: PostGIS parses back the same doubles.
  docket::bench::PgCopyRows(pg, "COPY points(id, geog, n) FROM STDIN", static_cast<int64_t>(points.size()),
                            [&](int64_t i) {
                              const GeoPoint& p = points[static_cast<size_t>(i)];
                              return fmt::format("{}\tSRID=4326;POINT({} {})\t{}\n", i, p.lng, p.lat, p.n);
                            });
  PQclear(Pg(pg, "CREATE INDEX points_geog ON points USING gist(geog)"));
  PQclear(Pg(pg, "VACUUM ANALYZE points"));
  fmt::print(stderr, "postgres: loaded and indexed in {:.1f}s\n",
             std::chrono::duration<double>(Clock::now() - start).count());
}

// The radius of the sphere geography uses when use_spheroid is false.
double PostgisSphereRadius(PGconn* pg) {
  PGresult* r =
      Pg(pg, "SELECT ST_Distance('SRID=4326;POINT(0 0)'::geography, 'SRID=4326;POINT(90 0)'::geography, false)");
  const double quarter = std::atof(PQgetvalue(r, 0, 0));
  PQclear(r);
  const double radius = quarter / (kPi / 2);
  if (std::fabs(radius - 6371008.8) > 1) Die(fmt::format("postgres: unexpected sphere radius {}", radius));
  return radius;
}

// The ids a prepared statement returns (its first column), in order.
std::vector<int64_t> PgIds(PGconn* pg, const char* statement, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecPrepared(pg, statement, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) Die(std::string("postgres: ") + PQerrorMessage(pg));
  std::vector<int64_t> ids;
  for (int row = 0; row < PQntuples(r); ++row) ids.push_back(std::atoll(PQgetvalue(r, row, 0)));
  PQclear(r);
  return ids;
}

struct Case {
  std::string name;
  bool ordered;  // nearest first: the ids must also come in the same order
  // Probe i's ids, for the check.
  std::function<std::vector<int64_t>(size_t)> docket_ids, sqlite_ids, postgres_ids;
  // The timed calls: the n-th query (probe n mod 8); its row count.
  std::function<size_t(int64_t)> docket, sqlite, postgres;
  // Where point `id` lies against probe i's boundary, for a mismatch report.
  std::function<std::string(size_t, int64_t)> where;
};

// The ids one side has and the other lacks, with where each point lies.
void ReportDifference(const Case& c, size_t probe, const char* a_name, std::vector<int64_t> a, const char* b_name,
                      std::vector<int64_t> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::vector<int64_t> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  for (size_t i = 0; i < only.size() && i < 10; ++i) {
    fmt::print(stderr, "  {} has, {} has not: _id {} ({})\n", a_name, b_name, only[i], c.where(probe, only[i]));
  }
  if (only.size() > 10) fmt::print(stderr, "  ... and {} more\n", only.size() - 10);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) Die("usage: geo_bench <postgres-conninfo> <scratch-dir> [seconds] [points]");
  const std::string conninfo = argv[1], scratch = argv[2];
  if (argc > 3) g_seconds = std::atof(argv[3]);
  if (argc > 4) g_points = std::atoll(argv[4]);
  if (g_points <= 0) Die("points must be positive");

  const std::vector<GeoPoint> points = MakePoints(g_points);
  const std::vector<Probe> probes = MakeProbes();
  fmt::print(stderr, "data: {} points, {} probes\n", points.size(), probes.size());
  auto engine = LoadDocket(scratch + "/docket", points);
  docket::Collection coll = engine->collection("bench", "points");
  sqlite3* lite = LoadSqlite(scratch + "/sqlite.db", points);
  PGconn* pg = PQconnectdb(conninfo.c_str());
  if (PQstatus(pg) != CONNECTION_OK) Die(std::string("postgres: ") + PQerrorMessage(pg));
  LoadPostgres(pg, points);
  const double pg_radius = PostgisSphereRadius(pg);
  fmt::print(
      stderr,
      "postgres: geography's sphere has radius {:.4f} m; 5 km / 20 km at MongoDB's {} m are {:.4f} / {:.4f} m there\n",
      pg_radius, kMongoEarthRadius, kNearAngle * pg_radius, kCapAngle * pg_radius);

  // Every query returns whole rows: Docket's documents, PostgreSQL's
  // (id, geog, n), SQLite's (id, lng, lat, n).
  sqlite3_stmt* lite_box = nullptr;
  SqlCheck(sqlite3_prepare_v2(lite,
                              "SELECT id, lng, lat, n FROM points"
                              " WHERE min_lng <= ?2 AND max_lng >= ?1 AND min_lat <= ?4 AND max_lat >= ?3",
                              -1, &lite_box, nullptr),
           lite, "prepare");
  const std::string centre = "ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)::geography";
  PgPrepare(pg, "near",
            ("SELECT id, geog, n FROM points WHERE ST_DWithin(geog, " + centre +
             ", $3::float8, false) ORDER BY geog <-> " + centre + " LIMIT 10")
                .c_str(),
            3);
  PgPrepare(pg, "cap",
            ("SELECT id, geog, n FROM points WHERE ST_DWithin(geog, " + centre + ", $3::float8, false)").c_str(), 3);
  PgPrepare(pg, "square",
            "SELECT id, geog, n FROM points WHERE"
            " ST_Covers(ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326)::geography, geog)",
            4);

  // Each probe's filters and parameters, made once.
  std::vector<docket::Document> near_filters, cap_filters, square_filters;
  std::vector<std::vector<std::string>> near_params, cap_params, square_params;
  for (const Probe& p : probes) {
    near_filters.push_back(NearFilter(p));
    cap_filters.push_back(CapFilter(p));
    square_filters.push_back(SquareFilter(p));
    const std::string lng = fmt::format("{}", p.lng), lat = fmt::format("{}", p.lat);
    near_params.push_back({lng, lat, fmt::format("{}", kNearAngle * pg_radius)});
    cap_params.push_back({lng, lat, fmt::format("{}", kCapAngle * pg_radius)});
    square_params.push_back(
        {fmt::format("{}", p.x0), fmt::format("{}", p.y0), fmt::format("{}", p.x1), fmt::format("{}", p.y1)});
  }
  docket::FindOptions nearest;
  nearest.limit = kNearest;
  const size_t k = probes.size();
  auto distance_note = [&](size_t probe, int64_t id, double radius) {
    const GeoPoint& pt = points[static_cast<size_t>(id)];
    const double angle = Angle(probes[probe].centre, ToUnit(pt.lng, pt.lat));
    return fmt::format("[{}, {}]: {:.6f} m on MongoDB's sphere, distance / radius - 1 = {:.3e}", pt.lng, pt.lat,
                       angle * kMongoEarthRadius, angle / radius - 1);
  };

  std::vector<Case> cases;
  cases.push_back({"$near, nearest 10 within 5 km", true,
                   [&](size_t i) { return DocketIds(coll.Find(near_filters[i], nearest)); },
                   [&](size_t i) { return LiteIds(SqliteNear(lite, lite_box, probes[i])); },
                   [&](size_t i) { return PgIds(pg, "near", near_params[i]); },
                   [&](int64_t n) { return docket::bench::DrainDocket(coll.Find(near_filters[Pick(n, k)], nearest)); },
                   [&](int64_t n) { return SqliteNear(lite, lite_box, probes[Pick(n, k)]).size(); },
                   [&](int64_t n) { return PgRows(pg, "near", near_params[Pick(n, k)]); },
                   [&](size_t i, int64_t id) { return distance_note(i, id, kNearAngle); }});
  cases.push_back({"$geoWithin $centerSphere 20 km, every match", false,
                   [&](size_t i) { return DocketIds(coll.Find(cap_filters[i])); },
                   [&](size_t i) { return LiteIds(SqliteCap(lite, lite_box, probes[i])); },
                   [&](size_t i) { return PgIds(pg, "cap", cap_params[i]); },
                   [&](int64_t n) { return docket::bench::DrainDocket(coll.Find(cap_filters[Pick(n, k)])); },
                   [&](int64_t n) { return SqliteCap(lite, lite_box, probes[Pick(n, k)]).size(); },
                   [&](int64_t n) { return PgRows(pg, "cap", cap_params[Pick(n, k)]); },
                   [&](size_t i, int64_t id) { return distance_note(i, id, kCapAngle); }});
  cases.push_back({"$geoWithin 1-degree square polygon, every match", false,
                   [&](size_t i) { return DocketIds(coll.Find(square_filters[i])); },
                   [&](size_t i) { return LiteIds(SqliteSquare(lite, lite_box, probes[i])); },
                   [&](size_t i) { return PgIds(pg, "square", square_params[i]); },
                   [&](int64_t n) { return docket::bench::DrainDocket(coll.Find(square_filters[Pick(n, k)])); },
                   [&](int64_t n) { return SqliteSquare(lite, lite_box, probes[Pick(n, k)]).size(); },
                   [&](int64_t n) { return PgRows(pg, "square", square_params[Pick(n, k)]); },
                   [&](size_t i, int64_t id) {
                     const GeoPoint& pt = points[static_cast<size_t>(id)];
                     const Vec v = ToUnit(pt.lng, pt.lat);
                     double nearest_edge = INFINITY;  // the signed sine of the angle to the nearest edge's plane
                     for (const Vec& normal : probes[i].edge_normals) {
                       nearest_edge = std::min(nearest_edge, Dot(normal, v) / std::sqrt(Dot(normal, normal)));
                     }
                     return fmt::format("[{}, {}]: {:.3f} m {} the nearest edge", pt.lng, pt.lat,
                                        std::fabs(nearest_edge) * kMongoEarthRadius,
                                        nearest_edge >= 0 ? "inside" : "outside");
                   }});

  // Every probe's answer, checked before any timing: the three answer the
  // same question on the same sphere (see the top of the file), so the
  // counts must be equal, and the nearest 10 the same ids in the same order.
  // A difference is reported with the points concerned and the run ends
  // after the table, without timing.
  std::string counts = "| case | probe | Docket rows | SQLite rows | PostgreSQL rows |\n|---|---|---:|---:|---:|\n";
  int mismatches = 0;
  for (const Case& c : cases) {
    for (size_t i = 0; i < k; ++i) {
      const std::vector<int64_t> d = c.docket_ids(i), s = c.sqlite_ids(i), p = c.postgres_ids(i);
      counts += fmt::format("| {} | {} | {} | {} | {} |\n", c.name, probes[i].label, d.size(), s.size(), p.size());
      auto same = [&](std::vector<int64_t> a, std::vector<int64_t> b) {
        if (!c.ordered) {
          std::sort(a.begin(), a.end());
          std::sort(b.begin(), b.end());
        }
        return a == b;
      };
      if (same(d, p) && same(s, p)) continue;
      ++mismatches;
      fmt::print(stderr, "MISMATCH {}: probe {} [{}, {}]: Docket {} rows, SQLite {}, PostgreSQL {}{}\n", c.name,
                 probes[i].label, probes[i].lng, probes[i].lat, d.size(), s.size(), p.size(),
                 d.size() == p.size() && s.size() == p.size() ? " (same counts, other ids or order)" : "");
      ReportDifference(c, i, "Docket", d, "PostgreSQL", p);
      ReportDifference(c, i, "PostgreSQL", p, "Docket", d);
      ReportDifference(c, i, "SQLite", s, "PostgreSQL", p);
      ReportDifference(c, i, "PostgreSQL", p, "SQLite", s);
      if (c.ordered && d.size() == p.size()) {
        fmt::print(stderr, "  Docket order:     {}\n  PostgreSQL order: {}\n  SQLite order:     {}\n",
                   fmt::join(d, ", "), fmt::join(p, ", "), fmt::join(s, ", "));
      }
    }
  }
  if (mismatches > 0) {
    fmt::print("{}", counts);
    Die(fmt::format("{} probe(s) answered differently; not timing", mismatches));
  }

  docket::bench::PrintVersusSqlTable(cases, Measure);
  fmt::print("\n{}", counts);
  sqlite3_finalize(lite_box);
  sqlite3_close(lite);
  PQfinish(pg);
  return 0;
}
