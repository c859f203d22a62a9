"""find's min()/max() cursor options (MongoDB 4.2+ rules): bounds on the
hinted index's keys, min inclusive and max exclusive, in the index's order
(types by BSON order, descending fields reversed), the filter still applied,
and MongoDB's errors (Location51173/51174/51175)."""
import pytest
from pymongo.errors import OperationFailure

from conftest import winning_index


@pytest.fixture
def coll(db):
    c = db.c
    c.insert_many([{"_id": i, "x": i, "y": i % 3} for i in range(10)] + [{"_id": 10, "x": "s"}, {"_id": 11}])
    c.create_index("x")
    c.create_index([("y", 1), ("x", -1)])
    return c


def xs(cursor):
    return [d["_id"] for d in cursor]


def test_bounds_on_the_hinted_index(coll):
    assert sorted(xs(coll.find().hint("x_1").min([("x", 3)]).max([("x", 6)]))) == [3, 4, 5]
    # min alone reaches every key after it: the numbers, then the string (BSON order).
    assert sorted(xs(coll.find().hint("x_1").min([("x", 7)]))) == [7, 8, 9, 10]
    # max alone: null (the missing x) sorts before every number.
    assert sorted(xs(coll.find().hint("x_1").max([("x", 2)]))) == [0, 1, 11]
    # The filter still applies.
    assert sorted(xs(coll.find({"y": 0}).hint("x_1").min([("x", 1)]).max([("x", 9)]))) == [3, 6]
    plan = coll.find().hint("x_1").min([("x", 3)]).max([("x", 6)]).explain()
    assert winning_index(plan) == "x_1"


def test_compound_bounds_follow_the_index_order(coll):
    # {y: 1, x: -1}: from (y 1, x 7) down through (y 1, x 1), then y 2 from x 8 down, to (y 2, x 5) excluded.
    found = xs(coll.find().hint([("y", 1), ("x", -1)]).min([("y", 1), ("x", 7)]).max([("y", 2), ("x", 5)]))
    assert sorted(found) == [1, 4, 7, 8]


def test_mongodbs_errors(coll):
    with pytest.raises(OperationFailure) as e:
        list(coll.database.command("find", "c", min={"x": 1}))
    assert e.value.code == 51173
    with pytest.raises(OperationFailure) as e:
        list(coll.find().hint([("y", 1), ("x", -1)]).min([("x", 1), ("y", 1)]))
    assert e.value.code == 51174
    with pytest.raises(OperationFailure) as e:
        list(coll.find().hint("x_1").min([("x", 1), ("y", 1)]))
    assert e.value.code == 51174
    with pytest.raises(OperationFailure) as e:
        list(coll.find().hint("x_1").min([("x", 5)]).max([("x", 5)]))
    assert e.value.code == 51175
    with pytest.raises(OperationFailure) as e:
        list(coll.find().hint("x_1").min([("x", 6)]).max([("x", 2)]))
    assert e.value.code == 51175
    with pytest.raises(OperationFailure) as e:
        list(coll.find().hint("_id_").min([("_id", 1)]))
    assert e.value.code == 2


def test_a_string_bound_needs_the_indexs_collation(db):
    db.c.create_index("s", collation={"locale": "en", "strength": 2})
    db.c.insert_many([{"s": v} for v in ["a", "B", "c", "D"]])
    ci = {"locale": "en", "strength": 2}
    found = db.c.find().hint("s_1").min([("s", "b")]).max([("s", "d")]).collation(ci)
    assert sorted(d["s"] for d in found) == ["B", "c"]
    with pytest.raises(OperationFailure) as e:
        list(db.c.find().hint("s_1").min([("s", "b")]))
    assert e.value.code == 51174
