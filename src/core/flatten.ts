/**
 * Flattening: one FlowEvent per flow tuple of NSG v1/v2 and VNet v4 records. Streaming
 * (`FlowLogFlattener`) and whole-input (`flattenFlowLog`) use the same splitter and record code, so a
 * whole blob, chunks of it, and a byte range of record blocks all give the same events and ids.
 */
import { normalizeMac, tryParseBlobPath, type FlowLogBlobPath } from "./blobPath";
import {
  NO_ENRICHMENT,
  type Decision,
  type EventEnrichment,
  type FlowEvent,
  type FlowState,
  type SourceKind,
  type TargetType,
} from "./event";
import { eventId, hashBlobPath } from "./eventId";
import {
  FlowLogRecordSplitter,
  parseRecordJson,
  type FlowLogIssue,
  type RecordSplitterOptions,
  type RecordText,
  type SplitResult,
} from "./records";

export interface FlattenOptions extends RecordSplitterOptions {
  /**
   * The blob's path, with or without its container. When it parses as a flow-log path, its parts
   * fill in subscription, group, names and MAC, and `blob` is its container-relative form; otherwise
   * `blob` is this text as given. Default "" (unknown).
   */
  blobPath?: string;
  /**
   * Resolves a tuple's MAC and the flow log's target to where the NIC sits (enrichment): called once
   * per flow group, it must answer at once (from a cache). Default: nothing resolved (all null).
   */
  enrich?: EnrichmentLookup;
}

/** Where a MAC (and the flow log's target) sits; NO_ENRICHMENT when unknown. Never throws. */
export type EnrichmentLookup = (mac: string | null, targetResourceId: string | null) => Readonly<EventEnrichment>;

/** The events of one record (empty when the record could not be used: see the issues). */
export interface FlattenedRecord {
  recordIndex: number;
  byteOffset: number;
  events: FlowEvent[];
}

export interface FlattenResult {
  records: FlattenedRecord[];
  issues: FlowLogIssue[];
}

/** Incremental flattener: `push` chunks (Buffer/Uint8Array), then `end`. */
export class FlowLogFlattener {
  readonly blob: string;
  readonly blobPath: FlowLogBlobPath | null;
  readonly enrich: EnrichmentLookup | undefined;
  private readonly blobHash: string;
  private readonly splitter: FlowLogRecordSplitter;

  constructor(options: FlattenOptions = {}) {
    this.blobPath = options.blobPath ? tryParseBlobPath(options.blobPath) : null;
    this.blob = this.blobPath?.path ?? options.blobPath ?? "";
    this.blobHash = hashBlobPath(this.blob);
    this.enrich = options.enrich;
    this.splitter = new FlowLogRecordSplitter(options);
  }

  push(chunk: Uint8Array): FlattenResult {
    return this.flattenSplit(this.splitter.push(chunk));
  }

  end(): FlattenResult {
    return this.flattenSplit(this.splitter.end());
  }

  private flattenSplit(split: SplitResult): FlattenResult {
    const result: FlattenResult = { records: [], issues: split.issues };
    for (const record of split.records) {
      result.records.push(this.flattenRecordText(record, result.issues));
    }
    return result;
  }

  private flattenRecordText(record: RecordText, issues: FlowLogIssue[]): FlattenedRecord {
    const events: FlowEvent[] = [];
    const parsed = parseRecordJson(record);
    if (parsed.issue) issues.push(parsed.issue);
    if (parsed.value !== undefined) {
      new RecordFlattener(this, this.blobHash, record, events, issues).flatten(parsed.value);
    }
    return { recordIndex: record.recordIndex, byteOffset: record.byteOffset, events };
  }
}

/**
 * Flattens a whole input, or the text/bytes of N consecutive record blocks starting at record
 * `firstRecordIndex` (pass `startOffsetInBytes` too, for blob offsets in issues).
 */
export function flattenFlowLog(input: Uint8Array | string, options: FlattenOptions = {}): FlattenResult {
  const flattener = new FlowLogFlattener(options);
  const first = flattener.push(typeof input === "string" ? Buffer.from(input, "utf8") : input);
  const last = flattener.end();
  return { records: [...first.records, ...last.records], issues: [...first.issues, ...last.issues] };
}

/** All events of a result, in order. */
export function eventsOf(result: FlattenResult): FlowEvent[] {
  return result.records.flatMap((record) => record.events);
}

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const stringOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** The per-record constants every event of the record shares. */
type RecordConstants = Pick<
  FlowEvent,
  | "recordTime"
  | "sourceKind"
  | "flowLogVersion"
  | "flowLogResourceId"
  | "flowLogName"
  | "flowLogResourceGroup"
  | "flowLogSubscriptionId"
  | "targetResourceId"
  | "targetType"
  | "targetName"
  | "targetResourceGroup"
  | "targetSubscriptionId"
