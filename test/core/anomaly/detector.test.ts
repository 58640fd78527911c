import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FlowEvent } from "../../../src/core/event";
import { aggregateFlowEvents, aggregateOptionsFor, type MinuteAggregate } from "../../../src/core/anomaly/aggregate";
import { applyAggregates, emptyDetectorState, type DetectorState } from "../../../src/core/anomaly/detector";
import { DEFAULT_RULES, type AnomalyRule } from "../../../src/core/anomaly/rules";
import { eventsInMinute, TARGET_IP, TARGET_MAC } from "./flowEvents";

const NOW = "2026-11-22T13:00:00.000Z";
const MINUTE_0 = "2026-11-22T12:00:00.000Z";

function minute(offset: number): string {
  return new Date(Date.parse(MINUTE_0) + offset * 60_000).toISOString();
}

function rule(overrides: Partial<AnomalyRule> & Pick<AnomalyRule, "kind" | "thresholds">): AnomalyRule {
  return {
    id: `test-${overrides.kind}`,
    windowInMinutes: 5,
    cooldownInMinutes: 30,
    severity: 2,
    capture: true,
    ...overrides,
  };
}

const deniedFlood = rule({ kind: "deniedFlood", thresholds: { deniedFlows: 10 } });
const portScan = rule({ kind: "portScan", thresholds: { distinctPorts: 10 } });
const bruteForce = rule({ kind: "bruteForce", thresholds: { allowedFlows: 10 }, ports: [22, 3389] });
const egress = rule({ kind: "egressBytes", thresholds: { bytes: 10_000 } });

/** Events that reach `count` units of the rule's measure within one minute. */
const eventsFor: Record<AnomalyRule["kind"], (count: number, offset?: number) => FlowEvent[]> = {
  deniedFlood: (count, offset = 0) => eventsInMinute(minute(offset), count, () => ({ srcIp: "45.1.1.1" })),
  portScan: (count, offset = 0) =>
    eventsInMinute(minute(offset), count, (index) => ({ srcIp: "45.1.1.1", dstPort: 1000 + index + offset * 100 })),
  bruteForce: (count, offset = 0) =>
    eventsInMinute(minute(offset), count, (index) => ({
      srcIp: "45.1.1.1",
      dstPort: index % 2 ? 22 : 3389,
      decision: "allow",
    })),
  egressBytes: (count, offset = 0) =>
    eventsInMinute(minute(offset), count, () => ({
      direction: "outbound",
      decision: "allow",
      srcIp: TARGET_IP,
      dstIp: "52.1.1.1",
      dstPort: 443,
      flowState: "continuing",
      bytesSrcToDst: 1000,
    })),
};

let rangeCounter = 0;
function aggregate(events: FlowEvent[], rules: readonly AnomalyRule[]): MinuteAggregate[] {
  rangeCounter++;
  return aggregateFlowEvents(events, aggregateOptionsFor(rules, `blob#range-${rangeCounter}`));
}

function apply(state: DetectorState, aggregates: MinuteAggregate[], rules: readonly AnomalyRule[], historic = false) {
  return applyAggregates(state, aggregates, rules, { nowIso: NOW, historic });
}

