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

/** JSON of one event, equal to JSON.stringify(event). */
export function encodeEvent(event: FlowEvent): string {
  if (shared === null || !sameSharedFields(shared, event)) {
    shared = event;
    sharedJson =
      `,"recordTime":${quote(event.recordTime)},"sourceKind":${quote(event.sourceKind)}` +
      `,"flowLogVersion":${numberOrNull(event.flowLogVersion)},"subscriptionId":${quoteOrNull(event.subscriptionId)}` +
      `,"resourceGroup":${quoteOrNull(event.resourceGroup)},"nsgName":${quoteOrNull(event.nsgName)}` +
      `,"flowLogName":${quoteOrNull(event.flowLogName)},"targetResourceId":${quoteOrNull(event.targetResourceId)}` +
      `,"aclId":${quoteOrNull(event.aclId)},"rule":${quote(event.rule)},"mac":${quoteOrNull(event.mac)}`;
  }
  if (event.blob !== sharedBlob) {
    sharedBlob = event.blob;
    sharedBlobJson = `,"blob":${quote(event.blob)}}`;
  }
  return (
    `{"id":${quote(event.id)},"time":${quote(event.time)}${sharedJson}` +
    `,"srcIp":${quote(event.srcIp)},"dstIp":${quote(event.dstIp)}` +
    `,"srcPort":${numberOrNull(event.srcPort)},"dstPort":${numberOrNull(event.dstPort)}` +
    `,"protocol":${quote(event.protocol)},"direction":${quote(event.direction)},"decision":${quote(event.decision)}` +
    `,"flowState":${quoteOrNull(event.flowState)},"encryption":${quoteOrNull(event.encryption)}` +
    `,"packetsSrcToDst":${numberOrNull(event.packetsSrcToDst)},"bytesSrcToDst":${numberOrNull(event.bytesSrcToDst)}` +
    `,"packetsDstToSrc":${numberOrNull(event.packetsDstToSrc)},"bytesDstToSrc":${numberOrNull(event.bytesDstToSrc)}` +
    sharedBlobJson
  );
}
