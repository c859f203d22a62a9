"""Disk faults do not abort the server: on a full disk writes fail with
OutOfDiskSpace naming the database, reads go on, j:true writes fail cleanly, and once the disk can take
writes again the server reopens the database by itself with every
acknowledged write. A server started on a full disk refuses clearly.

A file system that turns read-only under the server (ext4 after an error,
errors=remount-ro) refuses writes the same way, reads go on, and once the
file system is repaired a restart has every write acknowledged with j:true.

Needs a small file system of its own: a tmpfs, and for the read-only case
an ext4 image on a loop device (ext4's trigger_fs_error makes it turn
read-only as on a real disk error; a tmpfs with open files cannot be
remounted read-only), which only root can mount; skipped otherwise."""
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


@pytest.fixture
def ext4_fs():
    """An ext4 file system on a loop device, mounted errors=remount-ro.
    Yields (mount point, device, image)."""
    work = tempfile.mkdtemp(prefix="docket-ext4-")
    image, mnt = os.path.join(work, "fs.img"), os.path.join(work, "mnt")
    os.mkdir(mnt)
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    device = None
    if subprocess.run(["mkfs.ext4", "-q", "-F", image], **quiet).returncode == 0:
        found = subprocess.run(["losetup", "-f", "--show", image], capture_output=True, text=True)
        device = found.stdout.strip() if found.returncode == 0 else None
    if device is None or subprocess.run(["mount", "-o", "errors=remount-ro", device, mnt], **quiet).returncode:
        if device:
            subprocess.run(["losetup", "-d", device], **quiet)
        subprocess.run(["rm", "-rf", work])
        pytest.skip("cannot mount an ext4 image on a loop device here (not root? no loop devices?)")
    yield mnt, device, image
    subprocess.run(["umount", "-l", mnt], **quiet)
    subprocess.run(["losetup", "-d", device], **quiet)
    subprocess.run(["rm", "-rf", work])


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


def test_a_file_system_turning_read_only_refuses_writes_and_loses_nothing(ext4_fs):
    mnt, device, image = ext4_fs
    dbpath = os.path.join(mnt, "db")
    server = DocketServer(dbpath=dbpath)
    client = server.client(socketTimeoutMS=20000)
    journaled = client.db.c.with_options(write_concern=WriteConcern(j=True))
    for i in range(200):
        journaled.insert_one({"i": i})
    # What a disk error does to ext4 mounted errors=remount-ro.
    with open("/sys/fs/ext4/%s/trigger_fs_error" % os.path.basename(device), "w") as f:
        f.write("1")
    for attempt in range(5):  # RocksDB's info log fails first, then the write-ahead log
        with pytest.raises(pymongo.errors.WriteError) as e:
            journaled.insert_one({"refused": attempt})
        assert dbpath in str(e.value) and "Read-only file system" in str(e.value), e.value.details
    assert server.process.poll() is None, "the server died (RocksDB's logger aborts after a failed write)"
    assert client.db.c.count_documents({}) == 200  # reads go on
    assert client.db.c.find_one({"i": 199})["i"] == 199
    assert client.admin.command("ping")["ok"] == 1
    client.close()
    code = server.stop()
    assert code in (0, 1), code  # 1: "stopped with the storage failed"; never SIGABRT (-6)
    # Repair as an operator would (unmount, fsck, mount), and start again.
    subprocess.run(["umount", mnt], check=True)
    subprocess.run(["e2fsck", "-fy", device], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["mount", "-o", "errors=remount-ro", device, mnt], check=True)
    server = DocketServer(dbpath=dbpath)
    try:
        c = server.client().db.c
        assert sorted(d["i"] for d in c.find({"i": {"$exists": True}})) == list(range(200))
        assert c.count_documents({"refused": {"$exists": True}}) == 0
        c.insert_one({"after": True})
        assert c.count_documents({}) == 201
    finally:
        assert server.stop() == 0
