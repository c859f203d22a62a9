"""hint names the index a query reads through, in find, count, aggregate,
update, delete and findAndModify: by name or key pattern; an index that does
not exist is BadValue (2), as in MongoDB. The answers never change with the
hint (metamorphic check against the unhinted query)."""
import pymongo
import pytest
from conftest import winning_index

DOCS = [dict({"_id": i, "a": i % 5, "b": i % 3}, **({"s": "x"} if i % 2 else {})) for i in range(40)]


@pytest.fixture
def coll(db):
    db.c.insert_many(DOCS)
    db.c.create_index("a")
    db.c.create_index([("b", 1), ("a", -1)])
    db.c.create_index("s", sparse=True)
    db.c.create_index("p", partialFilterExpression={"a": {"$gt": 2}}, name="partial_p")
    return db.c


def hinted_index(coll, filt, hint):
    return winning_index(coll.find(filt).hint(hint).explain())


def test_find_uses_the_hinted_index_and_answers_as_without(coll):
    filt = {"a": {"$gte": 2}, "b": 1}
    expected = sorted(d["_id"] for d in coll.find(filt))
    for hint in ["a_1", [("a", 1)], "b_1_a_-1", [("b", 1), ("a", -1)], "_id_", [("_id", 1)]]:
        assert sorted(d["_id"] for d in coll.find(filt).hint(hint)) == expected, hint
    assert hinted_index(coll, filt, "b_1_a_-1") == "b_1_a_-1"
    assert hinted_index(coll, filt, [("a", 1)]) == "a_1"
    # Hinting an index the filter does not bound reads all of it.
    assert sorted(d["_id"] for d in coll.find({"b": 1}).hint("a_1")) == sorted(d["_id"] for d in coll.find({"b": 1}))
    assert coll.count_documents({"a": 1}, hint="b_1_a_-1") == coll.count_documents({"a": 1})
    agg = list(coll.aggregate([{"$match": {"a": 3}}, {"$count": "n"}], hint="a_1"))
    assert agg == [{"n": 8}]


def test_a_hinted_sparse_index_returns_only_what_it_holds(coll):
    # As MongoDB: the sparse index has no entry for documents without s.
    assert len(list(coll.find({}).hint("s_1"))) == 20


def test_a_missing_index_is_bad_value(coll):
    for op in [lambda: list(coll.find({}).hint("nope")),
               lambda: list(coll.find({"_id": 1}).hint("nope")),
               lambda: coll.count_documents({}, hint="nope"),
               lambda: list(coll.aggregate([], hint={"zz": 1})),
               lambda: coll.update_one({"a": 1}, {"$set": {"u": 1}}, hint="nope"),
               lambda: coll.update_many({"a": 1}, {"$set": {"u": 1}}, hint="nope"),
               lambda: coll.delete_one({"a": 1}, hint="nope"),
               lambda: coll.delete_many({"a": 1}, hint=[("nope", 1)]),
               lambda: coll.find_one_and_update({"a": 1}, {"$set": {"u": 1}}, hint="nope")]:
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            op()
        assert e.value.code == 2, e.value.details
    assert coll.count_documents({"u": 1}) == 0


def test_a_partial_index_the_filter_does_not_imply_is_refused(coll):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(coll.find({"a": 1}).hint("partial_p"))
    assert e.value.code == 2
    assert list(coll.find({"a": {"$gt": 3}, "p": None}).hint("partial_p").sort("_id"))[0]["_id"] == 4


def test_writes_through_a_hint_change_what_they_would_without(coll):
    r = coll.update_many({"a": 4}, {"$inc": {"n": 1}}, hint="a_1")
    assert r.modified_count == 8
    r = coll.update_one({"b": 2, "a": 0}, {"$set": {"one": True}}, hint=[("b", 1), ("a", -1)])
    assert r.modified_count == 1
    assert coll.count_documents({"one": True}) == 1
    assert coll.delete_many({"a": 0}, hint="a_1").deleted_count == 8
    doc = coll.find_one_and_delete({"a": 1}, hint="a_1", sort=[("_id", -1)])
    assert doc["_id"] == 36
