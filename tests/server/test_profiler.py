"""The database profiler over the wire, against mongod 6.0's documented
behaviour: the profile command's levels, slowms, sampleRate and filter and
its reply (the previous settings), <db>.system.profile as a 1 MiB capped
collection created on the first entry, readable and tailable, refused to
client writes, entries with measured keysExamined/docsExamined (checked
against explain's executionStats for the same query), and the slow-query
log line."""
import threading
import time

import pymongo
import pytest
from bson.son import SON
from pymongo.errors import OperationFailure

from conftest import DocketServer


def entries(db, **query):
    return list(db.system.profile.find(query))


def test_profile_command_settings_and_reply(db):
    assert db.command("profile", -1) == {"was": 0, "slowms": 100, "sampleRate": 1.0, "ok": 1.0}
    assert db.command(SON([("profile", 1), ("slowms", 20), ("sampleRate", 0.5)]))["was"] == 0
    assert db.command("profile", -1) == {"was": 1, "slowms": 20, "sampleRate": 0.5, "ok": 1.0}
    reply = db.command(SON([("profile", 1), ("filter", {"op": "query"})]))
    assert reply["was"] == 1 and "filter" not in reply
    reply = db.command("profile", -1)
    assert reply["filter"] == {"op": "query"} and "note" in reply
    db.command(SON([("profile", 0), ("filter", "unset"), ("slowms", 100), ("sampleRate", 1.0)]))
    assert db.command("profile", -1) == {"was": 0, "slowms": 100, "sampleRate": 1.0, "ok": 1.0}
    for bad, code in [(SON([("profile", 3)]), 2), (SON([("profile", "all")]), 14),
                      (SON([("profile", 1), ("sampleRate", 2)]), 2), (SON([("profile", 1), ("slowms", "x")]), 14),
                      (SON([("profile", 1), ("filter", {"$bogus": 1})]), 2), (SON([("profile", 1), ("nope", 1)]), 40415)]:
        with pytest.raises(OperationFailure) as e:
            db.command(bad)
        assert e.value.code == code, bad
    assert db.command("profile", -1)["was"] == 0  # nothing changed by the failures


def test_level_two_records_every_operation_with_measured_figures(db):
    db.c.insert_many([{"_id": i, "a": i % 10} for i in range(100)])
    db.c.create_index("a")
    db.command("profile", 2)
    list(db.c.find({"a": 3}))
    list(db.c.find({"_id": {"$gte": 50}}).batch_size(10))
    db.c.find_one({"_id": 7})
    db.c.update_many({"a": 4}, {"$set": {"b": 1}})
    db.c.delete_many({"a": 5})
    db.c.insert_one({"_id": 1000})
    db.command("count", "c", query={"a": 1})
    db.command("profile", 0)
    assert "system.profile" in db.list_collection_names()
    assert db.system.profile.options() == {"capped": True, "size": 1048576}
    # The `profile` that turned it on is not recorded; the one that turned it off is.
    profiled = entries(db)
    assert profiled[0]["op"] == "query" and profiled[-1]["command"]["profile"] == 0
    by_index = entries(db, op="query", **{"command.filter": {"a": 3}})[0]
    plan = db.command("explain", {"find": "c", "filter": {"a": 3}}, verbosity="executionStats")["executionStats"]
    assert by_index["keysExamined"] == plan["totalKeysExamined"] == 10
    assert by_index["docsExamined"] == plan["totalDocsExamined"] == 10
    assert by_index["nreturned"] == 10 and by_index["ns"] == db.name + ".c"
    for field in ["millis", "ts", "client", "responseLength", "numYield", "protocol", "command"]:
        assert field in by_index
    scan = entries(db, op="query", **{"command.filter": {"_id": {"$gte": 50}}})[0]
    assert scan["nreturned"] == 10 and scan["cursorid"] != 0
    more = entries(db, op="getmore")
    assert sum(m["nreturned"] for m in more) == 40
    assert entries(db, op="query", **{"command.filter": {"_id": 7}})[0]["keysExamined"] == 1
    update = entries(db, op="update")[0]
    assert update["nMatched"] == 10 and update["nModified"] == 10 and update["keysExamined"] == 10
    assert entries(db, op="remove")[0]["ndeleted"] == 10
    assert entries(db, op="insert")[0]["ninserted"] == 1
    assert entries(db, op="command", **{"command.count": "c"})[0]["ns"] == db.name + ".c"
    # Clients read it, never write it.
    for call in [lambda: db.system.profile.insert_one({"x": 1}), lambda: db.system.profile.delete_many({}),
                 lambda: db.system.profile.update_one({}, {"$set": {"x": 1}})]:
        with pytest.raises(OperationFailure) as e:
            call()
        assert e.value.code == 73
    db.system.profile.drop()
    assert "system.profile" not in db.list_collection_names()


