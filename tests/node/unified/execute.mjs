// Executing the tests of one file against a server: initialData, entities,
// operations, expectEvents, outcome, and the cleanup after each test.
import { EntityMap } from "./entities.mjs";
import { checkExpectedEvents } from "./events.mjs";
import { runOperation } from "./operations.mjs";
import { deepEqualUnordered } from "./matcher.mjs";
import { skipDecision } from "./skips.mjs";
import { testId } from "./load.mjs";
import { AssertionFailure, RunnerError, TimeoutFailure, show, withTimeout } from "./util.mjs";

// Schema versions 1.x this runner reads (files declare 1.0 to 1.21 today).
function schemaSupported(version) {
  const [major] = String(version).split(".").map(Number);
  return major === 1;
}

async function dropIfExists(db, name) {
  try {
    await db.collection(name).drop({ writeConcern: { w: "majority" } });
  } catch (error) {
    if (error?.code !== 26 && !/ns not found|not exist/i.test(String(error?.message))) throw error;
  }
}

// A test abandoned after a timeout must not go on sending commands in the
// background: every step checks the flag first.
function checkAborted(ctx) {
  if (ctx.aborted) throw new TimeoutFailure("timeout: the test was abandoned");
}

async function setUpInitialData(initialData, env, ctx) {
  for (const data of initialData ?? []) {
    const db = env.internal.db(data.databaseName);
    checkAborted(ctx);
    await dropIfExists(db, data.collectionName);
    for (const name of [`enxcol_.${data.collectionName}.esc`, `enxcol_.${data.collectionName}.ecoc`]) {
      checkAborted(ctx);
      try { await dropIfExists(db, name); } catch { /* names the server may refuse */ }
    }
  }
  for (const data of initialData ?? []) {
    const db = env.internal.db(data.databaseName);
    const majority = { writeConcern: { w: "majority" } };
    checkAborted(ctx);
    if (data.createOptions) await db.createCollection(data.collectionName, { ...data.createOptions, ...majority });
    checkAborted(ctx);
    if (data.documents?.length) {
      await db.collection(data.collectionName).insertMany(data.documents.map((d) => ({ ...d })), majority);
    } else if (!data.createOptions) {
      await db.createCollection(data.collectionName, majority);
    }
  }
}

async function checkOutcome(outcome, env, ctx) {
  for (const data of outcome) {
    checkAborted(ctx);
    const documents = await env.internal.db(data.databaseName).collection(data.collectionName)
      .find({}, { sort: { _id: 1 }, readConcern: { level: "local" }, readPreference: "primary" }).toArray();
    const where = `outcome ${data.databaseName}.${data.collectionName}`;
    if (documents.length !== data.documents.length) {
      throw new AssertionFailure(`${where}: expected ${data.documents.length} document(s) ${show(data.documents, 300)}, found ${documents.length} ${show(documents, 300)}`);
    }
    data.documents.forEach((expected, i) => {
      if (!deepEqualUnordered(expected, documents[i])) {
        throw new AssertionFailure(`${where}[${i}]: expected ${show(expected)}, found ${show(documents[i])}`);
      }
    });
  }
}

async function disableFailPoints(ctx, env) {
  for (const { name } of ctx.failPoints.splice(0)) {
    try {
      await withTimeout(env.internal.db("admin").command({ configureFailPoint: name, mode: "off" }), 5000, "disabling a fail point");
    } catch { /* reported by the test already */ }
  }
}

export async function killAllSessions(env) {
  if (env.killAllSessionsUnsupported) return;
  try {
    await withTimeout(env.internal.db("admin").command({ killAllSessions: [] }), 5000, "killAllSessions");
  } catch (error) {
    if (error?.code === 59) env.killAllSessionsUnsupported = true;
  }
}

function stage(promise, what, ms) {
  return withTimeout(promise, ms, what).catch((error) => {
    if (error instanceof AssertionFailure || error instanceof RunnerError || error instanceof TimeoutFailure) throw error;
    throw new AssertionFailure(`${what}: ${error?.message ?? error}`);
  });
}

