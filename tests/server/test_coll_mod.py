"""collMod as MongoDB 6.0 answers it: hidden indexes (kept and enforced, never
planned or hinted), a TTL's expireAfterSeconds (and a plain single-field index
made TTL), a capped collection's cappedSize/cappedMax, and the errors; the
options of open issues are refused, not ignored."""
import struct

import pymongo
import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from bson.son import SON
from pymongo.errors import OperationFailure


def plan_stage(coll, filt, hint=None):
    cursor = coll.find(filt)
    if hint is not None:
        cursor = cursor.hint(hint)
    plan = cursor.explain()["queryPlanner"]["winningPlan"]
    while plan.get("stage") not in ("IXSCAN", "COLLSCAN") and "inputStage" in plan:
        plan = plan["inputStage"]
    return plan["stage"]


def array_keys(document, name):
    """The keys of the array field `name` of raw BSON `document`, as stored."""
    sizes = {0x01: 8, 0x08: 1, 0x09: 8, 0x10: 4, 0x11: 8, 0x12: 8, 0x07: 12, 0x0A: 0}
    at = 4
    while document[at] != 0:
        kind = document[at]
        end = document.index(b"\0", at + 1)
        key = document[at + 1:end].decode()
        at = end + 1
        if kind in (0x03, 0x04):
            length = struct.unpack_from("<i", document, at)[0]
            if key == name:
                inner, keys, pos = document[at:at + length], [], 4
                while inner[pos] != 0:
                    kend = inner.index(b"\0", pos + 1)
                    keys.append(inner[pos + 1:kend].decode())
                    pos = kend + 1 + struct.unpack_from("<i", inner, kend + 1)[0]  # each element is a document
                return keys
            at += length
        elif kind == 0x02:
            at += 4 + struct.unpack_from("<i", document, at)[0]
        elif kind == 0x05:
            at += 5 + struct.unpack_from("<i", document, at)[0]
        else:
            at += sizes[kind]
    raise KeyError(name)


def code_of(call):
    with pytest.raises(OperationFailure) as e:
        call()
    return e.value.code


def test_hidden_indexes_are_kept_but_not_planned(db):
    db.c.insert_many([{"_id": i, "a": i, "u": i} for i in range(20)])
    db.c.create_index("a")
    db.c.create_index("u", unique=True)
    assert plan_stage(db.c, {"a": 5}) == "IXSCAN"
    reply = db.command("collMod", "c", index={"name": "a_1", "hidden": True})
    assert reply["hidden_old"] is False and reply["hidden_new"] is True
    assert plan_stage(db.c, {"a": 5}) == "COLLSCAN"
    assert [d["_id"] for d in db.c.find({"a": 5})] == [5]  # same answer, without the index
    assert code_of(lambda: list(db.c.find({"a": 5}).hint("a_1"))) == 2
    assert [i.get("hidden") for i in db.c.list_indexes() if i["name"] == "a_1"] == [True]
    # A hidden unique index still refuses duplicates, and stays up to date.
    db.command("collMod", "c", index={"keyPattern": {"u": 1}, "hidden": True})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.c.insert_one({"_id": 99, "u": 3})
    db.c.insert_one({"_id": 100, "a": 5, "u": 100})
    reply = db.command("collMod", "c", index={"name": "a_1", "hidden": False})
    assert reply["hidden_old"] is True and reply["hidden_new"] is False
    assert plan_stage(db.c, {"a": 5}) == "IXSCAN"
    assert sorted(d["_id"] for d in db.c.find({"a": 5})) == [5, 100]
    assert db.validate_collection("c")["valid"] is True
    # createIndexes takes hidden too.
    db.c.create_index("b", hidden=True)
    assert plan_stage(db.c, {"b": 1}) == "COLLSCAN"
    assert code_of(lambda: db.command("createIndexes", "c", indexes=[{"key": {"z": 1}, "name": "z", "hidden": "yes"}])) == 14


def test_ttl_expire_after_seconds(db):
    db.c.create_index("t", expireAfterSeconds=3600)
    reply = db.command("collMod", "c", index={"keyPattern": {"t": 1}, "expireAfterSeconds": 60})
    assert reply["expireAfterSeconds_old"] == 3600 and reply["expireAfterSeconds_new"] == 60
    assert [i["expireAfterSeconds"] for i in db.c.list_indexes() if i["name"] == "t_1"] == [60]
    db.c.create_index("s")
    reply = db.command("collMod", "c", index={"name": "s_1", "expireAfterSeconds": 10})
    assert "expireAfterSeconds_old" not in reply and reply["expireAfterSeconds_new"] == 10
    db.c.create_index([("x", 1), ("y", 1)])
    assert code_of(lambda: db.command("collMod", "c", index={"name": "x_1_y_1", "expireAfterSeconds": 5})) == 72
    assert code_of(lambda: db.command("collMod", "c", index={"name": "t_1", "expireAfterSeconds": -1})) == 67


