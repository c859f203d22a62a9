"""Geospatial queries over the wire, as pymongo and mongoengine use them: a
2dsphere index listed in MongoDB's form, $near / $nearSphere nearest first
with their distances, $geoWithin $centerSphere, $geoIntersects, the $geoNear
stage with distanceField / includeLocs, explain naming the index, the errors
the drivers see (Location16755 for a geometry the index cannot take, 5626500
for a near in countDocuments' $match), a mongoengine PointField, and a
mongoengine GeoPointField with the 2d index it makes (flat distances).

Expected distances are computed independently of the server: a sphere of
radius 6378100 m (MongoDB's kRadiusOfEarthInMeters), distance = R * the
angle between the two unit vectors (atan2 of |a x b| and a . b, as S2's
S1Angle measures it); MongoDB's figures agree with this far better than the
1e-7 relative tolerance used here. A write error carries code and errmsg
only; the codeName Location16755 is checked on command errors
(findAndModify, createIndexes), where MongoDB sends one."""
import math

import mongoengine
import pytest
from mongoengine import Document, PointField, StringField
from pymongo import GEOSPHERE
from pymongo.errors import OperationFailure, WriteError

from conftest import winning_index

R = 6378100.0


def sphere_distance(p, q):
    """Metres between two (lng, lat) points in degrees on the sphere of radius R."""
    def unit(point):
        lng, lat = math.radians(point[0]), math.radians(point[1])
        return (math.cos(lat) * math.cos(lng), math.cos(lat) * math.sin(lng), math.sin(lat))
    a, b = unit(p), unit(q)
    cross = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    return R * math.atan2(math.sqrt(sum(c * c for c in cross)), sum(x * y for x, y in zip(a, b)))


def stages(plan):
    """Every stage document anywhere in an explain output (inputStage,
    inputStages, nested pipelines), outermost first."""
    found = []
    if isinstance(plan, dict):
        if "stage" in plan:
            found.append(plan)
        for value in plan.values():
            found.extend(stages(value))
    elif isinstance(plan, list):
        for value in plan:
            found.extend(stages(value))
    return found


# name -> (stored location, its (lng, lat)); GeoJSON points and legacy pairs mixed.
# From (0,0): e 787.1 m, a 1113.2 m, b 2226.4 m, c 4722.9 m, d 11131.9 m, far 1570 km.
PLACES = {
    "a": ({"type": "Point", "coordinates": [0.01, 0]}, (0.01, 0)),
    "b": ([0, 0.02], (0, 0.02)),
    "c": ({"type": "Point", "coordinates": [0.03, 0.03]}, (0.03, 0.03)),
    "d": ({"lng": 0.1, "lat": 0}, (0.1, 0)),
    "e": ({"type": "Point", "coordinates": [0.005, 0.005]}, (0.005, 0.005)),
    "far": ({"type": "Point", "coordinates": [10, 10]}, (10, 10)),
}


@pytest.fixture
def places(db):
    assert db.places.create_index([("loc", GEOSPHERE)]) == "loc_2dsphere"
    db.places.insert_many([{"_id": name, "loc": loc} for name, (loc, _) in PLACES.items()])
    return db.places


def test_index_listed_as_mongodb_lists_it(db):
    assert db.c.create_index([("loc", GEOSPHERE)]) == "loc_2dsphere"
    assert db.c.create_index([("where", GEOSPHERE), ("kind", 1)]) == "where_2dsphere_kind_1"
    specs = {i["name"]: i for i in db.c.list_indexes()}
    assert specs["loc_2dsphere"]["key"] == {"loc": "2dsphere"}
    assert specs["loc_2dsphere"]["2dsphereIndexVersion"] == 3
    assert specs["where_2dsphere_kind_1"]["key"] == {"where": "2dsphere", "kind": 1}
    assert specs["where_2dsphere_kind_1"]["2dsphereIndexVersion"] == 3
    # The index is sparse on its geo field: documents without one are stored and found.
    db.c.insert_many([{"_id": 1}, {"_id": 2, "loc": None}, {"_id": 3, "loc": [1, 2]}])
    assert db.c.count_documents({}) == 3


