"""The server's log as mongod's (issue 18, logs): --log-format json writes
mongod's structured line (t, s, c, id, ctx, msg, attr) on every line, start
and shutdown included; text lines carry a timestamp and a severity;
--quiet keeps errors only; --logpath writes to a file that SIGUSR1 and the
logRotate command rotate (renamed to <path>.<time>, a new one started, no
line lost); getLog returns the recent lines."""
import json
import re
import signal
import subprocess
import time

import pymongo
import pytest
from pymongo.errors import OperationFailure

from conftest import DOCKET


def run(*args, work=None):
    """Starts docket serve with `args`, runs `work(client)`, stops it; returns stderr."""
    process = subprocess.Popen([DOCKET, "serve", "--memory", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"port (\d+)", process.stdout.readline()).group(1))
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
        client.t.c.insert_one({"_id": 1})
        if work:
            work(client)
        client.close()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0
        return err
    finally:
        if process.poll() is None:
            process.kill()


def test_json_lines_are_mongods_from_start_to_shutdown():
    def build(client):
        client.t.c.create_index("a")  # logs the index build's lines

    lines = [line for line in run("--log-format", "json", work=build).splitlines() if line]
    assert lines, "nothing logged"
    entries = []
    for line in lines:  # every line is JSON; say which one is not
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise AssertionError("a log line is not JSON (%s): %r\nall lines: %r" % (e, line, lines)) from None
    for e in entries:
        assert set(e) >= {"t", "s", "c", "id", "ctx", "msg"} and "$date" in e["t"], e
        assert e["s"] in "IWEF"
    ids = [e["id"] for e in entries]
    assert ids[0] == 23016 and entries[0]["attr"]["port"] > 0  # Waiting for connections
    assert 20384 in ids and 20663 in ids  # the index build
    assert ids[-1] == 23138 and entries[-1]["msg"] == "Shutting down"


def test_text_lines_have_time_and_severity_and_quiet_keeps_errors_only():
    lines = [line for line in run().splitlines() if line]
    assert lines and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 [IWEF]  \S+ +\[[^\]]+\] ", line)
                         for line in lines), lines
    assert run("--quiet") == ""


def test_logpath_rotates_on_sigusr1_and_log_rotate(tmp_path):
    path = tmp_path / "docket.log"
    process = subprocess.Popen([DOCKET, "serve", "--memory", "--port", "0", "--logpath", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(re.search(r"port (\d+)", process.stdout.readline()).group(1))
        assert "Waiting for connections" in path.read_text()
        process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while len(list(tmp_path.glob("docket.log.*"))) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        first = list(tmp_path.glob("docket.log.*"))
        assert len(first) == 1 and "Waiting for connections" in first[0].read_text()
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
        assert client.admin.command("logRotate")["ok"] == 1.0
        with pytest.raises(OperationFailure) as e:
            client.t.command("logRotate")
        assert e.value.code == 13
        rotated = list(tmp_path.glob("docket.log.*"))
        assert len(rotated) == 2
        assert "Log rotation initiated" in path.read_text()
        recent = [json.loads(line) for line in client.admin.command("getLog", "global")["log"]]
        assert recent, "getLog global is empty"
        client.close()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0 and err == "", "the log went to the file, not to stderr"
        assert "Shutting down" in path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
