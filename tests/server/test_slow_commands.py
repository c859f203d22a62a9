"""A slow command stalls only its own connection: commands run on the pool
thread that read them, and when every thread is blocked in a command the
server adds one. `sleep` (a test command, as MongoDB's enableTestCommands)
blocks a thread deterministically; the pool starts at one thread here, so
without the growth every other connection would wait for the sleeps."""
import threading
import time

import pymongo
import pytest

from conftest import DocketServer


@pytest.fixture(scope="module")
def one_thread_server():
    s = DocketServer("--workers", "1", "--enable-test-commands")
    yield s
    assert s.stop() == 0, "docket serve did not shut down cleanly"


def test_sleep_is_not_a_command_without_the_flag(client):
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        client.admin.command("sleep", 1, millis=1)
    assert e.value.code == 59


def test_sleep_rejects_bad_durations(one_thread_server):
    c = one_thread_server.client()
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        c.admin.command("sleep", 1, secs=-1)
    assert e.value.code == 2
    with pytest.raises(pymongo.errors.OperationFailure) as e:
        c.admin.command("sleep", 1, millis="long")
    assert e.value.code == 14
    c.close()


def test_blocked_threads_do_not_stall_other_connections(one_thread_server):
    sleepers = 4
    sleep_ms = 1500
    clients = [one_thread_server.client() for _ in range(sleepers)]
    for c in clients:
        c.admin.command("ping")  # connected before the clock starts
    pinger = one_thread_server.client()
    pinger.admin.command("ping")

    started = threading.Barrier(sleepers + 1)
    finished = []

    def sleep(c):
        started.wait()
        c.admin.command("sleep", 1, millis=sleep_ms)
        finished.append(time.monotonic())

    threads = [threading.Thread(target=sleep, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    started.wait()
    begin = time.monotonic()
    time.sleep(0.2)  # every sleeper is inside its command now
    worst = 0.0
    pings = 0
    while time.monotonic() - begin < sleep_ms / 1000.0 - 0.3:
        t0 = time.monotonic()
        pinger.admin.command("ping")
        worst = max(worst, time.monotonic() - t0)
        pings += 1
    for t in threads:
        t.join()

    assert len(finished) == sleepers
    # Served while all four sleeps held threads (each ping waits at most for
    # the monitor's 2 ms grace and a thread start, not for a sleep).
    assert pings > 10
    assert worst < 0.5, "a ping waited %.3f s behind sleeping commands" % worst
    # The sleeps ran side by side, not one after another on the one base thread.
    assert max(finished) - begin < 2 * sleep_ms / 1000.0
    for c in clients + [pinger]:
        c.close()
