"""Read-only views over the wire, as a driver sees them, against MongoDB 6.0's
documented behaviour and messages: create with viewOn/pipeline, reads through
find/count/distinct/aggregate/explain (and $lookup/$unionWith from a view),
views on views, listCollections, drop, collMod, and every refusal: writes,
indexes, statistics, a cycle, a chain too deep, stages a view cannot hold.
A metamorphic check compares every read of a view with the same read written
out by hand over the collection."""
import threading
import time

import pymongo
import pytest
from bson.son import SON
from pymongo.errors import BulkWriteError, OperationFailure, WriteError

from conftest import DocketServer


def failure(call):
    with pytest.raises(OperationFailure) as e:
        call()
    return e.value.code, str(e.value.details.get("errmsg", ""))


@pytest.fixture
def people(db):
    db.people.insert_many([
        {"_id": 1, "name": "ada", "age": 36, "tags": ["math", "code"], "city": "london"},
        {"_id": 2, "name": "grace", "age": 85, "tags": ["code"], "city": "arlington"},
        {"_id": 3, "name": "alan", "age": 41, "tags": ["math"], "city": "london"},
        {"_id": 4, "name": "edsger", "age": 72, "tags": [], "city": "austin"},
        {"_id": 5, "name": "barbara", "age": 58, "city": "boston"},
    ])
    db.command(SON([("create", "adults"), ("viewOn", "people"),
                    ("pipeline", [{"$match": {"age": {"$gte": 40}}}, {"$project": {"tags": 0}}])]))
    return db


def test_find_count_distinct_through_a_view(people):
    db = people
    assert [d["_id"] for d in db.adults.find()] == [2, 3, 4, 5]
    assert all("tags" not in d for d in db.adults.find())
    assert [d["name"] for d in db.adults.find({"city": "london"})] == ["alan"]
    assert [d["_id"] for d in db.adults.find(sort=[("age", -1)], skip=1, limit=2)] == [4, 5]
    assert list(db.adults.find({"_id": 3}, {"name": 1})) == [{"_id": 3, "name": "alan"}]
    assert list(db.adults.find({"_id": 3}, {"name": 1, "_id": 0})) == [{"name": "alan"}]
    assert db.adults.count_documents({}) == 4
    assert db.adults.count_documents({"city": "london"}) == 1
    assert db.adults.count_documents({}, skip=1, limit=2) == 2
    assert db.adults.estimated_document_count() == 4  # MongoDB counts a view's documents
    assert db.command("count", "adults")["n"] == 4
    assert sorted(db.adults.distinct("city")) == ["arlington", "austin", "boston", "london"]
    assert db.adults.distinct("tags") == []  # the view projects them away
    assert sorted(db.adults.distinct("name", {"age": {"$lt": 60}})) == ["alan", "barbara"]
    # Batches: getMore on the view's cursor.
    cursor = db.adults.find(batch_size=1)
    assert [d["_id"] for d in cursor] == [2, 3, 4, 5]
    # A view on a collection that does not exist reads nothing.
    db.create_collection("ghost_view", viewOn="nothing_here", pipeline=[])
    assert list(db.ghost_view.find()) == []
    assert db.ghost_view.count_documents({}) == 0
    assert db.ghost_view.distinct("x") == []


