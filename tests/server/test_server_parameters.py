"""getParameter and setParameter over the wire, as mongod 6.0 answers them
(its set_parameter command: codes 72 for an unknown name or none, 20 for a
start-up-only one, `was` holding the first parameter's previous value,
every value checked before any is applied, admin only), and what the
runtime parameters do: notablescan refuses collection scans with
NoQueryExecutionPlans (291) and mongod's messages (its jstests
core/notablescan.js and notablescan_capped.js), the TTL monitor's switch and
interval, the transaction lifetime. Each test gets its own server: the
parameters are server-wide."""
import datetime
import time

import pymongo
import pytest
from bson.son import SON
from pymongo.errors import OperationFailure

from conftest import DocketServer


@pytest.fixture
def own():
    s = DocketServer()
    c = s.client()
    yield c
    c.close()
    assert s.stop() == 0


def fails(code, fn, *args, **kwargs):
    with pytest.raises(OperationFailure) as e:
        fn(*args, **kwargs)
    assert e.value.code == code, e.value.details
    return e.value.details["errmsg"]


def test_set_and_get_with_mongods_reply_and_errors(own):
    admin = own.admin
    assert admin.command("getParameter", 1, notablescan=1) == {"notablescan": False, "ok": 1.0}
    reply = admin.command(SON([("setParameter", 1), ("notablescan", True), ("ttlMonitorSleepSecs", 5)]))
    assert reply == {"was": False, "ok": 1.0}, "was: the first parameter's previous value"
    got = admin.command(SON([("getParameter", 1), ("notablescan", 1), ("ttlMonitorSleepSecs", 1)]))
    assert got["notablescan"] is True and got["ttlMonitorSleepSecs"] == 5
    assert admin.command("setParameter", 1, notablescan=0)["was"] is True, "a number's truth value, as mongod"

    assert "unrecognized parameter [noSuchThing]" in fails(72, admin.command, "setParameter", 1, noSuchThing=1)
    assert fails(72, admin.command, "setParameter", 1) == "no option found to set, use help:true to see options "
    assert fails(20, admin.command, "setParameter", 1, enableTestCommands=1) == \
        "not allowed to change [enableTestCommands] at runtime"
    fails(20, admin.command, "setParameter", 1, featureCompatibilityVersion="6.0")
    fails(2, admin.command, "setParameter", 1, ttlMonitorSleepSecs=0)
    fails(2, admin.command, "setParameter", 1, ttlMonitorSleepSecs=1.5)
    fails(2, admin.command, "setParameter", 1, notablescan="yes")
    fails(72, admin.command, "getParameter", 1, noSuchThing=1)
    # an unknown name beside a known one is passed over (mongod's getParameter loop)
    assert admin.command(SON([("getParameter", 1), ("noSuchThing", 1), ("notablescan", 1)])) == \
        {"notablescan": False, "ok": 1.0}
    fails(13, own.other.command, "setParameter", 1, notablescan=True)
    fails(13, own.other.command, "getParameter", 1, notablescan=1)
    # A bad value anywhere applies nothing.
    fails(2, admin.command, SON([("setParameter", 1), ("notablescan", True), ("ttlMonitorSleepSecs", -1)]))
    got = admin.command(SON([("getParameter", 1), ("notablescan", 1), ("ttlMonitorSleepSecs", 1)]))
    assert got["notablescan"] is False and got["ttlMonitorSleepSecs"] == 5


def test_get_parameter_star_and_details(own):
    every = own.admin.command("getParameter", "*")
    for name in ("notablescan", "ttlMonitorEnabled", "ttlMonitorSleepSecs", "transactionLifetimeLimitSeconds",
                 "featureCompatibilityVersion", "enableTestCommands", "authenticationMechanisms"):
        assert name in every, name
    details = own.admin.command(SON([("getParameter", {"showDetails": True}), ("notablescan", 1),
                                     ("enableTestCommands", 1)]))
    assert details["notablescan"] == {"value": False, "settableAtRuntime": True, "settableAtStartup": True}
    assert details["enableTestCommands"]["settableAtRuntime"] is False
    every_detailed = own.admin.command("getParameter", {"allParameters": True, "showDetails": True})
    assert every_detailed["ttlMonitorSleepSecs"]["value"] == 60


