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


def test_verbosity_modes_and_per_stage_figures(db):
    import pytest
    from pymongo.errors import OperationFailure

    db.c.insert_many([{"_id": i, "a": i % 10, "b": i} for i in range(200)])
    db.c.create_index("a")
    find = SON([("find", "c"), ("filter", {"a": 3, "b": {"$gte": 100}})])
    db.command("profile", 2)
    planned = db.command("explain", find, verbosity="queryPlanner")
    counted = db.command("explain", find, verbosity="executionStats")
    everything = db.command("explain", find)  # mongod's default: allPlansExecution
    db.command("profile", 0)
    # queryPlanner plans without running: the profiler saw it read nothing.
    assert "executionStats" not in planned
    assert planned["queryPlanner"]["winningPlan"]["inputStage"]["indexName"] == "a_1"
    runs = [e for e in db.system.profile.find({"command.explain": {"$exists": True}})]
    assert [e["docsExamined"] for e in runs] == [0, 20, 20]
    stats = counted["executionStats"]
    assert stats["nReturned"] == 10 and stats["totalKeysExamined"] == 20 and stats["totalDocsExamined"] == 20
    fetch = stats["executionStages"]
    assert fetch["stage"] == "FETCH" and fetch["nReturned"] == 10 and fetch["docsExamined"] == 20
    ixscan = fetch["inputStage"]
    assert ixscan["stage"] == "IXSCAN" and ixscan["keysExamined"] == 20 and ixscan["nReturned"] == 20
    assert "allPlansExecution" not in stats and everything["executionStats"]["allPlansExecution"] == []
    assert counted["explainVersion"] == "1" and counted["command"]["find"] == "c"
    assert counted["command"]["$db"] == db.name and counted["serverInfo"]["version"] == "6.0.0"
    # A collection scan and an _id lookup, per stage.
    scan = db.command("explain", SON([("find", "c"), ("filter", {"b": 5})]), verbosity="executionStats")
    stages = scan["executionStats"]["executionStages"]
    assert stages["stage"] == "COLLSCAN" and stages["docsExamined"] == 200 and stages["nReturned"] == 1
    by_id = db.command("explain", SON([("find", "c"), ("filter", {"_id": 5})]), verbosity="executionStats")
    assert by_id["executionStats"]["executionStages"] == {"stage": "IDHACK", "nReturned": 1, "keysExamined": 1,
                                                          "docsExamined": 1}
    with pytest.raises(OperationFailure) as e:
        db.command("explain", find, verbosity="everything")
    assert e.value.code == 2
