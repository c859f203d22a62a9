// Smoke runs of the Node.js driver and of mongosh against a real
// `docket serve --memory --port 0` (DOCKET_BIN), started and stopped here.
// Exits non-zero on the first failed check.
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";

const here = path.dirname(fileURLToPath(import.meta.url));
const docket = process.env.DOCKET_BIN ?? path.join(here, "../../build/debug/docket");

function startServer() {
  const child = spawn(docket, ["serve", "--memory", "--port", "0", "--quiet"], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const match = /port (\d+)/.exec(line);
      if (!match) reject(new Error(`no ready line: ${line}`));
      else resolve({ child, uri: `mongodb://127.0.0.1:${match[1]}/` });
    });
    child.once("exit", (code) => reject(new Error(`docket serve exited with ${code}`)));
  });
}

async function nodeDriver(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const c = client.db("node").collection("items");
  const inserted = await c.insertOne({ _id: 1, n: 1, tags: ["a"] });
  assert.equal(inserted.insertedId, 1);
  await c.insertMany([2, 3, 4].map((i) => ({ _id: i, n: i })));
  assert.deepEqual((await c.find({ n: { $gte: 2 } }).sort({ n: -1 }).toArray()).map((d) => d._id), [4, 3, 2]);
  const updated = await c.updateOne({ _id: 2 }, { $inc: { n: 10 } });
  assert.equal(updated.modifiedCount, 1);
  const counter = await client.db("node").collection("counters").findOneAndUpdate(
    { _id: "seq" }, { $inc: { value: 1 } }, { upsert: true, returnDocument: "after" });
  assert.equal(counter.value, 1);
  await c.createIndex({ _id: 1 });  // the _id index always exists
  assert.equal(await c.createIndex({ n: 1 }, { unique: true }), "n_1");
  await assert.rejects(c.insertOne({ _id: 9, n: 1 }), (e) => e.code === 11000);
  const top = await c.aggregate([{ $match: { n: { $gt: 1 } } }, { $sort: { n: -1 } }, { $limit: 2 }]).toArray();
  assert.deepEqual(top.map((d) => d._id), [2, 4]);
  assert.equal(await c.countDocuments({ n: { $gt: 1 } }), 3);
  const grouped = await c.aggregate([
    { $group: { _id: { $gt: ["$n", 2] }, total: { $sum: "$n" }, ids: { $push: "$_id" } } },
    { $sort: { _id: 1 } },
  ]).toArray();
  assert.deepEqual(grouped, [{ _id: false, total: 1, ids: [1] }, { _id: true, total: 19, ids: [2, 3, 4] }]);
  const joined = await c.aggregate([
    { $match: { _id: 1 } },
    { $lookup: { from: "items", let: { n: "$n" }, pipeline: [{ $match: { $expr: { $gt: ["$n", "$$n"] } } }, { $count: "bigger" }], as: "cmp" } },
    { $project: { _id: 0, cmp: 1 } },
  ]).toArray();
  assert.deepEqual(joined, [{ cmp: [{ bigger: 3 }] }]);
  await c.updateOne({ _id: 3 }, [{ $set: { doubled: { $multiply: ["$n", 2] } } }]);
  assert.equal((await c.findOne({ _id: 3 })).doubled, 6);
  await assert.rejects(c.insertOne({ _id: 1 }), (e) => e.code === 11000);
  await client.close();
  console.log("node driver: ok");
}

