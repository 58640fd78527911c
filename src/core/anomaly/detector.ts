import { ALERT_SCHEMA_VERSION, ANOMALY_ALERT_TYPE, type AnomalyAlert, type EvidenceRemote } from "../alertSchema";
import {
  addBounded,
  MAX_EVIDENCE_PORTS,
  MAX_LOCAL_IPS,
  MAX_NAMES,
  MAX_PROTOCOLS,
  topEntries,
  topKeys,
  type EgressRemoteStats,
  type InboundSourceStats,
  type MinuteAggregate,
  type TargetRef,
} from "./aggregate";
import { dictionaryOf } from "./dictionary";
// A generic 64-bit string hash despite its name: deterministic ids and idempotency keys.
import { hashBlobPath as hash64 } from "../eventId";
import { isIpInCidr } from "./ip";
import { scopeCidrs, THRESHOLD_KEY, thresholdOf, type AnomalyRule, type RuleKind } from "./rules";
import { addMinutes, minutesBetween, toEpochMs } from "./time";

/**
 * The detector of one target (NIC): sliding per-rule windows of per-minute tallies, built from
 * MinuteAggregates. Pure: `applyAggregates(state, aggregates, rules, options)` returns the new
 * state and the alerts; the caller (a durable entity) stores the state as JSON.
 *
 * Time is event time: windows, expiry and cooldown follow the aggregates' minutes, so live
 * processing and backfill give the same alerts for the same data, and replays are deterministic.
 * Run backfill on its own detector state (e.g. entity key `{target}|backfill`): minutes older than
 * the largest window behind the newest minute seen are dropped as expired.
 *
 * State size bound: per rule, at most windowInMinutes (<= 60) minute tallies of at most
 * MAX_REMOTES_PER_MINUTE remotes, each with at most MAX_STATE_PORTS_PER_REMOTE ports (portScan:
 * up to its threshold, <= 1024); plus MAX_APPLIED_KEYS 16-hex idempotency keys (~10 KB).
 * With DEFAULT_RULES, measured worst case ~35 KB (30 min of 20k flows/min from 20k sources).
 * Per-minute top-K is lossy: a source outside every minute's top 10 is not seen by the window.
 */

export const DETECTOR_STATE_VERSION = 1;
/** Remotes kept per rule per minute in detector state. */
export const MAX_REMOTES_PER_MINUTE = 10;
/** Ports kept per remote in detector state as evidence (portScan keeps up to its threshold: they are the measure). */
export const MAX_STATE_PORTS_PER_REMOTE = 4;
/** Applied (sourceId, minute) keys remembered to ignore re-delivered aggregates. */
export const MAX_APPLIED_KEYS = 512;
/** Remotes listed in an alert's evidence. */
export const MAX_EVIDENCE_REMOTES = 10;

export interface RemoteTally {
  value: number;
  ports: number[];
  protocols: string[];
}

export interface MinuteTally {
  /** egressBytes: all outbound bytes of the minute; other kinds: sum of the kept remotes' values. */
  total: number;
  remotes: Record<string, RemoteTally>;
}

export interface RuleWindowState {
  /** The kind the tallies were counted for: a rule id reused for another kind starts afresh. */
  kind: RuleKind;
  /** Minute start → tally; only minutes inside the rule's window behind `latestMinute`. */
  minutes: Record<string, MinuteTally>;
  /** End minute (inclusive) of the window that last fired: the cooldown anchor. */
  lastFiredWindowEnd?: string;
}

export interface DetectorState {
  v: typeof DETECTOR_STATE_VERSION;
  /** Set by the first aggregate; aggregates for another target are skipped. */
  target: TargetRef | null;
  localIps: string[];
  nsgNames: string[];
  flowLogNames: string[];
  /** Newest minute applied: the sliding windows' right edge. */
  latestMinute: string | null;
  rules: Record<string, RuleWindowState>;
  /** Hashes of applied `(sourceId, minute)` keys, oldest first. */
  applied: string[];
}

export interface ApplyAggregatesOptions {
  /** Detection time, used as the alerts' `time` (never read from a clock here). */
  nowIso: string;
  /** Backfill: alerts are marked historic and never request a capture. */
  historic?: boolean;
}

export interface ApplyAggregatesResult {
  state: DetectorState;
  alerts: AnomalyAlert[];
  /** Aggregates not applied, by reason. */
  skipped: { duplicate: number; expired: number; otherTarget: number };
}

