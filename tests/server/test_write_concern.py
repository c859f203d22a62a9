"""Write concern a single node cannot satisfy is not acknowledged as if it
were: a standalone refuses w > 1 and tags up front (BadValue, nothing
written); a one-member replica set writes and reports writeConcernError
UnsatisfiableWriteConcern (100) / UnknownReplWriteConcern (79), as MongoDB."""
import pymongo
import pytest
from bson import SON
from pymongo.write_concern import WriteConcern

from conftest import DocketServer


@pytest.fixture(scope="module")
def replica_set():
    s = DocketServer("--replica-set", "rs0")
    yield s
    assert s.stop() == 0


def test_standalone_refuses_what_it_cannot_give(db):
    for wc in [{"w": 2}, {"w": "dc1"}]:
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            db.command(SON([("insert", "c"), ("documents", [{"_id": 1}]), ("writeConcern", wc)]))
        assert e.value.code == 2, e.value.details
    assert db.c.count_documents({}) == 0
    for wc in [{"w": 1}, {"w": "majority"}, {"w": 1, "j": True}, {"w": "majority", "wtimeout": 100}]:
        db.command(SON([("insert", "c"), ("documents", [{}]), ("writeConcern", wc)]))
    assert db.c.count_documents({}) == 4


def test_malformed_write_concern_is_failed_to_parse(db):
    for wc in [{"w": -1}, {"w": 51}, {"w": 1.5}, {"w": True}, {"wibble": 1}, {"j": True, "fsync": True}]:
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            db.command(SON([("insert", "c"), ("documents", [{}]), ("writeConcern", wc)]))
        assert e.value.code == 9, (wc, e.value.details)
    assert db.c.count_documents({}) == 0


def test_reads_take_no_write_concern(db):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        db.command(SON([("find", "c"), ("writeConcern", {"w": 1})]))
    assert e.value.code == 72


def test_replica_set_writes_and_reports_the_unsatisfiable_concern(replica_set):
    client = replica_set.client(replicaSet="rs0")
    db = client.wc_test
    db.c.drop()
    reply = db.command(SON([("insert", "c"), ("documents", [{"_id": 1}]), ("writeConcern", {"w": 2})]))
    assert reply["n"] == 1
    assert reply["writeConcernError"]["code"] == 100
    reply = db.command(SON([("insert", "c"), ("documents", [{"_id": 2}]), ("writeConcern", {"w": "dc1"})]))
    assert reply["writeConcernError"]["code"] == 79
    reply = db.command(SON([("insert", "c"), ("documents", [{"_id": 3}]), ("writeConcern", {"w": "majority"})]))
    assert "writeConcernError" not in reply
    assert db.c.count_documents({}) == 3
    # Through the driver: the write is done, and the error raised.
    with pytest.raises(pymongo.errors.WriteConcernError):
        db.get_collection("c", write_concern=WriteConcern(w=3)).insert_one({"_id": 4})
    assert db.c.count_documents({"_id": 4}) == 1
    client.close()
