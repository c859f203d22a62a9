// Deciding whether a test is skipped, and why, from what the test file
// declares: runOnRequirements, and the operations and options it uses. The
// reasons come from a short fixed list; a test is never skipped because it
// fails.

export const ISSUES = {
  query: "Query features applications reach for: collation, text search, geospatial, and the rest of the query language",
  changeLog: "The change log: insertion order, capped collections, tailable cursors, the oplog, change streams and causal consistency",
  operators: "What operators, ODMs and tools expect of a server: profiler, views, validation, collMod, currentOp, metrics, explain, logs",
  distribution: "Distribution: install it like a library, start it like mongod, move data in and out like MongoDB",
};

export const REASONS = {
  sharding: "needs sharding",
  secondMember: "needs a second member",
  driverSide: "driver-side check",
  serverVersion: "server version",
  auth: "needs authentication",
  // A topology requirement that the other of the two runs (standalone,
  // one-member replica set) meets: the test runs there.
  otherMode: "other topology (runs in the other mode)",
  openIssue: (key) => `feature of an open issue: ${ISSUES[key]}`,
};

// --- runOnRequirements ---------------------------------------------------------

function versionOf(text) {
  const parts = String(text).split(/[.-]/).slice(0, 3).map((p) => Number.parseInt(p, 10) || 0);
  while (parts.length < 3) parts.push(0);
  return parts;
}

function compareVersions(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

const SHARDED = new Set(["sharded", "sharded-replicaset", "load-balanced"]);

// Why one requirement is not met (null when it is). `server` is
// { version: [M, m, p], topology: "single" | "replicaset", auth: false }.
// Several unmet parts: the most fundamental one is named.
function unmet(requirement, server) {
  const problems = [];
  const { minServerVersion, maxServerVersion, topologies, serverless, auth, authMechanism, csfle, serverParameters, ...rest } = requirement;
  void serverParameters; // see docs/conformance.md: not used to skip
  if (Object.keys(rest).length) return { reason: null, error: `unknown runOnRequirement field(s) ${Object.keys(rest).join(", ")}` };
  if (csfle) return { reason: null, error: "runOnRequirement csfle: client-side encryption is not supported by this runner" };
  if (minServerVersion !== undefined && compareVersions(server.version, versionOf(minServerVersion)) < 0) problems.push("version");
  if (maxServerVersion !== undefined && compareVersions(server.version, versionOf(maxServerVersion)) > 0) problems.push("version");
  if (topologies !== undefined && !topologies.includes(server.topology)) {
    const other = server.topology === "single" ? "replicaset" : "single";
    problems.push(topologies.every((t) => SHARDED.has(t)) ? "sharding" : topologies.includes(other) ? "otherMode" : "sharding");
  }
  if (serverless === "require") problems.push("sharding");
  if (auth === true && !server.auth) problems.push("auth");
  if (auth === false && server.auth) problems.push("auth");
  if (authMechanism !== undefined) problems.push("auth");
  if (!problems.length) return null;
  for (const key of ["sharding", "auth", "version", "otherMode"]) {
    if (problems.includes(key)) return { reason: key };
  }
  return { reason: problems[0] };
}

// The skip reason for a list of requirements (null: some requirement is met).
// Among unmet requirements, the reason of the one closest to being met wins
// (e.g. "server version" over "needs sharding" when either would do).
export function requirementsSkip(requirements, server) {
  if (!requirements || requirements.length === 0) return null;
  const verdicts = requirements.map((r) => unmet(r, server));
  if (verdicts.some((v) => v === null)) return null;
  const error = verdicts.find((v) => v.error);
  if (error) return { error: error.error };
  for (const key of ["otherMode", "version", "auth", "sharding"]) {
    if (verdicts.some((v) => v.reason === key)) {
      return { reason: key === "version" ? REASONS.serverVersion : REASONS[key] };
    }
  }
  return { reason: REASONS.sharding };
}

// --- what the test uses --------------------------------------------------------

function allOperations(operations, out = []) {
  for (const op of operations ?? []) {
    out.push(op);
    if (op.name === "withTransaction") allOperations(op.arguments?.callback, out);
  }
  return out;
}

// Every key and every string value anywhere in a value.
function walk(value, visit) {
  if (Array.isArray(value)) { for (const v of value) walk(v, visit); return; }
  if (value !== null && typeof value === "object" && value._bsontype === undefined && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) { visit(k, v); walk(v, visit); }
  }
}

function entityDescriptions(file, test) {
  const list = [...(file.createEntities ?? [])];
  for (const op of allOperations(test.operations)) {
    if (op.object === "testRunner" && op.name === "createEntities") list.push(...(op.arguments?.entities ?? []));
  }
  return list;
}

