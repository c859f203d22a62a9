// Observing a client's command monitoring and connection pool events, and
// checking them against a test's expectEvents.
import { AssertionFailure, RunnerError, show } from "./util.mjs";
import { matchValue } from "./matcher.mjs";

const COMMAND_EVENTS = {
  commandStarted: "commandStartedEvent",
  commandSucceeded: "commandSucceededEvent",
  commandFailed: "commandFailedEvent",
};

const CMAP_EVENTS = {
  connectionPoolCreated: "poolCreatedEvent",
  connectionPoolReady: "poolReadyEvent",
  connectionPoolCleared: "poolClearedEvent",
  connectionPoolClosed: "poolClosedEvent",
  connectionCreated: "connectionCreatedEvent",
  connectionReady: "connectionReadyEvent",
  connectionClosed: "connectionClosedEvent",
  connectionCheckOutStarted: "connectionCheckOutStartedEvent",
  connectionCheckOutFailed: "connectionCheckOutFailedEvent",
  connectionCheckedOut: "connectionCheckedOutEvent",
  connectionCheckedIn: "connectionCheckedInEvent",
};

const SDAM_EVENT_NAMES = new Set([
  "serverDescriptionChangedEvent", "serverHeartbeatStartedEvent", "serverHeartbeatSucceededEvent",
  "serverHeartbeatFailedEvent", "topologyDescriptionChangedEvent", "topologyOpeningEvent", "topologyClosedEvent",
]);

// Commands whose events are never observed unless observeSensitiveCommands
// (the command monitoring spec's list).
const SENSITIVE = new Set([
  "authenticate", "saslstart", "saslcontinue", "getnonce", "createuser", "updateuser",
  "copydbgetnonce", "copydbsaslstart", "copydb",
]);

export class EventRecorder {
  constructor(client, { observeEvents = [], ignoreCommandMonitoringEvents = [], observeSensitiveCommands = false } = {}) {
    for (const name of observeEvents) {
      if (SDAM_EVENT_NAMES.has(name)) throw new RunnerError(`observing SDAM event ${name} is not supported by this runner`);
      if (!Object.values(COMMAND_EVENTS).includes(name) && !Object.values(CMAP_EVENTS).includes(name)) {
        throw new RunnerError(`unknown event type in observeEvents: ${name}`);
      }
    }
    this.observe = new Set(observeEvents);
    this.ignored = new Set(["configurefailpoint", ...ignoreCommandMonitoringEvents.map((n) => n.toLowerCase())]);
    this.observeSensitive = observeSensitiveCommands;
    this.capturing = true;
    this.command = [];
    this.cmap = [];
    this.allCommandStarted = []; // every started command, for the lsid assertions
    this.checkedOut = 0;
    for (const [driverName, specName] of Object.entries(COMMAND_EVENTS)) {
      client.on(driverName, (event) => this.onCommand(specName, event));
    }
    for (const [driverName, specName] of Object.entries(CMAP_EVENTS)) {
      client.on(driverName, (event) => this.onCmap(specName, event));
    }
  }

  isSensitive(event) {
    const name = String(event.commandName).toLowerCase();
    if (SENSITIVE.has(name)) return true;
    if (name === "hello" || name === "ismaster") {
      // Sensitive when it carries speculativeAuthenticate; the driver then
      // redacts the command and reply to empty documents.
      const doc = event.command ?? event.reply;
      return doc !== undefined && Object.keys(doc).length === 0;
    }
    return false;
  }

  onCommand(specName, event) {
    if (!this.capturing) return;
    if (this.ignored.has(String(event.commandName).toLowerCase())) return;
    if (!this.observeSensitive && this.isSensitive(event)) return;
    if (specName === "commandStartedEvent") this.allCommandStarted.push(event);
    if (this.observe.has(specName)) this.command.push({ type: specName, event });
  }

  onCmap(specName, event) {
    if (specName === "connectionCheckedOutEvent") this.checkedOut++;
    if (specName === "connectionCheckedInEvent") this.checkedOut--;
    if (!this.capturing) return;
    if (this.observe.has(specName)) this.cmap.push({ type: specName, event });
  }

  stop() {
    this.capturing = false;
  }

  list(eventType = "command") {
    if (eventType === "command") return this.command;
    if (eventType === "cmap") return this.cmap;
    throw new RunnerError(`eventType ${eventType} is not supported by this runner`);
  }
}