def test_level_one_keeps_slow_or_filtered_operations(db):
    db.c.insert_many([{"_id": i} for i in range(20)])
    db.command(SON([("profile", 1), ("slowms", 100000)]))
    list(db.c.find())
    assert "system.profile" not in db.list_collection_names()  # nothing was that slow
    db.command(SON([("profile", 1), ("slowms", 0)]))
    list(db.c.find({"_id": 1}))
    assert len(entries(db, op="query")) == 1  # at least 0 ms: every operation
    db.command(SON([("profile", 1), ("slowms", 100000), ("filter", {"op": "remove"})]))
    list(db.c.find({"_id": 2}))
    db.c.delete_one({"_id": 3})
    assert len(entries(db, op="query")) == 1
    assert len(entries(db, op="remove")) == 1
    db.command(SON([("profile", 1), ("slowms", 0), ("sampleRate", 0.0), ("filter", "unset")]))
    list(db.c.find({"_id": 4}))
    db.command("profile", 0)
    assert len(entries(db, op="query")) == 1  # sampled at rate 0: none
    # An error is recorded with its code.
    db.command("profile", 2)
    with pytest.raises(OperationFailure):
        db.command("find", "c", filter={"$bogus": 1})
    db.command("profile", 0)
    failed = entries(db, ok=0.0)[0]
    assert failed["errCode"] == 2 and failed["errName"] == "BadValue" and failed["errMsg"]


def test_profiling_is_per_database_and_tailable(client):
    a, b = client.prof_a, client.prof_b
    client.drop_database(a)
    client.drop_database(b)
    a.command("profile", 2)
    a.x.insert_one({"_id": 1})
    b.x.insert_one({"_id": 1})
    assert "system.profile" not in b.list_collection_names()
    cursor = a.system.profile.find(cursor_type=pymongo.CursorType.TAILABLE_AWAIT)
    seen = [e["op"] for e in cursor]
    assert seen == ["insert"]
    a.x.insert_one({"_id": 2})
    deadline = time.time() + 5
    while cursor.alive and time.time() < deadline:
        batch = [e["op"] for e in cursor]
        if batch:
            assert batch[0] == "insert"
            break
    else:
        pytest.fail("the tailable cursor on system.profile saw no new entry")
    cursor.close()
    a.command("profile", 0)
    client.drop_database(a)
    client.drop_database(b)


def test_slow_operations_are_logged_and_concurrent_profiling_loses_nothing(client):
    db = client.prof_concurrent
    client.drop_database(db)
    db.command(SON([("profile", 2), ("slowms", 0)]))
    per_thread = 50

    def work(t):
        for i in range(per_thread):
            db.c.insert_one({"_id": "%d-%d" % (t, i)})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.command(SON([("profile", 0), ("slowms", 100)]))
    assert db.system.profile.count_documents({"op": "insert"}) == 4 * per_thread
    log = client.admin.command("getLog", "global")["log"]
    assert any('"id":51803' in line and '"Slow query"' in line for line in log)
    client.drop_database(db)


def test_a_query_counter_built_on_the_profiler_counts_exactly(db):
    """What ODM test helpers do (mongoengine's query_counter): profile at
    level 2, run code, count the query entries of the namespace."""
    db.qc.insert_many([{"_id": i, "k": i % 3} for i in range(30)])
    db.command("profile", 2)
    issued = 0
    for k in range(3):
        list(db.qc.find({"k": k}))
        issued += 1
        db.qc.find_one({"k": k, "_id": {"$gt": 10}})
        issued += 1
    db.other.find_one({})  # another namespace: not counted
    db.command("profile", 0)
    assert db.system.profile.count_documents({"op": "query", "ns": db.name + ".qc"}) == issued == 6