// Entity ids a test refers to (as operation object or session argument).
function referencedIds(test) {
  const ids = new Set();
  for (const op of allOperations(test.operations)) {
    ids.add(op.object);
    if (typeof op.arguments?.session === "string") ids.add(op.arguments.session);
  }
  return ids;
}

const GEO_OPERATORS = new Set(["$near", "$nearSphere", "$geoWithin", "$geoIntersects", "$geoNear", "$within", "$box", "$center", "$centerSphere", "$polygon"]);
const OPERATOR_COMMANDS = new Set(["currentOp", "killOp", "profile", "explain", "validate"]);

// The open issue whose feature the test uses, or null.
function openIssueOf(file, test, server) {
  // Snapshot reads are the change log's feature on a replica set; a
  // standalone refuses them as mongod does (NotAReplicaSet), so tests of
  // that refusal run.
  const snapshotIsFeature = server.topology !== "single";
  const ops = allOperations(test.operations);
  const used = new Set();
  const note = (key) => used.add(key);
  for (const op of ops) {
    // Change streams exist now (aggregate/change_stream.h); pre- and post-images do not.
    if (op.name === "getSnapshotTime") note("changeLog");
    if (op.name === "createIndex" && Object.values(op.arguments?.keys ?? {}).some((v) => ["text", "2d", "2dsphere", "geoHaystack"].includes(v))) note("query");
    walk(op.arguments ?? {}, (key, value) => {
      if (key === "changeStreamPreAndPostImages") note("changeLog");
      if (key === "$text" || GEO_OPERATORS.has(key)) note("query");
      // validator, validationLevel, validationAction and viewOn exist now (engine/validation.h, engine/views.h).
      if (key === "timeseries" || key === "clusteredIndex") note("operators");
      if (OPERATOR_COMMANDS.has(key)) note("operators");
    });
  }
  const ids = referencedIds(test);
  for (const description of entityDescriptions(file, test)) {
    const [kind] = Object.keys(description);
    const spec = description[kind];
    if (!ids.has(spec.id)) continue;
    if (kind === "session") {
      const options = spec.sessionOptions ?? {};
      if (options.snapshot && snapshotIsFeature) note("changeLog");
    }
    if (kind === "collection" && spec.collectionOptions?.readConcern?.level === "snapshot" && snapshotIsFeature) note("changeLog");
  }
  for (const key of ["changeLog", "query", "operators", "distribution"]) if (used.has(key)) return key;
  return null;
}

// A test that only checks what the driver does before sending anything:
// every operation either is startTransaction (client-side only) or expects a
// client-side error while the test asserts that no command was sent.
function isDriverSideOnly(test) {
  const ops = test.operations.filter((op) => !(op.object === "testRunner" && op.name === "createEntities"));
  if (!ops.some((op) => op.expectError?.isClientError === true)) return false;
  const noCommands = Array.isArray(test.expectEvents) && test.expectEvents.length > 0 &&
    test.expectEvents.every((e) => (e.eventType ?? "command") === "command" && e.events.length === 0);
  return ops.every((op) => op.name === "startTransaction" ||
    (op.expectError?.isClientError === true && noCommands && op.object !== "testRunner"));
}

// A test that needs a secondary: an operation outside a session with read
// preference mode "secondary" (inside a session the tests expect the
// transaction error), or a client whose default read preference is
// "secondary": the Node.js driver selects a server with that read preference
// to connect at all, which a one-member set cannot satisfy (nor can a
// one-member mongod replica set).
function needsSecondMember(file, test) {
  for (const op of allOperations(test.operations)) {
    const mode = op.arguments?.readPreference?.mode;
    if (mode === "secondary" && op.name !== "startTransaction" && op.name !== "withTransaction" && op.arguments?.session === undefined) return true;
  }
  for (const description of entityDescriptions(file, test)) {
    const spec = description.client;
    if (spec && /^secondary$/i.test(String(spec.uriOptions?.readPreference ?? ""))) return true;
  }
  return false;
}

// { reason } to skip, { error } when the requirements cannot be evaluated,
// or null to run the test.
export function skipDecision(file, test, server) {
  const fromFile = requirementsSkip(file.runOnRequirements, server);
  if (fromFile) return fromFile;
  const fromTest = requirementsSkip(test.runOnRequirements, server);
  if (fromTest) return fromTest;
  if (test.skipReason) return { reason: `declared by the test: ${test.skipReason}` };
  const issue = openIssueOf(file, test, server);
  if (issue) return { reason: REASONS.openIssue(issue) };
  if (needsSecondMember(file, test)) return { reason: REASONS.secondMember };
  if (isDriverSideOnly(test)) return { reason: REASONS.driverSide };
  return null;
}
