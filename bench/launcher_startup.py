"""Start-to-first-answer: what a test suite pays for a fresh database, from
nothing to one document written and read back. Docket through the pytest
fixture's server (python/docket_pytest: a process per session), through
docket_inmemory.MongoClient (pymongo_inmemory's style), and a fresh database
on an already running server (the fixture's per-test cost); against
mongomock's in-process client and an in-memory SQLite. The
mongodb-memory-server figure comes from bench/launcher_startup.mjs. Prints
a Markdown table.

    bench/launcher_startup.py path/to/docket [runs] [mongodb-memory-server median ms]"""
import os
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

import mongomock  # noqa: E402
from docket_inmemory import MongoClient  # noqa: E402
from docket_pytest.server import DocketServer  # noqa: E402


def timed(make, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        cleanup = make()
        times.append((time.perf_counter() - start) * 1000)
        cleanup()
    return statistics.median(times)


def first_answer(db):
    db.c.insert_one({"_id": 1})
    assert db.c.find_one({"_id": 1}) == {"_id": 1}


def main():
    docket = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    mms_ms = float(sys.argv[3]) if len(sys.argv) > 3 else None

    def fixture_session():
        server = DocketServer(docket)
        client = server.client()
        first_answer(client.t)
        return lambda: (client.close(), server.stop())

    def inmemory_client():
        client = MongoClient(docket_bin=docket)
        first_answer(client.t)
        return client.close

    shared = DocketServer(docket)
    shared_client = shared.client()
    counter = [0]

    def fresh_database():
        counter[0] += 1
        name = "test_%d" % counter[0]
        shared_client.drop_database(name)
        first_answer(shared_client[name])
        return lambda: shared_client.drop_database(name)

    def mongomock_client():
        client = mongomock.MongoClient()
        first_answer(client.t)
        return client.close

    def sqlite_memory():
        connection = sqlite3.connect(":memory:")
        connection.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, doc TEXT)")
        connection.execute("INSERT INTO c VALUES (1, '{}')")
        assert connection.execute("SELECT doc FROM c WHERE id = 1").fetchone() == ("{}",)
        return connection.close

    rows = [
        ("Docket, pytest fixture's session server (process start + first answer)", timed(fixture_session, runs)),
        ("Docket, docket_inmemory.MongoClient()", timed(inmemory_client, runs)),
    ]
    if mms_ms is not None:
        rows.append(("Docket as mongod under mongodb-memory-server (Node)", mms_ms))
    rows += [
        ("Docket, fresh database on the session's server (the fixture's per-test cost)", timed(fresh_database, runs)),
        ("mongomock.MongoClient() (in process, a fake)", timed(mongomock_client, runs)),
        ("SQLite :memory: (in process)", timed(sqlite_memory, runs)),
    ]
    shared_client.close()
    shared.stop()
    print("| from nothing to one document written and read | median ms |")
    print("|---|---|")
    for name, ms in rows:
        print("| %s | %.2f |" % (name, ms))


if __name__ == "__main__":
    main()