def test_notablescan_refuses_scans_with_mongods_messages(own):
    t = own.db.test_notablescan
    t.insert_one({"a": 1})
    own.admin.command("setParameter", 1, notablescan=True)
    assert "No indexed plans available, and running with 'notablescan'" in fails(291, lambda: list(t.find({"a": 1})))
    fails(291, t.count_documents, {"a": 1})
    fails(291, t.update_one, {"a": 1}, {"$set": {"b": 1}})
    fails(291, t.delete_many, {"a": 1})
    fails(291, lambda: list(t.aggregate([{"$match": {"a": 1}}])))
    assert "hint $natural is not allowed, because 'notablescan' is enabled" in \
        fails(291, lambda: list(t.find({"a": 1}).hint([("$natural", 1)])))
    assert len(list(t.find({}))) == 1, "an empty filter still scans (SERVER-274)"
    assert t.find_one({"_id": t.find_one()["_id"]}) is not None, "the _id index answers"
    t.create_index("a")
    assert len(list(t.find({"a": 1, "b": 1}))) == 0
    assert len(list(t.find({"a": 1, "b": None}))) == 1
    assert len(list(t.find({"a": {"$in": []}}))) == 0
    assert len(list(t.find({"a": {"$in": []}, "b": 0}))) == 0
    assert t.update_one({"a": 1}, {"$set": {"b": 2}}).modified_count == 1
    own.admin.command("setParameter", 1, notablescan=False)
    assert t.count_documents({"b": 2}) == 1, "off again: the scan runs"


def test_notablescan_refuses_tailable_cursors(own):
    own.db.create_collection("capped", capped=True, size=4096)
    own.db.capped.insert_one({"a": 1})
    own.admin.command("setParameter", 1, notablescan=True)
    # The command itself: pymongo 3.11's tailable cursor ends quietly on
    # some errors instead of raising them.
    assert "tailable cursors (which always do a table scan) are not allowed" in \
        fails(291, own.db.command, SON([("find", "capped"), ("filter", {"a": 1}), ("tailable", True)]))
    assert len(own.db.command(SON([("find", "capped"), ("filter", {}), ("tailable", True)]))["cursor"][
        "firstBatch"]) == 1, "an empty filter is exempt"


def test_ttl_monitor_switch_and_interval(own):
    sessions = own.db.sessions
    sessions.create_index("at", expireAfterSeconds=0)
    own.admin.command("setParameter", 1, ttlMonitorEnabled=False)
    own.admin.command("setParameter", 1, ttlMonitorSleepSecs=1)
    sessions.insert_one({"at": datetime.datetime(2001, 1, 1)})
    time.sleep(2.5)
    assert sessions.count_documents({}) == 1, "the monitor ran while switched off"
    own.admin.command("setParameter", 1, ttlMonitorEnabled=True)
    deadline = time.monotonic() + 10
    while sessions.count_documents({}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sessions.count_documents({}) == 0, "the monitor did not run within 10 s at a 1 s interval"


def test_transaction_lifetime_is_settable_and_bounded(own):
    assert own.admin.command("getParameter", 1, transactionLifetimeLimitSeconds=1)[
        "transactionLifetimeLimitSeconds"] == 60
    assert own.admin.command("setParameter", 1, transactionLifetimeLimitSeconds=30)["was"] == 60
    assert own.admin.command("getParameter", 1, transactionLifetimeLimitSeconds=1)[
        "transactionLifetimeLimitSeconds"] == 30
    fails(2, own.admin.command, "setParameter", 1, transactionLifetimeLimitSeconds=0)


def test_a_lifetime_set_at_runtime_aborts_an_abandoned_transaction():
    server = DocketServer("--replica-set", "rs0")  # started with the default 60 s
    try:
        c = pymongo.MongoClient(server.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=5000)
        c.admin.command("setParameter", 1, transactionLifetimeLimitSeconds=1)
        c.txn.l.insert_one({"_id": 1, "v": 0})
        s = c.start_session()
        s.start_transaction()
        c.txn.l.update_one({"_id": 1}, {"$set": {"v": 1}}, session=s)  # holds the document
        time.sleep(2.5)  # the reaper runs every second
        c.txn.l.update_one({"_id": 1}, {"$set": {"v": 2}})  # freed by the abort at 1 s, not 60 s
        fails(251, s.commit_transaction)
        assert c.txn.l.find_one({"_id": 1})["v"] == 2
        s.end_session()
        c.close()
    finally:
        assert server.stop() == 0
