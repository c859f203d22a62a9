"""Helpers for test_bson_corpus.py: the BSON corpus cases, documents and
OP_MSG messages built byte by byte (nothing goes through a Python-side
decode/encode that could normalise the bytes under test), a reader that pulls
documents out of a reply without decoding them, and a model of what MongoDB
6.0 does with the bytes it receives (its BSON validator and OP_MSG section
parser, transcribed from mongodb/mongo src/mongo/bson/bson_validate.cpp and
src/mongo/rpc/op_msg.cpp), used to say which answer a real server gives."""
import json
import os
import re
import struct

import bson

from raw_wire import OP_MSG, read_message

PROJECT_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS_DIR = os.path.normpath(os.path.join(PROJECT_ROOT, "..", "shared", "conformance", "specs",
                                           "bson-corpus", "tests"))

INVALID_BSON = 22
# OP_MSG parse errors MongoDB answers with (src/mongo/rpc/op_msg.cpp); none of them is in the
# ConnectionFatalMessageParseError class, so MongoDB replies {ok: 0, code} and keeps the connection.
MULTIPLE_BODY_SECTIONS = 40430
UNKNOWN_SECTION_KIND = 40432


# ---------------------------------------------------------------------------- the corpus


class Case:
    def __init__(self, file_stem, kind, index, description, data):
        self.file = file_stem
        self.kind = kind  # "valid", "decodeErrors", "parseErrors"
        self.index = index
        self.description = description
        self.data = data
        self.id = "%s:%s:%s" % (file_stem, kind, description)

    def __repr__(self):
        return self.id


def corpus_available():
    return os.path.isdir(CORPUS_DIR)


def load_cases():
    """Every case of every corpus file, in file order; ids are unique ("#2" marks a repeat)."""
    if not corpus_available():
        return []
    cases, seen = [], set()
    for name in sorted(os.listdir(CORPUS_DIR)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(CORPUS_DIR, name)) as f:
            spec = json.load(f)
        stem = name[:-len(".json")]
        for kind in ("valid", "decodeErrors", "parseErrors"):
            for index, data in enumerate(spec.get(kind, [])):
                description = re.sub(r"\s+", " ", data.get("description", "case %d" % index)).strip()
                case = Case(stem, kind, index, description, data)
                n = 2
                while case.id in seen:
                    case.id = "%s:%s:%s #%d" % (stem, kind, description, n)
                    n += 1
                seen.add(case.id)
                cases.append(case)
    return cases


# ---------------------------------------------------------------------------- bytes


def cstring(text):
    return text.encode() + b"\0"


def document(elements):
    """A BSON document around already-encoded elements."""
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\0"


def element(type_byte, name, value):
    return bytes([type_byte]) + cstring(name) + value


def elements_of(doc):
    """[(type, name, element bytes, value bytes)] of a trusted, well-formed document."""
    out, pos, end = [], 4, struct.unpack_from("<i", doc)[0] - 1
    while pos < end:
        start, type_byte = pos, doc[pos]
        name_end = doc.index(b"\0", pos + 1)
        name = doc[pos + 1:name_end].decode("utf-8", "surrogateescape")
        pos = name_end + 1
        size = value_size(doc, pos, type_byte)
        out.append((type_byte, name, doc[start:pos + size], doc[pos:pos + size]))
        pos += size
    assert pos == end and doc[end] == 0, "not a well-formed document"
    return out


def value_size(buf, pos, type_byte):
    fixed = {0x01: 8, 0x06: 0, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8,
             0x13: 16, 0x7F: 0, 0xFF: 0}
    if type_byte in fixed:
        return fixed[type_byte]
    if type_byte in (0x02, 0x0D, 0x0E):
        return 4 + struct.unpack_from("<i", buf, pos)[0]
    if type_byte in (0x03, 0x04, 0x0F):
        return struct.unpack_from("<i", buf, pos)[0]
    if type_byte == 0x05:
        return 5 + struct.unpack_from("<i", buf, pos)[0]
    if type_byte == 0x0B:
        pattern_end = buf.index(b"\0", pos)
        return buf.index(b"\0", pattern_end + 1) + 1 - pos
    if type_byte == 0x0C:
        return 4 + struct.unpack_from("<i", buf, pos)[0] + 12
    raise ValueError("unknown BSON type 0x%02x" % type_byte)


def with_id_first(doc, oid_bytes):
    """`doc` with an ObjectId `_id` element spliced in front of its first element, every other
    byte copied as is; unchanged if it already has a top-level `_id`."""
    if any(name == "_id" for _, name, _, _ in elements_of(doc)):
        return doc
    id_element = element(0x07, "_id", oid_bytes)
    return struct.pack("<i", len(doc) + len(id_element)) + id_element + doc[4:]


def id_element_of(doc):
    for _, name, raw_element, _ in elements_of(doc):
        if name == "_id":
            return raw_element
    raise KeyError("_id")


