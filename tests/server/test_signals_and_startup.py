"""Signals and startup messages as mongod gives them: SIGUSR1 (log rotation)
and SIGHUP leave the server running; SIGTERM stops it cleanly; a server bound
beyond loopback warns loudly that access control is not enabled."""
import json
import os
import re
import signal
import subprocess
import time

import pymongo

from conftest import DOCKET, DocketServer


def test_sigusr1_and_sighup_do_not_stop_the_server():
    s = DocketServer()
    try:
        client = s.client()
        client.db.c.insert_one({"_id": 1})
        for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGUSR1):
            s.process.send_signal(sig)
            time.sleep(0.2)
            assert s.process.poll() is None, "the server died of signal %d" % sig
            assert client.db.c.find_one({"_id": 1}) == {"_id": 1}
        client.close()
    finally:
        assert s.stop() == 0


def test_binding_beyond_loopback_warns_about_access_control():
    process = subprocess.Popen([DOCKET, "serve", "--memory", "--port", "0", "--quiet", "--bind", "0.0.0.0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        port = int(re.search(r"port (\d+)", line).group(1))
        # As mongod's, the warnings are in getLog "startupWarnings" (mongosh
        # prints them on connecting), one JSON log line each.
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
        log = client.admin.command({"getLog": "startupWarnings"})
        client.close()
        assert log["totalLinesWritten"] == len(log["log"]) == 2
        entries = [json.loads(entry) for entry in log["log"]]
        assert entries[0]["msg"].startswith("Access control is not enabled")
        assert all(e["s"] == "W" and e["tags"] == ["startupWarnings"] and "$date" in e["t"] for e in entries)
        assert "0.0.0.0" in entries[1]["msg"]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "WARNING: Access control is not enabled" in err
        assert "0.0.0.0" in err
    finally:
        if process.poll() is None:
            process.kill()


def test_loopback_bind_has_no_such_warning(server):
    client = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000)
    assert client.admin.command({"getLog": "startupWarnings"})["log"] == []
    client.close()
    # The module's server binds 127.0.0.1: nothing to warn about. (Checked on
    # a fresh process to read its whole stderr.)
    process = subprocess.Popen([DOCKET, "serve", "--memory", "--port", "0", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert "Access control" not in err
