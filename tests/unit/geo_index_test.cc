// 2dsphere indexes, geo query plans, $near and $geoNear through the engine:
// specs and errors as MongoDB's, index reads that agree with matching every
// document (metamorphic: the same queries on an indexed and an unindexed
// collection), $near's order checked against distances computed here with
// the haversine formula (an oracle independent of S2), and readers racing
// writers that move points.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <cmath>
#include <random>
#include <set>
#include <thread>

#include "docket/engine.h"
#include "test_util.h"

namespace docket {
namespace {

using testing::J;

constexpr double kRadius = 6378100.0;  // MongoDB's earth radius, metres
constexpr double kPi = 3.14159265358979323846;

double Haversine(double lng1, double lat1, double lng2, double lat2) {
  const double r = kPi / 180;
  const double dlat = (lat2 - lat1) * r, dlng = (lng2 - lng1) * r;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * r) * std::cos(lat2 * r) * std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kRadius * std::asin(std::min(1.0, std::sqrt(a)));
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Point(double lng, double lat) {
  char buf[128];
  std::snprintf(buf, sizeof buf, R"({"type": "Point", "coordinates": [%.17g, %.17g]})", lng, lat);
  return buf;
}

// A dotted path's value (Document::Find reads top-level fields only).
bool FindPath(const Document& d, const char* dotted, bson_iter_t* out) {
  bson_iter_t it;
  d.Iterate(&it);
  return bson_iter_find_descendant(&it, dotted, out);
}

std::set<int> Ids(const std::vector<Document>& docs) {
  std::set<int> ids;
  for (const Document& d : docs) {
    bson_iter_t id;
    if (d.Find("_id", &id)) ids.insert(static_cast<int>(bson_iter_as_int64(&id)));
  }
  return ids;
}

class GeoIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Engine::Open({.path = "", .in_memory = true});
    ASSERT_TRUE(opened.ok());
    engine_ = std::move(opened).value();
  }
  Status Create(const std::string& spec, const char* collection = "c") {
    auto r = engine_->collection("t", collection).CreateIndexes({J(spec)});
    return r.ok() ? Status::OK() : r.status();
  }
  std::vector<Document> Find(const char* collection, const std::string& filter) {
    auto cursor = engine_->collection("t", collection).Find(J(filter));
    EXPECT_TRUE(cursor.ok()) << cursor.status().ToString() << " " << filter;
    if (!cursor.ok()) return {};
    auto docs = cursor->ToVector();
    EXPECT_TRUE(docs.ok()) << docs.status().ToString() << " " << filter;
    return docs.ok() ? *docs : std::vector<Document>();
  }
  Status FindError(const char* collection, const std::string& filter) {
    auto cursor = engine_->collection("t", collection).Find(J(filter));
    if (!cursor.ok()) return cursor.status();
    auto docs = cursor->ToVector();
    return docs.ok() ? Status::OK() : docs.status();
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(GeoIndexTest, SpecsAreListedWithTheirVersion) {
  ASSERT_TRUE(Create(R"({"key": {"loc": "2dsphere"}})").ok());
  ASSERT_TRUE(Create(R"({"key": {"kind": 1, "area": "2dsphere"}, "finestIndexedLevel": 20})").ok());
  auto indexes = engine_->collection("t", "c").ListIndexes();
  ASSERT_TRUE(indexes.ok());
  ASSERT_EQ(indexes->size(), 3u);
  EXPECT_EQ((*indexes)[1].ToJson(),
            R"({ "v" : 2, "key" : { "loc" : "2dsphere" }, "name" : "loc_2dsphere", "2dsphereIndexVersion" : 3 })");
  EXPECT_EQ((*indexes)[2].ToJson(),
            R"({ "v" : 2, "key" : { "kind" : 1, "area" : "2dsphere" }, "name" : "kind_1_area_2dsphere", )"
            R"("2dsphereIndexVersion" : 3, "finestIndexedLevel" : 20 })");
  // The listed form is accepted again as the same index.
  EXPECT_TRUE(Create(R"({"key": {"loc": "2dsphere"}, "name": "loc_2dsphere", "2dsphereIndexVersion": 3})").ok());
}

TEST_F(GeoIndexTest, BadSpecsGetMongoDbsCodes) {
  EXPECT_EQ(Create(R"({"key": {"loc": "2dsphere"}, "2dsphereIndexVersion": 2})").code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(Create(R"({"key": {"loc": "2dsphere"}, "2dsphereIndexVersion": "3"})").code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(static_cast<int>(Create(R"({"key": {"loc": "2dsphere"}, "coarsestIndexedLevel": -1})").code()), 16747);
  EXPECT_EQ(static_cast<int>(Create(R"({"key": {"loc": "2dsphere"}, "finestIndexedLevel": 31})").code()), 16748);
  EXPECT_EQ(static_cast<int>(Create(R"({"key": {"loc": "2dsphere"}, "finestIndexedLevel": 5,
                                        "coarsestIndexedLevel": 6})").code()), 16749);
  EXPECT_EQ(Create(R"({"key": {"loc": 1}, "2dsphereIndexVersion": 3})").code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(Create(R"({"key": {"loc": "2dsphere", "body": "text"}})").code(), ErrorCode::kCannotCreateIndex);
  auto indexes = engine_->collection("t", "c").ListIndexes();
  ASSERT_TRUE(indexes.ok());
  EXPECT_LE(indexes->size(), 1u);
}

// 2d specs as mongod 6.0 checks them (expression_params.cpp, hash.cpp).
TEST_F(GeoIndexTest, TwoDSpecsAndOptions) {
  EXPECT_EQ(static_cast<int>(Create(R"({"key": {"a": 1, "loc": "2d"}})").code()), 16801);
  EXPECT_EQ(static_cast<int>(Create(R"({"key": {"loc": "2d", "b": "2d"}})").code()), 16800);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d"}, "bits": 0})").code(), ErrorCode::kInvalidOptions);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d"}, "bits": 33})").code(), ErrorCode::kInvalidOptions);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d"}, "bits": "26"})").code(), ErrorCode::kInvalidOptions);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d"}, "min": 10, "max": 10})").code(), ErrorCode::kInvalidOptions);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d"}, "min": 0, "max": {"$numberDouble": "Infinity"}})").code(),
            ErrorCode::kInvalidOptions);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d"}, "collation": {"locale": "fr"}})").code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(Create(R"({"key": {"loc": 1}, "bits": 12})").code(), ErrorCode::kCannotCreateIndex);
  EXPECT_EQ(Create(R"({"key": {"loc": "2d", "b": "2dsphere"}})").code(), ErrorCode::kCannotCreateIndex);
  ASSERT_TRUE(Create(R"({"key": {"loc": "2d", "kind": 1}, "bits": 32, "min": -1000, "max": 1000})").ok());
  auto indexes = engine_->collection("t", "c").ListIndexes();
  ASSERT_TRUE(indexes.ok());
  ASSERT_EQ(indexes->size(), 2u);
  EXPECT_EQ((*indexes)[1].ToJson(), R"({ "v" : 2, "key" : { "loc" : "2d", "kind" : 1 }, "name" : "loc_2d_kind_1", "bits" : 32, "min" : -1000, "max" : 1000 })");
  // Locations inside the index's square only: [min, max] both ways.
  Collection c = engine_->collection("t", "c");
  EXPECT_TRUE(c.InsertOne(J(R"({"loc": [999.5, -1000]})")).ok());
  EXPECT_EQ(static_cast<int>(c.InsertOne(J(R"({"loc": [1000.5, 0]})")).status().code()), 13027);
}

