/**
 * Benign traffic of one NIC in one minute: outbound HTTPS to a few public services, DNS and NTP
 * over UDP, inbound from the VNet (and Azure platform probes on VNet flow logs), one long-lived session reporting C
 * rows every 5 minutes, and
 * internet background noise denied by DefaultRule_DenyAllInBound. Kept far below the attack
 * thresholds: no allowed inbound RDP/SSH, scanners touch a port or two each, and the bytes sent
 * per minute stay under a fixed budget however many tuples are asked for.
 */
import { SeededRandom } from "./random";
import type { TopologyNic } from "./topology";
import { countersFor, tupleOf, type FlowKey, type SyntheticTuple, type TimeWindow } from "./tuple";

export interface BenignMinuteContext {
  nic: TopologyNic;
  seed: number;
  /** This minute's own stream. */
  random: SeededRandom;
  /** The record's minute, or a time slice of it for a busy minute. */
  window: TimeWindow;
  /** Minute of the hour, 0..59. */
  minute: number;
  hourStartMs: number;
  /** Exact number of tuples to produce; default 16..40. */
  tupleCount?: number;
  /** Whether this (last) slice of the minute carries the long-lived session's row. */
  withSession: boolean;
  /** Bytes all flows of this call may send together. */
  bytesSentBudget: number;
}

/** VNet flow logs: traffic the platform allows, logged under the all-zero aclID. */
export const PLATFORM_RULE = "PlatformRule";
export const PLATFORM_ACL_ID = "00000000-0000-0000-0000-000000000000";

/** Upper bound of benign bytes sent per NIC per minute (egress thresholds are hundreds of MB). */
export const BENIGN_BYTES_SENT_PER_MINUTE_BUDGET = 10_000_000;
export const DEFAULT_TUPLES_PER_MINUTE_RANGE = { min: 16, max: 40 } as const;

/** Public endpoints of the kind VMs talk to (Azure, Microsoft, CDNs), seen in real flow logs. */
const SERVICE_IPS = [
  "20.42.73.216",
  "20.10.127.193",
  "52.182.143.213",
  "40.79.154.80",
  "13.69.239.78",
  "20.242.181.1",
  "40.83.240.146",
  "172.202.64.10",
  "13.107.42.16",
  "23.222.201.247",
];
/** Public resolvers (Azure DNS at 168.63.129.16 is platform traffic that flow logs leave out). */
const DNS_RESOLVER_IPS = ["1.1.1.1", "8.8.8.8"];
const NTP_SERVER_IP = "40.119.6.228";
/** /24s of internet-wide scanners that show up in every public flow log. */
const SCANNER_PREFIXES = [
  "35.203.210",
  "35.203.211",
  "162.216.149",
  "162.216.150",
  "147.185.132",
  "147.185.133",
  "198.235.24",
  "205.210.31",
];
const VNET_SERVICE_PORTS = [443, 8080, 1433, 5432, 6379];
/** Azure platform sources that VNet flow logs show under `PlatformRule` (source port 23456). */
const PLATFORM_SOURCE_IPS = ["40.87.168.8", "52.136.4.16", "40.87.170.21", "52.136.5.88"];

export function benignTuplesForMinute(context: BenignMinuteContext): SyntheticTuple[] {
  const { nic, seed, random, window } = context;
  const target =
    context.tupleCount ?? random.int(DEFAULT_TUPLES_PER_MINUTE_RANGE.min, DEFAULT_TUPLES_PER_MINUTE_RANGE.max);
  const services = servicesOf(seed, nic);
  const tuples: SyntheticTuple[] = [];
  const session = context.withSession ? sessionTuple(context, services[0] as string) : null;
  if (session && target > 0) tuples.push(session);
  const maxBytesSentPerFlow = Math.max(100, Math.floor(context.bytesSentBudget / Math.max(1, target)));
  const time = (): number => random.int(window.startMs, window.endMs - 1);
  /** A begin row and, if there is room, its end row a few seconds later. */
  const addFlow = (flow: FlowKey, [bytesSent, bytesReceived]: readonly [number, number]): void => {
    const beginMs = time();
    const counters = countersFor(Math.min(bytesSent, maxBytesSentPerFlow), bytesReceived);
    if (target - tuples.length >= 2) {
      tuples.push(tupleOf(flow, beginMs, "B", null));
      tuples.push(tupleOf(flow, Math.min(beginMs + random.int(200, 8_000), window.endMs - 1), "E", counters));
    } else {
      // A flow that began in the previous minute ends in this one.
      tuples.push(tupleOf(flow, beginMs, "E", counters));
    }
  };

  while (tuples.length < target) {
    const { flow, bytes } = drawBenignFlow(nic, services, random);
    if (bytes) addFlow(flow, bytes);
    // A denied flow logs its begin row only.
    else tuples.push(tupleOf(flow, time(), "B", null));
  }
  return tuples;
}

/** One flow of the benign mix; `bytes` (sent, received) is absent for a denied flow. */
interface BenignFlow {
  flow: FlowKey;
  bytes?: readonly [number, number];
}

