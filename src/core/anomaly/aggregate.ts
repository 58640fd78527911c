import type { FlowEvent } from "../event";
import { isPublicIp } from "./ip";
import { MAX_DISTINCT_PORTS_THRESHOLD, sensitivePortsOf, thresholdOf, type AnomalyRule } from "./rules";
import { dictionaryOf } from "./dictionary";
import { isCanonicalIsoTime, minuteOf } from "./time";

/**
 * Per-target, per-minute aggregates of flow events: what the ingestion activity returns for
 * one byte range and signals to the detector entity of each target. Small JSON by
 * construction; every list is bounded (see AggregateFlowEventsOptions).
 */

export const AGGREGATE_FORMAT_VERSION = 1;

/** Which target (NIC) an aggregate or detector is about. */
export interface TargetRef {
  /** Detector key: the NIC MAC (12 upper-case hex digits) when known, else the lower-cased targetResourceId. */
  key: string;
  mac: string | null;
  /** VNet flow logs: targetResourceID; NSG flow logs: the NSG's resource id. */
  resourceId: string | null;
}

/** What one remote source did to the target in one minute (inbound flows only). */
export interface InboundSourceStats {
  /** New denied inbound flows (tuples in state begin/deny, or v1 tuples). */
  denied: number;
  /** Distinct destination ports on the target, allowed or denied; sorted; at most maxPortsPerSource. */
  ports: number[];
  /** Public sources only: new allowed inbound flows per sensitive port (`"22": 5`). */
  sensitive: Record<string, number>;
  /** Protocols seen (`TCP`, `UDP`, ...), sorted. */
  protocols: string[];
}

/** Bytes the target sent to one remote in outbound flows in one minute. */
export interface EgressRemoteStats {
  bytes: number;
  /** Distinct remote ports, sorted, at most MAX_EVIDENCE_PORTS. */
  ports: number[];
  protocols: string[];
}

export interface MinuteAggregate {
  v: typeof AGGREGATE_FORMAT_VERSION;
  /** Identifies the input (e.g. `blob#firstBlock-lastBlock`); with `minute`, the idempotency key. */
  sourceId: string;
  /** Minute start, `YYYY-MM-DDTHH:MM:00.000Z`. */
  minute: string;
  target: TargetRef;
  /** Target-side addresses seen (destination of inbound, source of outbound), at most MAX_LOCAL_IPS. */
  localIps: string[];
  nsgNames: string[];
  flowLogNames: string[];
  /** Keyed by remote source IP; the union of the top-K sources by each measure. */
  inbound: Record<string, InboundSourceStats>;
  /** Sum of all outbound bytes (not only the kept remotes) and the top-K remotes by bytes. */
  egress: { bytes: number; remotes: Record<string, EgressRemoteStats> };
  /** Sources/remotes left out by the top-K bound (their counts are lost, egress.bytes keeps the total). */
  droppedSources: number;
}

export const MAX_LOCAL_IPS = 8;
export const MAX_NAMES = 4;
export const MAX_EVIDENCE_PORTS = 16;
export const MAX_PROTOCOLS = 4;

export interface AggregateFlowEventsOptions {
  /** Idempotency id of the input, e.g. blob path plus block range. */
  sourceId: string;
  /** Ports whose allowed inbound flows from public sources are counted (see sensitivePortsOf). */
  sensitivePorts: readonly number[];
  /** Sources kept per measure (denied, ports, sensitive, egress bytes) per target-minute. Default 50. */
  maxSourcesPerMeasure?: number;
  /** Distinct ports kept per source; enough to reach the largest portScan threshold. Default 64. */
  maxPortsPerSource?: number;
}

export const DEFAULT_MAX_SOURCES_PER_MEASURE = 50;
export const DEFAULT_MAX_PORTS_PER_SOURCE = 64;

/** Aggregation options that satisfy `rules`: their sensitive ports, and ports up to the largest scan threshold. */
export function aggregateOptionsFor(rules: readonly AnomalyRule[], sourceId: string): AggregateFlowEventsOptions {
  const scanThresholds = rules.filter((rule) => rule.kind === "portScan").map(thresholdOf);
  return {
    sourceId,
    sensitivePorts: sensitivePortsOf(rules),
    maxPortsPerSource: Math.min(
      MAX_DISTINCT_PORTS_THRESHOLD,
      Math.max(DEFAULT_MAX_PORTS_PER_SOURCE, ...scanThresholds),
    ),
  };
}