// A 2d index finds what a scan finds: random points in a small square,
// random boxes, circles and polygons, and $near (flat and on the sphere)
// against distances computed here, with bits from coarse to fine.
TEST_F(GeoIndexTest, TwoDIndexAnswersAsAScan) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> coord(-50, 50);
  for (int bits : {4, 12, 26, 32}) {
    const std::string name = "flat" + std::to_string(bits);
    Collection indexed = engine_->collection("t", name);
    Collection plain = engine_->collection("t", name + "_plain");
    std::vector<std::pair<double, double>> points;
    for (int i = 0; i < 400; ++i) {
      points.emplace_back(coord(rng), coord(rng));
      const std::string doc = "{\"_id\": " + std::to_string(i) + ", \"loc\": [" + Num(points.back().first) + ", " +
                              Num(points.back().second) + "]}";
      ASSERT_TRUE(indexed.InsertOne(J(doc)).ok());
      ASSERT_TRUE(plain.InsertOne(J(doc)).ok());
    }
    ASSERT_TRUE(engine_->collection("t", name)
                    .CreateIndexes({J(R"({"key": {"loc": "2d"}, "min": -64, "max": 64, "bits": )" + std::to_string(bits) + "}")})
                    .ok());
    for (int round = 0; round < 30; ++round) {
      const double x = coord(rng), y = coord(rng), r = std::abs(coord(rng)) / 4;
      for (const std::string& q :
           {R"({"loc": {"$geoWithin": {"$box": [[)" + Num(x) + ", " + Num(y) + "], [" + Num(x + r) + ", " + Num(y + 2 * r) + "]]}}}",
            R"({"loc": {"$geoWithin": {"$center": [[)" + Num(x) + ", " + Num(y) + "], " + Num(r) + "]}}}",
            R"({"loc": {"$geoWithin": {"$polygon": [[)" + Num(x) + ", " + Num(y) + "], [" + Num(x + r) + ", " + Num(y) +
                "], [" + Num(x) + ", " + Num(y + r) + "]]}}}",
            R"({"loc": {"$geoWithin": {"$centerSphere": [[)" + Num(x) + ", " + Num(y) + "], " + Num(r / 100) + "]}}}"}) {
        EXPECT_EQ(Ids(Find(name.c_str(), q)), Ids(Find((name + "_plain").c_str(), q))) << q << " bits " << bits;
      }
      // $near: the first 7 by Euclidean distance, computed here.
      std::vector<int> order(points.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int a, int b) {
        return std::hypot(points[a].first - x, points[a].second - y) < std::hypot(points[b].first - x, points[b].second - y);
      });
      auto near = indexed.Find(J(R"({"loc": {"$near": [)" + Num(x) + ", " + Num(y) + "]}}"), FindOptions{.limit = 7});
      ASSERT_TRUE(near.ok());
      auto docs = near->ToVector();
      ASSERT_TRUE(docs.ok());
      ASSERT_EQ(docs->size(), 7u);
      for (size_t i = 0; i < 7; ++i) {
        bson_iter_t id;
        ASSERT_TRUE((*docs)[i].Find("_id", &id));
        EXPECT_EQ(bson_iter_int32(&id), order[i]) << "rank " << i << " bits " << bits;
      }
      // Within a $maxDistance: the count computed here.
      const size_t within = std::count_if(points.begin(), points.end(), [&](const auto& p) {
        return std::hypot(p.first - x, p.second - y) <= r;
      });
      auto counted = indexed.CountDocuments(J(R"({"loc": {"$near": [)" + Num(x) + ", " + Num(y) + "], \"$maxDistance\": " + Num(r) + "}}"));
      ASSERT_TRUE(counted.ok());
      EXPECT_EQ(static_cast<size_t>(*counted), within);
    }
  }
}

