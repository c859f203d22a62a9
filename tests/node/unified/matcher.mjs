// Matching an expected value from a test file against an actual value, with
// the rules of the unified test format's "Evaluating Matches": extra keys are
// allowed in root-level documents only, numbers compare across int/long/double,
// and the $$ operators ($$exists, $$type, $$unsetOrMatches, $$matchesEntity,
// $$matchesHexBytes, $$sessionLsid, $$lte, $$matchAsDocument, $$matchAsRoot).
import mongodb from "mongodb";
const { EJSON } = mongodb.BSON;
import { AssertionFailure, RunnerError, isPlainDocument, show } from "./util.mjs";

// --- types -----------------------------------------------------------------

function asDocument(value) {
  // The driver keeps some command fields (sort, hint) as Maps.
  if (value instanceof Map) return Object.fromEntries(value);
  // A DBRef read back from the server is a document with $ref/$id/$db.
  if (value && value._bsontype === "DBRef") {
    const doc = { $ref: value.collection, $id: value.oid };
    if (value.db) doc.$db = value.db;
    return Object.assign(doc, value.fields ?? {});
  }
  return value;
}

function isDocument(value) {
  return isPlainDocument(value) || value instanceof Map || (value && value._bsontype === "DBRef");
}

function isNumeric(value) {
  if (typeof value === "number" || typeof value === "bigint") return true;
  const t = value?._bsontype;
  return t === "Int32" || t === "Double" || t === "Long";
}

// Numeric value as a Number, and as a BigInt when it is integral (so longs
// beyond 2^53 still compare exactly).
function numberOf(value) {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value._bsontype === "Long") return value.toNumber();
  return value.value;
}

function bigOf(value) {
  if (typeof value === "bigint") return value;
  if (value?._bsontype === "Long") return BigInt(value.toString());
  const n = numberOf(value);
  return Number.isInteger(n) ? BigInt(n) : null;
}

function numbersEqual(a, b) {
  const ba = bigOf(a), bb = bigOf(b);
  if (ba !== null && bb !== null) return ba === bb;
  const na = numberOf(a), nb = numberOf(b);
  return na === nb || (Number.isNaN(na) && Number.isNaN(nb));
}

// The $type alias names of a value. A JS number may have been any of
// int/long/double on the wire (the driver promotes them), so it answers to
// each name its value allows.
export function typeNames(value) {
  if (value === undefined) return [];
  if (value === null) return ["null"];
  if (typeof value === "number") {
    const names = ["double", "number"];
    if (Number.isInteger(value)) {
      names.push("long");
      if (value >= -2147483648 && value <= 2147483647) names.push("int");
    }
    return names;
  }
  if (typeof value === "bigint") return ["long", "number"];
  if (typeof value === "string") return ["string"];
  if (typeof value === "boolean") return ["bool"];
  if (Array.isArray(value)) return ["array"];
  if (value instanceof Date) return ["date"];
  if (value instanceof RegExp) return ["regex"];
  if (ArrayBuffer.isView(value)) return ["binData"];
  switch (value._bsontype) {
    case "ObjectId": return ["objectId"];
    case "Int32": return ["int", "number"];
    case "Long": return ["long", "number"];
    case "Double": return ["double", "number"];
    case "Decimal128": return ["decimal", "number"];
    case "Binary": return ["binData"];
    case "Timestamp": return ["timestamp"];
    case "Code": return value.scope ? ["javascriptWithScope"] : ["javascript"];
    case "BSONRegExp": return ["regex"];
    case "MinKey": return ["minKey"];
    case "MaxKey": return ["maxKey"];
    case "BSONSymbol": return ["symbol"];
    case "DBRef": return ["object"];
    default: return value._bsontype ? [String(value._bsontype)] : ["object"];
  }
}

function bytesOf(value) {
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value?._bsontype === "Binary") return Buffer.from(value.buffer.subarray(0, value.position ?? value.buffer.length));
  return null;
}

function regexParts(value) {
  if (value instanceof RegExp) return [value.source, value.flags.split("").sort().join("")];
  return [value.pattern, String(value.options).split("").sort().join("")];
}