/** Adds `value` to a sorted, bounded list of distinct numbers or strings (in place). */
export function addBounded<T extends number | string>(list: T[], value: T, max: number): void {
  if (list.length >= max) return;
  let at = list.length;
  while (at > 0 && list[at - 1] > value) at--;
  if (at > 0 && list[at - 1] === value) return;
  list.splice(at, 0, value);
}

/** Tuples that open a flow: v1 (no state), begin, or denied. Continuing/end rows repeat a flow. */
function opensFlow(event: FlowEvent): boolean {
  return event.flowState === null || event.flowState === "begin" || event.flowState === "deny";
}

export function targetOf(event: Pick<FlowEvent, "mac" | "targetResourceId">): TargetRef | null {
  if (event.mac)
    return { key: event.mac.toUpperCase(), mac: event.mac.toUpperCase(), resourceId: event.targetResourceId };
  if (event.targetResourceId)
    return { key: event.targetResourceId.toLowerCase(), mac: null, resourceId: event.targetResourceId };
  return null;
}

/** The `limit` largest entries by `measure` (ties broken by key), skipping zeros. */
export function topEntries<V>(entries: [string, V][], measure: (value: V) => number, limit: number): [string, V][] {
  return entries
    .filter(([, value]) => measure(value) > 0)
    .sort(([keyA, a], [keyB, b]) => measure(b) - measure(a) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0))
    .slice(0, limit);
}

/** Keys of the `limit` largest entries by `measure` (ties broken by key), skipping zeros. */
export function topKeys<V>(entries: Record<string, V>, measure: (value: V) => number, limit: number): string[] {
  return topEntries(Object.entries(entries), measure, limit).map(([key]) => key);
}

function pick<V>(entries: Record<string, V>, keys: Iterable<string>): Record<string, V> {
  return dictionaryOf([...keys].sort().map((key) => [key, entries[key]] as const));
}

function sumValues(record: Record<string, number>): number {
  return Object.values(record).reduce((sum, count) => sum + count, 0);
}

function emptyAggregate(sourceId: string, minute: string, target: TargetRef): MinuteAggregate {
  return {
    v: AGGREGATE_FORMAT_VERSION,
    sourceId,
    minute,
    target,
    localIps: [],
    nsgNames: [],
    flowLogNames: [],
    inbound: dictionaryOf(),
    egress: { bytes: 0, remotes: dictionaryOf() },
    droppedSources: 0,
  };
}

function addEvent(aggregate: MinuteAggregate, event: FlowEvent, options: Required<AggregateFlowEventsOptions>): void {
  const inbound = event.direction === "inbound";
  addBounded(aggregate.localIps, inbound ? event.dstIp : event.srcIp, MAX_LOCAL_IPS);
  if (event.targetType === "nsg" && event.targetName) addBounded(aggregate.nsgNames, event.targetName, MAX_NAMES);
  if (event.flowLogName) addBounded(aggregate.flowLogNames, event.flowLogName, MAX_NAMES);
  if (inbound) {
    const stats = (aggregate.inbound[event.srcIp] ??= { denied: 0, ports: [], sensitive: {}, protocols: [] });
    addBounded(stats.ports, event.dstPort, options.maxPortsPerSource);
    addBounded(stats.protocols, event.protocol, MAX_PROTOCOLS);
    if (!opensFlow(event)) return;
    if (event.decision === "deny") stats.denied++;
    else if (options.sensitivePorts.includes(event.dstPort) && isPublicIp(event.srcIp)) {
      stats.sensitive[event.dstPort] = (stats.sensitive[event.dstPort] ?? 0) + 1;
    }
    return;
  }
  const bytes = event.bytesSrcToDst ?? 0;
  if (bytes <= 0) return;
  aggregate.egress.bytes += bytes;
  const remote = (aggregate.egress.remotes[event.dstIp] ??= { bytes: 0, ports: [], protocols: [] });
  remote.bytes += bytes;
  addBounded(remote.ports, event.dstPort, MAX_EVIDENCE_PORTS);
  addBounded(remote.protocols, event.protocol, MAX_PROTOCOLS);
}