TEST_F(GeoIndexTest, InvalidGeometryIsRefusedWith16755AndNothingIsWritten) {
  ASSERT_TRUE(Create(R"({"key": {"loc": "2dsphere"}})").ok());
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "loc": {"type": "Point", "coordinates": [1, 2]}})")).ok());
  for (const char* bad : {R"({"_id": 2, "loc": {"type": "Point", "coordinates": [1.5]}})",
                          R"({"_id": 3, "loc": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]}})",
                          R"({"_id": 4, "loc": [200, 100]})",
                          R"({"_id": 5, "loc": {"type": "Point", "coordinates": [0, 91]}})",
                          R"({"_id": 6, "loc": "somewhere"})"}) {
    auto r = c.InsertOne(J(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(static_cast<int>(r.status().code()), 16755) << bad << " " << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind("Can't extract geo keys: {", 0), 0u) << r.status().message();
    EXPECT_NE(r.status().message().find("}  "), std::string::npos) << r.status().message();  // the document, two spaces, the reason
  }
  // An update that would make the geometry invalid fails too, and changes nothing.
  auto update = c.UpdateOne(J(R"({"_id": 1})"), J(R"({"$set": {"loc.coordinates": [1]}})"));
  EXPECT_FALSE(update.ok());
  EXPECT_EQ(Ids(Find("c", "{}")), (std::set<int>{1}));
  EXPECT_EQ(Find("c", R"({"_id": 1})")[0].ToJson(),
            R"({ "_id" : 1, "loc" : { "type" : "Point", "coordinates" : [ 1, 2 ] } })");
  // Documents without a geometry are welcome (the index leaves them out).
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 7})")).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 8, "loc": null})")).ok());
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 9, "loc": []})")).ok());
  auto valid = c.Validate();
  ASSERT_TRUE(valid.ok());
  EXPECT_TRUE(valid->valid());
  // Building the index over a bad document fails and leaves no index.
  Collection other = engine_->collection("t", "other");
  ASSERT_TRUE(other.InsertOne(J(R"({"_id": 1, "loc": {"type": "LineString", "coordinates": [[0, 0]]}})")).ok());
  Status built = Create(R"({"key": {"loc": "2dsphere"}})", "other");
  EXPECT_EQ(static_cast<int>(built.code()), 16755) << built.ToString();
  EXPECT_EQ(other.ListIndexes()->size(), 1u);
}

