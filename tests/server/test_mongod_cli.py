"""`docket mongod ...` and docket run as `mongod` (a symlink): mongod's
command line as launchers pass it (mongodb-memory-server, fixtures): the
`--version` block they parse, the "Waiting for connections" line they wait
for, the options mapped onto the server, the harmless ones ignored aloud,
the rest refused with mongod's exit code for bad options."""
import json
import os
import re
import signal
import subprocess

import pymongo
import pytest

from conftest import DOCKET


@pytest.fixture
def mongod(tmp_path):
    link = tmp_path / "bin" / "mongod"
    link.parent.mkdir()
    os.symlink(os.path.abspath(DOCKET), link)
    return str(link)


def start(command):
    """Starts a mongod-style server; returns (process, port, lines read until ready)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Waiting for connections" in line:
            entry = json.loads(line)
            assert entry["c"] == "NETWORK" and entry["id"] == 23016 and entry["s"] == "I"
            return process, entry["attr"]["port"], lines
    process.kill()
    raise AssertionError("no 'Waiting for connections' line: %r %s" % (lines, process.stderr.read()))


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_version_block_as_launchers_parse_it(mongod):
    for command in ([mongod, "--version"], [DOCKET, "mongod", "--version"]):
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0
        assert re.match(r"db version v(\d+\.\d+\.\d+)\n", out.stdout).group(1) == "6.0.0"
        assert json.loads(out.stdout.split("Build Info: ", 1)[1])["version"] == "6.0.0"


def test_an_in_memory_server_as_mongodb_memory_server_starts_it(mongod, tmp_path):
    process, port, _ = start([mongod, "--port", "0", "--storageEngine", "ephemeralForTest", "--bind_ip", "127.0.0.1",
                              "--noauth", "--dbpath", str(tmp_path), "--setParameter", "enableTestCommands=1",
                              "--setParameter", "ttlMonitorSleepSecs=1"])
    try:
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
        client.t.c.insert_one({"_id": 1})
        assert client.t.c.find_one() == {"_id": 1}
        opts = client.admin.command("getCmdLineOpts")
        assert opts["parsed"]["setParameter"]["enableTestCommands"] == "1"
        # Honoured, not ignored: the TTL monitor runs every second.
        assert client.admin.command("getParameter", 1, ttlMonitorSleepSecs=1)["ttlMonitorSleepSecs"] == 1
        assert os.listdir(tmp_path) == ["bin"], "an ephemeralForTest server wrote files"
        client.close()
    finally:
        stop(process)
    assert "ttlMonitorSleepSecs=1 accepted and ignored" not in process.stderr.read()


def test_a_replica_set_member_says_it_is_primary(mongod):
    process, port, lines = start([mongod, "--port=0", "--storageEngine=inMemory", "--replSet", "rs0", "--bind_ip",
                                  "localhost"])
    try:
        for line in process.stdout:
            lines.append(line)
            if "database writes are now permitted" in line:
                break
        client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
        assert client.admin.command("hello")["setName"] == "rs0"
        client.close()
    finally:
        stop(process)
    assert any("Transition to primary complete; database writes are now permitted" in l for l in lines)


def test_on_disk_the_data_directory_must_exist_and_keeps_the_data(mongod, tmp_path):
    missing = subprocess.run([mongod, "--port", "0", "--dbpath", str(tmp_path / "nope")], capture_output=True,
                             text=True, timeout=30)
    assert missing.returncode == 100 and "Data directory" in missing.stderr and "not found" in missing.stderr
    data = tmp_path / "db"
    data.mkdir()
    log = tmp_path / "mongod.log"
    for round_ in range(2):
        process, port, _ = start([mongod, "--port", "0", "--dbpath", str(data), "--logpath", str(log), "--logappend"])
        try:
            client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
            if round_ == 0:
                client.t.c.insert_one({"_id": "kept"})
            else:
                assert client.t.c.find_one() == {"_id": "kept"}
            client.close()
        finally:
            stop(process)
    # The log went to the file, appended by the second run, not to stderr.
    assert log.read_text().count("Shutting down") == 2
    assert process.stderr.read() == ""


@pytest.mark.parametrize("args,says", [
    (["--fork"], "--fork is not supported"),
    (["--auth"], "no authentication"),
    (["--config", "/nonexistent/mongod.conf"], "cannot read the configuration file /nonexistent/mongod.conf"),
    (["-f"], "option -f needs a value"),
    (["--storageEngine", "mmapv1"], "mmapv1 is not supported"),
    (["--bind_ip", "127.0.0.1,::1"], "several addresses"),
    (["--frobnicate"], "unrecognised option '--frobnicate'"),
    (["--port", "70000"], "--port must be"),
    (["--tlsMode", "requireTLS"], "no TLS"),
])
def test_refused_options_exit_as_mongod_does(mongod, args, says):
    out = subprocess.run([mongod, "--storageEngine", "inMemory", *args], capture_output=True, text=True, timeout=30) \
        if "--storageEngine" not in args else subprocess.run([mongod, *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert says in out.stderr


def test_the_shutdown_command_stops_the_server_cleanly(mongod):
    process, port, _ = start([mongod, "--port", "0", "--storageEngine", "inMemory"])
    client = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=5000)
    try:
        with pytest.raises(pymongo.errors.OperationFailure) as e:
            client.t.command("shutdown")
        assert e.value.code == 13  # admin only
        try:
            client.admin.command("shutdown", force=True, timeoutSecs=1)
        except pymongo.errors.AutoReconnect:
            pass  # the connection closed before the reply, as with mongod
        assert process.wait(timeout=30) == 0
    finally:
        client.close()
        if process.poll() is None:
            process.kill()


def test_a_configuration_file_sets_what_its_command_line_equivalents_set(mongod, tmp_path):
    (tmp_path / "db").mkdir()
    conf = tmp_path / "mongod.conf"
    conf.write_text("""# mongod.conf's shape
