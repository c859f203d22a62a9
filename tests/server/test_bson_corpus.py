"""MongoDB's BSON corpus (the drivers' specifications, bson-corpus/tests/*.json,
read from ../shared/conformance/specs relative to the project root) used as an
oracle over the wire. Every message is built byte by byte (no Python-side
decode/encode normalises what is sent), every document read back is compared
as bytes.

* valid cases: the canonical BSON, with an ObjectId `_id` spliced in front of
  its first element when it has none, is inserted (once as an OP_MSG kind-1
  document sequence, once spliced into the body's `documents` array) and found
  back by `_id`; the document in the reply must be byte-identical to what was
  sent. MongoDB 6.0 stores these bytes as it receives them: its validateBSON
  only checks structure, and fixDocumentForInsert (src/mongo/db/ops/insert.cpp)
  leaves a document whose first field is `_id` untouched unless it holds a
  top-level Timestamp(0, 0), which it replaces with the current time (no corpus
  case has one). Since 5.0 inserts accept `$`-prefixed and dotted field names at
  the top level and nested (manual: "Field Names with Periods and Dollar Signs":
  "Dollar ($) prefixed fields are permitted as top level and nested field names
  for inserts"); the `_id` restrictions (no array, regex or undefined `_id`) do
  not arise because every case's `_id` is an ObjectId. So MongoDB 6.0.0 (the
  version Docket reports) stores every valid case. (Later 6.0.x patch releases
  also validate a BinData subtype 7 as a compressed BSON column and would refuse
  binary.json's "subtype 0x07" with NonConformantBSON; 6.0.0 does not.)
* degenerate BSON (bad array keys, regex flags out of order: "invalid but still
  parseable", bson-corpus.md) is what a driver normalises when it decodes and
  re-encodes; a server does neither: MongoDB stores the bytes it receives, so
  the read-back must be byte-exact to the degenerate input, not the canonical.
* decodeErrors: the bytes are sent four ways: as the document of an insert's
  kind-1 document sequence (`seq`), as the whole command body (`body`), as an
  embedded document `{_id, x: <bytes>}` inside an insert's document sequence
  (`nested`: libbson's iterator skips sub-documents it cannot open, the server
  must not), and spliced into the body's `documents` array (`array`). MongoDB
  validates every section of an OP_MSG before running anything (OpMsg::parse
  reads each document as Validated<BSONObj>) and answers a failure with an
  error reply, InvalidBSON (22), keeping the connection (InvalidBSON is not a
  ConnectionFatalMessageParseError); bytes after a body whose stated length
  ends early are read as the next section, so "garbage after envelope" sent as
  the body gets "Unknown section kind" (40432). bson_corpus_support models that
  parser and gives the code expected for each message. The test accepts that
  reply, or the connection closed (before or after the reply); then the
  collection must be unchanged, seen from a second, clean connection, and the
  server must still serve.
  MongoDB's validation checks structure only, so seven decodeErrors cases pass
  it and MongoDB 6.0 stores them: invalid UTF-8 in a string, code, symbol or
  DBPointer, and BinData subtype 2 whose inner length disagrees (see
  MONGODB_STORES). For those the test accepts either MongoDB's answer (stored,
  and then read back byte-exact) or the corpus's (refused with InvalidBSON).
* parseErrors are Extended JSON / Decimal128 string parsing: driver-side.

Defects of the server found by these tests are listed in KNOWN_DEFECTS: strict
xfails, so the suite passes while they are open and fails once one is fixed
(then delete its entry).
"""
import bson
import pytest
from bson.raw_bson import RawBSONDocument

from bson_corpus_support import (CORPUS_DIR, INVALID_BSON, body_section, corpus_available,
                                 elements_of, find_by_id, first_batch_raw, id_element_of,
                                 insert_with_array, insert_with_sequence, load_cases,
                                 mongodb_op_msg_error, mongodb_validate, nest, send,
                                 with_id_first)
from raw_wire import connect

if not corpus_available():
    pytest.skip("BSON corpus not found at %s (the conformance data lives in ../shared next to the "
                "project; see ../shared/conformance/README.md)" % CORPUS_DIR, allow_module_level=True)

# ---------------------------------------------------------------------------- open server defects

KNOWN_DEFECTS = {
    # none open: add `case id: reason` here for a server defect still to fix
}

# decodeErrors cases MongoDB 6.0's validateBSON accepts (it checks lengths, terminators, type
# bytes and bool values, not UTF-8 nor what a BinData holds): MongoDB stores them.
MONGODB_STORES = {
    "binary:decodeErrors:subtype 0x02 length too long": "BinData content is not checked",
    "binary:decodeErrors:subtype 0x02 length too short": "BinData content is not checked",
    "binary:decodeErrors:subtype 0x02 length negative one": "BinData content is not checked",
    "code:decodeErrors:invalid UTF-8": "UTF-8 is not checked",
    "dbpointer:decodeErrors:String with bad UTF-8": "UTF-8 is not checked",
    "string:decodeErrors:invalid UTF-8": "UTF-8 is not checked",
    "symbol:decodeErrors:invalid UTF-8": "UTF-8 is not checked",
}