function mongosh(uri) {
  const bin = path.join(here, "node_modules/.bin/mongosh");
  const script = `
    const d = db.getSiblingDB("shell");
    d.items.insertOne({_id: 1, n: 1});
    d.items.updateOne({_id: 1}, {$set: {n: 2}});
    const after = d.items.findOneAndUpdate({_id: "seq"}, {$inc: {v: 1}}, {upsert: true, returnNewDocument: true});
    const indexName = d.items.createIndex({n: 1});
    print(JSON.stringify({
      found: d.items.find({_id: 1}).toArray(),
      seq: after.v,
      indexName,
      counted: d.items.aggregate([{$match: {}}, {$count: "k"}]).toArray(),
      summed: d.items.aggregate([{$group: {_id: null, s: {$sum: {$ifNull: ["$n", 0]}}}}]).toArray(),
    }));`;
  const out = execFileSync(bin, [uri, "--quiet", "--norc", "--eval", script], { encoding: "utf8", timeout: 60000 });
  const result = JSON.parse(out.trim().split("\n").pop());
  assert.deepEqual(result.found, [{ _id: 1, n: 2 }]);
  assert.equal(result.seq, 1);
  assert.equal(result.indexName, "n_1");
  assert.deepEqual(result.counted, [{ k: 2 }]);
  assert.deepEqual(result.summed, [{ _id: null, s: 2 }]);
  console.log("mongosh: ok");
}

// What operators reach for in mongosh: a view, a $jsonSchema rejection that
// names the property, the profiler as a query counter, the stats helpers,
// and explain of an aggregation showing its index.
function mongoshOperatorTools(uri) {
  const bin = path.join(here, "node_modules/.bin/mongosh");
  const script = `
    const d = db.getSiblingDB("tools");
    d.c.insertMany([{_id: 1, a: 1}, {_id: 2, a: 2}, {_id: 3, a: 2}]);
    d.c.createIndex({a: 1});
    d.createCollection("twos", {viewOn: "c", pipeline: [{$match: {a: 2}}]});
    d.createCollection("people", {validator: {$jsonSchema: {required: ["name"], properties: {name: {bsonType: "string"}}}}});
    let rejected = null;
    try { d.people.insertOne({name: 5}); } catch (e) { rejected = e.errInfo.details.schemaRulesNotSatisfied[0]; }
    d.setProfilingLevel(2);
    d.c.find({a: 1}).toArray();
    d.c.findOne({a: 2});
    d.setProfilingLevel(0);
    const plan = d.c.explain().aggregate([{$match: {a: 2}}, {$group: {_id: "$a"}}]);
    print(JSON.stringify({
      view: d.twos.find().sort({_id: 1}).toArray(),
      rejectedProperty: rejected.propertiesNotSatisfied[0].propertyName,
      queries: d.system.profile.countDocuments({op: "query", ns: "tools.c"}),
      count: d.c.stats().count,
      views: d.stats().views,
      totalSize: Number(d.c.totalSize()) > 0,
      index: JSON.stringify(plan.stages[0].$cursor.queryPlanner.winningPlan).includes("a_1"),
    }));`;
  const out = execFileSync(bin, [uri, "--quiet", "--norc", "--eval", script], { encoding: "utf8", timeout: 60000 });
  const result = JSON.parse(out.trim().split("\n").pop());
  assert.deepEqual(result.view, [{ _id: 2, a: 2 }, { _id: 3, a: 2 }]);
  assert.equal(result.rejectedProperty, "name");
  assert.equal(result.queries, 2);
  assert.equal(result.count, 3);
  assert.equal(result.views, 1);
  assert.equal(result.totalSize, true);
  assert.equal(result.index, true);
  console.log("mongosh operator tools: ok");
}

// Collation through the Node.js driver: a case-insensitive unique index
// refuses a case variant, and a collated find uses it.
async function nodeCollation(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const c = client.db("node").collection("people");
  const ci = { locale: "en", strength: 2 };
  await c.createIndex({ email: 1 }, { unique: true, collation: ci });
  await c.insertOne({ email: "Ada@Example.com" });
  await assert.rejects(c.insertOne({ email: "ada@example.COM" }), (e) => e.code === 11000);
  const found = await c.find({ email: "ADA@EXAMPLE.COM" }, { collation: ci }).toArray();
  assert.equal(found.length, 1);
  const plan = await c.find({ email: "ADA@EXAMPLE.COM" }, { collation: ci }).explain();
  assert.ok(JSON.stringify(plan.queryPlanner.winningPlan).includes("email_1"));
  assert.equal((await c.find({ email: "ADA@EXAMPLE.COM" }).toArray()).length, 0);
  await assert.rejects(c.find({}, { collation: { locale: "nowhere" } }).toArray(), (e) => e.code === 2);
  await client.close();
  console.log("node driver collation: ok");
}

