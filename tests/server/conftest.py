"""Starts a real `docket serve` for the tests: in memory, on a free port,
stopped with SIGTERM at the end (which must exit 0). No mocks anywhere."""
import os
import re
import signal
import subprocess

import pymongo
import pytest

DOCKET = os.environ.get("DOCKET_BIN", os.path.join(os.path.dirname(__file__), "../../build/debug/docket"))


class DocketServer:
    def __init__(self, *extra_args, dbpath=None):
        storage = ["--dbpath", dbpath] if dbpath else ["--memory"]
        self.process = subprocess.Popen(
            [DOCKET, "serve", *storage, "--port", "0", "--quiet", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"port (\d+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError("docket serve did not print its ready line: %r %s" %
                               (line, self.process.stderr.read()))
        self.port = int(match.group(1))
        self.uri = "mongodb://127.0.0.1:%d/" % self.port

    def client(self, **kwargs):
        return pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=5000, **kwargs)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


@pytest.fixture(scope="module")
def server():
    s = DocketServer()
    yield s
    assert s.stop() == 0, "docket serve did not shut down cleanly"


@pytest.fixture(scope="module")
def jittery_server():
    """Every command waits 0-5 ms first: races in client code show up."""
    s = DocketServer("--jitter", "0-5", "--seed", "7")
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def rs():
    """A one-member replica set (--replica-set): transactions, the oplog,
    change streams. A module may override it with other options."""
    s = DocketServer("--replica-set", "rs0")
    yield s
    assert s.stop() == 0


@pytest.fixture
def rs_client(rs):
    c = rs.client(directConnection=True)
    yield c
    c.close()


@pytest.fixture
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def db(client, request):
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:50]
    client.drop_database(name)
    yield client[name]
    client.drop_database(name)


def winning_index(explain):
    """The index name of an explained find's winning plan, or None for a
    collection scan."""
    stage = explain["queryPlanner"]["winningPlan"]
    while stage is not None:
        if stage.get("stage") == "IXSCAN":
            return stage["indexName"]
        stage = stage.get("inputStage")
    return None
