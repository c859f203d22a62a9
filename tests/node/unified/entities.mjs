// The entity map of one test: clients (with their event recorders),
// databases, collections, sessions, GridFS buckets, cursors, change streams
// and saved BSON values.
import mongodb from "mongodb";
const { MongoClient, GridFSBucket, ReadPreference } = mongodb;
import { EventRecorder } from "./events.mjs";
import { RunnerError, show, withTimeout } from "./util.mjs";

const BSON_KIND = "bson";

// Read preference / read concern / write concern objects of the test format
// into driver option values.
export function readPreferenceOf(spec) {
  if (spec === undefined) return undefined;
  const { mode, tagSets, maxStalenessSeconds, hedge, ...rest } = spec;
  if (Object.keys(rest).length) throw new RunnerError(`unsupported readPreference field(s) ${Object.keys(rest).join(", ")}`);
  const options = {};
  if (maxStalenessSeconds !== undefined) options.maxStalenessSeconds = maxStalenessSeconds;
  if (hedge !== undefined) options.hedge = hedge;
  return new ReadPreference(mode, tagSets, options);
}

export function writeConcernOf(spec) {
  if (spec === undefined) return undefined;
  const { w, journal, wtimeoutMS, ...rest } = spec;
  if (Object.keys(rest).length) throw new RunnerError(`unsupported writeConcern field(s) ${Object.keys(rest).join(", ")}`);
  const wc = {};
  if (w !== undefined) wc.w = w;
  if (journal !== undefined) wc.journal = journal;
  if (wtimeoutMS !== undefined) wc.wtimeoutMS = wtimeoutMS;
  return wc;
}

export function collectionOrDatabaseOptions(spec = {}) {
  const { readConcern, readPreference, writeConcern, timeoutMS, ...rest } = spec;
  if (Object.keys(rest).length) throw new RunnerError(`unsupported collection/database option(s) ${Object.keys(rest).join(", ")}`);
  const options = {};
  if (readConcern !== undefined) options.readConcern = readConcern;
  if (readPreference !== undefined) options.readPreference = readPreferenceOf(readPreference);
  if (writeConcern !== undefined) options.writeConcern = writeConcernOf(writeConcern);
  if (timeoutMS !== undefined) options.timeoutMS = timeoutMS;
  return options;
}

function transactionOptionsOf(spec = {}) {
  const { readConcern, readPreference, writeConcern, maxCommitTimeMS, ...rest } = spec;
  if (Object.keys(rest).length) throw new RunnerError(`unsupported transaction option(s) ${Object.keys(rest).join(", ")}`);
  const options = {};
  if (readConcern !== undefined) options.readConcern = readConcern;
  if (readPreference !== undefined) options.readPreference = readPreferenceOf(readPreference);
  if (writeConcern !== undefined) options.writeConcern = writeConcernOf(writeConcern);
  if (maxCommitTimeMS !== undefined) options.maxCommitTimeMS = maxCommitTimeMS;
  return options;
}

const URI_OPTIONS = new Set([
  "readConcernLevel", "w", "wTimeoutMS", "journal", "retryWrites", "retryReads", "socketTimeoutMS",
  "connectTimeoutMS", "heartbeatFrequencyMS", "appname", "appName", "serverSelectionTimeoutMS",
  "maxPoolSize", "minPoolSize", "waitQueueTimeoutMS", "readPreference", "directConnection",
  "loadBalanced", "compressors", "timeoutMS", "maxIdleTimeMS",
]);

function containsPlaceholder(value) {
  if (value === null || typeof value !== "object") return false;
  if (Object.prototype.hasOwnProperty.call(value, "$$placeholder")) return true;
  return Object.values(value).some(containsPlaceholder);
}

export class EntityMap {
  constructor(config) {
    this.config = config; // { uri, clientOptions }
    this.entries = new Map();
  }

  set(id, kind, value) {
    if (this.entries.has(id)) throw new RunnerError(`entity "${id}" is already defined`);
    this.entries.set(id, { kind, value });
  }

  has(id) {
    return this.entries.has(id);
  }

