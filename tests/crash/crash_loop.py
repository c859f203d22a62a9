#!/usr/bin/python3
"""Crash loop against the real server: `docket serve` on one data directory is
SIGKILLed while several pymongo clients write with j:true, restarted, and
checked; the next round writes on top of the same data.

Per round:
  1. the server (started on the same --dbpath every round) takes writes from
     CLIENTS threads, each with its own MongoClient (retryWrites=False) and its
     own record of what it did: single inserts with unique _ids, ordered
     insert_many batches, $inc counters through find_one_and_update (upsert,
     return after) and update_one (upsert), a few deliberate duplicates (an
     _id or a unique `u` that already exists) that must be refused, and
     deletes of documents known to be there (by _id, by the unique `u`, whole
     batches through the sparse index; more of them once the collection holds
     --target-docs documents, so a long soak does not grow without bound);
  2. after a random 0.2-2 s it gets SIGKILL while those writes are in flight;
  3. it is restarted on the same directory (in a fifth of the rounds it is
     first killed again within 50 ms of starting, while it recovers) and
     checked:
     * every acknowledged insert (and every acknowledged document of an
       insert_many batch: the reply's nInserted) is there exactly once, with
       exactly the content written (field order included);
     * a write whose reply never came back (connection closed, timeout) is
       "in flight": present or absent, never twice, never altered; what the
       restart shows decides it for good (present -> must stay, absent ->
       must never appear);
     * what was refused (duplicate key), never sent (the rest of an ordered
       batch after its error) or deleted (acknowledged) is absent; no
       document exists that no client attempted; no two documents share the
       unique `u`;
     * every counter lies in [previous value + acknowledged incs,
       previous value + acknowledged + in-flight incs], is at least every
       value find_one_and_update returned, and no two returned values of one
       counter are equal (an $inc lost and redone would repeat one);
     * `validate` of every collection says valid, nrecords is the number of
       documents, and keysPerIndex, for each index it reports, is the number
       of keys that index must hold (an index validate does not report is
       noted once, not failed);
     * index against scan: a full scan of each secondary index (a sort on its
       key or a range over it) returns every document it should, once, and
       its explain shows the index was used and examined exactly as many keys
       as the index must hold; for samples of values, equality finds that use
       each index (with hint) return what a Python filter over the full
       collection scan returns, and what the same condition written as $expr
       (no index can serve it) returns.
After the last round the server is stopped with SIGTERM (must exit 0),
restarted, and checked once more.

Usage: crash_loop.py [ROUNDS] [--clients N] [--seed S] [--docket BIN] [--keep-data]
The binary is --docket, else $DOCKET_BIN, else build/debug/docket. The
checker's own checks are proven by --inject (lose, invent, corrupt, retype,
resurrect, counter-low, counter-high, drop-index): the data is damaged through
a client after every restart and the run must fail; --server-arg=--memory
(nothing survives a restart) must fail too.
Exit status: 0 when every check passed, 1 on any loss, duplicate, invented
document, corrupted content, counter out of bounds, invalid validate, index
disagreement or failed restart, 2 on a setup error.
"""
import argparse
import collections
import ctypes
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

import bson
import pymongo
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import ReturnDocument, WriteConcern
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError

DB = "crash"
ITEMS = "items"
COUNTERS = "counters"
TAGS = ["t%02d" % i for i in range(12)]
GROUPS = 8
SECONDARY_INDEXES = [  # (name, keys, options)
    ("u_1", [("u", 1)], {"unique": True}),
    ("tags_1_g_1", [("tags", 1), ("g", 1)], {}),
    ("batch_1", [("batch", 1)], {"sparse": True}),
]
HOT_COUNTERS = ["hot-0", "hot-1", "hot-2"]

CLIENT_OPTIONS = dict(retryWrites=False, retryReads=False, serverSelectionTimeoutMS=3000,
                      connectTimeoutMS=3000, socketTimeoutMS=10000, maxPoolSize=1)
CHECK_OPTIONS = dict(retryWrites=False, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000,
                     socketTimeoutMS=120000)

MUST, MAYBE, ABSENT = "must", "maybe", "absent"
RAW = CodecOptions(document_class=RawBSONDocument)


def digest(raw_bytes):
    return hashlib.blake2b(raw_bytes, digest_size=16).digest()


def log(*args):
    print(*args, flush=True)


# ---------------------------------------------------------------- the server

_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl


def _die_with_parent():
    # PR_SET_PDEATHSIG: the server gets SIGKILL if this process dies first,
    # so a killed test never leaves a server behind.
    _prctl(1, signal.SIGKILL, 0, 0, 0)


class ServerFailed(Exception):
    pass


