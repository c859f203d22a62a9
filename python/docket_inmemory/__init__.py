"""A pymongo MongoClient with its own Docket server, in the style of
pymongo_inmemory: constructing the client starts `docket serve --memory` on
a free port, closing it (or leaving its `with` block) stops the server.

    from docket_inmemory import MongoClient

    with MongoClient() as client:
        client.app.orders.insert_one({"_id": 1})

The docket binary comes from the `docket_bin` argument, else DOCKET_BIN, else
`docket` on PATH; `replica_set="rs0"` (or DOCKET_REPLICA_SET) runs a
one-member replica set, for transactions. Every other argument goes to
pymongo.MongoClient."""
import os
import shutil

import pymongo

from docket_pytest.server import DocketServer

__all__ = ["MongoClient"]


class MongoClient(pymongo.MongoClient):
    """pymongo.MongoClient connected to a Docket server of its own.

    `docket_server` is the running server (`.uri`, `.port`, `.stop()`). The
    server stops when the client is closed; a server that does not exit
    cleanly raises RuntimeError from close()."""

    def __init__(self, *args, docket_bin=None, replica_set=None, **kwargs):
        if args and isinstance(args[0], str) and args[0].startswith("mongodb"):
            raise TypeError("docket_inmemory.MongoClient starts its own server: give no host or URI")
        binary = docket_bin or os.environ.get("DOCKET_BIN") or shutil.which("docket")
        if not binary:
            raise RuntimeError("docket_inmemory: no docket binary: pass docket_bin=, set DOCKET_BIN or put docket on PATH")
        replica_set = replica_set or os.environ.get("DOCKET_REPLICA_SET") or None
        self.docket_server = DocketServer(binary, replica_set=replica_set)
        kwargs.setdefault("serverSelectionTimeoutMS", 5000)
        try:
            super().__init__(self.docket_server.uri, *args, **kwargs)
        except Exception:
            self.docket_server.stop()
            raise

    def close(self):
        super().close()
        server = getattr(self, "docket_server", None)
        if server is not None and server.process.poll() is None:
            code = server.stop()
            if code != 0:
                raise RuntimeError("docket serve exited with %s when the client closed" % code)
