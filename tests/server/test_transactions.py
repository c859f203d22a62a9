"""Multi-document transactions and retryable writes over the wire, through
pymongo's own session API, against `docket serve --replica-set rs0` (a
one-member replica set: what drivers need before they run transactions).
A standalone server refuses transaction numbers, as MongoDB's does."""
import threading
import uuid

import bson
import pymongo
import pytest
from pymongo.errors import OperationFailure

from conftest import DocketServer


@pytest.fixture(scope="module")
def rs_server():
    s = DocketServer("--replica-set", "rs0")
    yield s
    assert s.stop() == 0, "docket serve did not shut down cleanly"


@pytest.fixture
def rs(rs_server):
    c = pymongo.MongoClient(rs_server.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=5000)
    c.drop_database("txn")
    yield c
    c.drop_database("txn")
    c.close()


def test_hello_describes_a_one_member_replica_set(rs, rs_server):
    hello = rs.admin.command("hello")
    me = "127.0.0.1:%d" % rs_server.port
    assert hello["setName"] == "rs0"
    assert hello["isWritablePrimary"] is True
    assert hello["hosts"] == [me] and hello["primary"] == me and hello["me"] == me


def test_committed_writes_appear_together_and_not_before(rs):
    accounts = rs.txn.accounts
    accounts.insert_many([{"_id": "a", "v": 100}, {"_id": "b", "v": 0}])
    with rs.start_session() as s:
        s.start_transaction()
        accounts.update_one({"_id": "a"}, {"$inc": {"v": -30}}, session=s)
        accounts.update_one({"_id": "b"}, {"$inc": {"v": 30}}, session=s)
        # Inside: its own writes. Outside: nothing yet.
        assert accounts.find_one({"_id": "a"}, session=s)["v"] == 70
        assert accounts.find_one({"_id": "a"})["v"] == 100
        assert accounts.find_one({"_id": "b"})["v"] == 0
        s.commit_transaction()
    assert {d["_id"]: d["v"] for d in accounts.find()} == {"a": 70, "b": 30}


def test_aborted_writes_leave_nothing(rs):
    items = rs.txn.items
    items.insert_one({"_id": 1})
    with rs.start_session() as s:
        s.start_transaction()
        items.insert_one({"_id": 2}, session=s)
        items.delete_one({"_id": 1}, session=s)
        assert items.count_documents({}, session=s) == 1
        s.abort_transaction()
    assert sorted(d["_id"] for d in items.find()) == [1]


def test_reads_see_the_snapshot_of_the_first_statement(rs):
    items = rs.txn.snap
    items.insert_one({"_id": 1, "v": "old"})
    with rs.start_session() as s:
        s.start_transaction()
        assert items.find_one({"_id": 1}, session=s)["v"] == "old"
        items.update_one({"_id": 1}, {"$set": {"v": "new"}})  # outside, committed at once
        items.insert_one({"_id": 2})
        assert items.find_one({"_id": 1}, session=s)["v"] == "old"
        assert items.find_one({"_id": 2}, session=s) is None
        s.commit_transaction()


def test_a_conflicting_write_is_a_transient_error_and_with_transaction_retries(rs):
    counters = rs.txn.counters
    counters.insert_one({"_id": "n", "v": 0})
    with rs.start_session() as first, rs.start_session() as second:
        first.start_transaction()
        counters.update_one({"_id": "n"}, {"$inc": {"v": 1}}, session=first)
        second.start_transaction()
        with pytest.raises(OperationFailure) as e:
            counters.update_one({"_id": "n"}, {"$inc": {"v": 1}}, session=second)
        assert e.value.code == 112
        assert e.value.has_error_label("TransientTransactionError")
        # The failed statement ended the second transaction.
        with pytest.raises(OperationFailure) as e:
            second.commit_transaction()
        assert e.value.code == 251
        first.commit_transaction()
    assert counters.find_one({"_id": "n"})["v"] == 1

    # Eight threads moving money in with_transaction: conflicts are retried
    # by the driver and every total adds up.
    accounts = rs.txn.bank
    accounts.insert_many([{"_id": i, "v": 1000} for i in range(4)])
    errors = []

    def worker(seed):
        import random
        rng = random.Random(seed)
        try:
            with rs.start_session() as s:
                for _ in range(15):
                    a, b = rng.sample(range(4), 2)

                    def move(session):
                        accounts.update_one({"_id": a}, {"$inc": {"v": -7}}, session=session)
                        accounts.update_one({"_id": b}, {"$inc": {"v": 7}}, session=session)
                    s.with_transaction(move)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(d["v"] for d in accounts.find()) == 4000


def test_commands_transactions_do_not_allow(rs):
    rs.txn.c.insert_one({"_id": 1})
    with rs.start_session() as s:
        s.start_transaction()
        with pytest.raises(OperationFailure) as e:
            rs.txn.command("count", "c", session=s)
        assert e.value.code == 263
        # ... and the transaction is over.
        with pytest.raises(OperationFailure) as e:
            rs.txn.c.find_one({}, session=s)
        assert e.value.code == 251


def test_a_cursor_opened_in_a_transaction_dies_with_it(rs):
    rs.txn.many.insert_many([{"_id": i} for i in range(10)])
    with rs.start_session() as s:
        s.start_transaction()
        cursor = rs.txn.many.find({}, session=s, batch_size=2)
        assert next(cursor)["_id"] == 0
        reply = rs.txn.command("find", "many", batchSize=2, session=s)
        cursor_id = reply["cursor"]["id"]
        assert cursor_id != 0
        s.commit_transaction()
        cursor.close()
    with pytest.raises(OperationFailure) as e:
        rs.txn.command("getMore", bson.int64.Int64(cursor_id), collection="many")
    assert e.value.code == 43


