"""currentOp lists the commands running now with mongod's fields, filtered
by the query in the command; killOp stops one from another connection:
it fails with Interrupted (11601) at the next document its scan examines,
a write batch as a whole (src/commands/operations.h, current_op.cc).
Both run only against admin (Unauthorized, 13)."""
import threading
import time

import pymongo
import pytest

BIG = {"$size": {"$range": [0, {"$add": ["$n", 20000]}]}}
MISS = {"$expr": {"$lt": [BIG, "$n"]}}  # false for every document, slowly
N = 3000


@pytest.fixture(scope="module")
def coll(server):
    c = server.client(appname="current-op-test")
    coll = c.test["current_op"]  # (Database.current_op is a pymongo method)
    coll.drop()
    coll.insert_many([{"_id": i, "n": i} for i in range(N)])
    yield coll
    c.close()


def run_in_thread(fn):
    outcome = {}

    def target():
        try:
            outcome["result"] = fn()
        except Exception as e:  # noqa: BLE001 - the test inspects it
            outcome["error"] = e

    t = threading.Thread(target=target)
    t.start()
    return t, outcome


def wait_for_op(admin, query, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ops = admin.command(dict({"currentOp": 1}, **query))["inprog"]
        if ops:
            return ops
        time.sleep(0.005)
    raise AssertionError("the operation never showed in currentOp")


@pytest.mark.parametrize("kind", ["find", "aggregate", "update"])
def test_kill_op_interrupts_a_running_command(server, coll, kind):
    runs = {
        "find": lambda: list(coll.find(MISS, comment="victim-find")),
        "aggregate": lambda: list(coll.aggregate([{"$match": MISS}, {"$count": "n"}], comment="victim-aggregate")),
        "update": lambda: coll.database.command("update", coll.name, comment="victim-update",
                                                updates=[{"q": MISS, "u": {"$set": {"x": 1}}, "multi": True}]),
    }
    admin = server.client().admin
    thread, outcome = run_in_thread(runs[kind])
    [op] = wait_for_op(admin, {"command.comment": "victim-" + kind})
    assert op["active"] is True and op["ns"] == "test.current_op" and op["appName"] == "current-op-test"
    assert op["op"] == {"find": "query", "aggregate": "command", "update": "update"}[kind]
    assert isinstance(op["opid"], int) and op["microsecs_running"] >= 0 and op["connectionId"] > 0
    assert op["command"][kind] == "current_op"
    killed_at = time.monotonic()
    assert admin.command("killOp", op=op["opid"])["info"] == "attempting to kill op"
    thread.join(60)
    assert not thread.is_alive()
    stopped_after = time.monotonic() - killed_at
    error = outcome.get("error")
    assert isinstance(error, pymongo.errors.OperationFailure), outcome
    assert error.code == 11601, error.details
    assert stopped_after < 5, stopped_after
    # It is gone from currentOp, and the server goes on.
    assert admin.command({"currentOp": 1, "command.comment": "victim-" + kind})["inprog"] == []
    assert coll.count_documents({"_id": {"$lt": 10}}) == 10
    admin.client.close()


def test_current_op_lists_itself_and_filters(server):
    admin = server.client(appname="lister").admin
    ops = admin.command("currentOp")["inprog"]
    mine = [op for op in ops if op["command"].get("currentOp") == 1]
    assert len(mine) == 1 and mine[0]["appName"] == "lister" and mine[0]["ns"] == "admin.$cmd"
    assert admin.command({"currentOp": 1, "appName": "nobody"})["inprog"] == []
    assert len(admin.command({"currentOp": 1, "$all": True, "appName": "lister"})["inprog"]) == 1
    admin.client.close()


def test_admin_only_and_bad_arguments(server):
    client = server.client()
    for name in ("currentOp", "killOp"):
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            client.test.command(name, op=1) if name == "killOp" else client.test.command(name)
        assert e.value.code == 13, e.value.details
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command("killOp")
    assert e.value.code == 4
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command("killOp", op="x")
    assert e.value.code == 14
    # An operation that does not exist (or has ended): nothing to do.
    assert client.admin.command("killOp", op=10 ** 12)["ok"] == 1
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command({"currentOp": 1, "x": {"$nope": 1}})
    assert e.value.code == 2
    client.close()


def test_the_current_op_stage_lists_running_commands(server, coll):
    admin = server.client().admin
    thread, outcome = run_in_thread(lambda: list(coll.find(MISS, comment="victim-stage")))
    try:
        wait_for_op(admin, {"command.comment": "victim-stage"})
        ops = list(admin.aggregate([{"$currentOp": {"allUsers": True, "idleSessions": True}},
                                    {"$match": {"command.comment": "victim-stage"}},
                                    {"$project": {"op": 1, "ns": 1, "opid": 1}}]))
        assert len(ops) == 1 and ops[0]["op"] == "query" and ops[0]["ns"] == coll.full_name
        admin.command("killOp", op=ops[0]["opid"])
    finally:
        thread.join(60)
    assert outcome["error"].code == 11601
    # The aggregate that lists them shows in its own output.
    own = list(admin.aggregate([{"$currentOp": {}}, {"$match": {"command.aggregate": 1}}]))
    assert len(own) == 1 and own[0]["command"]["pipeline"][0] == {"$currentOp": {}}


@pytest.mark.parametrize("run,code", [
    (lambda c: list(c.test.aggregate([{"$currentOp": {}}])), 73),             # not admin
    (lambda c: list(c.admin.c.aggregate([{"$currentOp": {}}])), 73),          # not collectionless
    (lambda c: list(c.admin.aggregate([{"$match": {}}, {"$currentOp": {}}])), 40602),
    (lambda c: list(c.admin.aggregate([{"$currentOp": {"bogus": 1}}])), 40415),
    (lambda c: list(c.admin.aggregate([{"$currentOp": {"idleConnections": True}}])), 238),
])
def test_the_current_op_stage_errors(server, run, code):
    client = server.client()
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        run(client)
    assert e.value.code == code
    client.close()
