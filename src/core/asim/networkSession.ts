/**
 * FlowEvent (schema 2) → one ASIM Network Session row for `ASimNetworkSessionLogs`. Pure; the
 * table and its column types are in ./networkSessionColumns.ts, the mapping is documented in
 * docs/events.md ("Log Analytics (ASIM Network Session)").
 *
 * Values follow Microsoft's own ASIM parsers for flow logs where they decide something
 * (Azure/Azure-Sentinel Parsers/ASimNetworkSession/Parsers/ASimNetworkSessionAzureNSG.yaml and
 * ASimNetworkSessionAzureVNet.yaml: EventType "Flow", EventProduct "NSGFlow", EventVendor
 * "Microsoft", allow/deny → Allow/Deny and Success/Failure, the NIC's MAC on the VM's side).
 */
import type { Decision, FlowEvent, FlowState } from "../event";
import { NETWORK_SESSION_COLUMNS, type NetworkSessionColumnName } from "./networkSessionColumns";

/** The ASIM schema version the rows conform to (ASimNetworkSessionNative.yaml's Normalization.Version). */
export const ASIM_NETWORK_SESSION_SCHEMA_VERSION = "0.2.4";
/** Log Analytics' largest field value (Azure Monitor service limits, Logs Ingestion API): 64 KB. */
export const MAX_FIELD_BYTES = 64 * 1024;

/** A JSON value a Log Analytics column can hold as the Logs Ingestion API takes it. */
export type RowValue = string | number | boolean | null | { readonly [key: string]: unknown };
export type NetworkSessionRow = Readonly<Record<NetworkSessionColumnName, RowValue>>;

/** The DvcIdType / SrcDvcIdType / DstDvcIdType value for Azure resource ids (ASIM's list). */
const AZURE_RESOURCE_ID = "AzureResourceId";

const ACTION: Record<Decision, { action: string; original: string; result: string; severity: string }> = {
  // ASIM Network Session: with no severity from the source, Deny-like actions are Low, others Informational.
  allow: { action: "Allow", original: "A", result: "Success", severity: "Informational" },
  deny: { action: "Deny", original: "D", result: "Failure", severity: "Low" },
};

/** The letters flow logs write for a flow state (design §2); events carry the words. */
const FLOW_STATE_LETTER: Record<FlowState, string> = { begin: "B", continuing: "C", end: "E", deny: "D" };

/** ASIM wants IANA protocol keywords; events say `ICMPv6` where IANA's keyword is `IPv6-ICMP`. */
const ASIM_PROTOCOL: Readonly<Record<string, string>> = { ICMPv6: "IPv6-ICMP" };

export function toNetworkSessionRow(event: FlowEvent): NetworkSessionRow {
  const action = ACTION[event.decision];
  // The NIC whose MAC and VM the tuple carries sends outbound flows and receives inbound ones.
  const nicSide = event.direction === "outbound" ? "Src" : "Dst";
  const side = (name: "Src" | "Dst"): SideColumns => (name === nicSide ? nicColumns(event) : NO_SIDE);
  const src = side("Src");
  const dst = side("Dst");
  return {
    TimeGenerated: event.time,
    EventCount: 1,
    EventStartTime: event.time,
    EventEndTime: event.time,
    EventType: "Flow",
    // ASIM: EventSubType (Start/End) is not relevant for Flow events; the state goes to EventOriginalSubType.
    EventSubType: null,
    EventResult: action.result,
    EventSeverity: action.severity,
    EventProduct: "NSGFlow",
    EventProductVersion: String(event.flowLogVersion),
    EventVendor: "Microsoft",
    EventSchemaVersion: ASIM_NETWORK_SESSION_SCHEMA_VERSION,
    EventOriginalUid: event.id,
    EventOriginalSubType: event.flowState === null ? null : FLOW_STATE_LETTER[event.flowState],
    Dvc: event.targetName ?? event.flowLogName ?? "NSGFlow",
    DvcId: event.targetResourceId,
    DvcIdType: event.targetResourceId === null ? null : AZURE_RESOURCE_ID,
    DvcSubscriptionId: event.targetSubscriptionId,
    DvcAction: action.action,
    DvcOriginalAction: action.original,
    NetworkDirection: event.direction === "outbound" ? "Outbound" : "Inbound",
    NetworkProtocol: ASIM_PROTOCOL[event.protocol] ?? event.protocol,
    NetworkProtocolVersion: event.srcIp.includes(":") ? "IPv6" : "IPv4",
    NetworkRuleName: event.rule,
    SrcIpAddr: event.srcIp,
    SrcPortNumber: event.srcPort,
    SrcMacAddr: src.mac,
    SrcDvcId: src.dvcId,
    SrcDvcIdType: src.dvcIdType,
    SrcHostname: src.hostname,
    DstIpAddr: event.dstIp,
    DstPortNumber: event.dstPort,
    DstMacAddr: dst.mac,
    DstDvcId: dst.dvcId,
    DstDvcIdType: dst.dvcIdType,
    DstHostname: dst.hostname,
    // ASIM: SrcBytes are sent by the source to the destination, whatever the direction.
    SrcBytes: event.bytesSrcToDst,
    DstBytes: event.bytesDstToSrc,
    NetworkBytes: sumOrNull(event.bytesSrcToDst, event.bytesDstToSrc),
    SrcPackets: event.packetsSrcToDst,
    DstPackets: event.packetsDstToSrc,
    NetworkPackets: sumOrNull(event.packetsSrcToDst, event.packetsDstToSrc),
    AdditionalFields: additionalFieldsOf(event),
  };
}

