// Checking an operation's error against expectError.
import mongodb from "mongodb";
const {
  MongoBulkWriteError, MongoClientBulkWriteError, MongoServerError,
} = mongodb;
import { AssertionFailure, show } from "./util.mjs";
import { matchValue } from "./matcher.mjs";
import { bulkWriteResultDocument, clientBulkWriteResultDocument, writeResultDocument } from "./results.mjs";

// Codes of the codeNames the spec tests use, for errors that carry a code
// but no codeName (write errors inside a bulk write reply).
const CODES = {
  Interrupted: 11601, MaxTimeMSExpired: 50, NoSuchTransaction: 251, WriteConflict: 112,
  OperationNotSupportedInTransaction: 263, UnknownReplWriteConcern: 79, UnsatisfiableWriteConcern: 100,
  APIStrictError: 323, APIDeprecationError: 324, ChangeStreamFatalError: 280, DuplicateKey: 11000,
};

function describeError(error) {
  const parts = [`${error?.name ?? "Error"}: ${error?.message}`];
  if (error?.code !== undefined) parts.push(`code ${error.code}`);
  if (error?.codeName) parts.push(`(${error.codeName})`);
  const labels = error?.errorLabels ?? (error?.errorLabelSet ? [...error.errorLabelSet] : []);
  if (labels?.length) parts.push(`labels [${labels.join(", ")}]`);
  return parts.join(" ");
}
export { describeError };

// The server errors inside an error: itself, and for bulk writes each write
// error and the write concern error.
function serverParts(error) {
  const parts = [error];
  if (error?.errorResponse && error.errorResponse !== error && typeof error.errorResponse === "object") parts.push(error.errorResponse);
  for (const we of error?.writeErrors ?? []) parts.push(we.err ?? we);
  if (error?.writeConcernError) parts.push(error.writeConcernError.result ?? error.writeConcernError);
  if (error?.writeConcernErrors) for (const wce of error.writeConcernErrors) parts.push(wce);
  if (error?.cause && error instanceof MongoClientBulkWriteError) parts.push(error.cause);
  return parts.filter(Boolean);
}

function isClientSide(error) {
  if (error instanceof MongoBulkWriteError) {
    // A bulk write error wraps the error that stopped it.
    const inner = error.errorResponse;
    if (inner instanceof Error) return !(inner instanceof MongoServerError);
    return false;
  }
  return !(error instanceof MongoServerError);
}

function hasLabel(error, label) {
  if (typeof error?.hasErrorLabel === "function" && error.hasErrorLabel(label)) return true;
  if (error instanceof MongoClientBulkWriteError && error.cause?.hasErrorLabel?.(label)) return true;
  return false;
}

export function checkExpectedError(expected, error, ctx) {
  const what = describeError(error);
  const failWith = (message) => { throw new AssertionFailure(`${message}; got ${what}`); };

  if (expected.isClientError === true && !isClientSide(error)) failWith("expected a client-side error");
  if (expected.isClientError === false && isClientSide(error)) failWith("expected an error from the server");
  if (expected.isTimeoutError === true && error?.name !== "MongoOperationTimeoutError") failWith("expected a timeout error");
  if (expected.isTimeoutError === false && error?.name === "MongoOperationTimeoutError") failWith("expected no timeout error");

  const parts = serverParts(error);
  if (expected.errorContains !== undefined) {
    const needle = expected.errorContains.toLowerCase();
    const texts = parts.map((p) => String(p.message ?? p.errmsg ?? "").toLowerCase());
    if (!texts.some((t) => t.includes(needle))) failWith(`expected the message to contain "${expected.errorContains}"`);
  }
  if (expected.errorCode !== undefined) {
    if (!parts.some((p) => p.code === expected.errorCode)) failWith(`expected error code ${expected.errorCode}`);
  }
  if (expected.errorCodeName !== undefined) {
    const name = expected.errorCodeName.toLowerCase();
    const code = CODES[expected.errorCodeName];
    const ok = parts.some((p) => (typeof p.codeName === "string" && p.codeName.toLowerCase() === name) ||
      (p.codeName === undefined && code !== undefined && p.code === code));
    if (!ok) failWith(`expected codeName ${expected.errorCodeName}`);
  }
  for (const label of expected.errorLabelsContain ?? []) {
    if (!hasLabel(error, label)) failWith(`expected error label ${label}`);
  }
  for (const label of expected.errorLabelsOmit ?? []) {
    if (hasLabel(error, label)) failWith(`expected no error label ${label}`);
  }
  if (expected.expectResult !== undefined) {
    let partial;
    if (error instanceof MongoBulkWriteError) partial = bulkWriteResultDocument(error.result);
    else if (error instanceof MongoClientBulkWriteError) partial = clientBulkWriteResultDocument(error.partialResult);
    else if (error?.result) partial = writeResultDocument(error.result);
    matchValue(expected.expectResult, partial, ctx, "expectError.expectResult", true);
  }
  if (expected.errorResponse !== undefined) {
    const response = error instanceof MongoClientBulkWriteError ? error.cause?.errorResponse ?? error.cause : error?.errorResponse;
    if (response === undefined) failWith("expected a server error response");
    matchValue(expected.errorResponse, response, ctx, "expectError.errorResponse", true);
  }
  if (expected.writeErrors !== undefined || expected.writeConcernErrors !== undefined) {
    if (!(error instanceof MongoClientBulkWriteError)) failWith("expected a client bulk write error");
    if (expected.writeErrors !== undefined) {
      const actual = {};
      for (const [k, v] of error.writeErrors ?? []) actual[String(k)] = { ...v };
      const keysE = Object.keys(expected.writeErrors).sort(), keysA = Object.keys(actual).sort();
      if (keysE.join() !== keysA.join()) failWith(`expected write errors at ${keysE.join(",")}, got ${keysA.join(",")}`);
      for (const k of keysE) matchValue(expected.writeErrors[k], actual[k], ctx, `writeErrors.${k}`, true);
    }
    if (expected.writeConcernErrors !== undefined) {
      const actual = error.writeConcernErrors ?? [];
      if (actual.length !== expected.writeConcernErrors.length) failWith(`expected ${expected.writeConcernErrors.length} write concern error(s), got ${show(actual)}`);
      expected.writeConcernErrors.forEach((e, i) => matchValue(e, actual[i], ctx, `writeConcernErrors[${i}]`, true));
    }
  }
}
