"""Limits MongoDB enforces are enforced, with its errors, and nothing
half-written: nesting, batch sizes, command size, index counts and key
patterns, sub-pipeline depth, a regular expression PCRE2 gives up on, and
NUL bytes in names."""
import re
import struct

import bson
import pymongo
import pytest
from bson import SON

import raw_wire


def fails(db, command, code):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        db.command(command)
    assert e.value.code == code, e.value.details
    return e.value.details


def nested(levels):
    """{a: {a: ... {x: 1}}}, `levels` documents deep in all."""
    doc = {"x": 1}
    for _ in range(levels - 1):
        doc = {"a": doc}
    return doc


def nested_bytes(levels):
    """The BSON of nested(levels), built without recursion (the Python
    encoder's own recursion limit is lower than what is tested here)."""
    out = b""
    for i in range(levels - 1):
        out += struct.pack("<i", 12 + 8 * (levels - 1 - i)) + b"\x03a\x00"
    out += struct.pack("<i", 12) + b"\x10x\x00" + struct.pack("<i", 1) + b"\x00"
    return out + b"\x00" * (levels - 1)


def insert_command(db_name, document_bytes):
    """{insert: "c", documents: [<raw bytes>], $db: db_name} as bytes."""
    array = b"\x030\x00" + document_bytes
    array = struct.pack("<i", len(array) + 5) + array + b"\x00"
    body = (b"\x02insert\x00" + struct.pack("<i", 2) + b"c\x00" + b"\x04documents\x00" + array +
            b"\x02$db\x00" + struct.pack("<i", len(db_name) + 1) + db_name.encode() + b"\x00")
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def test_stored_documents_nest_at_most_a_hundred_levels(db):
    db.c.insert_one(dict(nested(100), _id=1))
    with pytest.raises(pymongo.errors.WriteError) as e:
        db.c.insert_one(dict(nested(101), _id=2))
    assert e.value.code == 15
    with pytest.raises(pymongo.errors.WriteError) as e:
        db.c.update_one({"_id": 1}, {"$set": {"deep": nested(100)}})
    assert e.value.code == 15
    assert db.c.count_documents({}) == 1 and "deep" not in db.c.find_one({"_id": 1})


def test_commands_nest_at_most_two_hundred_levels(server, db):
    # Sent by hand: the driver would refuse to encode it.
    sock = raw_wire.connect(server)
    # 199 levels of document inside the command's 2 (body, documents array): 201.
    sock.sendall(raw_wire.op_msg(insert_command(db.name, nested_bytes(199))))
    reply = raw_wire.read_reply(sock)
    assert reply["ok"] == 0 and reply["code"] == 15, reply
    # An insert nested 10,000 levels is refused, and the server lives on.
    sock.sendall(raw_wire.op_msg(insert_command(db.name, nested_bytes(10_000))))
    assert raw_wire.read_reply(sock)["code"] == 15
    assert raw_wire.command(sock, SON([("ping", 1), ("$db", "admin")]))["ok"] == 1.0
    assert db.c.count_documents({}) == 0


def test_empty_batches_and_empty_command_names(db):
    fails(db, SON([("insert", "c"), ("documents", [])]), 16)
    fails(db, SON([("update", "c"), ("updates", [])]), 16)
    fails(db, SON([("delete", "c"), ("deletes", [])]), 16)
    fails(db, SON([("", 1)]), 59)


def test_a_command_over_the_internal_size_limit_is_refused(server, db):
    sock = raw_wire.connect(server)
    big = bson.encode(SON([("insert", "c"), ("documents", [{"s": "x" * (16 * 1024 * 1024 + 20_000)}]),
                           ("$db", db.name)]))
    sock.sendall(raw_wire.op_msg(big))
    reply = raw_wire.read_reply(sock)
    assert reply["ok"] == 0 and reply["code"] == 10334, reply
    assert db.c.count_documents({}) == 0