def test_aggregate_through_views_and_views_on_views(people):
    db = people
    got = list(db.adults.aggregate([{"$group": {"_id": "$city", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]))
    assert got == [{"_id": "arlington", "n": 1}, {"_id": "austin", "n": 1},
                   {"_id": "boston", "n": 1}, {"_id": "london", "n": 1}]
    db.create_collection("old_londoners", viewOn="adults", pipeline=[{"$match": {"city": "london"}}])
    assert [d["name"] for d in db.old_londoners.find()] == ["alan"]
    assert db.old_londoners.count_documents({}) == 1
    # $lookup, $unionWith and $graphLookup read views too.
    db.visits.insert_many([{"_id": 10, "who": 3}, {"_id": 11, "who": 1}])
    joined = list(db.visits.aggregate([
        {"$lookup": {"from": "adults", "localField": "who", "foreignField": "_id", "as": "p"}},
        {"$sort": {"_id": 1}}]))
    assert [len(v["p"]) for v in joined] == [1, 0]  # ada (36) is not in the view
    joined = list(db.visits.aggregate([
        {"$lookup": {"from": "adults", "let": {"w": "$who"},
                     "pipeline": [{"$match": {"$expr": {"$eq": ["$_id", "$$w"]}}}], "as": "p"}},
        {"$sort": {"_id": 1}}]))
    assert [len(v["p"]) for v in joined] == [1, 0]
    union = list(db.visits.aggregate([{"$unionWith": "old_londoners"}, {"$sort": {"_id": 1}}]))
    assert [d["_id"] for d in union] == [3, 10, 11]
    # Explain of a find on a view is the aggregation's explain.
    explained = db.command("explain", {"find": "adults", "filter": {"city": "london"}})
    assert "stages" in explained or "queryPlanner" in explained


def test_reads_of_a_view_equal_the_same_reads_by_hand(people):
    """Metamorphic: a view is its pipeline, whatever read goes through it."""
    db = people
    pipeline = [{"$match": {"age": {"$gte": 40}}}, {"$project": {"tags": 0}}]
    reads = [
        ({}, None, None), ({"city": "london"}, None, None), ({"age": {"$lt": 80}}, [("age", 1)], 2),
        ({"name": {"$regex": "^a"}}, [("_id", -1)], None), ({"nope": {"$exists": True}}, None, None),
    ]
    for flt, sort, limit in reads:
        via_view = list(db.adults.find(flt, sort=sort, limit=limit or 0))
        stages = pipeline + [{"$match": flt}]
        if sort:
            stages.append({"$sort": SON(sort)})
        if limit:
            stages.append({"$limit": limit})
        by_hand = list(db.people.aggregate(stages))
        assert via_view == by_hand, flt
        assert db.adults.count_documents(flt) == len(list(db.people.aggregate(pipeline + [{"$match": flt}])))


def test_list_collections_shows_views(people):
    db = people
    entries = {c["name"]: c for c in db.list_collections()}
    assert entries["adults"] == {
        "name": "adults", "type": "view",
        "options": {"viewOn": "people",
                    "pipeline": [{"$match": {"age": {"$gte": 40}}}, {"$project": {"tags": 0}}]},
        "info": {"readOnly": True}}
    assert entries["people"]["type"] == "collection"
    assert [c["name"] for c in db.list_collections(filter={"type": "view"})] == ["adults"]
    named = db.command("listCollections", nameOnly=True)["cursor"]["firstBatch"]
    assert {"name": "adults", "type": "view"} in named
    assert db.command("dbStats")["views"] == 1
    assert db.command("dbStats")["collections"] == 1


def test_create_errors(people):
    db = people
    assert failure(lambda: db.command(SON([("create", "v"), ("pipeline", [])]))) == \
        (72, "'pipeline' requires 'viewOn' to also be specified")
    assert failure(lambda: db.command(SON([("create", "v"), ("viewOn", "")])))[0] == 2
    assert failure(lambda: db.command(SON([("create", "v"), ("viewOn", 5)])))[0] == 14
    code, msg = failure(lambda: db.command(SON([("create", "v"), ("viewOn", "people"), ("pipeline", [5])])))
    assert code == 14 and "create.pipeline.0" in msg
    assert failure(lambda: db.command(SON([("create", "v"), ("viewOn", "people"),
                                           ("pipeline", [{"$nope": 1}])]))) == \
        (40324, "Unrecognized pipeline stage name: '$nope'")
    code, msg = failure(lambda: db.command(SON([("create", "v"), ("viewOn", "people"),
                                                ("pipeline", [{"$out": "x"}])])))
    assert code == 167 and msg.startswith("Invalid pipeline for view %s.v :: caused by :: " % db.name)
    code, msg = failure(lambda: db.command(SON([("create", "v"), ("viewOn", "people"),
                                                ("pipeline", [{"$match": {"$bad": 1}}])])))
    assert code == 2 and "Invalid pipeline for view" in msg
    # Names taken, by a collection or a view, in MongoDB's words.
    assert failure(lambda: db.command(SON([("create", "people"), ("viewOn", "x")]))) == \
        (48, "Cannot create collection %s.people - collection already exists." % db.name)
    assert failure(lambda: db.command(SON([("create", "adults"), ("viewOn", "people")]))) == \
        (48, "Namespace already exists")
    assert failure(lambda: db.command("create", "adults")) == \
        (48, "A view already exists. NS: %s.adults" % db.name)
    assert failure(lambda: db.command(SON([("create", "system.views"), ("viewOn", "people")])))[0] == 73
    # capped/size are checked, then mean nothing for a view (MongoDB 6.0).
    assert failure(lambda: db.command(SON([("create", "v"), ("viewOn", "people"), ("capped", True)])))[0] == 72
    db.command(SON([("create", "v2"), ("viewOn", "people"), ("capped", True), ("size", 4096)]))
    assert db.v2.count_documents({}) == 5


def test_no_view_is_created_in_a_transaction():
    s = DocketServer("--replica-set", "rs0")
    client = pymongo.MongoClient(s.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=5000)
    db = client.views_in_txn
    db.people.insert_one({"_id": 1})
    with client.start_session() as session:
        session.start_transaction()
        assert failure(lambda: db.command(SON([("create", "vt"), ("viewOn", "people")]), session=session)) == \
            (263, "Cannot create a view in a multi-document transaction.")
        session.abort_transaction()
    assert "vt" not in db.list_collection_names()
    client.close()
    assert s.stop() == 0


def test_cycles_and_depth(db):
    assert failure(lambda: db.create_collection("self", viewOn="self")) == \
        (5, "View cycle detected: %s.self => %s.self => %s.self" % (db.name, db.name, db.name))
    db.create_collection("a", viewOn="b")  # b does not exist yet: allowed
    code, msg = failure(lambda: db.create_collection("b", viewOn="a"))
    assert code == 5 and msg.startswith("View cycle detected: ")
    # A cycle through a $lookup's collection counts too.
    code, _ = failure(lambda: db.create_collection(
        "b", viewOn="base", pipeline=[{"$lookup": {"from": "a", "localField": "x", "foreignField": "y", "as": "z"}}]))
    assert code == 5
    db.base.insert_one({"_id": 1})
    names = ["base"] + ["level%d" % i for i in range(1, 22)]
    for i in range(1, 21):
        db.create_collection(names[i], viewOn=names[i - 1])
    assert failure(lambda: db.create_collection(names[21], viewOn=names[20])) == \
        (165, "View depth limit exceeded; maximum depth is 20")
    # 19 views deep can be read; the 20th level exists but a read looks too deep.
    assert db[names[19]].count_documents({}) == 1
    code, msg = failure(lambda: list(db[names[20]].find()))
    assert code == 165 and msg == "View depth too deep or view cycle detected; maximum depth is 20"
    # collMod that would close a cycle is refused and changes nothing.
    assert failure(lambda: db.command(SON([("collMod", "level1"), ("viewOn", "level5")])))[0] == 5
    assert db.level3.count_documents({}) == 1


def test_writes_and_collection_commands_refused(people):
    db = people
    ns = db.name + ".adults"
    not_a_collection = "Namespace %s is a view, not a collection" % ns
    with pytest.raises((WriteError, BulkWriteError, OperationFailure)) as e:
        db.adults.insert_one({"_id": 9})
    assert "166" in str(e.value.details) or getattr(e.value, "code", None) == 166
    for call in [lambda: db.adults.update_one({}, {"$set": {"x": 1}}),
                 lambda: db.adults.update_one({"_id": 99}, {"$set": {"x": 1}}, upsert=True),
                 lambda: db.adults.delete_many({}),
                 lambda: db.adults.replace_one({"_id": 2}, {"x": 1})]:
        with pytest.raises((WriteError, OperationFailure)) as e:
            call()
        assert e.value.code == 166, e.value.details
    assert failure(lambda: db.adults.find_one_and_update({}, {"$set": {"x": 1}})) == (166, not_a_collection)
    assert failure(lambda: db.adults.create_index("age")) == (166, not_a_collection)
    assert failure(lambda: db.adults.drop_index("age_1"))[0] == 166
    assert failure(lambda: list(db.adults.list_indexes())) == (166, not_a_collection)
    assert failure(lambda: db.command("collStats", "adults"))[0] == 166
    assert failure(lambda: db.command("validate", "adults")) == (166, "Cannot validate a view")
    assert failure(lambda: db.command("convertToCapped", "adults", size=4096)) == \
        (166, "cloneCollectionAsCapped not supported for views: " + ns)
    assert failure(lambda: db.adults.rename("grownups")) == (166, "cannot rename view: " + ns)
    assert failure(lambda: db.people.rename("adults", dropTarget=True)) == \
        (48, "a view already exists with that name: " + ns)
    assert failure(lambda: list(db.people.aggregate([{"$out": "adults"}])))[0] == 166
    # Nothing changed underneath.
    assert db.people.count_documents({}) == 5
    assert db.adults.count_documents({}) == 4
    # find options an aggregation does not have.
    assert failure(lambda: list(db.adults.find(no_cursor_timeout=True))) == \
        (168, "Option noCursorTimeout not supported in aggregation.")
    assert failure(lambda: list(db.adults.find(sort=[("$natural", 1)]))) == \
        (168, "Sort option $natural not supported in aggregation.")
    assert failure(lambda: db.command("find", "adults", tailable=True)) == \
        (168, "Tailable cursors are not supported in aggregation.")
    assert [d["_id"] for d in db.adults.find(hint=[("$natural", 1)])] == [2, 3, 4, 5]


def test_drop_and_coll_mod(people):
    db = people
    db.command(SON([("collMod", "adults"), ("pipeline", [{"$match": {"city": "london"}}])]))
    assert [d["_id"] for d in db.adults.find()] == [1, 3]
    entry = [c for c in db.list_collections() if c["name"] == "adults"][0]
    assert entry["options"] == {"viewOn": "people", "pipeline": [{"$match": {"city": "london"}}]}
    db.other.insert_one({"_id": 7, "city": "london"})
    db.command(SON([("collMod", "adults"), ("viewOn", "other")]))
    assert [d["_id"] for d in db.adults.find()] == [7]
    assert failure(lambda: db.command(SON([("collMod", "people"), ("viewOn", "other")]))) == \
        (72, "option only supported on a view: viewOn")
    assert failure(lambda: db.command(SON([("collMod", "adults"), ("cappedSize", 4096)]))) == \
        (72, "option not supported on a view: cappedSize")
    assert failure(lambda: db.command(SON([("collMod", "adults"), ("pipeline", [{"$merge": "x"}])])))[0] == 167
    assert failure(lambda: db.command(SON([("collMod", "nope"), ("viewOn", "other")])))[0] == 26
    reply = db.command("drop", "adults")
    assert reply["ns"] == db.name + ".adults" and "nIndexesWas" not in reply
    assert "adults" not in db.list_collection_names()
    assert db.people.count_documents({}) == 5  # the collection under it stays
    db.create_collection("again", viewOn="people")
    db.client.drop_database(db.name)
    assert db.list_collection_names() == []


def test_view_survives_restart(tmp_path):
    s = DocketServer(dbpath=str(tmp_path))
    client = s.client()
    db = client.views_restart
    db.base.insert_many([{"_id": i, "even": i % 2 == 0} for i in range(6)])
    db.create_collection("evens", viewOn="base", pipeline=[{"$match": {"even": True}}])
    db.create_collection("evens_desc", viewOn="evens", pipeline=[{"$sort": {"_id": -1}}])
    client.close()
    assert s.stop() == 0
    s = DocketServer(dbpath=str(tmp_path))
    client = s.client()
    assert [d["_id"] for d in client.views_restart.evens_desc.find()] == [4, 2, 0]
    assert client.views_restart.command("validate", "base")["valid"] is True
    client.close()
    assert s.stop() == 0


def test_concurrent_redefinitions_never_make_a_cycle(db):
    """Two collMods that would each close a cycle with the other: at most one
    wins, and the views stay readable."""
    db.base.insert_one({"_id": 1})
    db.create_collection("x", viewOn="base")
    db.create_collection("y", viewOn="base")
    for _ in range(20):
        results = []

        def redefine(view, on):
            try:
                db.command(SON([("collMod", view), ("viewOn", on)]))
                results.append("ok")
            except OperationFailure as e:
                results.append(e.code)

        threads = [threading.Thread(target=redefine, args=("x", "y")),
                   threading.Thread(target=redefine, args=("y", "x"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count("ok") <= 1 and all(r in ("ok", 5) for r in results), results
        assert db.x.count_documents({}) == 1 and db.y.count_documents({}) == 1
        db.command(SON([("collMod", "x"), ("viewOn", "base")]))
        db.command(SON([("collMod", "y"), ("viewOn", "base")]))


def test_list_collections_does_not_wait_for_an_index_build(db):
    """An index build holds its collection's lifecycle lock for the whole
    build; listCollections (and the view checks) read the options under a
    lock of their own, so they answer while the build runs."""
    db.big.insert_many([{"_id": i, "k": i % 1000, "pad": "x" * 50} for i in range(200000)])
    db.create_collection("on_big", viewOn="big")
    admin = db.client.admin
    builder = threading.Thread(target=lambda: db.big.create_index([("k", 1), ("pad", 1)]))
    builder.start()

    def building():
        return len(list(admin.aggregate([{"$currentOp": {}}, {"$match": {"command.createIndexes": "big"}}]))) == 1

    deadline = time.time() + 20
    while not building() and builder.is_alive() and time.time() < deadline:
        time.sleep(0.005)
    if not building():
        builder.join()
        pytest.skip("the index build ended before it could be observed")
    names = db.list_collection_names()
    still_building = building()
    builder.join()
    assert {"big", "on_big"} <= set(names)
    assert still_building, "listCollections answered only after the index build"
