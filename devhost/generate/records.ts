/**
 * Synthetic flow-log records for one NIC and one hour: NSG flow logs v2 or VNet flow logs v4,
 * one record per minute (several with the same `time` for a busy minute, as real blobs do),
 * lazily, so a 1 GB blob never sits in memory: at most one time slice of a minute (50k tuples)
 * and one record do.
 *
 * A record stamped T holds the tuples of [T - 60 s, T), like the service's. Counters are deltas
 * since the flow's previous tuple (the service's semantics: a C or E row reports what happened
 * since the last report), so summing bytes over tuples gives the real volume.
 */
import type { TopologyNic, Topology } from "./topology";
import { SeededRandom, hashKey } from "./random";
import { attackTuplesForMinute, resolveAttack, type AttackPlan } from "./attacks";
import { BENIGN_BYTES_SENT_PER_MINUTE_BUDGET, PLATFORM_ACL_ID, PLATFORM_RULE, benignTuplesForMinute } from "./benign";
import type { SyntheticTuple, TimeWindow } from "./tuple";
import { parseHourIso } from "./time";

export interface NsgFlowLogRecord {
  time: string;
  systemId: string;
  macAddress: string;
  category: "NetworkSecurityGroupFlowEvent";
  resourceId: string;
  operationName: "NetworkSecurityGroupFlowEvents";
  properties: {
    Version: 2;
    flows: Array<{ rule: string; flows: Array<{ mac: string; flowTuples: string[] }> }>;
  };
}

export interface VnetFlowLogRecord {
  time: string;
  flowLogGUID: string;
  macAddress: string;
  category: "FlowLogFlowEvent";
  flowLogResourceID: string;
  targetResourceID: string;
  flowLogVersion: 4;
  operationName: "FlowLogFlowEvent";
  flowRecords: {
    flows: Array<{ aclID: string; flowGroups: Array<{ rule: string; flowTuples: string[] }> }>;
  };
}

export type FlowLogRecord = NsgFlowLogRecord | VnetFlowLogRecord;

/** Inclusive range of minutes of the hour, 0..59. */
export interface MinuteRange {
  first: number;
  last: number;
}

export interface GenerateRecordsOptions {
  topology: Topology;
  nic: TopologyNic;
  /** Start of the hour, ISO-8601 UTC (`2026-11-22T10:00:00Z`; minutes and seconds must be 0). */
  hourIso: string;
  /** Default: the topology's seed. */
  seed?: number;
  attacks?: readonly AttackPlan[];
  /** Default: the whole hour. */
  minutes?: MinuteRange;
  /** Benign tuples per minute (attack tuples come on top). Default: 16..40, drawn per minute. */
  tuplesPerMinute?: number;
  /** A minute with more tuples is split into several records with the same `time`. Default 600. */
  maxTuplesPerRecord?: number;
}

export const DEFAULT_MAX_TUPLES_PER_RECORD = 600;
const MINUTE_IN_MS = 60_000;
/** Order of rule groups in a record: user rules (unlisted, so first), then these, as the service lists them. */
const RULE_ORDER = [
  PLATFORM_RULE,
  "DefaultRule_AllowVnetInBound",
  "DefaultRule_AllowInternetOutBound",
  "DefaultRule_AllowVnetOutBound",
  "DefaultRule_DenyAllInBound",
];

