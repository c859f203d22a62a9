"""docket export / docket import (mongoexport's and mongoimport's command
lines) against a real `docket serve`: documents of every BSON type through
export and import compared byte for byte; CSV and TSV with quotes, commas,
newlines, typed columns and nested field names; every bad input reported by
its line, counted and skipped (or stopped at with --stopOnError); modes,
--drop, pipes, progress with and without a terminal. No mocks."""
import datetime
import gzip
import json
import os
import re
import struct
import subprocess
import uuid

import bson
import pytest
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from conftest import DOCKET, DocketServer
from terminal import run_on_terminal

RAW = CodecOptions(document_class=RawBSONDocument)
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "export_import")


def docket(*args, stdin=None):
    return subprocess.run([DOCKET, *args], input=stdin, capture_output=True, timeout=120)


def export(server, db, *args, stdin=None):
    return docket("export", "--uri", server.uri, "-d", db.name, *args, stdin=stdin)


def import_(server, db, *args, stdin=None):
    return docket("import", "--uri", server.uri, "-d", db.name, *args, stdin=stdin)


def ok(p):
    assert p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.decode())
    return p


def failed(p, message):
    assert p.returncode == 1, "exit %d: %s" % (p.returncode, p.stderr.decode())
    assert message in p.stderr.decode(), p.stderr.decode()
    return p


def summary(p):
    m = re.search(r"(\d+) document\(s\) (?:imported|deleted) successfully\. (\d+) document\(s\) failed to",
                  p.stderr.decode())
    assert m, p.stderr.decode()
    return int(m.group(1)), int(m.group(2))


def raw_docs(coll):
    """The documents' exact bytes, by _id."""
    docs = list(coll.with_options(codec_options=RAW).find())
    return sorted((bson.encode({"k": bson.decode(d.raw)["_id"]}), d.raw) for d in docs)


# Elements pymongo will not write (deprecated types): built byte by byte.
def element(kind, key, payload=b""):
    return bytes([kind]) + key.encode() + b"\x00" + payload


def bson_string(s):
    b = s.encode()
    return struct.pack("<i", len(b) + 1) + b + b"\x00"


def encoded(key, value):
    return bson.encode({key: value})[4:-1]


def raw_document(*elements):
    body = b"".join(elements)
    return RawBSONDocument(struct.pack("<i", len(body) + 5) + body + b"\x00")


EVERY_TYPE = [
    {"_id": 1, "double": 1.5, "neg_zero": -0.0, "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
     "big": 1e300, "tiny": 5e-324, "whole": 3.0},
    {"_id": 2, "string": "héllo ✓ 𝄞 \"quoted\" back\\slash\nnew\tline \x01", "empty": "", "nul": "a\x00b"},
    {"_id": 3, "doc": {"a": {"b": [1, {"c": None}]}}, "arr": [[], [[1, [2, [3]]]], {}], "empty_doc": {}},
    {"_id": 4, "bin": bson.Binary(b"\x00\xff", 0), "func": bson.Binary(b"f", 1), "old_uuid": bson.Binary(b"u" * 16, 3),
     "uuid": bson.Binary(uuid.UUID(int=7).bytes, 4), "md5": bson.Binary(b"m" * 16, 5), "enc": bson.Binary(b"e", 6),
     "user": bson.Binary(b"x", 0x80), "empty_bin": bson.Binary(b"", 0)},
    {"_id": bson.ObjectId("5f0c3b7e1c9d440000a1b2c3"), "oid": bson.ObjectId("000000000000000000000000")},
    {"_id": 6, "t": True, "f": False, "none": None},
    {"_id": 7, "before_1970": datetime.datetime(1960, 2, 29, 12, 30, 0, 250000), "epoch": datetime.datetime(1970, 1, 1),
     "year_one": datetime.datetime(1, 1, 1), "far": datetime.datetime(9999, 12, 31, 23, 59, 59, 999000)},
    {"_id": 8, "regex": bson.Regex("^a/b.*c$", "imsx"), "plain_regex": bson.Regex("x", "")},
    {"_id": 9, "code": bson.Code("function(){ return 1; }"), "scoped": bson.Code("x + y", {"x": 1, "y": {"z": [2]}})},
    {"_id": 10, "i32_max": 2**31 - 1, "i32_min": -2**31, "i64_small": bson.Int64(5), "i64_min": bson.Int64(-2**63),
     "i64_max": bson.Int64(2**63 - 1), "ts": bson.Timestamp(4000000000, 7), "ts0": bson.Timestamp(0, 0)},
    {"_id": 11, "dec": bson.Decimal128("1.10"), "dec_tiny": bson.Decimal128("-1.2345E-6000"),
     "dec_nan": bson.Decimal128("NaN"), "dec_inf": bson.Decimal128("-Infinity"), "dec_neg_zero": bson.Decimal128("-0")},
    {"_id": 12, "min": bson.MinKey(), "max": bson.MaxKey()},
    {"_id": "string id", "dbref": bson.DBRef("c", 1, "d"), "ключ": "unicode key"},
    {"_id": {"compound": [1, 2]}, "deep": {"x" * 200: 1}},
]

