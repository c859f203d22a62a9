"""The Stable API parameters, $listLocalSessions, and the aggregate checks
found by the drivers' conformance tests (versioned-api, crud/db-aggregate,
aggregate-merge-errorResponse, aggregate-out-readConcern): each answer is
MongoDB 6.0's, code and shape."""
import pymongo
import pytest
from bson.son import SON
from pymongo.errors import OperationFailure

from conftest import DocketServer


@pytest.fixture(scope="module")
def test_server():
    s = DocketServer("--replica-set", "rs0", "--enable-test-commands")
    yield s
    assert s.stop() == 0


@pytest.fixture
def rs(test_server):
    c = test_server.client(directConnection=True)
    yield c
    c.close()


def code_of(db, command):
    with pytest.raises(OperationFailure) as failure:
        db.command(command)
    return failure.value.code


def test_api_version_other_than_one_is_refused(client):
    db = client.stable_api
    assert code_of(db, SON([("ping", 1), ("apiVersion", "3")])) == 322
    # "2" exists only where test commands are enabled
    assert code_of(db, SON([("ping", 1), ("apiVersion", "2")])) == 322
    assert db.command(SON([("ping", 1), ("apiVersion", "1")]))["ok"] == 1


def test_api_parameters_have_their_types_checked(client):
    db = client.stable_api
    assert code_of(db, SON([("ping", 1), ("apiVersion", 1)])) == 14
    assert code_of(db, SON([("ping", 1), ("apiVersion", "1"), ("apiStrict", 1)])) == 14
    assert code_of(db, SON([("ping", 1), ("apiVersion", "1"), ("apiDeprecationErrors", "yes")])) == 14


def test_strict_or_deprecation_errors_need_a_version(client):
    db = client.stable_api
    assert code_of(db, SON([("ping", 1), ("apiStrict", True)])) == 4886600
    assert code_of(db, SON([("ping", 1), ("apiDeprecationErrors", False)])) == 4886600


def test_strict_refuses_commands_outside_version_one(client):
    db = client.stable_api
    assert code_of(db, SON([("serverStatus", 1), ("apiVersion", "1"), ("apiStrict", True)])) == 323
    # not strict: any command runs
    assert db.command(SON([("serverStatus", 1), ("apiVersion", "1"), ("apiStrict", False)]))["ok"] == 1
    assert db.command(SON([("find", "c"), ("apiVersion", "1"), ("apiStrict", True)]))["ok"] == 1


def test_strict_refuses_stages_outside_version_one(client):
    db = client.stable_api
    pipeline = [{"$listLocalSessions": {}}]
    cmd = SON([("aggregate", 1), ("pipeline", pipeline), ("cursor", {}), ("apiVersion", "1"), ("apiStrict", True)])
    assert code_of(db, cmd) == 323
    nested = [{"$lookup": {"from": "x", "pipeline": [{"$listLocalSessions": {}}], "as": "y"}}]
    cmd = SON([("aggregate", "c"), ("pipeline", nested), ("cursor", {}), ("apiVersion", "1"), ("apiStrict", True)])
    assert code_of(db, cmd) == 323


def test_version_two_and_deprecation_with_test_commands(rs):
    db = rs.admin
    assert db.command(SON([("testVersion2", 1), ("apiVersion", "2"), ("apiStrict", True)]))["ok"] == 1
    assert code_of(db, SON([("testVersion2", 1), ("apiVersion", "1"), ("apiStrict", True)])) == 323
    assert code_of(db, SON([("testDeprecation", 1), ("apiVersion", "1"), ("apiDeprecationErrors", True)])) == 324
    assert db.command(SON([("testDeprecation", 1), ("apiVersion", "1")]))["ok"] == 1


def test_test_commands_do_not_exist_without_the_flag(client):
    assert code_of(client.admin, SON([("testVersion2", 1)])) == 59