async function runTest(doc, test, env) {
  const ctx = {
    entities: new EntityMap({ uri: env.uri, clientOptions: env.clientOptions }),
    internal: env.internal,
    failPoints: [],
    opTimeoutMs: env.opTimeoutMs,
    startedTransaction: false,
    trace: env.trace,
    aborted: false,
  };
  const body = async () => {
    await stage(setUpInitialData(doc.initialData, env, ctx), "initialData", env.opTimeoutMs);
    await stage(ctx.entities.create(doc.createEntities ?? []), "createEntities", env.opTimeoutMs);
    for (const op of test.operations) await runOperation(op, ctx);
    ctx.entities.stopEvents();
    await disableFailPoints(ctx, env);
    for (const expected of test.expectEvents ?? []) {
      const client = ctx.entities.get(expected.client, "client");
      checkExpectedEvents(expected, client.recorder, ctx);
    }
    if (test.expectLogMessages) throw new RunnerError("expectLogMessages is not supported by this runner");
    if (test.outcome) await stage(checkOutcome(test.outcome, env, ctx), "outcome", env.opTimeoutMs);
  };
  let failure = null;
  try {
    await withTimeout(body(), env.testTimeoutMs, "the test");
  } catch (error) {
    failure = error;
  } finally {
    ctx.aborted = true;
    ctx.entities.stopEvents();
    await disableFailPoints(ctx, env);
    await ctx.entities.close();
    if (failure || ctx.startedTransaction) await killAllSessions(env);
  }
  return failure;
}

// After a timeout the server may still be busy with the abandoned command
// (holding the collection): wait, within bounds, until the test's
// collections answer again, so that the next test does not inherit the hang.
async function recoverAfterTimeout(doc, env) {
  const started = Date.now();
  const collections = (doc.initialData ?? []).map((d) => [d.databaseName, d.collectionName]);
  if (!collections.length) collections.push(["admin", null]);
  for (const [db, coll] of collections) {
    try {
      const probe = coll
        ? env.internal.db(db).collection(coll).findOne({}, { projection: { _id: 1 } })
        : env.internal.db(db).command({ ping: 1 });
      await withTimeout(probe, env.recoveryTimeoutMs, "recovery");
      if (coll) await withTimeout(dropIfExists(env.internal.db(db), coll), env.recoveryTimeoutMs, "recovery");
    } catch { /* carry on: the next test reports what it meets */ }
  }
  return Date.now() - started;
}

function messageOf(error) {
  if (error instanceof RunnerError) return `runner: ${error.message}`;
  if (error instanceof AssertionFailure || error instanceof TimeoutFailure) return error.message;
  return `unexpected ${error?.name ?? "error"}: ${error?.message ?? error}${error?.stack ? ` @ ${String(error.stack).split("\n")[1]?.trim()}` : ""}`;
}

// Runs (or skips) every test of a file; returns one record per test.
export async function runFile(folder, file, env, { filter, onResult } = {}) {
  const records = [];
  const record = (r) => { records.push(r); onResult?.(r); };
  if (file.error) {
    record({ id: testId(folder.name, file.name, "(file)"), folder: folder.name, file: file.name, test: "(file)", status: "failed", message: `cannot parse: ${file.error.message}` });
    return records;
  }
  const doc = file.doc;
  for (const test of doc.tests) {
    const id = testId(folder.name, file.name, test.description);
    if (filter && !id.toLowerCase().includes(filter.toLowerCase())) continue;
    const base = { id, folder: folder.name, file: file.name, test: test.description };
    if (!schemaSupported(doc.schemaVersion)) {
      record({ ...base, status: "failed", message: `runner: unsupported schemaVersion ${doc.schemaVersion}` });
      continue;
    }
    const decision = skipDecision(doc, test, env.server);
    if (decision?.reason) { record({ ...base, status: "skipped", reason: decision.reason }); continue; }
    if (decision?.error) { record({ ...base, status: "failed", message: `runner: ${decision.error}` }); continue; }
    const started = Date.now();
    if (env.trace) console.log(`  ${id}`);
    const failure = await runTest(doc, test, env);
    const ms = Date.now() - started;
    if (failure instanceof TimeoutFailure || failure?.cause instanceof TimeoutFailure) {
      const waited = await recoverAfterTimeout(doc, env);
      if (env.trace) console.log(`    waited ${waited} ms for the server after the timeout`);
    }
    if (failure) record({ ...base, status: "failed", message: messageOf(failure), ms });
    else record({ ...base, status: "passed", ms });
  }
  return records;
}
