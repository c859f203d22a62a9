"""Runs a docket command with a pseudo-terminal for standard error, as a
user at a shell would, and returns what it drew there (progress bars)."""
import os
import pty
import select
import subprocess
import time

from conftest import DOCKET


def run_on_terminal(args):
    """Runs docket with a terminal for standard error; what it drew there.
    Fails unless the command exits 0."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([DOCKET, *args], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    assert proc.returncode == 0, seen
    return seen
