#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Seeds come from the data-driven cases (tests/cases/*.test: their documents,
filters, updates, projections and pipelines) and from real wire messages
built here for real commands. Run it again after adding cases; the seeds are
checked in, so the fuzzers never depend on it at run time.

    /usr/bin/python3 fuzz/make_corpus.py

Needs Debian's python3-pymongo (bson), python3-snappy and python3-zstandard.
"""
import hashlib
import os
import random
import re
import struct
import sys
import zlib

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.son import SON

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "tests", "cases")
OUT = os.path.join(ROOT, "fuzz", "corpus")
OPTS = CodecOptions(document_class=SON)
MAX_SEEDS = 48


def loads(text):
    return json_util.loads(text, json_options=json_util.JSONOptions(document_class=SON))


def enc(doc):
    return bson.encode(doc, codec_options=OPTS)


def as_array_doc(values):
    """A list laid out as BSON arrays are: keys "0", "1", ..."""
    return SON((str(i), v) for i, v in enumerate(values))


def read_cases():
    """Yields (file name, list of (key, value)) for each case block of each file."""
    for name in sorted(os.listdir(CASES)):
        if not name.endswith(".test"):
            continue
        entries = []
        with open(os.path.join(CASES, name)) as f:
            for line in f:
                m = re.match(r"^([a-zA-Z_]+):\s*(.*)$", line.rstrip("\n"))
                if not m:
                    continue
                try:
                    entries.append((m.group(1), loads(m.group(2))))
                except Exception:
                    continue
        yield name, entries


class Seeds:
    def __init__(self):
        self.by_target = {}

    def add(self, target, data):
        self.by_target.setdefault(target, [])
        if data not in self.by_target[target]:
            self.by_target[target].append(data)

    def write(self):
        rng = random.Random(1)
        for target, seeds in sorted(self.by_target.items()):
            d = os.path.join(OUT, target)
            os.makedirs(d, exist_ok=True)
            for old in os.listdir(d):
                os.remove(os.path.join(d, old))
            if len(seeds) > MAX_SEEDS:
                # Keep the first few of each source and a spread of the rest.
                seeds = seeds[:12] + rng.sample(seeds[12:], MAX_SEEDS - 12)
            for data in seeds:
                name = hashlib.sha1(data).hexdigest()[:16]
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            print(f"{target}: {len(seeds)} seeds")


# ---- wire messages -------------------------------------------------------

OP_QUERY, OP_COMPRESSED, OP_MSG = 2004, 2012, 2013


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def header(length, request_id, op):
    return struct.pack("<iiii", length, request_id, 0, op)


def op_msg(body, sequences=(), flags=0, request_id=1, checksum=False):
    payload = b"\x00" + enc(body)
    for ident, docs in sequences:
        section = ident.encode() + b"\x00" + b"".join(enc(d) for d in docs)
        payload += b"\x01" + struct.pack("<i", 4 + len(section)) + section
    if checksum:
        flags |= 1
    msg = struct.pack("<I", flags) + payload
    length = 16 + len(msg) + (4 if checksum else 0)
    out = header(length, request_id, OP_MSG) + msg
    if checksum:
        out += struct.pack("<I", crc32c(out))
    return out


def op_query(collection, query, request_id=1):
    body = struct.pack("<i", 0) + collection.encode() + b"\x00" + struct.pack("<ii", 0, -1) + enc(query)
    return header(16 + len(body), request_id, OP_QUERY) + body


def compress(message, compressor_id):
    original_op = struct.unpack("<i", message[12:16])[0]
    body = message[16:]
    if compressor_id == 0:
        data = body
    elif compressor_id == 1:
        import snappy
        data = snappy.compress(body)
    elif compressor_id == 2:
        data = zlib.compress(body)
    else:
        import zstandard
        data = zstandard.ZstdCompressor().compress(body)
    rest = struct.pack("<iiB", original_op, len(body), compressor_id) + data
    return header(16 + len(rest), struct.unpack("<i", message[4:8])[0], OP_COMPRESSED) + rest


def wire_commands():
    """Real commands, as drivers send them (with $db and lsid)."""
    lsid = SON([("id", bson.Binary(b"\x01" * 16, 4))])
    docs = [SON([("_id", 1), ("a", 5), ("b", SON([("c", [1, 2, SON([("d", 3)])])]))]),
            SON([("_id", 2), ("a", [1, 7]), ("s", "hello")])]
    return [
        SON([("hello", 1), ("helloOk", True), ("client", SON([("driver", SON([("name", "fuzz"), ("version", "1")]))])),
             ("compression", ["snappy", "zlib", "zstd"]), ("$db", "admin")]),
        SON([("ping", 1), ("$db", "admin")]),
        SON([("insert", "c"), ("documents", docs), ("ordered", True), ("lsid", lsid), ("$db", "fuzz")]),
        SON([("find", "c"), ("filter", SON([("$or", [SON([("a", SON([("$gt", 4)]))]),
                                                      SON([("b.c", SON([("$elemMatch", SON([("d", 3)]))]))])])])),
             ("projection", SON([("a", 1)])), ("sort", SON([("a", -1)])), ("limit", 10), ("$db", "fuzz")]),
        SON([("update", "c"), ("updates", [SON([("q", SON([("_id", 1)])), ("u", SON([("$inc", SON([("a", 1)])),
                                                                                     ("$push", SON([("t", "z")]))])),
                                                ("upsert", True)])]), ("$db", "fuzz")]),
        SON([("update", "c"), ("updates", [SON([("q", SON([("a", SON([("$in", [1, 5])]))])),
                                                ("u", [SON([("$set", SON([("n", SON([("$add", ["$a", 1])]))]))])]),
                                                ("multi", True)])]), ("$db", "fuzz")]),
        SON([("aggregate", "c"), ("pipeline", [SON([("$match", SON([("a", SON([("$exists", True)]))]))]),
                                               SON([("$group", SON([("_id", "$s"), ("n", SON([("$sum", 1)]))]))]),
                                               SON([("$sort", SON([("n", -1)]))])]),
             ("cursor", SON()), ("$db", "fuzz")]),
        SON([("delete", "c"), ("deletes", [SON([("q", SON([("a", SON([("$lt", 0)]))])), ("limit", 0)])]),
             ("$db", "fuzz")]),
        SON([("findAndModify", "c"), ("query", SON([("_id", 2)])), ("update", SON([("$set", SON([("x", 1)]))])),
             ("new", True), ("$db", "fuzz")]),
        SON([("getMore", bson.Int64(12345)), ("collection", "c"), ("$db", "fuzz")]),
        SON([("count", "c"), ("query", SON([("a", SON([("$type", "number")]))])), ("$db", "fuzz")]),
    ]


def wire_seeds(seeds):
    cmds = wire_commands()
    for i, cmd in enumerate(cmds):
        seeds.add("wire_fuzz", op_msg(cmd, request_id=i + 1))
    # Document sequences (kind 1), as drivers send inserts and updates.
    seeds.add("wire_fuzz", op_msg(SON([("insert", "c"), ("$db", "fuzz")]),
                                  sequences=[("documents", [SON([("_id", 10), ("v", 1)]), SON([("_id", 11)])])]))
    seeds.add("wire_fuzz", op_msg(SON([("update", "c"), ("$db", "fuzz")]),
                                  sequences=[("updates", [SON([("q", SON()), ("u", SON([("$set", SON([("y", 2)]))]))])])]))
    # Checksum, moreToCome, exhaustAllowed.
    seeds.add("wire_fuzz", op_msg(cmds[1], checksum=True))
    seeds.add("wire_fuzz", op_msg(cmds[2], checksum=True))
    seeds.add("wire_fuzz", op_msg(cmds[2], flags=2))
    seeds.add("wire_fuzz", op_msg(cmds[3], flags=1 << 16))
    # The legacy handshake and commands.
    seeds.add("wire_fuzz", op_query("admin.$cmd", SON([("isMaster", 1), ("helloOk", True)])))
    seeds.add("wire_fuzz", op_query("admin.$cmd", SON([("hello", 1)])))
    seeds.add("wire_fuzz", op_query("fuzz.$cmd", SON([("count", "c")])))
    # Every compressor around OP_MSG and OP_QUERY.
    for cid in (0, 1, 2, 3):
        seeds.add("wire_fuzz", compress(op_msg(cmds[3]), cid))
        seeds.add("wire_fuzz", compress(op_msg(cmds[6]), cid))
        seeds.add("wire_fuzz", compress(op_query("admin.$cmd", SON([("ping", 1)])), cid))
    # A few broken ones: short header, wrong length, unknown section kind.
    seeds.add("wire_fuzz", header(16, 1, OP_MSG))
    m = bytearray(op_msg(cmds[1]))
    m[20] = 7
    seeds.add("wire_fuzz", bytes(m))


# ---- BSON values for the key encoding -----------------------------------

def key_seeds(seeds):
    from bson import Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp, Code
    import datetime
    groups = [
        [1, Int64(1), 1.0, Decimal128("1.0"), Decimal128("1"), 2, -1, 0, -0.0, Decimal128("-0")],
        [float("nan"), Decimal128("NaN"), float("inf"), float("-inf"), Decimal128("Infinity"), Decimal128("-Infinity")],
        [Int64(2**63 - 1), Int64(-2**63), 2.0**63, -2.0**63, 9007199254740993, 9007199254740992.0,
         Decimal128("9223372036854775807.5"), Decimal128("9223372036854775808")],
        [Decimal128("1E-6176"), Decimal128("9.999999999999999999999999999999999E+6144"), 5e-324, 1.7976931348623157e308,
         Decimal128("0.1"), 0.1, Decimal128("0.30000000000000004"), 0.30000000000000004],
        ["", "a", "a\x00", "a\x00b", "ab", "\xff", "b", "A"],
        [SON(), SON([("a", 1)]), SON([("a", 1.0)]), SON([("a", 1), ("b", None)]), SON([("b", 1)]), SON([("a", "x")])],
        [[], [1], [1, 2], [[1]], [None], [SON()], ["a"]],
        [bson.Binary(b""), bson.Binary(b"\x00"), bson.Binary(b"\x01", 4), bson.Binary(b"\x00\x00")],
        [ObjectId("000000000000000000000000"), ObjectId("5f1d7a0e2b5e4c3a9d8b7c6a"), True, False],
        [datetime.datetime(1970, 1, 1), datetime.datetime(1969, 12, 31, 23, 59, 59), datetime.datetime(2024, 1, 1),
         Timestamp(0, 0), Timestamp(1, 2), Timestamp(2**31, 1)],
        [Regex("a", "i"), Regex("a", ""), Regex("b", "m"), Code("x"), Code("x", SON([("y", 1)])),
         MinKey(), MaxKey(), None],
        [None, 0, "", SON(), [], False, MinKey(), MaxKey()],
    ]
    for g in groups:
        seeds.add("key_encoding_fuzz", enc(SON((str(i), v) for i, v in enumerate(g))))
    # Pairs split across two documents.
    seeds.add("key_encoding_fuzz", enc(SON([("x", 1)])) + enc(SON([("y", Int64(1))])))
    seeds.add("key_encoding_fuzz", enc(SON([("x", "a")])) + enc(SON([("y", bson.Binary(b"a"))])))


# ---- dictionaries ---------------------------------------------------------

def dict_line(token):
    return '"' + "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c) for c in token) + '"'


def write_dicts():
    """fuzz/dict/query.dict: every $operator the query, update, expression and
    aggregation code names, as BSON key bytes (name + NUL); wire.dict and
    bson.dict: framing constants."""
    names = set()
    for area in ("query", "update", "expr", "aggregate"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, "src", area)):
            for f in files:
                if f.endswith((".cc", ".h")):
                    with open(os.path.join(dirpath, f)) as fh:
                        names.update(re.findall(r'"(\$[a-zA-Z][a-zA-Z0-9]*)"', fh.read()))
    names.update(["$$ROOT", "$$CURRENT", "$$NOW", "$$REMOVE", "$[]", "$[i]", "$", "a.$", "a.b", "_id"])
    d = os.path.join(ROOT, "fuzz", "dict")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "query.dict"), "w") as f:
        f.write("# Generated by fuzz/make_corpus.py from the operator names in src/{query,update,expr,aggregate}.\n")
        for n in sorted(names):
            f.write(dict_line(n + "\x00") + "\n")
    bson_tokens = ["\x00\x00\x00\x00", "\x05\x00\x00\x00\x00", "\xff\xff\xff\x7f", "\x00\x00\x00\x80"]
    bson_tokens += [chr(t) for t in list(range(1, 20)) + [0x7f, 0xff]]
    with open(os.path.join(d, "bson.dict"), "w") as f:
        f.write("# BSON framing: lengths, terminators and the element type bytes.\n")
        for t in bson_tokens:
            f.write(dict_line(t) + "\n")
    wire_tokens = bson_tokens + [struct.pack("<i", op).decode("latin-1") for op in (1, 2004, 2012, 2013, 2005, 2001)]
    wire_tokens += ["\x00\x00\x01\x00", "\x01\x00\x00\x00", "\x02\x00\x00\x00", "documents\x00", "updates\x00",
                    "deletes\x00", "admin.$cmd\x00", "$db\x00", "\x01", "\x02", "\x03"]
    with open(os.path.join(d, "wire.dict"), "w") as f:
        f.write("# Wire framing: opcodes, OP_MSG flags and section kinds, compressor ids, sequence names.\n")
        for t in wire_tokens:
            f.write(dict_line(t) + "\n")


def main():
    write_dicts()
    seeds = Seeds()
    wire_seeds(seeds)
    key_seeds(seeds)
    # Deep nesting: at MongoDB's limits and one past.
    for depth in (99, 100, 101, 199, 200, 201):
        d = SON([("x", 1)])
        for _ in range(depth - 1):
            d = SON([("a", d)])
        seeds.add("bson_fuzz", enc(d))
    for name, entries in read_cases():
        docs = []
        for key, value in entries:
            if key == "docs" and isinstance(value, list):
                docs = [d for d in value if isinstance(d, dict)]
                for d in docs[:4]:
                    seeds.add("bson_fuzz", enc(d))
                # Values of the documents, for the key encoding.
                seeds.add("key_encoding_fuzz", b"".join(enc(d) for d in docs[:3]))
        last_find = None
        for key, value in entries:
            if key == "docs" and isinstance(value, list):
                docs = [d for d in value if isinstance(d, dict)]
            context = b"".join(enc(d) for d in docs[:3])
            if key == "find" and isinstance(value, dict):
                last_find = value
                seeds.add("filter_fuzz", enc(value) + context)
                seeds.add("bson_fuzz", enc(value))
            elif key == "expr" and isinstance(value, dict):
                seeds.add("filter_fuzz", enc(SON([("$expr", value)])) + context)
                seeds.add("projection_fuzz", enc(SON([("v", value)])) + enc(SON()) + context)
            elif key == "projection" and isinstance(value, dict):
                seeds.add("projection_fuzz", enc(value) + enc(last_find or SON()) + context)
            elif key == "update" and isinstance(value, dict) and "u" in value:
                u = value["u"]
                spec = as_array_doc(u) if isinstance(u, list) else u
                af = [d for d in value.get("arrayFilters", []) if isinstance(d, dict)]
                target = docs[0] if docs else SON()
                seeds.add("update_fuzz", enc(spec) + enc(target) + b"".join(enc(d) for d in af))
            elif key == "findAndModify" and isinstance(value, dict) and isinstance(value.get("update"), dict):
                seeds.add("update_fuzz", enc(value["update"]) + (enc(docs[0]) if docs else b""))
            elif key == "aggregate" and isinstance(value, list):
                stages = [s for s in value if isinstance(s, dict)]
                if stages:
                    seeds.add("aggregate_fuzz", b"".join(enc(s) for s in stages))
                    seeds.add("bson_fuzz", enc(SON([("aggregate", "c"), ("pipeline", stages)])))
    seeds.write()


if __name__ == "__main__":
    sys.exit(main())