>;

/** Parts of an ARM resource id, found case-insensitively (tolerates `//`). */
function armIdParts(id: string | null): Map<string, string> {
  const parts = new Map<string, string>();
  if (!id) return parts;
  const segments = id.split("/").filter((s) => s !== "");
  for (let i = 0; i + 1 < segments.length; i += 2) parts.set(segments[i]!.toLowerCase(), segments[i + 1]!);
  return parts;
}

/** The kinds of resource a flow log watches, by the type segment of their id (innermost first). */
const TARGET_TYPES: ReadonlyArray<[string, TargetType]> = [
  ["subnets", "subnet"],
  ["networkinterfaces", "nic"],
  ["networksecuritygroups", "nsg"],
  ["virtualnetworks", "vnet"],
];

/** A target's type, name, group and subscription from its resource id (all null when it has none). */
function targetOf(
  id: string | null,
): Pick<RecordConstants, "targetType" | "targetName" | "targetResourceGroup" | "targetSubscriptionId"> {
  const arm = armIdParts(id);
  const match = TARGET_TYPES.find(([segment]) => arm.has(segment));
  return {
    targetType: match?.[1] ?? null,
    targetName: match ? arm.get(match[0])! : null,
    targetResourceGroup: arm.get("resourcegroups") ?? null,
    targetSubscriptionId: arm.get("subscriptions") ?? null,
  };
}

/** A VNet flow log's resource id: the record's, else built from an ARM-form blob path. */
function flowLogResourceIdOf(recordId: string | null, path: FlowLogBlobPath | null): string | null {
  if (recordId) return recordId;
  if (!path?.networkWatcherName || !path.flowLogName) return null;
  return (
    `/SUBSCRIPTIONS/${path.subscriptionId}/RESOURCEGROUPS/${path.resourceGroup}/PROVIDERS/MICROSOFT.NETWORK` +
    `/NETWORKWATCHERS/${path.networkWatcherName}/FLOWLOGS/${path.flowLogName}`
  );
}

const SUPPORTED_NSG_VERSIONS = new Set([1, 2]);
const SUPPORTED_VNET_VERSIONS = new Set([4]);

/** Flattens one parsed record into events; problems become issues naming record and tuple. */
class RecordFlattener {
  private tupleIndex = 0;
  private readonly where: string;

  constructor(
    private readonly owner: FlowLogFlattener,
    private readonly blobHash: string,
    private readonly record: RecordText,
    private readonly events: FlowEvent[],
    private readonly issues: FlowLogIssue[],
  ) {
    this.where = `record ${record.recordIndex}`;
  }

  flatten(value: unknown): void {
    if (!isObject(value)) return this.recordIssue("is not a JSON object");
    const recordTime = value["time"];
    if (typeof recordTime !== "string") return this.recordIssue("has no 'time' string");
    const path = this.owner.blobPath;
    if (isObject(value["flowRecords"])) {
      const version = value["flowLogVersion"];
      if (typeof version !== "number" || !SUPPORTED_VNET_VERSIONS.has(version)) {
        return this.recordIssue(`has unsupported VNet flowLogVersion ${JSON.stringify(version)} (supported: 4)`);
      }
      const recordFlowLogId = stringOrNull(value["flowLogResourceID"]) ?? stringOrNull(value["resourceId"]);
      const arm = armIdParts(recordFlowLogId);
      const targetResourceId = stringOrNull(value["targetResourceID"]);
      const constants: RecordConstants = {
        recordTime,
        sourceKind: "vnet",
        flowLogVersion: version,
        flowLogResourceId: flowLogResourceIdOf(recordFlowLogId, path),
        flowLogName: path?.flowLogName ?? arm.get("flowlogs") ?? null,
        flowLogResourceGroup: path?.resourceGroup ?? arm.get("resourcegroups") ?? null,
        flowLogSubscriptionId: path?.subscriptionId ?? arm.get("subscriptions") ?? null,
        targetResourceId,
        ...targetOf(targetResourceId),
      };
      const mac = normalizeMac(value["macAddress"]) ?? path?.mac ?? null;
      this.flattenVnet(value["flowRecords"]["flows"], constants, mac);
      return;
    }
    const properties = value["properties"];
    if (isObject(properties) && "flows" in properties) {
      const version = properties["Version"];
      if (typeof version !== "number" || !SUPPORTED_NSG_VERSIONS.has(version)) {
        return this.recordIssue(`has unsupported NSG properties.Version ${JSON.stringify(version)} (supported: 1, 2)`);
      }
      const resourceId = stringOrNull(value["resourceId"]);
      const arm = armIdParts(resourceId);
      const constants: RecordConstants = {
        recordTime,
        sourceKind: "nsg",
        flowLogVersion: version,
        flowLogResourceId: null,
        flowLogName: null,
        flowLogResourceGroup: null,
        flowLogSubscriptionId: null,
        targetResourceId: resourceId,
        targetType: "nsg",
        targetName: path?.nsgName ?? arm.get("networksecuritygroups") ?? null,
        targetResourceGroup: path?.resourceGroup ?? arm.get("resourcegroups") ?? null,
        targetSubscriptionId: path?.subscriptionId ?? arm.get("subscriptions") ?? null,
      };
      const mac = normalizeMac(value["macAddress"]) ?? path?.mac ?? null;
      this.flattenNsg(properties["flows"], constants, mac);
      return;
    }
    this.recordIssue(
      "has an unknown shape: neither an NSG record (properties.flows) nor a VNet record (flowRecords.flows)",
    );
  }