export function emptyDetectorState(): DetectorState {
  return {
    v: DETECTOR_STATE_VERSION,
    target: null,
    localIps: [],
    nsgNames: [],
    flowLogNames: [],
    latestMinute: null,
    rules: {},
    applied: [],
  };
}

function normalizeMac(text: string): string {
  return text.replace(/[^0-9a-f]/gi, "").toUpperCase();
}

/** True when the aggregate falls in the rule's scope (every given list must match one entry). */
export function isInScope(rule: AnomalyRule, aggregate: MinuteAggregate): boolean {
  const scope = rule.scope;
  if (!scope) return true;
  const anyName = (wanted: string[] | undefined, names: string[]) =>
    wanted === undefined || names.some((name) => wanted.some((entry) => entry.toLowerCase() === name.toLowerCase()));
  if (!anyName(scope.nsgNames, aggregate.nsgNames) || !anyName(scope.flowLogNames, aggregate.flowLogNames))
    return false;
  const cidrs = scopeCidrs(scope);
  if (cidrs && !aggregate.localIps.some((ip) => cidrs.some((cidr) => isIpInCidr(ip, cidr)))) return false;
  if (scope.targets) {
    const { mac, resourceId } = aggregate.target;
    const matches = scope.targets.some(
      (entry) =>
        (mac !== null && normalizeMac(entry) === mac) ||
        (resourceId !== null && entry.toLowerCase() === resourceId.toLowerCase()),
    );
    if (!matches) return false;
  }
  return true;
}

function portCapOf(rule: AnomalyRule): number {
  return rule.kind === "portScan" ? thresholdOf(rule) : MAX_STATE_PORTS_PER_REMOTE;
}

/**
 * A remote's tally as merging keeps it: distinct sorted ports and protocols, bounded; portScan counts the ports kept.
 */
function remoteTally(rule: AnomalyRule, value: number, ports: readonly number[], protocols: string[]): RemoteTally {
  const portCap = portCapOf(rule);
  return mergeRemote(
    undefined,
    { value, ports: ports.slice(0, portCap), protocols },
    portCap,
    rule.kind === "portScan",
  );
}

/** One aggregate's remotes, listed once for all rules (IP-keyed records are slow to walk repeatedly). */
interface AggregateRemotes {
  inbound: [string, InboundSourceStats][];
  egress: [string, EgressRemoteStats][];
}

function remotesOf(aggregate: MinuteAggregate): AggregateRemotes {
  return { inbound: Object.entries(aggregate.inbound), egress: Object.entries(aggregate.egress.remotes) };
}

/**
 * The rule's view of one aggregate: its total and its remotes with this rule's measure, as mergeTallies would keep
 * them.
 */
function tallyFor(
  rule: AnomalyRule,
  aggregate: MinuteAggregate,
  { inbound, egress }: AggregateRemotes,
): { total: number; remotes: [string, RemoteTally][] } {
  const remotes: [string, RemoteTally][] = [];
  if (rule.kind === "egressBytes") {
    for (const [ip, remote] of egress)
      remotes.push([ip, remoteTally(rule, remote.bytes, remote.ports, remote.protocols)]);
    return { total: aggregate.egress.bytes, remotes };
  }
  let total = 0;
  for (const [ip, stats] of inbound) {
    let value = 0;
    let ports = stats.ports;
    if (rule.kind === "deniedFlood") value = stats.denied;
    else if (rule.kind === "portScan") value = stats.ports.length;
    else {
      ports = [];
      for (const port of rule.ports ?? []) {
        const flows = stats.sensitive[port] ?? 0;
        if (flows > 0) {
          ports.push(port);
          value += flows;
        }
      }
    }
    if (!(value > 0)) continue;
    remotes.push([ip, remoteTally(rule, value, ports, stats.protocols)]);
    total += value;
  }
  return { total, remotes };
}

function mergeRemote(
  into: RemoteTally | undefined,
  from: RemoteTally,
  portCap: number,
  unionCounts: boolean,
): RemoteTally {
  const merged: RemoteTally = into
    ? { value: into.value, ports: [...into.ports], protocols: [...into.protocols] }
    : { value: 0, ports: [], protocols: [] };
  from.ports.forEach((port) => addBounded(merged.ports, port, portCap));
  from.protocols.forEach((protocol) => addBounded(merged.protocols, protocol, MAX_PROTOCOLS));
  merged.value = unionCounts ? merged.ports.length : merged.value + from.value;
  return merged;
}