  kindOf(id) {
    const entry = this.entries.get(id);
    if (!entry) throw new RunnerError(`no entity named "${id}"`);
    return entry.kind;
  }

  get(id, kinds) {
    const entry = this.entries.get(id);
    if (!entry) throw new RunnerError(`no entity named "${id}"`);
    const wanted = Array.isArray(kinds) ? kinds : [kinds];
    if (kinds !== undefined && !wanted.includes(entry.kind)) {
      throw new RunnerError(`entity "${id}" is a ${entry.kind}, expected ${wanted.join(" or ")}`);
    }
    return entry.value;
  }

  // A saved value (for $$matchesEntity): any BSON value saved by
  // saveResultAsEntity.
  getBson(id) {
    return this.get(id, BSON_KIND);
  }

  sessionLsid(id) {
    const session = this.get(id, "session");
    return session.id;
  }

  *ofKind(kind) {
    for (const [id, entry] of this.entries) if (entry.kind === kind) yield [id, entry.value];
  }

  // saveResultAsEntity: driver objects keep their kind, anything else is a
  // BSON value.
  saveResult(id, result, kindHint) {
    if (result === undefined) throw new RunnerError(`saveResultAsEntity "${id}": the operation returned no result`);
    this.set(id, kindHint ?? BSON_KIND, result);
  }

  async create(entityDescriptions) {
    for (const description of entityDescriptions) {
      if (this.closed) throw new RunnerError("entities created after the test ended");
      const keys = Object.keys(description);
      if (keys.length !== 1) throw new RunnerError(`an entity must have exactly one key, got ${keys.join(", ")}`);
      const kind = keys[0];
      const spec = description[kind];
      switch (kind) {
        case "client": await this.createClient(spec); break;
        case "database": this.createDatabase(spec); break;
        case "collection": this.createCollection(spec); break;
        case "session": this.createSession(spec); break;
        case "bucket": this.createBucket(spec); break;
        default: throw new RunnerError(`entity type "${kind}" is not supported by this runner`);
      }
    }
  }

  async createClient(spec) {
    const {
      id, uriOptions = {}, useMultipleMongoses, observeEvents, ignoreCommandMonitoringEvents,
      observeSensitiveCommands, serverApi, storeEventsAsEntities, observeLogMessages, ...rest
    } = spec;
    void useMultipleMongoses; // only meaningful on sharded clusters
    if (storeEventsAsEntities || observeLogMessages) {
      throw new RunnerError(`client ${id}: storeEventsAsEntities/observeLogMessages are not supported by this runner`);
    }
    if (Object.keys(rest).length) throw new RunnerError(`client ${id}: unsupported option(s) ${Object.keys(rest).join(", ")}`);
    if (containsPlaceholder(uriOptions)) throw new RunnerError(`client ${id}: $$placeholder in uriOptions is not supported`);
    const options = { ...this.config.clientOptions, monitorCommands: true };
    for (const [key, value] of Object.entries(uriOptions)) {
      if (!URI_OPTIONS.has(key)) throw new RunnerError(`client ${id}: unsupported URI option ${key}`);
      if (key === "readConcernLevel") options.readConcern = { level: value };
      else if (key === "w") options.writeConcern = { ...(options.writeConcern ?? {}), w: value };
      else if (key === "journal") options.writeConcern = { ...(options.writeConcern ?? {}), journal: value };
      else if (key === "wTimeoutMS") options.writeConcern = { ...(options.writeConcern ?? {}), wtimeoutMS: value };
      else if (key === "appname") options.appName = value;
      else options[key] = value;
    }
    if (serverApi) {
      const { version, strict, deprecationErrors } = serverApi;
      options.serverApi = { version };
      if (strict !== undefined) options.serverApi.strict = strict;
      if (deprecationErrors !== undefined) options.serverApi.deprecationErrors = deprecationErrors;
    }
    const client = new MongoClient(this.config.uri, options);
    const recorder = new EventRecorder(client, { observeEvents, ignoreCommandMonitoringEvents, observeSensitiveCommands });
    const entity = { id, client, recorder, closed: false };
    this.set(id, "client", entity);
    await withTimeout(client.connect(), 15000, `connecting client ${id}`);
    if (this.closed) await client.close(true); // the test was abandoned meanwhile
  }

