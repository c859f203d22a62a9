#!/usr/bin/python3
"""Fuzzes a running `docket serve` over the wire with mutated messages.

Starts `docket serve --memory --port 0 --quiet --enable-test-commands
--message-timeout 2 --idle-timeout 3` from a copy of the binary, stores control documents in
control.docs (which no message ever names) and a few documents in fuzz.c,
then sends mutated messages, each on its own short-lived connection, many
connections at once. The messages start as real OP_MSG, OP_QUERY and
OP_COMPRESSED (snappy, zlib, zstd, noop) messages of real commands: hello,
ping, insert (body and document sequence), find and count with nested
filters, update (operators and pipelines), delete, findAndModify, aggregate
with nested pipelines, getMore. Mutations: bit flips, interesting bytes,
int32 fields (the header's length and any other 4 bytes) set to edge values,
truncation (with and without the length fixed), splicing two messages,
duplicating or deleting a slice, random bytes inserted, mutation inside the
compressed payload, and two messages pipelined in one send.

Each mutated message must get, within a few seconds, a reply or a closed
connection. The exceptions are classified, not failed: a message that
announces more bytes than were sent waits for the server's message timeout
(2 s) and must then be closed; fewer bytes than a header wait for the idle
timeout (3 s here) and must then be closed; a fire-and-forget message (the legacy
OP_INSERT/OP_UPDATE/OP_DELETE/OP_KILL_CURSORS, OP_MSG with moreToCome) gets
no reply, and the connection must then still answer a ping. After every
batch: the server process is alive, a fresh client pings and reads the
control documents byte for byte unchanged, and the server's RSS is under
--max-rss-mb. Every reply must be decodable BSON and answer the request id
it was sent for.

Exit status 1 on any failure (hang, undecodable reply, wrong responseTo,
server death, changed control data, RSS over the bound); the failing
messages are saved under --save-dir. Prints the count of each class.

    /usr/bin/python3 tests/fuzz/wire_fuzz_server.py --messages 3000 --seed 1
"""
import argparse
import collections
import concurrent.futures
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import bson
import pymongo
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from bson.son import SON

OP_REPLY, OP_UPDATE, OP_INSERT, OP_QUERY, OP_GET_MORE, OP_DELETE, OP_KILL_CURSORS = 1, 2001, 2002, 2004, 2005, 2006, 2007
OP_COMPRESSED, OP_MSG = 2012, 2013
FIRE_AND_FORGET = {OP_UPDATE, OP_INSERT, OP_DELETE, OP_KILL_CURSORS}
SON_OPTS = CodecOptions(document_class=SON)

# ---- building messages ------------------------------------------------------


def enc(doc):
    return bson.encode(doc, codec_options=SON_OPTS)


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
    out = header(16 + len(msg) + (4 if checksum else 0), request_id, OP_MSG) + msg
    if checksum:
        out += struct.pack("<I", crc32c(out))
    return out


def op_query(collection, query, request_id=1):
    body = struct.pack("<i", 0) + collection.encode() + b"\x00" + struct.pack("<ii", 0, -1) + enc(query)
    return header(16 + len(body), request_id, OP_QUERY) + body


def compress(message, compressor_id):
    import snappy
    import zstandard
    body = message[16:]
    data = {0: lambda b: b, 1: snappy.compress, 2: zlib.compress,
            3: lambda b: zstandard.ZstdCompressor().compress(b)}[compressor_id](body)
    rest = struct.pack("<iiB", struct.unpack("<i", message[12:16])[0], len(body), compressor_id) + data
    return header(16 + len(rest), struct.unpack("<i", message[4:8])[0], OP_COMPRESSED) + rest


