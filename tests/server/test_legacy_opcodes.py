"""Legacy opcodes are answered as MongoDB 6.0 answers them: OP_QUERY carries
only the handshake; a query on a collection and OP_GET_MORE get an OP_REPLY
with the QueryFailure flag (5739101), so drivers raise instead of reading the
error as a result; fire-and-forget ones (OP_KILL_CURSORS, OP_INSERT...) get no
reply and the connection stays open."""
import struct

import bson
from bson import SON

import raw_wire

QUERY_FAILURE = 2


def still_answers(sock):
    reply = raw_wire.command(sock, SON([("ping", 1), ("$db", "admin")]))
    assert reply["ok"] == 1.0


def test_handshake_over_op_query_works(server):
    sock = raw_wire.connect(server)
    sock.sendall(raw_wire.op_query("admin.$cmd", {"isMaster": 1}))
    flags, reply = raw_wire.read_op_reply(sock)
    assert not flags & QUERY_FAILURE
    assert reply["ismaster"] is True and reply["ok"] == 1.0
    still_answers(sock)


def test_other_commands_over_op_query_are_refused(server):
    sock = raw_wire.connect(server)
    sock.sendall(raw_wire.op_query("db.$cmd", SON([("insert", "c"), ("documents", [{"_id": 1}])])))
    flags, reply = raw_wire.read_op_reply(sock)
    assert not flags & QUERY_FAILURE  # a command's error is a command reply
    assert reply["ok"] == 0 and reply["code"] == 352
    assert "Unsupported OP_QUERY command: insert" in reply["errmsg"]
    count = raw_wire.command(sock, SON([("count", "c"), ("$db", "db")]))
    assert count["n"] == 0  # nothing was inserted


def test_a_query_on_a_collection_fails_with_the_query_failure_flag(server):
    sock = raw_wire.connect(server)
    sock.sendall(raw_wire.op_query("db.c", {}))
    flags, reply = raw_wire.read_op_reply(sock)
    assert flags & QUERY_FAILURE
    assert reply["code"] == 5739101 and "OP_QUERY is no longer supported" in reply["$err"]
    still_answers(sock)


def test_op_get_more_fails_with_the_query_failure_flag(server):
    sock = raw_wire.connect(server)
    payload = struct.pack("<i", 0) + b"db.c\0" + struct.pack("<iq", 10, 12345)
    sock.sendall(raw_wire.frame(raw_wire.OP_GET_MORE, payload))
    flags, reply = raw_wire.read_op_reply(sock)
    assert flags & QUERY_FAILURE
    assert reply["code"] == 5739101 and "OP_GET_MORE is no longer supported" in reply["$err"]
    still_answers(sock)


def test_fire_and_forget_opcodes_get_no_reply_and_keep_the_connection(server):
    sock = raw_wire.connect(server)
    kill = struct.pack("<ii", 0, 1) + struct.pack("<q", 12345)
    sock.sendall(raw_wire.frame(raw_wire.OP_KILL_CURSORS, kill))
    insert = struct.pack("<i", 0) + b"db.legacy\0" + bson.encode({"_id": 1})
    sock.sendall(raw_wire.frame(raw_wire.OP_INSERT, insert))
    # The next reply on the connection is the ping's: nothing came back for the two.
    still_answers(sock)
    count = raw_wire.command(sock, SON([("count", "legacy"), ("$db", "db")]))
    assert count["n"] == 0
