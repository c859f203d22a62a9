"""What a project's tests look like with `pip install ./python`: the plugin's
fixtures, run by tests/python_fixture/run.sh in a fresh virtualenv."""
import pymongo
import pytest

PORTS = set()


def test_a_fresh_database_per_test(docket, docket_server):
    PORTS.add(docket_server.port)
    assert docket.list_collection_names() == []
    docket.orders.insert_one({"_id": 1, "total": 5})
    assert docket.orders.find_one() == {"_id": 1, "total": 5}


def test_the_next_test_starts_empty_on_the_same_server(docket, docket_server):
    PORTS.add(docket_server.port)
    assert docket.list_collection_names() == []
    assert len(PORTS) == 1, "each test got its own server instead of sharing the session's"


def test_it_is_a_real_database(docket):
    docket.users.create_index("email", unique=True)
    docket.users.insert_one({"email": "ada@example.com"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        docket.users.insert_one({"email": "ada@example.com"})
    counter = docket.counters.find_one_and_update({"_id": "n"}, {"$inc": {"v": 1}}, upsert=True,
                                                   return_document=pymongo.ReturnDocument.AFTER)
    assert counter["v"] == 1
