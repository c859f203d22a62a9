"""CRUD, cursors, catalog commands and error codes through pymongo, against
a real `docket serve`."""
import pymongo
import pytest
from bson import Decimal128, Int64, ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure


def test_handshake_reports_wire_versions_and_limits(client):
    hello = client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert hello["minWireVersion"] == 0 and hello["maxWireVersion"] == 17
    assert hello["maxBsonObjectSize"] == 16 * 1024 * 1024
    assert hello["maxMessageSizeBytes"] == 48000000
    assert hello["maxWriteBatchSize"] == 100000
    assert hello["helloOk"] is True and "connectionId" in hello and "localTime" in hello
    legacy = client.admin.command("isMaster")
    assert legacy["ismaster"] is True
    assert client.admin.command("ping")["ok"] == 1.0
    assert client.admin.command("buildInfo")["version"].startswith("6.0")


def test_insert_find_roundtrip_keeps_types(db):
    oid = ObjectId()
    doc = {"_id": oid, "i": 1, "l": Int64(2), "d": 1.5, "dec": Decimal128("0.10"), "s": "x",
           "a": [1, {"b": 2}], "o": {"n": None}, "t": True}
    db.c.insert_one(doc)
    assert db.c.find_one({"_id": oid}) == doc


def test_missing_id_gets_an_objectid_first(db):
    result = db.c.insert_one({"x": 1})
    stored = db.c.find_one({"x": 1})
    assert isinstance(result.inserted_id, ObjectId)
    assert list(stored.keys())[0] == "_id"


def test_duplicate_key_error_code_and_message(db):
    db.c.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError) as e:
        db.c.insert_one({"_id": 1})
    assert e.value.code == 11000
    assert "E11000 duplicate key error collection: %s.c index: _id_ dup key: { _id: 1 }" % db.name in str(e.value)


def test_insert_many_ordered_and_unordered_report_indexes(db):
    with pytest.raises(BulkWriteError) as e:
        db.c.insert_many([{"_id": 1}, {"_id": 1}, {"_id": 2}])
    assert e.value.details["nInserted"] == 1
    assert [(w["index"], w["code"]) for w in e.value.details["writeErrors"]] == [(1, 11000)]
    with pytest.raises(BulkWriteError) as e:
        db.d.insert_many([{"_id": 1}, {"_id": 1}, {"_id": 2}, {"_id": 2}], ordered=False)
    assert e.value.details["nInserted"] == 2
    assert [w["index"] for w in e.value.details["writeErrors"]] == [1, 3]


def test_find_filter_sort_skip_limit_projection(db):
    db.c.insert_many([{"_id": i, "v": i % 3, "w": -i} for i in range(20)])
    got = list(db.c.find({"v": {"$in": [1, 2]}}, {"w": 1, "_id": 0}).sort("w", 1).skip(2).limit(3))
    assert got == [{"w": -16}, {"w": -14}, {"w": -13}]  # -19, -17 skipped
    assert db.c.count_documents({"v": 0}) == 7
    assert db.c.count_documents({}, skip=5, limit=4) == 4
    assert db.c.estimated_document_count() == 20
    assert sorted(db.c.distinct("v")) == [0, 1, 2]


def test_cursor_streams_in_batches_with_get_more(db):
    db.c.insert_many([{"_id": i} for i in range(1050)])
    cursor = db.c.find({}).batch_size(100)
    assert [d["_id"] for d in cursor] == list(range(1050))
    assert db.client.admin.command("serverStatus")["openCursors"] == 0


def test_kill_cursors_and_unknown_cursor(db):
    db.c.insert_many([{"_id": i} for i in range(300)])
    reply = db.command("find", "c", batchSize=10)
    cursor_id = reply["cursor"]["id"]
    assert cursor_id != 0
    killed = db.command("killCursors", "c", cursors=[cursor_id])
    assert killed["cursorsKilled"] == [cursor_id]
    with pytest.raises(OperationFailure) as e:
        db.command("getMore", cursor_id, collection="c")
    assert e.value.code == 43


