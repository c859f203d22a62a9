"""Change streams as drivers use them (src/aggregate/change_stream.h):
pymongo's watch() on a collection, a database and the client; events in
MongoDB's shape; fullDocument updateLookup; a waiting getMore woken by the
commit; resuming from a token after `kill -9` of the server (on disk)
without missing or repeating a change; a standalone server's refusal
(40573) and MongoDB's errors for bad pipelines."""
import signal
import threading
import time

import pytest
from pymongo.errors import OperationFailure

from conftest import DocketServer


def test_collection_stream_events_in_mongodbs_shape(rs_client):
    coll = rs_client.cs_shape.c
    coll.drop()
    with coll.watch(full_document="updateLookup") as stream:
        coll.insert_one({"_id": 1, "tags": ["a", "b"]})
        coll.update_one({"_id": 1}, {"$set": {"n": 1}, "$push": {"tags": "c"}})
        coll.delete_one({"_id": 1})
        insert, update, delete = stream.next(), stream.next(), stream.next()
    assert insert["operationType"] == "insert"
    assert insert["ns"] == {"db": "cs_shape", "coll": "c"}
    assert insert["documentKey"] == {"_id": 1}
    assert insert["fullDocument"] == {"_id": 1, "tags": ["a", "b"]}
    assert set(insert) >= {"_id", "clusterTime", "wallTime"}
    assert update["updateDescription"] == {"updatedFields": {"n": 1, "tags.2": "c"}, "removedFields": [],
                                           "truncatedArrays": []}
    # updateLookup reads the document as it is when the event is returned: deleted by then.
    assert update["fullDocument"] is None
    assert delete["operationType"] == "delete" and "fullDocument" not in delete


def test_database_and_client_streams_and_a_pipeline(rs_client):
    db = rs_client.cs_scope
    with db.watch([{"$match": {"operationType": "insert"}}]) as in_db, \
            rs_client.watch([{"$match": {"ns.db": {"$in": ["cs_scope", "cs_scope_other"]}}}]) as everywhere:
        db.a.insert_one({"_id": "a"})
        db.a.update_one({"_id": "a"}, {"$set": {"x": 1}})
        rs_client.cs_scope_other.b.insert_one({"_id": "b"})
        db.c.insert_one({"_id": "c"})
        assert [in_db.next()["documentKey"]["_id"] for _ in range(2)] == ["a", "c"]
        kinds = [(e["operationType"], e["ns"]["db"]) for e in (everywhere.next() for _ in range(4))]
        assert kinds == [("insert", "cs_scope"), ("update", "cs_scope"), ("insert", "cs_scope_other"),
                         ("insert", "cs_scope")]


def test_a_waiting_get_more_wakes_when_the_change_commits(rs_client, rs):
    coll = rs_client.cs_wake.c
    with coll.watch(max_await_time_ms=5000) as stream:
        writer = rs.client(directConnection=True)
        timer = threading.Timer(0.3, lambda: writer.cs_wake.c.insert_one({"_id": 1}))
        started = time.monotonic()
        timer.start()
        event = stream.next()
        waited = time.monotonic() - started
        timer.join()
        writer.close()
    assert event["documentKey"] == {"_id": 1}
    assert waited < 3, "woken by the commit, not by maxAwaitTimeMS"


def test_errors_as_mongod_gives_them(rs_client, client):
    coll = rs_client.cs_errors.c
    with pytest.raises(OperationFailure) as failure:
        coll.watch([{"$group": {"_id": None}}])
    assert failure.value.code == 20
    with pytest.raises(OperationFailure) as failure:
        coll.aggregate([{"$match": {}}, {"$changeStream": {}}])
    assert failure.value.code == 40602
    with pytest.raises(OperationFailure) as failure:
        client.cs_errors.c.watch()  # a standalone server
    assert failure.value.code == 40573
    with pytest.raises(OperationFailure) as failure:
        with coll.watch([{"$project": {"_id": 0}}]) as stream:
            coll.insert_one({})
            stream.next()
    assert failure.value.code == 280
    assert failure.value.has_error_label("NonResumableChangeStreamError")


def test_resume_after_kill_9_misses_nothing(tmp_path):
    """A watcher keeps its last token; the server is killed with SIGKILL
    while writes go on; restarted on the same files, the stream resumed from
    the token returns every later write once, in order."""
    server = DocketServer("--replica-set", "rs0", dbpath=str(tmp_path))
    c = server.client(directConnection=True)
    coll = c.cs_crash.c
    coll.insert_one({"_id": -1})
    seen, token = [], None
    with coll.watch() as stream:
        for i in range(50):
            coll.insert_one({"_id": i})
        for _ in range(20):
            seen.append(stream.next()["documentKey"]["_id"])
        token = stream.resume_token
    for i in range(50, 60):
        coll.insert_one({"_id": i})
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    c.close()
    server = DocketServer("--replica-set", "rs0", dbpath=str(tmp_path))
    try:
        c = server.client(directConnection=True)
        coll = c.cs_crash.c
        with coll.watch(resume_after=token) as stream:
            coll.insert_one({"_id": 60})
            while len(seen) < 61:
                seen.append(stream.next()["documentKey"]["_id"])
        assert seen == list(range(61))
        c.close()
    finally:
        assert server.stop() == 0


def test_resuming_after_an_event_that_is_not_there_is_change_stream_fatal_error(rs_client):
    coll = rs_client.cs_missing_token.c
    coll.drop()
    with coll.watch() as stream:
        coll.insert_one({"_id": 1})
        first = stream.next()
    token = first["_id"]["_data"]
    # the same cluster time, another event index: no such event was ever written
    forged = {"_data": token[:-10] + "00000007" + token[-2:]}
    assert forged != first["_id"]
    coll.insert_one({"_id": 2})
    with pytest.raises(OperationFailure) as e:
        with coll.watch(resume_after=forged) as stream:
            stream.next()
    assert e.value.code == 280 and "resume token was not found" in str(e.value)
    # the real token resumes, and its event is not returned again
    with coll.watch(resume_after=first["_id"]) as stream:
        assert stream.next()["documentKey"] == {"_id": 2}
    # a high-water mark (postBatchResumeToken of an idle stream) needs no event
    with coll.watch() as idle:
        assert idle.try_next() is None
        mark = idle.resume_token
    coll.insert_one({"_id": 3})
    with coll.watch(resume_after=mark) as stream:
        assert stream.next()["documentKey"] == {"_id": 3}