// Collation in mongosh: a collection whose default collation is
// case-insensitive, its sort and its unique index.
function mongoshCollation(uri) {
  const bin = path.join(here, "node_modules/.bin/mongosh");
  const script = `
    const d = db.getSiblingDB("shellcoll");
    d.createCollection("names", {collation: {locale: "en", strength: 2}});
    d.names.createIndex({n: 1}, {unique: true});
    d.names.insertMany([{n: "b"}, {n: "Ada"}, {n: "Carl"}]);
    let duplicate = 0;
    try { d.names.insertOne({n: "ADA"}); } catch (e) { duplicate = e.code; }
    print(JSON.stringify({
      sorted: d.names.find({}, {_id: 0}).sort({n: 1}).toArray().map((x) => x.n),
      binary: d.names.find({}, {_id: 0}).sort({n: 1}).collation({locale: "simple"}).toArray().map((x) => x.n),
      duplicate,
      found: d.names.countDocuments({n: "carl"}),
      hashed: convertShardKeyToHashed(42).toString(),
    }));`;
  const out = execFileSync(bin, [uri, "--quiet", "--norc", "--eval", script], { encoding: "utf8", timeout: 60000 });
  const result = JSON.parse(out.trim().split("\n").pop());
  assert.deepEqual(result.sorted, ["Ada", "b", "Carl"]);
  assert.deepEqual(result.binary, ["Ada", "Carl", "b"]);
  assert.equal(result.duplicate, 11000);
  assert.equal(result.found, 1);
  assert.equal(result.hashed, "-944302157085130861");  // mongod's own test vector
  console.log("mongosh collation and hashing: ok");
}

// Text search through the Node.js driver and mongosh: a text index, a search
// with the score projected and sorted (mongod's figures for these
// documents), and the score in an aggregation.
async function nodeTextSearch(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const c = client.db("node").collection("articles");
  await c.insertMany([
    { _id: 1, title: "test" }, { _id: 2, title: "test test" }, { _id: 3, title: "Quick test" }, { _id: 4, title: "none" },
  ]);
  assert.equal(await c.createIndex({ title: "text" }), "title_text");
  const found = await c.find({ $text: { $search: "tests" } }, { projection: { score: { $meta: "textScore" } } })
    .sort({ score: { $meta: "textScore" } }).toArray();
  assert.deepEqual(found.map((d) => [d._id, d.score]), [[2, 1.5], [1, 1.1], [3, 0.75]]);
  const top = await c.aggregate([
    { $match: { $text: { $search: "quick" } } }, { $project: { s: { $meta: "textScore" } } },
  ]).toArray();
  assert.deepEqual(top, [{ _id: 3, s: 0.75 }]);
  await assert.rejects(c.find({ _id: 1 }, { projection: { s: { $meta: "textScore" } } }).toArray(),
    (e) => e.code === 40218);
  await client.close();
  console.log("node driver text search: ok");
}

