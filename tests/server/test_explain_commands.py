"""explain of every command mongod explains: find, aggregate (as {explain:
{aggregate}} and aggregate's explain: true), count, distinct, update, delete
and findAndModify — the plan an index gives, writes under their UPDATE or
DELETE stage, and nothing written by explaining a write."""
from bson.son import SON


def winning(reply):
    return reply["queryPlanner"]["winningPlan"]


def index_of(plan):
    while plan.get("stage") != "IXSCAN" and "inputStage" in plan:
        plan = plan["inputStage"]
    return plan.get("indexName")


def test_every_command_is_explained_with_its_index(db):
    db.c.insert_many([{"_id": i, "a": i % 5} for i in range(50)])
    db.c.create_index("a")
    find = db.command("explain", SON([("find", "c"), ("filter", {"a": 2})]))
    assert index_of(winning(find)) == "a_1"
    for verb in [SON([("count", "c"), ("query", {"a": 2})]), SON([("distinct", "c"), ("key", "_id"), ("query", {"a": 2})])]:
        assert index_of(winning(db.command("explain", verb))) == "a_1", verb
    update = db.command("explain", SON([("update", "c"), ("updates", [{"q": {"a": 2}, "u": {"$set": {"b": 1}}, "multi": True}])]))
    assert winning(update)["stage"] == "UPDATE" and index_of(winning(update)["inputStage"]) == "a_1"
    delete = db.command("explain", SON([("delete", "c"), ("deletes", [{"q": {"a": 3}, "limit": 0}])]))
    assert winning(delete)["stage"] == "DELETE" and index_of(winning(delete)["inputStage"]) == "a_1"
    fam = db.command("explain", SON([("findAndModify", "c"), ("query", {"a": 4}), ("remove", True)]))
    assert winning(fam)["stage"] == "DELETE"
    fam = db.command("explain", SON([("findAndModify", "c"), ("query", {"a": 4}), ("update", {"$inc": {"n": 1}})]))
    assert winning(fam)["stage"] == "UPDATE"
    # Explaining writes writes nothing.
    assert db.c.count_documents({"b": 1}) == 0 and db.c.count_documents({}) == 50
    assert db.c.count_documents({"n": {"$exists": True}}) == 0
    # An aggregation, both ways, shows the index its leading $match uses.
    pipeline = [{"$match": {"a": 1}}, {"$group": {"_id": "$a", "n": {"$sum": 1}}}]
    as_command = db.command("explain", SON([("aggregate", "c"), ("pipeline", pipeline), ("cursor", {})]))
    as_option = db.command(SON([("aggregate", "c"), ("pipeline", pipeline), ("explain", True)]))
    for reply in (as_command, as_option):
        cursor_stage = reply["stages"][0]["$cursor"]
        assert index_of(cursor_stage["queryPlanner"]["winningPlan"]) == "a_1"
        assert reply["stages"][1] == {"$group": {"_id": "$a", "n": {"$sum": 1}}}
