"""Starts and stops one `docket serve --memory --port 0` process."""
import re
import signal
import subprocess

import pymongo


class DocketServer:
    """A running `docket serve`, in memory, on a port the system picked.

    The constructor returns once the server printed its ready line; stop()
    sends SIGTERM and returns the exit code (0 after a clean shutdown)."""

    def __init__(self, binary, replica_set=None):
        command = [binary, "serve", "--memory", "--port", "0", "--quiet"]
        if replica_set:
            command += ["--replica-set", replica_set]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"port (\d+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError("docket serve did not start: %r %s" % (line, self.process.stderr.read()))
        self.port = int(match.group(1))
        self.replica_set = replica_set
        self.uri = "mongodb://127.0.0.1:%d/%s" % (self.port, "?replicaSet=" + replica_set if replica_set else "")

    def client(self, **options):
        return pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=5000, **options)

    def stop(self, timeout=30):
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
