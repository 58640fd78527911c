/**
 * The whole chain on the local system: a flow-log blob holding a scripted port scan is written
 * as the service writes it, its BlobCreated event delivered, real ingestion signals the
 * detector, and the alerts hub (read with a real EventHubConsumerClient) carries the alert and
 * the capture report of the one capture made on the local ARM endpoint.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../../../src/core/anomaly";
import { blobPathFor, buildTopology, generateRecords, scheduleAttacks } from "../../../devhost/generate";
import { FlowLogBlobWriter } from "../../../devhost/flowLogWriter";
import { ALERTS_HUB, readHubEvents, startLocalSystem, type LocalSystem } from "../../../devhost/system";
import { TriggerNames } from "../../../src/contracts/names";
import { FAST_SETTINGS } from "../ingestion/helpers";
import { seedOf, STORAGE_ACCOUNT_ID, vmIdOf } from "./captureSystem";

const HOUR = "2026-11-22T10:00:00Z";
const topology = buildTopology({ seed: 21, nics: 4 });
const rules = DEFAULT_RULES.map((rule) =>
  rule.id === "port-scan" ? { ...rule, capture: true, captureDurationInSeconds: 60 } : rule,
);

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

describe("flow logs → ingestion → detector → capture", () => {
  it("a scan written to a flow-log blob ends as an alert and one reported capture on the alerts hub", async () => {
    // Prepare
    system = await startLocalSystem({
      app: { modulePath: path.join(__dirname, "../../../src/app.ts") },
      port: 0,
      clock: { mode: "virtual", startTime: new Date("2026-11-22T11:00:00Z") },
      enableTimerTriggers: false,
      arm: { seed: seedOf(topology.nics) },
      settings: {
        ...FAST_SETTINGS,
        FLOWTAP_ARM_RETRY_DELAY_MS: "5",
        FLOWTAP_RULES: JSON.stringify({ rules }),
        FLOWTAP_CAPTURE_POLICY: JSON.stringify({ storage: { storageAccountId: STORAGE_ACCOUNT_ID } }),
      },
    });
    const [attack] = scheduleAttacks({ kinds: ["scan"], topology, startHourIso: HOUR, hours: 1 });
    const nic = topology.nics.find((candidate) => candidate.macAddress === attack!.macAddress)!;
    const { container, path: blobPath } = blobPathFor(nic, HOUR);
    const writer = new FlowLogBlobWriter(system.blobService.getContainerClient(container), blobPath);

    // Act
    const commit = await writer.append(...generateRecords({ topology, nic, hourIso: HOUR, attacks: [attack!] }));
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit.events.eventGrid);
    await system.host.waitForIdle();

    // Assess
    const messages = await readHubEvents(system.eventHubsConnectionString, ALERTS_HUB, {
      expectedCount: 3,
      quietPeriodInMs: 200,
      timeoutInMs: 5_000,
    });
    const events = messages.map(
      (message) =>
        JSON.parse(message.bodyText) as {
          type: string;
          ruleId?: string;
          target: Record<string, unknown>;
          capture: Record<string, unknown> | null;
        },
    );
    expect(events.map((event) => event.ruleId ?? event.type).sort()).toEqual([
      "denied-flood",
      "flowtap.captureCompleted",
      "port-scan",
    ]);
    const report = events.find((event) => event.type === "flowtap.captureCompleted")!;
    expect(report.target.vmResourceId).toBe(vmIdOf(nic));
    expect(report.capture).toMatchObject({
      status: "Stopped",
      timeLimitInSeconds: 60,
      filters: [expect.objectContaining({ localIPAddress: nic.privateIp })],
    });
    expect(system.arm!.requests.filter((request) => request.method === "PUT")).toHaveLength(1);
  });
});