def test_push_past_sixteen_megabytes_is_refused(db):
    db.c.insert_one({"_id": 1, "a": ["x" * (8 * 1024 * 1024)]})
    with pytest.raises(pymongo.errors.WriteError) as e:
        db.c.update_one({"_id": 1}, {"$push": {"a": "y" * (9 * 1024 * 1024)}})
    assert e.value.code == 17419
    assert len(db.c.find_one({"_id": 1})["a"]) == 1


def test_a_nul_in_db_cannot_write_into_another_database(server, db):
    sock = raw_wire.connect(server)
    reply = raw_wire.command(sock, SON([("insert", "c"), ("documents", [{"_id": 1}]),
                                        ("$db", db.name + "\0other")]))
    assert reply["ok"] == 0 and reply["code"] == 73, reply
    assert db.c.count_documents({}) == 0


def test_at_most_64_indexes_and_no_field_twice(server, db):
    for i in range(63):
        db.c.create_index("f%d" % i)
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        db.c.create_index("one_too_many")
    assert e.value.code == 67
    assert len(db.c.index_information()) == 64
    # {a: 1, a: -1}: a Python dict cannot hold it, so the bytes are built by hand.
    key = b"\x10a\x00" + struct.pack("<i", 1) + b"\x10a\x00" + struct.pack("<i", -1)
    key = struct.pack("<i", len(key) + 5) + key + b"\x00"
    spec = b"\x03key\x00" + key + b"\x02name\x00" + struct.pack("<i", 4) + b"a_a\x00"
    spec = struct.pack("<i", len(spec) + 5) + spec + b"\x00"
    indexes = b"\x030\x00" + spec
    indexes = struct.pack("<i", len(indexes) + 5) + indexes + b"\x00"
    body = (b"\x02createIndexes\x00" + struct.pack("<i", 2) + b"d\x00" + b"\x04indexes\x00" + indexes +
            b"\x02$db\x00" + struct.pack("<i", len(db.name) + 1) + db.name.encode() + b"\x00")
    body = struct.pack("<i", len(body) + 5) + body + b"\x00"
    sock = raw_wire.connect(server)
    sock.sendall(raw_wire.op_msg(body))
    reply = raw_wire.read_reply(sock)
    assert reply["ok"] == 0 and reply["code"] == 67, reply


def test_lookup_nesting_stops_at_twenty(db):
    db.c.insert_one({"_id": 1})
    pipeline = []
    for _ in range(21):
        pipeline = [{"$lookup": {"from": "c", "pipeline": pipeline, "as": "x"}}]
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(db.c.aggregate(pipeline))
    assert e.value.code == 232


def test_a_regex_pcre_gives_up_on_fails_the_query(db):
    db.c.insert_one({"_id": 1, "s": "a" * 40 + "!"})
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(db.c.find({"s": re.compile(r"^(a+)+$")}))
    assert e.value.code == 2 and "regular expression" in str(e.value)
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(db.c.aggregate([{"$project": {"m": {"$regexMatch": {"input": "$s", "regex": r"^(a+)+$"}}}}]))
    assert e.value.code == 2
    assert db.c.count_documents({"s": re.compile(r"^a+!$")}) == 1  # ordinary patterns still match


@pytest.fixture(scope="module")
def small_sort_server():
    from conftest import DocketServer
    s = DocketServer("--blocking-memory", "1")
    yield s
    assert s.stop() == 0


def test_a_sort_past_the_memory_limit_without_disk_use_fails(small_sort_server):
    client = small_sort_server.client()
    c = client.sorts.c
    c.drop()
    c.insert_many([{"_id": i, "k": (i * 7919) % 5000, "pad": "p" * 1000} for i in range(3000)])  # ~3 MB
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(c.find().sort("k", 1).allow_disk_use(False))
    assert e.value.code == 292
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(c.aggregate([{"$sort": {"k": 1}}], allowDiskUse=False))
    assert e.value.code == 292
    # Allowed to spill, the same sorts answer in order.
    keys = [d["k"] for d in c.find({}, {"k": 1}).sort("k", 1).allow_disk_use(True)]
    assert keys == sorted(keys) and len(keys) == 3000
    client.close()
