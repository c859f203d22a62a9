"""fsync and fsyncUnlock as mongod 6.0: fsync flushes (numFiles); lock: true
counts locks and blocks every write until as many unlocks, while reads go
on; a blocked write shows in currentOp (with fsyncLock: true), gives up at
its maxTimeMS (50) and ends at killOp; admin only (13); an unlock too many
is IllegalOperation (20). Each test has its own server: the lock is
server-wide."""
import threading
import time

import pytest
from pymongo.errors import ExecutionTimeout, OperationFailure

from conftest import DocketServer


@pytest.fixture
def own(tmp_path):
    s = DocketServer(dbpath=str(tmp_path))
    c = s.client()
    yield c
    c.close()
    assert s.stop() == 0


def test_fsync_flushes_and_the_lock_counts(own):
    own.t.c.insert_one({"_id": 1})
    assert own.admin.command("fsync")["numFiles"] == 1
    first = own.admin.command("fsync", lock=True)
    assert first["lockCount"] == 1 and "now locked against writes" in first["info"]
    assert own.admin.command("fsync", lock=True)["lockCount"] == 2
    assert own.admin.command("currentOp")["fsyncLock"] is True
    assert own.t.c.find_one({"_id": 1}) == {"_id": 1}, "reads go on"
    assert own.admin.command("fsyncUnlock") == {"info": "fsyncUnlock completed", "lockCount": 1, "ok": 1.0}
    assert own.admin.command("fsyncUnlock")["lockCount"] == 0
    with pytest.raises(OperationFailure) as e:
        own.admin.command("fsyncUnlock")
    assert e.value.code == 20
    assert "fsyncLock" not in own.admin.command("currentOp")
    for command in ("fsync", "fsyncUnlock"):
        with pytest.raises(OperationFailure) as e:
            own.t.command(command)
        assert e.value.code == 13


def test_writes_wait_for_the_unlock_and_lose_nothing(own):
    own.admin.command("fsync", lock=True)
    done = []
    writer = threading.Thread(target=lambda: done.append(own.t.c.insert_one({"_id": "w"}).inserted_id))
    writer.start()
    # The write is listed, waiting; nothing is written meanwhile.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ops = own.admin.command("currentOp", {"command.insert": "c"})["inprog"]
        if ops:
            break
        time.sleep(0.02)
    assert ops, "the blocked insert is not in currentOp"
    assert own.t.c.count_documents({}) == 0 and not done
    own.admin.command("fsyncUnlock")
    writer.join(timeout=10)
    assert done == ["w"] and own.t.c.count_documents({}) == 1


def test_a_blocked_write_obeys_max_time_ms_and_kill_op(own):
    own.admin.command("fsync", lock=True)
    with pytest.raises(ExecutionTimeout):
        own.t.command("insert", "c", documents=[{"_id": 1}], maxTimeMS=200)
    errors = []

    def write():
        try:
            own.t.c.insert_one({"_id": 2})
        except OperationFailure as e:
            errors.append(e.code)

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 10
    ops = []
    while not ops and time.monotonic() < deadline:
        ops = own.admin.command("currentOp", {"command.insert": "c"})["inprog"]
    assert ops
    own.admin.command("killOp", op=ops[0]["opid"])
    writer.join(timeout=10)
    assert errors == [11601]
    own.admin.command("fsyncUnlock")
    assert own.t.c.count_documents({}) == 0, "neither blocked write happened"


def test_reindex_rebuilds_every_index_exactly(own):
    """reIndex (not fsync's, but the other maintenance command tools send):
    mongod's reply, indexes exact and used afterwards, errors."""
    c = own.t.c
    c.insert_many([{"_id": i, "a": i % 10, "tags": [i, i + 1]} for i in range(500)])
    c.create_index("a")
    c.create_index("tags")
    before = own.t.command("validate", "c")["keysPerIndex"]
    reply = own.t.command("reIndex", "c")
    assert reply["nIndexesWas"] == reply["nIndexes"] == 3
    assert [i["name"] for i in reply["indexes"]] == ["_id_", "a_1", "tags_1"]
    validated = own.t.command("validate", "c")
    assert validated["valid"] and validated["keysPerIndex"] == before
    assert c.find({"tags": 7}).explain()["queryPlanner"]["winningPlan"]["inputStage"]["indexName"] == "tags_1"
    assert sorted(d["_id"] for d in c.find({"tags": 7})) == [6, 7]
    with pytest.raises(OperationFailure) as e:
        own.t.command("reIndex", "nothing")
    assert e.value.code == 26
    own.t.command("create", "v", viewOn="c", pipeline=[])
    with pytest.raises(OperationFailure) as e:
        own.t.command("reIndex", "v")
    assert e.value.code == 166


def test_unknown_fields_are_refused_as_mongods_idl_does(own):
    """fsync, fsyncUnlock, logRotate, reIndex and explain check their fields
    (40415) instead of ignoring what they do not implement."""
    from bson.son import SON
    own.t.c.insert_one({"_id": 1})
    for command, db in [(SON([("fsync", 1), ("bogus", 1)]), "admin"), (SON([("fsyncUnlock", 1), ("bogus", 1)]), "admin"),
                        (SON([("logRotate", 1), ("bogus", 1)]), "admin"), (SON([("reIndex", "c"), ("bogus", 1)]), "t"),
                        (SON([("explain", {"find": "c"}), ("bogus", 1)]), "t")]:
        with pytest.raises(OperationFailure) as e:
            own[db].command(command)
        assert e.value.code == 40415 and "bogus" in e.value.details["errmsg"], command
    assert own.admin.command("fsync", lock=False)["numFiles"] == 1
