"""serverStatus' counters of the work done, as mongod counts them
(opcounters, opLatencies, metrics.commands/document/queryExecutor, network,
mem), checked exactly against the work several threads do at once."""
import threading

import pytest

import pymongo
from pymongo.errors import OperationFailure

from conftest import DocketServer


def test_counters_add_up_exactly_under_concurrent_clients():
    s = DocketServer()
    client = pymongo.MongoClient(s.uri, serverSelectionTimeoutMS=5000)
    db = client.status_counts
    db.c.create_index("k")
    before = db.command("serverStatus")
    threads, per_thread = 4, 25

    def work(t):
        c = pymongo.MongoClient(s.uri, serverSelectionTimeoutMS=5000).status_counts.c
        for i in range(per_thread):
            c.insert_many([{"_id": "%d-%d-a" % (t, i), "k": i}, {"_id": "%d-%d-b" % (t, i), "k": i}])
            list(c.find({"k": i}))
            c.bulk_write([pymongo.UpdateOne({"_id": "%d-%d-a" % (t, i)}, {"$set": {"u": 1}}),
                          pymongo.UpdateOne({"_id": "%d-%d-b" % (t, i)}, {"$set": {"u": 1}})])
            c.delete_one({"_id": "%d-%d-b" % (t, i)})

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    with pytest_raises_operation_failure():
        db.command("find", "c", filter={"$bogus": 1})
    after = db.command("serverStatus")
    ops = threads * per_thread
    delta = lambda section, key: after[section][key] - before[section][key]
    assert delta("opcounters", "insert") == 2 * ops
    assert delta("opcounters", "update") == 2 * ops
    assert delta("opcounters", "delete") == ops
    assert delta("opcounters", "query") == ops + 1
    assert after["opcountersRepl"]["insert"] == 0
    doc = lambda key: after["metrics"]["document"][key] - before["metrics"]["document"][key]
    assert doc("inserted") == 2 * ops and doc("updated") == 2 * ops and doc("deleted") == ops
    assert doc("returned") >= 2 * ops  # each find returns the documents with its k so far
    cmd = after["metrics"]["commands"]["find"]
    was = before["metrics"]["commands"].get("find", {"total": 0, "failed": 0})
    assert cmd["total"] - was["total"] == ops + 1
    assert cmd["failed"] - was["failed"] == 1
    assert after["metrics"]["queryExecutor"]["scanned"] > before["metrics"]["queryExecutor"]["scanned"]
    assert after["opLatencies"]["writes"]["ops"] - before["opLatencies"]["writes"]["ops"] >= 3 * ops
    assert after["opLatencies"]["reads"]["ops"] > before["opLatencies"]["reads"]["ops"]
    assert after["network"]["numRequests"] > before["network"]["numRequests"] + 4 * ops
    assert after["network"]["bytesIn"] > before["network"]["bytesIn"]
    assert after["network"]["bytesOut"] > before["network"]["bytesOut"]
    assert after["mem"]["supported"] is True and after["mem"]["resident"] > 0
    client.close()
    assert s.stop() == 0


class pytest_raises_operation_failure:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        assert kind is not None and issubclass(kind, OperationFailure), "expected an OperationFailure"
        return True


def test_lower_case_aliases_answer_as_their_command(db):
    db.c.insert_one({"_id": 1})
    assert db.command("dbstats")["objects"] == db.command("dbStats")["objects"] == 1
    assert db.command("collstats", "c")["count"] == db.command("collStats", "c")["count"] == 1
    assert db.command("buildinfo")["version"] == db.command("buildInfo")["version"]


