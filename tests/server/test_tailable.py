"""Tailable cursors over the wire, as pymongo uses them: a tailable awaitData
find on a capped collection stays open, and a getMore waits (up to
maxAwaitTimeMS) for the next insert and returns the moment it commits;
mongod's refusals keep their codes."""
import threading
import time

import pymongo
import pytest
from bson.son import SON
from pymongo.cursor import CursorType
from pymongo.errors import OperationFailure


@pytest.fixture
def log(db):
    return db.create_collection("log", capped=True, size=1 << 20, max=100)


def test_a_tailable_cursor_stays_open_and_sees_later_inserts(log):
    log.insert_many([{"_id": 1}, {"_id": 2}])
    cursor = log.find(cursor_type=CursorType.TAILABLE)
    assert [d["_id"] for d in cursor] == [1, 2]
    assert cursor.alive
    log.insert_one({"_id": 3})
    assert [d["_id"] for d in cursor] == [3]
    assert cursor.alive
    cursor.close()


def test_await_data_returns_when_an_insert_commits(log):
    log.insert_one({"_id": 1})
    cursor = log.find(cursor_type=CursorType.TAILABLE_AWAIT).max_await_time_ms(20000)
    assert next(cursor)["_id"] == 1  # from the first batch: no getMore yet

    def insert_later():
        time.sleep(0.3)
        log.insert_one({"_id": 2})

    writer = threading.Thread(target=insert_later)
    writer.start()
    started = time.monotonic()
    got = next(cursor)  # the getMore waits for the insert
    elapsed = time.monotonic() - started
    writer.join()
    assert got["_id"] == 2
    assert elapsed < 15, "the getMore waited for its whole maxAwaitTimeMS instead of waking on the insert"
    cursor.close()


def test_await_data_gives_up_after_max_await_time(log):
    log.insert_one({"_id": 1})
    db = log.database
    reply = db.command(SON([("find", "log"), ("tailable", True), ("awaitData", True)]))
    cursor_id = reply["cursor"]["id"]
    assert cursor_id != 0 and [d["_id"] for d in reply["cursor"]["firstBatch"]] == [1]
    more = db.command(SON([("getMore", cursor_id), ("collection", "log"), ("maxTimeMS", 200)]))
    assert more["cursor"]["nextBatch"] == [] and more["cursor"]["id"] == cursor_id
    db.command(SON([("killCursors", "log"), ("cursors", [cursor_id])]))


@pytest.mark.parametrize("command,code", [
    (SON([("find", "plain"), ("tailable", True)]), 2),
    (SON([("find", "log"), ("awaitData", True)]), 9),
    (SON([("find", "log"), ("tailable", True), ("singleBatch", True)]), 2),
    (SON([("find", "log"), ("tailable", True), ("sort", {"_id": 1})]), 2),
])
def test_refusals(log, command, code):
    log.database.plain.insert_one({"_id": 1})
    with pytest.raises(OperationFailure) as e:
        log.database.command(command)
    assert e.value.code == code


def test_a_lost_position_ends_the_cursor(db):
    small = db.create_collection("small", capped=True, size=4096, max=2)
    small.insert_many([{"_id": 1}, {"_id": 2}])
    reply = db.command(SON([("find", "small"), ("tailable", True)]))
    cursor_id = reply["cursor"]["id"]
    assert [d["_id"] for d in reply["cursor"]["firstBatch"]] == [1, 2] and cursor_id != 0
    small.insert_many([{"_id": 3}, {"_id": 4}, {"_id": 5}])  # 1 and 2 go, and the cursor's place with them
    with pytest.raises(OperationFailure) as e:
        db.command(SON([("getMore", cursor_id), ("collection", "small")]))
    assert e.value.code == 136
    with pytest.raises(OperationFailure) as e:
        db.command(SON([("getMore", cursor_id), ("collection", "small")]))
    assert e.value.code == 43  # the cursor died with its position
    # pymongo treats that error on a tailable cursor as its end (alive turns False).
    small.insert_many([{"_id": 6}, {"_id": 7}])
    cursor = small.find(cursor_type=CursorType.TAILABLE)
    assert [d["_id"] for d in cursor] == [6, 7]
    small.insert_many([{"_id": 8}, {"_id": 9}, {"_id": 10}])
    assert list(cursor) == [] and not cursor.alive


def test_a_client_that_goes_away_ends_its_await(server, db, log):
    """A getMore waiting for data (awaitData, a long maxTimeMS) stops waiting
    soon after its client disconnects, instead of holding its thread until
    maxTimeMS: currentOp no longer shows it."""
    import raw_wire
    log.insert_one({"_id": 1})
    sock = raw_wire.connect(server)
    found = raw_wire.command(sock, SON([("find", "log"), ("tailable", True), ("awaitData", True), ("$db", db.name)]))
    cursor_id = found["cursor"]["id"]
    assert cursor_id != 0
    sock.sendall(raw_wire.op_msg(bson_encode(SON([("getMore", cursor_id), ("collection", "log"),
                                                   ("maxTimeMS", 60000), ("$db", db.name)]))))
    admin = db.client.admin

    def waiting():
        ops = admin.aggregate([{"$currentOp": {}}, {"$match": {"command.getMore": cursor_id}}])
        return len(list(ops)) == 1

    deadline = time.time() + 10
    while not waiting() and time.time() < deadline:
        time.sleep(0.02)
    assert waiting(), "the getMore did not start waiting"
    sock.close()
    deadline = time.time() + 5
    while waiting() and time.time() < deadline:
        time.sleep(0.05)
    assert not waiting(), "the getMore still waits for a client that left"


def bson_encode(doc):
    import bson
    return bson.encode(doc)
