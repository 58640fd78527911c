/**
 * Backfill end to end on the local system: flow logs generated into Azurite in the service's
 * block layout, the backfill started over real HTTP with the function key, every event read
 * back through a real Event Hubs consumer and compared field by field with `flowtap flatten`.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BackfillProgress } from "../../../src/core/backfillProgress";
import type { LocalSystem } from "../../../devhost/system";
import { blobPathFor, scheduleAttacks } from "../../../devhost/generate";
import { ALERTS_HUB, readHubEvents } from "../../../devhost/system";
import { ActivityNames, EntityNames, OrchestrationNames, TriggerNames } from "../../../src/contracts/names";
import { GrowingBlob, nsgNic, readBack, startTestSystem, vnetNic, reportDelivery } from "../ingestion/helpers";
import { postBackfill, runBackfill, topology, waitForProgress, WEEK, writeHours } from "./helpers";
import { backfillInstanceId } from "../../../src/contracts/backfillContracts";
import { historicDetectorEntityKey } from "../../../src/contracts/captureContracts";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

/** Running ingestBlob children of a backfill (their ids start with the backfill id). */
function runningChildren(id: string): number {
  return system!.host
    .listInstances()
    .filter(
      (i) =>
        i.name === OrchestrationNames.ingestBlob &&
        i.instanceId.startsWith(`${id}:`) &&
        (i.runtimeStatus === "Running" || i.runtimeStatus === "Pending"),
    ).length;
}

