"""Natural order over the wire: with no sort a collection scan answers in
insertion order, as mongod does (find after inserting _id 3, 1, 2 returns 3,
1, 2); {$natural: 1/-1} works as a sort and as a hint in every command that
takes them, with MongoDB's errors (BadValue, 2) for the combinations it
refuses; explain shows the COLLSCAN's direction."""
import pymongo
import pytest
from bson.son import SON
from pymongo.errors import OperationFailure

ORDER = [3, 1, 2, 7, 0]


@pytest.fixture
def coll(db):
    for i in ORDER:
        db.c.insert_one({"_id": i, "v": i % 2})
    db.c.create_index("v")
    return db.c


def ids(cursor):
    return [d["_id"] for d in cursor]


def test_find_without_a_sort_answers_in_insertion_order(coll):
    assert ids(coll.find()) == ORDER
    assert ids(coll.find({"_id": {"$gt": 0}})) == [3, 1, 2, 7]
    assert ids(coll.find().sort("$natural", 1)) == ORDER
    assert ids(coll.find().sort("$natural", -1)) == ORDER[::-1]
    assert ids(coll.find().hint([("$natural", -1)])) == ORDER[::-1]
    assert ids(coll.find().sort("$natural", -1).limit(2)) == [0, 7]
    # Small batches: getMore goes on in the same order.
    assert ids(coll.find().batch_size(2)) == ORDER
    # An update keeps a document's place; a document inserted again goes last.
    coll.update_one({"_id": 1}, {"$set": {"pad": "x" * 1000}})
    coll.delete_one({"_id": 3})
    coll.insert_one({"_id": 3})
    assert ids(coll.find()) == [1, 2, 7, 0, 3]


def test_natural_hint_in_every_command(coll):
    natural_back = [("$natural", -1)]
    assert ids(coll.aggregate([{"$match": {"v": 1}}], hint={"$natural": -1})) == [7, 1, 3]
    assert coll.count_documents({"v": 1}, hint=natural_back) == 3
    # updateOne/deleteOne without a sort take the first match of a
    # collection scan (a filter no index serves), in natural order.
    odd = {"v": {"$mod": [2, 1]}}
    coll.update_one(odd, {"$set": {"first": True}})
    assert ids(coll.find({"first": True})) == [3]
    coll.update_one(odd, {"$set": {"last": True}}, hint=natural_back)
    assert ids(coll.find({"last": True})) == [7]
    done = coll.find_one_and_update({"v": 1}, {"$set": {"picked": True}}, sort=[("$natural", -1)])
    assert done["_id"] == 7
    coll.delete_one({"v": 0}, hint=[("$natural", 1)])
    assert ids(coll.find({"v": 0})) == [0]


def test_explain_shows_the_scan_direction(coll):
    plan = coll.find({"u": 1}).sort("$natural", -1).explain()["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "COLLSCAN" and plan["direction"] == "backward"
    plan = coll.find({"u": 1}).explain()["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "COLLSCAN" and plan["direction"] == "forward"
    # A $natural hint forces a collection scan even where an index would serve.
    plan = coll.find({"v": 1}).hint([("$natural", 1)]).explain()["queryPlanner"]["winningPlan"]
    assert plan["stage"] == "COLLSCAN"


@pytest.mark.parametrize("command,message", [
    (SON([("find", "c"), ("sort", {"$natural": 1, "v": 1})]), "Cannot include '$natural' in compound sort"),
    (SON([("find", "c"), ("hint", SON([("$natural", 1), ("v", 1)]))]), "Cannot include '$natural' in compound hint"),
    (SON([("find", "c"), ("sort", {"$natural": 1}), ("hint", {"v": 1})]), "index hint not allowed with $natural sort order"),
    (SON([("find", "c"), ("sort", {"$natural": 1}), ("hint", "v_1")]), "index hint not allowed with $natural sort order"),
    (SON([("find", "c"), ("sort", {"$natural": 1}), ("hint", {"$natural": -1})]),
     "$natural hint must be in the same direction as $natural sort order"),
])
def test_refused_combinations_are_bad_value(coll, command, message):
    with pytest.raises(OperationFailure) as e:
        coll.database.command(command)
    assert e.value.code == 2
    assert message in str(e.value)
