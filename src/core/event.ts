/**
 * The flattened flow event: one per flow tuple. This is the public event schema (documented in
 * docs/events.md); any change to it is a new schema version. `FlowEvent` is schema 2, the model
 * every part of the app works with; schema 1 (`FlowEventV1`) is derived from it when a deployment
 * still asks for it (FLOWTAP_EVENT_SCHEMA_VERSION=1), for one release.
 */
export const EVENT_SCHEMA_VERSION = 2;
/** The schema versions an app can be set to write. */
export const EVENT_SCHEMA_VERSIONS = [1, 2] as const;
export type EventSchemaVersion = (typeof EVENT_SCHEMA_VERSIONS)[number];

export type SourceKind = "nsg" | "vnet";
export type Direction = "inbound" | "outbound";
export type Decision = "allow" | "deny";
export type FlowState = "begin" | "continuing" | "end" | "deny";
/** What a flow log watches: a virtual network, a subnet, a network interface, or (NSG flow logs) an NSG. */
export type TargetType = "vnet" | "subnet" | "nic" | "nsg";

/**
 * The encryption values VNet flow logs write (design §2; Microsoft Learn, "VNet flow logs",
 * encryption status): X encrypted, NX not, NX_* why not. Events carry them as written.
 */
export const VNET_ENCRYPTION_VALUES = [
  "X",
  "NX",
  "NX_HW_NOT_SUPPORTED",
  "NX_SW_NOT_READY",
  "NX_NOT_ACCEPTED",
  "NX_NOT_SUPPORTED",
  "NX_LOCAL_DST",
  "NX_FALLBACK",
] as const;

/** Where a tuple's NIC sits, as ARM reports it (enrichment); every field null when not resolved. */
export interface EventEnrichment {
  nicId: string | null;
  /** The VM, or the scale set instance (`.../virtualMachineScaleSets/{set}/virtualMachines/{n}`). */
  vmId: string | null;
  subnetId: string | null;
  vnetId: string | null;
}

export const NO_ENRICHMENT: Readonly<EventEnrichment> = Object.freeze({
  nicId: null,
  vmId: null,
  subnetId: null,
  vnetId: null,
});

/** Schema 2. Key order is the JSON order (docs/events.md). */
export interface FlowEvent extends EventEnrichment {
  schemaVersion: 2;
  /**
   * Deterministic from (blob, record index, tuple index): `{blobHash}-{recordIndex}-{tupleIndex}`
   * (src/core/eventId.ts). Record index = committed block index − 1.
   */
  id: string;
  /** ISO-8601 UTC with milliseconds, from the tuple's own timestamp (VNet millisecond stamps kept exact). */
  time: string;
  /** The record's `time`. */
  recordTime: string;
  sourceKind: SourceKind;
  /** NSG `properties.Version` (1|2) or VNet `flowLogVersion` (4). */
  flowLogVersion: number;
  /** The flow log resource (VNet flow logs: `flowLogResourceID`, else built from the blob path); NSG: null. */
  flowLogResourceId: string | null;
  flowLogName: string | null;
  flowLogResourceGroup: string | null;
  flowLogSubscriptionId: string | null;
  /** What the flow log watches. VNet: `targetResourceID`; NSG: the record's `resourceId` (the NSG). */
  targetResourceId: string | null;
  targetType: TargetType | null;
  targetName: string | null;
  targetResourceGroup: string | null;
  targetSubscriptionId: string | null;
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
  /** VNet only, exactly as written; null otherwise. */
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

/** The per-tuple fields both schemas share (and `id`, `time`, `recordTime`, the record's kind and version). */
type SharedFields = Pick<
  FlowEvent,
  | "id"
  | "time"
  | "recordTime"
  | "sourceKind"
  | "flowLogVersion"
  | "targetResourceId"
  | "aclId"
  | "rule"
  | "mac"
  | "srcIp"
  | "dstIp"
  | "srcPort"
  | "dstPort"
  | "protocol"
  | "direction"
  | "decision"
  | "flowState"
  | "encryption"
  | "packetsSrcToDst"
  | "bytesSrcToDst"
  | "packetsDstToSrc"
  | "bytesDstToSrc"
  | "blob"
>;

/** Schema 1 (the schema before version 2, with `schemaVersion` added); its JSON order is toSchema1's. */
export interface FlowEventV1 extends SharedFields {
  schemaVersion: 1;
  /** NSG: the NSG's; VNet: the flow log's (usually NetworkWatcherRG's). */
  subscriptionId: string | null;
  resourceGroup: string | null;
  nsgName: string | null;
  flowLogName: string | null;
}

/** The per-record fields of schema 1, from a schema 2 event (what schema 1 always carried). */
export function schema1IdentityOf(
  event: FlowEvent,
): Pick<FlowEventV1, "subscriptionId" | "resourceGroup" | "nsgName" | "flowLogName" | "targetResourceId"> {
  const nsg = event.sourceKind === "nsg";
  return {
    subscriptionId: nsg ? event.targetSubscriptionId : event.flowLogSubscriptionId,
    resourceGroup: nsg ? event.targetResourceGroup : event.flowLogResourceGroup,
    nsgName: nsg ? event.targetName : null,
    flowLogName: nsg ? null : event.flowLogName,
    targetResourceId: event.targetResourceId,
  };
}

/** The schema 1 event of a schema 2 event. */
export function toSchema1(event: FlowEvent): FlowEventV1 {
  return {
    schemaVersion: 1,
    id: event.id,
    time: event.time,
    recordTime: event.recordTime,
    sourceKind: event.sourceKind,
    flowLogVersion: event.flowLogVersion,
    ...schema1IdentityOf(event),
    aclId: event.aclId,
    rule: event.rule,
    mac: event.mac,
    srcIp: event.srcIp,
    dstIp: event.dstIp,
    srcPort: event.srcPort,
    dstPort: event.dstPort,
    protocol: event.protocol,
    direction: event.direction,
    decision: event.decision,
    flowState: event.flowState,
    encryption: event.encryption,
    packetsSrcToDst: event.packetsSrcToDst,
    bytesSrcToDst: event.bytesSrcToDst,
    packetsDstToSrc: event.packetsDstToSrc,
    bytesDstToSrc: event.bytesDstToSrc,
    blob: event.blob,
  };
}