def test_coll_stats_stage(db):
    db.c.insert_many([{"_id": i} for i in range(5)])
    list(db.c.find())
    before = list(db.c.aggregate([{"$collStats": {"latencyStats": {}}}]))[0]["latencyStats"]
    list(db.c.find({"_id": 1}))
    db.c.insert_one({"_id": 9})
    got = list(db.c.aggregate([{"$collStats": {"latencyStats": {}, "storageStats": {"scale": 1}, "count": {}}},
                               {"$project": {"count": 1, "storageStats.count": 1, "latencyStats": 1, "ns": 1}}]))
    assert len(got) == 1
    stats = got[0]
    assert stats["ns"] == db.name + ".c" and stats["count"] == 6 and stats["storageStats"]["count"] == 6
    # the find, and the first $collStats aggregate itself (a read of the namespace, as in mongod)
    assert stats["latencyStats"]["reads"]["ops"] == before["reads"]["ops"] + 2
    assert stats["latencyStats"]["writes"]["ops"] == before["writes"]["ops"] + 1
    full = list(db.c.aggregate([{"$collStats": {"storageStats": {}}}]))[0]["storageStats"]
    assert full == {k: v for k, v in db.command("collStats", "c").items() if k not in ("ns", "ok")}
    for pipeline, code in [([{"$match": {}}, {"$collStats": {}}], 40602), ([{"$collStats": {"bogus": {}}}], 40415),
                           ([{"$collStats": 1}], 14)]:
        with pytest.raises(OperationFailure) as e:
            list(db.c.aggregate(pipeline))
        assert e.value.code == code, pipeline
    with pytest.raises(OperationFailure) as e:
        list(db.missing.aggregate([{"$collStats": {"storageStats": {}}}]))
    assert e.value.code == 26
    db.create_collection("v", viewOn="c")
    with pytest.raises(OperationFailure) as e:
        list(db.v.aggregate([{"$collStats": {"count": {}}}]))
    assert e.value.code == 166
    assert "latencyStats" in list(db.v.aggregate([{"$collStats": {"latencyStats": {}}}]))[0]


def test_coll_stats_query_exec_stats_count_collection_scans(db):
    db.c.insert_many([{"_id": i, "a": i} for i in range(5)])
    db.c.create_index("a")

    def scans():
        stats = list(db.c.aggregate([{"$collStats": {"queryExecStats": {}}}]))[0]["queryExecStats"]
        return stats["collectionScans"]

    before = scans()
    list(db.c.find({"b": 1}))                        # a scan
    list(db.c.find({"a": 1}))                        # the index
    db.c.find_one({"_id": 2})                        # the _id index
    db.c.update_many({"b": 1}, {"$set": {"c": 1}})   # a scan
    db.c.find({"b": 1}).explain()                    # explain does not count
    after = scans()
    assert after["total"] - before["total"] == 2
    assert after["nonTailable"] - before["nonTailable"] == 2
    db.create_collection("log", capped=True, size=4096)
    db.log.insert_one({"x": 1})
    db.command("find", "log", filter={}, tailable=True)
    log = list(db.log.aggregate([{"$collStats": {"queryExecStats": {}}}]))[0]["queryExecStats"]["collectionScans"]
    assert log == {"total": 1, "nonTailable": 0}


def test_top_counts_time_and_operations_per_namespace(db):
    admin = db.client.admin
    ns = db.name + ".t"
    before = admin.command("top")["totals"].get(ns, {})
    db.t.insert_many([{"_id": i} for i in range(3)])
    list(db.t.find({}).batch_size(1))
    db.t.update_one({"_id": 1}, {"$set": {"x": 1}})
    db.t.delete_one({"_id": 2})
    after = admin.command("top")["totals"]
    assert after["note"] == "all times in microseconds"
    got = after[ns]
    count = lambda key: got[key]["count"] - before.get(key, {"count": 0})["count"]
    assert count("insert") == 1 and count("queries") == 1 and count("getmore") == 2
    assert count("update") == 1 and count("remove") == 1
    assert count("total") == 6 and count("readLock") == 3 and count("writeLock") == 3
    with pytest.raises(OperationFailure) as e:
        db.command("top")
    assert e.value.code == 13


def test_get_parameter_answers_what_it_has_and_refuses_the_rest(db):
    admin = db.client.admin
    assert admin.command("getParameter", 1, featureCompatibilityVersion=1)["featureCompatibilityVersion"] == {"version": "6.0"}
    assert admin.command("getParameter", 1, transactionLifetimeLimitSeconds=1)["transactionLifetimeLimitSeconds"] == 60
    everything = admin.command("getParameter", "*")
    assert {"featureCompatibilityVersion", "authenticationMechanisms", "enableTestCommands"} <= set(everything)
    for asked in [{"noSuchParameter": 1}, {}]:
        with pytest.raises(OperationFailure) as e:
            admin.command("getParameter", 1, **asked)
        assert e.value.code == 72 and "no option found to get" in str(e.value)
