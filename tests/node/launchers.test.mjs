// npm's mongodb-memory-server, the launcher Node test suites start mongod
// with, running Docket as its mongod (run_launchers.sh points
// MONGOMS_SYSTEM_BINARY at a `mongod` symlink to docket): a standalone and a
// one-member replica set through its own start, replSetInitiate and
// wait-for-primary flow, used by a Mocha test file as a project would.
import assert from "node:assert/strict";

import { MongoClient } from "mongodb";
import { MongoMemoryReplSet, MongoMemoryServer } from "mongodb-memory-server-core";

describe("mongodb-memory-server with Docket as mongod", function () {
  this.timeout(60000);

  it("starts a standalone, serves it and stops it", async () => {
    const server = await MongoMemoryServer.create();
    const client = await MongoClient.connect(server.getUri());
    try {
      const build = await client.db("admin").command({ buildInfo: 1 });
      assert.ok(build.docketVersion, "the server MongoMemoryServer started is not Docket");
      const orders = client.db("shop").collection("orders");
      await orders.insertMany([{ _id: 2, n: 1 }, { _id: 1, n: 2 }]);
      assert.deepEqual(await orders.find().toArray(), [{ _id: 2, n: 1 }, { _id: 1, n: 2 }]);
      const counter = await client.db("shop").collection("counters").findOneAndUpdate(
        { _id: "orders" }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: "after" });
      assert.equal(counter.seq, 1);
    } finally {
      await client.close();
      assert.equal(await server.stop(), true);
    }
  });

  it("starts a one-member replica set that runs transactions", async () => {
    const set = await MongoMemoryReplSet.create({ replSet: { count: 1 } });
    const client = await MongoClient.connect(set.getUri());
    try {
      const hello = await client.db("admin").command({ hello: 1 });
      assert.equal(hello.setName, set.replSetOpts.name);
      assert.equal(hello.isWritablePrimary, true);
      const accounts = client.db("bank").collection("accounts");
      await accounts.insertMany([{ _id: "a", balance: 100 }, { _id: "b", balance: 0 }]);
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          await accounts.updateOne({ _id: "a" }, { $inc: { balance: -30 } }, { session });
          await accounts.updateOne({ _id: "b" }, { $inc: { balance: 30 } }, { session });
        });
      } finally {
        await session.endSession();
      }
      assert.deepEqual(await accounts.find().sort({ _id: 1 }).toArray(),
        [{ _id: "a", balance: 70 }, { _id: "b", balance: 30 }]);
    } finally {
      await client.close();
      await set.stop();
    }
  });
});
