/**
 * Scripted attacks layered on benign traffic, each strong enough to cross obvious detection
 * thresholds: a port scan (>= 100 distinct ports in 2 minutes), an RDP/SSH brute force
 * (>= 50 allowed attempts in 5 minutes), an exfiltration (>= 500 MB out in 5 minutes).
 */
import { SeededRandom, hashKey } from "./random";
import { parseHourIso } from "./time";
import type { Topology, TopologyNic } from "./topology";
import { countersFor, tupleOf, type FlowKey, type SyntheticTuple, type TimeWindow } from "./tuple";

export const ATTACK_KINDS = ["scan", "bruteforce", "egress"] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export interface AttackPlan {
  kind: AttackKind;
  /** The NIC attacked (scan, bruteforce) or exfiltrating (egress); 12 hex digits. */
  macAddress: string;
  /** First minute, ISO-8601 UTC (`2026-11-22T10:15:00Z`): the attack is in the records of this minute on. */
  startIso: string;
  /** Default: scan 2, bruteforce 5, egress 5. */
  durationInMinutes?: number;
  /** The public peer: the scanner, the brute forcer, or the exfiltration destination. */
  peerIp?: string;
  /** bruteforce only: 3389 (RDP, default) or 22 (SSH). */
  targetPort?: number;
}

/** Per-minute intensity and defaults; a test can derive the promised strength from these. */
export const ATTACK_DEFAULTS = {
  scan: { durationInMinutes: 2, distinctPortsPerMinute: 150, peerIp: "45.155.205.233" },
  bruteforce: { durationInMinutes: 5, attemptsPerMinute: 30, peerIp: "80.94.95.115", targetPort: 3389 },
  egress: { durationInMinutes: 5, bytesSentPerMinute: 300_000_000, connections: 3, peerIp: "185.199.110.153" },
} as const;

export interface ResolvedAttack {
  kind: AttackKind;
  macAddress: string;
  startMs: number;
  durationInMinutes: number;
  peerIp: string;
  targetPort: number;
  /** Seeds this attack's own random stream. */
  key: number;
}

const MINUTE_IN_MS = 60_000;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** Ports scanners try first; the rest of a scan is random. */
const COMMON_PORTS = [
  22, 23, 80, 443, 445, 3389, 1433, 3306, 5432, 6379, 8080, 8443, 5900, 21, 25, 110, 143, 993, 995, 9200, 27017, 11211,
  5985, 2375,
];

/** Fills in defaults and validates; throws RangeError naming the bad field. */
export function resolveAttack(plan: AttackPlan): ResolvedAttack {
  const where = `attack ${plan.kind} at ${plan.startIso}`;
  if (!(ATTACK_KINDS as readonly string[]).includes(plan.kind)) {
    throw new RangeError(`attack kind must be one of ${ATTACK_KINDS.join(", ")}, got '${String(plan.kind)}'`);
  }
  if (!/^[0-9A-F]{12}$/i.test(plan.macAddress))
    throw new RangeError(`${where}: macAddress must be 12 hex digits, got '${plan.macAddress}'`);
  const startMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:00(\.0{1,3})?)?Z$/.test(plan.startIso)
    ? Date.parse(plan.startIso)
    : Number.NaN;
  if (!Number.isFinite(startMs))
    throw new RangeError(`${where}: startIso must be a whole UTC minute like 2026-11-22T10:15:00Z`);
  const defaults = ATTACK_DEFAULTS[plan.kind];
  const durationInMinutes = plan.durationInMinutes ?? defaults.durationInMinutes;
  if (!Number.isInteger(durationInMinutes) || durationInMinutes < 1 || durationInMinutes > 60) {
    throw new RangeError(`${where}: durationInMinutes must be an integer in [1, 60], got ${durationInMinutes}`);
  }
  const peerIp = plan.peerIp ?? defaults.peerIp;
  if (!IPV4.test(peerIp)) throw new RangeError(`${where}: peerIp must be an IPv4 address, got '${peerIp}'`);
  const targetPort = plan.targetPort ?? ATTACK_DEFAULTS.bruteforce.targetPort;
  if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) {
    throw new RangeError(`${where}: targetPort must be a port number, got ${targetPort}`);
  }
  return {
    kind: plan.kind,
    macAddress: plan.macAddress.toUpperCase(),
    startMs,
    durationInMinutes,
    peerIp,
    targetPort,
    key: hashKey(plan.kind, plan.macAddress.toUpperCase(), startMs, peerIp, targetPort),
  };
}

export interface ScheduleAttacksOptions {
  kinds: readonly AttackKind[];
  topology: Topology;
  /** First hour of the run, a whole UTC hour. */
  startHourIso: string;
  /** Length of the run. */
  hours: number;
}

/**
 * A simple schedule for `kinds`: the i-th attack on NIC i (modulo the NICs), starting at minute
 * 10 + 15 i of the run, so attacks never overlap. RangeError if one would not end within the run.
 */
export function scheduleAttacks({ kinds, topology, startHourIso, hours }: ScheduleAttacksOptions): AttackPlan[] {
  const startMs = parseHourIso(startHourIso, "startHourIso");
  return kinds.map((kind, i) => {
    const startMinute = 10 + 15 * i;
    if (startMinute + ATTACK_DEFAULTS[kind].durationInMinutes > hours * 60) {
      throw new RangeError(
        `${kinds.length} attacks do not fit in ${hours} hour(s): attack ${i + 1} (${kind}) would start at ` +
          `minute ${startMinute}`,
      );
    }
    const nic = topology.nics[i % topology.nics.length] as TopologyNic;
    return { kind, macAddress: nic.macAddress, startIso: new Date(startMs + startMinute * MINUTE_IN_MS).toISOString() };
  });
}