// Random points (clusters at the poles and along the antimeridian too),
// lines and polygons: every region query answers the same on a collection
// with a 2dsphere index as on one without, and $near with $maxDistance the
// same set as $centerSphere, nearest first by the haversine distance.
TEST_F(GeoIndexTest, IndexReadsAgreeWithMatchingEveryDocument) {
  ASSERT_TRUE(Create(R"({"key": {"loc": "2dsphere"}})", "indexed").ok());
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(0, 1);
  auto random_point = [&](double* lng, double* lat) {
    const int kind = static_cast<int>(rng() % 4);
    if (kind == 0) {  // near a pole
      *lng = -180 + 360 * unit(rng);
      *lat = (rng() % 2 ? 1 : -1) * (89 + unit(rng));
    } else if (kind == 1) {  // near the antimeridian
      *lng = (rng() % 2 ? 1 : -1) * (178 + 2 * unit(rng));
      *lat = -30 + 60 * unit(rng);
    } else {  // anywhere (uniform on the sphere)
      *lng = -180 + 360 * unit(rng);
      *lat = std::asin(2 * unit(rng) - 1) * 180 / kPi;
    }
  };
  std::vector<std::pair<double, double>> points(600);
  std::vector<Document> docs;
  for (int i = 0; i < 600; ++i) {
    random_point(&points[i].first, &points[i].second);
    std::string loc = Point(points[i].first, points[i].second);
    if (i % 10 == 1) {  // a short line from the point
      char buf[256];
      std::snprintf(buf, sizeof buf, R"({"type": "LineString", "coordinates": [[%.17g, %.17g], [%.17g, %.17g]]})",
                    points[i].first, points[i].second, std::fmod(points[i].first + 181, 360) - 180,
                    std::max(-90.0, points[i].second - 0.5));
      loc = buf;
    } else if (i % 10 == 2 && std::abs(points[i].second) < 80) {  // a small square around it
      const double x = points[i].first, y = points[i].second;
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    R"({"type": "Polygon", "coordinates": [[[%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g]]]})",
                    x, y, std::min(180.0, x + 0.5), y, std::min(180.0, x + 0.5), y + 0.5, x, y + 0.5, x, y);
      loc = buf;
    } else if (i % 10 == 3) {
      loc = "[" + std::to_string(points[i].first) + ", " + std::to_string(points[i].second) + "]";  // a legacy pair
    }
    std::string json = R"({"_id": )" + std::to_string(i) + R"(, "loc": )" + loc + "}";
    if (i % 17 == 0) json = R"({"_id": )" + std::to_string(i) + "}";  // no geometry
    docs.push_back(J(json));
  }
  ASSERT_TRUE(engine_->collection("t", "indexed").InsertMany(docs).ok());
  ASSERT_TRUE(engine_->collection("t", "plain").InsertMany(docs).ok());

  int non_empty = 0;
  for (int q = 0; q < 60; ++q) {
    double lng, lat;
    random_point(&lng, &lat);
    const double radius = 100000 + unit(rng) * 3000000;  // metres
    char cap[256];
    std::snprintf(cap, sizeof cap, R"({"loc": {"$geoWithin": {"$centerSphere": [[%.17g, %.17g], %.17g]}}})", lng, lat,
                  radius / kRadius);
    const std::set<int> within = Ids(Find("plain", cap));
    EXPECT_EQ(Ids(Find("indexed", cap)), within) << cap;
    if (!within.empty()) ++non_empty;

    const double half = 1 + unit(rng) * 20;
    const double south = std::max(-89.0, lat - half), north = std::min(89.0, lat + half);
    const double west = std::max(-180.0, lng - half), east = std::min(180.0, lng + half);
    char box[512];
    std::snprintf(box, sizeof box,
                  R"({"$geometry": {"type": "Polygon", "coordinates": [[[%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g], [%.17g, %.17g]]]}})",
                  west, south, east, south, east, north, west, north, west, south);
    for (const char* op : {"$geoWithin", "$geoIntersects"}) {
      const std::string filter = std::string(R"({"loc": {")") + op + R"(": )" + box + "}}";
      EXPECT_EQ(Ids(Find("indexed", filter)), Ids(Find("plain", filter))) << filter;
    }

    // $near within the radius: the cap's documents, nearest first.
    char near[256];
    std::snprintf(near, sizeof near, R"({"loc": {"$near": {"$geometry": %s, "$maxDistance": %.17g}}})",
                  Point(lng, lat).c_str(), radius);
    const std::vector<Document> nearest = Find("indexed", near);
    const std::set<int> near_ids = Ids(nearest);
    std::set<int> within_points;  // points only: the haversine oracle measures points
    for (int id : within) {
      if (id % 10 != 1 && id % 10 != 2) within_points.insert(id);
    }
    std::set<int> near_points;
    double previous = -1;
    for (const Document& d : nearest) {
      bson_iter_t id;
      ASSERT_TRUE(d.Find("_id", &id));
      const int i = bson_iter_int32(&id);
      if (i % 10 == 1 || i % 10 == 2) continue;
      near_points.insert(i);
      const double distance = Haversine(lng, lat, points[i].first, points[i].second);
      EXPECT_LE(distance, radius * (1 + 1e-9));
      EXPECT_GE(distance, previous - 1e-6) << "not nearest first at _id " << i;
      previous = distance;
    }
    EXPECT_EQ(near_points, within_points) << near;
    // A line or polygon is near when its nearest point is, within when all of it is.
    for (int id : within) EXPECT_TRUE(near_ids.count(id)) << near << " misses " << id;
  }
  EXPECT_GT(non_empty, 20);  // the queries found something
  auto valid = engine_->collection("t", "indexed").Validate();
  ASSERT_TRUE(valid.ok());
  EXPECT_TRUE(valid->valid()) << (valid->errors.empty() ? "" : valid->errors.front());
}

