"""Index builds over the wire while clients write (MongoDB's hybrid builds):
a createIndexes in progress shows in currentOp with mongod's `msg` and
`progress {done, total}`; other clients' writes to the same collection
complete while it runs (seen through currentOp, not timed); the finished
index is exact (validate) and used; listIndexes leaves the build out until
it is done, and $indexStats marks it `building`."""
import threading

import pymongo


def build_in_background(coll, keys):
    outcome = {}

    def run():
        try:
            outcome["name"] = coll.create_index(keys)
        except Exception as e:  # reported by the test
            outcome["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def the_build(client):
    ops = client.admin.command("currentOp", {"command.createIndexes": {"$exists": True}})["inprog"]
    return ops[0] if ops else None


def test_writes_proceed_and_progress_shows_while_an_index_builds(server):
    client = server.client()
    writer = server.client()
    try:
        db = client.t_index_builds
        size = 50000
        seen_progress = seen_building = None
        writes_during = 0
        for _ in range(4):
            db.c.drop()
            db.c.insert_many([{"_id": i, "a": i % 1000, "pad": "x" * 50} for i in range(size)])
            thread, outcome = build_in_background(db.c, [("a", 1)])
            next_id = size
            while thread.is_alive():
                op = the_build(client)
                if op is None:
                    continue
                if "progress" in op:
                    seen_progress = op
                if "a_1" not in [i["name"] for i in db.c.list_indexes()]:
                    stats = {s["name"]: s for s in db.c.aggregate([{"$indexStats": {}}])}
                    if stats.get("a_1", {}).get("building"):
                        seen_building = stats["a_1"]
                writer.t_index_builds.c.insert_one({"_id": next_id, "a": next_id % 1000})
                writer.t_index_builds.c.update_one({"_id": next_id - size}, {"$set": {"a": 7}})
                next_id += 1
                if the_build(client) is not None:
                    writes_during += 1  # both writes completed while the build still ran
            thread.join()
            assert "error" not in outcome, outcome
            if writes_during and seen_progress and seen_building:
                break
            size *= 2
        assert writes_during > 0, "no write completed during a build of %d documents" % (size // 2)
        assert seen_progress["msg"].startswith("Index Build: scanning collection")
        assert 0 <= seen_progress["progress"]["done"] <= seen_progress["progress"]["total"]
        assert seen_building["accesses"]["ops"] == 0
        import json
        logged = [json.loads(line) for line in client.admin.command("getLog", "global")["log"]]
        ours = [e for e in logged if e.get("attr", {}).get("namespace") == "t_index_builds.c"]
        ids = [e["id"] for e in ours]
        assert 20384 in ids and 20391 in ids and 20663 in ids, ids  # starting, scan done, completed
        started = next(e for e in ours if e["id"] == 20384)
        assert started["c"] == "INDEX" and started["attr"]["properties"]["key"] == {"a": 1}
        done = next(e for e in ours if e["id"] == 20391)
        assert done["attr"]["totalRecords"] >= size // 2
        validated = db.command("validate", "c")
        assert validated["valid"] and validated["nIndexes"] == 2, validated
        plan = db.c.find({"a": 7}).explain()["queryPlanner"]["winningPlan"]
        assert plan["inputStage"]["indexName"] == "a_1"
        assert db.c.count_documents({"a": 7}) == len(list(db.c.find({"a": 7}).hint([("$natural", 1)])))
        db.c.drop()
    finally:
        client.close()
        writer.close()


def test_a_failed_build_is_logged_and_leaves_no_index(server):
    client = server.client()
    try:
        db = client.t_index_builds_failed
        db.c.drop()
        db.c.insert_many([{"_id": i, "a": i} for i in range(1000)] + [{"_id": -1, "a": [1, 2], "b": [3, 4]}])
        try:
            db.c.create_index([("a", 1), ("b", 1)])
            raise AssertionError("the build of a compound index over parallel arrays succeeded")
        except pymongo.errors.OperationFailure as e:
            assert e.code == 171, e.details
        assert [i["name"] for i in db.c.list_indexes()] == ["_id_"]
        import json
        logged = [json.loads(line) for line in client.admin.command("getLog", "global")["log"]]
        failed = [e for e in logged if e["id"] == 20649 and e["attr"]["namespace"] == "t_index_builds_failed.c"]
        assert failed and "171" in failed[-1]["attr"]["error"]
        assert db.command("validate", "c")["valid"]
        db.c.drop()
    finally:
        client.close()


def test_a_second_request_for_the_same_index_waits_for_the_build(server):
    client = server.client()
    try:
        db = client.t_index_builds_twice
        db.c.drop()
        db.c.insert_many([{"_id": i, "a": i % 100} for i in range(30000)])
        first, first_outcome = build_in_background(db.c, [("a", 1)])
        second, second_outcome = build_in_background(db.c, [("a", 1)])
        first.join()
        second.join()
        assert first_outcome.get("name") == second_outcome.get("name") == "a_1", (first_outcome, second_outcome)
        assert [i["name"] for i in db.c.list_indexes()] == ["_id_", "a_1"]
        assert db.command("validate", "c")["valid"]
        db.c.drop()
    finally:
        client.close()


def test_a_build_killed_midway_is_done_again_at_restart(tmp_path):
    """kill -9 while a build that lets writers run is half way: the next
    start builds the index again from the start, and it is exact."""
    from conftest import DocketServer

    server = DocketServer(dbpath=str(tmp_path))
    try:
        client = server.client()
        db = client.t_index_builds_killed
        size, caught = 40000, False
        next_id = 0
        for _ in range(4):
            db.c.insert_many([{"_id": next_id + i, "a": (next_id + i) % 500} for i in range(size)])
            next_id += size
            thread, _ = build_in_background(db.c, [("a", 1)])
            while thread.is_alive():
                op = the_build(client)
                if op and "progress" in op and 0 < op["progress"]["done"] < op["progress"]["total"]:
                    server.process.kill()  # SIGKILL, mid-build
                    caught = True
                    break
            thread.join()
            if caught:
                break
            db.c.drop_index("a_1")  # finished before we caught it: again, larger
            size *= 2
        assert caught, "never caught the build half way"
        server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None:
            server.stop()
    restarted = DocketServer(dbpath=str(tmp_path))
    try:
        client = restarted.client()
        db = client.t_index_builds_killed
        assert [i["name"] for i in db.c.list_indexes()] == ["_id_", "a_1"]
        validated = db.command("validate", "c")
        assert validated["valid"] and validated["nIndexes"] == 2, validated
        assert validated["keysPerIndex"]["a_1"] == validated["nrecords"]
        assert db.c.count_documents({"a": 7}) == len(list(db.c.find({"a": 7}).hint([("$natural", 1)])))
        assert db.c.find({"a": 7}).explain()["queryPlanner"]["winningPlan"]["inputStage"]["indexName"] == "a_1"
        client.close()
    finally:
        assert restarted.stop() == 0