export interface AttackMinuteContext {
  nic: TopologyNic;
  seed: number;
  window: TimeWindow;
  minuteStartMs: number;
}

/** The attack's tuples in the record of the minute starting at `minuteStartMs` (none outside the attack). */
export function attackTuplesForMinute(attack: ResolvedAttack, context: AttackMinuteContext): SyntheticTuple[] {
  const step = (context.minuteStartMs - attack.startMs) / MINUTE_IN_MS;
  if (step < 0 || step >= attack.durationInMinutes) return [];
  const random = SeededRandom.derive(context.seed, "attack", attack.key, step);
  switch (attack.kind) {
    case "scan":
      return scanTuples(attack, context, step, random);
    case "bruteforce":
      return bruteForceTuples(attack, context, random);
    case "egress":
      return egressTuples(attack, context, step, random);
  }
}

/** Denied SYNs from one source to distinct ports, never repeating a port across the scan's minutes. */
function scanTuples(
  attack: ResolvedAttack,
  { nic, seed, window }: AttackMinuteContext,
  step: number,
  random: SeededRandom,
): SyntheticTuple[] {
  const perMinute = ATTACK_DEFAULTS.scan.distinctPortsPerMinute;
  const ports = scanPorts(seed, attack, perMinute * attack.durationInMinutes).slice(
    step * perMinute,
    (step + 1) * perMinute,
  );
  const spacingInMs = Math.floor((window.endMs - window.startMs) / perMinute);
  return ports.map((port, i) => {
    const flow: FlowKey = {
      srcIp: attack.peerIp,
      dstIp: nic.privateIp,
      srcPort: random.int(40_000, 65_000),
      dstPort: port,
      protocol: "tcp",
      direction: "I",
      allowed: false,
      rule: "DefaultRule_DenyAllInBound",
    };
    return tupleOf(flow, window.startMs + i * spacingInMs + random.int(0, spacingInMs - 1), "B", null);
  });
}

function scanPorts(seed: number, attack: ResolvedAttack, count: number): number[] {
  const random = SeededRandom.derive(seed, "scan-ports", attack.key);
  const ports = new Set(COMMON_PORTS.slice(0, count));
  while (ports.size < count) ports.add(random.int(1, 65535));
  return [...ports];
}

/** Allowed inbound sessions to RDP/SSH through a permissive user rule: a B and an E row each. */
function bruteForceTuples(
  attack: ResolvedAttack,
  { nic, window }: AttackMinuteContext,
  random: SeededRandom,
): SyntheticTuple[] {
  const attempts = ATTACK_DEFAULTS.bruteforce.attemptsPerMinute;
  const rule =
    attack.targetPort === 3389
      ? "UserRule_AllowRDP"
      : attack.targetPort === 22
        ? "UserRule_AllowSSH"
        : `UserRule_AllowPort${attack.targetPort}`;
  const spacingInMs = Math.floor((window.endMs - window.startMs) / attempts);
  const tuples: SyntheticTuple[] = [];
  for (let i = 0; i < attempts; i++) {
    const beginMs = window.startMs + i * spacingInMs + random.int(0, 300);
    const flow: FlowKey = {
      srcIp: attack.peerIp,
      dstIp: nic.privateIp,
      srcPort: random.int(49_152, 65_535),
      dstPort: attack.targetPort,
      protocol: "tcp",
      direction: "I",
      allowed: true,
      rule,
    };
    tuples.push(tupleOf(flow, beginMs, "B", null));
    const endMs = Math.min(beginMs + random.int(1_500, 4_000), window.endMs - 1);
    tuples.push(tupleOf(flow, endMs, "E", countersFor(random.int(1_800, 4_200), random.int(3_000, 6_000))));
  }
  return tuples;
}

/** A few long HTTPS uploads to one destination: B in the first minute, C every minute, E in the last. */
function egressTuples(
  attack: ResolvedAttack,
  { nic, seed, window }: AttackMinuteContext,
  step: number,
  random: SeededRandom,
): SyntheticTuple[] {
  const { connections, bytesSentPerMinute } = ATTACK_DEFAULTS.egress;
  const ports = SeededRandom.derive(seed, "egress-ports", attack.key);
  const tuples: SyntheticTuple[] = [];
  for (let c = 0; c < connections; c++) {
    const flow: FlowKey = {
      srcIp: nic.privateIp,
      dstIp: attack.peerIp,
      srcPort: ports.int(49_152, 65_535),
      dstPort: 443,
      protocol: "tcp",
      direction: "O",
      allowed: true,
      rule: "DefaultRule_AllowInternetOutBound",
    };
    if (step === 0) tuples.push(tupleOf(flow, window.startMs + random.int(0, 999), "B", null));
    const bytesSent = Math.floor(bytesSentPerMinute / connections);
    const state = step === attack.durationInMinutes - 1 ? "E" : "C";
    tuples.push(
      tupleOf(flow, window.endMs - 1 - random.int(0, 999), state, countersFor(bytesSent, Math.floor(bytesSent / 100))),
    );
  }
  return tuples;
}