/** The top `limit` remotes (largest value first, ties by address, zeros left out), as a record. */
function keepTop(remotes: [string, RemoteTally][], limit: number): Record<string, RemoteTally> {
  return dictionaryOf(topEntries(remotes, (remote) => remote.value, limit));
}

/** Merges tallies (same minute from several inputs, or all minutes of a window), keeping the top `limit` remotes. */
function mergeTallies(rule: AnomalyRule, tallies: MinuteTally[], limit: number): MinuteTally {
  const remotes: Record<string, RemoteTally> = {};
  let total = 0;
  for (const tally of tallies) {
    total += tally.total;
    for (const [ip, remote] of Object.entries(tally.remotes)) {
      remotes[ip] = mergeRemote(remotes[ip], remote, portCapOf(rule), rule.kind === "portScan");
    }
  }
  return { total, remotes: keepTop(Object.entries(remotes), limit) };
}

/**
 * The measured value of the window made of `tallies`, as their merge (mergeTallies) would show it,
 * without building it: total bytes for egress, else the largest per-remote value (portScan: the
 * remote's distinct ports, capped as the merge caps them).
 */
function windowValueOf(rule: AnomalyRule, tallies: readonly MinuteTally[]): number {
  if (rule.kind === "egressBytes") return tallies.reduce((total, tally) => total + tally.total, 0);
  if (rule.kind === "portScan") return largestPortUnion(tallies, portCapOf(rule));
  const sums = new Map<string, number>();
  let largest = 0;
  for (const tally of tallies) {
    for (const ip in tally.remotes) {
      const sum = (sums.get(ip) ?? 0) + tally.remotes[ip].value;
      sums.set(ip, sum);
      if (sum > largest) largest = sum;
    }
  }
  return largest;
}

/**
 * An upper bound of windowValueOf that needs no grouping by remote, so most windows are
 * dismissed cheaply: a remote's window value (portScan: its distinct ports, which is the value
 * kept per minute) never exceeds the sum over the minutes of the largest remote value.
 */
function windowValueBound(rule: AnomalyRule, tallies: readonly MinuteTally[]): number {
  if (rule.kind === "egressBytes") return windowValueOf(rule, tallies);
  let bound = 0;
  for (const tally of tallies) {
    let largest = 0;
    for (const ip in tally.remotes) largest = Math.max(largest, tally.remotes[ip].value);
    bound += largest;
  }
  return bound;
}

/** The most distinct ports (at most `portCap`) one remote reached across `tallies`. */
function largestPortUnion(tallies: readonly MinuteTally[], portCap: number): number {
  // Port counts summed per remote bound the union: a set is built only for remotes that could reach the cap.
  const upperBounds = new Map<string, number>();
  for (const tally of tallies) {
    for (const ip in tally.remotes) upperBounds.set(ip, (upperBounds.get(ip) ?? 0) + tally.remotes[ip].ports.length);
  }
  let largest = 0;
  for (const [ip, upperBound] of upperBounds) {
    if (Math.min(upperBound, portCap) <= largest) continue;
    const union = new Set<number>();
    for (const tally of tallies) tally.remotes[ip]?.ports.forEach((port) => union.add(port));
    largest = Math.max(largest, Math.min(union.size, portCap));
  }
  return largest;
}

interface FiredWindow {
  /** The window's tallies merged, every remote kept. */
  merged: MinuteTally;
  value: number;
  start: string;
  endMinute: string;
}

