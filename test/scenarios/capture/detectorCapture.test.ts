/**
 * From flow logs to a packet capture: a scripted port scan in generated flow logs, aggregated
 * as ingestion does and signalled to the detector entity, gives an alert event on the alerts
 * hub and one Network Watcher capture with filters and limits from the evidence, polled on
 * durable timers, stopped at its limit, deleted and reported. Historic aggregates never capture.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MinuteAggregate } from "../../../src/core/anomaly";
import { EntityNames, OrchestrationNames } from "../../../src/contracts/names";
import { seedOf, startCaptureSystem, vmIdOf, type CaptureSystem } from "./captureSystem";
import { rules, scanAggregates, scanned, topology } from "./portScan";
import {
  DetectorIngestInput,
  DetectorOperations,
  detectorEntityKey,
  historicDetectorEntityKey,
  packetCaptureInstanceId,
} from "../../../src/contracts/captureContracts";

let system: CaptureSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function signalDetector(current: CaptureSystem, aggregates: MinuteAggregate[], historic: boolean): Promise<void> {
  const target = aggregates[0]!.target;
  const blob = { container: "insights-logs-flowlogflowevent", path: "flowLogResourceID=/S_RG/NW_FL/PT1H.json" };
  const key = historic ? historicDetectorEntityKey(target, blob) : detectorEntityKey(target);
  const input: DetectorIngestInput = { aggregates, historic, nowIso: "2026-11-22T11:00:00.000Z" };
  await current.host.signalEntity(EntityNames.detector, key, DetectorOperations.ingest, input);
  await current.host.waitForIdle();
}

describe("detector → alert → packet capture", () => {
  it("a port scan gives an alert and one capture filtered by the evidence, polled, stopped, deleted", async () => {
    // Prepare
    system = await startCaptureSystem({ seed: seedOf(topology.nics), rules: { rules } as never });
    const aggregates = scanAggregates();

    // Act
    await signalDetector(system, aggregates, false);

    // Assess: the alert event carries the evidence.
    const alerts = system.eventsOfType("flowtap.anomaly");
    expect(alerts.map((alert) => alert.ruleId).sort()).toEqual(["denied-flood", "port-scan"]);
    const scan = alerts.find((alert) => alert.ruleId === "port-scan") as {
      target: { mac: string; ip: string };
      evidence: { value: number; threshold: number; remotes: { ip: string }[]; protocols: string[] };
      window: { minutes: number };
      capture: { requested: boolean };
    };
    expect(scan.target).toMatchObject({ mac: scanned.macAddress, ip: scanned.privateIp });
    expect(scan.evidence.value).toBeGreaterThanOrEqual(scan.evidence.threshold);
    expect(scan.window.minutes).toBe(5);
    expect(scan.capture.requested).toBe(true);
    const scanner = scan.evidence.remotes[0]!.ip;

    // Assess: one capture on the scanned VM, with filters from the evidence and the rule's limit.
    const puts = system.armRequests("PUT", "/packetCaptures/");
    expect(puts).toHaveLength(1);
    const properties = (puts[0]!.body as { properties: Record<string, unknown> }).properties;
    expect(properties.target).toBe(vmIdOf(scanned));
    expect(properties.timeLimitInSeconds).toBe(120);
    expect(properties.totalBytesPerSession).toBe(1024 ** 3);
    expect(properties.filters).toEqual(
      scan.evidence.protocols.map((protocol) => ({
        protocol,
        localIPAddress: scanned.privateIp,
        remoteIPAddress: scanner,
      })),
    );
    const storagePath = (properties.storageLocation as { storagePath: string }).storagePath;
    const captureName = puts[0]!.path.split("/").pop()!;
    expect(storagePath).toBe(
      `https://flowtapcaptures.blob.core.windows.net/packet-captures` +
        `/${scanned.resourceGroup.toLowerCase()}/${scanned.vmName}/2026-11-22T11-00/${captureName}.cap`,
    );

    // Assess: polled every 30 s until the 120 s limit, then stopped and deleted.
    expect(system.armRequests("POST", "/queryStatus").length).toBeGreaterThanOrEqual(4);
    expect(system.armRequests("POST", "/stop")).toHaveLength(1);
    expect(system.armRequests("DELETE", "/packetCaptures/")).toHaveLength(1);
    const watcher = `NetworkWatcher_${scanned.region}`;
    const left = [];
    for await (const capture of system.network(scanned.subscriptionId).packetCaptures.list("NetworkWatcherRG", watcher))
      left.push(capture);
    expect(left).toEqual([]);

    // Assess: reported on the alerts hub and in the instance status.
    const [report] = system.eventsOfType("flowtap.captureCompleted") as {
      alertId: string;
      capture: Record<string, unknown>;
    }[];
    expect(report).toBeDefined();
    expect(report!.alertId).toBe((scan as unknown as { id: string }).id);
    expect(report!.capture).toMatchObject({
      name: captureName,
      status: "Stopped",
      stopReason: "Manual",
      fileUrl: storagePath,
      timeLimitInSeconds: 120,
      resourceKept: false,
    });
    const { target } = aggregates[0]!;
    const instance = system.host.getInstance(
      packetCaptureInstanceId({ resourceId: target.resourceId, mac: target.mac }),
    );
    expect(instance).toMatchObject({
      name: OrchestrationNames.packetCapture,
      runtimeStatus: "Completed",
      customStatus: { phase: "done", captureName, status: "Stopped" },
    });
  });

  it("historic aggregates of the same scan publish historic alerts and never start a capture", async () => {
    // Prepare
    system = await startCaptureSystem({ seed: seedOf(topology.nics), rules: { rules } as never });

    // Act: backfill signals the target's historic detector.
    await signalDetector(system, scanAggregates(), true);

    // Assess
    const alerts = system.eventsOfType("flowtap.anomaly") as {
      ruleId: string;
      historic: boolean;
      capture: { requested: boolean };
    }[];
    expect(alerts.map((alert) => [alert.ruleId, alert.historic, alert.capture.requested]).sort()).toEqual([
      ["denied-flood", true, false],
      ["port-scan", true, false],
    ]);
    expect(
      system.host.listInstances().filter((instance) => instance.name === OrchestrationNames.packetCapture),
    ).toEqual([]);
    expect(system.arm.requests).toEqual([]);
  });

  it("aggregates delivered twice and a second window in the cooldown give no second alert or capture", async () => {
    // Prepare
    system = await startCaptureSystem({ seed: seedOf(topology.nics), rules: { rules } as never });
    const aggregates = scanAggregates();
    await signalDetector(system, aggregates, false);

    // Act: a re-delivery (same source ids), then the same minutes under another source id.
    await signalDetector(system, aggregates, false);
    await signalDetector(
      system,
      aggregates.map((aggregate) => ({ ...aggregate, sourceId: `${aggregate.sourceId}#again` })),
      false,
    );

    // Assess
    expect(system.eventsOfType("flowtap.anomaly")).toHaveLength(2);
    expect(system.armRequests("PUT", "/packetCaptures/")).toHaveLength(1);
    const state = system.host.getEntityState(EntityNames.detector, detectorEntityKey(aggregates[0]!.target)) as {
      pending: unknown[];
    };
    expect(state.pending).toEqual([]);
  });
});