  private flattenNsg(ruleGroups: unknown, constants: RecordConstants, recordMac: string | null): void {
    for (const [g, group] of this.arrayAt(ruleGroups, "properties.flows")) {
      const rule = this.ruleOf(group, `properties.flows[${g}]`);
      for (const [f, flow] of this.arrayAt(group["flows"], `properties.flows[${g}].flows`)) {
        const mac = normalizeMac(flow["mac"]) ?? recordMac;
        this.flattenTuples(
          flow["flowTuples"],
          `properties.flows[${g}].flows[${f}].flowTuples`,
          constants,
          null,
          rule,
          mac,
        );
      }
    }
  }

  private flattenVnet(acls: unknown, constants: RecordConstants, mac: string | null): void {
    for (const [a, acl] of this.arrayAt(acls, "flowRecords.flows")) {
      const aclId = stringOrNull(acl["aclID"]);
      for (const [g, group] of this.arrayAt(acl["flowGroups"], `flowRecords.flows[${a}].flowGroups`)) {
        const rule = this.ruleOf(group, `flowRecords.flows[${a}].flowGroups[${g}]`);
        this.flattenTuples(
          group["flowTuples"],
          `flowRecords.flows[${a}].flowGroups[${g}].flowTuples`,
          constants,
          aclId,
          rule,
          mac,
        );
      }
    }
  }

  /** The objects of a JSON array (with their positions); anything else is reported and skipped. */
  private arrayAt(value: unknown, what: string): Array<[number, JsonObject]> {
    if (!Array.isArray(value)) {
      this.recordIssue(`has no '${what}' array`);
      return [];
    }
    const objects: Array<[number, JsonObject]> = [];
    value.forEach((item: unknown, index) => {
      if (isObject(item)) objects.push([index, item]);
      else this.recordIssue(`has a non-object at '${what}[${index}]'`);
    });
    return objects;
  }

  private ruleOf(group: JsonObject, what: string): string {
    const rule = group["rule"];
    if (typeof rule === "string") return rule;
    this.recordIssue(`has no 'rule' string at '${what}' (its tuples get rule "")`);
    return "";
  }

