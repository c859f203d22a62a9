"""A cursor belongs to its session, not to the connection that opened it: a
getMore on another connection works after the first one closed; another
session cannot continue or kill it; endSessions ends it. Cursor ids are random,
not consecutive."""
import uuid

import bson
import pymongo
import pytest
from bson import SON

import raw_wire


def test_getmore_from_another_connection_after_the_first_closed(server, db):
    db.c.insert_many([{"_id": i} for i in range(10)])
    lsid = {"id": bson.Binary(uuid.uuid4().bytes, 4)}
    first = raw_wire.connect(server)
    reply = raw_wire.command(first, SON([("find", "c"), ("batchSize", 2), ("lsid", lsid), ("$db", db.name)]))
    cursor_id = reply["cursor"]["id"]
    assert cursor_id != 0
    first.close()  # the connection that opened it is gone
    second = raw_wire.connect(server)
    more = raw_wire.command(second, SON([("getMore", bson.Int64(cursor_id)), ("collection", "c"), ("batchSize", 100),
                                         ("lsid", lsid), ("$db", db.name)]))
    assert more.get("ok") == 1.0, more
    assert [d["_id"] for d in more["cursor"]["nextBatch"]] == list(range(2, 10))
    assert more["cursor"]["id"] == 0
    # Without the session, or in another one, it is refused (50737 / 50738).
    reply = raw_wire.command(second, SON([("find", "c"), ("batchSize", 2), ("lsid", lsid), ("$db", db.name)]))
    cursor_id = bson.Int64(reply["cursor"]["id"])
    no_session = raw_wire.command(second, SON([("getMore", cursor_id), ("collection", "c"), ("$db", db.name)]))
    assert no_session["code"] == 50737
    other = {"id": bson.Binary(uuid.uuid4().bytes, 4)}
    elsewhere = raw_wire.command(second, SON([("getMore", cursor_id), ("collection", "c"), ("lsid", other),
                                              ("$db", db.name)]))
    assert elsewhere["code"] == 50738
    second.close()


def test_another_session_can_neither_continue_nor_kill_it(server, db):
    db.c.insert_many([{"_id": i} for i in range(5)])
    client = server.client()
    owner = client.start_session()
    other = client.start_session()
    cursor_id = client[db.name].command(SON([("find", "c"), ("batchSize", 1)]), session=owner)["cursor"]["id"]
    for session, code in [(other, 50738)]:
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            client[db.name].command(SON([("getMore", cursor_id), ("collection", "c")]), session=session)
        assert e.value.code == code
    killed = client[db.name].command(SON([("killCursors", "c"), ("cursors", [cursor_id])]), session=other)
    assert killed["cursorsNotFound"] == [cursor_id]
    # Still alive for its owner.
    more = client[db.name].command(SON([("getMore", cursor_id), ("collection", "c"), ("batchSize", 1)]),
                                   session=owner)
    assert [d["_id"] for d in more["cursor"]["nextBatch"]] == [1]
    killed = client[db.name].command(SON([("killCursors", "c"), ("cursors", [cursor_id])]), session=owner)
    assert killed["cursorsKilled"] == [cursor_id]
    client.close()


def test_end_sessions_ends_the_sessions_cursors(server, db):
    db.c.insert_many([{"_id": i} for i in range(5)])
    client = server.client()
    session = client.start_session()
    cursor_id = client[db.name].command(SON([("find", "c"), ("batchSize", 1)]), session=session)["cursor"]["id"]
    lsid = session.session_id
    client.admin.command({"endSessions": [lsid]})
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client[db.name].command(SON([("getMore", cursor_id), ("collection", "c"), ("lsid", lsid)]))
    assert e.value.code == 43
    client.close()


def test_cursor_ids_are_not_consecutive(db):
    db.c.insert_many([{"_id": i} for i in range(5)])
    ids = [db.command(SON([("find", "c"), ("batchSize", 1)]))["cursor"]["id"] for _ in range(20)]
    assert len(set(ids)) == 20 and all(i > 0 for i in ids)
    gaps = {b - a for a, b in zip(ids, ids[1:])}
    assert gaps != {1}
    assert max(ids) > 2 ** 40  # drawn from the whole 63-bit range, not a counter