DEPRECATED_TYPES = raw_document(
    encoded("_id", 100),
    element(0x06, "undefined"),
    element(0x0E, "symbol", bson_string("sym")),
    element(0x0C, "dbpointer", bson_string("db.coll") + bytes.fromhex("5f0c3b7e1c9d440000a1b2c3")),
    element(0x05, "old_binary", struct.pack("<i", 8) + b"\x02" + struct.pack("<i", 4) + b"abcd"),
    encoded("dotted", {"a.b": 1, "$dollar": 2}),  # names MongoDB 5.0+ stores, which pymongo 3 will not write
    element(0x10, "top.level", struct.pack("<i", 3)),
)


def seed_every_type(coll):
    coll.insert_many(EVERY_TYPE)
    coll.insert_one(DEPRECATED_TYPES)


# ---- JSON round trips ----

@pytest.mark.parametrize("extra", [[], ["--jsonArray"], ["--pretty"], ["--jsonArray", "--pretty"]],
                         ids=["lines", "array", "pretty", "pretty-array"])
def test_canonical_round_trip_keeps_every_type_byte_for_byte(server, db, tmp_path, extra):
    seed_every_type(db.src)
    out = tmp_path / "src.json"
    ok(export(server, db, "-c", "src", "--jsonFormat", "canonical", "-o", str(out), *extra))
    array = ["--jsonArray"] if "--jsonArray" in extra else []
    p = ok(import_(server, db, "-c", "dst", "--file", str(out), *array))
    assert summary(p) == (len(EVERY_TYPE) + 1, 0)
    assert raw_docs(db.dst) == raw_docs(db.src)


def test_relaxed_round_trip_keeps_types_except_small_int64(server, db, tmp_path):
    """Relaxed Extended JSON writes an int64 that fits 32 bits as a plain
    number, which reads back as int32 (mongoexport and mongoimport alike);
    everything else keeps its type."""
    seed_every_type(db.src)
    out = tmp_path / "relaxed.json"
    ok(export(server, db, "-c", "src", "-o", str(out)))
    ok(import_(server, db, "-c", "dst", str(out)))
    src, dst = dict(raw_docs(db.src)), dict(raw_docs(db.dst))
    assert src.keys() == dst.keys()
    for key in src:
        before, after = bson.decode(src[key]), bson.decode(dst[key])
        if before["_id"] == 10:
            assert type(after["i64_small"]) is int and after["i64_small"] == 5
            before["i64_small"] = 5
        assert bson.encode(before) == bson.encode(after), before["_id"]


def test_json_lines_read_as_mongoexport_writes_them(server, db):
    db.c.insert_one({"_id": 1, "a": "x", "n": 1.0, "d": datetime.datetime(2020, 1, 2, 3, 4, 5),
                     "o": bson.ObjectId("5f0c3b7e1c9d440000a1b2c3")})
    p = ok(export(server, db, "-c", "c"))
    assert p.stdout == (b'{"_id":1,"a":"x","n":1.0,"d":{"$date":"2020-01-02T03:04:05Z"},'
                        b'"o":{"$oid":"5f0c3b7e1c9d440000a1b2c3"}}\n')
    assert "exported 1 record\n" in p.stderr.decode()
    p = ok(export(server, db, "-c", "c", "--jsonFormat", "canonical", "--jsonArray", "--pretty", "-f", "a"))
    assert p.stdout == b'[{\n\t"_id": {\n\t\t"$numberInt": "1"\n\t},\n\t"a": "x"\n}]\n\n'


def test_query_sort_skip_limit_and_field_projection(server, db):
    db.c.insert_many([{"_id": i, "a": i % 3, "b": {"c": i, "d": -i}, "e": "x"} for i in range(20)])
    p = ok(export(server, db, "-c", "c", "-q", '{"a": {"$gte": 1}}', "--sort", '{"_id": -1}', "--skip", "2",
                  "--limit", "3", "-f", "a,b.c"))
    docs = [json.loads(line) for line in p.stdout.decode().splitlines()]
    # the projection is by top-level field, as mongoexport's
    assert docs == [{"_id": 16, "a": 1, "b": {"c": 16, "d": -16}}, {"_id": 14, "a": 2, "b": {"c": 14, "d": -14}},
                    {"_id": 13, "a": 1, "b": {"c": 13, "d": -13}}]
    assert "exported 3 records" in p.stderr.decode()
    # shell-style shorthand and a query file
    p = ok(export(server, db, "-c", "c", "-q", "{a: 0, 'e': 'x'}", "--sort", "{_id: 1}", "--limit", "2"))
    assert [json.loads(line)["_id"] for line in p.stdout.decode().splitlines()] == [0, 3]