  createDatabase(spec) {
    const { id, client, databaseName, databaseOptions, ...rest } = spec;
    if (Object.keys(rest).length) throw new RunnerError(`database ${id}: unsupported field(s) ${Object.keys(rest).join(", ")}`);
    const owner = this.get(client, "client");
    this.set(id, "database", owner.client.db(databaseName, collectionOrDatabaseOptions(databaseOptions)));
  }

  createCollection(spec) {
    const { id, database, collectionName, collectionOptions, ...rest } = spec;
    if (Object.keys(rest).length) throw new RunnerError(`collection ${id}: unsupported field(s) ${Object.keys(rest).join(", ")}`);
    const db = this.get(database, "database");
    this.set(id, "collection", db.collection(collectionName, collectionOrDatabaseOptions(collectionOptions)));
  }

  createSession(spec) {
    const { id, client, sessionOptions = {}, ...rest } = spec;
    if (Object.keys(rest).length) throw new RunnerError(`session ${id}: unsupported field(s) ${Object.keys(rest).join(", ")}`);
    const owner = this.get(client, "client");
    const { causalConsistency, snapshot, defaultTransactionOptions, defaultTimeoutMS, ...unknown } = sessionOptions;
    if (Object.keys(unknown).length) throw new RunnerError(`session ${id}: unsupported sessionOptions ${Object.keys(unknown).join(", ")}`);
    const options = {};
    if (causalConsistency !== undefined) options.causalConsistency = causalConsistency;
    if (snapshot !== undefined) options.snapshot = snapshot;
    if (defaultTimeoutMS !== undefined) options.defaultTimeoutMS = defaultTimeoutMS;
    if (defaultTransactionOptions !== undefined) options.defaultTransactionOptions = transactionOptionsOf(defaultTransactionOptions);
    this.set(id, "session", owner.client.startSession(options));
  }

  createBucket(spec) {
    const { id, database, bucketOptions = {}, ...rest } = spec;
    if (Object.keys(rest).length) throw new RunnerError(`bucket ${id}: unsupported field(s) ${Object.keys(rest).join(", ")}`);
    const db = this.get(database, "database");
    const { bucketName, chunkSizeBytes, readConcern, readPreference, writeConcern, disableMD5, ...unknown } = bucketOptions;
    void disableMD5; // the driver never computes MD5
    if (Object.keys(unknown).length) throw new RunnerError(`bucket ${id}: unsupported bucketOptions ${Object.keys(unknown).join(", ")}`);
    const options = {};
    if (bucketName !== undefined) options.bucketName = bucketName;
    if (chunkSizeBytes !== undefined) options.chunkSizeBytes = chunkSizeBytes;
    if (readConcern !== undefined) options.readConcern = readConcern;
    if (readPreference !== undefined) options.readPreference = readPreferenceOf(readPreference);
    if (writeConcern !== undefined) options.writeConcern = writeConcernOf(writeConcern);
    this.set(id, "bucket", new GridFSBucket(db, options));
  }

  stopEvents() {
    for (const [, entity] of this.ofKind("client")) entity.recorder.stop();
  }

  // End sessions, close cursors and change streams, close clients. Errors are
  // ignored; every step is bounded in time.
  async close() {
    this.closed = true;
    const steps = [];
    for (const kind of ["changeStream", "findCursor", "commandCursor"]) {
      for (const [, cursor] of this.ofKind(kind)) steps.push(() => cursor.close());
    }
    for (const [, session] of this.ofKind("session")) steps.push(() => session.endSession());
    for (const step of steps) {
      try { await withTimeout(Promise.resolve().then(step), 5000, "closing an entity"); } catch { /* ignored */ }
    }
    for (const [, entity] of this.ofKind("client")) {
      if (entity.closed) continue;
      try { await withTimeout(entity.client.close(true), 5000, "closing a client"); } catch { /* ignored */ }
      entity.closed = true;
    }
    this.entries.clear();
  }

  describe(id) {
    const entry = this.entries.get(id);
    return entry ? `${entry.kind} ${show(entry.value, 80)}` : "(none)";
  }
}