describe("detector", () => {
  it.each([
    { tested: deniedFlood, unitsAtThreshold: 10 },
    { tested: portScan, unitsAtThreshold: 10 },
    { tested: bruteForce, unitsAtThreshold: 10 },
    { tested: egress, unitsAtThreshold: 10 },
  ])("$tested.kind fires at its threshold and not below", ({ tested, unitsAtThreshold }) => {
    // Prepare
    const below = aggregate(eventsFor[tested.kind](unitsAtThreshold - 1), [tested]);
    const atThreshold = aggregate(eventsFor[tested.kind](unitsAtThreshold), [tested]);
    // Act
    const quiet = apply(emptyDetectorState(), below, [tested]);
    const firing = apply(emptyDetectorState(), atThreshold, [tested]);
    // Assess
    expect(quiet.alerts).toEqual([]);
    expect(firing.alerts).toHaveLength(1);
    expect(firing.alerts[0]).toMatchObject({
      type: "flowtap.anomaly",
      ruleId: tested.id,
      kind: tested.kind,
      time: NOW,
      historic: false,
      capture: { requested: true },
      target: { key: TARGET_MAC, mac: TARGET_MAC, ip: TARGET_IP },
      window: { start: minute(-4), end: minute(1), minutes: 5 },
      evidence: { threshold: tested.kind === "egressBytes" ? 10_000 : 10 },
    });
    expect(firing.alerts[0].evidence.remotes[0].ip).toBe(tested.kind === "egressBytes" ? "52.1.1.1" : "45.1.1.1");
  });

  it("does not count brute force from private sources", () => {
    // Prepare
    const events = eventsInMinute(MINUTE_0, 50, () => ({ srcIp: "10.1.1.1", dstPort: 22, decision: "allow" }));
    // Act
    const { alerts } = apply(emptyDetectorState(), aggregate(events, [bruteForce]), [bruteForce]);
    // Assess
    expect(alerts).toEqual([]);
  });

  it("sums within the sliding window and forgets minutes that slid out", () => {
    // Prepare: 6 denied flows at minute 0, 6 more at minute 5 (window 5: minutes 1..5)
    const first = apply(emptyDetectorState(), aggregate(eventsFor.deniedFlood(6, 0), [deniedFlood]), [deniedFlood]);
    // Act
    const afterExpiry = apply(first.state, aggregate(eventsFor.deniedFlood(6, 5), [deniedFlood]), [deniedFlood]);
    const withinWindow = apply(first.state, aggregate(eventsFor.deniedFlood(6, 4), [deniedFlood]), [deniedFlood]);
    // Assess
    expect(afterExpiry.alerts).toEqual([]);
    expect(Object.keys(afterExpiry.state.rules[deniedFlood.id].minutes)).toEqual([minute(5)]);
    expect(withinWindow.alerts).toHaveLength(1);
    expect(withinWindow.alerts[0].evidence.value).toBe(12);
  });

  it("fires at most once per cooldown, then again after it", () => {
    // Prepare
    const cooled = { ...deniedFlood, cooldownInMinutes: 10, windowInMinutes: 1 };
    let state = emptyDetectorState();
    const firedAt: number[] = [];
    // Act: a flood every minute for 25 minutes
    for (let offset = 0; offset < 25; offset++) {
      const result = apply(state, aggregate(eventsFor.deniedFlood(10, offset), [cooled]), [cooled]);
      state = result.state;
      result.alerts.forEach(() => firedAt.push(offset));
    }
    // Assess
    expect(firedAt).toEqual([0, 10, 20]);
  });

  it("ignores an aggregate already applied, however often it is re-delivered", () => {
    // Prepare
    const aggregates = aggregate(eventsFor.deniedFlood(6), [deniedFlood]);
    const once = apply(emptyDetectorState(), aggregates, [deniedFlood]);
    // Act
    const again = apply(once.state, [...aggregates, ...aggregates], [deniedFlood]);
    // Assess
    expect(again.alerts).toEqual([]);
    expect(again.skipped.duplicate).toBe(2);
    expect(again.state.rules).toEqual(once.state.rules);
  });

  it("counts late minutes inside the window and skips those older than every window", () => {
    // Prepare
    const latest = apply(emptyDetectorState(), aggregate(eventsFor.deniedFlood(5, 10), [deniedFlood]), [deniedFlood]);
    // Act
    const late = apply(latest.state, aggregate(eventsFor.deniedFlood(5, 8), [deniedFlood]), [deniedFlood]);
    const tooLate = apply(latest.state, aggregate(eventsFor.deniedFlood(5, 2), [deniedFlood]), [deniedFlood]);
    // Assess
    expect(late.alerts).toHaveLength(1);
    expect(late.alerts[0].window).toEqual({ start: minute(6), end: minute(11), minutes: 5 });
    expect(tooLate.alerts).toEqual([]);
    expect(tooLate.skipped.expired).toBe(1);
  });

  it("applies only rules whose scope matches (NSG name, CIDR, target)", () => {
    // Prepare
    const scoped = (scope: AnomalyRule["scope"], id: string) => ({ ...deniedFlood, id, scope });
    const rules = [
      scoped({ nsgNames: ["nsg-web"] }, "nsg-match"),
      scoped({ nsgNames: ["nsg-db"] }, "nsg-miss"),
      scoped({ cidrs: ["10.0.0.0/24"] }, "cidr-match"),
      scoped({ cidrs: ["10.0.1.0/24"] }, "cidr-miss"),
      scoped({ targets: ["00-0d-3a-1b-2c-3d"] }, "mac-match"),
      scoped({ targets: ["00-0d-3a-00-00-00"] }, "mac-miss"),
      scoped({ nsgNames: ["NSG-WEB"], flowLogNames: ["fl1"] }, "both-lists-miss"),
    ];
    // Act
    const { alerts } = apply(emptyDetectorState(), aggregate(eventsFor.deniedFlood(10), rules), rules);
    // Assess
    expect(alerts.map((alert) => alert.ruleId).sort()).toEqual(["cidr-match", "mac-match", "nsg-match"]);
  });

  it("marks backfill alerts historic and never requests a capture for them", () => {
    // Prepare
    const aggregates = aggregate(eventsFor.bruteForce(40), DEFAULT_RULES);
    // Act
    const { alerts } = apply(emptyDetectorState(), aggregates, DEFAULT_RULES, true);
    // Assess
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      historic: true,
      capture: { requested: false, durationInSeconds: 300 },
      ruleId: "brute-force-ssh-rdp",
    });
  });

  it("slides the windows inside one call carrying an hour of backfill, as separate calls would", () => {
    // Prepare: one denied flow every minute for an hour, floods at minutes 10 and 50
    const hour = Array.from({ length: 60 }, (_, offset) =>
      eventsFor.deniedFlood(offset === 10 || offset === 50 ? 10 : 1, offset),
    ).flat();
    const aggregates = aggregate(hour, [deniedFlood]);
    // Act
    const { alerts, skipped, state } = apply(emptyDetectorState(), aggregates, [deniedFlood], true);
    // Assess
    expect(alerts.map((alert) => alert.window.end)).toEqual([minute(11), minute(51)]);
    expect(alerts.every((alert) => alert.historic && !alert.capture.requested)).toBe(true);
    expect(skipped).toEqual({ duplicate: 0, expired: 0, otherTarget: 0 });
    expect(Object.keys(state.rules[deniedFlood.id].minutes)).toEqual([
      minute(55),
      minute(56),
      minute(57),
      minute(58),
      minute(59),
    ]);
  });

  it("gives the same alert id for the same target, rule and window, whatever the detection time", () => {
    // Prepare
    const aggregates = aggregate(eventsFor.portScan(12), [portScan]);
    // Act
    const first = applyAggregates(emptyDetectorState(), aggregates, [portScan], { nowIso: NOW });
    const second = applyAggregates(emptyDetectorState(), aggregates, [portScan], {
      nowIso: "2026-11-22T14:00:00.000Z",
    });
    // Assess
    expect(first.alerts[0].id).toBe(second.alerts[0].id);
    expect(first.alerts[0].id).toMatch(/^fta-[0-9a-f]{16}$/);
  });

  it("drops windows of removed rules and restarts a rule id reused for another kind", () => {
    // Prepare
    const reused = { ...portScan, id: deniedFlood.id };
    const before = apply(emptyDetectorState(), aggregate(eventsFor.deniedFlood(9), [deniedFlood, egress]), [
      deniedFlood,
      egress,
    ]);
    // Act
    const after = apply(before.state, aggregate(eventsFor.deniedFlood(1, 1), [reused]), [reused]);
    // Assess
    expect(Object.keys(after.state.rules)).toEqual([deniedFlood.id]);
    expect(after.state.rules[deniedFlood.id]).toEqual({
      kind: "portScan",
      minutes: { [minute(1)]: expect.anything() },
    });
    expect(after.alerts).toEqual([]);
  });

  it("skips aggregates of another target", () => {
    // Prepare
    const mine = aggregate(eventsFor.deniedFlood(1), [deniedFlood]);
    const other = aggregate(
      eventsInMinute(MINUTE_0, 20, () => ({ srcIp: "45.1.1.1", mac: "AABBCCDDEEFF" })),
      [deniedFlood],
    );
    // Act
    const { alerts, skipped } = apply(apply(emptyDetectorState(), mine, [deniedFlood]).state, other, [deniedFlood]);
    // Assess
    expect(alerts).toEqual([]);
    expect(skipped.otherTarget).toBe(1);
  });

  it("fires the scan rule once for a source hitting 200 ports in 2 min, in ranges, re-delivered, out of order", () => {
    // Prepare: 200 denied SYNs to ports 1..200 over two minutes, flattened in four byte ranges
    const scan = [
      ...eventsInMinute(minute(0), 100, (index) => ({ srcIp: "45.33.32.156", dstPort: index + 1 })),
      ...eventsInMinute(minute(1), 100, (index) => ({ srcIp: "45.33.32.156", dstPort: index + 101 })),
    ];
    const ranges = [0, 1, 2, 3].map((part) =>
      aggregateFlowEvents(
        scan.slice(part * 50, part * 50 + 50),
        aggregateOptionsFor(DEFAULT_RULES, `PT1H.json#${part}`),
      ),
    );
    const deliveries = [ranges[1], ranges[0], ranges[3], ranges[1], ranges[2], ranges[0]];
    let state = emptyDetectorState();
    const alerts = [];
    // Act
    for (const delivery of deliveries) {
      // Through JSON both ways, as an entity signal and entity state would be.
      const result = applyAggregates(state, JSON.parse(JSON.stringify(delivery)) as MinuteAggregate[], DEFAULT_RULES, {
        nowIso: NOW,
      });
      state = JSON.parse(JSON.stringify(result.state)) as DetectorState;
      alerts.push(...result.alerts);
    }
    // Assess
    expect(alerts.map((alert) => alert.ruleId)).toEqual(["port-scan", "denied-flood"]);
    expect(alerts[0]).toMatchObject({
      evidence: { metric: "distinctPorts", value: 25, threshold: 25 },
      capture: { requested: false },
    });
    expect(alerts[0].evidence.remotes.map((remote) => remote.ip)).toEqual(["45.33.32.156"]);
    expect(alerts[1].evidence).toMatchObject({ metric: "deniedFlows", value: 100 });
  });

  it("keeps state small whatever arrives (bounded sources, ports, minutes, applied keys)", () => {
    // Prepare
    const arbitraryEvent = fc.record({
      offset: fc.integer({ min: 0, max: 120 }),
      src: fc.ipV4(),
      dstPort: fc.integer({ min: 1, max: 65_535 }),
      inbound: fc.boolean(),
      deny: fc.boolean(),
      bytes: fc.nat(1_000_000),
    });
    fc.assert(
      fc.property(fc.array(fc.array(arbitraryEvent, { maxLength: 300 }), { minLength: 1, maxLength: 8 }), (batches) => {
        let state = emptyDetectorState();
        // Act
        for (const batch of batches) {
          const events = batch.flatMap((item) =>
            eventsInMinute(minute(item.offset), 1, () => ({
              srcIp: item.inbound ? item.src : TARGET_IP,
              dstIp: item.inbound ? TARGET_IP : item.src,
              dstPort: item.dstPort,
              direction: item.inbound ? "inbound" : "outbound",
              decision: item.deny ? "deny" : "allow",
              bytesSrcToDst: item.bytes,
            })),
          );
          state = applyAggregates(state, aggregate(events, DEFAULT_RULES), DEFAULT_RULES, { nowIso: NOW }).state;
        }
        // Assess
        expect(JSON.stringify(state).length).toBeLessThan(40_000);
      }),
      { numRuns: 30 },
    );
  });
});