  private flattenTuples(
    tuples: unknown,
    what: string,
    constants: RecordConstants,
    aclId: string | null,
    rule: string,
    mac: string | null,
  ): void {
    if (!Array.isArray(tuples)) {
      this.recordIssue(`has no '${what}' array`);
      return;
    }
    const enrichment = this.owner.enrich?.(mac, constants.targetResourceId) ?? NO_ENRICHMENT;
    for (const tuple of tuples) {
      const tupleIndex = this.tupleIndex++;
      const problem = typeof tuple === "string" ? parseTuple(tuple, constants.sourceKind) : "is not a string";
      if (problem !== null) {
        this.issues.push({
          message: `${this.where}, tuple ${tupleIndex}: ${problem}: ${JSON.stringify(tuple)}`,
          recordIndex: this.record.recordIndex,
          tupleIndex,
          byteOffset: this.record.byteOffset,
        });
        continue;
      }
      this.events.push({
        schemaVersion: 2,
        id: eventId(this.blobHash, this.record.recordIndex, tupleIndex),
        time: scratch.time,
        recordTime: constants.recordTime,
        sourceKind: constants.sourceKind,
        flowLogVersion: constants.flowLogVersion,
        flowLogResourceId: constants.flowLogResourceId,
        flowLogName: constants.flowLogName,
        flowLogResourceGroup: constants.flowLogResourceGroup,
        flowLogSubscriptionId: constants.flowLogSubscriptionId,
        targetResourceId: constants.targetResourceId,
        targetType: constants.targetType,
        targetName: constants.targetName,
        targetResourceGroup: constants.targetResourceGroup,
        targetSubscriptionId: constants.targetSubscriptionId,
        aclId,
        rule,
        mac,
        nicId: enrichment.nicId,
        vmId: enrichment.vmId,
        subnetId: enrichment.subnetId,
        vnetId: enrichment.vnetId,
        srcIp: scratch.srcIp,
        dstIp: scratch.dstIp,
        srcPort: scratch.srcPort,
        dstPort: scratch.dstPort,
        protocol: scratch.protocol,
        direction: scratch.direction,
        decision: scratch.decision,
        flowState: scratch.flowState,
        encryption: scratch.encryption,
        packetsSrcToDst: scratch.packetsSrcToDst,
        bytesSrcToDst: scratch.bytesSrcToDst,
        packetsDstToSrc: scratch.packetsDstToSrc,
        bytesDstToSrc: scratch.bytesDstToSrc,
        blob: this.owner.blob,
      });
    }
  }

  private recordIssue(problem: string): void {
    this.issues.push({
      message: `${this.where} (at byte ${this.record.byteOffset}) ${problem}`,
      recordIndex: this.record.recordIndex,
      tupleIndex: null,
      byteOffset: this.record.byteOffset,
    });
  }
}

/** The fields of the tuple parsed last (reused: no object per tuple besides the event). */
const scratch = {
  time: "",
  srcIp: "",
  dstIp: "",
  srcPort: 0,
  dstPort: 0,
  protocol: "",
  direction: "inbound" as FlowEvent["direction"],
  decision: "allow" as Decision,
  flowState: null as FlowState | null,
  encryption: null as string | null,
  packetsSrcToDst: null as number | null,
  bytesSrcToDst: null as number | null,
  packetsDstToSrc: null as number | null,
  bytesDstToSrc: null as number | null,
};

const MAX_FIELDS = 13;
const fieldStart = new Int32Array(MAX_FIELDS + 1);
const fieldEnd = new Int32Array(MAX_FIELDS + 1);
const NOT_A_NUMBER = -1;
const EMPTY = -2;

const MS_PER_DAY = 86_400_000;
const MAX_EPOCH_MS = Date.UTC(10000, 0, 1);
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));
let cachedDay = NaN;
let lastEpochMs = NaN;
let lastTimeIso = "";
let cachedDayPrefix = "";

/** `toISOString()` without a Date per tuple: the date part is cached, the time part built. */
function isoTime(epochMs: number): string {
  const day = Math.floor(epochMs / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayPrefix = new Date(day * MS_PER_DAY).toISOString().slice(0, 11);
  }
  const msOfDay = epochMs - day * MS_PER_DAY;
  const millis = msOfDay % 1000;
  const seconds = Math.floor(msOfDay / 1000);
  return (
    `${cachedDayPrefix}${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:` +
    `${TWO_DIGITS[seconds % 60]}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`
  );
}

const IANA_PROTOCOLS: Record<string, string> = { "6": "TCP", "17": "UDP", "1": "ICMP", "58": "ICMPv6" };
const FLOW_STATES: Record<string, FlowState> = { B: "begin", C: "continuing", E: "end", D: "deny" };

/** Splits by scanning commas (trimming surrounding whitespace); returns the field count, MAX_FIELDS + 1 if more. */
function splitFields(tuple: string): number {
  let begin = 0;
  let end = tuple.length;
  while (begin < end && tuple.charCodeAt(begin) <= 0x20) begin++;
  while (end > begin && tuple.charCodeAt(end - 1) <= 0x20) end--;
  let count = 0;
  let start = begin;
  while (count <= MAX_FIELDS) {
    const comma = tuple.indexOf(",", start);
    fieldStart[count] = start;
    if (comma < 0 || comma >= end) {
      fieldEnd[count++] = end;
      return count;
    }
    fieldEnd[count++] = comma;
    start = comma + 1;
  }
  return count;
}

/** The field's non-negative integer value, EMPTY, or NOT_A_NUMBER. */
function integerField(tuple: string, field: number): number {
  const start = fieldStart[field]!;
  const end = fieldEnd[field]!;
  if (start === end) return EMPTY;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = tuple.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NOT_A_NUMBER;
    value = value * 10 + digit;
  }
  return value;
}