storage:
  dbPath: %s
  journal:
    enabled: true
net:
  port: 1
  bindIp: 127.0.0.1
replication:
  replSetName: cfg0
setParameter:
  enableTestCommands: 1
""" % (tmp_path / "db"))
    # the command line's --port overrides the file's, wherever it stands
    process, port, lines = start([mongod, "--port", "0", "-f", str(conf)])
    try:
        client = pymongo.MongoClient("127.0.0.1", port, directConnection=True, serverSelectionTimeoutMS=5000)
        assert client.admin.command("hello")["setName"] == "cfg0"
        client.t.c.insert_one({"_id": 1})
        assert client.admin.command("sleep", 1, millis=1)["ok"] == 1  # enableTestCommands
        client.close()
    finally:
        stop(process)
    assert os.listdir(tmp_path / "db")  # the file's dbPath, on disk
    assert "--journal accepted and ignored" in process.stderr.read()


@pytest.mark.parametrize("text,says", [
    ("net:\n  compression:\n    compressors: zstd\n", "unrecognised setting net.compression.compressors"),
    ("processManagement:\n  fork: true\n", "--fork is not supported"),
    ("security:\n  authorization: enabled\n", "no authentication"),
    ("systemLog:\n  destination: syslog\n", "syslog is not supported"),
    ("net:\n  bindIpAll: maybe\n", "net.bindIpAll must be true or false"),
    ("net: [1, 2\n", "not valid YAML"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("net:\n  port:\n", "net.port has no value"),
    ("net:\n  port: [1, 2]\n", "net.port must be a single value"),
    ("storage:\n  engine: mmapv1\n", "mmapv1 is not supported"),
    ("net:\n  port: 99999\n", "--port must be"),
    ("__exec: 'echo hi'\n", "expansion directives"),
])
def test_a_configuration_file_is_refused_setting_by_setting(mongod, tmp_path, text, says):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    out = subprocess.run([mongod, "--storageEngine", "inMemory", "--config", str(conf)], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2
    assert says in out.stderr