interface SideColumns {
  mac: string | null;
  dvcId: string | null;
  dvcIdType: string | null;
  hostname: string | null;
}

const NO_SIDE: SideColumns = { mac: null, dvcId: null, dvcIdType: null, hostname: null };

function nicColumns(event: FlowEvent): SideColumns {
  return {
    mac: event.mac === null ? null : macWithColons(event.mac),
    dvcId: event.vmId,
    dvcIdType: event.vmId === null ? null : AZURE_RESOURCE_ID,
    hostname: event.vmId === null ? null : vmNameOf(event.vmId),
  };
}

/** `000D3AF87856` → `00:0D:3A:F8:78:56` (ASIM's MAC format). */
function macWithColons(mac: string): string {
  let text = mac.slice(0, 2);
  for (let index = 2; index < mac.length; index += 2) text += `:${mac.slice(index, index + 2)}`;
  return text;
}

/** A VM's name, or a scale set instance's (`{set}_{instance}`, as Azure names instances). */
export function vmNameOf(vmId: string): string {
  const segments = vmId.split("/");
  const name = segments[segments.length - 1] ?? vmId;
  const setIndex = segments.findIndex((segment) => segment.toLowerCase() === "virtualmachinescalesets");
  return setIndex >= 0 && segments[setIndex + 1] !== undefined ? `${segments[setIndex + 1]}_${name}` : name;
}

function sumOrNull(a: number | null, b: number | null): number | null {
  return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
}

/** The event's fields ASIM has no column for, under these keys (docs/events.md). */
const ADDITIONAL_FIELDS = [
  "sourceKind",
  "recordTime",
  "flowState",
  "encryption",
  "aclId",
  "flowLogResourceId",
  "flowLogName",
  "flowLogResourceGroup",
  "flowLogSubscriptionId",
  "targetType",
  "targetName",
  "targetResourceGroup",
  "nicId",
  "vmId",
  "subnetId",
  "vnetId",
  "blob",
] as const satisfies readonly (keyof FlowEvent)[];

/** Fields ASIM has no column for; null ones are left out (a missing key reads as empty in KQL). */
function additionalFieldsOf(event: FlowEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = { flowtapEventId: event.id, flowtapSchemaVersion: event.schemaVersion };
  for (const name of ADDITIONAL_FIELDS) {
    const value = event[name];
    if (value !== null) fields[name] = value;
  }
  return fields;
}

const UTF8 = new TextEncoder();

/** A field whose value is larger than Log Analytics keeps (MAX_FIELD_BYTES), with its size. */
export interface OversizedField {
  column: string;
  bytes: number;
}

/**
 * The first field over MAX_FIELD_BYTES (UTF-8; dynamic values as their JSON), or null. The service
 * would truncate such a value silently; the sink refuses the row instead. `columns`: the row's table
 * (default the network session one; the alerts table's rows pass theirs).
 */
export function oversizedFieldOf(
  row: Readonly<Record<string, RowValue>>,
  columns: readonly { readonly name: string }[] = NETWORK_SESSION_COLUMNS,
): OversizedField | null {
  for (const { name: column } of columns) {
    const value = row[column];
    if (value === null || typeof value === "number" || typeof value === "boolean") continue;
    // Only values that might be too long are measured exactly (flow events' values are far shorter).
    if (maxUtf8BytesOf(value) <= MAX_FIELD_BYTES) continue;
    const bytes = UTF8.encode(typeof value === "string" ? value : JSON.stringify(value)).length;
    if (bytes > MAX_FIELD_BYTES) return { column, bytes };
  }
  return null;
}

/**
 * An upper bound of a value's UTF-8 size (dynamic values: of their JSON): at most 3 bytes per UTF-16
 * unit of a string, 6 per unit of an escaped one in JSON, plus quotes, separators and 24 per number.
 */
function maxUtf8BytesOf(value: string | { readonly [key: string]: unknown }): number {
  if (typeof value === "string") return value.length * 3;
  let bound = 2;
  for (const key in value) {
    const field = value[key];
    const text = typeof field === "string" ? field : typeof field === "number" ? "" : JSON.stringify(field);
    bound += (key.length + text.length) * 6 + 30;
  }
  return bound;
}