def test_query_file_and_extended_json_in_the_query(server, db, tmp_path):
    db.c.insert_many([{"_id": i, "when": datetime.datetime(2020, 1, 1 + i)} for i in range(5)])
    qf = tmp_path / "q.json"
    qf.write_text('{"when": {"$gte": {"$date": "2020-01-04T00:00:00Z"}}}')
    p = ok(export(server, db, "-c", "c", "--queryFile", str(qf)))
    assert [json.loads(line)["_id"] for line in p.stdout.decode().splitlines()] == [3, 4]


def test_export_of_a_missing_collection(server, db, tmp_path):
    p = ok(export(server, db, "-c", "nothing", "-o", str(tmp_path / "sub" / "none.json")))
    assert "exported 0 records" in p.stderr.decode()
    assert (tmp_path / "sub" / "none.json").read_bytes() == b""
    failed(export(server, db, "-c", "nothing", "--assertExists"), "does not exist")


def test_stdout_to_stdin_through_a_pipe(server, db):
    db.a.insert_many([{"_id": i, "v": bson.Int64(i * 10**12)} for i in range(500)])
    exporter = subprocess.Popen([DOCKET, "export", "--uri", server.uri, "-d", db.name, "-c", "a", "--quiet",
                                 "--jsonFormat", "canonical"],
                                stdout=subprocess.PIPE)
    importer = subprocess.Popen([DOCKET, "import", "--uri", server.uri, "-d", db.name, "-c", "b"],
                                stdin=exporter.stdout, stderr=subprocess.PIPE)
    exporter.stdout.close()
    _, err = importer.communicate(timeout=60)
    assert exporter.wait(timeout=60) == 0
    assert importer.returncode == 0, err
    assert "500 document(s) imported successfully. 0 document(s) failed to import." in err.decode()
    assert raw_docs(db.a) == raw_docs(db.b)


def test_gzip_input_and_collection_named_after_the_file(server, db, tmp_path):
    path = tmp_path / "people.json.gz"
    with open(os.path.join(FIXTURES, "people.json"), "rb") as f:
        path.write_bytes(gzip.compress(f.read()))
    p = ok(import_(server, db, str(path)))
    assert "using the file name: people.json" in p.stderr.decode()
    assert db["people.json"].count_documents({}) == 3
    p = ok(import_(server, db, "--file", os.path.join(FIXTURES, "people.json")))
    assert db.people.find_one({"name": "Laura Ramirez"})["score"] == bson.Int64(12)
    assert type(db.people.find_one({"name": "Laura Ramirez"})["score"]) is bson.Int64


def test_empty_inputs_import_nothing_and_succeed(server, db, tmp_path):
    for name, content, args in [("empty.json", b"", []), ("blank.json", b"\n \n", []),
                                ("array.json", b" [ ]\n", ["--jsonArray"]), ("head.csv", b"a,b\n", ["--type", "csv",
                                                                                                       "--headerline"]),
                                ("nothing.csv", b"", ["--type", "csv", "--headerline"])]:
        (tmp_path / name).write_bytes(content)
        p = ok(import_(server, db, "-c", "e", str(tmp_path / name), *args))
        assert summary(p) == (0, 0), name
    assert db.e.count_documents({}) == 0


# ---- bad input: reported by line, counted, skipped or stopped at ----

BAD_JSON = (b'{"_id": 1}\n'
            b'{"_id": 2}\n'
            b'{"_id": 3, "broken": tru}\n'
            b'{"_id": 4}\n'
            b'{"_id": 5, "unclosed": [1, 2\n'
            b'{"_id": 6}\n'
            b'not json at all\n'
            b'{"_id": 7}\n')


def test_malformed_json_lines_are_reported_by_line_and_skipped(server, db):
    p = import_(server, db, "-c", "c", stdin=BAD_JSON)
    err = p.stderr.decode()
    assert p.returncode == 1, err  # the input was not read whole
    assert re.search(r"^line 3: not valid Extended JSON", err, re.M), err
    assert re.search(r"^line 5: .*never closed", err, re.M), err
    assert re.search(r"^line 7: expected a document", err, re.M), err
    assert summary(p) == (5, 3)
    assert sorted(d["_id"] for d in db.c.find()) == [1, 2, 4, 6, 7]