# ---------------------------------------------------------------------------- parameters

CASES = load_cases()
DB = "bson_corpus"


def params(prefix, cases):
    out = []
    for case in cases:
        test_id = "%s|%s" % (prefix, case.id)
        marks = ([pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[test_id])]
                 if test_id in KNOWN_DEFECTS else [])
        out.append(pytest.param(case, id=test_id, marks=marks))
    return out


VALID = [c for c in CASES if c.kind == "valid"]
DEGENERATE = [c for c in VALID if "degenerate_bson" in c.data]
DECODE_ERRORS = [c for c in CASES if c.kind == "decodeErrors"]
PARSE_ERRORS = [c for c in CASES if c.kind == "parseErrors"]
EMBEDDINGS = ("seq", "body", "nested", "array")


def test_known_defects_and_stores_name_real_cases():
    ids = {"canonical|" + c.id for c in VALID} | {"degenerate|" + c.id for c in DEGENERATE}
    ids |= {"%s|%s" % (e, c.id) for c in DECODE_ERRORS for e in EMBEDDINGS}
    assert set(KNOWN_DEFECTS) <= ids, set(KNOWN_DEFECTS) - ids
    assert set(MONGODB_STORES) <= {c.id for c in DECODE_ERRORS}


def test_the_model_of_mongodb_matches_the_corpus():
    """Every valid case passes the model of MongoDB's validator, every decodeErrors case
    fails it but those listed in MONGODB_STORES."""
    for case in VALID:
        for key in ("canonical_bson", "degenerate_bson"):
            if key in case.data:
                assert mongodb_validate(bytes.fromhex(case.data[key])) is None, (case.id, key)
    for case in DECODE_ERRORS:
        data = bytes.fromhex(case.data["bson"])
        stored = all(mongodb_op_msg_error(insert_with_sequence(DB, "c", [doc])) is None
                     for doc in (data, nest(data, b"\1" * 12)))
        assert stored == (case.id in MONGODB_STORES), case.id


# ---------------------------------------------------------------------------- helpers


class RawConnection:
    """One raw socket shared by the valid-case tests; reopened if the server closes it."""

    def __init__(self, server):
        self.server = server
        self.sock = connect(server)
        self.request_id = 0

    def send(self, sections):
        self.request_id += 1
        reply = send(self.sock, sections, self.request_id)
        if reply is None:
            self.sock.close()
            self.sock = connect(self.server)
        return reply

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def raw(server):
    connection = RawConnection(server)
    yield connection
    connection.close()


def stored_form(sent):
    """What MongoDB 6.0 stores for `sent` (whose first field is _id): the same bytes, except
    that a top-level Timestamp(0, 0) becomes the current time. Returns (bytes, [offsets of
    such timestamps]); no corpus case has one, but a future one would be checked right."""
    zero_timestamps, offset = [], 4
    for type_byte, _, raw_element, value in elements_of(sent):
        if type_byte == 0x11 and value == b"\0" * 8:
            zero_timestamps.append(offset + len(raw_element) - 8)
        offset += len(raw_element)
    return sent, zero_timestamps


def assert_same_as_stored(sent, got, what):
    expected, zero_timestamps = stored_form(sent)
    if zero_timestamps:
        assert len(got) == len(expected), what
        masked = bytearray(got)
        for at in zero_timestamps:
            assert got[at:at + 8] != b"\0" * 8, "%s: Timestamp(0, 0) was not replaced" % what
            masked[at:at + 8] = b"\0" * 8
        got = bytes(masked)
    assert got == expected, "%s: read back different bytes\n sent %s\n  got %s" % (
        what, expected.hex(), got.hex())


def insert_and_read_back(raw, collection, sections, doc, what):
    reply = raw.send(sections)
    assert reply is not None, "%s: the server closed the connection on insert of %s" % (what, doc.hex())
    assert reply.doc is not None and reply.doc.get("ok") == 1.0 and reply.doc.get("n") == 1 \
        and "writeErrors" not in reply.doc, "%s: insert of %s refused: %r" % (what, doc.hex(), reply)
    reply = raw.send(find_by_id(DB, collection, id_element_of(doc)))
    assert reply is not None, "%s: the server closed the connection on find" % what
    got = first_batch_raw(reply)
    assert len(got) == 1, "%s: find by _id returned %d documents: %r" % (what, len(got), reply)
    assert_same_as_stored(doc, got[0], what)


def round_trip(raw, case, hex_bytes, kind):
    """Insert the document both ways (document sequence, body array) and read each back."""
    for how, build in (("seq", insert_with_sequence), ("array", insert_with_array)):
        collection = "%s_%s_%s" % (case.file, kind, how)
        doc = with_id_first(bytes.fromhex(hex_bytes), bson.ObjectId().binary)
        insert_and_read_back(raw, collection, build(DB, collection, [doc]), doc,
                             "%s (%s, inserted as %s)" % (case.id, kind, how))


# ---------------------------------------------------------------------------- valid cases


