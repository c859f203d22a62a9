"""Malformed, oversized and stalled messages sent straight to the socket: the
server answers with an error or closes that connection, never crashes, and
keeps serving everyone else."""
import socket
import struct
import time

import bson
import pytest

from conftest import DocketServer
from raw_wire import OP_MSG, connect, crc32c, op_msg, read_reply  # noqa: F401

@pytest.fixture(scope="module")
def impatient_server():
    s = DocketServer("--message-timeout", "1", "--idle-timeout", "3")
    yield s
    assert s.stop() == 0


def assert_still_serving(server):
    with server.client() as c:
        assert c.admin.command("ping")["ok"] == 1.0


def test_valid_message_with_checksum_gets_a_checksummed_reply(impatient_server):
    sock = connect(impatient_server)
    sock.sendall(op_msg(bson.encode({"ping": 1, "$db": "admin"}), checksum=True))
    assert read_reply(sock)["ok"] == 1.0
    sock.close()


# Each with MongoDB's code (op_msg.cpp); the framing of compressed messages
# has no MongoDB code of its own here (ProtocolError / InvalidBSON).
@pytest.mark.parametrize("name,message,codes", [
    ("wrong checksum", op_msg(bson.encode({"ping": 1, "$db": "admin"}), checksum=True)[:-4] + b"\0\0\0\0", (288,)),
    ("bad section kind", op_msg(bson.encode({"ping": 1, "$db": "admin"}), section_kind=7), (40432,)),
    ("invalid BSON", op_msg(b"\x0c\x00\x00\x00\x10a\x00\x01\x00\x00\x00\x01"), (22,)),
    ("document length past the end", op_msg(b"\xff\x00\x00\x00\x00"), (22,)),
    ("unknown required flag", op_msg(bson.encode({"ping": 1, "$db": "admin"}), flags=1 << 5), (223,)),
    ("no body section", struct.pack("<iiii", 20, 1, 0, OP_MSG) + struct.pack("<I", 0), (40587,)),
    ("compressed: unknown compressor", struct.pack("<iiiiiiB", 34, 1, 0, 2012, OP_MSG, 5, 9) + b"abcde", (17, 22)),
    ("compressed: size over the limit", struct.pack("<iiiiiiB", 34, 1, 0, 2012, OP_MSG, 2**31 - 1, 2) + b"abcde",
     (17, 22)),
    ("compressed: garbage zlib", struct.pack("<iiiiiiB", 34, 1, 0, 2012, OP_MSG, 100, 2) + b"abcde", (17, 22)),
    ("compressed: garbage zstd", struct.pack("<iiiiiiB", 34, 1, 0, 2012, OP_MSG, 100, 3) + b"abcde", (17, 22)),
    ("compressed: garbage snappy", struct.pack("<iiiiiiB", 34, 1, 0, 2012, OP_MSG, 100, 1) + b"\xff\xff\xff\xff\x0f",
     (17, 22)),
    ("compressed inside compressed", struct.pack("<iiiiiiB", 34, 1, 0, 2012, 2012, 5, 0) + b"abcde", (17, 22)),
])
def test_malformed_op_msg_gets_an_error_or_a_close(impatient_server, name, message, codes):
    sock = connect(impatient_server)
    sock.sendall(message)
    reply = read_reply(sock)
    if reply is not None:
        assert reply["ok"] == 0.0 and reply["code"] in codes, (name, reply)
    sock.close()
    assert_still_serving(impatient_server)


def test_a_malformed_document_keeps_the_connection(impatient_server):
    # Not connection-fatal in MongoDB: the error is answered and the next
    # message on the same connection is served.
    sock = connect(impatient_server)
    sock.sendall(op_msg(b"\x0c\x00\x00\x00\x10a\x00\x01\x00\x00\x00\x01"))
    assert read_reply(sock)["code"] == 22
    sock.sendall(op_msg(bson.encode({"ping": 1, "$db": "admin"})))
    assert read_reply(sock)["ok"] == 1.0
    sock.close()


