"""Hot backups: createBackup (and `docket backup`) copy a live database to a
new directory while writers go on, and `docket serve --dbpath` opens the
copy: it must hold a state the database really passed through."""
import os
import subprocess
import threading

import pymongo
import pytest

from conftest import DOCKET, DocketServer


def transfer(client, stop, done):
    """Each transaction inserts one document and sets the counter to the
    number inserted so far: in any committed state, counter.n == count."""
    n = 0
    while not stop.is_set():
        with client.start_session() as s:
            with s.start_transaction():
                client.bank.items.insert_one({"_id": n, "pad": "p" * 300}, session=s)
                client.bank.counter.update_one({"_id": 0}, {"$set": {"n": n + 1}}, upsert=True, session=s)
        n += 1
    done.append(n)


def test_a_backup_taken_under_concurrent_transactions_is_one_committed_state(tmp_path):
    live = DocketServer("--replica-set", "rs0", dbpath=str(tmp_path / "live"))
    try:
        c = live.client(directConnection=True)
        c.bank.items.insert_many([{"_id": -i - 1} for i in range(2000)])
        stop, done = threading.Event(), []
        writers = threading.Thread(target=transfer, args=(c, stop, done))
        writers.start()
        try:
            while c.bank.items.count_documents({"_id": {"$gte": 0}}) < 50:
                pass
            p = subprocess.run([DOCKET, "backup", "--uri", live.uri + "?directConnection=true", "--out",
                                str(tmp_path / "copy")], capture_output=True, timeout=120)
            assert p.returncode == 0, p.stderr
            assert b"backup written to" in p.stderr
            c.admin.command("createBackup", 1, backupDir=str(tmp_path / "copy2"))
        finally:
            stop.set()
            writers.join()
        final = c.bank.items.count_documents({"_id": {"$gte": 0}})
        assert final == done[0]
        c.close()
    finally:
        assert live.stop() == 0
    for copy in ("copy", "copy2"):
        restored = DocketServer("--replica-set", "rs0", dbpath=str(tmp_path / copy))
        try:
            r = restored.client(directConnection=True)
            n = r.bank.counter.find_one({"_id": 0})["n"]
            assert r.bank.items.count_documents({"_id": {"$gte": 0}}) == n
            assert 50 <= n <= final
            assert r.bank.items.count_documents({"_id": {"$lt": 0}}) == 2000
            r.bank.items.insert_one({"_id": "writable"})  # a database of its own now
            r.close()
        finally:
            assert restored.stop() == 0


def test_backup_errors(tmp_path):
    s = DocketServer(dbpath=str(tmp_path / "db"))
    try:
        c = s.client()
        c.x.y.insert_one({})
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            c.admin.command("createBackup", 1, backupDir="relative/dir")
        assert e.value.code == 2
        (tmp_path / "exists").mkdir()
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            c.admin.command("createBackup", 1, backupDir=str(tmp_path / "exists"))
        assert e.value.code == 2 and "already exists" in str(e.value)
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            c.admin.command("createBackup", 1, backupDir=str(tmp_path / "no" / "such" / "parent"))
        assert e.value.code == 2
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            c.admin.command("createBackup", 1)
        assert e.value.code == 2
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            c.admin.command("createBackup", 1, backupDir=5)
        assert e.value.code == 14
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            c.x.command("createBackup", 1, backupDir=str(tmp_path / "b"))
        assert e.value.code == 13
        assert not os.path.exists(tmp_path / "b")
        c.close()
    finally:
        assert s.stop() == 0


def test_backup_of_a_database_in_memory_is_refused(server, tmp_path):
    c = server.client()
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        c.admin.command("createBackup", 1, backupDir=str(tmp_path / "b"))
    assert e.value.code == 20
    c.close()
    p = subprocess.run([DOCKET, "backup", "--uri", server.uri, "--out", str(tmp_path / "b")], capture_output=True,
                       timeout=60)
    assert p.returncode == 1 and b"in memory" in p.stderr