TEST_F(GeoIndexTest, NearNeedsAnIndexAndItsPlace) {
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(c.InsertOne(J(R"({"_id": 1, "loc": [0, 0]})")).ok());
  const std::string near = R"({"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}})";
  EXPECT_EQ(FindError("c", near).code(), ErrorCode::kNoQueryExecutionPlans);
  ASSERT_TRUE(Create(R"({"key": {"loc": "2dsphere"}})").ok());
  EXPECT_TRUE(FindError("c", near).ok());
  // Flat distances ($near on a legacy pair) need a 2d index (a 2dsphere one
  // does not serve them).
  EXPECT_EQ(FindError("c", R"({"loc": {"$near": [0, 0]}})").code(), ErrorCode::kNoQueryExecutionPlans);
  EXPECT_TRUE(FindError("c", R"({"loc": {"$nearSphere": [0, 0]}})").ok());
  // At most one, at the top level or under $and; never with $text.
  EXPECT_EQ(FindError("c", R"({"$or": [)" + near + R"(, {"_id": 1}]})").code(), ErrorCode::kBadValue);
  EXPECT_EQ(FindError("c", R"({"$and": [)" + near + R"(, )" + near + R"(]})").code(), ErrorCode::kBadValue);
  EXPECT_TRUE(FindError("c", R"({"$and": [)" + near + R"(, {"_id": 1}]})").ok());
  EXPECT_TRUE(FindError("c", R"({"$or": [)" + near + R"(]})").ok());  // a one-clause $or is its clause
  auto in_match = c.Aggregate({J(R"({"$match": )" + near + "}")});
  ASSERT_FALSE(in_match.ok());
  EXPECT_EQ(static_cast<int>(in_match.status().code()), 5626500);
}

