"""killSessions, killAllSessions, killAllSessionsByPattern
(src/commands/kill_sessions.cc): the named sessions' open transactions are
aborted and their cursors killed, as mongod does; the sessions stay, and
the killed transaction's next statement gets NoSuchTransaction (251). An
empty list kills every session; Docket has no users, so a list of users
kills none. Bad arguments get MongoDB's codes and nothing is killed."""
import pymongo
import pytest
from bson.binary import Binary, UUID_SUBTYPE

from conftest import DocketServer


@pytest.fixture(scope="module")
def rs():
    s = DocketServer("--replica-set", "rs0")
    yield s
    s.stop()


@pytest.fixture
def client(rs):
    c = rs.client(replicaset="rs0")
    c.test.k.drop()
    c.test.k.insert_many([{"_id": i} for i in range(10)])
    yield c
    c.close()


def open_transaction_and_cursor(client, written_id=100):
    """A session with an open transaction holding a write, and a cursor."""
    session = client.start_session()
    session.start_transaction()
    client.test.k.insert_one({"_id": written_id}, session=session)
    cursor_session = client.start_session()
    cursor = client.test.k.find({}, batch_size=2, session=cursor_session)
    next(cursor)
    return session, cursor_session, cursor


def lsid(session):
    return session.session_id["id"]


def assert_killed(client, session, cursor):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        session.commit_transaction()
    assert e.value.code == 251, e.value.details
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        list(cursor)
    assert e.value.code == 43, e.value.details
    assert client.test.k.count_documents({"_id": 100}) == 0  # the write was rolled back


def test_kill_sessions_by_id(client):
    session, cursor_session, cursor = open_transaction_and_cursor(client)
    other, other_cursor_session, other_cursor = open_transaction_and_cursor(client, written_id=200)
    client.admin.command("killSessions", [{"id": lsid(session)}, {"id": lsid(cursor_session)}])
    assert_killed(client, session, cursor)
    # The other session's transaction and cursor are untouched.
    assert len(list(other_cursor)) == 9
    other.commit_transaction()
    assert client.test.k.count_documents({"_id": 200}) == 1
    # The killed session goes on: a new transaction works.
    session.start_transaction()
    client.test.k.insert_one({"_id": 300}, session=session)
    session.commit_transaction()
    assert client.test.k.count_documents({"_id": 300}) == 1
    for s in (session, cursor_session, other, other_cursor_session):
        s.end_session()


@pytest.mark.parametrize("command", [{"killSessions": []}, {"killAllSessions": []},
                                     {"killAllSessionsByPattern": []}])
def test_an_empty_list_kills_every_session(client, command):
    session, cursor_session, cursor = open_transaction_and_cursor(client)
    client.admin.command(command)
    assert_killed(client, session, cursor)
    session.end_session()
    cursor_session.end_session()


def test_kill_all_sessions_by_pattern_lsid(client):
    session, cursor_session, cursor = open_transaction_and_cursor(client)
    client.admin.command("killAllSessionsByPattern", [{"lsid": {"id": lsid(session)}},
                                                      {"lsid": {"id": lsid(cursor_session)}}])
    assert_killed(client, session, cursor)


def test_named_users_own_no_session(client):
    session, cursor_session, cursor = open_transaction_and_cursor(client)
    client.admin.command("killAllSessions", [{"user": "ada", "db": "admin"}])
    client.admin.command("killAllSessionsByPattern", [{"users": [{"user": "ada", "db": "admin"}]}])
    assert len(list(cursor)) == 9
    session.commit_transaction()
    assert client.test.k.count_documents({"_id": 100}) == 1


@pytest.mark.parametrize("command,code", [
    ({"killSessions": {"id": 1}}, 14),
    ({"killSessions": [5]}, 14),
    ({"killSessions": [{}]}, 40414),
    ({"killSessions": [{"id": "x"}]}, 14),
    ({"killSessions": [{"id": Binary(b"\0" * 16, 0)}]}, 2),
    ({"killAllSessions": [{"user": "ada"}]}, 40414),
    ({"killAllSessions": [{"user": 1, "db": "admin"}]}, 14),
    ({"killAllSessionsByPattern": [{"what": 1}]}, 40415),
])
def test_bad_arguments_kill_nothing(client, command, code):
    session, cursor_session, cursor = open_transaction_and_cursor(client)
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command(command)
    assert e.value.code == code, e.value.details
    assert len(list(cursor)) == 9
    session.commit_transaction()
    assert client.test.k.count_documents({"_id": 100}) == 1
    # A valid id after a bad one: the whole command is refused first.
    if "killSessions" in command and isinstance(command["killSessions"], list):
        session.start_transaction()
        client.test.k.insert_one({"_id": 101}, session=session)
        with pytest.raises(pymongo.errors.OperationFailure):
            client.admin.command("killSessions", [{"id": lsid(session)}] + command["killSessions"])
        session.commit_transaction()
        assert client.test.k.count_documents({"_id": 101}) == 1