function summary({ type, event }) {
  if (event.commandName) {
    const short = type.replace("Event", "").replace("command", "");
    return `${event.commandName}(${short})`;
  }
  return type;
}

function checkHasServiceId(expected, event, path) {
  if (expected.hasServiceId === undefined) return;
  const has = event.serviceId != null && event.serviceId.toHexString() !== "000000000000000000000000";
  if (has !== expected.hasServiceId) throw new AssertionFailure(`${path}: hasServiceId expected ${expected.hasServiceId}`);
}

function checkHasServerConnectionId(expected, event, path) {
  if (expected.hasServerConnectionId === undefined) return;
  const id = event.serverConnectionId;
  const has = id != null && Number(id) > 0;
  if (has !== expected.hasServerConnectionId) {
    throw new AssertionFailure(`${path}: hasServerConnectionId expected ${expected.hasServerConnectionId}, got ${show(id)}`);
  }
}

// The Node.js driver 6.x adds wtimeout: 10000 to the write concern of every
// commitTransaction/abortTransaction it sends with a write concern (the
// transactions spec asks for it only when a commit is retried). That is the
// driver's doing, not the server's: where the test does not mention wtimeout,
// it is left out before matching, so the rest of the test still checks the
// server.
function withoutDriverWtimeout(expectedCommand, event) {
  const command = event.command;
  if (event.commandName !== "commitTransaction" && event.commandName !== "abortTransaction") return command;
  const wc = command?.writeConcern;
  if (!wc || typeof wc !== "object" || wc.wtimeout !== 10000) return command;
  const expectedWc = expectedCommand?.writeConcern;
  if (expectedWc && typeof expectedWc === "object" && "wtimeout" in expectedWc) return command;
  const { wtimeout, ...rest } = wc;
  void wtimeout;
  return { ...command, writeConcern: rest };
}

// One expected event (an object with one key, the event type) against one
// observed event.
export function matchEvent(expectedEvent, observed, ctx, path) {
  const keys = Object.keys(expectedEvent);
  if (keys.length !== 1) throw new RunnerError(`${path}: an expected event must have exactly one key`);
  const type = keys[0];
  const exp = expectedEvent[type] ?? {};
  if (observed.type !== type) {
    throw new AssertionFailure(`${path}: expected ${type}, got ${summary(observed)}`);
  }
  const event = observed.event;
  if (exp.commandName !== undefined && exp.commandName !== event.commandName) {
    throw new AssertionFailure(`${path}: expected command ${exp.commandName}, got ${event.commandName}`);
  }
  if (exp.databaseName !== undefined && exp.databaseName !== event.databaseName) {
    throw new AssertionFailure(`${path} (${event.commandName}): expected database ${exp.databaseName}, got ${event.databaseName}`);
  }
  if (exp.command !== undefined) matchValue(exp.command, withoutDriverWtimeout(exp.command, event), ctx, `${path} ${event.commandName}.command`, true);
  if (exp.reply !== undefined) matchValue(exp.reply, event.reply, ctx, `${path} ${event.commandName}.reply`, true);
  checkHasServiceId(exp, event, path);
  checkHasServerConnectionId(exp, event, path);
  if (exp.interruptInUseConnections !== undefined && exp.interruptInUseConnections !== event.interruptInUseConnections) {
    throw new AssertionFailure(`${path}: interruptInUseConnections expected ${exp.interruptInUseConnections}`);
  }
  if (exp.reason !== undefined && exp.reason !== event.reason) {
    throw new AssertionFailure(`${path}: reason expected ${exp.reason}, got ${event.reason}`);
  }
}

// test.expectEvents for one client.
export function checkExpectedEvents(expectedForClient, recorder, ctx) {
  const { client, eventType = "command", events, ignoreExtraEvents = false } = expectedForClient;
  const observed = recorder.list(eventType);
  const where = `expectEvents[${client}]`;
  const names = () => observed.map(summary).join(", ") || "none";
  if (observed.length < events.length || (!ignoreExtraEvents && observed.length !== events.length)) {
    throw new AssertionFailure(
      `${where}: expected ${events.length} ${eventType} event(s)${ignoreExtraEvents ? " or more" : ""}, ` +
      `observed ${observed.length}: ${names()}`);
  }
  events.forEach((expected, i) => {
    try {
      matchEvent(expected, observed[i], ctx, `${where}[${i}]`);
    } catch (error) {
      if (error instanceof AssertionFailure) error.message += ` — observed: ${names()}`;
      throw error;
    }
  });
}