def test_update_operators_upsert_and_replace(db):
    db.c.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 2}])
    r = db.c.update_many({"n": {"$gte": 1}}, {"$inc": {"n": 10}, "$set": {"seen": True}})
    assert (r.matched_count, r.modified_count) == (2, 2)
    r = db.c.update_one({"_id": 3}, {"$set": {"n": 0}, "$setOnInsert": {"new": True}}, upsert=True)
    assert r.upserted_id == 3
    assert db.c.find_one({"_id": 3}) == {"_id": 3, "n": 0, "new": True}
    r = db.c.replace_one({"_id": 1}, {"only": "this"})
    assert r.modified_count == 1
    assert db.c.find_one({"_id": 1}) == {"_id": 1, "only": "this"}


def test_update_errors_carry_mongodb_codes(db):
    db.c.insert_one({"_id": 1, "s": "text"})
    with pytest.raises(OperationFailure) as e:
        db.c.update_one({"_id": 1}, {"$inc": {"s": 1}})
    assert e.value.code == 14  # TypeMismatch
    with pytest.raises(OperationFailure) as e:
        db.c.update_one({"_id": 1}, {"$set": {"_id": 2}})
    assert e.value.code == 66  # ImmutableField
    with pytest.raises(OperationFailure) as e:
        db.c.update_one({"_id": 1}, {"$set": {"a": 1}, "$unset": {"a": 1}})
    assert e.value.code == 40  # ConflictingUpdateOperators
    with pytest.raises(OperationFailure) as e:
        db.c.find_one({"a": {"$bogus": 1}})
    assert e.value.code == 2  # BadValue


def test_query_operators_through_the_driver(db):
    import re
    db.c.insert_many([{"_id": 1, "s": "Apple", "tags": ["a", "b"], "r": [{"k": 1, "v": 2}]},
                      {"_id": 2, "s": "banana", "tags": ["b"], "r": [{"k": 1, "v": 1}]},
                      {"_id": 3, "s": 7, "tags": [], "r": []}])
    ids = lambda flt: [d["_id"] for d in db.c.find(flt).sort("_id", 1)]
    assert ids({"s": re.compile("^a", re.IGNORECASE)}) == [1]
    assert ids({"s": {"$regex": "AN", "$options": "i"}}) == [2]
    assert ids({"s": {"$type": "number"}}) == [3]
    assert ids({"tags": {"$size": 0}}) == [3]
    assert ids({"tags": {"$all": ["a", "b"]}}) == [1]
    assert ids({"r": {"$elemMatch": {"k": 1, "v": {"$gt": 1}}}}) == [1]
    assert ids({"s": {"$mod": [7, 0]}}) == [3]
    with pytest.raises(OperationFailure) as e:
        db.c.find_one({"s": {"$regex": "[)"}})
    assert e.value.code == 51091


def test_array_update_operators_and_array_filters(db):
    db.c.insert_one({"_id": 1, "grades": [80, 85, 90], "items": [{"n": "a", "q": 1}, {"n": "b", "q": 2}]})
    db.c.update_one({"_id": 1}, {"$push": {"grades": {"$each": [70], "$sort": 1, "$slice": -3}}})
    assert db.c.find_one()["grades"] == [80, 85, 90]
    db.c.update_one({"_id": 1}, {"$set": {"grades.$[g]": 100}}, array_filters=[{"g": {"$gte": 85}}])
    assert db.c.find_one()["grades"] == [80, 100, 100]
    db.c.update_one({"items.n": "b"}, {"$inc": {"items.$.q": 10}})
    doc = db.c.find_one_and_update({"_id": 1}, {"$pull": {"items": {"n": "a"}}, "$addToSet": {"grades": 80}},
                                   return_document=ReturnDocument.AFTER)
    assert doc["items"] == [{"n": "b", "q": 12}] and doc["grades"] == [80, 100, 100]
    with pytest.raises(OperationFailure) as e:
        db.c.update_one({"_id": 1}, {"$set": {"grades.$[x]": 1}})
    assert e.value.code == 2  # no array filter for identifier x


