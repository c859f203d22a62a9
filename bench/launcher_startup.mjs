// Start-to-first-answer through npm's mongodb-memory-server with Docket as
// its mongod (MONGOMS_SYSTEM_BINARY: a `mongod` symlink to docket): create
// the server, connect, insert one document and read it back, stop. Prints
// the median and each run's milliseconds as JSON. Run by
// bench/run_launcher_bench.sh from tests/node (its node_modules).
import { MongoClient } from "mongodb";
import { MongoMemoryServer } from "mongodb-memory-server-core";

const runs = Number(process.argv[2] || 20);
const times = [];
for (let i = 0; i < runs; i++) {
  const start = process.hrtime.bigint();
  const server = await MongoMemoryServer.create();
  const client = await MongoClient.connect(server.getUri());
  await client.db("t").collection("c").insertOne({ _id: 1 });
  const doc = await client.db("t").collection("c").findOne({ _id: 1 });
  if (!doc) throw new Error("no answer");
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
  await client.close();
  await server.stop();
}
const sorted = [...times].sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: sorted[Math.floor(sorted.length / 2)], runs: times }));