// $geoNear: distances as the haversine formula gives them for points, the
// location that gave each, nearest first, bounds inclusive.
TEST_F(GeoIndexTest, GeoNearStageGivesDistancesAndLocations) {
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(Create(R"({"key": {"at.loc": "2dsphere"}})").ok());
  std::vector<Document> docs;
  for (int i = 0; i < 11; ++i) {
    docs.push_back(J(R"({"_id": )" + std::to_string(i) + R"(, "at": {"loc": )" + Point(i, 0) + "}}"));
  }
  // Two places: the nearer one counts, and is the location reported.
  docs.push_back(J(R"({"_id": 20, "at": [{"loc": )" + Point(5, 5) + R"(}, {"loc": )" + Point(0.5, 0) + "}]}"));
  auto inserted = c.InsertMany(docs);
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  ASSERT_TRUE(inserted->write_errors.empty()) << inserted->write_errors.front().status.ToString();
  // An array of geometries at the indexed field itself is not one (16755), as mongod.
  auto array = c.InsertOne(J(R"({"_id": 21, "at": {"loc": [)" + Point(5, 5) + ", " + Point(0.5, 0) + "]}}"));
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(static_cast<int>(array.status().code()), 16755);
  const double max = Haversine(0, 0, 3, 0);
  auto cursor = c.Aggregate({J(R"({"$geoNear": {"near": )" + Point(0, 0) + R"(, "distanceField": "d.m",
                                "includeLocs": "where", "maxDistance": )" + std::to_string(max + 1e-3) + "}}")});
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  auto out = cursor->ToVector();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<int> order;
  for (const Document& d : *out) {
    bson_iter_t id, distance, where;
    ASSERT_TRUE(d.Find("_id", &id));
    ASSERT_TRUE(FindPath(d, "d.m", &distance)) << d.ToJson();
    ASSERT_TRUE(d.Find("where", &where)) << d.ToJson();
    order.push_back(bson_iter_int32(&id));
    const double x = order.back() == 20 ? 0.5 : order.back();
    EXPECT_NEAR(bson_iter_double(&distance), Haversine(0, 0, x, 0), 1e-6 * Haversine(0, 0, x, 0) + 1e-6);
  }
  EXPECT_EQ(order, (std::vector<int>{0, 20, 1, 2, 3}));
  EXPECT_EQ((*out)[1].ToJson().find(R"("where" : { "type" : "Point", "coordinates" : [ 0.5, 0 ] })") != std::string::npos,
            true)
      << (*out)[1].ToJson();
  // Not first: 40602; no geo index: 27.
  auto second = c.Aggregate({J(R"({"$match": {}})"), J(R"({"$geoNear": {"near": [0, 0], "distanceField": "d"}})")});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(static_cast<int>(second.status().code()), 40602);
  auto none = engine_->collection("t", "empty_of_indexes");
  ASSERT_TRUE(none.InsertOne(J(R"({"_id": 1})")).ok());
  auto no_index = none.Aggregate({J(R"({"$geoNear": {"near": [0, 0], "distanceField": "d"}})")});
  ASSERT_FALSE(no_index.ok() && no_index->ToVector().ok());
}

