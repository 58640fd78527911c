/**
 * Live ingestion under faults, end to end on the local system: every tuple is read back through a
 * real Event Hubs consumer. Duplicates are allowed only where an activity's completion was lost
 * (a crash after its send), and then they are byte-identical with the same ids.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readSettings } from "../../../src/config";
import { FLOWTAP_EVENT_ID_PROPERTY } from "../../../src/adapters/eventHubsSink";
import { ALERTS_HUB, FLOWS_HUB, readHubEvents, type LocalSystem } from "../../../devhost/system";
import { ActivityNames, EntityNames, OrchestrationNames, TriggerNames } from "../../../src/contracts/names";
import { generateRecords } from "../../../devhost/generate";
import {
  deliverLatest,
  ONE_BLOCK_PER_RANGE,
  expectedEvents,
  GrowingBlob,
  HOUR_ISO,
  nsgNic,
  readBack,
  startTestSystem,
  topology,
  vnetNic,
  reportDelivery,
} from "./helpers";
import {
  BLOB_REWRITTEN_EVENT_TYPE,
  CheckpointState,
  checkpointEntityKey,
  ingestBlobInput,
  ingestInstanceId,
} from "../../../src/contracts/ingestionContracts";
import { detectorEntityKey } from "../../../src/contracts/captureContracts";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

/**
 * Batches of about two and a half minutes' events (4 tuples of ~780 bytes each): without keeping blocks whole, a batch
 * would end inside a block.
 */
const BATCHES_OF_TWO_BLOCKS = { FLOWTAP_MAX_BATCH_BYTES: "10000" };
/** The SDK's 4 tries (its default maxRetries 3) for each of the sink's 3 attempts: one batch's every retry. */
const SENDS_TO_EXHAUST_RETRIES = 4 * 3;

/** The record index of an event id `{blobHash}-{record}-{tuple}`. */
function recordOf(eventId: string): number {
  return Number(eventId.split("-")[1]);
}