def test_near_returns_nearest_first_with_distances(places):
    found = list(places.find(
        {"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}, "$maxDistance": 5000}}},
        {"d": {"$meta": "geoNearDistance"}}))
    assert [doc["_id"] for doc in found] == ["e", "a", "b", "c"]
    for doc in found:
        assert doc["d"] == pytest.approx(sphere_distance((0, 0), PLACES[doc["_id"]][1]), rel=1e-7)
    # $minDistance and $maxDistance together (both inclusive bounds).
    ring = places.find({"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]},
                                          "$minDistance": 1000, "$maxDistance": 3000}}})
    assert [doc["_id"] for doc in ring] == ["a", "b"]
    # Legacy point with $nearSphere: bounds and distances in radians.
    legacy = list(places.find({"loc": {"$nearSphere": [0, 0], "$maxDistance": 5000 / R}},
                              {"d": {"$meta": "geoNearDistance"}}))
    assert [doc["_id"] for doc in legacy] == ["e", "a", "b", "c"]
    for doc in legacy:
        assert doc["d"] == pytest.approx(sphere_distance((0, 0), PLACES[doc["_id"]][1]) / R, rel=1e-7)
    # Without bounds every document comes back, nearest first; a limit keeps the nearest.
    assert [doc["_id"] for doc in places.find({"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}})] == \
        ["e", "a", "b", "c", "d", "far"]
    assert [doc["_id"] for doc in places.find({"loc": {"$nearSphere": {"$geometry": {"type": "Point", "coordinates": [0.1, 0]}}}}).limit(2)] == \
        ["d", "c"]


def test_geo_within_center_sphere_and_intersects(places):
    within = places.find({"loc": {"$geoWithin": {"$centerSphere": [[0, 0], 3000 / R]}}})
    assert sorted(doc["_id"] for doc in within) == ["a", "b", "e"]
    square = {"type": "Polygon", "coordinates": [[[-0.02, -0.02], [0.02, -0.02], [0.02, 0.025], [-0.02, 0.025], [-0.02, -0.02]]]}
    assert sorted(doc["_id"] for doc in places.find({"loc": {"$geoIntersects": {"$geometry": square}}})) == ["a", "b", "e"]
    assert sorted(doc["_id"] for doc in places.find({"loc": {"$geoWithin": {"$geometry": square}}})) == ["a", "b", "e"]
    # A point meets the stored point at the same place, legacy or GeoJSON.
    assert [doc["_id"] for doc in places.find({"loc": {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [0, 0.02]}}}})] == ["b"]
    # countDocuments runs a $match: fine for region queries, refused for $near.
    assert places.count_documents({"loc": {"$geoWithin": {"$centerSphere": [[0, 0], 3000 / R]}}}) == 3
    with pytest.raises(OperationFailure) as e:
        places.count_documents({"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}})
    assert e.value.code == 5626500


def test_geonear_stage_with_distance_field_and_include_locs(places):
    out = list(places.aggregate([
        {"$geoNear": {"near": {"type": "Point", "coordinates": [0, 0]}, "distanceField": "dist.calculated",
                      "includeLocs": "dist.location", "maxDistance": 5000, "spherical": True}},
    ]))
    assert [doc["_id"] for doc in out] == ["e", "a", "b", "c"]
    for doc in out:
        stored, point = PLACES[doc["_id"]]
        assert doc["loc"] == stored
        assert doc["dist"]["calculated"] == pytest.approx(sphere_distance((0, 0), point), rel=1e-7)
        assert doc["dist"]["location"] == stored  # the stored geometry, as stored
        assert list(doc.keys()) == ["_id", "loc", "dist"]
    # query, distanceMultiplier (km), a legacy near in radians.
    out = list(places.aggregate([
        {"$geoNear": {"near": [0, 0], "distanceField": "km", "spherical": True, "distanceMultiplier": R / 1000,
                      "query": {"_id": {"$in": ["b", "d", "far"]}}}},
        {"$project": {"km": 1}},
    ]))
    assert [doc["_id"] for doc in out] == ["b", "d", "far"]
    for doc in out:
        assert doc["km"] == pytest.approx(sphere_distance((0, 0), PLACES[doc["_id"]][1]) / 1000, rel=1e-7)
    # Only as the first stage.
    with pytest.raises(OperationFailure) as e:
        list(places.aggregate([{"$match": {}}, {"$geoNear": {"near": [0, 0], "distanceField": "d", "spherical": True}}]))
    assert e.value.code == 40602


def test_explain_names_the_2dsphere_index(places):
    near = places.find({"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}, "$maxDistance": 5000}}})
    plan = near.explain()["queryPlanner"]["winningPlan"]
    geo = [s for s in stages(plan) if s["stage"] == "GEO_NEAR_2DSPHERE"]
    assert len(geo) == 1, plan
    assert geo[0]["indexName"] == "loc_2dsphere"
    assert geo[0]["keyPattern"] == {"loc": "2dsphere"}
    within = places.find({"loc": {"$geoWithin": {"$centerSphere": [[0, 0], 3000 / R]}}})
    assert winning_index(within.explain()) == "loc_2dsphere"
    intersects = places.find({"loc": {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [0, 0.02]}}}})
    assert winning_index(intersects.explain()) == "loc_2dsphere"


def test_explain_of_a_geonear_pipeline_shows_its_near_read(db, places):
    """The $geoNear stage is its $near query's read: explain shows that plan
    (MongoDB's $geoNearCursor) with the figures of running it, not a
    collection scan that never happens."""
    reply = db.command("explain", {"aggregate": places.name, "cursor": {},
                                   "pipeline": [{"$geoNear": {"near": {"type": "Point", "coordinates": [0, 0]},
                                                              "distanceField": "d", "maxDistance": 3000}},
                                                {"$limit": 2}]},
                       verbosity="executionStats")
    first = reply["stages"][0]
    assert list(first) == ["$geoNearCursor"], reply["stages"]
    plan = first["$geoNearCursor"]
    assert plan["queryPlanner"]["winningPlan"]["stage"] == "GEO_NEAR_2DSPHERE"
    assert "COLLSCAN" not in [s["stage"] for s in stages(plan)]
    # Within 3 km of (0, 0): e, a and b (787 m, 1113 m, 2226 m).
    assert plan["executionStats"]["nReturned"] == 3
    assert reply["stages"][1] == {"$limit": 2}


def test_near_without_an_index_and_bad_operands(db, places):
    db.plain.insert_one({"loc": [0, 0]})
    cases = [
        (db.plain, {"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}}, 291),
        (places, {"loc": {"$near": [0, 0]}}, 291),  # flat: needs a 2d index
        (places, {"loc": {"$nearSphere": [0, 0], "$maxDistance": -1}}, 16896),
        (places, {"loc": {"$nearSphere": [0, 0], "$minDistance": "x"}}, 16893),
        (places, {"loc": {"$near": [0, 0, -1]}}, 18522),
        (places, {"loc": {"$geoWithin": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}}, 2),
        (places, {"$or": [{"loc": {"$nearSphere": [0, 0]}}, {"loc": {"$nearSphere": [1, 1]}}]}, 2),
    ]
    for coll, flt, code in cases:
        with pytest.raises(OperationFailure) as e:
            list(coll.find(flt))
        assert e.value.code == code, (flt, e.value)
    with pytest.raises(OperationFailure) as e:
        list(db.plain.aggregate([{"$geoNear": {"near": [0, 0], "distanceField": "d", "spherical": True}}]))
    assert e.value.code == 27


def test_geometry_the_index_cannot_take_is_location16755(db, places):
    before = sorted(doc["_id"] for doc in places.find())
    with pytest.raises(WriteError) as e:
        places.insert_one({"_id": "bad", "loc": {"type": "Point", "coordinates": [1.5]}})
    assert e.value.code == 16755
    message = e.value.details["errmsg"]
    # "Can't extract geo keys: <the document>  <the parser's reason>" (two spaces).
    assert message.startswith("Can't extract geo keys: "), message
    assert "bad" in message and "  " in message, message
    with pytest.raises(WriteError) as e:
        places.insert_one({"_id": "oob", "loc": [22.52395, 113.943442]})
    assert e.value.code == 16755
    assert e.value.details["errmsg"].startswith("Can't extract geo keys: ")
    with pytest.raises(WriteError) as e:
        places.update_one({"_id": "a"}, {"$set": {"loc": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}})
    assert e.value.code == 16755
    assert sorted(doc["_id"] for doc in places.find()) == before
    assert places.find_one({"_id": "a"})["loc"] == PLACES["a"][0]
    # A command's error carries the code name MongoDB gives an unnamed code.
    with pytest.raises(OperationFailure) as e:
        places.find_one_and_update({"_id": "a"}, {"$set": {"loc": {"type": "Point", "coordinates": [0, 100]}}})
    assert e.value.code == 16755
    assert e.value.details["codeName"] == "Location16755"
    assert "Can't extract geo keys: " in e.value.details["errmsg"]
    # Building the index over a bad shape fails the same way and names the
    # document (geo_invalid_polygon.js: the _id 42 is in the message).
    db.shapes.insert_one({"_id": 42, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [-2, -1], [0, 0]]]}})
    with pytest.raises(OperationFailure) as e:
        db.shapes.create_index([("geometry", GEOSPHERE)])
    assert e.value.code == 16755
    assert e.value.details["codeName"] == "Location16755"
    assert "Can't extract geo keys" in e.value.details["errmsg"] and "42" in e.value.details["errmsg"]
    assert [i["name"] for i in db.shapes.list_indexes()] == ["_id_"]


class Place(Document):
    name = StringField()
    location = PointField()
    meta = {"collection": "geo_places"}


def test_mongoengine_point_field_queries(server):
    mongoengine.disconnect_all()
    mongoengine.connect(db="t_mongoengine_geo", host=server.uri, serverSelectionTimeoutMS=5000)
    try:
        Place.drop_collection()
        Place.ensure_indexes()
        for name, (_, point) in PLACES.items():
            Place(name=name, location=list(point)).save()
        indexes = Place._get_collection().index_information()
        assert indexes["location_2dsphere"]["key"] == [("location", "2dsphere")]
        stored = Place._get_collection().find_one({"name": "b"})
        assert stored["location"] == {"type": "Point", "coordinates": [0, 0.02]}
        # near with max_distance: {$near: {$geometry: Point, $maxDistance}} (metres), nearest first.
        near = Place.objects(location__near=[0, 0], location__max_distance=5000)
        assert [p.name for p in near] == ["e", "a", "b", "c"]
        ring = Place.objects(location__near=[0, 0], location__min_distance=1000, location__max_distance=3000)
        assert [p.name for p in ring] == ["a", "b"]
        assert [p.name for p in Place.objects(location__near=[0.1, 0])][:2] == ["d", "c"]
        # geo_within_sphere: [[lng, lat], radians].
        assert sorted(p.name for p in Place.objects(location__geo_within_sphere=[[0, 0], 3000 / R])) == ["a", "b", "e"]
        square = [[[-0.02, -0.02], [0.02, -0.02], [0.02, 0.025], [-0.02, 0.025], [-0.02, -0.02]]]
        assert sorted(p.name for p in Place.objects(location__geo_intersects=square)) == ["a", "b", "e"]
        assert sorted(p.name for p in Place.objects(location__geo_within=square)) == ["a", "b", "e"]
        assert [p.name for p in Place.objects(location__geo_intersects=[0.03, 0.03])] == ["c"]
        assert Place.objects(location__geo_within_sphere=[[10, 10], 0.001]).count() == 1
    finally:
        Place.drop_collection()
        mongoengine.disconnect_all()


class Shop(Document):
    """mongoengine's GeoPointField stores [x, y] and makes a "2d" index."""
    name = StringField()
    where = mongoengine.GeoPointField()
    meta = {"collection": "shops"}


def test_mongoengine_geo_point_field_makes_and_uses_a_2d_index(server):
    mongoengine.disconnect_all()
    mongoengine.connect(db="t_mongoengine_2d", host=server.uri, serverSelectionTimeoutMS=5000)
    try:
        Shop.drop_collection()
        Shop.ensure_indexes()
        spots = {"a": [1, 1], "b": [2, 2], "c": [5, 5], "d": [-3, 0.5], "e": [1.2, 0.9]}
        for name, point in spots.items():
            Shop(name=name, where=point).save()
        assert Shop._get_collection().index_information()["where_2d"]["key"] == [("where", "2d")]
        flat = lambda name: math.hypot(spots[name][0] - 1, spots[name][1] - 1)  # noqa: E731
        # near: flat distances in coordinate units, nearest first
        assert [s.name for s in Shop.objects(where__near=[1, 1])] == sorted(spots, key=flat)
        assert [s.name for s in Shop.objects(where__near=[1, 1], where__max_distance=1.5)] == ["a", "e", "b"]
        assert sorted(s.name for s in Shop.objects(where__within_box=[(0, 0), (2, 2)])) == ["a", "b", "e"]
        assert sorted(s.name for s in Shop.objects(where__within_distance=[(1, 1), 0.5])) == ["a", "e"]
        square = [(0, 0), (2.5, 0), (2.5, 2.5), (0, 2.5)]
        assert sorted(s.name for s in Shop.objects(where__within_polygon=square)) == ["a", "b", "e"]
        # mongod's ray casting leaves points on a left-hand sloped edge out: a and b here
        assert [s.name for s in Shop.objects(where__within_polygon=[(0, 0), (3, 0), (3, 3)])] == ["e"]
        near = Shop._get_collection().find({"where": {"$near": [1, 1]}}).limit(2).explain()["queryPlanner"]
        assert "GEO_NEAR_2D" in [s.get("stage") for s in stages(near["winningPlan"])]
        with pytest.raises(WriteError) as e:
            Shop._get_collection().insert_one({"where": [500, 0]})
        assert e.value.code == 13027
        with pytest.raises(OperationFailure) as e:
            Shop._get_collection().create_index([("where", "2d")], name="again", bits=40)
        assert e.value.code == 72
    finally:
        Shop.drop_collection()
        mongoengine.disconnect_all()
