// The special operations of object "testRunner": fail points, session and
// collection/index assertions, createEntities.
import { AssertionFailure, RunnerError, sleep } from "./util.mjs";
import { matchEvent } from "./events.mjs";

function argsOf(op, ctx, required, optional = []) {
  const a = { ...(op.arguments ?? {}) };
  for (const name of required) if (!(name in a)) throw new RunnerError(`${op.name}: missing argument "${name}"`);
  const known = new Set([...required, ...optional]);
  const unknown = Object.keys(a).filter((k) => !known.has(k));
  if (unknown.length) throw new RunnerError(`${op.name}: unsupported argument(s) ${unknown.join(", ")}`);
  if (typeof a.session === "string") a.session = ctx.entities.get(a.session, "session");
  if (typeof a.client === "string") a.client = ctx.entities.get(a.client, "client");
  return a;
}

function check(condition, message) {
  if (!condition) throw new AssertionFailure(message);
}

// Driver transaction states by the names the test format uses.
const TXN_STATES = {
  none: ["NO_TRANSACTION"],
  starting: ["STARTING_TRANSACTION"],
  in_progress: ["TRANSACTION_IN_PROGRESS"],
  committed: ["TRANSACTION_COMMITTED", "TRANSACTION_COMMITTED_EMPTY"],
  aborted: ["TRANSACTION_ABORTED"],
};

async function configureFailPoint(client, failPoint, ctx) {
  if (typeof failPoint?.configureFailPoint !== "string") throw new RunnerError("failPoint: missing configureFailPoint");
  try {
    await client.db("admin").command(failPoint);
  } catch (error) {
    if (error?.code === 59 || /no such (command|cmd)/i.test(String(error?.message))) {
      throw new AssertionFailure(`configureFailPoint not implemented (server: ${error.message})`);
    }
    throw new AssertionFailure(`configureFailPoint ${failPoint.configureFailPoint} failed: ${error?.message}`);
  }
  ctx.failPoints.push({ client, name: failPoint.configureFailPoint });
}

function lastTwoLsids(op, ctx) {
  const a = argsOf(op, ctx, ["client"]);
  const started = a.client.recorder.allCommandStarted;
  check(started.length >= 2, `${op.name}: fewer than two commands observed`);
  const [x, y] = started.slice(-2);
  check(x.command.lsid && y.command.lsid, `${op.name}: a command without lsid (${x.commandName}, ${y.commandName})`);
  return [Buffer.from(x.command.lsid.id.buffer).toString("hex"), Buffer.from(y.command.lsid.id.buffer).toString("hex")];
}

function isDirty(session) {
  const server = session.serverSession;
  return Boolean(server?.isDirty);
}

async function collectionNames(ctx, databaseName) {
  const list = await ctx.internal.db(databaseName).listCollections({}, { nameOnly: true }).toArray();
  return list.map((c) => c.name);
}

async function indexNames(ctx, databaseName, collectionName) {
  try {
    const list = await ctx.internal.db(databaseName).collection(collectionName).listIndexes().toArray();
    return list.map((i) => i.name);
  } catch (error) {
    if (error?.code === 26) return [];
    throw error;
  }
}

function countMatching(client, event, ctx) {
  const type = Object.keys(event)[0];
  const list = type.startsWith("command") ? client.recorder.command : client.recorder.cmap;
  let n = 0;
  for (const observed of list) {
    try { matchEvent(event, observed, ctx, "event"); n++; } catch { /* not this one */ }
  }
  return n;
}