function alertFor(
  rule: AnomalyRule,
  state: DetectorState,
  { merged: window, value, start, endMinute }: FiredWindow,
  options: ApplyAggregatesOptions,
): AnomalyAlert {
  const target = state.target as TargetRef;
  const remotes: EvidenceRemote[] = topKeys(window.remotes, (remote) => remote.value, MAX_EVIDENCE_REMOTES).map(
    (ip) => ({ ip, ...window.remotes[ip], ports: window.remotes[ip].ports.slice(0, MAX_EVIDENCE_PORTS) }),
  );
  const ports: number[] = [];
  const protocols: string[] = [];
  for (const remote of remotes) {
    remote.ports.forEach((port) => addBounded(ports, port, MAX_EVIDENCE_PORTS));
    remote.protocols.forEach((protocol) => addBounded(protocols, protocol, MAX_PROTOCOLS));
  }
  const historic = options.historic === true;
  const capture: AnomalyAlert["capture"] = { requested: rule.capture && !historic };
  if (rule.captureDurationInSeconds !== undefined) capture.durationInSeconds = rule.captureDurationInSeconds;
  if (rule.captureMaxSizeInBytes !== undefined) capture.maxSizeInBytes = rule.captureMaxSizeInBytes;
  return {
    schemaVersion: ALERT_SCHEMA_VERSION,
    id: `fta-${hash64(`${target.key}\u0000${rule.id}\u0000${start}`)}`,
    type: ANOMALY_ALERT_TYPE,
    time: options.nowIso,
    ruleId: rule.id,
    kind: rule.kind,
    severity: rule.severity,
    target: {
      key: target.key,
      mac: target.mac,
      ip: state.localIps[0] ?? null,
      ips: [...state.localIps],
      resourceId: target.resourceId,
    },
    window: { start, end: addMinutes(endMinute, 1), minutes: rule.windowInMinutes },
    evidence: {
      metric: THRESHOLD_KEY[rule.kind],
      value,
      threshold: thresholdOf(rule),
      remotes,
      ports,
      protocols,
      nsgNames: [...state.nsgNames],
      flowLogNames: [...state.flowLogNames],
    },
    historic,
    capture,
  };
}

/** Evaluates the windows ending at each minute ≥ `fromMinute` that has data, oldest first. */
function evaluateRule(
  rule: AnomalyRule,
  ruleState: RuleWindowState,
  fromMinute: string,
  state: DetectorState,
  options: ApplyAggregatesOptions,
  shiftMinute: ShiftMinute,
): AnomalyAlert[] {
  const alerts: AnomalyAlert[] = [];
  const minutes = Object.keys(ruleState.minutes);
  const ends = minutes.filter((minute) => minute >= fromMinute).sort();
  for (const endMinute of ends) {
    const last = ruleState.lastFiredWindowEnd;
    if (last !== undefined && Math.abs(minutesBetween(last, endMinute)) < rule.cooldownInMinutes) continue;
    const start = shiftMinute(endMinute, 1 - rule.windowInMinutes);
    const inWindow = minutes
      .filter((minute) => minute >= start && minute <= endMinute)
      .map((minute) => ruleState.minutes[minute]);
    if (windowValueBound(rule, inWindow) < thresholdOf(rule)) continue;
    const value = windowValueOf(rule, inWindow);
    if (value < thresholdOf(rule)) continue;
    ruleState.lastFiredWindowEnd = endMinute;
    alerts.push(
      alertFor(
        rule,
        state,
        { merged: mergeTallies(rule, inWindow, Number.MAX_SAFE_INTEGER), value, start, endMinute },
        options,
      ),
    );
  }
  return alerts;
}

/**
 * A copy of the state that applyAggregates may change: tallies are replaced, never changed in place, so they are
 * shared.
 */
function copyState(state: DetectorState): DetectorState {
  const rules: Record<string, RuleWindowState> = {};
  for (const [id, ruleState] of Object.entries(state.rules))
    rules[id] = { ...ruleState, minutes: { ...ruleState.minutes } };
  return {
    ...state,
    localIps: [...state.localIps],
    nsgNames: [...state.nsgNames],
    flowLogNames: [...state.flowLogNames],
    rules,
    applied: [...state.applied],
  };
}

/** addMinutes for one call, memoized: every rule asks for the same few window edges at every minute. */
type ShiftMinute = (minute: string, minutes: number) => string;

function memoizedAddMinutes(): ShiftMinute {
  // By offset, then by minute: a few offsets (one per window size), and no key strings to build.
  const byOffset = new Map<number, Map<string, string>>();
  return (minute, minutes) => {
    let shifted = byOffset.get(minutes);
    if (!shifted) byOffset.set(minutes, (shifted = new Map()));
    let result = shifted.get(minute);
    if (result === undefined) shifted.set(minute, (result = addMinutes(minute, minutes)));
    return result;
  };
}

/** What applyOne needs besides the state, computed once per call. */
interface ApplyContext {
  rules: readonly AnomalyRule[];
  /** The state's applied keys, for lookup. */
  applied: Set<string>;
  /** Aggregates at least this many minutes behind the newest are expired. */
  largestWindowInMinutes: number;
}

/**
 * Applies per-minute aggregates of this target and returns the new state and the alerts.
 * Idempotent per (aggregate.sourceId, aggregate.minute); late minutes inside the window count,
 * older ones are skipped as expired. Each rule fires at most once per cooldown (event time).
 */