def test_delete_one_and_many(db):
    db.c.insert_many([{"_id": i, "v": i % 2} for i in range(10)])
    assert db.c.delete_one({"v": 1}).deleted_count == 1
    assert db.c.delete_many({"v": 1}).deleted_count == 4
    assert db.c.count_documents({}) == 5


def test_find_one_and_modify_family(db):
    after = db.counters.find_one_and_update({"_id": "seq"}, {"$inc": {"n": 1}}, upsert=True,
                                            return_document=ReturnDocument.AFTER)
    assert after == {"_id": "seq", "n": 1}
    before = db.counters.find_one_and_update({"_id": "seq"}, {"$inc": {"n": 1}})
    assert before == {"_id": "seq", "n": 1}
    replaced = db.counters.find_one_and_replace({"_id": "seq"}, {"n": 100}, return_document=ReturnDocument.AFTER)
    assert replaced == {"_id": "seq", "n": 100}
    assert db.counters.find_one_and_delete({"_id": "seq"}) == {"_id": "seq", "n": 100}
    assert db.counters.find_one_and_delete({"_id": "seq"}) is None
    raw = db.command("findAndModify", "counters", query={"_id": "x"}, update={"$inc": {"n": 1}}, upsert=True,
                     new=True)
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": False, "upserted": "x"}


def test_command_let_reaches_expr_in_filters(db):
    db.c.insert_many([{"_id": i, "v": i} for i in range(6)])
    expr = {"$expr": {"$gte": ["$v", "$$cutoff"]}}
    found = db.command("find", "c", filter=expr, let={"cutoff": 4})
    assert [d["_id"] for d in found["cursor"]["firstBatch"]] == [4, 5]
    updated = db.command("update", "c", updates=[{"q": expr, "u": {"$set": {"big": True}}, "multi": True}],
                         let={"cutoff": 3})
    assert updated["n"] == 3 and updated["nModified"] == 3
    raw = db.command("findAndModify", "c", query={"$expr": {"$eq": ["$v", "$$target"]}},
                     update={"$inc": {"v": 100}}, new=True, let={"target": 1})
    assert raw["value"] == {"_id": 1, "v": 101}
    deleted = db.command("delete", "c", deletes=[{"q": expr, "limit": 0}], let={"cutoff": 5})
    assert deleted["n"] == 2  # v 5 and v 101
    with pytest.raises(OperationFailure) as failure:
        db.command("find", "c", filter=expr)  # no let: $$cutoff is undefined
    assert failure.value.code == 17276
    failed = db.command("delete", "c", deletes=[{"q": {"$expr": {"$divide": ["$v", 0]}}, "limit": 0}])
    assert failed["n"] == 0 and failed["writeErrors"][0]["code"] == 16608
    assert db.c.count_documents({}) == 4


def test_catalog_commands(db, client):
    db.create_collection("made")
    with pytest.raises(OperationFailure) as e:
        db.command("create", "made")  # (pymongo's create_collection checks client-side first)
    assert e.value.code == 48  # NamespaceExists
    db.other.insert_one({})
    assert sorted(db.list_collection_names()) == ["made", "other"]
    assert [c["name"] for c in db.list_collections(filter={"name": "other"})] == ["other"]
    assert db.name in client.list_database_names()
    client.admin.command("renameCollection", db.name + ".other", to=db.name + ".renamed")
    assert sorted(db.list_collection_names()) == ["made", "renamed"]
    assert [i["name"] for i in db.renamed.list_indexes()] == ["_id_"]
    db.renamed.drop()
    assert db.list_collection_names() == ["made"]
    client.drop_database(db.name)
    assert db.name not in client.list_database_names()


