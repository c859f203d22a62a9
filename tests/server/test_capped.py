"""Capped collections over the wire, as a driver sees them: create with
capped/size/max (MongoDB 6.0's rules and errors), the oldest documents going
on insert, listCollections' options, collStats' capped/max/maxSize, writes in
transactions refused, cloneCollectionAsCapped and convertToCapped."""
import pymongo
import pytest
from bson.son import SON
from pymongo.errors import OperationFailure

from conftest import DocketServer


def code_of(call):
    with pytest.raises(OperationFailure) as e:
        call()
    return e.value.code


def test_create_rules_and_errors(db):
    assert code_of(lambda: db.create_collection("a", capped=True)) == 72
    assert code_of(lambda: db.command(SON([("create", "b"), ("size", 4096)]))) == 72
    assert code_of(lambda: db.create_collection("c", capped=True, size=0)) == 51024
    assert code_of(lambda: db.create_collection("d", capped=True, size=2 ** 50 + 1)) == 2
    assert code_of(lambda: db.create_collection("e", capped=True, size=4096, max=2 ** 31)) == 2
    assert db.list_collection_names() == []
    db.create_collection("small", capped=True, size=100)
    db.create_collection("odd", capped=True, size=5000, max=10)
    options = {c["name"]: c["options"] for c in db.list_collections()}
    assert options["small"] == {"capped": True, "size": 4096}
    assert options["odd"] == {"capped": True, "size": 5120, "max": 10}
    assert db.odd.options() == {"capped": True, "size": 5120, "max": 10}
    stats = db.command("collStats", "odd")
    assert stats["capped"] is True and stats["max"] == 10 and stats["maxSize"] == 5120
    assert db.command("collStats", "small")["capped"] is True
    db.create_collection("plain")
    assert db.command("collStats", "plain")["capped"] is False


def test_inserts_push_the_oldest_out(db):
    coll = db.create_collection("log", capped=True, size=1 << 20, max=5)
    coll.create_index("n")
    coll.insert_many([{"_id": i, "n": i} for i in range(12)])
    assert [d["_id"] for d in coll.find()] == [7, 8, 9, 10, 11]
    assert [d["_id"] for d in coll.find().sort("$natural", -1)] == [11, 10, 9, 8, 7]
    assert coll.count_documents({}) == 5
    assert coll.count_documents({"n": {"$lt": 7}}) == 0  # index entries went with them
    for i in range(12, 20):
        coll.insert_one({"_id": i, "n": i})
    assert [d["_id"] for d in coll.find()] == [15, 16, 17, 18, 19]
    assert db.validate_collection("log")["valid"] is True
    sized = db.create_collection("sized", capped=True, size=4096)
    for i in range(20):
        sized.insert_one({"_id": i, "pad": "x" * 1000})
    stats = db.command("collStats", "sized")
    assert stats["size"] <= 4096 and stats["count"] == 4
    assert [d["_id"] for d in sized.find()] == [16, 17, 18, 19]


@pytest.fixture(scope="module")
def rs_server():
    s = DocketServer("--replica-set", "rs0")
    yield s
    assert s.stop() == 0


def test_updates_and_deletes_work_and_transactions_are_refused(rs_server):
    client = pymongo.MongoClient(rs_server.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=5000)
    try:
        db = client.t_capped_txn
        client.drop_database("t_capped_txn")
        coll = db.create_collection("c", capped=True, size=4096)
        coll.insert_many([{"_id": i, "v": 1} for i in range(3)])
        assert coll.update_one({"_id": 1}, {"$set": {"v": "grown" * 100}}).modified_count == 1
        assert coll.delete_one({"_id": 0}).deleted_count == 1
        assert [d["_id"] for d in coll.find()] == [1, 2]
        message = "Collection 't_capped_txn.c' is a capped collection. Writes in transactions are not allowed on capped collections."
        for write in (lambda s: coll.insert_one({"_id": 9}, session=s),
                      lambda s: coll.update_one({"_id": 1}, {"$set": {"v": 2}}, session=s),
                      lambda s: coll.delete_many({"none": 1}, session=s),
                      lambda s: coll.find_one_and_update({"_id": 2}, {"$set": {"v": 3}}, session=s)):
            with client.start_session() as session:
                with pytest.raises(OperationFailure) as e:
                    with session.start_transaction():
                        write(session)
                assert e.value.code == 263 and message in str(e.value)
        with client.start_session() as session:
            with session.start_transaction():
                assert [d["_id"] for d in coll.find(session=session)] == [1, 2]  # reads are fine
            with pytest.raises(OperationFailure) as e:
                with session.start_transaction():
                    db.create_collection("capped_in_txn", capped=True, size=4096, session=session)
            assert e.value.code == 263
        assert [d["_id"] for d in coll.find()] == [1, 2]
        assert coll.find_one({"_id": 1})["v"] == "grown" * 100
    finally:
        client.drop_database("t_capped_txn")
        client.close()


def test_clone_and_convert(db):
    db.plain.insert_many([{"_id": i, "pad": "x" * 1000} for i in (5, 1, 4, 2, 3)])
    db.plain.create_index("pad")
    db.command(SON([("cloneCollectionAsCapped", "plain"), ("toCollection", "copy"), ("size", 4096)]))
    assert [d["_id"] for d in db.copy.find()] == [1, 4, 2, 3]
    assert db.copy.options() == {"capped": True, "size": 4096}
    assert [i["name"] for i in db.copy.list_indexes()] == ["_id_"]
    assert code_of(lambda: db.command(SON([("cloneCollectionAsCapped", "nope"), ("toCollection", "x"), ("size", 4096)]))) == 26
    assert code_of(lambda: db.command(SON([("cloneCollectionAsCapped", "plain"), ("toCollection", "copy"), ("size", 4096)]))) == 48
    assert code_of(lambda: db.command(SON([("cloneCollectionAsCapped", "plain"), ("toCollection", "y")]))) == 40414
    db.command(SON([("convertToCapped", "plain"), ("size", 4096)]))
    assert db.plain.options() == {"capped": True, "size": 4096}
    assert [d["_id"] for d in db.plain.find()] == [1, 4, 2, 3]
    assert sorted(db.list_collection_names()) == ["copy", "plain"]
    assert code_of(lambda: db.command(SON([("convertToCapped", "nope"), ("size", 4096)]))) == 26