// $near with a limit reads rings about the centre (engine/near_rings.h):
// for every k, its answer is the first k of the answer without a limit
// (which reads the whole cap at once), for dense and far-away neighbours,
// with $minDistance / $maxDistance, legacy radians and metres, skip, and
// another predicate beside the $near.
TEST_F(GeoIndexTest, NearWithALimitAgreesWithTheWholeOrder) {
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(Create(R"({"key": {"loc": "2dsphere"}})").ok());
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Document> docs;
  for (int i = 0; i < 400; ++i) {
    double lng, lat;
    if (i < 100) {  // a dense cluster within ~2 km of (10, 10)
      lng = 10 + (unit(rng) - 0.5) * 0.03;
      lat = 10 + (unit(rng) - 0.5) * 0.03;
    } else {  // the rest anywhere, most thousands of km away
      lng = -180 + 360 * unit(rng);
      lat = std::asin(2 * unit(rng) - 1) * 180 / kPi;
    }
    docs.push_back(J(R"({"_id": )" + std::to_string(i) + R"(, "odd": )" + std::to_string(i % 2) + R"(, "loc": )" +
                     Point(lng, lat) + "}"));
  }
  ASSERT_TRUE(c.InsertMany(docs).ok());
  auto ordered = [&](const std::string& filter, int64_t skip, int64_t limit) {
    FindOptions options;
    options.skip = skip;
    options.limit = limit;
    auto cursor = c.Find(J(filter), options);
    EXPECT_TRUE(cursor.ok()) << cursor.status().ToString();
    std::vector<int> ids;
    if (!cursor.ok()) return ids;
    auto all = cursor->ToVector();
    EXPECT_TRUE(all.ok());
    for (const Document& d : *all) {
      bson_iter_t id;
      d.Find("_id", &id);
      ids.push_back(bson_iter_int32(&id));
    }
    return ids;
  };
  const std::string centres[] = {Point(10, 10), Point(-170, -60), Point(0, 90)};
  for (const std::string& centre : centres) {
    for (const std::string& filter :
         {R"({"loc": {"$near": {"$geometry": )" + centre + "}}}",
          R"({"loc": {"$nearSphere": {"$geometry": )" + centre + R"(, "$minDistance": 1500, "$maxDistance": 9000000}}})",
          R"({"odd": 1, "loc": {"$near": {"$geometry": )" + centre + "}}}"}) {
      const std::vector<int> whole = ordered(filter, 0, 0);
      ASSERT_FALSE(whole.empty()) << filter;
      for (int64_t k : {1, 3, 10, 150, 1000}) {
        const std::vector<int> first = ordered(filter, 0, k);
        const std::vector<int> expected(whole.begin(), whole.begin() + std::min<int64_t>(k, whole.size()));
        EXPECT_EQ(first, expected) << filter << " limit " << k;
      }
      const std::vector<int> skipped = ordered(filter, 5, 7);
      const std::vector<int> expected(whole.begin() + std::min<size_t>(5, whole.size()),
                                      whole.begin() + std::min<size_t>(12, whole.size()));
      EXPECT_EQ(skipped, expected) << filter << " skip 5 limit 7";
    }
  }
  // Legacy $nearSphere: radians.
  const std::vector<int> legacy_whole = ordered(R"({"loc": {"$nearSphere": [10, 10], "$maxDistance": 0.5}})", 0, 0);
  EXPECT_EQ(ordered(R"({"loc": {"$nearSphere": [10, 10], "$maxDistance": 0.5}})", 0, 4),
            std::vector<int>(legacy_whole.begin(), legacy_whole.begin() + std::min<size_t>(4, legacy_whole.size())));
  EXPECT_GE(legacy_whole.size(), 100u);  // the cluster is well within 0.5 radians
}

// Review findings: a single-document write with $near takes the nearest
// match (the index reads in cell order: a point on face 4, lng -90, has a
// negative key and comes first); $geoNear orders by the distance it
// measured even when its output field overwrites the location; absurd
// covering options are refused.
TEST_F(GeoIndexTest, NearWritesAndGeoNearOrderByDistanceNotByCell) {
  Collection c = engine_->collection("t", "c");
  ASSERT_TRUE(Create(R"({"key": {"loc": "2dsphere"}})").ok());
  ASSERT_TRUE(c.InsertMany({J(R"({"_id": "far", "loc": )" + Point(-90, 0) + "}"),
                            J(R"({"_id": "near", "loc": )" + Point(0.001, 0) + "}"),
                            J(R"({"_id": "mid", "loc": )" + Point(2, 0) + "}")})
                  .ok());
  const std::string near = R"({"loc": {"$near": {"$geometry": )" + Point(0, 0) + "}}}";
  auto updated = c.UpdateOne(J(near), J(R"({"$set": {"taken": 1}})"));
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  auto taken = c.FindOne(J(R"({"taken": 1})"));
  ASSERT_TRUE(taken.ok() && *taken);
  bson_iter_t id;
  ASSERT_TRUE((*taken)->Find("_id", &id));
  EXPECT_STREQ(bson_iter_utf8(&id, nullptr), "near");
  FindAndModifyOptions options;
  options.return_document = ReturnDocument::kBefore;
  auto claimed = c.FindOneAndUpdate(J(R"({"taken": {"$exists": false}, "loc": {"$near": {"$geometry": )" +
                                      Point(0, 0) + "}}}"),
                                    J(R"({"$set": {"taken": 2}})"), options);
  ASSERT_TRUE(claimed.ok() && *claimed) << claimed.status().ToString();
  ASSERT_TRUE((**claimed).Find("_id", &id));
  EXPECT_STREQ(bson_iter_utf8(&id, nullptr), "mid");
  auto deleted = c.DeleteOne(J(near));
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(c.FindOne(J(R"({"_id": "near"})"))->has_value());
  EXPECT_TRUE(c.FindOne(J(R"({"_id": "far"})"))->has_value());

  // $geoNear writing its distance over the location it measured.
  auto cursor = c.Aggregate({J(R"({"$geoNear": {"near": )" + Point(0, 0) + R"(, "distanceField": "loc"}})")});
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  auto out = cursor->ToVector();
  ASSERT_TRUE(out.ok());
  std::vector<std::string> order;
  for (const Document& d : *out) {
    ASSERT_TRUE(d.Find("_id", &id));
    order.push_back(bson_iter_utf8(&id, nullptr));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"mid", "far"}));

  // mongod's $geometry form wants a finite bound (expression_geo.cpp's isValidNumericValue).
  EXPECT_EQ(FindError("c", R"({"loc": {"$near": {"$geometry": )" + Point(0, 0) +
                               R"(, "$maxDistance": {"$numberDouble": "Infinity"}}}})")
                .code(),
            ErrorCode::kBadValue);
  EXPECT_FALSE(Create(R"({"key": {"other": "2dsphere"}, "finestIndexedLevel": 1e10})").ok());
  EXPECT_FALSE(Create(R"({"key": {"other": "2dsphere"}, "maxCellsInCovering": {"$numberDouble": "NaN"}})").ok());
}