def test_a_transaction_keeps_the_api_parameters_of_its_first_command(rs):
    coll = rs.stable_api.txn
    coll.insert_one({"_id": 0})
    with rs.start_session() as session:
        session.start_transaction()
        db = rs.stable_api
        db.command(SON([("insert", "txn"), ("documents", [{"_id": 1}]), ("apiVersion", "1")]), session=session)
        with pytest.raises(OperationFailure) as failure:
            db.command(SON([("insert", "txn"), ("documents", [{"_id": 2}])]), session=session)
        assert failure.value.code == 325
        session.abort_transaction()
    assert coll.count_documents({}) == 1


def test_list_local_sessions_lists_the_sessions_used(client):
    with client.start_session() as session:
        client.stable_api.c.find_one({}, session=session)
        listed = list(client.admin.aggregate([{"$listLocalSessions": {}}]))
        ids = [entry["_id"]["id"] for entry in listed]
        own = session.session_id["id"].as_uuid()
        assert own in ids
        entry = listed[ids.index(own)]
        assert len(entry["_id"]["uid"]) == 32  # SHA-256 of the (unauthenticated) user
        assert "lastUse" in entry
        # the rest of the pipeline runs on what it lists
        matched = list(client.admin.aggregate([{"$listLocalSessions": {}},
                                               {"$match": {"_id.id": session.session_id["id"]}}]))
        assert [m["_id"]["id"] for m in matched] == [own]


def test_list_local_sessions_errors(client):
    db = client.admin
    agg = lambda coll, pipeline: SON([("aggregate", coll), ("pipeline", pipeline), ("cursor", {})])
    assert code_of(db, agg("c", [{"$listLocalSessions": {}}])) == 73  # needs {aggregate: 1}
    assert code_of(db, agg(1, [{"$match": {}}, {"$listLocalSessions": {}}])) == 40602  # first stage only
    assert code_of(db, agg(1, [{"$listLocalSessions": {"allUsers": True, "users": [{"user": "a", "db": "b"}]}}])) == 12
    assert code_of(db, agg(1, [{"$listLocalSessions": {"bogus": 1}}])) == 40415


def test_list_sessions_on_config_system_sessions(client):
    with client.start_session() as session:
        client.stable_api.c.find_one({}, session=session)
        own = session.session_id["id"].as_uuid()
        listed = list(client.config.system.sessions.aggregate([{"$listSessions": {"allUsers": True}}]))
        assert own in [entry["_id"]["id"] for entry in listed]
        mine = list(client.config.system.sessions.aggregate([{"$listSessions": {}},
                                                             {"$match": {"_id.id": session.session_id["id"]}}]))
        assert len(mine) == 1 and len(mine[0]["_id"]["uid"]) == 32 and "lastUse" in mine[0]
    db = client.admin
    agg = lambda coll, pipeline: SON([("aggregate", coll), ("pipeline", pipeline), ("cursor", {})])
    assert code_of(db, agg(1, [{"$listSessions": {}}])) == 73
    assert code_of(db, agg("c", [{"$listSessions": {}}])) == 73
    assert code_of(client.config, agg("system.sessions", [{"$match": {}}, {"$listSessions": {}}])) == 40602
    assert code_of(client.config, agg("system.sessions", [{"$listSessions": {"bogus": 1}}])) == 40415


def test_merge_fail_reports_the_duplicate_key(client):
    db = client.stable_api
    db.src.drop()
    db.dst.drop()
    db.src.insert_many([{"_id": 1, "x": 1}])
    db.dst.insert_one({"_id": 1, "x": 0})
    with pytest.raises(OperationFailure) as failure:
        db.src.aggregate([{"$merge": {"into": "dst", "whenMatched": "fail"}}])
    assert failure.value.code == 11000
    assert failure.value.details["keyPattern"] == {"_id": 1}
    assert failure.value.details["keyValue"] == {"_id": 1}
    assert db.dst.find_one({"_id": 1})["x"] == 0  # nothing overwritten


def test_out_refuses_linearizable_read_concern(rs):
    db = rs.stable_api
    db.src.insert_one({"_id": 1})
    for stage in ({"$out": "o"}, {"$merge": {"into": "o"}}):
        cmd = SON([("aggregate", "src"), ("pipeline", [stage]), ("cursor", {}),
                   ("readConcern", {"level": "linearizable"})])
        assert code_of(db, cmd) == 72
    assert "o" not in db.list_collection_names()