export const runnerOperations = {
  async failPoint(op, ctx) {
    const a = argsOf(op, ctx, ["client", "failPoint"]);
    await configureFailPoint(a.client.client, a.failPoint, ctx);
  },
  async targetedFailPoint(op, ctx) {
    const a = argsOf(op, ctx, ["session", "failPoint"]);
    check(a.session.isPinned, "targetedFailPoint: the session is not pinned to a mongos (sharded topologies only)");
    throw new RunnerError("targetedFailPoint on a pinned mongos is not supported by this runner");
  },
  async assertSessionTransactionState(op, ctx) {
    const a = argsOf(op, ctx, ["session", "state"]);
    const wanted = TXN_STATES[a.state];
    if (!wanted) throw new RunnerError(`assertSessionTransactionState: unknown state ${a.state}`);
    const actual = a.session.transaction?.state;
    check(wanted.includes(actual), `session transaction state: expected ${a.state}, got ${actual}`);
  },
  async assertSessionPinned(op, ctx) {
    const a = argsOf(op, ctx, ["session"]);
    check(a.session.isPinned, "expected the session to be pinned");
  },
  async assertSessionUnpinned(op, ctx) {
    const a = argsOf(op, ctx, ["session"]);
    check(!a.session.isPinned, "expected the session to be unpinned");
  },
  async assertDifferentLsidOnLastTwoCommands(op, ctx) {
    const [x, y] = lastTwoLsids(op, ctx);
    check(x !== y, `expected different lsids on the last two commands, both ${x}`);
  },
  async assertSameLsidOnLastTwoCommands(op, ctx) {
    const [x, y] = lastTwoLsids(op, ctx);
    check(x === y, `expected the same lsid on the last two commands, got ${x} and ${y}`);
  },
  async assertSessionDirty(op, ctx) {
    const a = argsOf(op, ctx, ["session"]);
    check(isDirty(a.session), "expected the session to be dirty");
  },
  async assertSessionNotDirty(op, ctx) {
    const a = argsOf(op, ctx, ["session"]);
    check(!isDirty(a.session), "expected the session not to be dirty");
  },
  async assertCollectionExists(op, ctx) {
    const a = argsOf(op, ctx, ["databaseName", "collectionName"]);
    const names = await collectionNames(ctx, a.databaseName);
    check(names.includes(a.collectionName), `expected collection ${a.databaseName}.${a.collectionName} to exist; have [${names.join(", ")}]`);
  },
  async assertCollectionNotExists(op, ctx) {
    const a = argsOf(op, ctx, ["databaseName", "collectionName"]);
    const names = await collectionNames(ctx, a.databaseName);
    check(!names.includes(a.collectionName), `expected collection ${a.databaseName}.${a.collectionName} not to exist`);
  },
  async assertIndexExists(op, ctx) {
    const a = argsOf(op, ctx, ["databaseName", "collectionName", "indexName"]);
    const names = await indexNames(ctx, a.databaseName, a.collectionName);
    check(names.includes(a.indexName), `expected index ${a.indexName} on ${a.collectionName}; have [${names.join(", ")}]`);
  },
  async assertIndexNotExists(op, ctx) {
    const a = argsOf(op, ctx, ["databaseName", "collectionName", "indexName"]);
    const names = await indexNames(ctx, a.databaseName, a.collectionName);
    check(!names.includes(a.indexName), `expected no index ${a.indexName} on ${a.collectionName}`);
  },
  async createEntities(op, ctx) {
    const a = argsOf(op, ctx, ["entities"]);
    await ctx.entities.create(a.entities);
  },
  async assertNumberConnectionsCheckedOut(op, ctx) {
    const a = argsOf(op, ctx, ["client", "connections"]);
    await new Promise((resolve) => setImmediate(resolve));
    const n = a.client.recorder.checkedOut;
    check(n === a.connections, `expected ${a.connections} connection(s) checked out, got ${n}`);
  },
  async assertEventCount(op, ctx) {
    const a = argsOf(op, ctx, ["client", "event", "count"]);
    const n = countMatching(a.client, a.event, ctx);
    check(n === a.count, `expected ${a.count} matching event(s), got ${n}`);
  },
  async waitForEvent(op, ctx) {
    const a = argsOf(op, ctx, ["client", "event", "count"]);
    const deadline = Date.now() + 10000;
    while (countMatching(a.client, a.event, ctx) < a.count) {
      check(Date.now() < deadline, `waitForEvent: fewer than ${a.count} matching event(s) after 10 s`);
      await sleep(20);
    }
  },
  async wait(op, ctx) {
    const a = argsOf(op, ctx, ["ms"]);
    await sleep(a.ms);
  },
};
