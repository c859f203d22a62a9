"""docket_inmemory.MongoClient as a project uses it after `pip install
./python` (pymongo_inmemory's style): a server per client, stopped on close."""
import pymongo
import pytest

from docket_inmemory import MongoClient


def test_a_client_brings_its_own_server_and_stops_it():
    with MongoClient() as client:
        server = client.docket_server
        client.app.orders.insert_one({"_id": 1, "total": 5})
        assert client.app.orders.find_one() == {"_id": 1, "total": 5}
        assert server.process.poll() is None
    assert server.process.wait(timeout=30) == 0


def test_two_clients_are_two_databases():
    with MongoClient() as a, MongoClient() as b:
        assert a.docket_server.port != b.docket_server.port
        a.x.c.insert_one({"_id": 1})
        assert b.x.c.count_documents({}) == 0


def test_options_reach_pymongo_and_a_replica_set_runs_transactions():
    with MongoClient(replica_set="rs0", document_class=dict, tz_aware=True) as client:
        assert client.codec_options.tz_aware is True
        with client.start_session() as s, s.start_transaction():
            client.bank.a.insert_one({"_id": 1}, session=s)
        assert client.bank.a.count_documents({}) == 1


def test_a_host_is_refused():
    with pytest.raises(TypeError):
        MongoClient("mongodb://example.invalid/")


def test_a_missing_binary_is_a_clear_error(monkeypatch):
    with pytest.raises((RuntimeError, OSError)):
        MongoClient(docket_bin="/nonexistent/docket")
