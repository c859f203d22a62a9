// Naming the cause of a failure from its message, for new entries of
// known_failures.json (--update-known keeps the reasons already written
// there, so these are first drafts that a person may refine).
import { ISSUES } from "./skips.mjs";

// Causes that lie in the Node.js driver rather than in the server start with
// "driver:"; docs/conformance.md lists them apart.
const RULES = [
  [/configureFailPoint not implemented/, "configureFailPoint not implemented"],
  [/bypassDocumentValidation: expected false, but the field is missing/,
    "driver: the Node.js driver 6.x never sends bypassDocumentValidation: false (NODE-6484); not a server difference"],
  [/create-null-ids/, "driver: the Node.js driver replaces a null _id with a generated ObjectId (NODE-6468); not a server difference", "id"],
  [/download when final chunk is missing/, "driver: the Node.js driver does not report a missing final GridFS chunk; not a server difference", "id"],
  [/afterClusterTime|\$clusterTime/,
    `replies carry no operationTime and no $clusterTime, so drivers cannot send afterClusterTime or gossip the cluster time (causal consistency, open issue: ${ISSUES.changeLog})`],
  [/\$listLocalSessions/, "the $listLocalSessions aggregation stage is not implemented"],
  [/\$ prefixed field names/, "inserts reject top-level $-prefixed field names (MongoDB 5.0+ stores them)"],
  [/errorResponse\.key(Pattern|Value)/, "DuplicateKey error replies lack keyPattern and keyValue"],
  [/sort option unsupported/, "update/replace statements accept a sort option (MongoDB before 8.0 rejects it)", "id"],
  [/readConcern linearizable with out stage/, "readConcern linearizable is accepted with $out (MongoDB rejects it)", "id"],
  [/testVersion2|testDeprecationInVersion2/, "the Stable API test commands testVersion2 and testDeprecationInVersion2 are not implemented"],
  [/crud-api-version-1-strict :: distinct/, "apiStrict: true does not reject commands outside API Version 1 (distinct)", "id"],
  [/runcommand-helper-no-api-version-declared/, "an unknown or invalid apiVersion declaration is accepted instead of rejected", "id"],
  [/Cannot run '(create|createIndexes)' in a multi-document transaction/, "create and createIndexes are refused inside transactions (allowed since MongoDB 4.4)"],
  [/implicitly create collection using insert/, "a collection created implicitly inside a transaction is visible before the commit", "id"],
  [/write concern error on commit/, "commitTransaction with an unsatisfiable write concern (w: 10) succeeds instead of returning a write concern error", "id"],
  [/no such command: 'mapReduce'/, "the mapReduce command is not implemented"],
  [/no such command: '(\w+)'/, (m) => `the ${m[1]} command is not implemented`],
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
