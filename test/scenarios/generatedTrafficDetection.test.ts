/**
 * The generator's promise to the anomaly tests and the demo: each scripted attack trips the
 * project's default rules on its NIC, and an hour of benign traffic trips none.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RULES,
  aggregateFlowEvents,
  aggregateOptionsFor,
  applyAggregates,
  emptyDetectorState,
} from "../../src/core/anomaly";
import { blobPathFor, buildTopology, scheduleAttacks, type AttackPlan, type TopologyNic } from "../../devhost/generate";
import { eventsOfBlob } from "../devhost/generate/helpers";

const HOUR = "2026-11-22T10:00:00Z";
const topology = buildTopology({ seed: 21, nics: 4 });

function firedRules(nic: TopologyNic, attacks: AttackPlan[]): string[] {
  const events = eventsOfBlob({ topology, nic, hourIso: HOUR, attacks });
  const aggregates = aggregateFlowEvents(events, aggregateOptionsFor(DEFAULT_RULES, blobPathFor(nic, HOUR).path));
  const { alerts } = applyAggregates(emptyDetectorState(), aggregates, DEFAULT_RULES, {
    nowIso: "2026-11-22T11:00:00Z",
  });
  return alerts.map((alert) => alert.ruleId).sort();
}

describe("generated traffic against the default anomaly rules", () => {
  it("benign traffic trips no rule on any NIC", () => {
    for (const nic of topology.nics) expect(firedRules(nic, [])).toEqual([]);
  });

  it("each attack trips its rule on its NIC, whatever the flow-log kind", () => {
    // Prepare: the i-th attack lands on NIC i; NICs alternate NSG and VNet flow logs.
    const attacks = scheduleAttacks({
      kinds: ["scan", "bruteforce", "egress", "scan"],
      topology,
      startHourIso: HOUR,
      hours: 1,
    });

    // Act
    const fired = topology.nics.map((nic) => firedRules(nic, attacks));

    // Assess
    expect(fired).toEqual([
      ["denied-flood", "port-scan"],
      ["brute-force-ssh-rdp"],
      ["egress-bytes"],
      ["denied-flood", "port-scan"],
    ]);
  });
});