def base_messages():
    """Real commands on fuzz.c (never on the control database)."""
    lsid = SON([("id", bson.Binary(os.urandom(16), 4))])
    docs = [SON([("_id", 100), ("a", 5), ("b", SON([("c", [1, 2, SON([("d", 3)])])]))]),
            SON([("_id", 101), ("a", [1, 7]), ("s", "hello"), ("n", bson.Decimal128("1.5"))])]
    deep = SON([("x", 1)])
    for _ in range(30):
        deep = SON([("$and", [deep, SON([("a", SON([("$ne", 0)]))])])])
    cmds = [
        SON([("hello", 1), ("helloOk", True), ("compression", ["snappy", "zlib", "zstd"]), ("$db", "admin")]),
        SON([("ping", 1), ("$db", "admin")]),
        SON([("insert", "c"), ("documents", docs), ("ordered", False), ("lsid", lsid), ("$db", "fuzz")]),
        SON([("find", "c"), ("filter", SON([("$or", [SON([("a", SON([("$gt", 4)]))]),
                                                      SON([("b.c", SON([("$elemMatch", SON([("d", 3)]))]))]),
                                                      SON([("$expr", SON([("$gt", [SON([("$size",
                                                           SON([("$ifNull", ["$t", []])]))]), 1])]))])])])),
             ("projection", SON([("a", 1), ("b.c", SON([("$slice", 2)]))])), ("sort", SON([("a", -1)])),
             ("limit", 10), ("batchSize", 2), ("$db", "fuzz")]),
        SON([("find", "c"), ("filter", deep), ("$db", "fuzz")]),
        SON([("update", "c"), ("updates", [SON([("q", SON([("_id", 1)])),
                                                ("u", SON([("$inc", SON([("a", 1)])), ("$push", SON([("t", SON([
                                                    ("$each", [1, 2]), ("$slice", -3)]))]))])),
                                                ("upsert", True)])]), ("$db", "fuzz")]),
        SON([("update", "c"), ("updates", [SON([("q", SON([("a", SON([("$in", [1, 5])]))])),
                                                ("u", [SON([("$set", SON([("n", SON([("$add", ["$a", 1])]))]))]),
                                                       SON([("$unset", "z")])]), ("multi", True)])]),
             ("$db", "fuzz")]),
        SON([("update", "c"), ("updates", [SON([("q", SON()), ("u", SON([("$set", SON([("b.c.$[e]", 0)]))])),
                                                ("arrayFilters", [SON([("e", SON([("$gte", 2)]))])]),
                                                ("multi", True)])]), ("$db", "fuzz")]),
        SON([("aggregate", "c"), ("pipeline", [
            SON([("$match", SON([("a", SON([("$exists", True)]))]))]),
            SON([("$facet", SON([("g", [SON([("$group", SON([("_id", "$s"), ("n", SON([("$sum", 1)]))]))])]),
                                 ("u", [SON([("$unwind", SON([("path", "$t"), ("preserveNullAndEmptyArrays", True)]))]),
                                        SON([("$limit", 5)])])]))]),
            SON([("$project", SON([("g", 1), ("k", SON([("$concat", ["x", SON([("$toString", "$u")])])]))]))])]),
             ("cursor", SON([("batchSize", 1)])), ("$db", "fuzz")]),
        SON([("aggregate", "c"), ("pipeline", [SON([("$lookup", SON([("from", "c"), ("localField", "a"),
                                                                       ("foreignField", "a"), ("as", "same")]))]),
                                               SON([("$sort", SON([("_id", 1)]))])]),
             ("cursor", SON()), ("$db", "fuzz")]),
        SON([("delete", "c"), ("deletes", [SON([("q", SON([("a", SON([("$lt", -1000)]))])), ("limit", 0)])]),
             ("$db", "fuzz")]),
        SON([("findAndModify", "c"), ("query", SON([("_id", 101)])), ("update", SON([("$set", SON([("x", 1)]))])),
             ("new", True), ("upsert", True), ("$db", "fuzz")]),
        SON([("count", "c"), ("query", SON([("a", SON([("$type", "number")]))])), ("$db", "fuzz")]),
        SON([("getMore", bson.Int64(12345)), ("collection", "c"), ("$db", "fuzz")]),
        SON([("listCollections", 1), ("filter", SON([("name", "c")])), ("$db", "fuzz")]),
    ]
    out = []
    for i, cmd in enumerate(cmds):
        out.append(op_msg(cmd, request_id=1000 + i))
    out.append(op_msg(SON([("insert", "c"), ("$db", "fuzz")]),
                      sequences=[("documents", [SON([("v", 1)]), SON([("v", 2), ("w", [1, SON()])])])]))
    out.append(op_msg(SON([("update", "c"), ("$db", "fuzz")]),
                      sequences=[("updates", [SON([("q", SON([("v", 1)])), ("u", SON([("$set", SON([("y", 2)]))]))])])]))
    out.append(op_msg(cmds[1], checksum=True))
    out.append(op_msg(cmds[3], checksum=True))
    out.append(op_msg(cmds[2], flags=2))  # moreToCome
    out.append(op_query("admin.$cmd", SON([("isMaster", 1), ("helloOk", True)])))
    out.append(op_query("fuzz.$cmd", SON([("count", "c"), ("query", SON([("a", 5)]))])))
    for cid in (0, 1, 2, 3):
        out.append(compress(op_msg(cmds[3]), cid))
        out.append(compress(op_msg(cmds[8]), cid))
        out.append(compress(op_query("admin.$cmd", SON([("ping", 1)])), cid))
    for m in out:
        assert b"control" not in m
    return out


