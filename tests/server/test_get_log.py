"""getLog "global" returns the server's recent log lines in mongod's JSON
log format (what mongosh's show log and tools parse), also under --quiet,
at most the last 1,024 as mongod's RamLog (src/commands/ram_log.h)."""
import json

from conftest import DocketServer


def test_global_log_has_the_servers_lines_as_mongod_json():
    server = DocketServer("--quiet")
    try:
        client = server.client()
        client.admin.command("ping")
        reply = client.admin.command("getLog", "global")
        lines = [json.loads(line) for line in reply["log"]]
        assert reply["totalLinesWritten"] >= len(lines) > 0
        accepted = [entry for entry in lines if "accepted from" in entry["msg"]]
        assert accepted, lines
        entry = accepted[0]
        assert set(entry) >= {"t", "s", "c", "id", "ctx", "msg"}
        assert entry["t"]["$date"].endswith("+00:00") and entry["s"] == "I"
        assert "global" in client.admin.command("getLog", "*")["names"]
        client.close()
    finally:
        server.stop()


def test_the_global_log_keeps_the_last_1024_lines():
    server = DocketServer()
    try:
        for _ in range(6):  # each client's connections log "accepted" and "ended"
            for _ in range(100):
                c = server.client()
                c.admin.command("ping")
                c.close()
        client = server.client()
        reply = client.admin.command("getLog", "global")
        assert len(reply["log"]) == 1024 and reply["totalLinesWritten"] > 1024, reply["totalLinesWritten"]
        client.close()
    finally:
        server.stop()