describe("live ingestion under faults", () => {
  it("retries an activity that failed before its send: nothing twice", async () => {
    system = await startTestSystem({ settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, nsgNic);
    system.host.faults.failActivity(ActivityNames.processRange, { invocations: [1, 3] });
    await deliverLatest(system, await blob.appendMinutes(3));
    await system.host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "processRange failing before its send (2 of 5 invocations)", figures);
    expect(system.host.faults.activityInvocations(ActivityNames.processRange)).toBe(5);
  });

  it("re-sends a range byte-identical after a crash between the send and the checkpoint", async () => {
    system = await startTestSystem({ settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, vnetNic);
    const crashed = system.host.faults.crashAfterActivity(ActivityNames.processRange, { invocation: 2 });
    await deliverLatest(system, await blob.appendMinutes(3));
    await crashed;
    const host = await system.restartHost();
    await host.waitForIdle();

    const figures = await readBack(system, [blob], { allowDuplicates: true });
    reportDelivery(
      "ingestion",
      "crash after processRange sent, before the checkpoint (host restarted from its store)",
      figures,
    );
    expect(figures.duplicates).toBeGreaterThan(0);
    expect(host.getInstance(ingestInstanceId(blob))?.runtimeStatus).toBe("Completed");
  });

  it("resumes a blob when the host is stopped mid-blob and restarted", async () => {
    system = await startTestSystem({ settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, nsgNic);
    await deliverLatest(system, await blob.appendMinutes(4));
    const key = checkpointEntityKey(blob);
    while ((system.host.getEntityState<CheckpointState>(EntityNames.checkpoint, key)?.rangesCommitted ?? 0) < 1)
      await new Promise((r) => setTimeout(r, 5));
    await system.host.stop();
    const host = await system.restartHost();
    await host.waitForIdle();

    const figures = await readBack(system, [blob], { allowDuplicates: true });
    reportDelivery("ingestion", "host stopped mid-blob and restarted", figures);
    expect(host.getEntityState<CheckpointState>(EntityNames.checkpoint, key)?.rangesCommitted).toBe(4);
  });

  it("rides out Event Hubs ServerBusy without sending anything twice", async () => {
    system = await startTestSystem();
    const blob = new GrowingBlob(system, nsgNic);
    system.eventHubs.injectFaults({ kind: "server-busy", count: 3, hub: "flows" });
    await deliverLatest(system, await blob.appendMinutes(2));
    await system.host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "Event Hubs ServerBusy x3", figures);
    expect(system.eventHubs.sendOutcomes().refusedServerBusy).toBe(3);
  });

  it("reprocesses a rewritten blob from its start with a flowtap.blobRewritten warning", async () => {
    system = await startTestSystem();
    const blob = new GrowingBlob(system, nsgNic);
    await deliverLatest(system, await blob.appendMinutes(2));
    await system.host.waitForIdle();
    const records = [
      ...generateRecords({
        topology,
        nic: nsgNic,
        hourIso: HOUR_ISO,
        minutes: { first: 0, last: 2 },
        tuplesPerMinute: 4,
      }),
    ];
    const rewrite = await blob.writer.rewrite(records);
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, rewrite.events.eventGrid);
    await system.host.waitForIdle();

    // The first two minutes are sent again (same content: same ids and bytes), then the third.
    const figures = await readBack(system, [blob], { allowDuplicates: true });
    reportDelivery("ingestion", "rewritten blob (re-sent from its start)", figures);
    expect(figures.duplicates).toBe(8);
    const warnings = await readHubEvents(system.eventHubsConnectionString, ALERTS_HUB, {
      expectedCount: 1,
      quietPeriodInMs: 200,
    });
    expect(warnings.map((w) => JSON.parse(w.bodyText) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        type: BLOB_REWRITTEN_EVENT_TYPE,
        container: blob.container,
        path: blob.path,
        reason: expect.stringMatching(/changed/),
      }),
    ]);
  });

  it("quarantines a poison record with its blob, block and reason and delivers every good tuple", async () => {
    system = await startTestSystem();
    const blob = new GrowingBlob(system, vnetNic);
    await blob.appendMinutes(1);
    await blob.writer.appendRawBlock(',{"time":"2026-11-22T10:01:00Z","flowRecords":not json}');
    await deliverLatest(system, await blob.appendMinutes(1));
    await system.host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "poison record (quarantined)", figures);
    const quarantine = system.blobService.getContainerClient("flowtap-quarantine");
    const names: string[] = [];
    for await (const item of quarantine.listBlobsFlat({ includeMetadata: true })) {
      names.push(item.name);
      expect(item.metadata).toMatchObject({ blockindex: "2", recordindex: "1" });
      expect(decodeURIComponent(item.metadata!.reason!)).toMatch(/record 1 .*not valid JSON/);
    }
    expect(names).toEqual([`${blob.container}/${blob.path}/record-000001.json`]);
    const raw = await quarantine.getBlobClient(names[0]!).downloadToBuffer();
    expect(raw.toString()).toBe('{"time":"2026-11-22T10:01:00Z","flowRecords":not json}');
  });

  it("never sends a range twice when live ingestion races a second ingestion (backfill) of the same blob", async () => {
    system = await startTestSystem({ settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, nsgNic);
    const commits = await blob.appendMinutes(5);
    const settings = readSettings(system.settings);
    const [, backfill] = await Promise.all([
      deliverLatest(system, commits),
      system.host.startOrchestration(OrchestrationNames.ingestBlob, {
        instanceId: "backfill-race",
        input: ingestBlobInput(blob, settings.ingestion, { historic: true }),
      }),
    ]);
    await system.host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "live racing a second owner (historic ingestion) on one blob", figures);
    const live = system.host.getInstance(ingestInstanceId(blob))?.output as { progress: { ranges: number } };
    const other = system.host.getInstance(backfill)?.output as { progress: { ranges: number } };
    expect(live.progress.ranges + other.progress.ranges).toBe(5);
    expect(figures.messages.every((m) => typeof m.properties[FLOWTAP_EVENT_ID_PROPERTY] === "string")).toBe(true);
  });

  it("never sends a range twice when a claim lapses during a retry backoff and another owner takes over", async () => {
    // Claims live 1 s; the first processRange fails and its retry comes 3 s later, after the other owner took the blob
    // over.
    system = await startTestSystem({
      settings: {
        ...ONE_BLOCK_PER_RANGE,
        FLOWTAP_CLAIM_TTL_SECONDS: "1",
        FLOWTAP_CLAIM_RETRY_SECONDS: "1",
        FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS: "3000",
      },
    });
    const blob = new GrowingBlob(system, nsgNic);
    const commits = await blob.appendMinutes(3);
    system.host.faults.failActivity(ActivityNames.processRange, { invocations: [1] });
    const settings = readSettings(system.settings);
    await Promise.all([
      deliverLatest(system, commits),
      system.host.startOrchestration(OrchestrationNames.ingestBlob, {
        instanceId: "backfill-lapse",
        input: ingestBlobInput(blob, settings.ingestion, { historic: true }),
      }),
    ]);
    await system.host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "claim lapsed during a retry backoff, second owner took over", figures);
    const state = system.host.getEntityState<CheckpointState>(EntityNames.checkpoint, checkpointEntityKey(blob));
    expect(state).toMatchObject({ rangesCommitted: 3, eventsEmitted: figures.tuplesIn });
    expect(system.host.faults.activityInvocations(ActivityNames.processRange)).toBe(4);
  });

  it("spreads a long blob over several generations (continueAsNew) and signals the blob's detector", async () => {
    system = await startTestSystem({ settings: { ...ONE_BLOCK_PER_RANGE, FLOWTAP_RANGES_PER_GENERATION: "2" } });
    const blob = new GrowingBlob(system, vnetNic);
    await deliverLatest(system, await blob.appendMinutes(7));
    await system.host.waitForIdle();

    const figures = await readBack(system, [blob]);
    reportDelivery("ingestion", "seven ranges over generations of two", figures);
    const status = system.host.getInstance(ingestInstanceId(blob));
    expect(status?.output).toMatchObject({ outcome: "caughtUp", progress: { ranges: 7, events: figures.tuplesIn } });
    expect((status?.output as { progress: { generations: number } }).progress.generations).toBeGreaterThanOrEqual(4);
    expect(system.host.getHistory(ingestInstanceId(blob)).length).toBeLessThan(40);
    expect(
      system.host.getEntityState(
        EntityNames.detector,
        detectorEntityKey({ key: vnetNic.macAddress, mac: vnetNic.macAddress, resourceId: null }),
      ),
    ).toBeDefined();
  });

  it("commits exactly the acked blocks when a send fails for good (hub disabled), none sent again after", async () => {
    // Prepare: 8 minutes in one range; the hub accepts two batches, then refuses the third as disabled (not retryable).
    system = await startTestSystem({ settings: BATCHES_OF_TWO_BLOCKS });
    const blob = new GrowingBlob(system, nsgNic);
    const commits = await blob.appendMinutes(8);
    system.eventHubs.injectFaults({ kind: "entity-disabled", count: 1, hub: FLOWS_HUB, afterSends: 2 });

    // Act
    await deliverLatest(system, commits);
    await system.host.waitForIdle();

    // Assess: failed with the send's error; the checkpoint holds exactly the blocks whose events were all acknowledged.
    const status = system.host.getInstance(ingestInstanceId(blob));
    expect(status?.runtimeStatus).toBe("Failed");
    expect(status?.failure?.errorMessage).toMatch(
      /failed part-way .*MessagingEntityDisabledError|failed part-way .*disabled/,
    );
    const state = system.host.getEntityState<CheckpointState>(EntityNames.checkpoint, checkpointEntityKey(blob))!;
    const acknowledgedIds = system.eventHubs
      .events(FLOWS_HUB)
      .map((event) => String(event.properties[FLOWTAP_EVENT_ID_PROPERTY]));
    const committedRecords = state.blockCount - 1; // the head block holds no record
    expect(committedRecords).toBeGreaterThan(0);
    expect(committedRecords).toBeLessThan(8);
    expect(state).toMatchObject({ eventsEmitted: acknowledgedIds.length, rangesCommitted: 1, claim: null });
    const idsOfCommittedRecords = [...(await expectedEvents(system, blob)).keys()].filter(
      (id) => recordOf(id) < committedRecords,
    );
    expect(acknowledgedIds.sort()).toEqual(idsOfCommittedRecords.sort());

    // The hub is back: the next minute's event starts ingestion again, from the checkpoint.
    await deliverLatest(system, await blob.appendMinutes(1));
    await system.host.waitForIdle();
    const figures = await readBack(system, [blob]);
    reportDelivery(
      "ingestion",
      `hub disabled after two batches (${committedRecords} of 8 records committed), then back`,
      figures,
    );
    expect(figures.duplicates).toBe(0);
    expect(system.host.getInstance(ingestInstanceId(blob))?.runtimeStatus).toBe("Completed");
  });

  it("commits the acked blocks when ServerBusy outlasts the sink's retries, then retries the rest", async () => {
    // Prepare: the hub accepts two batches, then throttles the third through every retry of the sink.
    system = await startTestSystem({ settings: BATCHES_OF_TWO_BLOCKS });
    const blob = new GrowingBlob(system, vnetNic);
    const commits = await blob.appendMinutes(8);
    system.eventHubs.injectFaults({
      kind: "server-busy",
      count: SENDS_TO_EXHAUST_RETRIES,
      hub: FLOWS_HUB,
      afterSends: 2,
    });

    // Act
    await deliverLatest(system, commits);
    await system.host.waitForIdle();

    // Assess: everything once; the range was committed in two advances (the acknowledged part, then the rest).
    const figures = await readBack(system, [blob]);
    reportDelivery(
      "ingestion",
      `ServerBusy x${SENDS_TO_EXHAUST_RETRIES} after two batches (the sink's retries exhausted), then clear`,
      figures,
    );
    expect(system.eventHubs.sendOutcomes().refusedServerBusy).toBe(SENDS_TO_EXHAUST_RETRIES);
    const status = system.host.getInstance(ingestInstanceId(blob));
    expect(status?.output).toMatchObject({ outcome: "caughtUp", progress: { ranges: 2, events: figures.tuplesIn } });
    expect(system.host.faults.activityInvocations(ActivityNames.processRange)).toBe(2);
  });

  it.each([
    [
      "an event too big for any message (a non-retryable send error)",
      { FLOWTAP_MAX_BATCH_BYTES: "200" },
      false,
      /bytes a message can take/,
    ],
    [
      "a quarantine write that fails",
      { ...ONE_BLOCK_PER_RANGE, FLOWTAP_QUARANTINE_CONTAINER: "bad_container_name" },
      true,
      /quarantine record 1/,
    ],
  ])("fails without advancing the checkpoint on %s", async (_, settings, poison, failure) => {
    system = await startTestSystem({ settings });
    const blob = new GrowingBlob(system, nsgNic);
    await blob.appendMinutes(1);
    if (poison) await blob.writer.appendRawBlock(",{not json}");
    await deliverLatest(system, await blob.appendMinutes(1));
    await system.host.waitForIdle();

    const status = system.host.getInstance(ingestInstanceId(blob));
    expect(status?.runtimeStatus).toBe("Failed");
    expect(status?.failure?.errorMessage).toMatch(failure);
    const state = system.host.getEntityState<CheckpointState>(EntityNames.checkpoint, checkpointEntityKey(blob));
    // Nothing is committed from the failing range on: with one block per range, the minute before the poison record is.
    expect(state).toMatchObject({ rangesCommitted: poison ? 1 : 0, blockCount: poison ? 2 : 0, claim: null });
  });
});