# ---- mutations --------------------------------------------------------------

EDGE_INTS = [0, 1, 4, 5, 15, 16, 17, 20, 21, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x7FFFFFFF, -1, -2, -0x80000000,
             48_000_000, 48_000_001, 16 * 1024 * 1024, 16 * 1024 * 1024 + 16 * 1024 + 1]
EDGE_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x7F, 0x80, 0xFE, 0xFF]


def fix_length(m):
    return struct.pack("<i", len(m)) + m[4:] if len(m) >= 4 else m


def mutate(rng, bases):
    base = rng.choice(bases)
    m = bytearray(base)
    kind = rng.choice(["bitflip", "bitflip", "byte", "int32", "int32", "length", "truncate", "truncate-fixed",
                       "splice", "slice", "insert", "compressed-payload", "pipeline", "uncompressed-size"])
    if kind == "bitflip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(m))
            m[i] ^= 1 << rng.randrange(8)
    elif kind == "byte":
        for _ in range(rng.randint(1, 4)):
            m[rng.randrange(len(m))] = rng.choice(EDGE_BYTES)
    elif kind == "int32":
        # Any 4 bytes past the header: document lengths, string lengths, flags, section sizes.
        i = rng.randrange(16, max(17, len(m) - 4))
        m[i:i + 4] = struct.pack("<i", rng.choice(EDGE_INTS + [rng.randint(-10, 10) + struct.unpack("<i", bytes(m[i:i + 4].ljust(4, b"\0")))[0]]))
        m = m[:len(base)]
    elif kind == "length":
        v = rng.choice(EDGE_INTS + [len(m) + rng.randint(-8, 8)])
        m[0:4] = struct.pack("<i", v)
    elif kind == "truncate":
        m = m[:rng.randrange(1, len(m))]
    elif kind == "truncate-fixed":
        m = bytearray(fix_length(bytes(m[:rng.randrange(16, len(m))])))
    elif kind == "splice":
        other = rng.choice(bases)
        a = rng.randrange(16, len(m))
        b = rng.randrange(16, len(other))
        m = bytearray(bytes(m[:a]) + other[b:])
        if rng.random() < 0.7:
            m = bytearray(fix_length(bytes(m)))
    elif kind == "slice":
        a = rng.randrange(16, len(m))
        b = rng.randrange(a, len(m) + 1)
        m = bytearray(bytes(m[:a]) + (bytes(m[a:b]) * 2 if rng.random() < 0.5 else b"") + bytes(m[b:]))
        if rng.random() < 0.7:
            m = bytearray(fix_length(bytes(m)))
    elif kind == "insert":
        a = rng.randrange(16, len(m) + 1)
        m = bytearray(bytes(m[:a]) + os.urandom(rng.randint(1, 16)) + bytes(m[a:]))
        if rng.random() < 0.7:
            m = bytearray(fix_length(bytes(m)))
    elif kind == "compressed-payload":
        # Mutate the original, then compress it: the server must decompress and parse garbage.
        inner = bytearray(base if struct.unpack("<i", base[12:16])[0] != OP_COMPRESSED else bases[3])
        for _ in range(rng.randint(1, 6)):
            inner[rng.randrange(16, len(inner))] ^= 1 << rng.randrange(8)
        m = bytearray(compress(bytes(inner), rng.choice([0, 1, 2, 3])))
        if rng.random() < 0.3:  # and sometimes the compressed bytes themselves
            m[rng.randrange(25, len(m))] ^= 0xFF
    elif kind == "uncompressed-size":
        inner = base if struct.unpack("<i", base[12:16])[0] != OP_COMPRESSED else bases[3]
        m = bytearray(compress(inner, rng.choice([0, 1, 2, 3])))
        m[20:24] = struct.pack("<i", rng.choice(EDGE_INTS))
    elif kind == "pipeline":
        # A valid message then a mutated one, in one send; the first must be answered.
        first = rng.choice(bases)
        second = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 4)):
            second[rng.randrange(len(second))] ^= 1 << rng.randrange(8)
        # The reply may answer either (the first may be a moreToCome message).
        return kind, first + bytes(second), {struct.unpack("<i", first[4:8])[0], struct.unpack("<i", second[4:8])[0]}
    m = bytes(m)
    return kind, m, {struct.unpack("<i", m[4:8])[0]} if len(m) >= 8 else set()