export function* generateRecords(options: GenerateRecordsOptions): Generator<FlowLogRecord> {
  const { nic } = options;
  const seed = options.seed ?? options.topology.seed;
  const hourStartMs = parseHourIso(options.hourIso);
  const minutes = options.minutes ?? { first: 0, last: 59 };
  if (
    !Number.isInteger(minutes.first) ||
    !Number.isInteger(minutes.last) ||
    minutes.first < 0 ||
    minutes.last > 59 ||
    minutes.first > minutes.last
  ) {
    throw new RangeError(`minutes must be integers with 0 <= first <= last <= 59, got ${JSON.stringify(minutes)}`);
  }
  const maxTuplesPerRecord = options.maxTuplesPerRecord ?? DEFAULT_MAX_TUPLES_PER_RECORD;
  if (!Number.isInteger(maxTuplesPerRecord) || maxTuplesPerRecord < 1) {
    throw new RangeError(`maxTuplesPerRecord must be a positive integer, got ${maxTuplesPerRecord}`);
  }
  const tuplesPerMinute = options.tuplesPerMinute;
  if (tuplesPerMinute !== undefined && (!Number.isInteger(tuplesPerMinute) || tuplesPerMinute < 0)) {
    throw new RangeError(`tuplesPerMinute must be a non-negative integer, got ${tuplesPerMinute}`);
  }
  const attacks = (options.attacks ?? []).map(resolveAttack).filter((attack) => attack.macAddress === nic.macAddress);
  // The service writes at a steady second of each minute, different per NIC.
  const recordOffsetInMs = SeededRandom.derive(seed, "record-offset", nic.index).int(1_000, 58_000);

  for (let minute = minutes.first; minute <= minutes.last; minute++) {
    const minuteStartMs = hourStartMs + minute * MINUTE_IN_MS;
    const random = SeededRandom.derive(seed, "minute", nic.index, minuteStartMs);
    const recordTimeMs = minuteStartMs + recordOffsetInMs + random.int(0, 150);
    const window = { startMs: recordTimeMs - MINUTE_IN_MS, endMs: recordTimeMs };
    const attackTuples = attacks.flatMap((attack) =>
      attackTuplesForMinute(attack, { nic, seed, window, minuteStartMs }),
    );
    const time = formatRecordTime(recordTimeMs, hashKey(seed, "fraction", nic.index, minuteStartMs) % 10_000);
    const slices = Math.max(1, Math.ceil((tuplesPerMinute ?? 0) / MAX_TUPLES_PER_SLICE));
    /** The minute's tuples, sorted, one time slice at a time: memory stays bounded however busy the minute. */
    const sortedSlices = function* (): Generator<SyntheticTuple[]> {
      for (let k = 0; k < slices; k++) {
        const slice = {
          startMs: window.startMs + Math.floor((k * MINUTE_IN_MS) / slices),
          endMs: window.startMs + Math.floor(((k + 1) * MINUTE_IN_MS) / slices),
        };
        const tuples = benignTuplesForMinute({
          nic,
          seed,
          random: k === 0 ? random : SeededRandom.derive(seed, "minute", nic.index, minuteStartMs, k),
          window: slice,
          minute,
          hourStartMs,
          tupleCount:
            tuplesPerMinute === undefined
              ? undefined
              : Math.floor((tuplesPerMinute * (k + 1)) / slices) - Math.floor((tuplesPerMinute * k) / slices),
          withSession: k === slices - 1,
          bytesSentBudget: Math.floor(BENIGN_BYTES_SENT_PER_MINUTE_BUDGET / slices),
        });
        for (const tuple of attackTuples)
          if (tuple.timeInMs >= slice.startMs && tuple.timeInMs < slice.endMs) tuples.push(tuple);
        yield sortByTime(tuples, slice);
      }
    };
    let recordsOfMinute = 0;
    for (const chunk of chunked(sortedSlices(), maxTuplesPerRecord)) {
      recordsOfMinute += 1;
      yield nic.kind === "nsg" ? nsgRecord(nic, time, chunk) : vnetRecord(nic, time, chunk);
    }
    // A quiet minute still gets its record, as the service writes one every minute.
    if (recordsOfMinute === 0) yield nic.kind === "nsg" ? nsgRecord(nic, time, []) : vnetRecord(nic, time, []);
  }
}

/** Tuples generated and sorted together at most (a busy minute is cut into time slices of this size). */
const MAX_TUPLES_PER_SLICE = 50_000;

