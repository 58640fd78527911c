/**
 * The flattened flow event: one per flow tuple. This is the public event schema
 * (documented in docs/events.md, "Flow events"); bump EVENT_SCHEMA_VERSION on any change.
 */
export const EVENT_SCHEMA_VERSION = "1";

export type SourceKind = "nsg" | "vnet";
export type Direction = "inbound" | "outbound";
export type Decision = "allow" | "deny";
export type FlowState = "begin" | "continuing" | "end" | "deny";

export interface FlowEvent {
  /**
   * Deterministic from (blob, record index, tuple index): `{blobHash}-{recordIndex}-{tupleIndex}`
   * (src/core/eventId.ts). Record index = committed block index − 1.
   */
  id: string;
  /** ISO-8601 UTC from the tuple's own timestamp. */
  time: string;
  /** The record's `time`. */
  recordTime: string;
  sourceKind: SourceKind;
  /** NSG `properties.Version` (1|2) or VNet `flowLogVersion` (4). */
  flowLogVersion: number;
  subscriptionId: string | null;
  resourceGroup: string | null;
  /** NSG flow logs only. */
  nsgName: string | null;
  /** VNet flow logs only. */
  flowLogName: string | null;
  /** VNet: `targetResourceID`; NSG: the record's `resourceId`. */
  targetResourceId: string | null;
  /** VNet flow logs only. */
  aclId: string | null;
  rule: string;
  /** 12 upper-case hex digits. */
  mac: string | null;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** `TCP`, `UDP`, `ICMP`, `ICMPv6`, or the IANA number as a string. */
  protocol: string;
  direction: Direction;
  decision: Decision;
  /** null for NSG v1. */
  flowState: FlowState | null;
  /** VNet only; null otherwise. */
  encryption: string | null;
  packetsSrcToDst: number | null;
  bytesSrcToDst: number | null;
  packetsDstToSrc: number | null;
  bytesDstToSrc: number | null;
  /**
   * Container-relative blob path, e.g. `resourceId=/SUBSCRIPTIONS/.../PT1H.json`; when unknown, the path given (or "").
   */
  blob: string;
}