def test_stop_on_error_stops_at_the_bad_line_after_writing_what_came_before(server, db):
    p = import_(server, db, "-c", "c", "--stopOnError", stdin=BAD_JSON)
    assert p.returncode == 1
    assert re.search(r"^line 3: ", p.stderr.decode(), re.M)
    assert summary(p) == (2, 1)
    assert sorted(d["_id"] for d in db.c.find()) == [1, 2]


def test_a_pretty_document_that_is_broken_is_one_failure(server, db):
    text = b'{\n\t"_id": 1,\n\t"a": [1, tru]\n}\n{\n\t"_id": 2\n}\n'
    p = import_(server, db, "-c", "c", stdin=text)
    assert p.returncode == 1
    assert re.search(r"^line 1: not valid Extended JSON", p.stderr.decode(), re.M)
    assert summary(p) == (1, 1)
    assert [d["_id"] for d in db.c.find()] == [2]


def test_json_array_errors(server, db):
    p = import_(server, db, "-c", "c", "--jsonArray", stdin=b'[{"_id": 1},\n {"_id": 2, "x": },\n 7, {"_id": 3}]')
    assert re.search(r"^line 2: not valid", p.stderr.decode(), re.M)
    assert re.search(r"^line 3: expected a document in the array", p.stderr.decode(), re.M)
    assert summary(p) == (2, 2)
    p = import_(server, db, "-c", "d", "--jsonArray", stdin=b'[{"_id": 1}, {"_id": 2}')
    failed(p, "never closed")
    assert db.d.count_documents({}) == 2
    failed(import_(server, db, "-c", "e", stdin=b'[{"_id": 1}]'), "--jsonArray")


def test_documents_no_driver_could_read_or_the_server_store_are_bad_lines(server, db, tmp_path):
    big = b'{"_id": 2, "big": "' + b"x" * (17 * 1024 * 1024) + b'"}\n'
    path = tmp_path / "in.json"
    path.write_bytes(b'{"_id": 1}\n' + big + b'{"_id": 3}\n')
    p = import_(server, db, "-c", "c", str(path))
    assert re.search(r"^line 2: the document is \d+ bytes of BSON, more than the 16 MiB", p.stderr.decode(), re.M)
    assert summary(p) == (2, 1) and p.returncode == 1
    p = import_(server, db, "-c", "u", "--type", "csv", "-f", "name,n", stdin=b"caf\xe9,1\ncafe,2\n")
    assert re.search(r'^line 1: the field "name" is not UTF-8', p.stderr.decode(), re.M), p.stderr.decode()
    assert summary(p) == (1, 1)
    assert [d["name"] for d in db.u.find()] == ["cafe"]


def test_duplicate_ids_are_counted_and_reported_as_mongoimport(server, db):
    db.c.insert_many([{"_id": 2}, {"_id": 4}])
    lines = b"".join(b'{"_id": %d}\n' % i for i in range(1, 6))
    p = ok(import_(server, db, "-c", "c", stdin=lines))  # mongoimport exits 0 here too
    assert summary(p) == (3, 2)
    assert p.stderr.decode().count("continuing through error: E11000 duplicate key") == 2
    assert db.c.count_documents({}) == 5
    db.d.insert_one({"_id": 2})
    p = import_(server, db, "-c", "d", "--stopOnError", stdin=lines)
    failed(p, "stopping at error: E11000")
    assert summary(p) == (1, 1)
    assert sorted(d["_id"] for d in db.d.find()) == [1, 2]


def test_drop_replaces_the_collection(server, db):
    db.c.insert_many([{"_id": 1, "old": True}, {"_id": 9}])
    p = ok(import_(server, db, "-c", "c", "--drop", stdin=b'{"_id": 1, "new": true}\n'))
    assert "dropping: %s.c" % db.name in p.stderr.decode()
    assert list(db.c.find()) == [{"_id": 1, "new": True}]
    ok(import_(server, db, "-c", "never_there", "--drop", stdin=b'{"_id": 1}'))