/**
 * Draws one flow: 45% HTTPS out, 15% DNS, 5% NTP, 15% inbound from the VNet, 2% platform probes (VNet flow logs
 * only), the rest denied internet scans. The draws keep their order: a seed gives the same traffic as before.
 */
function drawBenignFlow(nic: TopologyNic, services: readonly string[], random: SeededRandom): BenignFlow {
  const kind = random.next();
  const ephemeralPort = (): number => random.int(32_768, 60_999);
  if (kind < 0.45) {
    const flow = internetOutbound(nic, random.pick(services), ephemeralPort(), 443, "tcp");
    return { flow, bytes: [random.int(300, 30_000), random.int(500, 200_000)] };
  }
  if (kind < 0.6) {
    const flow = internetOutbound(nic, random.pick(DNS_RESOLVER_IPS), ephemeralPort(), 53, "udp");
    return { flow, bytes: [random.int(60, 120), random.int(80, 400)] };
  }
  if (kind < 0.65) return { flow: internetOutbound(nic, NTP_SERVER_IP, 123, 123, "udp"), bytes: [90, 90] };
  if (kind < 0.8) {
    const peer = `${nic.vnetPrefix}.0.${random.int(4, 254)}`;
    const flow: FlowKey = {
      srcIp: peer,
      dstIp: nic.privateIp,
      srcPort: ephemeralPort(),
      dstPort: random.pick(VNET_SERVICE_PORTS),
      protocol: "tcp",
      direction: "I",
      allowed: true,
      rule: "DefaultRule_AllowVnetInBound",
    };
    return { flow, bytes: [random.int(200, 5_000), random.int(500, 50_000)] };
  }
  if (kind < 0.82 && nic.kind === "vnet") return { flow: platformProbe(nic, random), bytes: [128, 0] };
  return { flow: deniedScan(nic, random) };
}

function internetOutbound(
  nic: TopologyNic,
  dstIp: string,
  srcPort: number,
  dstPort: number,
  protocol: FlowKey["protocol"],
): FlowKey {
  const rule = "DefaultRule_AllowInternetOutBound";
  return { srcIp: nic.privateIp, dstIp, srcPort, dstPort, protocol, direction: "O", allowed: true, rule };
}

/** Azure platform traffic that VNet flow logs show under PlatformRule. */
function platformProbe(nic: TopologyNic, random: SeededRandom): FlowKey {
  return {
    srcIp: random.pick(PLATFORM_SOURCE_IPS),
    dstIp: nic.privateIp,
    srcPort: 23456,
    dstPort: random.int(20_000, 60_000),
    protocol: "tcp",
    direction: "I",
    allowed: true,
    rule: PLATFORM_RULE,
  };
}

/** An internet scanner touching one port, denied by the default rule. */
function deniedScan(nic: TopologyNic, random: SeededRandom): FlowKey {
  const scanner = random.chance(0.6)
    ? `${random.pick(SCANNER_PREFIXES)}.${random.int(1, 254)}`
    : randomPublicIp(random);
  return {
    srcIp: scanner,
    dstIp: nic.privateIp,
    srcPort: random.int(1_024, 65_535),
    dstPort: random.int(1, 65_535),
    protocol: random.chance(0.9) ? "tcp" : "udp",
    direction: "I",
    allowed: false,
    rule: "DefaultRule_DenyAllInBound",
  };
}

/** The NIC's few favourite public services, stable across hours. */
function servicesOf(seed: number, nic: TopologyNic): string[] {
  const random = SeededRandom.derive(seed, "services", nic.index);
  const start = random.int(0, SERVICE_IPS.length - 1);
  return [0, 1, 2, 3].map((i) => SERVICE_IPS[(start + i * 3) % SERVICE_IPS.length] as string);
}

/** A long HTTPS session per NIC and hour: B in minute 0, C every 5 minutes, E in minute 59. */
function sessionTuple(
  { nic, seed, window, minute, hourStartMs }: BenignMinuteContext,
  serviceIp: string,
): SyntheticTuple | null {
  const state = minute === 59 ? "E" : minute % 5 === 4 ? "C" : minute === 0 ? "B" : null;
  if (!state) return null;
  const random = SeededRandom.derive(seed, "session", nic.index, hourStartMs, minute);
  const flow: FlowKey = {
    srcIp: nic.privateIp,
    dstIp: serviceIp,
    srcPort: SeededRandom.derive(seed, "session-port", nic.index, hourStartMs).int(32_768, 60_999),
    dstPort: 443,
    protocol: "tcp",
    direction: "O",
    allowed: true,
    rule: "DefaultRule_AllowInternetOutBound",
  };
  const counters = state === "B" ? null : countersFor(random.int(2_000, 60_000), random.int(5_000, 400_000));
  return tupleOf(flow, window.endMs - random.int(1, 2_000), state, counters);
}

/** A public unicast address (never private, loopback, link-local, CGNAT or multicast). */
function randomPublicIp(random: SeededRandom): string {
  for (;;) {
    const a = random.int(1, 223);
    const b = random.int(0, 255);
    const isReserved =
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127);
    if (!isReserved) return `${a}.${b}.${random.int(0, 255)}.${random.int(1, 254)}`;
  }
}