const text = (tuple: string, field: number): string => tuple.slice(fieldStart[field], fieldEnd[field]);
const letter = (tuple: string, field: number): string =>
  fieldEnd[field]! - fieldStart[field]! === 1 ? tuple[fieldStart[field]!]! : text(tuple, field);

/** Parses a tuple into `scratch`; returns null, or what is wrong with it. */
function parseTuple(tuple: string, kind: SourceKind): string | null {
  const count = splitFields(tuple);
  if (count !== 8 && count !== 13)
    return `expected 8 or 13 comma-separated fields, got ${count > MAX_FIELDS ? "more than 13" : count}`;
  const timestamp = integerField(tuple, 0);
  if (timestamp < 0) return "field 0 (time) is not an epoch number";
  // 13-digit stamps are milliseconds, 10-digit ones seconds.
  const epochMs = timestamp >= 1e12 ? timestamp : timestamp * 1000;
  if (epochMs >= MAX_EPOCH_MS) return "field 0 (time) is after the year 9999";
  if (epochMs !== lastEpochMs) {
    // Consecutive tuples mostly share their second: reuse the string (no garbage per tuple).
    lastEpochMs = epochMs;
    lastTimeIso = isoTime(epochMs);
  }
  scratch.time = lastTimeIso;
  scratch.srcIp = text(tuple, 1);
  scratch.dstIp = text(tuple, 2);
  if (scratch.srcIp === "" || scratch.dstIp === "") return "an IP address field is empty";
  scratch.srcPort = integerField(tuple, 3);
  scratch.dstPort = integerField(tuple, 4);
  if (scratch.srcPort < 0 || scratch.dstPort < 0) return "a port field is not a number";
  const protocol = letter(tuple, 5);
  const numericProtocol = integerField(tuple, 5) >= 0;
  scratch.protocol =
    protocol === "T"
      ? "TCP"
      : protocol === "U"
        ? "UDP"
        : numericProtocol
          ? (IANA_PROTOCOLS[protocol] ?? protocol)
          : protocol;
  if (protocol === "") return "field 5 (protocol) is empty";
  const direction = letter(tuple, 6);
  if (direction === "I") scratch.direction = "inbound";
  else if (direction === "O") scratch.direction = "outbound";
  else return `field 6 (direction) is '${direction}', not I or O`;
  scratch.encryption = null;
  if (count === 8) {
    // NSG v1 layout: decision, no state, no counters.
    scratch.decision = letter(tuple, 7) === "A" ? "allow" : "deny";
    scratch.flowState = null;
    scratch.packetsSrcToDst = scratch.bytesSrcToDst = scratch.packetsDstToSrc = scratch.bytesDstToSrc = null;
    return null;
  }
  const vnetLayout = kind === "vnet" && numericProtocol;
  const state = FLOW_STATES[letter(tuple, vnetLayout ? 7 : 8)];
  if (state === undefined) return `field ${vnetLayout ? 7 : 8} (state) is not B, C, E or D`;
  scratch.flowState = state;
  if (vnetLayout) {
    scratch.decision = state === "deny" ? "deny" : "allow";
    scratch.encryption = fieldStart[8] === fieldEnd[8] ? null : text(tuple, 8);
  } else {
    // Anything but A (e.g. a `B` seen in published data) is treated as a deny.
    scratch.decision = letter(tuple, 7) === "A" ? "allow" : "deny";
  }
  const packetsSrcToDst = integerField(tuple, 9);
  const bytesSrcToDst = integerField(tuple, 10);
  const packetsDstToSrc = integerField(tuple, 11);
  const bytesDstToSrc = integerField(tuple, 12);
  if (
    packetsSrcToDst === NOT_A_NUMBER ||
    bytesSrcToDst === NOT_A_NUMBER ||
    packetsDstToSrc === NOT_A_NUMBER ||
    bytesDstToSrc === NOT_A_NUMBER
  ) {
    return "a counter field (9-12) is neither empty nor a number";
  }
  scratch.packetsSrcToDst = packetsSrcToDst === EMPTY ? null : packetsSrcToDst;
  scratch.bytesSrcToDst = bytesSrcToDst === EMPTY ? null : bytesSrcToDst;
  scratch.packetsDstToSrc = packetsDstToSrc === EMPTY ? null : packetsDstToSrc;
  scratch.bytesDstToSrc = bytesDstToSrc === EMPTY ? null : bytesDstToSrc;
  return null;
}
