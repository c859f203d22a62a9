"""Writes waiting for a busy document do not take threads: 140 updates of one
document that an open transaction holds grew the server to 135 threads, and
a ping waited 57 s. Now they park (no thread each) and are woken when the
document is released; every other command is answered at once meanwhile."""
import threading
import time
import uuid

import bson
import pymongo
from bson import SON

import raw_wire
from conftest import DocketServer


def thread_count(server):
    with open("/proc/%d/status" % server.process.pid) as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def test_many_writes_blocked_on_one_document_take_no_threads_and_stall_nothing():
    s = DocketServer("--replica-set", "rs0", "--transaction-lifetime", "30")
    try:
        setup = s.client(replicaSet="rs0")
        setup.park.c.insert_one({"_id": 1, "n": 0})
        # A transaction holds the document.
        holder = raw_wire.connect(s)
        lsid = {"id": bson.Binary(uuid.uuid4().bytes, 4)}
        reply = raw_wire.command(holder, SON([("update", "c"), ("updates", [{"q": {"_id": 1}, "u": {"$inc": {"n": 1000}}}]),
                                              ("lsid", lsid), ("txnNumber", bson.Int64(1)),
                                              ("startTransaction", True), ("autocommit", False), ("$db", "park")]))
        assert reply["ok"] == 1.0, reply
        before = thread_count(s)
        writers = 140
        results = []
        lock = threading.Lock()

        def write():
            with s.client(replicaSet="rs0", socketTimeoutMS=60000) as c:
                r = c.park.c.update_one({"_id": 1}, {"$inc": {"n": 1}})
                with lock:
                    results.append(r.modified_count)

        threads = [threading.Thread(target=write) for _ in range(writers)]
        for t in threads:
            t.start()
        time.sleep(2)  # every writer has sent its update and found the document busy
        during = thread_count(s)
        start = time.monotonic()
        assert setup.admin.command("ping")["ok"] == 1.0
        assert setup.other.d.insert_one({"x": 1}).inserted_id is not None
        assert time.monotonic() - start < 2, "unrelated commands waited"
        assert during - before < 20, "the server grew from %d to %d threads" % (before, during)
        # The transaction ends: every parked write runs, once.
        raw_wire.command(holder, SON([("abortTransaction", 1), ("lsid", lsid), ("txnNumber", bson.Int64(1)),
                                      ("autocommit", False), ("$db", "admin")]))
        for t in threads:
            t.join(60)
        assert results == [1] * writers
        assert setup.park.c.find_one({"_id": 1})["n"] == writers
        setup.close()
    finally:
        assert s.stop() == 0
