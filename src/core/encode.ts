/**
 * Event encoding: the same JSON text as JSON.stringify(event) for schema 2 (and as
 * JSON.stringify(toSchema1(event)) for schema 1), same key order, built faster. The fields a
 * record's tuples share (recordTime .. vnetId, and blob) are encoded once and reused while
 * consecutive events share them; strings are escaped only when they need it. Both schemas have
 * the same per-tuple fields: they differ only in the shared part and the version in the head.
 */
import { schema1IdentityOf, type EventSchemaVersion, type FlowEvent } from "./event";
import { hashBlobPath } from "./eventId";

/** JSON string literal of `value`: quotes only, unless it holds a character JSON must escape. */
function quote(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Control characters, `"`, `\` and surrogates (a lone one is escaped by JSON.stringify).
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(value);
  }
  return `"${value}"`;
}

const quoteOrNull = (value: string | null): string => (value === null ? "null" : quote(value));
// JSON.stringify writes non-finite numbers as null.
const numberOrNull = (value: number | null): string => (value !== null && Number.isFinite(value) ? `${value}` : "null");

/** The shared middle part of the last event encoded, and the values (and schema) it was built from. */
let shared: FlowEvent | null = null;
let sharedVersion: EventSchemaVersion = 2;
let sharedJson = "";
let sharedBlob: string | null = null;
let sharedBlobJson = "";

function sameSharedFields(a: FlowEvent, b: FlowEvent): boolean {
  return (
    a.recordTime === b.recordTime &&
    a.sourceKind === b.sourceKind &&
    a.flowLogVersion === b.flowLogVersion &&
    a.flowLogResourceId === b.flowLogResourceId &&
    a.flowLogName === b.flowLogName &&
    a.flowLogResourceGroup === b.flowLogResourceGroup &&
    a.flowLogSubscriptionId === b.flowLogSubscriptionId &&
    a.targetResourceId === b.targetResourceId &&
    a.targetType === b.targetType &&
    a.targetName === b.targetName &&
    a.targetResourceGroup === b.targetResourceGroup &&
    a.targetSubscriptionId === b.targetSubscriptionId &&
    a.aclId === b.aclId &&
    a.rule === b.rule &&
    a.mac === b.mac &&
    a.nicId === b.nicId &&
    a.vmId === b.vmId &&
    a.subnetId === b.subnetId &&
    a.vnetId === b.vnetId
  );
}

/** Schema 2's shared part: the record's identity, the flow's rule and MAC, the enrichment. */
function sharedJsonOf(event: FlowEvent): string {
  return (
    `,"recordTime":${quote(event.recordTime)},"sourceKind":${quote(event.sourceKind)}` +
    `,"flowLogVersion":${numberOrNull(event.flowLogVersion)}` +
    `,"flowLogResourceId":${quoteOrNull(event.flowLogResourceId)},"flowLogName":${quoteOrNull(event.flowLogName)}` +
    `,"flowLogResourceGroup":${quoteOrNull(event.flowLogResourceGroup)}` +
    `,"flowLogSubscriptionId":${quoteOrNull(event.flowLogSubscriptionId)}` +
    `,"targetResourceId":${quoteOrNull(event.targetResourceId)},"targetType":${quoteOrNull(event.targetType)}` +
    `,"targetName":${quoteOrNull(event.targetName)},"targetResourceGroup":${quoteOrNull(event.targetResourceGroup)}` +
    `,"targetSubscriptionId":${quoteOrNull(event.targetSubscriptionId)}` +
    `,"aclId":${quoteOrNull(event.aclId)},"rule":${quote(event.rule)},"mac":${quoteOrNull(event.mac)}` +
    `,"nicId":${quoteOrNull(event.nicId)},"vmId":${quoteOrNull(event.vmId)}` +
    `,"subnetId":${quoteOrNull(event.subnetId)},"vnetId":${quoteOrNull(event.vnetId)}`
  );
}

/** Schema 1's shared part (its identity fields derived from schema 2's). */
function sharedJsonV1Of(event: FlowEvent): string {
  const v1 = schema1IdentityOf(event);
  return (
    `,"recordTime":${quote(event.recordTime)},"sourceKind":${quote(event.sourceKind)}` +
    `,"flowLogVersion":${numberOrNull(event.flowLogVersion)},"subscriptionId":${quoteOrNull(v1.subscriptionId)}` +
    `,"resourceGroup":${quoteOrNull(v1.resourceGroup)},"nsgName":${quoteOrNull(v1.nsgName)}` +
    `,"flowLogName":${quoteOrNull(v1.flowLogName)},"targetResourceId":${quoteOrNull(v1.targetResourceId)}` +
    `,"aclId":${quoteOrNull(event.aclId)},"rule":${quote(event.rule)},"mac":${quoteOrNull(event.mac)}`
  );
}

/** Brings the shared parts (strings and their UTF-8 bytes) up to date for `event`. */
function refreshShared(event: FlowEvent, version: EventSchemaVersion): void {
  if (shared === null || version !== sharedVersion || !sameSharedFields(shared, event)) {
    shared = event;
    sharedVersion = version;
    sharedJson = version === 1 ? sharedJsonV1Of(event) : sharedJsonOf(event);
    sharedBytes = null;
  }
  if (event.blob !== sharedBlob) {
    sharedBlob = event.blob;
    sharedBlobJson = `,"blob":${quote(event.blob)}}`;
    sharedBlobBytes = null;
  }
}

/** The start of an event of each schema version, up to its id's value. */
const HEADS: Record<EventSchemaVersion, string> = {
  1: '{"schemaVersion":1,"id":',
  2: '{"schemaVersion":2,"id":',
};

/** The event's own fields before the shared part. */
const headOf = (event: FlowEvent, version: EventSchemaVersion): string =>
  `${HEADS[version]}${quote(event.id)},"time":${quote(event.time)}`;

/** The event's own fields between the shared part and the blob. */
const tailOf = (event: FlowEvent): string =>
  `,"srcIp":${quote(event.srcIp)},"dstIp":${quote(event.dstIp)}` +
  `,"srcPort":${numberOrNull(event.srcPort)},"dstPort":${numberOrNull(event.dstPort)}` +
  `,"protocol":${quote(event.protocol)},"direction":${quote(event.direction)},"decision":${quote(event.decision)}` +
  `,"flowState":${quoteOrNull(event.flowState)},"encryption":${quoteOrNull(event.encryption)}` +
  `,"packetsSrcToDst":${numberOrNull(event.packetsSrcToDst)},"bytesSrcToDst":${numberOrNull(event.bytesSrcToDst)}` +
  `,"packetsDstToSrc":${numberOrNull(event.packetsDstToSrc)},"bytesDstToSrc":${numberOrNull(event.bytesDstToSrc)}`;

/** JSON of one event in a schema version: JSON.stringify(event) for 2, of toSchema1(event) for 1. */
export function encodeEvent(event: FlowEvent, version: EventSchemaVersion = 2): string {
  refreshShared(event, version);
  return headOf(event, version) + sharedJson + tailOf(event) + sharedBlobJson;
}

/**
 * Compact records (docs/events.md "Compact messages"): what consecutive events share (schema 2's shared part and
 * blob) is one record keyed by a hash of its text, and each event is its own fields plus that key.
 */
export interface CompactSharedPart {
  /** 16 hex digits: the 64-bit hash of the record's fields, so equal parts have equal keys on every run. */
  key: string;
  /** `{"shared":key,"schemaVersion":2,"recordTime":...,"blob":...}` as UTF-8. */
  body: Buffer;
}

export interface CompactEncodedEvent {
  /** `{"id":...,"time":...,"shared":key,"srcIp":...,"bytesDstToSrc":...}` as UTF-8 (a view of a shared slab). */
  body: Buffer;
  shared: CompactSharedPart;
}

/** The shared parts as UTF-8, encoded once while they last. */
let sharedBytes: Buffer | null = null;
let sharedBlobBytes: Buffer | null = null;
/** Events' bytes are cut from slabs of this size, as Buffer.from cuts small strings from its pool. */
const SLAB_SIZE_IN_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabOffset = 0;
/** Where the event being written has got to in `slab`. */
let at = 0;

const ascii = (text: string): Uint8Array => Buffer.from(text, "latin1");
const HEAD_BYTES: Record<EventSchemaVersion, Uint8Array> = { 1: ascii(HEADS[1]), 2: ascii(HEADS[2]) };
const KEYS = {
  time: ascii(',"time":'),
  srcIp: ascii(',"srcIp":'),
  dstIp: ascii(',"dstIp":'),
  srcPort: ascii(',"srcPort":'),
  dstPort: ascii(',"dstPort":'),
  protocol: ascii(',"protocol":'),
  direction: ascii(',"direction":'),
  decision: ascii(',"decision":'),
  flowState: ascii(',"flowState":'),
  encryption: ascii(',"encryption":'),
  packetsSrcToDst: ascii(',"packetsSrcToDst":'),
  bytesSrcToDst: ascii(',"bytesSrcToDst":'),
  packetsDstToSrc: ascii(',"packetsDstToSrc":'),
  bytesDstToSrc: ascii(',"bytesDstToSrc":'),
};
const NULL = ascii("null");
/** Room for the keys, the quotes and five numbers of up to 24 characters. */
const FIXED_ROOM_IN_BYTES = 512;
/** A JSON string literal takes at most 6 bytes per UTF-16 unit (`\u001f`, or 3 UTF-8 bytes). */
const MAX_BYTES_PER_UNIT = 6;

function put(bytes: Uint8Array): void {
  slab.set(bytes, at);
  at += bytes.length;
}

/** `quote(value)` as UTF-8: byte by byte while it is plain ASCII, else through quote and a UTF-8 write. */
function putQuoted(value: string): void {
  // Locals, not the module's `slab` and `at`: the loop keeps them in registers.
  const bytes = slab;
  const start = at;
  let end = start;
  bytes[end++] = 0x22;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
      at = start + bytes.write(quote(value), start, "utf8");
      return;
    }
    bytes[end++] = c;
  }
  bytes[end++] = 0x22;
  at = end;
}

const putQuotedOrNull = (value: string | null): void => (value === null ? put(NULL) : putQuoted(value));

/** `numberOrNull(value)` as ASCII: the digits of a non-negative integer written directly. */
function putNumber(value: number | null): void {
  if (value === null || !Number.isFinite(value)) return put(NULL);
  if (!Number.isSafeInteger(value) || value < 0) {
    at += slab.write(`${value}`, at, "latin1");
    return;
  }
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  const bytes = slab;
  let rest = value;
  for (let index = at + digits - 1; index >= at; index--) {
    bytes[index] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  at += digits;
}

/** Makes room in the slab for an event of these texts and `sharedSizeInBytes` of shared bytes; `at` starts it. */
function reserve(event: FlowEvent, sharedSizeInBytes: number): void {
  const textUnits =
    event.id.length +
    event.time.length +
    event.srcIp.length +
    event.dstIp.length +
    event.protocol.length +
    event.direction.length +
    event.decision.length +
    (event.flowState?.length ?? 0) +
    (event.encryption?.length ?? 0);
  const maxSizeInBytes = MAX_BYTES_PER_UNIT * textUnits + FIXED_ROOM_IN_BYTES + sharedSizeInBytes;
  if (slab.length - slabOffset < maxSizeInBytes) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE_IN_BYTES, maxSizeInBytes));
    slabOffset = 0;
  }
  at = slabOffset;
}

/** The event written since {@link reserve}, as a view of the slab. */
function written(): Buffer {
  const start = slabOffset;
  slabOffset = at;
  return slab.subarray(start, at);
}

/** The event's own fields after the shared part: `,"srcIp":...` through `,"bytesDstToSrc":...`. */
function putOwnFields(event: FlowEvent): void {
  put(KEYS.srcIp);
  putQuoted(event.srcIp);
  put(KEYS.dstIp);
  putQuoted(event.dstIp);
  put(KEYS.srcPort);
  putNumber(event.srcPort);
  put(KEYS.dstPort);
  putNumber(event.dstPort);
  put(KEYS.protocol);
  putQuoted(event.protocol);
  put(KEYS.direction);
  putQuoted(event.direction);
  put(KEYS.decision);
  putQuoted(event.decision);
  put(KEYS.flowState);
  putQuotedOrNull(event.flowState);
  put(KEYS.encryption);
  putQuotedOrNull(event.encryption);
  put(KEYS.packetsSrcToDst);
  putNumber(event.packetsSrcToDst);
  put(KEYS.bytesSrcToDst);
  putNumber(event.bytesSrcToDst);
  put(KEYS.packetsDstToSrc);
  putNumber(event.packetsDstToSrc);
  put(KEYS.bytesDstToSrc);
  putNumber(event.bytesDstToSrc);
}

/**
 * The UTF-8 bytes of {@link encodeEvent}'s JSON, written directly: the shared parts are copied as
 * bytes and the event's own fields written field by field (no text of the event is built).
 * The result is a view of a slab shared with neighbouring events; do not write to it.
 */
export function encodeEventBytes(event: FlowEvent, version: EventSchemaVersion = 2): Buffer {
  refreshShared(event, version);
  sharedBytes ??= Buffer.from(sharedJson, "utf8");
  sharedBlobBytes ??= Buffer.from(sharedBlobJson, "utf8");
  reserve(event, sharedBytes.length + sharedBlobBytes.length);
  put(HEAD_BYTES[version]);
  putQuoted(event.id);
  put(KEYS.time);
  putQuoted(event.time);
  put(sharedBytes);
  putOwnFields(event);
  put(sharedBlobBytes);
  return written();
}

/** The compact shared part of the last event encoded compactly, and the shared texts it was built from. */
let compactShared: CompactSharedPart | null = null;
let compactSharedOf: readonly [string, string] = ["", ""];
/** `,"shared":"key"` of compactShared, as an event record carries it. */
let compactKeyBytes: Uint8Array = new Uint8Array(0);
const COMPACT_HEAD_BYTES = ascii('{"id":');

/** An event as a compact record and the shared record it names (reused while consecutive events share it). */
export function encodeCompactEvent(event: FlowEvent): CompactEncodedEvent {
  refreshShared(event, 2);
  if (compactShared === null || compactSharedOf[0] !== sharedJson || compactSharedOf[1] !== sharedBlobJson) {
    // sharedJson starts with a comma; sharedBlobJson ends the object.
    const fields = `"schemaVersion":2${sharedJson}${sharedBlobJson}`;
    const key = hashBlobPath(fields); // any text: the event ids' 64-bit hash
    compactShared = { key, body: Buffer.from(`{"shared":"${key}",${fields}`, "utf8") };
    compactSharedOf = [sharedJson, sharedBlobJson];
    compactKeyBytes = ascii(`,"shared":"${key}"`);
  }
  reserve(event, compactKeyBytes.length);
  put(COMPACT_HEAD_BYTES);
  putQuoted(event.id);
  put(KEYS.time);
  putQuoted(event.time);
  put(compactKeyBytes);
  putOwnFields(event);
  slab[at++] = 0x7d; // }
  return { body: written(), shared: compactShared };
}