describe("backfill end to end", () => {
  it("delivers a week of NSG and VNet tuples exactly once, maxParallelBlobs at most, bounded history", async () => {
    system = await startTestSystem({ settings: { FLOWTAP_BACKFILL_PAGE_BLOBS: "30" } });
    // Two NSGs and two VNet flow logs (both path layouts) in two subscriptions, on VMs that run
    // 08:00-14:00 UTC: a week of day and hour prefixes with gaps, 10 tuples per blob.
    const blobs = await writeHours(system, WEEK.from, WEEK.to, {
      nics: topology.nics.slice(0, 4),
      hoursOfDay: [8, 9, 10, 11, 12, 13],
      minutes: 5,
    });
    let mostAtOnce = 0;
    let longestHistory = 0;
    const sampler = setInterval(() => {
      mostAtOnce = Math.max(mostAtOnce, runningChildren(backfillInstanceId("week")));
      longestHistory = Math.max(longestHistory, system!.host.getHistory(backfillInstanceId("week")).length);
    }, 5);

    const { status, summary } = await runBackfill(system, { ...WEEK, maxParallelBlobs: 8, backfillId: "week" }).finally(
      () => clearInterval(sampler),
    );

    const figures = await readBack(system, blobs);
    reportDelivery("backfill", `a week, ${blobs.length} blobs`, figures);
    expect(status.runtimeStatus).toBe("Completed");
    expect(summary).toMatchObject({
      phase: "completed",
      blobsTotal: blobs.length,
      blobsDone: blobs.length,
      blobsFailed: 0,
      eventsSent: figures.tuplesIn,
      failures: [],
    });
    expect(summary.bytesRead).toBeGreaterThan(0);
    expect(status.customStatus).toMatchObject({
      phase: "completed",
      blobsDone: blobs.length,
      eventsSent: figures.tuplesIn,
    });
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(8);
    // One page of 30 per generation (continueAsNew): per child its creation, its completion and an
    // episode's two markers; 168 blobs in one history would be over 600 events.
    expect(longestHistory).toBeGreaterThan(0);
    expect(longestHistory).toBeLessThanOrEqual(4 * 30 + 10);
  }, 120_000);

  it("resumes after a terminate: the second run sends only what the first did not, none twice, none lost", async () => {
    system = await startTestSystem({ settings: { FLOWTAP_BACKFILL_PAGE_BLOBS: "6" } });
    const range = { from: WEEK.from, to: "2026-11-14T04:00:00Z" };
    const blobs = await writeHours(system, range.from, range.to);
    const started = await postBackfill(system, { ...range, maxParallelBlobs: 2, backfillId: "resume" });
    expect(started.status).toBe(202);

    await waitForProgress(system, backfillInstanceId("resume"), (progress) => progress.blobsDone >= 8);
    const terminated = await fetch((started.body.terminatePostUri as string).replace("{text}", "test"), {
      method: "POST",
    });
    expect(terminated.status).toBe(202);
    await system.host.waitForIdle(); // children already running finish their blob
    const stopped = system.host.getInstance(backfillInstanceId("resume"))!;
    const firstRun = stopped.customStatus as BackfillProgress;
    const childrenOfFirstRun = system.host
      .listInstances()
      .filter(
        (i) => i.name === OrchestrationNames.ingestBlob && i.instanceId.startsWith(`${backfillInstanceId("resume")}:`),
      ).length;
    expect(stopped.runtimeStatus).toBe("Terminated");
    expect(firstRun.blobsDone).toBeLessThan(blobs.length);
    // Terminated: no blob started after it, only the (at most 2) running ones finished.
    expect(childrenOfFirstRun).toBeLessThanOrEqual(firstRun.blobsDone + 2);

    const { status, summary } = await runBackfill(system, { ...range, maxParallelBlobs: 8, backfillId: "resume" });
    const again = await runBackfill(system, { ...range, maxParallelBlobs: 8, backfillId: "resume" });

    const figures = await readBack(system, blobs);
    reportDelivery(
      "backfill",
      `terminated after ${firstRun.blobsDone} of ${blobs.length} blobs, then run again twice`,
      figures,
    );
    expect(status.runtimeStatus).toBe("Completed");
    expect(summary).toMatchObject({ blobsTotal: blobs.length, blobsDone: blobs.length, blobsFailed: 0 });
    expect(summary.eventsSent).toBeLessThan(figures.tuplesIn);
    expect(again.summary).toMatchObject({ blobsDone: blobs.length, eventsSent: 0 });
  });

  it("survives a host restart in the middle: nothing lost, re-sent events byte-identical", async () => {
    system = await startTestSystem({ settings: { FLOWTAP_BACKFILL_PAGE_BLOBS: "6" } });
    const range = { from: WEEK.from, to: "2026-11-14T04:00:00Z" };
    const blobs = await writeHours(system, range.from, range.to);
    expect((await postBackfill(system, { ...range, maxParallelBlobs: 2, backfillId: "restart" })).status).toBe(202);

    const before = await waitForProgress(system, backfillInstanceId("restart"), (progress) => progress.blobsDone >= 8);
    const host = await system.restartHost(); // work in flight is abandoned, as when a Functions host dies
    const status = await host.waitForInstance(backfillInstanceId("restart"), { timeoutInMs: 60_000 });
    await host.waitForIdle();

    const figures = await readBack(system, blobs, { allowDuplicates: true });
    reportDelivery("backfill", `host restarted after ${before.blobsDone} of ${blobs.length} blobs`, figures);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toMatchObject({ blobsDone: blobs.length, blobsFailed: 0 });
  });

  it("delivers a blob that grows during its backfill exactly once, shared with live ingestion", async () => {
    system = await startTestSystem();
    const growing = [new GrowingBlob(system, nsgNic, 3), new GrowingBlob(system, vnetNic, 3)];
    for (const blob of growing) await blob.appendMinutes(5);
    const started = await postBackfill(system, {
      from: "2026-11-22T10:00:00Z",
      to: "2026-11-22T11:00:00Z",
      maxParallelBlobs: 2,
    });
    expect(started.status).toBe(202);

    // Minutes keep coming while the backfill runs; live ingestion gets their BlobCreated events.
    for (let minute = 0; minute < 5; minute++) {
      for (const blob of growing) {
        const [commit] = await blob.appendMinutes(1);
        await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
      }
    }
    const status = await system.host.waitForInstance(started.body.id as string, { timeoutInMs: 60_000 });
    await system.host.waitForIdle();

    const figures = await readBack(system, growing);
    reportDelivery("backfill", "two blobs growing during their backfill, live events delivered", figures);
    expect(status.runtimeStatus).toBe("Completed");
  });

  it("takes only the blobs the filters select", async () => {
    system = await startTestSystem();
    const range = { from: WEEK.from, to: "2026-11-14T02:00:00Z" };
    const blobs = await writeHours(system, range.from, range.to);
    const [nsg, , , underscoreVnet] = topology.nics;

    const byNsg = await runBackfill(system, {
      ...range,
      subscriptionIds: [nsg!.subscriptionId],
      resourceGroups: [nsg!.resourceGroup],
      nsgNames: [nsg!.nsgName],
    });
    const byFlowLog = await runBackfill(system, {
      ...range,
      flowLogNames: [underscoreVnet!.flowLogName],
      macs: [underscoreVnet!.macAddress.toLowerCase()],
    });
    const byContainer = await runBackfill(system, {
      ...range,
      containers: ["insights-logs-flowlogflowevent"],
      resourceGroups: ["NetworkWatcherRG"],
    });
    const none = await runBackfill(system, { ...range, macs: ["00-00-5E-00-53-01"] });

    const selected = blobs.filter((blob) => blob.nic === nsg || blob.nic.kind === "vnet");
    const figures = await readBack(system, selected);
    reportDelivery(
      "backfill",
      "filters (NSG by subscription/group/name; flow log by name and MAC; container)",
      figures,
    );
    expect(byNsg.summary).toMatchObject({ blobsTotal: 2, blobsDone: 2 });
    expect(byFlowLog.summary).toMatchObject({ blobsTotal: 2, blobsDone: 2 });
    // Every VNet flow log lives in NetworkWatcherRG; the flow log already backfilled sends nothing again.
    expect(byContainer.summary).toMatchObject({ blobsTotal: 6, blobsDone: 6 });
    expect(byNsg.summary.eventsSent + byFlowLog.summary.eventsSent + byContainer.summary.eventsSent).toBe(
      figures.tuplesIn,
    );
    expect(none.summary).toMatchObject({
      phase: "completed",
      blobsTotal: 0,
      blobsDone: 0,
      eventsSent: 0,
      eta: expect.any(String),
    });
  });

  it("marks anomalies found in history as historic and never starts a packet capture for them", async () => {
    system = await startTestSystem();
    const range = { from: "2026-11-14T00:00:00Z", to: "2026-11-14T01:00:00Z" };
    const nic = topology.nics[0]!;
    const attacks = scheduleAttacks({
      kinds: ["scan", "bruteforce"],
      topology: { ...topology, nics: [nic] },
      startHourIso: range.from,
      hours: 1,
    });
    const blobs = await writeHours(system, range.from, range.to, { nics: [nic], minutes: 40, attacks });

    const { summary } = await runBackfill(system, range);

    const alerts = (
      await readHubEvents(system.eventHubsConnectionString, ALERTS_HUB, { quietPeriodInMs: 300, timeoutInMs: 5_000 })
    ).map((m) => JSON.parse(m.bodyText) as { historic?: boolean; capture?: { requested: boolean } });
    expect(summary).toMatchObject({ blobsDone: blobs.length, blobsFailed: 0 });
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((alert) => alert.historic === true && alert.capture?.requested === false)).toBe(true);
    // One historic detector per blob: a blob's ranges reach it in order, whatever order the hours finish in.
    const target = { key: nic.macAddress, mac: nic.macAddress, resourceId: null };
    for (const blob of blobs)
      expect(system.host.getEntityState(EntityNames.detector, historicDetectorEntityKey(target, blob))).toBeDefined();
    expect(system.host.getEntityState(EntityNames.detector, nic.macAddress)).toBeUndefined();
    expect(system.host.listInstances().filter((i) => i.name === OrchestrationNames.packetCapture)).toEqual([]);
  });

  it("lists the blobs that fail, with their reasons, and completes the others", async () => {
    system = await startTestSystem();
    const range = { from: WEEK.from, to: "2026-11-14T01:00:00Z" };
    const blobs = await writeHours(system, range.from, range.to);
    // An empty hour written in one Put Blob, without the service's blocks: valid, done with no events.
    const { container, path } = blobPathFor({ ...topology.nics[0]!, macAddress: "000D3A00FFFF" }, range.from);
    await system.blobService.getContainerClient(container).getBlockBlobClient(path).upload('{"records":[]}', 14);
    system.host.faults.failActivity(ActivityNames.listBlobs, { invocations: [1] }); // retried: the backfill goes on
    // FAST_SETTINGS: 3 attempts per activity, so the first processRange (all its attempts) fails.
    system.host.faults.failActivity(ActivityNames.processRange, {
      invocations: [1, 2, 3],
      error: new Error("injected: storage unavailable"),
    });

    const { status, summary } = await runBackfill(system, { ...range, maxParallelBlobs: 1 });

    expect(status.runtimeStatus).toBe("Completed");
    expect(summary).toMatchObject({ blobsTotal: blobs.length + 1, blobsDone: blobs.length, blobsFailed: 1 });
    expect(summary.failures).toHaveLength(1);
    expect(summary.failures).toContainEqual({
      container: expect.any(String),
      path: expect.stringMatching(/PT1H\.json$/),
      reason: expect.stringContaining("injected: storage unavailable"),
    });
  });
});
