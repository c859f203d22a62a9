"""Disk faults do not abort the server: on a full disk writes fail with
OutOfDiskSpace naming the database, reads go on, j:true writes fail cleanly, and once the disk can take
writes again the server reopens the database by itself with every
acknowledged write. A server started on a full disk refuses clearly.

Needs a small file system of its own: a tmpfs, which only root can mount;
skipped otherwise. (A file system turned read-only takes the same path, an
I/O error on a write; it is not simulated here: a tmpfs with open files
cannot be remounted read-only.)"""
import os
import subprocess
import tempfile
import time

import pymongo
import pytest
from pymongo.write_concern import WriteConcern

from conftest import DOCKET, DocketServer


@pytest.fixture
def small_fs():
    path = tempfile.mkdtemp(prefix="docket-smallfs-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40M", "tmpfs", path],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        os.rmdir(path)
        pytest.skip("cannot mount a tmpfs here (not root?): the disk-fault tests need a small file system")
    yield path
    subprocess.run(["umount", "-l", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.rmdir(path)


def fill(path, leave=4096):
    st = os.statvfs(path)
    with open(os.path.join(path, "filler"), "wb") as f:
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))


def write_until_refused(collection, limit=20000):
    acked = 0
    for i in range(limit):
        try:
            collection.insert_one({"i": i, "pad": os.urandom(2000).hex()})
            acked += 1
        except pymongo.errors.WriteError as e:
            return acked, e
    raise AssertionError("the disk never filled")


def test_a_full_disk_refuses_writes_serves_reads_and_recovers(small_fs):
    dbpath = os.path.join(small_fs, "db")
    server = DocketServer(dbpath=dbpath)
    try:
        client = server.client(socketTimeoutMS=20000)
        c = client.db.c
        acked, error = write_until_refused(c)
        assert error.code == 14031 and dbpath in str(error), error.details
        assert c.count_documents({}) == acked  # reads go on
        with pytest.raises(pymongo.errors.WriteError) as e:
            c.with_options(write_concern=WriteConcern(j=True)).insert_one({"j": 1})
        assert e.value.code == 14031
        assert server.process.poll() is None, "the server died"
        # Space comes back: the server reopens the database by itself.
        subprocess.run(["mount", "-o", "remount,size=120M", small_fs], check=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                c.insert_one({"after": True})
                break
            except (pymongo.errors.WriteError, pymongo.errors.AutoReconnect) as e:
                assert time.monotonic() < deadline, "writes did not resume: %s" % e
                time.sleep(0.5)
        assert c.count_documents({"i": {"$exists": True}}) == acked
        assert c.count_documents({"after": True}) == 1
        client.close()
    finally:
        assert server.stop() == 0


def test_starting_on_a_full_disk_refuses_clearly(small_fs):
    fill(small_fs, leave=8192)
    dbpath = os.path.join(small_fs, "db")
    result = subprocess.run([DOCKET, "serve", "--dbpath", dbpath, "--port", "0"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1, (result.returncode, result.stderr)  # not 134 (SIGABRT)
    assert "OutOfDiskSpace" in result.stderr and dbpath in result.stderr