def test_invalid_namespace_and_unknown_command(db):
    with pytest.raises(OperationFailure) as e:
        db.command("insert", "bad$name", documents=[{}])  # pymongo refuses the name before sending
    assert e.value.code == 73
    with pytest.raises(OperationFailure) as e:
        db.command("noSuchCommand")
    assert e.value.code == 59


def test_unacknowledged_write_is_applied(db):
    unacked = db.get_collection("c", write_concern=pymongo.WriteConcern(w=0))
    unacked.insert_one({"_id": "quiet"})
    assert db.c.find_one({"_id": "quiet"}) == {"_id": "quiet"}  # same connection: ordered after the write


def test_journaled_and_majority_write_concerns_are_accepted(db):
    for wc in (pymongo.WriteConcern(j=True), pymongo.WriteConcern(w="majority")):
        db.get_collection("c", write_concern=wc).insert_one({})
    assert db.c.count_documents({}) == 2


def test_stats_commands_count_what_is_stored(db):
    db.c.insert_many([{"_id": i, "pad": "x" * 10} for i in range(30)])
    stats = db.command("collStats", "c")
    assert stats["count"] == 30 and stats["nindexes"] == 1 and stats["size"] > 30 * 20
    assert stats["ns"] == db.name + ".c"
    dbstats = db.command("dbStats")
    assert dbstats["collections"] == 1 and dbstats["objects"] == 30


def test_validate_reads_every_record(db):
    db.c.insert_many([{"_id": i} for i in range(25)])
    result = db.validate_collection("c")
    assert result["valid"] is True and result["nrecords"] == 25 and result["errors"] == []
    with pytest.raises(OperationFailure) as e:
        db.validate_collection("missing")
    assert e.value.code == 26


def test_explain_shows_idhack_collscan_or_ixscan(db):
    db.c.insert_many([{"_id": i, "v": i % 2} for i in range(10)])
    by_id = db.c.find({"_id": 3}).explain()
    assert by_id["queryPlanner"]["winningPlan"]["stage"] == "IDHACK"
    assert by_id["executionStats"]["nReturned"] == 1
    scan = db.command("explain", {"find": "c", "filter": {"v": 1}}, verbosity="executionStats")
    assert scan["queryPlanner"]["winningPlan"]["stage"] == "COLLSCAN"
    assert scan["executionStats"]["nReturned"] == 5 and scan["executionStats"]["totalDocsExamined"] == 10