@pytest.mark.parametrize("case", params("canonical", VALID))
def test_canonical_bson_is_stored_byte_for_byte(raw, case):
    round_trip(raw, case, case.data["canonical_bson"], "canonical")


@pytest.mark.parametrize("case", params("degenerate", DEGENERATE))
def test_degenerate_bson_is_stored_as_received(raw, case):
    # MongoDB stores the bytes it receives: read back byte-exact to the degenerate input (array
    # keys not renumbered, regex flags not sorted), not to canonical_bson.
    round_trip(raw, case, case.data["degenerate_bson"], "degenerate")


# ---------------------------------------------------------------------------- decodeErrors


def decode_error_message(case, embedding, db_name, oid):
    data = bytes.fromhex(case.data["bson"])
    if embedding == "seq":
        return insert_with_sequence(db_name, "c", [data])
    if embedding == "body":
        return body_section(data)
    if embedding == "nested":
        return insert_with_sequence(db_name, "c", [nest(data, oid)])
    return insert_with_array(db_name, "c", [data])


def decode_params():
    out = []
    for case in DECODE_ERRORS:
        for embedding in EMBEDDINGS:
            test_id = "%s|%s" % (embedding, case.id)
            marks = ([pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[test_id])]
                     if test_id in KNOWN_DEFECTS else [])
            out.append(pytest.param(case, embedding, id=test_id, marks=marks))
    return out


def bson_body(command):
    return body_section(bson.encode(command))


def raw_documents(db, collection):
    """Every document of the collection as raw bytes, read over a clean pymongo connection."""
    options = bson.CodecOptions(document_class=RawBSONDocument)
    return [d.raw for d in db.get_collection(collection, codec_options=options).find()]


@pytest.mark.parametrize("case,embedding", decode_params())
def test_decode_error_is_refused(server, db, case, embedding):
    baseline = bson.encode({"_id": "baseline", "v": 1})
    db.c.insert_one({"_id": "baseline", "v": 1})
    oid = bson.ObjectId().binary
    sections = decode_error_message(case, embedding, db.name, oid)
    expected_code = mongodb_op_msg_error(sections)
    data = bytes.fromhex(case.data["bson"])
    what = "%s sent as %s: %s" % (case.id, embedding, data.hex())

    sock = connect(server)
    try:
        reply = send(sock, sections)
        if reply is not None:
            # After an error reply MongoDB keeps the connection; closing it is also accepted.
            try:
                ping = send(sock, bson_body({"ping": 1, "$db": "admin"}), 2)
            except OSError:  # closed after the reply
                ping = None
            assert ping is None or ping.doc.get("ok") == 1.0, "%s: then ping got %r" % (what, ping)
    finally:
        sock.close()
    assert server.process.poll() is None, "%s: the server died" % what
    assert db.command("ping")["ok"] == 1.0, "%s: the server stopped serving others" % what

    after = raw_documents(db, "c")
    if expected_code is not None:
        # MongoDB refuses the whole message with this code.
        assert reply is None or (reply.doc is not None and reply.doc.get("ok") == 0.0 and
                                 reply.doc.get("code") == expected_code), \
            "%s: expected an error reply with code %d (or a close), got %r" % (what, expected_code, reply)
        assert after == [baseline], "%s: the collection changed: %s" % (what, [d.hex() for d in after])
        return

    # MongoDB's validator passes these bytes and it stores them (MONGODB_STORES); refusing them
    # as the corpus says (InvalidBSON) is accepted too.
    assert case.id in MONGODB_STORES
    refused = reply is None or (reply.doc is not None and reply.doc.get("ok") == 0.0 and
                                reply.doc.get("code") == INVALID_BSON)
    if refused or embedding == "body":
        if not refused:
            # A body MongoDB parses is a command named after its first field: "no such command"
            # (59), or the missing $db (40571).
            assert reply.doc is not None and reply.doc.get("ok") == 0.0 and \
                reply.doc.get("code") in (59, 40571), "%s: got %r" % (what, reply)
        assert after == [baseline], "%s: the collection changed: %s" % (what, [d.hex() for d in after])
        return
    assert reply.doc is not None and reply.doc.get("ok") == 1.0 and reply.doc.get("n") == 1, \
        "%s: neither stored (as MongoDB does) nor refused with InvalidBSON: %r" % (what, reply)
    new = [d for d in after if d != baseline]
    assert len(new) == 1 and len(after) == 2, "%s: collection holds %s" % (what, [d.hex() for d in after])
    stored = new[0]
    first = elements_of(stored)[0]
    assert first[1] == "_id" and first[0] == 0x07, "%s: stored %s" % (what, stored.hex())
    sent = nest(data, oid) if embedding == "nested" else with_id_first(data, first[3])
    assert_same_as_stored(sent, stored, what)


# ---------------------------------------------------------------------------- parseErrors


@pytest.mark.parametrize("case", [pytest.param(c, id="parse|" + c.id) for c in PARSE_ERRORS])
def test_parse_errors(case):
    pytest.skip("driver-side check")