class Server:
    """One `docket serve` process at a time on a fixed --dbpath."""

    def __init__(self, binary, dbpath, logdir):
        self.binary, self.dbpath, self.logdir = binary, dbpath, logdir
        self.process = None
        self.port = None
        self.starts = 0
        self.extra_args = []
        self.err_path = None

    @property
    def uri(self):
        return "mongodb://127.0.0.1:%d/" % self.port

    def start(self, timeout=60.0, ready_wait=True):
        self.starts += 1
        out_path = os.path.join(self.logdir, "serve-%03d.out" % self.starts)
        self.err_path = os.path.join(self.logdir, "serve-%03d.err" % self.starts)
        with open(out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--dbpath", self.dbpath, "--port", "0", "--quiet", *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=_die_with_parent)
        began = time.monotonic()
        if not ready_wait:
            return 0.0
        while True:
            with open(out_path, "rb") as out:
                match = re.search(rb"port (\d+)", out.read())
            if match:
                self.port = int(match.group(1))
                return time.monotonic() - began
            if self.process.poll() is not None:
                raise ServerFailed("docket serve exited with status %s before its ready line%s" %
                                   (self.process.returncode, self.stderr_tail()))
            if time.monotonic() - began > timeout:
                self.kill9()
                raise ServerFailed("docket serve printed no ready line in %.0f s%s" % (timeout, self.stderr_tail()))
            time.sleep(0.02)

    def stderr_tail(self, lines=20):
        try:
            with open(self.err_path, "rb") as err:
                text = err.read().decode("utf-8", "replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "".join("\n    " + line for line in text) if text else ""

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill9(self):
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        status = self.process.wait(timeout=60)
        self.process = None
        return status

    def stop(self, timeout=30.0):
        """SIGTERM; returns the exit status, or None when it had to be killed."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None
        self.process = None
        return status


# ---------------------------------------------------------------- the clients

def network_failure(exc):
    """True when the reply did not come back: the write may or may not have been applied."""
    return isinstance(exc, ConnectionFailure)  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError


class Writer(threading.Thread):
    """One client: its own MongoClient, its own record of every write and its outcome."""

    def __init__(self, index, uri, round_no, seed, existing, deletable, ready, stop, delete_share):
        super().__init__(name="writer-%d" % index, daemon=True)
        self.index, self.uri, self.round_no = index, uri, round_no
        self.rng = random.Random(seed)
        self.existing = existing  # [(id, u)] acknowledged before this round: targets of deliberate duplicates
        # What this client alone may delete: [(id, u)] single documents and
        # [(batch, [ids])] whole batches, all there at the start of the round.
        self.deletable_docs, self.deletable_batches = deletable
        self.delete_share = delete_share
        self.ready, self.stop = ready, stop
        self.deleted = []  # (ids, outcome): acked (gone for good) or inflight (maybe gone)
        self.docs_deleted = 0
        # The record. inserts: (id, content, outcome) with outcome acked / inflight / rejected / unsent.
        self.inserts = []
        self.dup_id_attempts = []  # (existing id, outcome): another document with an _id that exists
        self.batches = 0
        self.batch_docs_acked = 0
        self.counter_acked = collections.Counter()
        self.counter_inflight = collections.Counter()
        self.counter_rejected = collections.Counter()
        self.returned = []  # (counter, value) from find_one_and_update
        self.ops = collections.Counter()
        self.unexpected = []  # server errors nobody asked for (not failures by themselves)
        self.anomalies = []  # replies that break the rules (failures)
        self.inflight_ops = 0
        self.fatal = None
        self.seq = 0

    def own_counter(self):
        return "client-%d" % self.index

    def new_doc(self, kind, batch=None, pos=None):
        self.seq += 1
        rng = self.rng
        doc_id = "r%03dc%ds%05d" % (self.round_no, self.index, self.seq)
        doc = {"_id": doc_id, "u": "u-" + doc_id, "kind": kind, "client": self.index,
               "round": self.round_no, "seq": self.seq, "g": rng.randrange(GROUPS)}
        shape = rng.random()
        if shape < 0.6:
            doc["tags"] = [rng.choice(TAGS) for _ in range(rng.randint(1, 4))]  # may repeat a tag
        elif shape < 0.75:
            doc["tags"] = []
        elif shape < 0.9:
            doc["tags"] = rng.choice(TAGS)
        # else: no tags field (indexes as null)
        if batch is not None:
            doc["batch"] = batch
            doc["pos"] = pos
        length = rng.randint(16384, 131072) if rng.random() < 0.002 else rng.randint(0, 400)
        doc["payload"] = "".join(rng.choice("abcdefghij\u00e9\u2713") for _ in range(min(length, 64))) * (
            length // 64 + 1)
        doc["nested"] = {"f": self.seq / 7.0, "ok": bool(self.seq % 2), "none": None, "list": [1, "two", 3.5]}
        return doc

    def classify_error(self, what, exc):
        """For an exception that is not a plain network failure or an expected duplicate:
        the write is counted as in flight (nothing is assumed about it) and noted."""
        self.unexpected.append("%s: %s: %s" % (what, type(exc).__name__, str(exc)[:300]))

    def run(self):
        client = None
        try:
            client = pymongo.MongoClient(self.uri, **CLIENT_OPTIONS)
            db = client.get_database(DB, write_concern=WriteConcern(w=1, j=True))
            items, counters = db[ITEMS], db[COUNTERS]
            client.admin.command("ping")
            self.ready.wait(timeout=60)
            while not self.stop.is_set():
                if not self.one_op(items, counters):
                    break
        except threading.BrokenBarrierError:
            self.fatal = "the start barrier broke"
        except Exception:  # noqa: BLE001 - recorded, the checker reports it
            self.fatal = traceback.format_exc()
        finally:
            if client is not None:
                client.close()

    def one_op(self, items, counters):
        """Does one write; False when the connection failed (the writer stops)."""
        rng = self.rng
        if rng.random() < self.delete_share:
            return self.delete(items)
        choice = rng.random()
        if choice < 0.35:
            return self.insert_one(items)
        if choice < 0.50:
            return self.insert_many(items)
        name = rng.choice(HOT_COUNTERS + [self.own_counter()])
        if choice < 0.75:
            self.ops["find_one_and_update"] += 1
            try:
                doc = counters.find_one_and_update({"_id": name}, {"$inc": {"n": 1}}, upsert=True,
                                                   return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:  # two upserts raced to create it: refused, not applied
                self.counter_rejected[name] += 1
                return True
            except PyMongoError as exc:
                self.counter_inflight[name] += 1
                self.inflight_ops += 1
                if network_failure(exc):
                    return False
                self.classify_error("find_one_and_update", exc)
                return True
            self.counter_acked[name] += 1
            if doc is None or not isinstance(doc.get("n"), int):
                self.anomalies.append("find_one_and_update(%s, upsert, after) replied %r" % (name, doc))
            else:
                self.returned.append((name, doc["n"]))
            return True
        self.ops["update_one"] += 1
        try:
            result = counters.update_one({"_id": name}, {"$inc": {"n": 1}}, upsert=True)
        except DuplicateKeyError:
            self.counter_rejected[name] += 1
            return True
        except PyMongoError as exc:
            self.counter_inflight[name] += 1
            self.inflight_ops += 1
            if network_failure(exc):
                return False
            self.classify_error("update_one", exc)
            return True
        self.counter_acked[name] += 1
        if not (result.modified_count == 1 or result.upserted_id is not None):
            self.anomalies.append("update_one(%s, $inc, upsert) replied matched=%s modified=%s upserted=%r" %
                                  (name, result.matched_count, result.modified_count, result.upserted_id))
        return True

    def delete(self, items):
        """Deletes documents this client owns: one by _id or by u, or a whole
        batch through the sparse index. Each must be there and must stay gone."""
        rng = self.rng
        if self.deletable_batches and (rng.random() < 0.4 or not self.deletable_docs):
            batch, ids = self.deletable_batches.pop(rng.randrange(len(self.deletable_batches)))
            what, filter_, many = "delete_many(batch)", {"batch": batch}, True
        elif self.deletable_docs:
            doc_id, u = self.deletable_docs.pop(rng.randrange(len(self.deletable_docs)))
            ids = [doc_id]
            if rng.random() < 0.5:
                what, filter_, many = "delete_one(_id)", {"_id": doc_id}, False
            else:
                what, filter_, many = "delete_one(u)", {"u": u}, False
        else:
            return self.insert_one(items)
        self.ops[what] += 1
        try:
            result = items.delete_many(filter_) if many else items.delete_one(filter_)
        except PyMongoError as exc:
            self.deleted.append((ids, "inflight"))
            self.inflight_ops += 1
            if network_failure(exc):
                return False
            self.classify_error(what, exc)
            return True
        self.deleted.append((ids, "acked"))
        self.docs_deleted += len(ids)
        if result.deleted_count != len(ids):
            self.anomalies.append("%s %r deleted %d documents, %d were there (acknowledged before)" % (
                what, filter_, result.deleted_count, len(ids)))
        return True

    def insert_one(self, items):
        rng = self.rng
        self.ops["insert_one"] += 1
        dice = rng.random()
        if dice < 0.03 and self.existing:
            # Another document under an _id that exists: must be refused; the original must stay as it was.
            target_id, _ = rng.choice(self.existing)
            doc = self.new_doc("dup-id")
            doc["_id"] = target_id
            try:
                items.insert_one(doc)
            except DuplicateKeyError:
                self.dup_id_attempts.append((target_id, "rejected"))
                return True
            except PyMongoError as exc:
                self.dup_id_attempts.append((target_id, "inflight"))
                self.inflight_ops += 1
                if network_failure(exc):
                    return False
                self.classify_error("insert_one(duplicate _id)", exc)
                return True
            self.dup_id_attempts.append((target_id, "acked"))
            self.anomalies.append("insert_one of an existing _id %r was acknowledged" % target_id)
            return True
        doc = self.new_doc("single")
        if dice < 0.06 and self.existing:
            doc["kind"] = "dup-u"
            doc["u"] = rng.choice(self.existing)[1]  # a unique key that exists: must be refused
        try:
            items.insert_one(doc)
        except DuplicateKeyError:
            self.inserts.append((doc["_id"], doc, "rejected"))
            if doc["kind"] != "dup-u":
                self.anomalies.append("insert_one of a new document %r was refused as a duplicate" % doc["_id"])
            return True
        except PyMongoError as exc:
            self.inserts.append((doc["_id"], doc, "inflight"))
            self.inflight_ops += 1
            if network_failure(exc):
                return False
            self.classify_error("insert_one", exc)
            return True
        self.inserts.append((doc["_id"], doc, "acked"))
        if doc["kind"] == "dup-u":
            self.anomalies.append("insert_one with an existing unique u %r was acknowledged (_id %r)" %
                                  (doc["u"], doc["_id"]))
        return True

    def insert_many(self, items):
        rng = self.rng
        self.ops["insert_many"] += 1
        self.batches += 1
        batch = "r%03dc%db%04d" % (self.round_no, self.index, self.batches)
        docs = [self.new_doc("batch", batch, pos) for pos in range(rng.randint(2, 8))]
        dup_at = None
        if rng.random() < 0.10 and self.existing:
            dup_at = rng.randrange(len(docs))
            docs[dup_at]["u"] = rng.choice(self.existing)[1]
        try:
            result = items.insert_many(docs, ordered=True)
        except BulkWriteError as exc:
            details = exc.details
            inserted = details.get("nInserted", 0)
            errors = details.get("writeErrors", [])
            wce = details.get("writeConcernErrors", [])
            first = errors[0] if errors else None
            if wce or first is None:
                # Applied or not, it did not get its j:true acknowledgement: all of it in flight.
                self.classify_error("insert_many", exc)
                self.inserts.extend((d["_id"], d, "inflight") for d in docs)
                self.inflight_ops += 1
                return True
            at = first.get("index", -1)
            if first.get("code") != 11000 or at != dup_at or inserted != at:
                self.anomalies.append(
                    "insert_many(ordered) of %d documents, duplicate planted at %r, replied nInserted=%r "
                    "writeErrors=%r" % (len(docs), dup_at, inserted, [(e.get("index"), e.get("code")) for e in errors]))
            # Only the reply's count is acknowledged; the refused one and the rest were not applied.
            for pos, d in enumerate(docs):
                outcome = "acked" if pos < inserted else ("rejected" if pos == at else "unsent")
                self.inserts.append((d["_id"], d, outcome))
            self.batch_docs_acked += inserted
            return True
        except PyMongoError as exc:
            self.inserts.extend((d["_id"], d, "inflight") for d in docs)
            self.inflight_ops += 1
            if network_failure(exc):
                return False
            self.classify_error("insert_many", exc)
            return True
        acked_ids = list(result.inserted_ids)
        if acked_ids != [d["_id"] for d in docs] or dup_at is not None:
            self.anomalies.append("insert_many(ordered) of %d documents (duplicate planted at %r) was acknowledged "
                                  "whole" % (len(docs), dup_at))
        self.inserts.extend((d["_id"], d, "acked") for d in docs)
        self.batch_docs_acked += len(docs)
        return True


# ---------------------------------------------------------------- what must be there

def index_keys(doc, name):
    """How many keys `doc` has in the index `name` (Docket's and MongoDB's rules:
    an array gives one key per distinct element, an empty array one key
    (undefined), a missing field one key (null) unless the index is sparse)."""
    if name in ("_id_", "u_1"):
        return 1
    if name == "batch_1":
        return 1 if "batch" in doc else 0
    if name == "tags_1_g_1":
        tags = doc.get("tags")
        if isinstance(tags, list):
            return max(1, len(set(tags)))
        return 1
    raise KeyError(name)


def tags_match(doc, tag):
    tags = doc.get("tags")
    return tags == tag or (isinstance(tags, list) and tag in tags)


class Expected:
    """What is kept of a document a client wrote: the digest of its BSON as sent
    (the stored document must be byte for byte the same), and the fields the
    checks choose samples by."""
    __slots__ = ("digest", "u", "kind", "batch")

    def __init__(self, doc):
        self.digest = digest(bson.encode(doc))
        self.u, self.kind, self.batch = doc["u"], doc["kind"], doc.get("batch")


def owner(key, clients):
    return zlib.crc32(key.encode()) % clients


class History:
    """Everything every client ever attempted, and what each attempt must look like now."""

    def __init__(self):
        self.content = {}  # _id -> Expected
        self.state = {}  # _id -> MUST / MAYBE / ABSENT
        self.counter_base = {}  # name -> value the last check saw (0 when absent)
        self.round_counters = {}  # name -> (acked, inflight)
        self.round_returned = collections.defaultdict(list)
        self.totals = collections.Counter()
        self.existing_sample = []

    def existing(self, limit=300):
        return [(i, u) for i, u in self.existing_sample[-limit:] if self.state.get(i) == MUST]

    def deletable(self, clients, rng, protected, per_client=400):
        """For each client, documents and whole batches only it may delete this
        round: all there now, none in `protected` (this round's targets of
        deliberate duplicates)."""
        docs = [[] for _ in range(clients)]
        batches = collections.defaultdict(list)
        for doc_id, state in self.state.items():
            if state != MUST or doc_id in protected:
                continue
            expected = self.content[doc_id]
            if expected.batch is not None:
                batches[expected.batch].append(doc_id)
            else:
                docs[owner(doc_id, clients)].append((doc_id, expected.u))
        # A batch is deletable when none of its documents is protected (its absent ones do not matter).
        for doc_id in protected:
            expected = self.content.get(doc_id)
            if expected is not None and expected.batch is not None:
                batches.pop(expected.batch, None)
        by_client = [[] for _ in range(clients)]
        for batch, ids in batches.items():
            by_client[owner(batch, clients)].append((batch, ids))
        return [(rng.sample(docs[c], min(per_client, len(docs[c]))),
                 rng.sample(by_client[c], min(per_client // 4, len(by_client[c])))) for c in range(clients)]

    def must_count(self):
        return sum(1 for s in self.state.values() if s == MUST)

    def merge(self, writers):
        """Folds the clients' records of one round in; returns the round's counts."""
        counts = collections.Counter()
        acked_c, inflight_c = collections.Counter(), collections.Counter()
        self.round_returned = collections.defaultdict(list)
        problems = []
        for w in writers:
            for doc_id, doc, outcome in w.inserts:
                if doc_id in self.content:
                    problems.append("the client wrote _id %r twice (test bug)" % doc_id)
                    continue
                self.content[doc_id] = Expected(doc)
                if outcome == "acked":
                    self.state[doc_id] = MUST
                    counts["acked_batch_docs" if doc["kind"] == "batch" else "acked_inserts"] += 1
                elif outcome == "inflight":
                    self.state[doc_id] = MAYBE
                    counts["inflight_docs"] += 1
                else:
                    self.state[doc_id] = ABSENT
                    counts["rejected" if outcome == "rejected" else "unsent"] += 1
            for target, outcome in w.dup_id_attempts:
                counts["dup_id_" + outcome] += 1
            for ids, outcome in w.deleted:
                for doc_id in ids:
                    if self.state.get(doc_id) != MUST:
                        problems.append("the client deleted %r, which was not known to be there (test bug)" % doc_id)
                    elif outcome == "acked":
                        self.state[doc_id] = ABSENT
                        counts["acked_deletes"] += 1
                    else:
                        self.state[doc_id] = MAYBE
                        counts["inflight_deletes"] += 1
            acked_c.update(w.counter_acked)
            inflight_c.update(w.counter_inflight)
            counts["acked_incs"] += sum(w.counter_acked.values())
            counts["inflight_incs"] += sum(w.counter_inflight.values())
            counts["rejected"] += sum(w.counter_rejected.values())
            counts["inflight_ops"] += w.inflight_ops
            for name, value in w.returned:
                self.round_returned[name].append(value)
        self.round_counters = {name: (acked_c[name], inflight_c[name]) for name in set(acked_c) | set(inflight_c)}
        counts["acked_writes"] = (counts["acked_inserts"] + counts["acked_batch_docs"] + counts["acked_incs"] +
                                  counts["acked_deletes"])
        self.totals.update(counts)
        return counts, problems


class Check:
    def __init__(self, label):
        self.label = label
        self.failures = []
        self.notes = []
        self.stats = collections.Counter()
        self.explained = set()
        self.keys = set()

    def fail(self, kind, message, key=None):
        """`key` names the fault (an _id, say) so that one fault seen again by
        later rounds is counted once in the summary."""
        self.keys.add((kind, message if key is None else key))
        self.stats[kind] += 1
        if self.stats[kind] <= 10:
            self.failures.append("%s: %s" % (kind, message))
        elif self.stats[kind] == 11:
            self.failures.append("%s: ... (more)" % kind)


def find_ids(cursor):
    return [d["_id"] for d in cursor]


def winning_index(explain):
    """('IXSCAN', name), ('COLLSCAN', None), ... and executionStats of an explain reply."""
    stage = explain.get("queryPlanner", {}).get("winningPlan", {})
    while stage:
        if "indexName" in stage:
            return stage.get("stage"), stage["indexName"], explain.get("executionStats", {})
        stage = stage.get("inputStage")
    return explain.get("queryPlanner", {}).get("winningPlan", {}).get("stage"), None, explain.get(
        "executionStats", {})


def check_server(uri, history, check, rng, notes_seen, sample=25):
    client = pymongo.MongoClient(uri, **CHECK_OPTIONS)
    try:
        db = client[DB]
        names = set(db.list_collection_names())
        if history.content and ITEMS not in names:
            check.fail("lost", "collection %s.%s is gone" % (DB, ITEMS))
        items = db[ITEMS]

        # --- every document, by a full scan (the record store, no index), as the exact bytes stored
        scan, digests = [], {}
        by_id = collections.defaultdict(list)
        for raw in items.with_options(codec_options=RAW).find({}, batch_size=5000):
            doc = bson.decode(raw.raw)
            doc.pop("payload", None)
            doc.pop("nested", None)
            scan.append(doc)
            by_id[doc.get("_id")].append(doc)
            digests.setdefault(doc.get("_id"), digest(raw.raw))
        check.stats["docs"] = len(by_id)
        for doc_id, docs in by_id.items():
            if len(docs) > 1:
                check.fail("duplicate", "_id %r is returned %d times by a collection scan" % (doc_id, len(docs)),
                           doc_id)
            if doc_id not in history.content:
                check.fail("invented", "document nobody wrote: %r" % (docs[0],), doc_id)
        for doc_id, state in history.state.items():
            found = by_id.get(doc_id)
            expected = history.content[doc_id]
            if found and digests[doc_id] != expected.digest:
                check.fail("corrupt", "_id %r is not byte for byte the document written: %.300r" % (
                    doc_id, items.find_one({"_id": doc_id})), doc_id)
            if state == MUST:
                check.stats["must"] += 1
                if found:
                    check.stats["found"] += 1
                else:
                    check.stats["lost_docs"] += 1
                    check.fail("lost", "acknowledged %s document %r is missing" % (expected.kind, doc_id), doc_id)
            elif state == MAYBE:
                history.state[doc_id] = MUST if found else ABSENT
                check.stats["inflight_present" if found else "inflight_absent"] += 1
            elif found:
                check.fail("invented", "document %r (refused, never sent, or deleted) exists: %.200r" % (
                    doc_id, found[0]),
                           doc_id)
        by_u = collections.defaultdict(list)
        for doc in scan:
            by_u[doc.get("u")].append(doc.get("_id"))
        for u, ids in by_u.items():
            if len(ids) > 1:
                check.fail("unique", "unique u %r is held by %d documents: %r" % (u, len(ids), ids[:5]), u)
        present = [docs[0] for docs in by_id.values()]
        count = db.command("count", ITEMS)["n"]
        if count != len(scan):
            check.fail("index", "count says %d documents, a scan returns %d" % (count, len(scan)))

        # --- counters
        counter_docs = list(db[COUNTERS].find({}))
        values = {}
        for doc in counter_docs:
            name = doc.get("_id")
            if name not in history.counter_base and name not in history.round_counters:
                check.fail("invented", "counter nobody incremented: %r" % (doc,))
                continue
            if set(doc) != {"_id", "n"} or not isinstance(doc["n"], int):
                check.fail("corrupt", "counter %r" % (doc,))
                continue
            values[name] = doc["n"]
        for name in set(history.counter_base) | set(history.round_counters):
            base = history.counter_base.get(name, 0)
            acked, inflight = history.round_counters.get(name, (0, 0))
            value = values.get(name, 0)
            if name not in values and (base or acked):
                check.fail("lost", "counter %r is missing (at least %d expected)" % (name, base + acked))
                continue
            if value < base + acked:
                check.fail("lost", "counter %r = %d, but %d before this round + %d acknowledged $inc = %d" %
                           (name, value, base, acked, base + acked))
            if value > base + acked + inflight:
                check.fail("invented", "counter %r = %d, more than %d before + %d acknowledged + %d in flight" %
                           (name, value, base, acked, inflight))
            returned = history.round_returned.get(name, [])
            if returned:
                if max(returned) > value:
                    check.fail("lost", "counter %r = %d, but find_one_and_update had returned %d" %
                               (name, value, max(returned)))
                if min(returned) <= base:
                    check.fail("lost", "counter %r: find_one_and_update returned %d, not above the %d of the "
                               "last check" % (name, min(returned), base))
                repeated = [v for v, n in collections.Counter(returned).items() if n > 1]
                if repeated:
                    check.fail("duplicate", "counter %r: find_one_and_update returned %r more than once "
                               "(an increment was lost)" % (name, repeated[:5]))
            history.counter_base[name] = value
            check.stats["counters"] += 1
        history.round_counters = {}
        history.round_returned = collections.defaultdict(list)

        # --- indexes exist
        specs = {spec["name"]: spec for spec in items.list_indexes()} if ITEMS in names else {}
        for name, keys, options in SECONDARY_INDEXES:
            spec = specs.get(name)
            if spec is None:
                check.fail("index", "index %s is gone" % name, name)
                continue
            if list(spec["key"].items()) != keys or any(spec.get(k) != v for k, v in options.items()):
                check.fail("index", "index %s is now %r" % (name, spec))

        # --- validate every collection
        expected_keys = {name: sum(index_keys(d, name) for d in present) for name in specs}
        expected_counts = {ITEMS: len(present), COUNTERS: len(counter_docs)}
        for coll in sorted(names):
            reply = db.command("validate", coll)
            if reply.get("valid") is not True or reply.get("errors"):
                check.fail("validate", "%s: valid=%r errors=%r" % (coll, reply.get("valid"), reply.get("errors")))
            if coll in expected_counts and reply.get("nrecords") != expected_counts[coll]:
                check.fail("validate", "%s: nrecords %r, %d documents expected" %
                           (coll, reply.get("nrecords"), expected_counts[coll]))
            want = expected_keys if coll == ITEMS else {"_id_": expected_counts.get(coll, 0)}
            reported = reply.get("keysPerIndex", {})
            coll_indexes = [s["name"] for s in db[coll].list_indexes()]
            for name in coll_indexes:
                if name not in reported:
                    note = "validate does not report keysPerIndex of %s.%s (not checked there; the index scans " \
                           "below count its keys)" % (coll, name)
                    if note not in notes_seen:
                        notes_seen.add(note)
                        check.notes.append(note)
                elif name in want and reported[name] != want[name]:
                    check.fail("validate", "%s: keysPerIndex[%s] = %r, %d keys expected" %
                               (coll, name, reported[name], want[name]))
            if reply.get("nIndexes") != len(coll_indexes) and ("nIndexes", coll) not in notes_seen:
                notes_seen.add(("nIndexes", coll))
                check.notes.append("validate of %s reports nIndexes %r, listIndexes lists %d" % (
                    coll, reply.get("nIndexes"), len(coll_indexes)))
            check.stats["validated"] += 1

        if ITEMS not in names:
            return
        try:
            check_indexes(items, present, history, check, rng, notes_seen, expected_keys, sample)
        except OperationFailure as exc:
            check.fail("index", "an index query failed: %s" % exc)
    finally:
        client.close()


def index_query(items, check, notes_seen, label, index, filter_, sort=None, keys_expected=None):
    """Runs the query that should be answered from `index`; checks its plan; returns the _ids."""
    cursor = items.find(filter_, {"_id": 1}, batch_size=5000).hint(index)
    if sort:
        cursor = cursor.sort(sort)
    ids = find_ids(cursor)
    check.stats["index_queries"] += 1
    if keys_expected is None and label in check.explained:
        return ids
    check.explained.add(label)
    explain_cursor = items.find(filter_, {"_id": 1}).hint(index)
    if sort:
        explain_cursor = explain_cursor.sort(sort)
    stage, used, stats = winning_index(explain_cursor.explain())
    if used != index:
        note = "%s: the plan is %s %s, not index %s: that index is not exercised by this check" % (
            label, stage, used or "", index)
        if note not in notes_seen:
            notes_seen.add(note)
            check.notes.append(note)
    elif keys_expected is not None and stats.get("totalKeysExamined") != keys_expected:
        check.fail("index", "%s: a full scan of index %s examined %r keys, the index must hold %d "
                   "(a missing or extra index entry)" % (label, index, stats.get("totalKeysExamined"), keys_expected))
    if stats.get("nReturned") is not None and stats.get("nReturned") != len(ids):
        check.fail("index", "%s: explain says %r returned, the query returned %d" %
                   (label, stats.get("nReturned"), len(ids)))
    return ids


def compare_ids(check, label, got, want):
    if len(got) != len(set(got)):
        dups = [i for i, n in collections.Counter(got).items() if n > 1]
        check.fail("index", "%s: returned _ids more than once: %r" % (label, dups[:5]))
    got_s, want_s = set(got), set(want)
    if got_s != want_s:
        check.fail("index", "%s: %d documents missing %r, %d extra %r" % (
            label, len(want_s - got_s), sorted(want_s - got_s)[:5], len(got_s - want_s), sorted(got_s - want_s)[:5]))


def check_indexes(items, present, history, check, rng, notes_seen, expected_keys, sample):
    all_ids = [d["_id"] for d in present]

    # Full scans of each secondary index against the collection scan.
    got = index_query(items, check, notes_seen, "sort by u", "u_1", {}, [("u", 1)], expected_keys.get("u_1"))
    want = [d["_id"] for d in sorted(present, key=lambda d: d["u"])]
    compare_ids(check, "sort by u (index u_1)", got, want)
    if got != want and set(got) == set(want):
        check.fail("index", "sort by u (index u_1): the order differs from u's order")
    got = index_query(items, check, notes_seen, "sort by tags, g", "tags_1_g_1", {}, [("tags", 1), ("g", 1)],
                      expected_keys.get("tags_1_g_1"))
    compare_ids(check, "sort by tags, g (index tags_1_g_1)", got, all_ids)
    got = index_query(items, check, notes_seen, "batch >= ''", "batch_1", {"batch": {"$gte": ""}}, None,
                      expected_keys.get("batch_1"))
    compare_ids(check, "batch >= '' (index batch_1)", got, [d["_id"] for d in present if "batch" in d])

    # Samples: equality through each index, against Python over the scan and against $expr.
    def pick(values, k):
        values = list(values)
        return rng.sample(values, min(k, len(values)))

    gone = [i for i, s in history.state.items() if s == ABSENT]
    u_values = pick([d["u"] for d in present], sample) + pick([history.content[i].u for i in gone], 5) + ["u-none"]
    u_union = []
    for u in u_values:
        got = index_query(items, check, notes_seen, "u = value", "u_1", {"u": u})
        want = [d["_id"] for d in present if d.get("u") == u]
        compare_ids(check, "u = %r (index u_1)" % u, got, want)
        u_union += got

    pairs = [(rng.choice(TAGS), rng.randrange(GROUPS)) for _ in range(max(3, sample // 5))] + [("t-none", 0)]
    tg_union = []
    for tag, g in pairs:
        got = index_query(items, check, notes_seen, "tags = t, g = n", "tags_1_g_1", {"tags": tag, "g": g})
        want = [d["_id"] for d in present if d.get("g") == g and tags_match(d, tag)]
        compare_ids(check, "tags = %r, g = %r (index tags_1_g_1)" % (tag, g), got, want)
        tg_union += got
    tag = rng.choice(TAGS)
    got = index_query(items, check, notes_seen, "tags = t", "tags_1_g_1", {"tags": tag})
    compare_ids(check, "tags = %r (index tags_1_g_1, prefix)" % tag, got,
                [d["_id"] for d in present if tags_match(d, tag)])

    batches = sorted({d["batch"] for d in present if "batch" in d})
    gone_batches = sorted({history.content[i].batch for i in gone if history.content[i].batch is not None})
    b_values = pick(batches, sample // 2) + pick(gone_batches, 3) + ["b-none"]
    b_union = []
    for b in b_values:
        got = index_query(items, check, notes_seen, "batch = value", "batch_1", {"batch": b})
        compare_ids(check, "batch = %r (index batch_1)" % b, got, [d["_id"] for d in present if d.get("batch") == b])
        b_union += got

    # The same conditions as $expr (which no index serves), all in one collection scan.
    as_array = {"$cond": [{"$isArray": "$tags"}, "$tags", ["$tags"]]}
    conditions = {
        "u": {"$in": ["$u", u_values]},
        "tg": {"$or": [{"$and": [{"$eq": ["$g", g]}, {"$in": [tag, as_array]}]} for tag, g in pairs]},
        "b": {"$in": [{"$ifNull": ["$batch", None]}, b_values]},
    }
    expr_cursor = items.find({"$expr": {"$or": list(conditions.values())}},
                             {"_id": 1, **{"m_" + k: v for k, v in conditions.items()}}, batch_size=5000)
    if "expr plan" not in notes_seen:  # once a run: Docket's explain runs the query, whatever the verbosity
        notes_seen.add("expr plan")
        stage, used, _ = winning_index(items.database.command(
            "explain", {"find": items.name, "filter": {"$expr": {"$or": list(conditions.values())}}},
            verbosity="queryPlanner"))
        if stage != "COLLSCAN":
            check.notes.append("the $expr reference query is planned as %s %s, not a collection scan" % (stage, used))
    expr = collections.defaultdict(list)
    for d in expr_cursor:
        for k in conditions:
            if d.get("m_" + k) is True:
                expr[k].append(d["_id"])
    compare_ids(check, "u in sample via $expr vs index u_1", expr["u"], u_union)
    compare_ids(check, "tags/g pairs via $expr vs index tags_1_g_1", expr["tg"], tg_union)
    compare_ids(check, "batch in sample via $expr vs index batch_1", expr["b"], b_union)

    # The _id index: point lookups of present and absent _ids.
    for doc_id in pick(all_ids, sample) + pick(gone, 5):
        found = items.find_one({"_id": doc_id})
        if history.state[doc_id] == MUST and found is None:
            check.fail("index", "_id %r is in a collection scan but find_one by _id misses it" % doc_id)
        if history.state[doc_id] == ABSENT and found is not None:
            check.fail("index", "_id %r is not in a collection scan but find_one by _id finds it" % doc_id)
        check.stats["index_queries"] += 1


# Damage done behind the checker's back (--inject), each through an ordinary
# client after the restart, to prove the checks catch it.
INJECTIONS = {
    "lose": lambda db, ids, rng: db[ITEMS].delete_one({"_id": rng.choice(ids)}),
    "invent": lambda db, ids, rng: db[ITEMS].insert_one({"_id": "injected-%d" % rng.getrandbits(32), "u": "injected-%d"
                                                         % rng.getrandbits(32)}),
    "corrupt": lambda db, ids, rng: db[ITEMS].update_one({"_id": rng.choice(ids)}, {"$set": {"g": 99}}),
    "retype": lambda db, ids, rng: db[ITEMS].update_one({"_id": rng.choice(ids)},
                                                        [{"$set": {"seq": {"$toLong": "$seq"}}}]),
    "counter-low": lambda db, ids, rng: db[COUNTERS].update_one({"_id": HOT_COUNTERS[0]}, {"$inc": {"n": -1}}),
    "counter-high": lambda db, ids, rng: db[COUNTERS].update_one({"_id": HOT_COUNTERS[0]}, {"$inc": {"n": 100}}),
    "drop-index": lambda db, ids, rng: db[ITEMS].drop_index("batch_1"),
}


def resurrect(db, history, rng):
    gone = sorted(i for i, s in history.state.items() if s == ABSENT)
    if gone:
        doc_id = rng.choice(gone)
        db[ITEMS].insert_one({"_id": doc_id, "u": "resurrected-" + doc_id})


def inject(uri, what, history, rng):
    client = pymongo.MongoClient(uri, **CHECK_OPTIONS)
    try:
        ids = sorted(i for i, s in history.state.items() if s == MUST)
        if ids or what not in ("lose", "corrupt", "retype"):
            try:
                if what == "resurrect":
                    resurrect(client[DB], history, rng)
                else:
                    INJECTIONS[what](client[DB], ids, rng)
            except OperationFailure:
                pass  # dropping an index already dropped
    finally:
        client.close()


def setup(uri):
    client = pymongo.MongoClient(uri, **CHECK_OPTIONS)
    try:
        items = client.get_database(DB, write_concern=WriteConcern(w=1, j=True))[ITEMS]
        for name, keys, options in SECONDARY_INDEXES:
            items.create_index(keys, name=name, **options)
    finally:
        client.close()


# ---------------------------------------------------------------- the loop

def run_round(round_no, server, history, args, rng, notes_seen):
    """One round on the running server; returns (Check, counts). The server is
    killed, restarted and left running for the next round."""
    check = Check("round %d" % round_no)
    ready = threading.Barrier(args.clients + 1)
    stop = threading.Event()
    # Deletes keep the collection from growing without bound over a long soak.
    delete_share = 0.08 if history.must_count() < args.target_docs else 0.35
    existing = history.existing()
    deletable = history.deletable(args.clients, rng, {i for i, _ in existing})
    writers = [Writer(i, server.uri, round_no, rng.getrandbits(64), existing, deletable[i], ready, stop,
                      delete_share) for i in range(args.clients)]
    for w in writers:
        w.start()
    try:
        ready.wait(timeout=60)
    except threading.BrokenBarrierError:
        check.fail("setup", "the clients did not all connect within 60 s")
    delay = rng.uniform(args.min_delay, args.max_delay)
    time.sleep(delay)
    if not server.alive():
        check.fail("crashed", "docket serve died by itself before the SIGKILL (status %s)%s" % (
            server.process.returncode if server.process else "?", server.stderr_tail()))
    server.kill9()
    stop.set()
    join_deadline = time.monotonic() + CLIENT_OPTIONS["socketTimeoutMS"] / 1000 + 15
    for w in writers:
        w.join(timeout=max(0.1, join_deadline - time.monotonic()))
        if w.is_alive():
            check.fail("hang", "client %d did not stop within its timeouts" % w.index)
        if w.fatal:
            check.fail("client", "client %d failed: %s" % (w.index, w.fatal))
        for a in w.anomalies:
            check.fail("reply", "client %d: %s" % (w.index, a))
        for u in w.unexpected[:3]:
            check.notes.append("client %d, unexpected error (counted in flight): %s" % (w.index, u))
    counts, problems = history.merge(w for w in writers if not w.is_alive())
    for p in problems:
        check.fail("client", p)
    counts["unexpected_errors"] = sum(len(w.unexpected) for w in writers)
    history.totals["unexpected_errors"] += counts["unexpected_errors"]
    try:
        if rng.random() < args.recovery_kills:
            # Killed again while it is still coming up (replaying the log), then started once more.
            server.start(ready_wait=False)
            time.sleep(rng.uniform(0.0, 0.05))
            counts["recovery_kills"] = 1
            history.totals["recovery_kills"] += 1
            server.kill9()
        counts["restart_s"] = server.start()
    except ServerFailed as exc:
        check.fail("restart", str(exc))
        return check, counts, delay
    if args.inject:
        inject(server.uri, args.inject, history, rng)
    check_began = time.monotonic()
    check_server(server.uri, history, check, rng, notes_seen)
    counts["check_s"] = time.monotonic() - check_began
    # Documents known to be there now seed the next round's deliberate duplicates.
    fresh = [(i, history.content[i].u) for w in writers for i, _, o in w.inserts
             if history.state.get(i) == MUST and o == "acked"]
    history.existing_sample = (history.existing_sample + fresh)[-2000:]
    return check, counts, delay


def report_round(label, check, counts, delay):
    s = check.stats
    acked = counts.get("acked_writes", 0)
    line = ("%s: killed after %.2f s%s; acknowledged %d writes (%d inserts, %d batch docs, %d $inc, %d deletes), "
            "in flight %d ops (%d docs inserted or deleted: %d present, %d absent; %d $inc), refused %d; "
            "found %d/%d docs that must be there (%d in the collection), losses %d (%d docs), duplicates %d, "
            "invented %d, corrupt %d, counters %d checked, validate %s, index %s (%d queries); "
            "restart %.2f s, check %.2f s" % (
                label, delay, " (and again while restarting)" if counts.get("recovery_kills") else "", acked,
                counts.get("acked_inserts", 0), counts.get("acked_batch_docs", 0),
                counts.get("acked_incs", 0), counts.get("acked_deletes", 0), counts.get("inflight_ops", 0),
                counts.get("inflight_docs", 0) + counts.get("inflight_deletes", 0),
                s["inflight_present"], s["inflight_absent"], counts.get("inflight_incs", 0),
                counts.get("rejected", 0) + counts.get("dup_id_rejected", 0),
                s["found"], s["must"], s["docs"], s["lost"], s["lost_docs"], s["duplicate"], s["invented"],
                s["corrupt"], s["counters"], "FAILED" if s["validate"] else "ok",
                "DISAGREES" if s["index"] or s["unique"] else "ok", s["index_queries"],
                counts.get("restart_s", float("nan")), counts.get("check_s", float("nan"))))
    log(line)
    for note in check.notes:
        log("  note: " + note)
    for failure in check.failures:
        log("  FAIL " + failure)


def describe_dir(path):
    """Size and RocksDB file counts: WAL files left behind show up here."""
    try:
        names = os.listdir(path)
        size = sum(os.path.getsize(os.path.join(path, n)) for n in names)
    except OSError as exc:
        return "unreadable (%s)" % exc
    wals = [n for n in names if n.endswith(".log") and n[:1].isdigit()]
    wal_size = sum(os.path.getsize(os.path.join(path, n)) for n in wals)
    return "%.1f MiB, %d WAL files (%.1f MiB), %d table files" % (
        size / 2**20, len(wals), wal_size / 2**20, sum(n.endswith(".sst") for n in names))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--recovery-kills", type=float, default=0.2,
                        help="share of rounds whose restart is itself SIGKILLed within 50 ms, then restarted")
    parser.add_argument("--target-docs", type=int, default=40000,
                        help="above this many documents, clients delete more than they insert")
    parser.add_argument("--min-delay", type=float, default=0.2)
    parser.add_argument("--max-delay", type=float, default=2.0)
    parser.add_argument("--docket", default=os.environ.get("DOCKET_BIN",
                                                           os.path.join(here, "../../build/debug/docket")))
    parser.add_argument("--keep-data", action="store_true", help="keep the data directory and server logs")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="one more argument for docket serve (--server-arg=--memory: nothing survives)")
    parser.add_argument("--inject", choices=sorted(INJECTIONS) + ["resurrect"],
                        help="self-test of the checker: damage the data after every restart; the run must fail")
    args = parser.parse_args()
    if args.clients < 4:
        parser.error("--clients must be at least 4")
    if not (os.path.isfile(args.docket) and os.access(args.docket, os.X_OK)):
        log("crash loop: no docket binary at %s (build it, or set DOCKET_BIN)" % args.docket)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(32)
    rng = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="docket-crash-loop-")
    dbpath = os.path.join(workdir, "data")
    os.mkdir(dbpath)
    server = Server(os.path.abspath(args.docket), dbpath, workdir)
    server.extra_args = args.server_arg
    history = History()
    notes_seen = set()
    failed_rounds = 0
    fault_keys = set()  # (kind, what): each fault once, however many rounds see it
    began = time.monotonic()
    log("crash loop: %d rounds, %d clients, seed %d, binary %s, data %s" % (
        args.rounds, args.clients, seed, args.docket, dbpath))

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        try:
            server.start()
            setup(server.uri)
        except (ServerFailed, PyMongoError) as exc:
            log("crash loop: setup failed: %s" % exc)
            return 1
        for round_no in range(1, args.rounds + 1):
            check, counts, delay = run_round(round_no, server, history, args, rng, notes_seen)
            report_round("round %d/%d" % (round_no, args.rounds), check, counts, delay)
            if check.failures:
                failed_rounds += 1
                fault_keys |= check.keys
            if "restart" in check.stats:
                break
        else:
            # A clean shutdown, a restart, and everything as the last check saw it.
            check = Check("clean restart")
            exit_status = server.stop()
            if exit_status != 0:
                check.fail("shutdown", "docket serve did not exit 0 on SIGTERM (status %r)%s" % (
                    exit_status, server.stderr_tail()))
            try:
                server.start()
                check_server(server.uri, history, check, rng, notes_seen)
            except ServerFailed as exc:
                check.fail("restart", str(exc))
            log("clean restart: SIGTERM exit %r; %d docs, found %d/%d, losses %d, duplicates %d, invented %d, "
                "corrupt %d, validate %s, index %s" % (
                    exit_status, check.stats["docs"], check.stats["found"], check.stats["must"], check.stats["lost"],
                    check.stats["duplicate"], check.stats["invented"], check.stats["corrupt"],
                    "FAILED" if check.stats["validate"] else "ok",
                    "DISAGREES" if check.stats["index"] or check.stats["unique"] else "ok"))
            for note in check.notes:
                log("  note: " + note)
            for failure in check.failures:
                log("  FAIL " + failure)
            if check.failures:
                failed_rounds += 1
                fault_keys |= check.keys
    except PyMongoError as exc:
        log("crash loop: the checker's own request failed: %s: %s%s" % (type(exc).__name__, exc,
                                                                        server.stderr_tail()))
        failed_rounds += 1
        fault_keys.add(("checker", str(exc)))
    finally:
        server.kill9()
        log("crash loop: data directory at the end: %s" % describe_dir(dbpath))
        if args.keep_data:
            log("crash loop: data and server logs kept in %s" % workdir)
        else:
            if failed_rounds:
                log("crash loop: data removed (rerun with --keep-data to keep it and the server logs)")
            shutil.rmtree(workdir, ignore_errors=True)
    failures = collections.Counter(kind for kind, _ in fault_keys)
    t = history.totals
    elapsed = time.monotonic() - began
    status = 1 if failed_rounds else 0
    log("crash loop: %s: %d rounds in %.1f s, seed %d; acknowledged %d writes (%d inserts, %d batch docs, "
        "%d $inc, %d deletes), %d in-flight ops, %d refused; losses %d, duplicates %d, invented %d, corrupt %d, "
        "validate failures %d, index disagreements %d, unexpected server errors %d; %d kills during recovery%s" % (
            "FAIL" if status else "PASS", args.rounds, elapsed, seed, t["acked_writes"], t["acked_inserts"],
            t["acked_batch_docs"], t["acked_incs"], t["acked_deletes"], t["inflight_ops"],
            t["rejected"] + t["dup_id_rejected"],
            failures["lost"], failures["duplicate"], failures["invented"], failures["corrupt"],
            failures["validate"], failures["index"] + failures["unique"], t["unexpected_errors"], t["recovery_kills"],
            "" if not status else "; other failures: %s" % dict(
                (k, v) for k, v in failures.items()
                if k not in ("lost", "duplicate", "invented", "corrupt", "validate", "index", "unique"))))
    return status


if __name__ == "__main__":
    sys.exit(main())
