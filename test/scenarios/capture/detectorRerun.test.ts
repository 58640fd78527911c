/**
 * The detector's operation run again after a crash between its run and its checkpoint, as the real
 * extension may do (TaskEntityShim.cs commits state and messages at the end of the batch; the lost
 * message comes back after ControlQueueVisibilityTimeout, 5 minutes). The first run already dispatched;
 * by the time the message comes back its publishAlerts and capture instances have finished.
 * Still one alert event and one capture per anomaly, and no spurious cooldown refusal.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RULES, aggregateFlowEvents, aggregateOptionsFor } from "../../../src/core/anomaly";
import { blobPathFor, buildTopology, scheduleAttacks } from "../../../devhost/generate";
import { EntityNames, OrchestrationNames } from "../../../src/contracts/names";
import { eventsOfBlob } from "../../devhost/generate/helpers";
import { seedOf, startCaptureSystem, type CaptureSystem } from "./captureSystem";
import { DetectorIngestInput, DetectorOperations, detectorEntityKey } from "../../../src/contracts/captureContracts";

const HOUR = "2026-11-22T10:00:00Z";
const topology = buildTopology({ seed: 21, nics: 4 });
const scanned = topology.nics[0]!;
const rules = DEFAULT_RULES.map((rule) =>
  rule.id === "port-scan" ? { ...rule, capture: true, captureDurationInSeconds: 120 } : rule,
);

let system: CaptureSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

describe("detector operation re-executed after a crash before its checkpoint", () => {
  it("gives one alert event and one capture per anomaly", async () => {
    // Prepare
    system = await startCaptureSystem({ seed: seedOf(topology.nics), rules: { rules } as never });
    const attacks = scheduleAttacks({ kinds: ["scan"], topology, startHourIso: HOUR, hours: 1 });
    const events = eventsOfBlob({ topology, nic: scanned, hourIso: HOUR, attacks });
    const aggregates = aggregateFlowEvents(events, aggregateOptionsFor(rules, blobPathFor(scanned, HOUR).path));
    const input: DetectorIngestInput = { aggregates, historic: false, nowIso: "2026-11-22T11:00:00.000Z" };
    const key = detectorEntityKey(aggregates[0]!.target);
    const crashed = system.host.faults.crashAfterEntityOperation(EntityNames.detector, DetectorOperations.ingest);

    // Act: the operation runs (and dispatches), its work item dies before the checkpoint, it runs again later.
    await system.host.signalEntity(EntityNames.detector, key, DetectorOperations.ingest, input);
    await crashed;
    const host = system.host;
    await host.waitForIdle();

    // Assess
    const alerts = system.eventsOfType("flowtap.anomaly") as { id: string; ruleId: string }[];
    expect(alerts.map((alert) => alert.ruleId).sort()).toEqual(["denied-flood", "port-scan"]);
    expect(system.armRequests("PUT", "/packetCaptures/")).toHaveLength(1);
    expect(system.eventsOfType("flowtap.captureCompleted")).toHaveLength(1);
    expect(system.eventsOfType("flowtap.captureRefused")).toEqual([]);
    const publishers = host.listInstances().filter((i) => i.name === OrchestrationNames.publishAlerts);
    expect(publishers.map((i) => i.runtimeStatus)).toEqual(["Completed"]);
    expect(host.faults.entityOperationRuns(EntityNames.detector, DetectorOperations.ingest)).toBe(2);
    const state = host.getEntityState(EntityNames.detector, key) as { pending: unknown[] };
    expect(state.pending).toEqual([]);
  });
});
