"""The $indexStats stage over the wire, in mongod 6.0's shape (name, key,
host, accesses {ops, since}, spec; one document per index, the rest of the
pipeline running over them) and errors (40602 not first, 28803 a spec that
is not {}, 166 on a view); ops count each operation that read the index
(explain does not), checked against the queries issued."""
import datetime

import pytest
from bson.int64 import Int64
from pymongo.errors import OperationFailure


def stats(coll):
    return {s["name"]: s for s in coll.aggregate([{"$indexStats": {}}])}


def test_shape_and_counts(db):
    c = db.people
    c.insert_many([{"_id": i, "email": "u%d@x" % i, "age": i} for i in range(10)])
    c.create_index("email", unique=True)
    before = stats(c)
    assert set(before) == {"_id_", "email_1"}
    one = before["email_1"]
    assert one["key"] == {"email": 1}
    assert one["spec"]["unique"] is True and one["spec"]["name"] == "email_1"
    assert one["accesses"]["ops"] == 0 and isinstance(one["accesses"]["ops"], Int64)
    assert isinstance(one["accesses"]["since"], datetime.datetime)
    assert ":" in one["host"]
    for i in range(3):
        assert c.find_one({"email": "u%d@x" % i})["_id"] == i
    c.find_one({"age": 3})  # no index: counts nowhere
    c.update_one({"email": "u4@x"}, {"$set": {"age": 40}})
    c.find_one({"_id": 5})
    c.find({"email": "u1@x"}).explain()
    after = stats(c)
    assert after["email_1"]["accesses"]["ops"] == 4
    assert after["_id_"]["accesses"]["ops"] == 1
    assert after["email_1"]["accesses"]["since"] == one["accesses"]["since"]
    # The rest of the pipeline runs over the stage's documents.
    assert [d["name"] for d in c.aggregate([{"$indexStats": {}}, {"$match": {"accesses.ops": {"$gt": 1}}},
                                            {"$project": {"name": 1}}])] == ["email_1"]


def test_errors_as_mongod(db):
    db.c.insert_one({"a": 1})
    for pipeline, code in [([{"$match": {}}, {"$indexStats": {}}], 40602),
                           ([{"$indexStats": {"x": 1}}], 28803),
                           ([{"$indexStats": 1}], 28803)]:
        with pytest.raises(OperationFailure) as e:
            list(db.c.aggregate(pipeline))
        assert e.value.code == code, pipeline
    db.command("create", "v", viewOn="c", pipeline=[])
    with pytest.raises(OperationFailure) as e:
        list(db.v.aggregate([{"$indexStats": {}}]))
    assert e.value.code == 166
    assert list(db.nothing.aggregate([{"$indexStats": {}}])) == []


def test_background_and_drop_dups_are_accepted_and_echoed(db):
    """MongoDB 6.0 ignores both options and keeps them in the spec; neither
    makes an index differ from the same index without it."""
    db.c.insert_many([{"_id": i, "a": i % 3} for i in range(9)])
    db.c.create_index("a", background=True)
    db.c.create_index("b", dropDups=True)
    specs = {s["name"]: s for s in db.c.list_indexes()}
    assert specs["a_1"]["background"] is True and specs["b_1"]["dropDups"] is True
    assert db.command("createIndexes", "c", indexes=[{"key": {"a": 1}, "name": "a_1"}])["note"] == \
        "all indexes already exist"
    assert len(list(db.c.find({"a": 1}))) == 3 and db.command("validate", "c")["valid"]
