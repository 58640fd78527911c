/**
 * The port scan the capture scenarios detect: one hour of generated flow logs with a scripted scan on the first NIC
 * of a four-NIC topology, aggregated as ingestion does, under the default rules with the port-scan rule asking for a
 * two-minute capture.
 */
import {
  DEFAULT_RULES,
  aggregateFlowEvents,
  aggregateOptionsFor,
  type MinuteAggregate,
} from "../../../src/core/anomaly";
import { blobPathFor, buildTopology, scheduleAttacks } from "../../../devhost/generate";
import { eventsOfBlob } from "../../devhost/generate/helpers";

export const SCAN_HOUR = "2026-11-22T10:00:00Z";
export const topology = buildTopology({ seed: 21, nics: 4 });
export const scanned = topology.nics[0]!;
/** The default rules, with the port-scan rule asking for a two-minute capture. */
export const rules = DEFAULT_RULES.map((rule) =>
  rule.id === "port-scan" ? { ...rule, capture: true, captureDurationInSeconds: 120 } : rule,
);

export function scanAggregates(): MinuteAggregate[] {
  const attacks = scheduleAttacks({ kinds: ["scan"], topology, startHourIso: SCAN_HOUR, hours: 1 });
  const events = eventsOfBlob({ topology, nic: scanned, hourIso: SCAN_HOUR, attacks });
  return aggregateFlowEvents(events, aggregateOptionsFor(rules, blobPathFor(scanned, SCAN_HOUR).path));
}