# ---- talking to the server --------------------------------------------------


class Outcome:
    def __init__(self, cls, failure=None, detail=""):
        self.cls = cls
        self.failure = failure
        self.detail = detail


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionResetError("closed")
        buf += chunk
    return buf


REPLACE_UTF8 = CodecOptions(unicode_decode_error_handler="replace")


def decode_all(data):
    """Decodes BSON documents strictly; a string that is not UTF-8 (an error
    message echoing the client's bytes) is tolerated and flagged."""
    try:
        return bson.decode_all(data), False
    except bson.errors.InvalidBSON as e:
        if "utf-8" not in str(e):
            raise
        return bson.decode_all(data, REPLACE_UTF8), True


def read_reply(sock, deadline):
    """Reads one reply; returns (responseTo, opcode, decoded documents, whether a string was not UTF-8)."""
    head = recv_exact(sock, 16, deadline)
    length, _, response_to, op = struct.unpack("<iiii", head)
    if length < 16 or length > 48_000_000:
        raise ValueError(f"reply announces length {length}")
    body = recv_exact(sock, length - 16, deadline)
    if op == OP_COMPRESSED:
        # The server answers a compressed request with the same compressor.
        op, size, cid = struct.unpack("<iiB", body[:9])
        data = body[9:]
        if cid == 0:
            body = data
        elif cid == 1:
            import snappy
            body = snappy.uncompress(data)
        elif cid == 2:
            body = zlib.decompress(data)
        elif cid == 3:
            import zstandard
            body = zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
        else:
            raise ValueError(f"reply compressor id {cid}")
        if len(body) != size:
            raise ValueError(f"compressed reply announces {size} bytes, holds {len(body)}")
    if op == OP_MSG:
        flags = struct.unpack("<I", body[:4])[0]
        end = len(body) - (4 if flags & 1 else 0)
        if body[4] != 0:
            raise ValueError(f"reply section kind {body[4]}")
        docs, bad_utf8 = decode_all(body[5:end])
    elif op == OP_REPLY:
        n = struct.unpack("<i", body[16:20])[0]
        docs, bad_utf8 = decode_all(body[20:])
        if len(docs) != n:
            raise ValueError(f"OP_REPLY says {n} documents, holds {len(docs)}")
    else:
        raise ValueError(f"reply opcode {op}")
    if not docs:
        raise ValueError("reply holds no document")
    return response_to, op, docs, bad_utf8


def expected_shape(m):
    """(announced length, opcode, fire-and-forget) as the server will read the first message."""
    if len(m) < 16:
        return None, None, False
    length, _, _, op = struct.unpack("<iiii", m[:16])
    faf = op in FIRE_AND_FORGET
    if op == OP_MSG and len(m) >= 20 and struct.unpack("<I", m[16:20])[0] & 2:
        faf = True
    if op == OP_COMPRESSED and len(m) >= 25:
        orig = struct.unpack("<i", m[16:20])[0]
        faf = faf or orig in FIRE_AND_FORGET or orig == OP_MSG  # moreToCome may be inside
    return length, op, faf


PING = op_msg(SON([("ping", 1), ("$db", "admin")]), request_id=777)