@pytest.mark.parametrize("name,message", [
    ("oversized length", struct.pack("<iiii", 48_000_001, 1, 0, OP_MSG)),
    ("negative length", struct.pack("<iiii", -5, 1, 0, OP_MSG)),
    ("length below the header", struct.pack("<iiii", 8, 1, 0, OP_MSG)),
    ("unknown opcode", struct.pack("<iiii", 20, 1, 0, 4242) + b"\0\0\0\0"),
    ("truncated header then close", b"\x10\x00\x00"),
])
def test_bad_framing_closes_the_connection(impatient_server, name, message):
    sock = connect(impatient_server)
    sock.sendall(message)
    if name != "truncated header then close":
        assert read_reply(sock) is None, name
    sock.close()
    assert_still_serving(impatient_server)


def test_command_that_is_not_a_known_command(impatient_server):
    sock = connect(impatient_server)
    sock.sendall(op_msg(bson.encode({"$db": "admin"})))
    reply = read_reply(sock)
    assert reply["ok"] == 0.0
    sock.sendall(op_msg(bson.encode({"insert": 5, "$db": "x"})))
    reply = read_reply(sock)
    assert reply["ok"] == 0.0 and reply["code"] == 73
    sock.close()


def test_stalled_message_is_cut_off_and_others_are_served(impatient_server):
    stalled = connect(impatient_server)
    stalled.sendall(struct.pack("<iiii", 1000, 1, 0, OP_MSG) + b"\0" * 10)  # promises 1000 bytes, sends 26
    assert_still_serving(impatient_server)  # while it stalls
    started = time.monotonic()
    assert read_reply(stalled) is None  # closed by the server after --message-timeout 1
    assert time.monotonic() - started < 10
    stalled.close()


def test_many_bad_clients_then_a_good_one(impatient_server):
    for i in range(50):
        sock = connect(impatient_server)
        sock.sendall(op_msg(bson.encode({"ping": 1, "$db": "admin"}))[: i % 30])
        sock.close()
    assert_still_serving(impatient_server)


def test_idle_connection_is_closed(impatient_server):
    idle = connect(impatient_server)
    idle.sendall(op_msg(bson.encode({"ping": 1, "$db": "admin"})))
    assert read_reply(idle)["ok"] == 1.0
    started = time.monotonic()
    assert read_reply(idle) is None  # closed after --idle-timeout 3
    assert 2 < time.monotonic() - started < 15
    idle.close()
    assert_still_serving(impatient_server)


def rss_kib(server):
    with open("/proc/%d/status" % server.process.pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_memory_grows_with_bytes_received_not_with_announced_lengths(impatient_server):
    assert_still_serving(impatient_server)
    before = rss_kib(impatient_server)
    socks = []
    for i in range(20):
        sock = connect(impatient_server)
        # Announces a 47 MB message, sends 100 KB of it, and stalls.
        sock.sendall(struct.pack("<iiii", 47_000_000, i + 1, 0, OP_MSG) + b"\0" * 100_000)
        socks.append(sock)
    time.sleep(0.5)
    grown_mib = (rss_kib(impatient_server) - before) / 1024
    # 20 announced messages would be ~900 MiB if allocated on the header's word.
    assert grown_mib < 100, "the server grew by %.0f MiB for 2 MB received" % grown_mib
    assert_still_serving(impatient_server)
    for sock in socks:
        sock.close()


def test_a_tls_client_hello_is_closed_at_once(impatient_server):
    sock = connect(impatient_server)
    # The first bytes of a TLS 1.2 ClientHello record.
    sock.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + b"\x00" * 32)
    start = time.monotonic()
    assert read_reply(sock) is None  # closed, not answered
    assert time.monotonic() - start < 5
    sock.close()
    assert_still_serving(impatient_server)


def test_a_message_whose_length_looks_like_tls_is_served(impatient_server):
    # A message of 0x00010316 bytes starts with 16 03 01 00, the first bytes
    # of a TLS record: it is still an OP_MSG, and is answered.
    target = 0x00010316
    base = op_msg(bson.encode({"insert": "tlsish", "documents": [{"_id": 1, "s": ""}], "$db": "db"}))
    body = bson.encode({"insert": "tlsish", "documents": [{"_id": 1, "s": "x" * (target - len(base))}], "$db": "db"})
    message = op_msg(body)
    assert len(message) == target and message[:4] == bytes([0x16, 0x03, 0x01, 0x00])
    sock = connect(impatient_server)
    sock.sendall(message)
    reply = read_reply(sock)
    assert reply is not None and reply["ok"] == 1.0 and reply["n"] == 1, reply
    sock.close()