def test_upsert_merge_and_delete_modes(server, db):
    people = os.path.join(FIXTURES, "people.json")
    updates = os.path.join(FIXTURES, "people_updates.json")
    ok(import_(server, db, "-c", "p", people))
    crystal = bson.ObjectId("580100f4da893943d393e909")

    p = ok(import_(server, db, "-c", "m", people))
    p = ok(import_(server, db, "-c", "m", "--mode", "merge", updates))
    assert summary(p) == (2, 0)
    merged = db.m.find_one({"_id": crystal})
    assert merged["name"] == "Crystal Duncan" and merged["username"] == "crystal"  # kept and added
    assert db.m.count_documents({}) == 4

    p = ok(import_(server, db, "-c", "p", "--mode", "upsert", updates))
    assert summary(p) == (2, 0)
    assert db.p.find_one({"_id": crystal}) == {"_id": crystal, "username": "crystal",
                                                "likes": ["running", "pandas", "software development"]}
    assert db.p.count_documents({}) == 4

    # --upsertFields matches on other fields (and implies --mode upsert)
    p = ok(import_(server, db, "-c", "p", "--upsertFields", "region",
                   stdin=b'{"region": "Denmark", "name": "Gyda H."}\n{"region": "Peru", "name": "New"}\n'))
    assert db.p.find_one({"region": "Denmark"})["name"] == "Gyda H."
    assert db.p.count_documents({}) == 5

    p = ok(import_(server, db, "-c", "p", "--mode", "delete", "--upsertFields", "region",
                   stdin=b'{"region": "Peru"}\n{"region": "Atlantis"}\n'))
    assert "deleted successfully" in p.stderr.decode()
    assert summary(p) == (1, 0)
    assert db.p.count_documents({"region": "Peru"}) == 0
    failed(import_(server, db, "-c", "p", "--mode", "insert", "--upsertFields", "a", stdin=b""),
           "cannot use --upsertFields with --mode=insert")


def test_non_insert_modes_stop_at_a_refused_document(server, db):
    db.c.create_index("u", unique=True)
    db.c.insert_many([{"_id": 1, "u": 1}, {"_id": 2, "u": 2}])
    p = import_(server, db, "-c", "c", "--mode", "merge",
                stdin=b'{"_id": 3, "u": 3}\n{"_id": 1, "u": 2}\n{"_id": 4, "u": 4}\n')
    failed(p, "stopping at error: line 2: ")
    assert summary(p) == (1, 1)
    assert db.c.count_documents({}) == 3


# ---- CSV and TSV ----

# trailing white space: mongoexport leaves such a field unquoted and
# mongoimport trims it; Docket's export quotes it (found by transfer_fuzz)
AWKWARD = ["plain", "comma, inside", 'say "hi"', "multi\nline", "crlf\r\nline", " leading space", "", "тест ✓",
           "trailing space ", "trailing tab\t"]


def test_csv_round_trip_of_awkward_strings(server, db, tmp_path):
    db.src.insert_many([{"_id": i, "s": s, "n": {"k": s}} for i, s in enumerate(AWKWARD)])
    out = tmp_path / "a.csv"
    ok(export(server, db, "-c", "src", "--type", "csv", "-f", "_id,s,n.k", "-o", str(out)))
    text = out.read_bytes()
    assert text.startswith(b"_id,s,n.k\n0,plain,plain\n1,\"comma, inside\",\"comma, inside\"\n")
    assert b'2,"say ""hi""","say ""hi"""\n' in text and b'3,"multi\nline","multi\nline"\n' in text
    p = ok(import_(server, db, "-c", "dst", "--type", "csv", "--headerline", str(out)))
    assert summary(p) == (len(AWKWARD), 0)
    for i, s in enumerate(AWKWARD):
        d = db.dst.find_one({"_id": i})
        want = s.replace("\r\n", "\n")  # a CSV reader folds \r\n
        assert d["s"] == want and d["n"] == {"k": want}, (d, s)


def test_csv_cells_as_mongoexport_formats_them(server, db):
    db.c.insert_one({"_id": bson.ObjectId("5f0c3b7e1c9d440000a1b2c3"), "i": 5, "l": bson.Int64(7), "d": 1e6,
                     "f": 2.5, "b": True, "n": None, "when": datetime.datetime(1960, 1, 2, 3, 4, 5, 6000),
                     "bin": bson.Binary(b"\x01\xab", 0), "re": bson.Regex("a.b", "i"), "ts": bson.Timestamp(1, 2),
                     "min": bson.MinKey(), "dec": bson.Decimal128("1.10"),
                     "doc": {"a": bson.Int64(5), "b": [1, 2.0, "<&>"]}, "arr": [{"x": 1}, {"x": [10, 20]}]})
    fields = "_id,i,l,d,f,b,n,missing,when,bin,re,ts,min,dec,doc,doc.b.1,arr,arr.1.x.0,arr.x"
    p = ok(export(server, db, "-c", "c", "--type", "csv", "-f", fields))
    header, row = p.stdout.decode().split("\n")[:2]
    assert header == fields
    assert row == ('ObjectId(5f0c3b7e1c9d440000a1b2c3),5,7,1e+06,2.5,true,,,1960-01-02T03:04:05.006Z,01AB,/a.b/i,'
                   '"{ ""$timestamp"": { ""t"": 1, ""i"": 2 } }",$MinKey,1.10,'
                   '"{""a"":{""$numberLong"":""5""},""b"":[1,2.0,""\\u003c\\u0026\\u003e""]}",2,'
                   '"[{""x"":1},{""x"":[10,20]}]",10,')
    p = ok(export(server, db, "-c", "c", "--type", "csv", "-f", "i", "--noHeaderLine"))
    assert p.stdout == b"5\n"


