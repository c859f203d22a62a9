"""docket dump / docket restore against real servers (two `docket serve`
processes), checked three ways: documents compared byte for byte after a
round trip; the mongodump formats written here from their specification
(mongo-tools common/archive/spec.md and the dump directory layout), with a
CRC-64 computed here, read by `docket restore`; and what `docket dump`
writes parsed here by that same reading of the specification."""
import datetime
import gzip
import os
import re
import struct
import subprocess
import threading
import uuid

import bson
import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from conftest import DOCKET, DocketServer
from terminal import run_on_terminal

RAW = CodecOptions(document_class=RawBSONDocument)


@pytest.fixture(scope="module")
def source():
    s = DocketServer()
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def target():
    s = DocketServer()
    yield s
    assert s.stop() == 0


@pytest.fixture
def src(source):
    c = source.client()
    for name in c.list_database_names():
        if name not in ("admin", "local", "config"):
            c.drop_database(name)
    yield c
    c.close()


@pytest.fixture
def dst(target):
    c = target.client()
    for name in c.list_database_names():
        if name not in ("admin", "local", "config"):
            c.drop_database(name)
    yield c
    c.close()


def run(*args, stdin=None, check=True):
    p = subprocess.run([DOCKET, *args], input=stdin, capture_output=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("docket %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p


def raw_docs(client, db, coll):
    """The documents' exact bytes, in natural order."""
    return [d.raw for d in client[db].get_collection(coll, codec_options=RAW).find()]


EVERY_TYPE = [
    {"_id": 1, "double": 1.5, "neg_zero": -0.0, "nan": float("nan"), "inf": float("-inf")},
    {"_id": 2, "string": "héllo\u0000wörld", "empty": ""},
    {"_id": 3, "doc": {"a": {"b": [1, {"c": None}]}}, "arr": [[], [[]], {}]},
    {"_id": 4, "bin": bson.Binary(b"\x00\xff", 0), "uuid": bson.Binary(uuid.uuid4().bytes, 4),
     "user_bin": bson.Binary(b"x", 0x80), "old_bin": bson.Binary(b"abcd", 2)},
    {"_id": bson.ObjectId(), "oid": bson.ObjectId()},
    {"_id": 6, "t": True, "f": False, "none": None},
    {"_id": 7, "date": datetime.datetime(1960, 1, 1, 12, 30), "epoch": datetime.datetime(1970, 1, 1),
     "far": datetime.datetime(9999, 12, 31)},
    {"_id": 8, "regex": bson.Regex("^a.*b$", "imsx")},
    {"_id": 9, "code": bson.Code("function(){}"), "scoped": bson.Code("x", {"x": 1})},
    {"_id": 10, "i32": 2**31 - 1, "i64": bson.Int64(-2**63), "ts": bson.Timestamp(4000000000, 7)},
    {"_id": 11, "dec": bson.Decimal128("-1.2345E-6000"), "decnan": bson.Decimal128("NaN")},
    {"_id": 12, "min": bson.MinKey(), "max": bson.MaxKey()},
    {"_id": "string id", "dbref": bson.DBRef("c", 1, "d")},
    {"_id": {"compound": [1, 2]}, "deep": {"x" * 200: 1}},
]


def seed(client):
    d = client.shop
    d.create_collection("people", collation={"locale": "fr", "strength": 2},
                        validator={"age": {"$gte": 0}}, validationLevel="moderate", validationAction="warn")
    d.people.create_index("name", unique=True)
    d.people.create_index([("age", -1), ("name", 1)], partialFilterExpression={"age": {"$gt": 5}}, name="grown")
    d.people.create_index("seen", expireAfterSeconds=3600)
    d.people.insert_many([{"_id": i, "name": "n%05d" % i, "age": i % 90, "seen": datetime.datetime(2020, 1, 1)}
                          for i in range(3000)])
    d.create_collection("log", capped=True, size=65536, max=40)
    d.log.insert_many([{"i": i} for i in range(100)])
    d.create_collection("young", viewOn="people", pipeline=[{"$match": {"age": {"$lt": 10}}}])
    d.places.create_index([("loc", "2dsphere")])
    d.places.create_index([("text", "text")], default_language="french")
    d.places.insert_one({"loc": {"type": "Point", "coordinates": [2.35, 48.85]}, "text": "la tour"})
    d.types.insert_many(EVERY_TYPE)
    # inserted out of _id order: natural order must survive the trip
    d.order.insert_many([{"_id": 3}, {"_id": 1}, {"_id": 2}])
    d["odd name/with%chars and spaces"].insert_one({"x": 1})
    client.other.things.insert_one({"a": [1, 2]})


def assert_same(a, b, dbs=("shop", "other")):
    for db in dbs:
        la = {c["name"]: c for c in a[db].list_collections()}
        lb = {c["name"]: c for c in b[db].list_collections()}
        assert sorted(la) == sorted(lb), db
        for name, info in la.items():
            assert info.get("type") == lb[name].get("type"), name
            assert info.get("options") == lb[name].get("options"), name
            if info.get("type") == "view":
                assert list(a[db][name].find()) == list(b[db][name].find())
                continue
            assert raw_docs(a, db, name) == raw_docs(b, db, name), name
            ia = sorted((i["name"], sorted(i.to_dict().items())) for i in a[db][name].list_indexes())
            ib = sorted((i["name"], sorted(i.to_dict().items())) for i in b[db][name].list_indexes())
            assert ia == ib, name


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_directory_round_trip_keeps_bytes_options_views_and_indexes(src, dst, source, target, tmp_path, gzipped):
    seed(src)
    extra = ["--gzip"] if gzipped else []
    run("dump", "--uri", source.uri, "--out", str(tmp_path / "d"), *extra)
    suffix = ".gz" if gzipped else ""
    files = sorted(os.listdir(tmp_path / "d" / "shop"))
    assert "people.bson" + suffix in files and "people.metadata.json" + suffix in files
    assert "young.metadata.json" + suffix in files and "young.bson" + suffix not in files  # a view has no data
    assert "odd+name%2Fwith%25chars+and+spaces.bson" + suffix in files
    if gzipped:
        with open(tmp_path / "d" / "shop" / "people.bson.gz", "rb") as f:
            assert f.read(2) == b"\x1f\x8b"
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"), *extra)
    assert b"3060 document(s) restored successfully. 0 document(s) failed to restore." in p.stderr
    assert_same(src, dst)
    assert [d["_id"] for d in dst.shop.order.find()] == [3, 1, 2]
    # the restored options work, not just list: the capped limit, the unique index
    dst.shop.log.insert_many([{"i": 100 + i} for i in range(10)])
    assert dst.shop.log.count_documents({}) == 40
    with pytest.raises(Exception, match="E11000"):
        dst.shop.people.insert_one({"name": "N00001"})  # strength 2: case-insensitive


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_archive_round_trip_through_a_pipe(src, dst, source, target, gzipped):
    seed(src)
    extra = ["--gzip"] if gzipped else []
    dumped = run("dump", "--uri", source.uri, "--archive", "--quiet", *extra).stdout
    if gzipped:
        assert dumped[:2] == b"\x1f\x8b"
        dumped_plain = gzip.decompress(dumped)
    else:
        dumped_plain = dumped
    parsed = parse_archive(dumped_plain)  # our own reading of the spec
    assert parsed["header"]["version"] == "0.1"
    assert {(m["db"], m["collection"]) for m in parsed["prelude"]} >= {("shop", "people"), ("shop", "young")}
    assert [m["type"] for m in parsed["prelude"] if m["collection"] == "young"] == ["view"]
    assert len(parsed["docs"][("shop", "people")]) == 3000
    run("restore", "--uri", target.uri, "--archive", *extra, stdin=dumped)
    assert_same(src, dst)


def test_archive_to_a_file_and_back(src, dst, source, target, tmp_path):
    seed(src)
    path = tmp_path / "all.archive"
    run("dump", "--uri", source.uri, "--archive=%s" % path, "--quiet")
    run("restore", "--uri", target.uri, "--archive=%s" % path)
    assert_same(src, dst)


# ---- the formats as their specification describes them, built here ----

def crc64_ecma(data, crc=0):
    """CRC-64 (ECMA-182 polynomial, reflected, all-ones in and out)."""
    crc ^= 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


def test_crc64_check_value():
    # the catalogued check value of CRC-64/XZ for "123456789"
    assert crc64_ecma(b"123456789") == 0x995DC9BBDF1939FA


TERMINATOR = b"\xff\xff\xff\xff"
MAGIC = struct.pack("<I", 0x8199E26D)


def ns_header(db, coll, eof=False, crc=0):
    return bson.encode({"db": db, "collection": coll, "EOF": eof, "CRC": bson.Int64(crc - (1 << 64) if crc >= 1 << 63 else crc)})


def build_archive(collections, segment_size=2):
    """collections: list of (db, coll, metadata_json, docs). Documents are
    split into segments of `segment_size` and the collections' segments
    interleaved, as a parallel mongodump writes them."""
    out = MAGIC + bson.encode({"concurrent_collections": 4, "version": "0.1", "server_version": "6.0.5",
                               "tool_version": "100.7.0"})
    for db, coll, meta, docs in collections:
        out += bson.encode({"db": db, "collection": coll, "metadata": meta, "size": 0, "type": ""})
    out += TERMINATOR
    queues = [[db, coll, [bson.encode(d) for d in docs], 0] for db, coll, meta, docs in collections]
    while any(q[2] for q in queues):
        for q in queues:
            chunk, q[2] = q[2][:segment_size], q[2][segment_size:]
            if chunk:
                out += ns_header(q[0], q[1]) + b"".join(chunk) + TERMINATOR
                for raw in chunk:
                    q[3] = crc64_ecma(raw, q[3])
    for db, coll, raw_docs_left, crc in queues:
        out += ns_header(db, coll, eof=True, crc=crc) + TERMINATOR
    return out


def parse_archive(data):
    assert data[:4] == MAGIC
    pos = 4

    def doc():
        nonlocal pos
        (length,) = struct.unpack_from("<i", data, pos)
        d = bson.decode(data[pos:pos + length])
        pos += length
        return d, data[pos - length:pos]

    header, _ = doc()
    prelude = []
    while data[pos:pos + 4] != TERMINATOR:
        prelude.append(doc()[0])
    pos += 4
    docs, crcs, current = {}, {}, None
    while pos < len(data):
        if current is None:
            h, _ = doc()
            key = (h["db"], h["collection"])
            if h["EOF"]:
                assert h["CRC"] & 0xFFFFFFFFFFFFFFFF == crcs.get(key, 0), key
                assert data[pos:pos + 4] == TERMINATOR
                pos += 4
                docs.setdefault(key, [])
            else:
                current = key
        elif data[pos:pos + 4] == TERMINATOR:
            pos += 4
            current = None
        else:
            d, raw = doc()
            docs.setdefault(current, []).append(d)
            crcs[current] = crc64_ecma(raw, crcs.get(current, 0))
    return {"header": header, "prelude": prelude, "docs": docs}


META_PEOPLE = ('{"options":{"validator":{"age":{"$gte":{"$numberInt":"0"}}}},"indexes":[{"v":{"$numberInt":"2"},'
               '"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},{"v":{"$numberInt":"2"},"key":{"name":'
               '{"$numberDouble":"1.0"}},"name":"name_1","unique":true}],"uuid":"0679db720f4944de90ae27472664e94a",'
               '"collectionName":"people","type":"collection"}')
META_VIEW = ('{"options":{"viewOn":"people","pipeline":[{"$match":{"age":{"$lt":{"$numberInt":"3"}}}}]},'
             '"indexes":[],"collectionName":"kids","type":"view"}')


def test_restores_an_interleaved_archive_built_from_the_specification(dst, target):
    people = [{"_id": i, "name": "p%d" % i, "age": i} for i in range(7)]
    others = [{"_id": i, "v": bson.Int64(i)} for i in range(5)]
    data = build_archive([("s", "people", META_PEOPLE, people), ("s", "kids", META_VIEW, []),
                          ("t", "others", '{"indexes":[],"collectionName":"others"}', others)])
    p = run("restore", "--uri", target.uri, "--archive", stdin=data)
    assert b"12 document(s) restored successfully" in p.stderr
    assert list(dst.s.people.find()) == people
    assert list(dst.t.others.find()) == others
    assert [d["_id"] for d in dst.s.kids.find()] == [0, 1, 2]
    assert "name_1" in dst.s.people.index_information()
    assert dst.s.people.options()["validator"] == {"age": {"$gte": 0}}


def test_a_damaged_document_fails_the_checksum(dst, target):
    data = bytearray(build_archive([("s", "c", '{"indexes":[],"collectionName":"c"}', [{"_id": 1, "v": "abc"}])]))
    data[data.index(b"abc")] = ord("x")
    p = run("restore", "--uri", target.uri, "--archive", stdin=bytes(data), check=False)
    assert p.returncode == 1
    assert b"checksum" in p.stderr


@pytest.mark.parametrize("cut", [3, 20, 60])
def test_a_truncated_archive_is_an_error_not_a_quiet_success(dst, target, cut):
    data = build_archive([("s", "c", '{"indexes":[],"collectionName":"c"}', [{"_id": i} for i in range(4)])])
    p = run("restore", "--uri", target.uri, "--archive", stdin=data[:len(data) - cut], check=False)
    assert p.returncode == 1, p.stderr
    assert b"error:" in p.stderr


def test_not_an_archive(target):
    p = run("restore", "--uri", target.uri, "--archive", stdin=bson.encode({"a": 1}), check=False)
    assert p.returncode == 1
    assert b"not a mongodump archive" in p.stderr


def test_restores_a_directory_written_from_the_layout(dst, target, tmp_path):
    d = tmp_path / "dump" / "app"
    d.mkdir(parents=True)
    docs = [{"_id": i, "name": "p%d" % i, "age": i} for i in range(5)]
    (d / "people.bson").write_bytes(b"".join(bson.encode(x) for x in docs))
    (d / "people.metadata.json").write_text(META_PEOPLE)
    (d / "kids.metadata.json").write_text(META_VIEW)
    (d / "a%2Fb.bson").write_bytes(bson.encode({"_id": 1}))  # no metadata file: data only
    (tmp_path / "dump" / "prelude.json").write_text('{"ServerVersion":"6.0.5","ToolVersion":"100.7.0"}')
    run("restore", "--uri", target.uri, str(tmp_path / "dump"))
    assert list(dst.app.people.find()) == docs
    assert sorted(dst.app.list_collection_names()) == ["a/b", "kids", "people"]
    assert [x["_id"] for x in dst.app.kids.find()] == [0, 1, 2]
    assert dst.app.people.index_information()["name_1"]["unique"] is True


def test_long_collection_names_get_mongodumps_hashed_file_names(src, dst, source, target, tmp_path):
    name = "a" + "Very" * 44 + "LongCollectionNameConsistingOfExactlyTwoHundredAndFortySevenCharacters"
    assert len(name) == 247
    src.db1[name].insert_one({"_id": 1})
    run("dump", "--uri", source.uri, "--out", str(tmp_path / "d"))
    files = sorted(os.listdir(tmp_path / "d" / "db1"))
    # mongo-tools' own test data holds this name's file stem
    assert files[0] == name[:208] + "%24xFO0VquRn7cg3QooSZD5sglTddU.bson"
    run("restore", "--uri", target.uri, str(tmp_path / "d"))
    assert dst.db1.list_collection_names() == [name]


def test_dump_filters_query_and_exclusions(src, source, tmp_path):
    seed(src)
    run("dump", "--uri", source.uri, "--db", "shop", "--collection", "people", "--query",
        '{"age": {"$lt": 2}, "_id": {"$lt": {"$numberLong": "100"}}}', "--out", str(tmp_path / "q"))
    docs = bson.decode_all((tmp_path / "q" / "shop" / "people.bson").read_bytes())
    assert sorted(d["_id"] for d in docs) == [0, 1, 90, 91]
    (tmp_path / "query.json").write_text('{"name": "n00007"}')
    run("dump", "--uri", source.uri, "-d", "shop", "-c", "people", "--queryFile", str(tmp_path / "query.json"),
        "-o", str(tmp_path / "qf"))
    assert [d["_id"] for d in bson.decode_all((tmp_path / "qf" / "shop" / "people.bson").read_bytes())] == [7]
    run("dump", "--uri", source.uri, "--db", "shop", "--excludeCollection", "people",
        "--excludeCollectionsWithPrefix", "ty", "--out", str(tmp_path / "x"))
    names = os.listdir(tmp_path / "x" / "shop")
    assert not any(n.startswith("people.") or n.startswith("types.") for n in names)
    assert "log.bson" in names
    run("dump", "--uri", source.uri, "--db", "shop", "--collection", "missing", "--out", str(tmp_path / "m"))
    assert (tmp_path / "m" / "shop" / "missing.bson").read_bytes() == b""


def test_stdout_and_stdin_single_collection(src, dst, source, target):
    src.a.b.insert_many([{"_id": i} for i in range(10)])
    out = run("dump", "--uri", source.uri, "-d", "a", "-c", "b", "--out", "-").stdout
    assert [d["_id"] for d in bson.decode_all(out)] == list(range(10))
    run("restore", "--uri", target.uri, "-d", "x", "-c", "y", "-", stdin=out)
    assert [d["_id"] for d in dst.x.y.find()] == list(range(10))


def test_restore_filters(src, dst, source, target, tmp_path):
    seed(src)
    run("dump", "--uri", source.uri, "--out", str(tmp_path / "d"), "--quiet")
    run("restore", "--uri", target.uri, str(tmp_path / "d"), "--nsInclude", "shop.p*", "--nsExclude", "shop.places")
    assert dst.shop.list_collection_names() == ["people"]
    assert "other" not in dst.list_database_names()
    run("restore", "--uri", target.uri, str(tmp_path / "d"), "--db", "other")
    assert dst.other.things.count_documents({}) == 1
    run("restore", "--uri", target.uri, str(tmp_path / "d" / "shop" / "order.bson"), "--db", "z")
    assert [d["_id"] for d in dst.z.order.find()] == [3, 1, 2]
    run("restore", "--uri", target.uri, str(tmp_path / "d" / "shop"), "--db", "copy", "--noIndexRestore",
        "--noOptionsRestore", "--nsInclude", "copy.people")
    assert list(dst.copy.people.index_information()) == ["_id_"]
    assert "validator" not in dst.copy.people.options()


def test_existing_documents_without_drop_are_counted_not_hidden(src, dst, source, target, tmp_path):
    src.k.c.insert_many([{"_id": i} for i in range(10)])
    dst.k.c.insert_many([{"_id": i, "old": True} for i in range(0, 10, 2)])
    run("dump", "--uri", source.uri, "--out", str(tmp_path / "d"))
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"))
    assert b"5 document(s) restored successfully. 5 document(s) failed to restore." in p.stderr
    assert b"E11000" in p.stderr
    assert dst.k.c.count_documents({"old": True}) == 5
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"), "--stopOnError", check=False)
    assert p.returncode == 1
    run("restore", "--uri", target.uri, str(tmp_path / "d"), "--drop")
    assert dst.k.c.count_documents({}) == 10 and dst.k.c.count_documents({"old": True}) == 0


def test_validation_applies_on_restore_unless_bypassed(dst, target, tmp_path):
    d = tmp_path / "d" / "v"
    d.mkdir(parents=True)
    (d / "c.bson").write_bytes(bson.encode({"_id": 1, "age": -1}) + bson.encode({"_id": 2, "age": 1}))
    (d / "c.metadata.json").write_text('{"options":{"validator":{"age":{"$gte":0}}},"indexes":[],"collectionName":"c"}')
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"))
    assert b"1 document(s) restored successfully. 1 document(s) failed to restore." in p.stderr
    run("restore", "--uri", target.uri, str(tmp_path / "d"), "--drop", "--bypassDocumentValidation")
    assert dst.v.c.count_documents({}) == 2


def test_a_failed_index_build_fails_the_restore_with_the_namespace(dst, target, tmp_path):
    d = tmp_path / "d" / "ix"
    d.mkdir(parents=True)
    (d / "c.bson").write_bytes(bson.encode({"_id": 1, "a": 1}) + bson.encode({"_id": 2, "a": 1}))
    (d / "c.metadata.json").write_text('{"indexes":[{"v":2,"key":{"a":1},"name":"a_1","unique":true}],'
                                       '"collectionName":"c"}')
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"), check=False)
    assert p.returncode == 1
    assert b"ix.c: error creating indexes for ix.c" in p.stderr and b"E11000" in p.stderr
    assert dst.ix.c.count_documents({}) == 2


@pytest.mark.parametrize("args,message", [
    (["dump", "--query", "{}"], "without a specified collection"),
    (["dump", "--collection", "c"], "without a specified database"),
    (["dump", "--db", "a", "--collection", "c", "--query", "{bad"], "not valid Extended JSON"),
    (["dump", "--out", "x", "--archive=y"], "cannot be used together"),
    (["dump", "--out", "-", "--db", "a"], "single collection"),
    (["restore", "/nonexistent/dir"], "does not exist"),
    (["restore", "-"], "needs --db and --collection"),
    (["restore", "--collection", "c"], "--collection needs --db"),
])
def test_bad_flags_are_refused_clearly(source, args, message):
    p = run(*args, "--uri", source.uri, check=False)
    assert p.returncode != 0
    assert message.encode() in p.stderr, p.stderr


def test_unreachable_server_is_a_clear_error(tmp_path):
    p = run("dump", "--uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", "--out", str(tmp_path / "d"),
            check=False)
    assert p.returncode == 1
    assert b"cannot connect" in p.stderr


def test_damaged_bson_file_names_the_offset(target, tmp_path):
    d = tmp_path / "d" / "bad"
    d.mkdir(parents=True)
    good = bson.encode({"_id": 1})
    (d / "c.bson").write_bytes(good + b"\xff\xff\xff\x7f" + b"junk")
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"), check=False)
    assert p.returncode == 1
    assert ("at byte %d" % len(good)).encode() in p.stderr


def test_dump_while_writers_insert_is_consistent_per_document(src, source, tmp_path):
    src.live.c.insert_many([{"_id": i, "pad": "x" * 100} for i in range(5000)])
    stop = threading.Event()
    written = [5000]

    def writer():
        c = source.client()
        while not stop.is_set():
            c.live.c.insert_one({"_id": written[0], "pad": "y" * 100})
            written[0] += 1
        c.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        run("dump", "--uri", source.uri, "--db", "live", "--out", str(tmp_path / "d"), "--quiet")
    finally:
        stop.set()
        t.join()
    ids = [d["_id"] for d in bson.decode_all((tmp_path / "d" / "live" / "c.bson").read_bytes())]
    assert len(ids) == len(set(ids))
    assert set(range(5000)) <= set(ids) <= set(range(written[0]))


def test_progress_lines_without_a_terminal(src, source, tmp_path):
    src.p.c.insert_many([{"_id": i} for i in range(20000)])
    p = run("dump", "--uri", source.uri, "--db", "p", "--out", str(tmp_path / "d"), "--progress-interval", "1")
    lines = p.stderr.decode().splitlines()
    assert any(re.search(r"p\.c  \[[#.]+\]  \d+/20000 documents", line) for line in lines), lines[:5]
    assert lines[-1].startswith("p.c  20000 documents in ")
    assert "\r" not in p.stderr.decode()
    quiet = run("dump", "--uri", source.uri, "--db", "p", "--out", str(tmp_path / "q"), "--quiet")
    assert quiet.stderr == b""


def test_progress_bar_on_a_terminal(src, source, tmp_path):
    src.p.c.insert_many([{"_id": i, "pad": "z" * 200} for i in range(40000)])
    seen = run_on_terminal(["dump", "--uri", source.uri, "--db", "p", "--out", str(tmp_path / "d"),
                            "--progress-interval", "1"])
    # the line is redrawn in place: carriage return, clear to the end of line
    assert re.search(rb"\r\x1b\[Kp\.c  \[#*\.*\]  \d+/40000 documents \([\d.]+%\)  [\d.]+/s  ETA ", seen), seen[:300]
    assert re.search(rb"\r\x1b\[Kp\.c  40000 documents in [\d.:]+( s)? \([\d.]+/s\)\r?\n$", seen), seen[-200:]


def test_restore_shows_the_servers_index_build_progress(src, dst, source, target, tmp_path):
    src.big.c.insert_many([{"_id": i, "a": i % 997, "b": "x" * 30} for i in range(60000)])
    src.big.c.create_index([("a", 1), ("b", 1)])
    run("dump", "--uri", source.uri, "--db", "big", "--out", str(tmp_path / "d"), "--quiet")
    p = run("restore", "--uri", target.uri, str(tmp_path / "d"), "--progress-interval", "1")
    lines = p.stderr.decode().splitlines()
    # figures read from the server's currentOp while the build runs
    assert any(re.match(r"big\.c index build  \[[#.]+\]  \d+/60000 documents", line) for line in lines), lines
    assert any(re.match(r"big\.c index build  60000 documents in ", line) for line in lines), lines
    assert "a_1_b_1" in dst.big.c.index_information()