function mongoshTextSearch(uri) {
  const bin = path.join(here, "node_modules/.bin/mongosh");
  const script = `
    const d = db.getSiblingDB("shelltext");
    d.posts.insertMany([{t: "Running dogs"}, {t: "a dog"}, {t: "cats"}]);
    d.posts.createIndex({t: "text"});
    print(JSON.stringify(d.posts.find({$text: {$search: "dog"}}, {_id: 0, t: 1, s: {$meta: "textScore"}})
      .sort({s: {$meta: "textScore"}}).toArray()));`;
  const out = execFileSync(bin, [uri, "--quiet", "--norc", "--eval", script], { encoding: "utf8", timeout: 60000 });
  const result = JSON.parse(out.trim().split("\n").pop());
  // "a dog": one term after the stop word "a" (1.0); "Running dogs": two (0.75).
  assert.deepEqual(result, [{ t: "a dog", s: 1 }, { t: "Running dogs", s: 0.75 }]);
  console.log("mongosh text search: ok");
}

// Geo through the Node.js driver and mongosh: a 2dsphere index, $near
// nearest first within a radius, a $geoNear pipeline whose distances are
// the great-circle distances on MongoDB's sphere (R = 6378100 m), and the
// 16755 write error.
const metresPerDegree = (6378100 * Math.PI) / 180;
async function nodeGeo(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const c = client.db("node").collection("places");
  const at = (lng, lat) => ({ type: "Point", coordinates: [lng, lat] });
  await c.insertMany([{ _id: "five", loc: at(5, 0) }, { _id: "one", loc: at(1, 0) }, { _id: "two", loc: at(2, 0) },
    { _id: "none" }]);
  assert.equal(await c.createIndex({ loc: "2dsphere" }), "loc_2dsphere");
  const near = await c.find({ loc: { $near: { $geometry: at(0, 0), $maxDistance: 3 * metresPerDegree } } }).toArray();
  assert.deepEqual(near.map((d) => d._id), ["one", "two"]);
  const measured = await c.aggregate([
    { $geoNear: { near: at(0, 0), distanceField: "d", spherical: true } }, { $project: { d: 1 } },
  ]).toArray();
  assert.deepEqual(measured.map((d) => d._id), ["one", "two", "five"]);
  for (const [i, k] of [[0, 1], [1, 2], [2, 5]]) {
    assert.ok(Math.abs(measured[i].d - k * metresPerDegree) < 1e-6 * k * metresPerDegree, JSON.stringify(measured));
  }
  await assert.rejects(c.insertOne({ _id: "bad", loc: { type: "Point", coordinates: [200, 0] } }),
    (e) => e.code === 16755 && /^Can't extract geo keys/.test(e.message));
  await client.close();
  console.log("node driver geo: ok");
}

function mongoshGeo(uri) {
  const bin = path.join(here, "node_modules/.bin/mongosh");
  const script = `
    const d = db.getSiblingDB("shellgeo");
    d.cities.insertMany([{n: "north", loc: [0, 10]}, {n: "east", loc: [30, 0]}, {n: "here", loc: [0, 0.5]}]);
    d.cities.createIndex({loc: "2dsphere"});
    print(JSON.stringify(d.cities.find({loc: {$nearSphere: [0, 0]}}, {_id: 0, n: 1}).toArray().map(c => c.n)
      .concat(d.cities.countDocuments({loc: {$geoWithin: {$centerSphere: [[0, 0], 0.2]}}}))));`;
  const out = execFileSync(bin, [uri, "--quiet", "--norc", "--eval", script], { encoding: "utf8", timeout: 60000 });
  const result = JSON.parse(out.trim().split("\n").pop());
  // 0.2 radians is 11.46 degrees: "here" and "north", not "east".
  assert.deepEqual(result, ["here", "north", "east", 2]);
  console.log("mongosh geo: ok");
}

const { child, uri } = await startServer();
let failed = false;
try {
  await nodeDriver(uri);
  await nodeCollation(uri);
  mongosh(uri);
  mongoshOperatorTools(uri);
  mongoshCollation(uri);
  await nodeTextSearch(uri);
  mongoshTextSearch(uri);
  await nodeGeo(uri);
  mongoshGeo(uri);
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  child.kill("SIGTERM");
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) {
    console.error(`docket serve exited with ${code} after SIGTERM`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