/** Regroups sorted parts into chunks of `size` (the last one shorter), in order. */
function* chunked<T>(parts: Iterable<T[]>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const part of parts) {
    let at = 0;
    while (at < part.length) {
      if (chunk.length === 0 && part.length - at >= size) {
        yield part.slice(at, at + size);
        at += size;
        continue;
      }
      const end = Math.min(part.length, at + size - chunk.length);
      for (; at < end; at++) chunk.push(part[at] as T);
      if (chunk.length === size) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

const MAX_TUPLES_PER_SORT = 2 ** 21;

/**
 * Stable sort by time through one native numeric sort of (time offset, position) keys: a
 * comparator sort of hundreds of thousands of objects a minute was the generator's hot spot.
 */
function sortByTime(tuples: readonly SyntheticTuple[], window: TimeWindow): SyntheticTuple[] {
  if (tuples.length > MAX_TUPLES_PER_SORT)
    throw new RangeError(`at most ${MAX_TUPLES_PER_SORT} tuples a minute, got ${tuples.length}`);
  const keys = new Float64Array(tuples.length);
  for (let i = 0; i < tuples.length; i++) {
    const offsetInMs = (tuples[i] as SyntheticTuple).timeInMs - window.startMs;
    if (offsetInMs < 0 || offsetInMs >= window.endMs - window.startMs)
      throw new RangeError(`tuple time outside its record's minute: ${offsetInMs} ms`);
    keys[i] = offsetInMs * MAX_TUPLES_PER_SORT + i;
  }
  keys.sort();
  return Array.from(keys, (key) => tuples[key % MAX_TUPLES_PER_SORT] as SyntheticTuple);
}

/** Number of flow tuples in a record. */
export function countTuples(record: FlowLogRecord): number {
  let count = 0;
  if ("properties" in record) {
    for (const rule of record.properties.flows) for (const flow of rule.flows) count += flow.flowTuples.length;
  } else {
    for (const flow of record.flowRecords.flows) for (const group of flow.flowGroups) count += group.flowTuples.length;
  }
  return count;
}

/** `2024-08-19T18:00:06.8944384Z`: seven fractional digits, as the service writes. */
function formatRecordTime(timeInMs: number, extraDigits: number): string {
  return new Date(timeInMs).toISOString().replace("Z", `${String(extraDigits).padStart(4, "0")}Z`);
}

function groupByRule(
  tuples: readonly SyntheticTuple[],
  format: (tuple: SyntheticTuple) => string,
): Array<[string, string[]]> {
  const groups = new Map<string, string[]>();
  for (const tuple of tuples) {
    const group = groups.get(tuple.rule);
    if (group) group.push(format(tuple));
    else groups.set(tuple.rule, [format(tuple)]);
  }
  return [...groups].sort(([a], [b]) => RULE_ORDER.indexOf(a) - RULE_ORDER.indexOf(b));
}

function nsgRecord(nic: TopologyNic, time: string, tuples: readonly SyntheticTuple[]): NsgFlowLogRecord {
  return {
    time,
    systemId: nic.systemId,
    macAddress: nic.macAddress,
    category: "NetworkSecurityGroupFlowEvent",
    resourceId: nic.nsgResourceId,
    operationName: "NetworkSecurityGroupFlowEvents",
    properties: {
      Version: 2,
      flows: groupByRule(tuples, formatNsgTuple).map(([rule, flowTuples]) => ({
        rule,
        flows: [{ mac: nic.macAddress, flowTuples }],
      })),
    },
  };
}

function vnetRecord(nic: TopologyNic, time: string, tuples: readonly SyntheticTuple[]): VnetFlowLogRecord {
  return {
    time,
    flowLogGUID: nic.flowLogGuid,
    macAddress: nic.macAddress,
    category: "FlowLogFlowEvent",
    flowLogResourceID: nic.flowLogResourceId,
    targetResourceID: nic.targetResourceId,
    flowLogVersion: 4,
    operationName: "FlowLogFlowEvent",
    flowRecords: {
      // Real VNet records repeat the aclID with one flow group per rule.
      flows: groupByRule(tuples, formatVnetTuple).map(([rule, flowTuples]) => ({
        aclID: rule === PLATFORM_RULE ? PLATFORM_ACL_ID : nic.aclId,
        flowGroups: [{ rule, flowTuples }],
      })),
    },
  };
}

/** NSG v2: epoch seconds, T|U, decision, state, and empty counters for B and denies. */
function formatNsgTuple(t: SyntheticTuple): string {
  const counters = t.counters
    ? `${t.counters.packetsSent},${t.counters.bytesSent},${t.counters.packetsReceived},${t.counters.bytesReceived}`
    : ",,,";
  const protocol = t.protocol === "tcp" ? "T" : "U";
  const flow = `${t.srcIp},${t.dstIp},${t.srcPort},${t.dstPort},${protocol},${t.direction}`;
  return `${Math.floor(t.timeInMs / 1000)},${flow},${t.allowed ? "A" : "D"},${t.state},${counters}`;
}

/** VNet v4: epoch milliseconds, IANA protocol number, state D for denies, encryption, 0 counters when none. */
function formatVnetTuple(t: SyntheticTuple): string {
  const c = t.counters ?? { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0 };
  const flow = `${t.srcIp},${t.dstIp},${t.srcPort},${t.dstPort},${t.protocol === "tcp" ? 6 : 17},${t.direction}`;
  const counters = `${c.packetsSent},${c.bytesSent},${c.packetsReceived},${c.bytesReceived}`;
  return `${t.timeInMs},${flow},${t.allowed ? t.state : "D"},NX,${counters}`;
}