def nest(invalid_bytes, oid_bytes, name="x"):
    """A document {_id: oid, <name>: <invalid_bytes as an embedded document>}: the outer lengths
    are right for the bytes actually present, so only the embedded document is malformed."""
    return document(element(0x07, "_id", oid_bytes) + bytes([0x03]) + cstring(name) + invalid_bytes)


def in_array(items):
    """An array whose elements are the given raw documents (bytes copied as is)."""
    return document(b"".join(bytes([0x03]) + cstring(str(i)) + item for i, item in enumerate(items)))


def op_msg_sections(sections, request_id=1, flags=0):
    payload = struct.pack("<I", flags) + sections
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, OP_MSG) + payload


def body_section(body):
    return b"\x00" + body


def sequence_section(identifier, docs):
    content = cstring(identifier) + b"".join(docs)
    return b"\x01" + struct.pack("<i", 4 + len(content)) + content


def insert_with_sequence(db, coll, docs):
    """insert, the documents as an OP_MSG kind-1 document sequence of the raw bytes."""
    body = bson.encode({"insert": coll, "ordered": True, "$db": db})
    return sequence_section("documents", docs) + body_section(body)


def insert_with_array(db, coll, docs):
    """insert, the raw documents spliced into the body's `documents` array."""
    elements = (element(0x02, "insert", struct.pack("<i", len(coll) + 1) + cstring(coll)) +
                element(0x04, "documents", in_array(docs)) +
                element(0x08, "ordered", b"\x01") +
                element(0x02, "$db", struct.pack("<i", len(db) + 1) + cstring(db)))
    return body_section(document(elements))


def find_by_id(db, coll, id_element):
    """find {_id: <the raw _id element>}; the filter is built from the stored element's bytes."""
    filter_doc = document(id_element)
    elements = (element(0x02, "find", struct.pack("<i", len(coll) + 1) + cstring(coll)) +
                element(0x03, "filter", filter_doc) +
                element(0x02, "$db", struct.pack("<i", len(db) + 1) + cstring(db)))
    return body_section(document(elements))


# ---------------------------------------------------------------------------- replies


class Reply:
    """An OP_MSG reply: `raw` is the body's bytes; `doc` is it decoded when that is lossless
    enough for reading ok/code/n (None if pymongo cannot decode it)."""

    def __init__(self, raw):
        self.raw = raw
        try:
            self.doc = bson.decode(raw)
        except Exception:  # noqa: BLE001 - a find reply may hold what pymongo refuses to decode
            self.doc = None

    def field(self, name):
        for type_byte, key, _, value in elements_of(self.raw):
            if key == name:
                return type_byte, value
        return None

    def __repr__(self):
        return repr(self.doc) if self.doc is not None else "<reply %s>" % self.raw.hex()


def read_op_msg_reply(sock):
    """The reply's body as a Reply, or None if the server closed the connection."""
    message = read_message(sock)
    if message is None:
        return None
    op_code, rest = message
    assert op_code == OP_MSG, "reply opcode %d" % op_code
    flags = struct.unpack_from("<I", rest)[0]
    end = len(rest) - (4 if flags & 1 else 0)
    assert rest[4] == 0, "reply does not start with a body section"
    size = struct.unpack_from("<i", rest, 5)[0]
    assert 5 + size == end, "reply has more than one section"
    return Reply(rest[5:5 + size])


def send(sock, sections, request_id=1):
    sock.sendall(op_msg_sections(sections, request_id))
    return read_op_msg_reply(sock)


def first_batch_raw(reply):
    """The raw bytes of each document of a find reply's cursor.firstBatch, not decoded."""
    cursor = reply.field("cursor")
    assert cursor is not None and cursor[0] == 0x03, reply
    for type_byte, key, _, value in elements_of(cursor[1]):
        if key == "firstBatch":
            assert type_byte == 0x04, reply
            items = elements_of(value)
            assert all(t == 0x03 for t, _, _, _ in items), reply
            return [item for _, _, _, item in items]
    raise AssertionError("no firstBatch in %r" % (reply,))


# ---------------------------------------------------------------------------- MongoDB's model


