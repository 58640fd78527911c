import { describe, expect, it } from "vitest";
import type { FlowEvent } from "../../../src/core/event";
import {
  ATTACK_DEFAULTS,
  buildTopology,
  generateRecords,
  resolveAttack,
  scheduleAttacks,
  type AttackPlan,
} from "../../../devhost/generate";
import { eventsOfBlob, groupBy, maxInWindow, maxSumInWindow, timeOfEvent } from "./helpers";

const HOUR = "2026-11-22T10:00:00Z";
const topology = buildTopology({ seed: 5, nics: 2 });
const MINUTE_IN_MS = 60_000;

const distinctPorts = (events: FlowEvent[]): number => new Set(events.map((e) => e.dstPort)).size;
const bytesSent = (e: FlowEvent): number => e.bytesSrcToDst ?? 0;
const isPublicSource = (e: FlowEvent): boolean => !e.srcIp.startsWith("10.");

/** Minutes of the hour whose records mention the IP. */
function minutesMentioning(options: Parameters<typeof generateRecords>[0], ip: string): number[] {
  return [...generateRecords(options)].flatMap((record, minute) =>
    JSON.stringify(record).includes(`,${ip},`) ? [minute] : [],
  );
}

describe.each(topology.nics.map((nic) => [nic.kind, nic] as const))("attacks on a %s NIC", (_kind, nic) => {
  const attacks: AttackPlan[] = [
    { kind: "scan", macAddress: nic.macAddress, startIso: "2026-11-22T10:10:00Z" },
    { kind: "bruteforce", macAddress: nic.macAddress, startIso: "2026-11-22T10:25:00Z" },
    { kind: "egress", macAddress: nic.macAddress, startIso: "2026-11-22T10:40:00Z" },
  ];
  const options = { topology, nic, hourIso: HOUR, attacks };
  const events = eventsOfBlob(options);
  const bySource = groupBy(events, (e) => e.srcIp);

  it("scan: one public source probes >= 100 distinct ports within 2 minutes, all denied, in minutes 10-11", () => {
    // Prepare
    const peer = ATTACK_DEFAULTS.scan.peerIp;
    const scan = bySource.get(peer) ?? [];

    // Assess
    expect(maxInWindow(scan, timeOfEvent, 2 * MINUTE_IN_MS, distinctPorts)).toBeGreaterThanOrEqual(100);
    expect(scan.every((e) => e.decision === "deny" && e.direction === "inbound" && e.dstIp === nic.privateIp)).toBe(
      true,
    );
    expect(minutesMentioning(options, peer)).toEqual([10, 11]);
  });

  it("bruteforce: >= 50 allowed RDP sessions from one public source within 5 minutes, in minutes 25-29", () => {
    // Prepare
    const peer = ATTACK_DEFAULTS.bruteforce.peerIp;
    const sessions = (bySource.get(peer) ?? []).filter(
      (e) => e.decision === "allow" && e.dstPort === 3389 && e.flowState === "begin",
    );

    // Assess
    expect(maxSumInWindow(sessions, timeOfEvent, 5 * MINUTE_IN_MS, () => 1)).toBeGreaterThanOrEqual(50);
    expect(minutesMentioning(options, peer)).toEqual([25, 26, 27, 28, 29]);
  });

  it("egress: >= 500 MB sent to one destination within 5 minutes, in minutes 40-44", () => {
    // Prepare
    const peer = ATTACK_DEFAULTS.egress.peerIp;
    const upload = events.filter((e) => e.dstIp === peer && e.direction === "outbound");

    // Assess
    expect(maxSumInWindow(upload, timeOfEvent, 5 * MINUTE_IN_MS, bytesSent)).toBeGreaterThanOrEqual(500_000_000);
    expect(minutesMentioning(options, peer)).toEqual([40, 41, 42, 43, 44]);
  });

  it("leaves the other NIC alone", () => {
    // Prepare
    const other = topology.nics.find((n) => n !== nic)!;

    // Act
    const otherEvents = eventsOfBlob({ ...options, nic: other });

    // Assess
    const peers: string[] = [
      ATTACK_DEFAULTS.scan.peerIp,
      ATTACK_DEFAULTS.bruteforce.peerIp,
      ATTACK_DEFAULTS.egress.peerIp,
    ];
    expect(otherEvents.filter((e) => peers.includes(e.srcIp) || peers.includes(e.dstIp))).toEqual([]);
  });
});

