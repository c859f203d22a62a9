// Finding and reading the spec test files: which folders, which files, and
// parsing each file as Extended JSON with the BSON types kept.
import fs from "node:fs";
import path from "node:path";
import mongodb from "mongodb";
const { Double, Int32 } = mongodb;
const { EJSON } = mongodb.BSON;

// The folders this runner covers, relative to the specs root. `name` is what
// the results table shows.
export const FOLDERS = [
  { name: "crud", dir: "crud/tests/unified" },
  { name: "collection-management", dir: "collection-management/tests" },
  { name: "index-management", dir: "index-management/tests" },
  { name: "run-command", dir: "run-command/tests/unified" },
  { name: "gridfs", dir: "gridfs/tests" },
  { name: "versioned-api", dir: "versioned-api/tests" },
  { name: "sessions", dir: "sessions/tests" },
  { name: "transactions", dir: "transactions/tests/unified" },
  { name: "transactions-convenient-api", dir: "transactions-convenient-api/tests/unified" },
  { name: "retryable-reads", dir: "retryable-reads/tests/unified" },
  { name: "retryable-writes", dir: "retryable-writes/tests/unified" },
  { name: "change-streams", dir: "change-streams/tests/unified" },
];

// Plain JSON numbers arrive as Int32 or Double wrappers; make them native
// numbers so that driver options (limit, batchSize, ...) receive numbers. A
// Double with an integral value stays wrapped: it was written as
// {$numberDouble: "1.0"} on purpose and must reach the server as a double.
function normalize(value) {
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Int32) return value.value;
  if (value instanceof Double) return Number.isInteger(value.value) ? value : value.value;
  if (value !== null && typeof value === "object" && value._bsontype === undefined &&
      !(value instanceof Date) && !(value instanceof RegExp) && !ArrayBuffer.isView(value)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
    return out;
  }
  return value;
}

export function parseSpecText(text) {
  return normalize(EJSON.parse(text, { relaxed: false }));
}

// A unified-format file has a top-level schemaVersion; the legacy formats
// (runOn/data/tests with "operations" of another shape) do not.
export function isUnifiedFormat(doc) {
  return doc && typeof doc.schemaVersion === "string" && Array.isArray(doc.tests);
}

// Every .json file of a folder, sorted, with its parsed content (or the parse
// error, which the runner reports as a failure of that file).
export function loadFolder(specsRoot, folder) {
  const dir = path.join(specsRoot, folder.dir);
  if (!fs.existsSync(dir)) return { missing: true, files: [] };
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  return {
    missing: false,
    files: files.map((f) => {
      const full = path.join(dir, f);
      try {
        return { name: f, path: full, doc: parseSpecText(fs.readFileSync(full, "utf8")) };
      } catch (error) {
        return { name: f, path: full, error };
      }
    }),
  };
}

export function testId(folderName, fileName, description) {
  return `${folderName}/${fileName.replace(/\.json$/, "")} :: ${description}`;
}