export function applyAggregates(
  previous: DetectorState,
  aggregates: readonly MinuteAggregate[],
  rules: readonly AnomalyRule[],
  options: ApplyAggregatesOptions,
): ApplyAggregatesResult {
  toEpochMs(options.nowIso, "nowIso");
  const state = copyState(previous);
  const skipped = { duplicate: 0, expired: 0, otherTarget: 0 };
  const alerts: AnomalyAlert[] = [];
  // Rules removed from the configuration drop their windows; new (or re-kinded) rules start empty.
  state.rules = Object.fromEntries(
    rules.map((rule) => {
      const kept = state.rules[rule.id];
      return [rule.id, kept?.kind === rule.kind ? kept : { kind: rule.kind, minutes: {} }];
    }),
  );
  // Minute by minute, oldest first, so that one call carrying an hour of backfill slides the
  // windows exactly as sixty calls would.
  const byMinute = new Map<string, MinuteAggregate[]>();
  for (const aggregate of aggregates) {
    const group = byMinute.get(aggregate.minute);
    if (group) group.push(aggregate);
    else byMinute.set(aggregate.minute, [aggregate]);
  }
  const context: ApplyContext = {
    rules,
    applied: new Set(state.applied),
    largestWindowInMinutes: Math.max(1, ...rules.map((rule) => rule.windowInMinutes)),
  };
  const shiftMinute = memoizedAddMinutes();
  for (const minute of [...byMinute.keys()].sort()) {
    const group = byMinute.get(minute) as MinuteAggregate[];
    const latest = state.latestMinute === null || minute > state.latestMinute ? minute : state.latestMinute;
    const touchedRules = new Set<AnomalyRule>();
    for (const aggregate of group) {
      const outcome = applyOne(state, aggregate, context, latest);
      if (typeof outcome === "string") skipped[outcome]++;
      else outcome.forEach((rule) => touchedRules.add(rule));
    }
    state.latestMinute = latest;
    for (const rule of touchedRules)
      alerts.push(...evaluateRule(rule, state.rules[rule.id], minute, state, options, shiftMinute));
    for (const rule of rules) pruneRule(state.rules[rule.id], shiftMinute(latest, 1 - rule.windowInMinutes));
  }
  state.applied = state.applied.slice(-MAX_APPLIED_KEYS);
  return { state, alerts, skipped };
}

/** Adds one aggregate to the rules' windows; returns the rules it counted for, or why it was skipped. */
function applyOne(
  state: DetectorState,
  aggregate: MinuteAggregate,
  { rules, applied, largestWindowInMinutes }: ApplyContext,
  latest: string,
): AnomalyRule[] | keyof ApplyAggregatesResult["skipped"] {
  state.target ??= aggregate.target;
  if (aggregate.target.key !== state.target.key) return "otherTarget";
  const key = hash64(`${aggregate.sourceId}\u0000${aggregate.minute}`);
  if (applied.has(key)) return "duplicate";
  const age = minutesBetween(aggregate.minute, latest);
  if (age >= largestWindowInMinutes) return "expired";
  state.applied.push(key);
  applied.add(key);
  aggregate.localIps.forEach((ip) => addBounded(state.localIps, ip, MAX_LOCAL_IPS));
  aggregate.nsgNames.forEach((name) => addBounded(state.nsgNames, name, MAX_NAMES));
  aggregate.flowLogNames.forEach((name) => addBounded(state.flowLogNames, name, MAX_NAMES));
  const counted: AnomalyRule[] = [];
  const remotes = remotesOf(aggregate);
  for (const rule of rules) {
    if (age >= rule.windowInMinutes || !isInScope(rule, aggregate)) continue;
    const ruleState = state.rules[rule.id];
    const existing = ruleState.minutes[aggregate.minute];
    const { total, remotes: measured } = tallyFor(rule, aggregate, remotes);
    if (total === 0) continue;
    ruleState.minutes[aggregate.minute] = existing
      ? mergeTallies(rule, [existing, { total, remotes: Object.fromEntries(measured) }], MAX_REMOTES_PER_MINUTE)
      : { total, remotes: keepTop(measured, MAX_REMOTES_PER_MINUTE) };
    counted.push(rule);
  }
  return counted;
}

/** Drops minutes that slid out of the rule's window (older than `oldestKept`). */
function pruneRule(ruleState: RuleWindowState, oldestKept: string): void {
  for (const minute of Object.keys(ruleState.minutes)) {
    if (minute < oldestKept) delete ruleState.minutes[minute];
  }
}
