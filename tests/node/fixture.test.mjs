// The npm package in node/ (docket-server), installed from the checkout
// (tests/node/package.json: "file:../../node") and used as a test suite
// would use it under Mocha: a fresh in-memory server per suite, the
// driver against it, a replica set for a transaction, and a clean stop.
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startDocket } from "docket-server";

describe("docket-server (npm install ./node)", function () {
  this.timeout(60000);
  let server;
  before(async () => {
    server = await startDocket();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);  // a clean shutdown
  });

  it("gives a URI any driver connects to, on a free port", async () => {
    assert.match(server.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(server.port > 0);
    const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      const c = client.db("fixture").collection("orders");
      await c.insertMany([{ _id: 1, total: 5 }, { _id: 2, total: 7 }]);
      assert.equal(await c.countDocuments({ total: { $gt: 6 } }), 1);
    } finally {
      await client.close();
    }
  });

  it("starts each server empty (in memory)", async () => {
    const other = await startDocket();
    const client = new MongoClient(other.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      assert.notEqual(other.port, server.port);
      assert.equal(await client.db("fixture").collection("orders").countDocuments({}), 0);
    } finally {
      await client.close();
      assert.equal(await other.stop(), 0);
    }
  });

  it("runs as a one-member replica set for transactions", async () => {
    const rs = await startDocket({ replicaSet: "rs0" });
    assert.match(rs.uri, /\?replicaSet=rs0$/);
    const client = new MongoClient(rs.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      const c = client.db("fixture").collection("accounts");
      await c.insertMany([{ _id: "a", n: 10 }, { _id: "b", n: 0 }]);
      const session = client.startSession();
      await session.withTransaction(async () => {
        await c.updateOne({ _id: "a" }, { $inc: { n: -3 } }, { session });
        await c.updateOne({ _id: "b" }, { $inc: { n: 3 } }, { session });
      });
      await session.endSession();
      assert.deepEqual((await c.find().sort({ _id: 1 }).toArray()).map((d) => d.n), [7, 3]);
    } finally {
      await client.close();
      assert.equal(await rs.stop(), 0);
    }
  });

  it("fails clearly when the binary cannot run", async () => {
    await assert.rejects(startDocket({ bin: "/nonexistent/docket" }), /docket-server: /);
  });
});
