/**
 * Event encoding: the same JSON text as JSON.stringify(event) (same key order), built faster.
 * The fields a record's tuples share (recordTime .. mac, and blob) are encoded once and reused
 * while consecutive events share them; strings are escaped only when they need it.
 */
import type { FlowEvent } from "./event";

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

/** The shared middle part of the last event encoded, and the values it was built from. */
let shared: FlowEvent | null = null;
let sharedJson = "";
let sharedBlob: string | null = null;
let sharedBlobJson = "";

function sameSharedFields(a: FlowEvent, b: FlowEvent): boolean {
  return (
    a.recordTime === b.recordTime &&
    a.sourceKind === b.sourceKind &&
    a.flowLogVersion === b.flowLogVersion &&
    a.subscriptionId === b.subscriptionId &&
    a.resourceGroup === b.resourceGroup &&
    a.nsgName === b.nsgName &&
    a.flowLogName === b.flowLogName &&
    a.targetResourceId === b.targetResourceId &&
    a.aclId === b.aclId &&
    a.rule === b.rule &&
    a.mac === b.mac
  );
}

/** Brings the shared parts (strings and their UTF-8 bytes) up to date for `event`. */
function refreshShared(event: FlowEvent): void {
  if (shared === null || !sameSharedFields(shared, event)) {
    shared = event;
    sharedJson =
      `,"recordTime":${quote(event.recordTime)},"sourceKind":${quote(event.sourceKind)}` +
      `,"flowLogVersion":${numberOrNull(event.flowLogVersion)},"subscriptionId":${quoteOrNull(event.subscriptionId)}` +
      `,"resourceGroup":${quoteOrNull(event.resourceGroup)},"nsgName":${quoteOrNull(event.nsgName)}` +
      `,"flowLogName":${quoteOrNull(event.flowLogName)},"targetResourceId":${quoteOrNull(event.targetResourceId)}` +
      `,"aclId":${quoteOrNull(event.aclId)},"rule":${quote(event.rule)},"mac":${quoteOrNull(event.mac)}`;
    sharedBytes = null;
  }
  if (event.blob !== sharedBlob) {
    sharedBlob = event.blob;
    sharedBlobJson = `,"blob":${quote(event.blob)}}`;
    sharedBlobBytes = null;
  }
}

/** The event's own fields before the shared part. */
const headOf = (event: FlowEvent): string => `{"id":${quote(event.id)},"time":${quote(event.time)}`;

/** The event's own fields between the shared part and the blob. */
const tailOf = (event: FlowEvent): string =>
  `,"srcIp":${quote(event.srcIp)},"dstIp":${quote(event.dstIp)}` +
  `,"srcPort":${numberOrNull(event.srcPort)},"dstPort":${numberOrNull(event.dstPort)}` +
  `,"protocol":${quote(event.protocol)},"direction":${quote(event.direction)},"decision":${quote(event.decision)}` +
  `,"flowState":${quoteOrNull(event.flowState)},"encryption":${quoteOrNull(event.encryption)}` +
  `,"packetsSrcToDst":${numberOrNull(event.packetsSrcToDst)},"bytesSrcToDst":${numberOrNull(event.bytesSrcToDst)}` +
  `,"packetsDstToSrc":${numberOrNull(event.packetsDstToSrc)},"bytesDstToSrc":${numberOrNull(event.bytesDstToSrc)}`;

/** JSON of one event, equal to JSON.stringify(event). */
export function encodeEvent(event: FlowEvent): string {
  refreshShared(event);
  return headOf(event) + sharedJson + tailOf(event) + sharedBlobJson;
}

/** The shared parts as UTF-8, encoded once while they last. */
let sharedBytes: Buffer | null = null;
let sharedBlobBytes: Buffer | null = null;
/** Events' bytes are cut from slabs of this size, as Buffer.from cuts small strings from its pool. */
const SLAB_SIZE_IN_BYTES = 256 * 1024;
let slab = Buffer.allocUnsafe(0);
let slabOffset = 0;

/**
 * The UTF-8 bytes of {@link encodeEvent}'s JSON, written directly: the shared parts are copied as
 * bytes, so only the event's own fields are converted (the text of a whole event never exists).
 * The result is a view of a slab shared with neighbouring events; do not write to it.
 */
export function encodeEventBytes(event: FlowEvent): Buffer {
  refreshShared(event);
  sharedBytes ??= Buffer.from(sharedJson, "utf8");
  sharedBlobBytes ??= Buffer.from(sharedBlobJson, "utf8");
  const head = headOf(event);
  const tail = tailOf(event);
  // At most 3 UTF-8 bytes per UTF-16 unit.
  const maxSizeInBytes = 3 * (head.length + tail.length) + sharedBytes.length + sharedBlobBytes.length;
  if (slab.length - slabOffset < maxSizeInBytes) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE_IN_BYTES, maxSizeInBytes));
    slabOffset = 0;
  }
  const start = slabOffset;
  let offset = start + slab.write(head, start, "utf8");
  offset += sharedBytes.copy(slab, offset);
  offset += slab.write(tail, offset, "utf8");
  offset += sharedBlobBytes.copy(slab, offset);
  slabOffset = offset;
  return slab.subarray(start, offset);
}
