"""Cluster time as a one-member replica set gives it (src/commands/cluster_time.h):
every reply carries $clusterTime and operationTime, errors included; a
write's operationTime is new and later than every earlier one; a read's is
the last write's; a client's $clusterTime is checked and raises the clock;
readConcern.afterClusterTime is checked as mongod checks it; a standalone
server sends neither field and refuses afterClusterTime. Also the
replica-set commands launchers call (src/commands/replset.cc). Expected
answers: MongoDB's service_entry_point_common.cpp, vector_clock.cpp and
read_concern_args.cpp, with their codes and messages."""
import threading

import pymongo
import pytest
from bson import Int64, Timestamp
from bson.binary import Binary

import raw_wire
from conftest import DocketServer

ZERO_HASH = b"\0" * 20


@pytest.fixture(scope="module")
def rs():
    s = DocketServer("--replica-set", "rs0")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def standalone():
    s = DocketServer()
    yield s
    s.stop()


def raw(server, body):
    sock = raw_wire.connect(server)
    try:
        return raw_wire.command(sock, dict(body, **{"$db": body.get("$db", "test")}))
    finally:
        sock.close()


def gossip(t, key_id=Int64(0), hash_=ZERO_HASH):
    return {"clusterTime": t, "signature": {"hash": Binary(hash_, 0), "keyId": key_id}}


def assert_stamped(reply):
    assert isinstance(reply["operationTime"], Timestamp), reply
    ct = reply["$clusterTime"]
    assert isinstance(ct["clusterTime"], Timestamp)
    assert ct["signature"]["hash"] == ZERO_HASH and ct["signature"]["keyId"] == 0
    assert reply["operationTime"] <= ct["clusterTime"]


def test_every_reply_is_stamped_errors_included(rs):
    for body in ({"ping": 1}, {"hello": 1}, {"find": "c"}, {"noSuchCommand": 1},
                 {"insert": "c", "documents": [{"_id": 1}, {"_id": 1}]},
                 {"find": "c", "filter": {"$bad": 1}}):
        reply = raw(rs, body)
        assert_stamped(reply)


def test_a_write_gets_a_new_later_time_and_a_read_the_last_writes(rs):
    first = raw(rs, {"insert": "times", "documents": [{"n": 1}]})
    second = raw(rs, {"insert": "times", "documents": [{"n": 2}]})
    assert second["operationTime"] > first["operationTime"]
    read = raw(rs, {"find": "times"})
    assert read["operationTime"] == second["operationTime"]
    # Concurrent writers never share a time.
    times, lock = [], threading.Lock()

    def writer():
        for _ in range(50):
            t = raw(rs, {"insert": "times", "documents": [{"n": 3}]})["operationTime"]
            with lock:
                times.append(t)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(times)) == 200 and min(times) > second["operationTime"]


def test_causally_consistent_session_reads_its_writes(rs):
    client = rs.client(replicaset="rs0")
    coll = client.test.causal
    coll.drop()
    with client.start_session(causal_consistency=True) as s:
        for i in range(20):
            coll.insert_one({"i": i}, session=s)
            assert coll.count_documents({}, session=s) == i + 1
            assert s.operation_time is not None
        with s.start_transaction():
            coll.insert_one({"in_txn": True}, session=s)
        before = s.operation_time
        assert coll.find_one({"in_txn": True}, session=s) is not None
        assert s.operation_time >= before
    client.close()


def test_a_gossiped_cluster_time_raises_the_clock(rs):
    now = raw(rs, {"ping": 1})["$clusterTime"]["clusterTime"]
    ahead = Timestamp(now.time + 1000, 5)
    reply = raw(rs, {"ping": 1, "$clusterTime": gossip(ahead)})
    assert reply["ok"] == 1 and reply["$clusterTime"]["clusterTime"] >= ahead
    # afterClusterTime equal to the gossiped time passes; the next write is later.
    reply = raw(rs, {"find": "c", "readConcern": {"afterClusterTime": ahead}})
    assert reply["ok"] == 1, reply
    write = raw(rs, {"insert": "c", "documents": [{}]})
    assert write["operationTime"] > ahead
    # Node's driver sends the keyId back as an int32: accepted.
    assert raw(rs, {"ping": 1, "$clusterTime": gossip(ahead, key_id=0)})["ok"] == 1


@pytest.mark.parametrize("value,code,message", [
    ("x", 10065, "expected an object ($clusterTime)"),
    ({"signature": {"hash": Binary(ZERO_HASH, 0), "keyId": Int64(0)}}, 4, 'Missing expected field "clusterTime"'),
    ({"clusterTime": 5, "signature": {}}, 14, '"clusterTime" had the wrong type. Expected timestamp, found int'),
    ({"clusterTime": Timestamp(1, 1)}, 4, 'Missing expected field "signature"'),
    (gossip(Timestamp(1, 1), hash_=b"\0" * 19), 12, "hash length: 19"),
    (gossip(Timestamp(1, 1), key_id="k"), 14, '"keyId" had the wrong type'),
    (gossip(Timestamp(4000000000, 1)), 205, "is too far from this node's wall clock time"),
])
def test_a_malformed_or_far_future_cluster_time_is_refused(rs, value, code, message):
    reply = raw(rs, {"ping": 1, "$clusterTime": value})
    assert reply["ok"] == 0 and reply["code"] == code and message in reply["errmsg"], reply
    assert_stamped(reply)


