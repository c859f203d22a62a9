"""At least 1,000 connections open at once, each answered, while a normal
client keeps working; the server's resident memory is printed for the record."""
import resource
import socket

import bson

from conftest import DocketServer
from test_bad_input import op_msg, read_reply

CONNECTIONS = 1000


def resident_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def test_a_thousand_open_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    server = DocketServer()
    sockets = []
    try:
        idle_kib = resident_kib(server.process.pid)
        for i in range(CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sockets.append(sock)
        for i, sock in enumerate(sockets):
            sock.sendall(op_msg(bson.encode({"hello": 1, "$db": "admin"}), request_id=i + 1))
        for sock in sockets:
            reply = read_reply(sock)
            assert reply is not None and reply["ok"] == 1.0
        with server.client() as client:
            client.t.c.insert_one({"_id": 1})
            assert client.t.c.find_one() == {"_id": 1}
            status = client.admin.command("serverStatus")
            assert status["connections"]["current"] >= CONNECTIONS + 1
        busy_kib = resident_kib(server.process.pid)
        print("\n[connections] resident memory: %d KiB idle, %d KiB with %d open connections" %
              (idle_kib, busy_kib, CONNECTIONS))
    finally:
        for sock in sockets:
            sock.close()
        assert server.stop() == 0