// Writers move points between two far-apart areas while readers ask for
// one area: every document a reader gets is in that area at some moment
// (never a stale index entry for a point that moved away), and afterwards
// the index agrees with the documents.
TEST(GeoConcurrencyTest, ReadersSeeOnlyPointsInTheirRegionWhileWritersMoveThem) {
  auto engine = Engine::Open({.path = "", .in_memory = true});
  ASSERT_TRUE(engine.ok());
  Collection c = (*engine)->collection("t", "fleet");
  ASSERT_TRUE(c.CreateIndexes({J(R"({"key": {"loc": "2dsphere"}})")}).ok());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c.InsertOne(J(R"({"_id": )" + std::to_string(i) + R"(, "loc": )" + Point(10 + (i % 10) * 0.01, 10) + "}")).ok());
  }
  std::atomic<int> errors{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      for (int k = 0; k < 300; ++k) {
        const int id = static_cast<int>(rng() % 200);
        const bool east = rng() % 2;
        const std::string loc = east ? Point(120 + (k % 10) * 0.01, -40) : Point(10 + (k % 10) * 0.01, 10);
        if (!c.UpdateOne(J(R"({"_id": )" + std::to_string(id) + "}"), J(R"({"$set": {"loc": )" + loc + "}}")).ok()) {
          ++errors;
        }
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int round = 0; round < 60; ++round) {
        auto docs = c.Find(J(R"({"loc": {"$geoWithin": {"$centerSphere": [[120, -40], 0.01]}}})"))->ToVector();
        if (!docs.ok()) {
          ++errors;
          continue;
        }
        for (const Document& d : *docs) {
          bson_iter_t lng;
          if (!FindPath(d, "loc.coordinates.0", &lng) || bson_iter_as_double(&lng) < 119) ++wrong;
        }
        auto near = c.Find(J(R"({"loc": {"$nearSphere": {"$geometry": )" + Point(10, 10) + R"(, "$maxDistance": 50000}}})"))
                        ->ToVector();
        if (!near.ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  auto east = c.CountDocuments(J(R"({"loc": {"$geoWithin": {"$centerSphere": [[120, -40], 0.01]}}})"));
  auto west = c.CountDocuments(J(R"({"loc": {"$geoWithin": {"$centerSphere": [[10, 10], 0.01]}}})"));
  ASSERT_TRUE(east.ok() && west.ok());
  EXPECT_EQ(*east + *west, 200);
  auto valid = c.Validate();
  ASSERT_TRUE(valid.ok()) << valid.status().ToString();
  EXPECT_TRUE(valid->valid()) << (valid->errors.empty() ? "" : valid->errors.front());
  EXPECT_EQ(valid->missing_index_entries, 0);
  EXPECT_EQ(valid->extra_index_entries, 0);
}

}  // namespace
}  // namespace docket