describe.each([
  ["default rate", undefined],
  ["5000 tuples a minute", 5000],
])("benign traffic (%s) stays well below the attack thresholds", (_name, tuplesPerMinute) => {
  const nic = topology.nics[0]!;
  const events = eventsOfBlob({
    topology,
    nic,
    hourIso: HOUR,
    tuplesPerMinute,
    minutes: { first: 0, last: tuplesPerMinute ? 9 : 59 },
  });
  const inboundBySource = groupBy(
    events.filter((e) => e.direction === "inbound" && isPublicSource(e)),
    (e) => e.srcIp,
  );

  it("no source touches more than 10 distinct ports in 5 minutes", () => {
    for (const sourceEvents of inboundBySource.values()) {
      expect(maxInWindow(sourceEvents, timeOfEvent, 5 * MINUTE_IN_MS, distinctPorts)).toBeLessThan(10);
    }
  });

  it("no public source gets an allowed inbound flow to SSH or RDP", () => {
    expect(
      events.filter((e) => isPublicSource(e) && e.decision === "allow" && (e.dstPort === 22 || e.dstPort === 3389)),
    ).toEqual([]);
  });

  it("sends under 50 MB in any 5 minutes", () => {
    const outbound = events.filter((e) => e.direction === "outbound");
    expect(maxSumInWindow(outbound, timeOfEvent, 5 * MINUTE_IN_MS, bytesSent)).toBeLessThan(50_000_000);
  });
});

describe("resolveAttack", () => {
  const plan: AttackPlan = { kind: "bruteforce", macAddress: "000d3a123456", startIso: "2026-11-22T10:25:00Z" };

  it("fills in the defaults", () => {
    expect(resolveAttack(plan)).toMatchObject({
      macAddress: "000D3A123456",
      durationInMinutes: 5,
      peerIp: "80.94.95.115",
      targetPort: 3389,
      startMs: Date.parse(plan.startIso),
    });
  });

  it("rejects bad fields, naming them", () => {
    expect(() => resolveAttack({ ...plan, kind: "ddos" as AttackPlan["kind"] })).toThrow(
      /attack kind must be one of scan, bruteforce, egress/,
    );
    expect(() => resolveAttack({ ...plan, macAddress: "00-0D" })).toThrow(/macAddress/);
    expect(() => resolveAttack({ ...plan, startIso: "2026-11-22T10:25:30Z" })).toThrow(
      /startIso must be a whole UTC minute/,
    );
    expect(() => resolveAttack({ ...plan, durationInMinutes: 0 })).toThrow(/durationInMinutes/);
    expect(() => resolveAttack({ ...plan, peerIp: "300.1.1.1" })).toThrow(/peerIp/);
    expect(() => resolveAttack({ ...plan, targetPort: 70000 })).toThrow(/targetPort/);
  });

  it("brute-forces SSH when asked", () => {
    // Prepare
    const nic = topology.nics[0]!;
    const attack: AttackPlan = { ...plan, macAddress: nic.macAddress, targetPort: 22 };

    // Act
    const events = eventsOfBlob({ topology, nic, hourIso: HOUR, attacks: [attack], minutes: { first: 25, last: 29 } });

    // Assess
    const ssh = events.filter((e) => e.srcIp === ATTACK_DEFAULTS.bruteforce.peerIp && e.flowState === "begin");
    expect(ssh.length).toBe(5 * ATTACK_DEFAULTS.bruteforce.attemptsPerMinute);
    expect(new Set(ssh.map((e) => `${e.dstPort} ${e.rule} ${e.decision}`))).toEqual(
      new Set(["22 UserRule_AllowSSH allow"]),
    );
  });
});

describe("scheduleAttacks", () => {
  it("puts the i-th attack on NIC i at minute 10 + 15 i of the run", () => {
    // Act
    const plans = scheduleAttacks({ kinds: ["egress", "scan", "bruteforce"], topology, startHourIso: HOUR, hours: 1 });

    // Assess
    expect(plans).toEqual([
      { kind: "egress", macAddress: topology.nics[0]!.macAddress, startIso: "2026-11-22T10:10:00.000Z" },
      { kind: "scan", macAddress: topology.nics[1]!.macAddress, startIso: "2026-11-22T10:25:00.000Z" },
      { kind: "bruteforce", macAddress: topology.nics[0]!.macAddress, startIso: "2026-11-22T10:40:00.000Z" },
    ]);
  });

  it("refuses attacks that would not end within the run", () => {
    const kinds = ["scan", "scan", "scan", "egress", "bruteforce"] as const;
    expect(() => scheduleAttacks({ kinds: kinds.slice(0, 4), topology, startHourIso: HOUR, hours: 1 })).not.toThrow();
    expect(() => scheduleAttacks({ kinds, topology, startHourIso: HOUR, hours: 1 })).toThrow(
      /5 attacks do not fit in 1 hour\(s\): attack 5 \(bruteforce\) would start at minute 70/,
    );
    expect(scheduleAttacks({ kinds, topology, startHourIso: HOUR, hours: 2 })).toHaveLength(5);
  });
});