def test_retried_write_is_not_applied_twice(rs):
    """A driver that lost the reply sends the same txnNumber again; the server
    answers from its record of the first instead of incrementing again."""
    rs.txn.r.insert_one({"_id": "n", "v": 0})
    # pymongo puts the session's lsid on the command (its pooled sessions may
    # have used small txnNumbers before); the txnNumber is ours.
    with rs.start_session() as s:
        command = {"update": "r", "updates": [{"q": {"_id": "n"}, "u": {"$inc": {"v": 1}}}],
                   "txnNumber": bson.int64.Int64(1005)}
        first = rs.txn.command(command, session=s)
        again = rs.txn.command(command, session=s)
        assert first["nModified"] == 1 and again["nModified"] == 1
        assert rs.txn.r.find_one({"_id": "n"})["v"] == 1
        # An older number is refused; a newer one runs.
        command["txnNumber"] = bson.int64.Int64(1004)
        with pytest.raises(OperationFailure) as e:
            rs.txn.command(command, session=s)
        assert e.value.code == 225
        command["txnNumber"] = bson.int64.Int64(1006)
        rs.txn.command(command, session=s)
    assert rs.txn.r.find_one({"_id": "n"})["v"] == 2


def test_ending_a_session_aborts_its_transaction(rs):
    rs.txn.e.insert_one({"_id": 1, "v": 0})
    with rs.start_session() as s:
        rs.txn.command({"update": "e", "updates": [{"q": {"_id": 1}, "u": {"$set": {"v": 1}}}],
                        "txnNumber": bson.int64.Int64(2001), "autocommit": False, "startTransaction": True},
                       session=s)
        rs.admin.command("endSessions", [s.session_id])
        # The lock is gone with the transaction: an outside write goes through.
        rs.txn.e.update_one({"_id": 1}, {"$set": {"v": 2}})
        assert rs.txn.e.find_one({"_id": 1})["v"] == 2
        with pytest.raises(OperationFailure) as e:
            rs.admin.command({"commitTransaction": 1, "txnNumber": bson.int64.Int64(2001), "autocommit": False},
                             session=s)
        assert e.value.code == 251


def test_bad_transaction_fields_get_clear_errors(rs):
    base = {"find": "x"}
    with rs.start_session() as s:
        for fields, code in [({"txnNumber": "1"}, 14), ({"txnNumber": bson.int64.Int64(1), "autocommit": True}, 72),
                             ({"autocommit": False}, 72), ({"txnNumber": bson.int64.Int64(1)}, 72),
                             ({"txnNumber": bson.int64.Int64(3001), "autocommit": False}, 251)]:
            with pytest.raises(OperationFailure) as e:
                rs.txn.command(dict(base, **fields), session=s)
            assert e.value.code == code, fields
    with pytest.raises(OperationFailure) as e:
        rs.admin.command("commitTransaction")
    assert e.value.code == 72


def test_a_standalone_server_refuses_transaction_numbers(client):
    lsid = {"id": bson.Binary(uuid.uuid4().bytes, 4)}
    with pytest.raises(OperationFailure) as e:
        client.t.command({"insert": "x", "documents": [{}], "lsid": lsid, "txnNumber": bson.int64.Int64(1)})
    assert e.value.code == 20


def test_an_abandoned_transaction_is_aborted_after_its_lifetime():
    server = DocketServer("--replica-set", "rs0", "--transaction-lifetime", "1")
    try:
        c = pymongo.MongoClient(server.uri + "?replicaSet=rs0", serverSelectionTimeoutMS=5000)
        c.txn.l.insert_one({"_id": 1, "v": 0})
        s = c.start_session()
        s.start_transaction()
        c.txn.l.update_one({"_id": 1}, {"$set": {"v": 1}}, session=s)  # holds the document
        import time
        time.sleep(2.5)  # the reaper runs every second
        c.txn.l.update_one({"_id": 1}, {"$set": {"v": 2}})  # the lock went with the transaction
        with pytest.raises(OperationFailure) as e:
            s.commit_transaction()
        assert e.value.code == 251
        assert c.txn.l.find_one({"_id": 1})["v"] == 2
        s.end_session()
        c.close()
    finally:
        assert server.stop() == 0


def test_a_write_blocked_by_an_abandoned_transaction_succeeds_once_it_is_aborted():
    """A client opens a transaction, writes a document and vanishes. A plain
    update of that document waits for the server to abort the transaction at
    its lifetime, then succeeds (it used to fail a moment before that)."""
    import uuid

    import bson
    from bson import SON

    import raw_wire
    from conftest import DocketServer

    s = DocketServer("--replica-set", "rs0", "--transaction-lifetime", "2")
    try:
        client = s.client(replicaSet="rs0")
        client.tx.c.insert_one({"_id": 1, "n": 0})
        sock = raw_wire.connect(s)
        lsid = {"id": bson.Binary(uuid.uuid4().bytes, 4)}
        reply = raw_wire.command(sock, SON([("update", "c"), ("updates", [{"q": {"_id": 1}, "u": {"$inc": {"n": 100}}}]),
                                            ("lsid", lsid), ("txnNumber", bson.Int64(1)), ("startTransaction", True),
                                            ("autocommit", False), ("$db", "tx")]))
        assert reply["ok"] == 1.0, reply
        sock.close()  # abandoned: no commit, no abort, no endSessions
        import time
        start = time.monotonic()
        result = client.tx.c.update_one({"_id": 1}, {"$inc": {"n": 1}})
        assert result.modified_count == 1
        assert time.monotonic() - start < 10
        assert client.tx.c.find_one({"_id": 1})["n"] == 1  # the transaction's write is gone
        client.close()
    finally:
        assert s.stop() == 0