/** Applies the top-K bound: keeps the union of the top sources by each measure. */
function bound(aggregate: MinuteAggregate, limit: number): MinuteAggregate {
  const inbound = aggregate.inbound;
  const keptSources = new Set([
    ...topKeys(inbound, (stats) => stats.denied, limit),
    ...topKeys(inbound, (stats) => stats.ports.length, limit),
    ...topKeys(inbound, (stats) => sumValues(stats.sensitive), limit),
  ]);
  const keptRemotes = topKeys(aggregate.egress.remotes, (remote) => remote.bytes, limit);
  const droppedSources =
    Object.keys(inbound).length - keptSources.size + Object.keys(aggregate.egress.remotes).length - keptRemotes.length;
  return {
    ...aggregate,
    inbound: pick(inbound, keptSources),
    egress: { bytes: aggregate.egress.bytes, remotes: pick(aggregate.egress.remotes, keptRemotes) },
    droppedSources,
  };
}

/**
 * Folds flow events (typically one byte range of one blob) into one aggregate per
 * (target, minute), sorted by target key then minute. Events with neither a MAC nor a
 * targetResourceId have no target and are left out.
 *
 * Size bound per aggregate: at most 3K inbound sources (K = maxSourcesPerMeasure) with at most
 * maxPortsPerSource ports each, K egress remotes with MAX_EVIDENCE_PORTS ports each, and a
 * few names and addresses: with the defaults (K=50, 64 ports) under ~60 KB worst case,
 * typically well under 5 KB.
 */
export function aggregateFlowEvents(
  events: Iterable<FlowEvent>,
  options: AggregateFlowEventsOptions,
): MinuteAggregate[] {
  const aggregator = new FlowEventAggregator(options);
  for (const event of events) aggregator.add(event);
  return aggregator.result();
}

/**
 * {@link aggregateFlowEvents} one event at a time, so a caller streaming a range never holds its
 * events: only the per-(target, minute) aggregates are kept.
 */
export class FlowEventAggregator {
  private readonly options: Required<AggregateFlowEventsOptions>;
  private readonly byKey = new Map<string, MinuteAggregate>();
  /** The previous event's aggregate: consecutive events are mostly of one target and minute. */
  private previous: {
    mac: string | null;
    targetResourceId: string | null;
    minutePrefix: string;
    aggregate: MinuteAggregate;
  } | null = null;

  constructor(options: AggregateFlowEventsOptions) {
    this.options = {
      maxSourcesPerMeasure: DEFAULT_MAX_SOURCES_PER_MEASURE,
      maxPortsPerSource: DEFAULT_MAX_PORTS_PER_SOURCE,
      ...options,
    };
  }

  add(event: FlowEvent): void {
    const previous = this.previous;
    if (
      previous &&
      event.mac === previous.mac &&
      event.targetResourceId === previous.targetResourceId &&
      isCanonicalIsoTime(event.time) &&
      event.time.startsWith(previous.minutePrefix)
    ) {
      addEvent(previous.aggregate, event, this.options);
      return;
    }
    const target = targetOf(event);
    if (!target) return;
    const minute = minuteOf(event.time, `event ${event.id} time`);
    const key = `${target.key}\u0000${minute}`;
    let aggregate = this.byKey.get(key);
    if (!aggregate) {
      aggregate = emptyAggregate(this.options.sourceId, minute, target);
      this.byKey.set(key, aggregate);
    }
    const minutePrefix = isCanonicalIsoTime(event.time) ? event.time.slice(0, 16) : null;
    this.previous =
      minutePrefix === null
        ? null
        : { mac: event.mac, targetResourceId: event.targetResourceId, minutePrefix, aggregate };
    addEvent(aggregate, event, this.options);
  }

  /** The aggregates so far, sorted by target key then minute, each bounded. */
  result(): MinuteAggregate[] {
    return [...this.byKey.values()]
      .sort((a, b) =>
        a.target.key < b.target.key ? -1 : a.target.key > b.target.key ? 1 : a.minute < b.minute ? -1 : 1,
      )
      .map((aggregate) => bound(aggregate, this.options.maxSourcesPerMeasure));
  }
}
