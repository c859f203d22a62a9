// Small shared pieces: the runner's own error kinds, a timeout wrapper and a
// compact printer for values in failure messages.
import mongodb from "mongodb";
const { EJSON } = mongodb.BSON;

// The test's expectation was not met (the server, or the driver on its
// behalf, behaved differently from what the test file says).
export class AssertionFailure extends Error {
  get name() { return "AssertionFailure"; }
}

// The runner cannot do what the test asks (unknown operation, argument or
// entity). The test fails with this message: it is not skipped.
export class RunnerError extends Error {
  get name() { return "RunnerError"; }
}

export class TimeoutFailure extends Error {
  get name() { return "TimeoutFailure"; }
}

export async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutFailure(`timeout: ${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Relaxed Extended JSON, cut to `limit` characters; never throws.
export function show(value, limit = 400) {
  let text;
  try {
    if (value === undefined) text = "(absent)";
    else if (Buffer.isBuffer(value)) text = `<bytes ${value.toString("hex")}>`;
    else text = EJSON.stringify(value, (k, v) => (v instanceof Map ? Object.fromEntries(v) : v), { relaxed: true });
  } catch {
    try { text = String(value); } catch { text = "(unprintable)"; }
  }
  if (text === undefined) text = String(value);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

export function isPlainDocument(value) {
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value) || value instanceof Map || value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) return false;
  if (value._bsontype !== undefined) return false;
  return true;
}
