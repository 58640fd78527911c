/**
 * Live ingestion end to end on the local system: blobs written minute by minute as the service
 * writes them, BlobCreated events delivered as Event Grid does (or not), every event read back
 * through a real Event Hubs consumer and compared field by field with `flowtap flatten`.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LocalSystem } from "../../../devhost/system";
import { ActivityNames, TriggerNames } from "../../../src/contracts/names";
import { GrowingBlob, nsgNic, readBack, startTestSystem, topology, vnetNic, reportDelivery } from "./helpers";
import { ingestInstanceId } from "../../../src/contracts/ingestionContracts";

let system: LocalSystem | undefined;

/** Two minutes of an NSG and a VNet NIC, each announced by its last commit's Event Grid event; waits until ingested. */
async function twoMinutesOfTwoNics(running: LocalSystem): Promise<GrowingBlob[]> {
  const blobs = [new GrowingBlob(running, nsgNic, 12), new GrowingBlob(running, vnetNic, 12)];
  for (const blob of blobs) {
    const commits = await blob.appendMinutes(2);
    await running.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commits.at(-1)!.events.eventGrid);
  }
  await running.host.waitForIdle();
  return blobs;
}
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

describe("live ingestion", () => {
  it("delivers a growing blob once when events come normally, twice, out of order, late, or never", async () => {
    system = await startTestSystem();
    const { host } = system;
    const deliver = (commit: { events: { eventGrid: unknown } }) =>
      host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit.events.eventGrid);
    const blob = new GrowingBlob(system, nsgNic);

    const [first] = await blob.appendMinutes(1);
    await deliver(first!);
    await host.waitForIdle();
    host.faults.deliverRepeatedly(TriggerNames.blobCreatedEventGrid, 2);
    const [second] = await blob.appendMinutes(1);
    await deliver(second!);
    await host.waitForIdle();
    host.faults.deliverRepeatedly(TriggerNames.blobCreatedEventGrid, 1);
    const [third, fourth] = await blob.appendMinutes(2);
    await deliver(fourth!);
    await deliver(third!);
    await host.waitForIdle();
    await deliver(first!);
    await host.waitForIdle();
    await blob.appendMinutes(2); // no event at all: reconcile finds the blob behind its checkpoint
    await host.invokeTimer(TriggerNames.reconcileTimer);
    await host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "growing blob, events normal/twice/out of order/late/missing", figures);
    expect(figures.tuplesIn).toBeGreaterThan(20);
  });

  it("delivers blobs of both kinds at once through the webhook, events arriving while ingestion runs", async () => {
    system = await startTestSystem();
    const { host } = system;
    const blobs = [
      new GrowingBlob(system, nsgNic),
      new GrowingBlob(system, vnetNic),
      new GrowingBlob(
        system,
        topology.nics.find((nic) => nic !== nsgNic && nic !== vnetNic)!,
      ),
    ];
    const url = `${host.baseUrl}/api/blobCreated?code=${host.keys.host}`;
    for (let minute = 0; minute < 3; minute++) {
      const commits = await Promise.all(blobs.map(async (blob) => (await blob.appendMinutes(1))[0]!));
      // Event Grid schema arrays for the NSG blobs, a CloudEvents batch for the others; no waiting in between.
      const eventGrid = await fetch(url, {
        method: "POST",
        body: JSON.stringify(commits.map((c) => c.events.eventGrid)),
      });
      const cloudEvents = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: JSON.stringify(commits.map((c) => c.events.cloudEvent)),
      });
      expect([eventGrid.status, cloudEvents.status]).toEqual([200, 200]);
      expect(await eventGrid.json()).toMatchObject({ blobs: 3, accepted: 3, refused: [] });
    }
    await host.waitForIdle();

    const figures = await readBack(system, blobs);
    reportDelivery("ingestion", "three blobs (NSG and VNet) through the webhook", figures);
    expect(new Set(figures.messages.map((m) => m.partitionKey))).toEqual(new Set(blobs.map((b) => b.nic.macAddress)));
  });

  it("packs events as JSON arrays and keys partitions by flow log when configured so", async () => {
    system = await startTestSystem({ settings: { FLOWTAP_EVENTS_PER_MESSAGE: "5", FLOWTAP_PARTITION_KEY: "flowLog" } });
    const blobs = await twoMinutesOfTwoNics(system);

    const figures = await readBack(system, blobs, { packed: true });
    reportDelivery("ingestion", "packed messages (5 events each), flow-log partition keys", figures);
    expect(figures.messagesOut).toBeLessThan(figures.tuplesIn);
    expect(new Set(figures.messages.map((m) => m.partitionKey))).toEqual(
      new Set(blobs.map((b) => b.path.split("/y=")[0]!.toUpperCase())),
    );
  });

  it("sends compact messages when configured so: every tuple once, read back as the plain events", async () => {
    system = await startTestSystem({
      settings: { FLOWTAP_MESSAGE_FORMAT: "compact", FLOWTAP_EVENTS_PER_MESSAGE: "100" },
    });
    const blobs = await twoMinutesOfTwoNics(system);

    const figures = await readBack(system, blobs, { packed: true });
    reportDelivery("ingestion", "compact messages (gzip, up to 100 events each)", figures);
    expect(figures.messagesOut).toBeLessThan(figures.tuplesIn);
    expect(figures.messages.every((m) => m.properties.flowtapMessageFormat === "compact")).toBe(true);
  });

  it("leaves caught-up blobs alone when reconcile runs", async () => {
    system = await startTestSystem();
    const blob = new GrowingBlob(system, nsgNic);
    await system.host.invokeEventGrid(
      TriggerNames.blobCreatedEventGrid,
      (await blob.appendMinutes(1))[0]!.events.eventGrid,
    );
    await system.host.waitForIdle();
    const reads = system.host.faults.activityInvocations(ActivityNames.readBlockList);

    await system.host.invokeTimer(TriggerNames.reconcileTimer);
    await system.host.waitForIdle();

    expect(system.host.faults.activityInvocations(ActivityNames.readBlockList)).toBe(reads);
    await readBack(system, [blob]);
  });

  it("hands an update to the running ingestion, which lingers for it and re-reads the block list", async () => {
    system = await startTestSystem({
      clock: { mode: "virtual", startTime: new Date("2026-11-22T10:30:00Z"), autoAdvance: false },
      settings: { FLOWTAP_INGEST_LINGER_SECONDS: "60" },
    });
    const { host } = system;
    const blob = new GrowingBlob(system, nsgNic);
    await host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, (await blob.appendMinutes(1))[0]!.events.eventGrid);
    await host.waitForIdle();
    const id = ingestInstanceId(blob);
    expect(host.getInstance(id)?.runtimeStatus).toBe("Running"); // lingering

    await host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, (await blob.appendMinutes(1))[0]!.events.eventGrid);
    await host.waitForIdle();
    expect(host.refusedStarts()).toEqual([]); // asked with getStatus, not by a start that fails
    host.virtualClock.advance(61_000);
    await host.waitForIdle();
    host.virtualClock.advance(61_000);
    await host.waitForIdle();

    const status = host.getInstance(id);
    expect(status?.runtimeStatus).toBe("Completed");
    expect(status?.output).toMatchObject({ progress: { ranges: 2, generations: 1 } });
    await readBack(system, [blob]);
  });
});
