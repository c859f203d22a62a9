"""The pytest plugin (entry point pytest11 "docket"): fixtures `docket_server`
(one per session), `docket_client` and `docket` (a fresh database per test)."""
import os
import re
import shutil

import pytest

from docket_pytest.server import DocketServer


def pytest_addoption(parser):
    group = parser.getgroup("docket")
    group.addoption("--docket-bin", default=None, help="the docket binary (default: $DOCKET_BIN, else docket on PATH)")
    group.addoption("--docket-replica-set", default=None,
                    help="run the server as a one-member replica set of this name (transactions)")


def _binary(config):
    binary = config.getoption("docket_bin") or os.environ.get("DOCKET_BIN") or shutil.which("docket")
    if not binary:
        raise pytest.UsageError("docket-pytest: no docket binary: pass --docket-bin, set DOCKET_BIN or put docket on PATH")
    return binary


@pytest.fixture(scope="session")
def docket_server(request):
    server = DocketServer(_binary(request.config), replica_set=request.config.getoption("docket_replica_set"))
    yield server
    code = server.stop()
    assert code == 0, "docket serve exited with %s at the end of the session" % code


@pytest.fixture
def docket_client(docket_server):
    client = docket_server.client()
    yield client
    client.close()


@pytest.fixture
def docket(docket_client, request):
    """A database of its own for this test, empty at the start, dropped at the end."""
    name = "test_" + re.sub(r"\W", "_", request.node.name)[:50]
    docket_client.drop_database(name)
    yield docket_client[name]
    docket_client.drop_database(name)