def test_index_commands_create_list_drop_and_enforce(db):
    db.c.insert_many([{"_id": 1, "email": "a@x", "n": 1}, {"_id": 2, "email": "b@x", "n": 2}])
    db.c.create_index([("_id", 1)])  # the _id index always exists
    assert db.c.create_index([("email", 1)], unique=True) == "email_1"
    assert db.c.create_index([("n", -1), ("email", 1)], name="n_email") == "n_email"
    assert [i["name"] for i in db.c.list_indexes()] == ["_id_", "email_1", "n_email"]
    info = db.c.index_information()
    assert info["email_1"]["unique"] is True and info["n_email"]["key"] == [("n", -1), ("email", 1)]
    with pytest.raises(DuplicateKeyError) as e:
        db.c.insert_one({"_id": 3, "email": "a@x"})
    assert "index: email_1 dup key: { email: \"a@x\" }" in str(e.value)
    with pytest.raises(OperationFailure) as e:
        db.c.create_index([("email", 1)], name="other")
    assert e.value.code == 85  # IndexOptionsConflict
    with pytest.raises(OperationFailure) as e:
        db.c.create_index([("n", 1)], unique=True)  # fine data-wise; then a violating build:
        db.c.insert_one({"_id": 4, "email": "c@x", "n": 1})
    assert e.value.code == 11000
    db.d.insert_many([{"k": 1}, {"k": 1}])
    with pytest.raises(OperationFailure) as e:
        db.d.create_index([("k", 1)], unique=True)
    assert e.value.code == 11000
    assert [i["name"] for i in db.d.list_indexes()] == ["_id_"]  # the failed build left nothing
    # The planner uses the index; explain shows it.
    plan = db.c.find({"email": "b@x"}).explain()["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "FETCH" and plan["inputStage"]["stage"] == "IXSCAN"
    assert plan["inputStage"]["indexName"] == "email_1"
    assert plan["inputStage"]["isUnique"] is True and plan["inputStage"]["isPartial"] is False
    with pytest.raises(OperationFailure) as e:
        db.c.drop_index("_id_")
    assert e.value.code == 72
    with pytest.raises(OperationFailure) as e:
        db.c.drop_index("v_1")
    assert e.value.code == 27
    was = db.command("dropIndexes", "c", index={"n": -1, "email": 1})["nIndexesWas"]  # by key pattern
    assert was == 4
    db.c.drop_indexes()  # "*": every index but _id_
    assert [i["name"] for i in db.c.list_indexes()] == ["_id_"]
    db.c.insert_one({"_id": 5, "email": "a@x"})  # no unique index any more

def test_partial_index_answers_filters_that_imply_its_expression(db):
    db.orders.create_index([("customer", 1)], name="open_by_customer",
                           partialFilterExpression={"status": "open", "total": {"$gt": 100}})
    db.orders.insert_many([{"_id": i, "customer": i % 5, "status": "open" if i % 2 else "closed",
                            "total": i * 10} for i in range(60)])

    def plan_of(filter):
        return db.orders.find(filter).explain()["queryPlanner"]["winningPlan"]

    def ids(filter):
        return sorted(d["_id"] for d in db.orders.find(filter))

    implied = {"customer": 3, "status": "open", "total": {"$gte": 200}}
    scan = plan_of(implied)["inputStage"]
    assert scan["stage"] == "IXSCAN" and scan["indexName"] == "open_by_customer" and scan["isPartial"] is True
    assert ids(implied) == [i for i in range(60) if i % 5 == 3 and i % 2 and i * 10 >= 200]
    # total > 50 does not imply total > 100: documents outside the index match.
    not_implied = {"customer": 3, "status": "open", "total": {"$gt": 50}}
    assert plan_of(not_implied)["stage"] == "COLLSCAN"
    assert ids(not_implied) == [i for i in range(60) if i % 5 == 3 and i % 2 and i * 10 > 50]


def test_server_status_reports_the_storage_engine_and_its_caches():
    """--cache-size and --row-cache-size are the caches' limits; once compact
    has moved the documents into table files, point reads through a unique
    index fill the row cache and the block cache."""
    from conftest import DocketServer
    server = DocketServer("--cache-size", "8", "--row-cache-size", "4")
    try:
        client = server.client()
        c = client.status_test.c
        c.create_index("k", unique=True)
        c.insert_many([{"_id": i, "k": i, "pad": "x" * 100} for i in range(2000)])
        status = client.admin.command("serverStatus")
        assert status["storageEngine"]["name"] == "docket"
        cache = status["docket"]["cache"]
        assert cache["blockCapacityBytes"] == 8 << 20
        assert cache["rowCapacityBytes"] == 4 << 20
        assert cache["rowBytes"] == 0, "nothing was read by key from table files yet"
        compacted = client.status_test.command("compact", "c")
        assert compacted["ok"] == 1 and isinstance(compacted["bytesFreed"], int) and compacted["bytesFreed"] >= 0
        for i in range(0, 2000, 7):
            assert c.find_one({"k": i})["_id"] == i
        cache = client.admin.command("serverStatus")["docket"]["cache"]
        assert 0 < cache["rowBytes"] <= cache["rowCapacityBytes"]
        assert 0 < cache["blockBytes"] <= cache["blockCapacityBytes"]
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            client.status_test.command("compact", "missing")
        assert e.value.code == 26  # NamespaceNotFound
    finally:
        assert server.stop() == 0