def send_one(port, m, request_ids, message_timeout, idle_timeout):
    """Sends one mutated message on a new connection and classifies what happens.
    `request_ids`: the request ids a reply may answer."""
    announced, op, faf = expected_shape(m)
    start = time.monotonic()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        return Outcome("connect-failed", "cannot connect", str(e))
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(m)
        except OSError:
            return Outcome("closed")
        incomplete = len(m) < 16 or (announced is not None and 16 <= announced and announced > len(m))
        first_wait = 1.5 if (faf or incomplete) else 5.0
        try:
            response_to, rop, docs, bad_utf8 = read_reply(sock, start + first_wait)
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            return Outcome("closed")
        except (ValueError, bson.errors.InvalidBSON, IndexError, struct.error, zlib.error) as e:
            return Outcome("undecodable-reply", "undecodable reply", repr(e))
        else:
            if request_ids and response_to not in request_ids:
                return Outcome("wrong-responseTo", "reply answers another request",
                               f"sent {sorted(request_ids)}, reply responseTo {response_to}")
            ok = docs[0].get("ok", 1) if rop == OP_MSG else (0 if "$err" in docs[0] else docs[0].get("ok", 1))
            late = time.monotonic() - start > 1.5
            return Outcome(("reply-ok" if ok == 1 else "reply-error") + ("-late" if late else "") +
                           ("-with-non-utf8-string" if bad_utf8 else ""))
        # No reply within first_wait.
        if len(m) < 16:
            # Not even a header: the server waits for the rest between messages,
            # for its idle timeout (--idle-timeout), then closes.
            try:
                read_reply(sock, start + idle_timeout + 3.0)
                return Outcome("reply-to-partial-header")
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                return Outcome("partial-header-closed-after-idle-timeout")
            except socket.timeout:
                return Outcome("hang", "partial header not closed after the idle timeout")
            except (ValueError, bson.errors.InvalidBSON, IndexError, struct.error) as e:
                return Outcome("undecodable-reply", "undecodable reply", repr(e))
        if incomplete:
            # Announces more than was sent: closed after the message timeout.
            try:
                read_reply(sock, start + message_timeout + 3.0)
                return Outcome("reply-to-incomplete")
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                took = time.monotonic() - start
                return Outcome("closed-after-message-timeout", detail=f"{took:.1f}s")
            except socket.timeout:
                return Outcome("hang", "incomplete message not closed after the message timeout")
            except (ValueError, bson.errors.InvalidBSON, IndexError, struct.error) as e:
                return Outcome("undecodable-reply", "undecodable reply", repr(e))
        if faf:
            # No reply expected: the connection must still answer a ping.
            try:
                sock.sendall(PING)
                response_to, _, docs, _ = read_reply(sock, time.monotonic() + 5.0)
                if response_to != 777:
                    return Outcome("wrong-responseTo", "ping after fire-and-forget answered another request",
                                   f"responseTo {response_to}")
                return Outcome("no-reply-fire-and-forget-then-ping-ok")
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, OSError) as e:
                if isinstance(e, socket.timeout):
                    return Outcome("hang", "fire-and-forget message, then no answer to a ping")
                return Outcome("no-reply-fire-and-forget-then-closed")
            except (ValueError, bson.errors.InvalidBSON, IndexError, struct.error) as e:
                return Outcome("undecodable-reply", "undecodable reply to ping", repr(e))
        return Outcome("hang", "no reply and no close within 5 s")
    finally:
        sock.close()


# ---- the server -------------------------------------------------------------