// Exact comparison of two non-document, non-array values (numbers flexibly).
function scalarsEqual(expected, actual) {
  if (isNumeric(expected) || isNumeric(actual)) {
    return isNumeric(expected) && isNumeric(actual) && numbersEqual(expected, actual);
  }
  if (expected === null || actual === null) return expected === actual;
  if (typeof expected !== "object" || typeof actual !== "object") return expected === actual;
  if (expected instanceof Date || actual instanceof Date) {
    return expected instanceof Date && actual instanceof Date && expected.getTime() === actual.getTime();
  }
  const eb = bytesOf(expected), ab = bytesOf(actual);
  if (eb || ab) {
    if (!eb || !ab || !eb.equals(ab)) return false;
    const es = expected.sub_type ?? 0, as = actual.sub_type ?? 0;
    return es === as;
  }
  const eRe = expected instanceof RegExp || expected._bsontype === "BSONRegExp";
  const aRe = actual instanceof RegExp || actual._bsontype === "BSONRegExp";
  if (eRe || aRe) {
    if (!eRe || !aRe) return false;
    const [ep, eo] = regexParts(expected), [ap, ao] = regexParts(actual);
    return ep === ap && eo === ao;
  }
  if (expected._bsontype !== actual._bsontype) return false;
  switch (expected._bsontype) {
    case "ObjectId": return expected.equals(actual);
    case "Decimal128": return expected.toString() === actual.toString();
    case "Timestamp": return expected.t === actual.t && expected.i === actual.i;
    case "Code":
      return expected.code === actual.code && deepEqualUnordered(expected.scope ?? null, actual.scope ?? null);
    case "MinKey": case "MaxKey": return true;
    case "BSONSymbol": return expected.value === actual.value;
    default:
      return EJSON.stringify(expected) === EJSON.stringify(actual);
  }
}

// Exact equality of two values, documents compared without regard to key
// order (for contents inside Code scopes and for collection outcomes).
export function deepEqualUnordered(a, b) {
  a = asDocument(a); b = asDocument(b);
  if (isDocument(a) || isDocument(b)) {
    if (!isDocument(a) || !isDocument(b)) return false;
    const ka = definedKeys(a), kb = definedKeys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqualUnordered(a[k], b[k]));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqualUnordered(v, b[i]));
  }
  return scalarsEqual(a, b);
}

function definedKeys(doc) {
  return Object.keys(doc).filter((k) => doc[k] !== undefined);
}

// --- matching --------------------------------------------------------------

function operatorOf(expected) {
  if (!isPlainDocument(expected)) return null;
  const keys = Object.keys(expected);
  if (keys.length === 1 && keys[0].startsWith("$$")) return keys[0];
  return null;
}

function fail(path, message) {
  throw new AssertionFailure(`${path || "(root)"}: ${message}`);
}

function hexOf(value) {
  if (typeof value === "string") return value.toLowerCase();
  const bytes = bytesOf(value);
  return bytes ? bytes.toString("hex") : null;
}