def test_csv_header_line_with_spaces_as_in_mongoimports_example(server, db):
    p = ok(import_(server, db, "-c", "contacts", "--type", "csv", "--headerline",
                   os.path.join(FIXTURES, "contacts.csv")))
    assert summary(p) == (2, 0)
    docs = sorted(({k: v for k, v in d.items() if k != "_id"} for d in db.contacts.find()), key=lambda d: d["name"])
    assert docs == [{"name": "Charles Yu", "address": "345 Sample Road"},
                    {"name": "Sophie Monroe", "address": "123 Example Street"}]


def test_typed_columns_from_the_header_line(server, db):
    ok(import_(server, db, "-c", "c", "--type", "csv", "--headerline", "--columnsHaveTypes",
               os.path.join(FIXTURES, "contacts_typed.csv")))
    alice = db.c.find_one({"name": "Alice Smith"})
    assert alice["birthdate"] == datetime.datetime(1987, 11, 15)
    assert alice["contacted"] is True and alice["followerCount"] == 3 and type(alice["followerCount"]) is int
    assert alice["thumbnail"] == bytes(range(1, 10))
    assert db.c.find_one({"name": "Bob Wilson"})["contacted"] is False


def test_typed_columns_every_type(server, db):
    fields = ("a.auto(),s.string(),i.int32(),l.int64(),d.double(),m.decimal(),b.boolean(),h.binary(hex),"
              "t.binary(base32),g.date_go(2006-01-02T15:04:05Z07:00),ms.date_ms(yyyy-MM-dd HH:mm:ss),"
              "o.date_oracle(DD-MON-YYYY HH24:MI),x.date(Jan _2 2006 3:04PM)")
    row = b"12,007,-5,5,1,1.10,TRUE,0aff,MFRGG===,2014-03-04T05:06:07.891+02:00,2014-03-04 05:06:07,04-MAR-2014 05:06,Mar  4 2014 5:06PM\n"
    ok(import_(server, db, "-c", "c", "--type", "csv", "--columnsHaveTypes", "--fields", fields, stdin=row))
    raw = bson.decode(db.c.with_options(codec_options=RAW).find_one().raw)
    assert type(raw["a"]) is int and raw["a"] == 12
    assert raw["s"] == "007" and raw["i"] == -5 and type(raw["i"]) is int
    assert type(raw["l"]) is bson.Int64 and raw["l"] == 5
    assert type(raw["d"]) is float and raw["d"] == 1.0
    assert raw["m"] == bson.Decimal128("1.10") and raw["b"] is True
    assert raw["h"] == b"\x0a\xff" and raw["t"] == b"abc"
    assert raw["g"] == datetime.datetime(2014, 3, 4, 3, 6, 7, 891000)
    assert raw["ms"] == datetime.datetime(2014, 3, 4, 5, 6, 7)
    assert raw["o"] == datetime.datetime(2014, 3, 4, 5, 6)
    assert raw["x"] == datetime.datetime(2014, 3, 4, 17, 6)


@pytest.mark.parametrize("grace,imported,failures,exit_code", [("stop", 2, 1, 1), ("autoCast", 3, 0, 0),
                                                                ("skipField", 3, 0, 0), ("skipRow", 2, 0, 0)])
def test_parse_grace(server, db, grace, imported, failures, exit_code):
    rows = b"1,a\nx,b\n3,c\n"
    p = import_(server, db, "-c", "c", "--type", "csv", "--columnsHaveTypes", "-f", "n.int32(),s.string()",
                "--parseGrace", grace, stdin=rows)
    assert p.returncode == exit_code, p.stderr.decode()
    assert summary(p) == (imported, failures)
    second = db.c.find_one({"s": "b"})
    if grace == "stop":
        assert re.search(r'^line 2: could not parse "x" as int32 for the field "n"', p.stderr.decode(), re.M)
        assert second is None
    elif grace == "autoCast":
        assert second["n"] == "x"
    elif grace == "skipField":
        assert "n" not in second
    else:
        assert second is None
        assert p.stdout == b"x,b\n"  # the rejected row, as mongoimport writes it
        assert "line 2: skipping the row" in p.stderr.decode()