class _Invalid(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


_SKIP = {0x01: 8, 0x06: 0, 0x07: 12, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}
_STRING = (0x02, 0x0D, 0x0E)
_JS_TYPE_MAX = 0x13


def mongodb_validate(buf, max_length=None):
    """None if MongoDB's validateBSON (the default mode every OP_MSG section goes through,
    src/mongo/bson/bson_validate.cpp, ValidateBuffer<precise=true>) accepts the document at
    the start of `buf`, else (code, reason). It checks structure only: lengths, terminators,
    known type bytes, bool 0/1; not UTF-8, not the contents of a binary or a regex's flags.
    (MongoDB 6.0.x releases after 6.0.0 also reject a BinData subtype 7 whose content is not
    a valid BSONColumn, with NonConformantBSON; 6.0.0, which Docket reports, does not.)"""
    max_length = len(buf) if max_length is None else max_length
    try:
        _validate(buf, max_length)
    except _Invalid as e:
        return e.code, str(e)
    return None


def _validate(data, max_length):
    def fail(reason):
        raise _Invalid(INVALID_BSON, reason)

    if max_length < 5:
        fail("BSON data has to be at least 5 bytes")
    length = struct.unpack_from("<i", data)[0]
    if length < 5:
        fail("BSON data has to be at least 5 bytes")
    if length > max_length:
        fail("Incorrect BSON length")
    end = length
    if data[end - 1] != 0:
        fail("BSON object not terminated with EOO")

    # A frame is [end, kind]: kind "cws" for the dummy frame around a CodeWScope, "scope" for its
    # scope document, "doc" otherwise.
    frames = [[end, "doc"]]
    ptr = 4

    def skip(p, n):
        p += n
        if not p < end:
            fail("BSON size is larger than buffer size")
        return p

    def read_u32(p):
        return skip(p, 4), struct.unpack_from("<I", data, p)[0]

    def skip_string(p):
        p, n = read_u32(p)
        p = skip(p, n)
        if data[p - 1] != 0 or n == 0:
            fail("Not null terminated string")
        return p

    def push_frame(p, kind):
        if len(frames) > 200:
            raise _Invalid(15, "BSONObj exceeds maximum nested object depth")
        obj = p
        p = skip(p, 4)
        n = struct.unpack_from("<i", data, obj)[0]
        if n < 5:
            fail("Nested BSON object has to be at least 5 bytes")
        frames.append([obj + n, kind])
        return p

    def strlen(p):
        return data.index(b"\0", p) - p

    while True:
        if not ptr < end:
            fail("BSON size is larger than buffer size")
        while True:
            n = strlen(ptr)
            if n == 0:
                break
            type_byte = data[ptr]
            ptr += n + 1
            if type_byte > _JS_TYPE_MAX:
                if type_byte in (0x7F, 0xFF):
                    ptr = skip(ptr, 0)
                else:
                    fail("Unrecognized BSON type %d" % type_byte)
            elif type_byte in _SKIP:
                ptr = skip(ptr, _SKIP[type_byte])
            elif type_byte in _STRING:
                ptr = skip_string(ptr)
            elif type_byte in (0x03, 0x04):
                ptr = push_frame(ptr, "doc")
            elif type_byte == 0x0F:
                ptr = push_frame(ptr, "cws")
                ptr = skip_string(ptr)
                ptr = push_frame(ptr, "scope")
            elif type_byte == 0x05:
                ptr, count = read_u32(ptr)
                ptr = skip(ptr, 1)
                ptr = skip(ptr, count)
            elif type_byte == 0x08:
                value = data[ptr]
                ptr = skip(ptr, 1)
                if value not in (0, 1):
                    fail("BSON bool is neither false nor true")
            elif type_byte == 0x0B:
                ptr = skip(ptr, 0)
                ptr = skip(ptr, strlen(ptr) + 1)
                ptr = skip(ptr, strlen(ptr) + 1)
            elif type_byte == 0x0C:
                ptr = skip_string(ptr)
                ptr = skip(ptr, 12)
            else:
                fail("Unrecognized BSON type %d" % type_byte)
        ptr += 1
        if ptr != frames[-1][0]:
            fail("incorrect BSON length")
        if frames[-1][1] == "scope":
            frames.pop()
            if ptr != frames[-1][0]:
                fail("incorrect BSON length")
        if len(frames) == 1:
            return length
        frames.pop()


def mongodb_op_msg_error(sections):
    """The code MongoDB 6.0's OpMsg::parse answers for these OP_MSG sections (the bytes after
    the flags), or None if it parses them. Transcribed from src/mongo/rpc/op_msg.cpp: each
    body / sequence document is read as Validated<BSONObj> (validateBSON over the bytes left,
    then advance by its stated size)."""
    pos, have_body = 0, False
    try:
        while pos < len(sections):
            kind = sections[pos]
            pos += 1
            if kind == 0:
                if have_body:
                    return MULTIPLE_BODY_SECTIONS
                have_body = True
                pos += _validated(sections[pos:])
            elif kind == 1:
                if pos + 4 > len(sections):
                    return INVALID_BSON
                size = struct.unpack_from("<i", sections, pos)[0]
                if size < 4 or pos + size > len(sections):
                    return INVALID_BSON  # BufReader overflow; not reached by the tests' messages
                sequence = sections[pos + 4:pos + size]
                pos += size
                name_end = sequence.index(b"\0")
                at = name_end + 1
                while at < len(sequence):
                    at += _validated(sequence[at:])
            else:
                return UNKNOWN_SECTION_KIND
    except _Invalid as e:
        return e.code
    return None if have_body else 40587


def _validated(buf):
    problem = mongodb_validate(buf)
    if problem is not None:
        raise _Invalid(*problem)
    return struct.unpack_from("<i", buf)[0]