def test_plan_summary_and_index_keys_written(db):
    """planSummary names the plan explain shows; keysInserted/keysDeleted
    count index entries, the _id index's included, as mongod counts them."""
    db.c.create_index([("a", 1), ("b", -1)])
    db.c.insert_many([{"_id": i, "a": i, "b": i} for i in range(5)])
    db.command("profile", 2)
    list(db.c.find({"a": 3}))
    list(db.c.find({"z": 1}))
    db.c.find_one({"_id": 2})
    db.command("count", "c", query={"a": 1})
    db.c.insert_one({"_id": 10, "a": [1, 2], "b": 0})   # _id + two multikey entries
    db.c.update_one({"_id": 10}, {"$set": {"a": 5}})     # two out, one in
    db.c.delete_one({"a": 4})                            # _id + one entry
    db.command("profile", 0)
    query = entries(db, op="query", **{"command.filter": {"a": 3}})[0]
    assert query["planSummary"] == "IXSCAN { a: 1, b: -1 }"
    explained = db.command("explain", {"find": "c", "filter": {"a": 3}})["queryPlanner"]["winningPlan"]
    assert explained["inputStage"]["keyPattern"] == {"a": 1, "b": -1}
    assert entries(db, op="query", **{"command.filter": {"z": 1}})[0]["planSummary"] == "COLLSCAN"
    assert entries(db, op="query", **{"command.filter": {"_id": 2}})[0]["planSummary"] == "IDHACK"
    assert entries(db, op="command", **{"command.count": "c"})[0]["planSummary"] == "COUNT_SCAN { a: 1, b: -1 }"
    insert = entries(db, op="insert")[0]
    assert insert["keysInserted"] == 3 and "keysDeleted" not in insert
    update = entries(db, op="update")[0]
    assert update["keysInserted"] == 1 and update["keysDeleted"] == 2 and update["planSummary"] == "IDHACK"
    remove = entries(db, op="remove")[0]
    assert remove["keysDeleted"] == 2 and remove["planSummary"] == "IXSCAN { a: 1, b: -1 }"


def test_update_and_delete_give_one_entry_per_statement(db):
    db.c.insert_many([{"_id": i, "a": i % 5} for i in range(50)])
    db.c.create_index("a")
    db.command("profile", 2)
    db.command(SON([("update", "c"), ("updates", [
        {"q": {"a": 1}, "u": {"$set": {"b": 1}}, "multi": True},
        {"q": {"_id": 3}, "u": {"$set": {"b": 2}}},
        {"q": {"_id": 1000}, "u": {"$set": {"b": 3}}, "upsert": True},
        {"q": {"_id": 4}, "u": {"$set": {"_id": 5}}},  # refused: _id is immutable
    ]), ("ordered", False)]))
    db.command(SON([("delete", "c"), ("deletes", [{"q": {"a": 2}, "limit": 0}, {"q": {"_id": 0}, "limit": 1}])]))
    db.command("profile", 0)
    updates = entries(db, op="update")
    assert [u["command"]["q"] for u in updates] == [{"a": 1}, {"_id": 3}, {"_id": 1000}, {"_id": 4}]
    assert [(u["nMatched"], u["nModified"]) for u in updates] == [(10, 10), (1, 1), (0, 0), (0, 0)]
    assert updates[0]["planSummary"] == "IXSCAN { a: 1 }" and updates[0]["keysExamined"] == 10
    assert updates[1]["planSummary"] == "IDHACK"
    assert updates[2]["nUpserted"] == 1 and "nUpserted" not in updates[0]
    assert updates[3]["ok"] == 0 and updates[3]["errCode"] == 66 and updates[3]["errName"] == "ImmutableField"
    assert all("ok" not in u for u in updates[:3])
    removes = entries(db, op="remove")
    assert [(r["command"]["q"], r["ndeleted"]) for r in removes] == [({"a": 2}, 10), ({"_id": 0}, 1)]
    assert removes[0]["keysDeleted"] == 20  # _id and a, for each of the ten


def test_a_filter_picks_statements_not_commands(db):
    db.c.insert_many([{"_id": i} for i in range(5)])
    db.command(SON([("profile", 1), ("filter", {"nMatched": {"$gt": 0}})]))
    db.command(SON([("update", "c"), ("updates", [{"q": {"_id": 1}, "u": {"$set": {"x": 1}}},
                                                   {"q": {"_id": 99}, "u": {"$set": {"x": 1}}}])]))
    db.command(SON([("profile", 0), ("filter", "unset")]))
    assert [e["command"]["q"] for e in entries(db, op="update")] == [{"_id": 1}]