def set_pdeathsig():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start_server(binary, message_timeout, idle_timeout, log_path):
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "serve", "--memory", "--port", "0", "--quiet", "--enable-test-commands",
                             "--message-timeout", str(message_timeout), "--idle-timeout", str(idle_timeout)],
                            stdout=subprocess.PIPE, stderr=log, preexec_fn=set_pdeathsig)
    deadline = time.monotonic() + 30
    line = b""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(rb"ready on mongodb://[^:]+:(\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in iter(proc.stdout.readline, b"")], daemon=True).start()
            return proc, int(m.group(1))
    proc.kill()
    raise SystemExit(f"docket serve did not start: {line!r} (log {log_path})")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def control_documents():
    rng = random.Random(42)
    docs = []
    for i in range(20):
        docs.append(SON([("_id", i), ("n", i * 7), ("s", f"control-{i}"), ("f", rng.random()),
                         ("arr", [i, str(i), SON([("k", i)])]), ("sub", SON([("x", SON([("y", [i] * (i % 4))]))])),
                         ("d", bson.Decimal128(f"{i}.{i}")), ("l", bson.Int64(2**40 + i))]))
    return docs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=3000)
    p.add_argument("--batch", type=int, default=100, help="messages between checks")
    p.add_argument("--concurrency", type=int, default=24, help="connections at once")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--binary", default="build/debug/docket", help="copied to /tmp/docket-fuzz and run from there")
    p.add_argument("--message-timeout", type=int, default=2)
    p.add_argument("--idle-timeout", type=int, default=3,
                   help="the server's --idle-timeout: how long a message shorter than a header waits")
    p.add_argument("--max-rss-mb", type=float, default=1024.0)
    p.add_argument("--save-dir", default="build/wire-fuzz")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    print(f"wire fuzz: {args.messages} messages, seed {seed}, binary {args.binary}", flush=True)

    copy = "/tmp/docket-fuzz"
    shutil.copy2(args.binary, copy + ".new")
    os.replace(copy + ".new", copy)
    os.makedirs(args.save_dir, exist_ok=True)
    log_path = os.path.join(args.save_dir, "server.log")
    proc, port = start_server(copy, args.message_timeout, args.idle_timeout, log_path)
    uri = f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=5000&connectTimeoutMS=5000&socketTimeoutMS=10000"
    raw = CodecOptions(document_class=RawBSONDocument)
    counts = collections.Counter()
    kinds = collections.Counter()
    failures = []
    peak_rss = 0.0
    started = time.monotonic()
    try:
        setup = pymongo.MongoClient(uri)
        control = control_documents()
        setup.control.docs.insert_many(control)
        expected = [enc(d) for d in control]
        work = [SON([("_id", i), ("a", i), ("b", SON([("c", [1, 2, SON([("d", 3)])])])), ("s", "hello"),
                     ("t", [i, i + 1])]) for i in range(1, 6)]
        setup.fuzz.c.insert_many(work)
        setup.close()
        base_rss = rss_mb(proc.pid)
        bases = base_messages()
        sent = 0
        batch_no = 0
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            while sent < args.messages:
                n = min(args.batch, args.messages - sent)
                batch = [mutate(rng, bases) for _ in range(n)]
                results = list(pool.map(lambda km: send_one(port, km[1], km[2], args.message_timeout, args.idle_timeout), batch))
                for (kind, m, _), out in zip(batch, results):
                    counts[out.cls] += 1
                    kinds[kind] += 1
                    if out.failure:
                        path = os.path.join(args.save_dir, f"failure-{seed}-{sent}-{out.cls}.bin")
                        with open(path, "wb") as f:
                            f.write(m)
                        failures.append(f"{out.cls}: {out.failure} {out.detail} (mutation {kind}; saved {path})")
                    sent += 1
                batch_no += 1
                # The checks after every batch.
                if proc.poll() is not None:
                    failures.append(f"server died (exit {proc.returncode}) in batch {batch_no}; log {log_path}")
                    break
                try:
                    client = pymongo.MongoClient(uri)
                    client.admin.command("ping")
                    got = [d.raw for d in client.control.get_collection("docs", codec_options=raw).find().sort("_id", 1)]
                    if got != expected:
                        failures.append(f"control documents changed after batch {batch_no}")
                    # Keep the working documents there for the next batch's finds and updates.
                    for d in work:
                        client.fuzz.c.replace_one({"_id": d["_id"]}, d, upsert=True)
                    client.close()
                except Exception as e:  # noqa: BLE001 - any failure of a fresh client is a finding
                    failures.append(f"fresh client failed after batch {batch_no}: {e!r}")
                rss = rss_mb(proc.pid)
                peak_rss = max(peak_rss, rss)
                if rss > args.max_rss_mb:
                    failures.append(f"server RSS {rss:.0f} MB over {args.max_rss_mb:.0f} MB after batch {batch_no}")
                if failures and len(failures) > 20:
                    break
        final_rss = rss_mb(proc.pid) if proc.poll() is None else 0.0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=10)
                if rc != 0:
                    failures.append(f"server exited {rc} on SIGTERM")
            except subprocess.TimeoutExpired:
                proc.kill()
                failures.append("server did not stop on SIGTERM within 10 s")
    took = time.monotonic() - started
    print(f"sent {sum(counts.values())} mutated messages in {took:.1f} s "
          f"({sum(counts.values()) / took:.0f}/s), seed {seed}")
    print("outcomes:")
    for cls, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {cls:45s} {n}")
    print("mutations: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"server RSS: {base_rss:.0f} MB after setup, peak {peak_rss:.0f} MB, at the end {final_rss:.0f} MB")
    if failures:
        print(f"FAILURES ({len(failures)}):")
        for f in failures[:50]:
            print("  " + f)
        print(f"wire fuzz: 0 passed, 1 failed")
        return 1
    print("wire fuzz: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
