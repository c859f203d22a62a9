// Runs the unified-format spec tests against one running server (one mode)
// and writes the results as JSON. scripts/conformance.sh starts the servers
// and calls this once per mode, then report.mjs.
//
//   node run.mjs --uri mongodb://127.0.0.1:PORT/ --mode standalone --out results.json
//                [--specs DIR] [--folder crud,gridfs] [--filter TEXT] [--verbose] [--trace]
// --verbose prints each failure; --trace also prints each test and every error
// an operation raised (expected or not).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import mongodb from "mongodb";
import { FOLDERS, isUnifiedFormat, loadFolder } from "./load.mjs";
import { killAllSessions, runFile } from "./execute.mjs";

const { MongoClient } = mongodb;
const here = path.dirname(fileURLToPath(import.meta.url));

class UsageError extends Error {}

function parseArgs(argv) {
  const args = {
    specs: path.resolve(here, "../../../../shared/conformance/specs"),
    opTimeoutMs: 20000, testTimeoutMs: 60000, recoveryTimeoutMs: 75000, verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${key} needs a value`);
      return argv[++i];
    };
    switch (key) {
      case "--uri": args.uri = value(); break;
      case "--mode": args.mode = value(); break;
      case "--out": args.out = value(); break;
      case "--specs": args.specs = path.resolve(value()); break;
      case "--folder": args.folders = value().split(",").filter(Boolean); break;
      case "--filter": args.filter = value(); break;
      case "--op-timeout": args.opTimeoutMs = Number(value()) * 1000; break;
      case "--verbose": args.verbose = true; break;
      case "--trace": args.trace = true; break;
      default: throw new UsageError(`unknown argument ${key}`);
    }
  }
  if (!args.uri || !args.mode) throw new UsageError("--uri and --mode are required");
  return args;
}

async function describeServer(internal) {
  const admin = internal.db("admin");
  const build = await admin.command({ buildInfo: 1 });
  const hello = await admin.command({ hello: 1 });
  const version = (build.versionArray ?? String(build.version).split(".")).slice(0, 3).map(Number);
  const topology = hello.setName ? "replicaset" : hello.msg === "isdbgrid" ? "sharded" : "single";
  return { version, versionString: build.version, topology, auth: false };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const unknown = (args.folders ?? []).filter((name) => !FOLDERS.some((f) => f.name === name));
  if (unknown.length) {
    throw new UsageError(`unknown folder(s) ${unknown.join(", ")}; known: ${FOLDERS.map((f) => f.name).join(", ")}`);
  }
  if (!fs.existsSync(args.specs)) {
    console.log(`skipped: ${args.specs} not found`);
    return 0;
  }
  const clientOptions = { serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 500 };
  const internal = new MongoClient(args.uri, clientOptions);
  await internal.connect();
  const server = await describeServer(internal);
  const env = {
    uri: args.uri, internal, server, clientOptions,
    opTimeoutMs: args.opTimeoutMs, testTimeoutMs: args.testTimeoutMs, recoveryTimeoutMs: args.recoveryTimeoutMs,
    trace: args.trace,
  };
  await killAllSessions(env);

  const started = Date.now();
  const results = [];
  const legacy = [];
  let unifiedFiles = 0;
  const folders = FOLDERS.filter((f) => !args.folders || args.folders.includes(f.name));
  console.log(`[${args.mode}] server ${server.versionString}, topology ${server.topology}, ${args.uri}`);
  for (const folder of folders) {
    const t0 = Date.now();
    const { missing, files } = loadFolder(args.specs, folder);
    if (missing) { console.log(`[${args.mode}] ${folder.name}: folder ${folder.dir} not found`); continue; }
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const file of files) {
      if (!file.error && !isUnifiedFormat(file.doc)) { legacy.push(`${folder.dir}/${file.name}`); continue; }
      unifiedFiles++;
      const onResult = (r) => {
        counts[r.status]++;
        if (args.verbose && r.status === "failed") console.log(`  FAIL ${r.id}\n       ${r.message}`);
      };
      results.push(...await runFile(folder, file, env, { filter: args.filter, onResult }));
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`[${args.mode}] ${folder.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${seconds} s)`);
  }
  if (legacy.length) console.log(`[${args.mode}] skipped ${legacy.length} legacy-format file(s): ${legacy.join(", ")}`);
  await internal.close(true);

  const output = {
    mode: args.mode, server, folders: folders.map((f) => f.name), filter: args.filter ?? null,
    unifiedFiles, legacyFiles: legacy, seconds: Math.round((Date.now() - started) / 100) / 10, results,
  };
  if (args.out) fs.writeFileSync(args.out, JSON.stringify(output, null, 1));
  return 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`run.mjs: ${error instanceof UsageError ? error.message : error?.stack ?? error}`);
  process.exit(2);
});
