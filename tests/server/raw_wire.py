"""The wire protocol by hand, for tests that must control exactly what a
connection sends: OP_MSG framing, reading a reply, one command per call."""
import socket
import struct

import bson

OP_MSG = 2013


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def op_msg(body_bytes, flags=0, request_id=1, checksum=False, section_kind=0):
    payload = struct.pack("<I", flags | (1 if checksum else 0)) + bytes([section_kind]) + body_bytes
    header_and_payload = struct.pack("<iiii", 16 + len(payload) + (4 if checksum else 0), request_id, 0, OP_MSG) + payload
    if checksum:
        header_and_payload += struct.pack("<I", crc32c(header_and_payload))
    return header_and_payload


def read_reply(sock):
    """Returns the reply's body document, or None if the server closed."""
    header = b""
    while len(header) < 16:
        chunk = sock.recv(16 - len(header))
        if not chunk:
            return None
        header += chunk
    length = struct.unpack("<i", header[:4])[0]
    rest = b""
    while len(rest) < length - 16:
        chunk = sock.recv(length - 16 - len(rest))
        if not chunk:
            return None
        rest += chunk
    flags = struct.unpack("<I", rest[:4])[0]
    body = rest[5:len(rest) - (4 if flags & 1 else 0)]
    return bson.decode(body)


def connect(server, timeout=10):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def command(sock, body):
    """Sends `body` (a dict or SON, with $db) as an OP_MSG and returns the reply."""
    sock.sendall(op_msg(bson.encode(body)))
    return read_reply(sock)


OP_REPLY = 1
OP_QUERY = 2004
OP_GET_MORE = 2005
OP_KILL_CURSORS = 2007
OP_INSERT = 2002


def frame(op_code, payload, request_id=1):
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, op_code) + payload


def op_query(namespace, query, number_to_return=-1, request_id=1):
    payload = (struct.pack("<i", 0) + namespace.encode() + b"\0" + struct.pack("<ii", 0, number_to_return) +
               bson.encode(query))
    return frame(OP_QUERY, payload, request_id)


def read_message(sock):
    """Returns (op_code, bytes after the header), or None if the server closed."""
    header = b""
    while len(header) < 16:
        chunk = sock.recv(16 - len(header))
        if not chunk:
            return None
        header += chunk
    length, _, _, op_code = struct.unpack("<iiii", header)
    rest = b""
    while len(rest) < length - 16:
        chunk = sock.recv(length - 16 - len(rest))
        if not chunk:
            return None
        rest += chunk
    return op_code, rest


def read_op_reply(sock):
    """Returns (responseFlags, first document) of an OP_REPLY."""
    message = read_message(sock)
    assert message is not None, "the server closed the connection"
    op_code, rest = message
    assert op_code == OP_REPLY, op_code
    flags = struct.unpack("<i", rest[:4])[0]
    return flags, bson.decode(rest[20:])