def test_capped_limits(db):
    coll = db.create_collection("log", capped=True, size=1 << 20, max=10)
    coll.insert_many([{"_id": i} for i in range(10)])
    db.command("collMod", "log", cappedMax=3)
    assert [c["options"] for c in db.list_collections(filter={"name": "log"})] == [
        {"capped": True, "size": 1 << 20, "max": 3}]
    coll.insert_one({"_id": 10})  # the next insert trims to the new limit
    assert [d["_id"] for d in coll.find()] == [8, 9, 10]
    db.command("collMod", "log", cappedSize=8192, cappedMax=0)
    assert db.command("collStats", "log")["maxSize"] == 8192 and db.command("collStats", "log")["max"] == 0
    db.plain.insert_one({})
    assert code_of(lambda: db.command("collMod", "plain", cappedSize=4096)) == 72


def test_prepare_unique_then_unique(db):
    db.c.insert_many([{"_id": 1, "x": 1}, {"_id": 2, "x": 1}, {"_id": 3, "x": 2}, {"_id": 4, "x": 3}, {"_id": 5, "x": 3}])
    db.c.create_index("x")
    reply = db.command("collMod", "c", index={"keyPattern": {"x": 1}, "prepareUnique": True})
    assert reply["prepareUnique_old"] is False and reply["prepareUnique_new"] is True
    # New duplicates are refused; the old ones stay.
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.c.insert_one({"_id": 6, "x": 2})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.c.update_one({"_id": 3}, {"$set": {"x": 1}})
    db.c.insert_one({"_id": 7, "x": 9})
    db.c.update_one({"_id": 7}, {"$set": {"x": 10, "y": 1}})
    assert db.c.count_documents({"x": 1}) == 2
    with pytest.raises(OperationFailure) as e:
        db.command("collMod", "c", index={"keyPattern": {"x": 1}, "unique": True})
    assert e.value.code == 359
    assert e.value.details["violations"] == [{"ids": [1, 2]}, {"ids": [4, 5]}]
    # The array is well-formed BSON: its keys count "0", "1", ...
    with pytest.raises(OperationFailure) as e:
        db.command("collMod", "c", index={"keyPattern": {"x": 1}, "unique": True},
                   codec_options=CodecOptions(document_class=RawBSONDocument))
    assert array_keys(e.value.details.raw, "violations") == ["0", "1"]
    db.c.delete_many({"_id": {"$in": [2, 5]}})
    reply = db.command("collMod", "c", index={"name": "x_1", "unique": True})
    assert reply["unique_new"] is True
    spec = [i for i in db.c.list_indexes() if i["name"] == "x_1"][0]
    assert spec.get("unique") is True and "prepareUnique" not in spec
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.c.insert_one({"_id": 8, "x": 10})
    assert [d["_id"] for d in db.c.find({"x": 3})] == [4]  # answered through the unique index
    assert db.validate_collection("c")["valid"] is True


@pytest.mark.parametrize("command,code", [
    (SON([("collMod", "missing"), ("index", {"name": "a_1", "hidden": True})]), 26),
    (SON([("collMod", "c"), ("index", {"name": "nope", "hidden": True})]), 27),
    (SON([("collMod", "c"), ("index", {"name": "a_1", "keyPattern": {"a": 1}, "hidden": True})]), 72),
    (SON([("collMod", "c"), ("index", {"hidden": True})]), 72),
    (SON([("collMod", "c"), ("index", {"name": "a_1"})]), 72),
    (SON([("collMod", "c"), ("index", {"name": "a_1", "hidden": True, "bogus": 1})]), 40415),
    (SON([("collMod", "c"), ("index", {"name": "_id_", "hidden": True})]), 2),
    (SON([("collMod", "c"), ("index", {"name": "a_1", "unique": True})]), 72),  # prepareUnique first
    (SON([("collMod", "c"), ("index", {"name": "a_1", "unique": False})]), 2),
    (SON([("collMod", "c"), ("validationLevel", "sometimes")]), 2),  # validation: test_validation.py
    (SON([("collMod", "c"), ("viewOn", "x"), ("pipeline", [])]), 72),  # only for a view (views.cc)
    (SON([("collMod", "missing")]), 26),
])
def test_errors(db, command, code):
    db.c.create_index("a")
    assert code_of(lambda: db.command(command)) == code
    assert [i.get("hidden", False) for i in db.c.list_indexes() if i["name"] == "a_1"] == [False]