@pytest.mark.parametrize("concern,code,message", [
    ({"afterClusterTime": "x"}, 14, '"afterClusterTime" had the wrong type. Expected timestamp, found string'),
    ({"afterClusterTime": Timestamp(0, 0)}, 72, "afterClusterTime cannot be a null timestamp"),
    ({"afterClusterTime": Timestamp(1, 1), "level": "linearizable"}, 72, "only if level is equal to majority"),
    ({"level": "available", "afterClusterTime": Timestamp(1, 1)}, 72, "only if level is equal to majority"),
    ({"afterClusterTime": Timestamp(4000000000, 1)}, 72, "must not be greater than the current clusterTime"),
])
def test_after_cluster_time_is_checked(rs, concern, code, message):
    reply = raw(rs, {"find": "c", "readConcern": concern})
    assert reply["ok"] == 0 and reply["code"] == code and message in reply["errmsg"], reply


def test_after_cluster_time_with_a_level_reads(rs):
    t = raw(rs, {"insert": "levels", "documents": [{"_id": 1}]})["operationTime"]
    for level in ("local", "majority"):
        reply = raw(rs, {"find": "levels", "readConcern": {"level": level, "afterClusterTime": t}})
        assert reply["cursor"]["firstBatch"] == [{"_id": 1}], reply


def test_a_standalone_sends_no_cluster_time_and_refuses_after_cluster_time(standalone):
    for body in ({"ping": 1}, {"insert": "c", "documents": [{}]}, {"noSuchCommand": 1}):
        reply = raw(standalone, body)
        assert "operationTime" not in reply and "$clusterTime" not in reply, reply
    reply = raw(standalone, {"find": "c", "readConcern": {"afterClusterTime": Timestamp(1, 1)}})
    assert reply["code"] == 20 and "without replication enabled" in reply["errmsg"], reply
    reply = raw(standalone, {"find": "c", "readConcern": {"level": "linearizable"}})
    assert reply["code"] == 123 and "replica set member" in reply["errmsg"], reply
    # The field's own checks come first, as in mongod.
    reply = raw(standalone, {"find": "c", "readConcern": {"afterClusterTime": "x"}})
    assert reply["code"] == 14, reply


def test_hello_reports_the_last_write(rs):
    t = raw(rs, {"insert": "hello_times", "documents": [{}]})["operationTime"]
    last = raw(rs, {"hello": 1})["lastWrite"]
    assert last["opTime"]["ts"] == t and last["majorityOpTime"]["ts"] == t


def test_snapshot_reads_outside_transactions_are_refused_not_ignored(rs, standalone):
    client = rs.client(directConnection=True)
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.t.command("find", "c", readConcern={"level": "snapshot"})
    assert e.value.code == 238  # a replica set's snapshot reads: the change log issue's
    client.close()
    plain = standalone.client()
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        plain.t.command("find", "c", readConcern={"level": "snapshot"})
    assert e.value.code == 123  # as mongod on a standalone
    plain.close()


def test_replica_set_commands(rs, standalone):
    client = rs.client(directConnection=True)
    status = client.admin.command("replSetGetStatus")
    assert status["set"] == "rs0" and status["myState"] == 1
    [member] = status["members"]
    assert member["stateStr"] == "PRIMARY" and member["self"] is True and member["name"] == "127.0.0.1:%d" % rs.port
    assert status["optimes"]["appliedOpTime"]["ts"] == raw(rs, {"find": "c"})["operationTime"]
    config = client.admin.command("replSetGetConfig")["config"]
    assert config["_id"] == "rs0" and [m["host"] for m in config["members"]] == ["127.0.0.1:%d" % rs.port]
    # replSetInitiate and replSetReconfig as launchers drive them: checked
    # against the one member this server is, then recorded.
    me = "127.0.0.1:%d" % rs.port
    refused = [({"_id": "rs0", "members": [{"_id": 0, "host": "x:1"}]}, 93),
               ({"_id": "other", "members": [{"_id": 0, "host": me}]}, 93),
               ({"_id": "rs0", "members": [{"_id": 0, "host": me}, {"_id": 1, "host": "127.0.0.1:1"}]}, 238)]
    for config, code in refused:
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            client.admin.command("replSetInitiate", config)
        assert e.value.code == code, config
    client.admin.command("replSetInitiate", {"_id": "rs0", "version": 1, "members": [{"_id": 0, "host": "localhost:%d" % rs.port}]})
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command("replSetInitiate", {"_id": "rs0", "members": [{"_id": 0, "host": me}]})
    assert e.value.code == 23 and e.value.details["errmsg"] == "already initialized"
    config = {"_id": "rs0", "version": 1, "members": [{"_id": 0, "host": me}]}
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command("replSetReconfig", config)
    assert e.value.code == 103  # version 1 is not above the current one
    config["version"] = 5
    client.admin.command("replSetReconfig", config)
    assert client.admin.command("replSetGetConfig")["config"]["version"] == 5
    client.admin.command("replSetReconfig", config, force=True)
    assert client.admin.command("replSetGetConfig")["config"]["version"] > 5
    client.close()
    plain = standalone.client()
    for name in ("replSetGetStatus", "replSetGetConfig", "replSetInitiate"):
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            plain.admin.command(name)
        assert e.value.code == 76, (name, e.value.details)
    plain.close()
