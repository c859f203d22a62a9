// Naming the cause of a failure from its message, for new entries of
// known_failures.json (--update-known keeps the reasons already written
// there, so these are first drafts that a person may refine).
import { ISSUES } from "./skips.mjs";

// Every reason starts with one of three prefixes: "server:" (a Docket
// difference from MongoDB 6.0 that no open issue covers), "feature of an open
// issue: <title>" (the behaviour belongs to that issue), or "driver:" (the
// Node.js driver causes the failure, not the server; docs/conformance.md lists
// these apart). Rules are tried in order; a rule's third element "id" matches
// the test id instead of the failure message.
const RULES = [
  // --- the Node.js driver ---
  [/backpressure-retryable-|labels \[RetryableError, SystemOverloadedError\]/,
    "driver: the Node.js driver 6.x does not retry on the RetryableError and SystemOverloadedError labels " +
    "(client backpressure came in driver 7.2.0, NODE-7142); Docket returns the failCommand error with those labels as the test asks", "id"],
  [/expectResult\.insertedIds: unexpected field/,
    "driver: after network errors the Node.js driver's MongoBulkWriteError result lists insertedIds for documents it only queued " +
    "(none was written; the spec expects {} or unset); the driver's own runner ignores extra keys in nested results"],
  [/bypassDocumentValidation: expected false, but the field is missing/,
    "driver: the Node.js driver 6.x never sends bypassDocumentValidation: false (NODE-6484); not a server difference"],
  [/create-null-ids/, "driver: the Node.js driver replaces a null _id with a generated ObjectId (NODE-6468); not a server difference", "id"],
  [/download when final chunk is missing/, "driver: the Node.js driver does not report a missing final GridFS chunk; not a server difference", "id"],
  // --- features of open issues ---
  [/transaction options inherited from client/,
    "driver: the Node.js driver assigns the client's readConcern object to the transaction's first command and then " +
    "adds afterClusterTime to that same object, so the recorded event of the first transaction shows the second " +
    "transaction's afterClusterTime (the expected first event has none); the server returns operationTime on every reply", "id"],
  [/runs extra op|reset session state (abort|commit)|increment txnNumber/,
    "driver: the test data expects readConcern.afterClusterTime on a write outside a transaction in a causally " +
    "consistent session (a 2026 change of the causal-consistency spec); the Node.js driver in tests/node sends it only " +
    "on commands that support read concern (its commandSupportsReadConcern excludes insert), so the field is missing; " +
    "the server returns operationTime on every reply", "id"],
  [/no such command: 'mapReduce'/,
    `feature of an open issue: ${ISSUES.query} (the mapReduce command, deprecated since 5.0 but still in 6.0: ` +
    "Docket answers CommandNotFound 59; it needs server-side JavaScript, like $where and $function)"],
  // --- server differences ---
  [/versioned-api\/(crud-api-version-1-strict|runcommand-helper-no-api-version-declared) ::/,
    "server: Stable API parameters are not checked: Docket answers ok to an apiVersion other than \"1\" (MongoDB 6.0: APIVersionError 322), " +
    "to apiStrict without apiVersion (4886600), and under apiStrict: true to commands and stages outside API Version 1, " +
    "such as distinct and $listLocalSessions (APIStrictError 323)", "id"],
  [/testVersion2|testDeprecationInVersion2/,
    "server: the test-only Stable API commands testVersion2 and testDeprecationInVersion2 are missing (CommandNotFound 59); " +
    "mongod 6.0 with test commands enabled answers APIStrictError 323 for testVersion2 under apiVersion 1 with apiStrict, and " +
    "APIDeprecationError 324 for testDeprecationInVersion2 under apiVersion 2 with apiDeprecationErrors (acceptApiVersion2)"],
  [/\$listLocalSessions/,
    "server: the $listLocalSessions stage fails with CommandNotSupported 115; MongoDB 6.0 runs it with {aggregate: 1} " +
    "in any database and returns the sessions in the server's session cache (the caller's own at least)"],
  [/Cannot run 'createIndexes' in a multi-document transaction/,
    "server: createIndexes inside a transaction fails with OperationNotSupportedInTransaction 263; MongoDB 6.0 (since 4.4) " +
    "builds the index inside the transaction when the collection does not exist or was created earlier in the same transaction"],
  [/errorResponse\.key(Pattern|Value)/,
    "server: the DuplicateKey (11000) error of $merge with whenMatched: 'fail' lacks keyPattern and keyValue; " +
    "MongoDB 6.0 includes both, as for any duplicate key error"],
  [/readConcern linearizable with out stage/,
    "server: aggregate with $out and readConcern linearizable succeeds; MongoDB 6.0 refuses it with InvalidOptions 72 " +
    "\"$out cannot be used with a 'linearizable' read concern level\"", "id"],
  [/\$ prefixed field names/, "server: inserts reject top-level $-prefixed field names (MongoDB 5.0+ stores them)"],
  [/sort option unsupported/, "server: update/replace statements accept a sort option (MongoDB before 8.0 rejects it)", "id"],
  [/Cannot run 'create' in a multi-document transaction/, "server: create is refused inside transactions (allowed since MongoDB 4.4)"],
  [/implicitly create collection using insert/, "server: a collection created implicitly inside a transaction is visible before the commit", "id"],
  [/write concern error on commit/, "server: commitTransaction with an unsatisfiable write concern (w: 10) succeeds instead of returning a write concern error", "id"],
  [/no such command: '(\w+)'/, (m) => `server: the ${m[1]} command is not implemented (CommandNotFound 59)`],
  [/^timeout:/, "timeout: the server did not answer within the operation timeout"],
  [/^runner:/, "runner: the runner cannot execute this test"],
];

export function causeOf(failure) {
  for (const [pattern, reason, field] of RULES) {
    const text = field === "id" ? failure.id : failure.message ?? "";
    const m = pattern.exec(text);
    if (m) return typeof reason === "function" ? reason(m) : reason;
  }
  const first = String(failure.message ?? "").split("\n")[0];
  return first.length > 160 ? `${first.slice(0, 160)}…` : first;
}

export function isDriverCause(reason) {
  return /^driver:/.test(reason);
}