// Special operators in value position.
function matchOperator(op, expected, actual, ctx, path, isRoot) {
  const arg = expected[op];
  switch (op) {
    case "$$exists":
      if (arg && actual === undefined) fail(path, "expected the field to exist");
      if (!arg && actual !== undefined) fail(path, `expected no field, got ${show(actual)}`);
      return;
    case "$$type": {
      const wanted = Array.isArray(arg) ? arg : [arg];
      if (actual === undefined) fail(path, `expected a value of type ${wanted.join("|")}, got nothing`);
      const names = typeNames(actual);
      if (!wanted.some((t) => names.includes(t))) fail(path, `expected type ${wanted.join("|")}, got ${names[0]} ${show(actual, 120)}`);
      return;
    }
    case "$$unsetOrMatches":
      if (actual === undefined) return;
      return matchValue(arg, actual, ctx, path, isRoot);
    case "$$matchesEntity": {
      const entity = ctx.entities.getBson(arg);
      return matchValue(entity, actual, ctx, path, isRoot);
    }
    case "$$matchesHexBytes": {
      if (typeof arg !== "string" || !/^([0-9a-fA-F]{2})*$/.test(arg)) throw new RunnerError(`malformed $$matchesHexBytes ${show(arg)}`);
      const got = hexOf(actual);
      if (got === null) fail(path, `expected bytes ${arg}, got ${show(actual)}`);
      if (got !== arg.toLowerCase()) fail(path, `expected bytes ${arg.toLowerCase()}, got ${got}`);
      return;
    }
    case "$$sessionLsid": {
      const lsid = ctx.entities.sessionLsid(arg);
      if (actual === undefined) fail(path, `expected the lsid of ${arg}, got nothing`);
      return matchValue(lsid, actual, ctx, path, false);
    }
    case "$$lte":
      if (!isNumeric(actual)) fail(path, `expected a number <= ${show(arg)}, got ${show(actual)}`);
      if (!(numberOf(actual) <= numberOf(arg))) fail(path, `expected <= ${show(arg)}, got ${show(actual)}`);
      return;
    case "$$matchAsDocument": {
      if (typeof actual !== "string") fail(path, `expected an Extended JSON string, got ${show(actual)}`);
      let parsed;
      try { parsed = EJSON.parse(actual, { relaxed: false }); } catch { fail(path, `not Extended JSON: ${show(actual)}`); }
      return matchValue(arg, parsed, ctx, path, false);
    }
    case "$$matchAsRoot":
      return matchValue(arg, actual, ctx, path, true);
    default:
      throw new RunnerError(`unsupported match operator ${op} at ${path || "(root)"}`);
  }
}

// Throws AssertionFailure with the path of the first difference.
export function matchValue(expected, actual, ctx, path = "", isRoot = true) {
  const op = operatorOf(expected);
  if (op) return matchOperator(op, expected, actual, ctx, path, isRoot);

  actual = asDocument(actual);
  if (isPlainDocument(expected)) {
    if (!isDocument(actual)) fail(path, `expected a document ${show(expected, 200)}, got ${show(actual)}`);
    for (const [key, value] of Object.entries(expected)) {
      const sub = path ? `${path}.${key}` : key;
      const has = Object.prototype.hasOwnProperty.call(actual, key) && actual[key] !== undefined;
      const keyOp = operatorOf(value);
      if (keyOp === "$$exists" || keyOp === "$$unsetOrMatches" || keyOp === "$$type") {
        matchOperator(keyOp, value, has ? actual[key] : undefined, ctx, sub, false);
        continue;
      }
      if (!has) fail(sub, `expected ${show(value, 200)}, but the field is missing`);
      matchValue(value, actual[key], ctx, sub, false);
    }
    if (!isRoot) {
      const extra = definedKeys(actual).filter((k) => !Object.prototype.hasOwnProperty.call(expected, k));
      if (extra.length) fail(path, `unexpected field(s) ${extra.join(", ")} in ${show(actual, 200)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) fail(path, `expected an array ${show(expected, 200)}, got ${show(actual)}`);
    if (actual.length !== expected.length) {
      fail(path, `expected ${expected.length} element(s), got ${actual.length}: ${show(actual, 600)}`);
    }
    expected.forEach((value, i) => matchValue(value, actual[i], ctx, `${path}[${i}]`, false));
    return;
  }
  if (actual === undefined) fail(path, `expected ${show(expected)}, got nothing`);
  if (!scalarsEqual(expected, actual)) fail(path, `expected ${show(expected)}, got ${show(actual)}`);
}

// An iterable result (find, aggregate, listCollections...): every element is
// a root-level document.
export function matchRootArray(expected, actual, ctx) {
  if (!Array.isArray(expected)) return matchValue(expected, actual, ctx, "", true);
  if (!Array.isArray(actual)) fail("", `expected an array of ${expected.length} document(s), got ${show(actual)}`);
  if (actual.length !== expected.length) {
    fail("", `expected ${expected.length} document(s), got ${actual.length}: ${show(actual, 600)}`);
  }
  expected.forEach((value, i) => matchValue(value, actual[i], ctx, `[${i}]`, true));
}