def test_bad_typed_value_with_stop_on_error_stops_there(server, db):
    p = import_(server, db, "-c", "c", "--type", "csv", "--columnsHaveTypes", "-f", "n.int32()", "--stopOnError",
                stdin=b"1\n2\nthree\n4\n")
    failed(p, 'line 3: could not parse "three"')
    assert summary(p) == (2, 1)
    assert sorted(d["n"] for d in db.c.find()) == [1, 2]


def test_untyped_cells_infer_numbers_and_nest_dotted_names(server, db):
    rows = b"1,3000000000,1.5,007,abc,,1e3,x\n"
    ok(import_(server, db, "-c", "c", "--type", "csv", "-f", "a,b.big,b.f,c,d.e.f,g,h", stdin=rows))
    raw = bson.decode(db.c.with_options(codec_options=RAW).find_one().raw)
    del raw["_id"]
    assert raw == {"a": 1, "b": {"big": 3000000000, "f": 1.5}, "c": 7, "d": {"e": {"f": "abc"}}, "g": "",
                   "h": 1000.0, "field7": "x"}
    assert type(raw["b"]["big"]) is bson.Int64 and type(raw["a"]) is int and type(raw["h"]) is float
    ok(import_(server, db, "-c", "blank", "--type", "csv", "-f", "a,b,c", "--ignoreBlanks", stdin=b"1,,3\n"))
    assert {k: v for k, v in db.blank.find_one().items() if k != "_id"} == {"a": 1, "c": 3}


def test_csv_reader_quirks_as_mongoimport(server, db):
    rows = (b'  spaced  , " kept " ,x\n'  # unquoted cells are trimmed, quoted ones are not
            b'\n'                          # a blank line is no record
            b'bad"quote,2,y\n'             # a quote inside an unquoted cell
            b'"ok",3,z\r\n')
    p = import_(server, db, "-c", "c", "--type", "csv", "-f", "a,b,c", stdin=b"\xef\xbb\xbf" + rows)
    assert p.returncode == 1
    assert re.search(r"^line 3: a quote inside an unquoted field", p.stderr.decode(), re.M)
    docs = sorted(({k: v for k, v in d.items() if k != "_id"} for d in db.c.find()), key=lambda d: d["c"])
    assert docs == [{"a": "spaced", "b": " kept ", "c": "x"}, {"a": "ok", "b": 3, "c": "z"}]


def test_tsv_with_a_header_line(server, db):
    data = b'name\tnote\tn\nAnn\t"not, quoted"\t1\r\nBob\ttab-free\t2\n'
    ok(import_(server, db, "-c", "c", "--type", "tsv", "--headerline", stdin=data))
    docs = sorted(({k: v for k, v in d.items() if k != "_id"} for d in db.c.find()), key=lambda d: d["n"])
    assert docs == [{"name": "Ann", "note": '"not, quoted"', "n": 1}, {"name": "Bob", "note": "tab-free", "n": 2}]


def test_field_files_and_array_index_fields(server, db, tmp_path):
    db.src.insert_one({"_id": 1, "a": {"b": 2}, "tags": ["x", "y"]})
    ff = tmp_path / "fields.txt"
    ff.write_text("_id\na.b\ntags.0\ntags.1\n")
    p = ok(export(server, db, "-c", "src", "--type", "csv", "--fieldFile", str(ff)))
    assert p.stdout == b"_id,a.b,tags.0,tags.1\n1,2,x,y\n"
    ok(import_(server, db, "-c", "dst", "--type", "csv", "--headerline", "--useArrayIndexFields", stdin=p.stdout))
    assert db.dst.find_one() == {"_id": 1, "a": {"b": 2}, "tags": ["x", "y"]}
    failed(import_(server, db, "-c", "x", "--type", "csv", "-f", "a.0,a.2", "--useArrayIndexFields", stdin=b"1,2\n"),
           "array indexes in fields must start from 0")


# ---- flags refused clearly ----

