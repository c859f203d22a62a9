"""The oplog of a one-member replica set (src/engine/oplog.h) as drivers and
tools read it: local.oplog.rs holds one entry per change in MongoDB's format,
stamped with the time the write's reply carries as operationTime; a
transaction is one applyOps entry naming its session; the oplog is readable,
tailable (awaitData) and read-only; it survives a restart with its times
still growing; --oplog-size sizes it; a standalone server has none."""
import threading
import time

import pymongo
import pytest
from bson import Timestamp
from pymongo.errors import OperationFailure

from conftest import DocketServer


@pytest.fixture(scope="module")
def rs():
    s = DocketServer("--replica-set", "rs0", "--oplog-size", "5")
    yield s
    assert s.stop() == 0


def entries(client, ns):
    return list(client.local["oplog.rs"].find({"ns": ns}))


def test_each_write_is_an_entry_stamped_with_its_operation_time(rs_client):
    db = rs_client.oplog_format
    db.drop_collection("people")
    with rs_client.start_session(causal_consistency=True) as session:
        db.people.insert_one({"_id": 1, "name": "ada", "langs": ["en"]}, session=session)
        inserted_at = session.operation_time
        db.people.update_one({"_id": 1}, {"$set": {"name": "grace"}, "$push": {"langs": "fr"}}, session=session)
        db.people.replace_one({"_id": 1}, {"x": 1}, session=session)
        db.people.delete_one({"_id": 1}, session=session)
        deleted_at = session.operation_time
    log = entries(rs_client, "oplog_format.people")
    assert [e["op"] for e in log] == ["i", "u", "u", "d"]
    uuid = next(db.list_collections(filter={"name": "people"}))["info"]["uuid"]
    for e in log:
        assert e["ui"] == uuid
        assert e["t"] == 1 and e["v"] == 2 and "wall" in e and "_id" not in e
    assert log[0]["o"] == {"_id": 1, "name": "ada", "langs": ["en"]}
    assert log[0]["ts"] == inserted_at
    assert log[1]["o"] == {"$v": 2, "diff": {"u": {"name": "grace"}, "slangs": {"a": True, "u1": "fr"}}}
    assert log[1]["o2"] == {"_id": 1}
    assert log[2]["o"] == {"_id": 1, "x": 1}
    assert log[3]["o"] == {"_id": 1}
    assert log[3]["ts"] == deleted_at
    assert [e["ts"] for e in log] == sorted(e["ts"] for e in log)


def test_a_transaction_is_one_apply_ops_entry_naming_its_session(rs_client):
    db = rs_client.oplog_txn
    db.drop_collection("c")
    db.create_collection("c")
    with rs_client.start_session() as session:
        with session.start_transaction():
            db.c.insert_one({"_id": 1}, session=session)
            db.c.insert_one({"_id": 2}, session=session)
        lsid = session.session_id
    with rs_client.start_session() as session:
        session.start_transaction()
        db.c.insert_one({"_id": 3}, session=session)
        session.abort_transaction()
    txns = [e for e in rs_client.local["oplog.rs"].find({"op": "c", "ns": "admin.$cmd"})
            if any(op["ns"] == "oplog_txn.c" for op in e["o"].get("applyOps", []))]
    assert len(txns) == 1
    entry = txns[0]
    assert entry["lsid"]["id"].bytes == bytes(lsid["id"])
    assert len(entry["lsid"]["uid"]) == 32
    assert entry["txnNumber"] >= 1
    assert [op["o"] for op in entry["o"]["applyOps"]] == [{"_id": 1}, {"_id": 2}]
    assert entry["prevOpTime"] == {"ts": Timestamp(0, 0), "t": -1}


def test_a_tailable_await_cursor_sees_a_new_entry_at_once(rs_client, rs):
    last = next(rs_client.local["oplog.rs"].find().sort("$natural", -1).limit(1))["ts"]
    cursor = rs_client.local["oplog.rs"].find({"ts": {"$gt": last}},
                                               cursor_type=pymongo.CursorType.TAILABLE_AWAIT).max_await_time_ms(5000)
    writer = rs.client(directConnection=True)

    def write():
        time.sleep(0.3)
        writer.oplog_tail.c.insert_one({"_id": "new"})

    thread = threading.Thread(target=write)
    thread.start()
    started = time.monotonic()
    seen = None
    while cursor.alive and seen is None and time.monotonic() - started < 10:
        for doc in cursor:
            if doc.get("ns") == "oplog_tail.c":
                seen = doc
                break
    thread.join()
    writer.close()
    assert seen is not None and seen["o"] == {"_id": "new"}
    assert time.monotonic() - started < 4, "the getMore woke when the entry committed, not at maxAwaitTimeMS"


def test_the_oplog_is_read_only_and_capped_at_oplog_size(rs_client):
    oplog = rs_client.local["oplog.rs"]
    for write in (lambda: oplog.insert_one({"op": "n"}),
                  lambda: oplog.delete_many({}),
                  lambda: oplog.update_many({}, {"$set": {"x": 1}})):
        with pytest.raises(OperationFailure) as failure:
            write()
        assert failure.value.code == 73
    stats = rs_client.local.command("collStats", "oplog.rs")
    assert stats["capped"] is True and stats["maxSize"] == 5 << 20
    # Writing more than 5 MiB keeps the oplog within it, newest last.
    big = "x" * 100_000
    rs_client.oplog_fill.c.insert_many([{"_id": i, "p": big} for i in range(80)])
    assert rs_client.local.command("collStats", "oplog.rs")["size"] <= 5 << 20
    newest = next(oplog.find().sort("$natural", -1).limit(1))
    assert newest["ns"] == "oplog_fill.c" and newest["o"]["_id"] == 79


def test_no_oplog_on_a_standalone_server(client):
    assert "oplog.rs" not in client.local.list_collection_names()


def test_the_oplog_survives_a_restart_and_times_keep_growing(tmp_path):
    server = DocketServer("--replica-set", "rs0", dbpath=str(tmp_path))
    try:
        c = server.client(directConnection=True)
        c.restart.c.insert_one({"_id": 1})
        before = entries(c, "restart.c")[-1]["ts"]
        c.close()
    finally:
        assert server.stop() == 0
    server = DocketServer("--replica-set", "rs0", dbpath=str(tmp_path))
    try:
        c = server.client(directConnection=True)
        assert [e["o"] for e in entries(c, "restart.c")] == [{"_id": 1}]
        c.restart.c.insert_one({"_id": 2})
        after = entries(c, "restart.c")[-1]["ts"]
        assert after > before
        c.close()
    finally:
        assert server.stop() == 0
