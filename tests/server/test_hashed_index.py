"""Hashed indexes over the wire: created as MongoDB names them, used for
equality (explain shows the index), refusing what MongoDB refuses (unique,
two hashed fields, array values) without writing anything, and hashing as
mongod does ($toHashedIndexKey, what mongosh's convertShardKeyToHashed runs)."""
import pytest
from bson import Int64, ObjectId
from pymongo.errors import OperationFailure, WriteError

from conftest import winning_index


def test_equality_reads_the_hashed_index(db):
    assert db.c.create_index([("user", "hashed")]) == "user_hashed"
    db.c.insert_many([{"user": "u%d" % i, "n": i} for i in range(200)])
    cur = db.c.find({"user": "u17"})
    assert winning_index(cur.explain()) == "user_hashed"
    assert [d["n"] for d in cur] == [17]
    assert winning_index(db.c.find({"user": {"$in": ["u1", "u2"]}}).explain()) == "user_hashed"
    assert sorted(d["n"] for d in db.c.find({"user": {"$in": ["u1", "u2"]}})) == [1, 2]
    # A range cannot use it.
    assert winning_index(db.c.find({"user": {"$gt": "u5"}}).explain()) is None
    spec = [i for i in db.c.list_indexes() if i["name"] == "user_hashed"][0]
    assert spec["key"] == {"user": "hashed"}


def test_what_mongodb_refuses(db):
    with pytest.raises(OperationFailure) as e:
        db.c.create_index([("a", "hashed")], unique=True)
    assert e.value.code == 16764
    with pytest.raises(OperationFailure) as e:
        db.c.create_index([("a", "hashed"), ("b", "hashed")])
    assert e.value.code == 31303
    db.c.create_index([("a", "hashed")])
    db.c.insert_one({"_id": 1, "a": 1})
    with pytest.raises(WriteError) as e:
        db.c.insert_one({"_id": 2, "a": [1, 2]})
    assert e.value.code == 16766
    with pytest.raises(WriteError) as e:
        db.c.update_one({"_id": 1}, {"$set": {"a": [3]}})
    assert e.value.code == 16766
    assert list(db.c.find()) == [{"_id": 1, "a": 1}]
    # An index on data that already holds an array fails to build and leaves nothing behind.
    db.d.insert_one({"a": [1]})
    with pytest.raises(OperationFailure) as e:
        db.d.create_index([("a", "hashed")])
    assert e.value.code == 16766
    assert [i["name"] for i in db.d.list_indexes()] == ["_id_"]


def test_hashes_are_mongods(db):
    pipeline = [{"$documents": [{}]},
                {"$project": {"_id": 0,
                              "n": {"$toHashedIndexKey": 42},
                              "s": {"$toHashedIndexKey": "abc"},
                              "o": {"$toHashedIndexKey": {"$literal": ObjectId("010203040506070809101112")}}}}]
    out = list(db.client.admin.aggregate(pipeline))
    assert out == [{"n": Int64(-944302157085130861), "s": Int64(8478485326885698097),
                    "o": Int64(-5588663249627035708)}]