@pytest.mark.parametrize("args,message", [
    (["export"], "must specify a collection"),
    (["export", "-c", "x", "--type", "csv"], "CSV mode requires a field list"),
    (["export", "-c", "x", "--type", "xml"], "invalid output type 'xml', choose 'json' or 'csv'"),
    (["export", "-c", "x", "--jsonFormat", "loose"], "invalid JSON format"),
    (["export", "-c", "x", "-q", "{not json"], "--query is not valid Extended JSON"),
    (["import", "-c", "x", "--type", "xml"], "unknown type xml"),
    (["import", "-c", "x", "--type", "csv"], "must specify --fields, --fieldFile or --headerline"),
    (["import", "-c", "x", "--type", "csv", "--headerline", "-f", "a"], "incompatible options: --fields and --headerline"),
    (["import", "-c", "x", "--headerline"], "cannot use --headerline when input type is JSON"),
    (["import", "-c", "x", "--type", "csv", "-f", "a", "--parseGrace", "maybe"], "invalid parse grace"),
    (["import", "-c", "x", "--type", "csv", "-f", "a.int33()", "--columnsHaveTypes"], 'invalid type "int33"'),
    (["import", "-c", "x", "--type", "csv", "-f", "a,a.b"], 'fields "a" and "a.b" are incompatible'),
    (["import", "-c", "x", "--mode", "replace"], "invalid --mode argument"),
    (["import", "-c", "x", "-j", "4"], "--numInsertionWorkers 4"),
    (["import"], "no collection specified"),
    (["import", "-c", "x", "/nonexistent/file.json"], "cannot read /nonexistent/file.json"),
])
def test_bad_flags_are_refused_clearly(server, args, message):
    p = docket(args[0], "--uri", server.uri, *args[1:], stdin=b"")
    assert p.returncode != 0
    assert message in p.stderr.decode(), p.stderr.decode()


def test_unreadable_file(server, db, tmp_path):
    path = tmp_path / "secret.json"
    path.write_text('{"a": 1}\n')
    os.chmod(path, 0)
    if os.access(path, os.R_OK):
        pytest.skip("running as a user who reads any file")
    failed(import_(server, db, "-c", "c", str(path)), "cannot read")


# ---- progress ----

def test_progress_lines_without_a_terminal_and_none_when_quiet(server, db, tmp_path):
    db.c.insert_many([{"_id": i, "pad": "x" * 200} for i in range(20000)])
    p = ok(export(server, db, "-c", "c", "-o", str(tmp_path / "c.json"), "--progress-interval", "1"))
    lines = [l for l in p.stderr.decode().splitlines() if l.startswith("%s.c  [" % db.name)]
    assert len(lines) >= 2, p.stderr.decode()[:500]
    assert re.match(r"%s\.c  \[[#.]+\]  \d+/20000 documents \([\d.]+%%\)" % db.name, lines[0]), lines[0]
    assert "\r" not in p.stderr.decode()
    p = ok(import_(server, db, "-c", "d", str(tmp_path / "c.json"), "--progress-interval", "1"))
    assert re.search(r"^%s\.d  \[[#.]+\]  \d+/\d+ bytes" % db.name, p.stderr.decode(), re.M), p.stderr.decode()[:500]
    for args in (["export", "-d", db.name, "-c", "c", "-o", str(tmp_path / "q.json")],
                 ["import", "-d", db.name, "-c", "e", str(tmp_path / "c.json")]):
        p = ok(docket(args[0], "--uri", server.uri, *args[1:], "--quiet", "--progress-interval", "1"))
        assert p.stderr == b""


def test_progress_bar_on_a_terminal(server, db, tmp_path):
    db.c.insert_many([{"_id": i, "pad": "x" * 200} for i in range(20000)])
    seen = run_on_terminal(["export", "--uri", server.uri, "-d", db.name, "-c", "c", "-o", str(tmp_path / "c.json"),
                            "--progress-interval", "1"])
    label = db.name.encode() + rb"\.c"
    assert re.search(rb"\r\x1b\[K" + label + rb"  \[#*\.*\]  \d+/20000 documents \([\d.]+%\)  [\d.]+/s  ETA ", seen), \
        seen[:300]
    assert b"exported 20000 records" in seen
    seen = run_on_terminal(["import", "--uri", server.uri, "-d", db.name, "-c", "d", str(tmp_path / "c.json"),
                            "--progress-interval", "1"])
    assert re.search(rb"\r\x1b\[K" + db.name.encode() + rb"\.d  \[#*\.*\]  \d+/\d+ bytes .*ETA ", seen), seen[:300]
    assert b"20000 document(s) imported successfully. 0 document(s) failed to import." in seen


def test_slow_server_import_reports_progress_lines(tmp_path):
    """Against a server that waits before every command, an import of many
    batches shows plain progress lines as it goes."""
    slow = DocketServer("--jitter", "20-30", "--seed", "3")
    try:
        path = tmp_path / "many.json"
        path.write_bytes(b"".join(b'{"_id": %d}\n' % i for i in range(20000)))
        p = ok(docket("import", "--uri", slow.uri, "-d", "slow", "-c", "c", str(path), "--progress-interval", "50"))
        lines = [l for l in p.stderr.decode().splitlines() if l.startswith("slow.c  [")]
        assert len(lines) >= 2, p.stderr.decode()
        assert "20000 document(s) imported successfully" in p.stderr.decode()
    finally:
        assert slow.stop() == 0
