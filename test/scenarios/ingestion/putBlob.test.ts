/**
 * Blobs without a block list (one Put Blob, as azcopy and most copy tools write files under their
 * block size): ingested whole, live and by backfill, and a later re-upload with more records is a
 * rewritten blob (reset, read again, warned about). Read back through a real Event Hubs consumer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { blobPathFor, generateRecords } from "../../../devhost/generate";
import { ALERTS_HUB, readHubEvents, type LocalSystem } from "../../../devhost/system";
import { buildBlobCreatedEvents, nextSequencer } from "../../../devhost/blobCreatedEvent";
import { TriggerNames } from "../../../src/contracts/names";
import { BLOB_REWRITTEN_EVENT_TYPE, ingestInstanceId } from "../../../src/contracts/ingestionContracts";
import { runBackfill } from "../backfill/helpers";
import { HOUR_ISO, nsgNic, readBack, startTestSystem, topology, vnetNic } from "./helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

/** Uploads the first `minutes` minutes of a NIC's hour as one Put Blob; returns the blob and its Event Grid event. */
async function putBlob(nic: typeof nsgNic, minutes: number) {
  const { container, path } = blobPathFor(nic, HOUR_ISO);
  const records =
    minutes === 0
      ? []
      : [...generateRecords({ topology, nic, hourIso: HOUR_ISO, minutes: { first: 0, last: minutes - 1 } })];
  const text = JSON.stringify({ records });
  const containerClient = system!.blobService.getContainerClient(container);
  await containerClient.createIfNotExists();
  const uploaded = await containerClient.getBlockBlobClient(path).upload(text, Buffer.byteLength(text));
  const event = buildBlobCreatedEvents({
    id: `put-${minutes}`,
    subscriptionId: "00000000-0000-0000-0000-000000000000",
    resourceGroup: "rg",
    accountName: "devstoreaccount1",
    containerName: container,
    blobName: path,
    eventTime: new Date(),
    data: {
      api: "PutBlob",
      clientRequestId: `put-${minutes}`,
      requestId: `put-${minutes}`,
      eTag: uploaded.etag ?? "",
      contentType: "application/json",
      contentLength: Buffer.byteLength(text),
      blobType: "BlockBlob",
      url: `${system!.azurite.blobEndpoint}/${container}/${path}`,
      sequencer: nextSequencer(),
      storageDiagnostics: { batchId: "put" },
    },
  }).eventGrid;
  return { blob: { container, path }, event };
}

describe("a blob written with Put Blob (no block list)", () => {
  it("is ingested live, whole, exactly once", async () => {
    system = await startTestSystem();
    const { blob, event } = await putBlob(vnetNic, 3);

    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, event);
    await system.host.waitForIdle();

    expect(system.host.getInstance(ingestInstanceId(blob))?.output).toMatchObject({
      outcome: "caughtUp",
      checkpoint: { blockCount: 1 },
      progress: { ranges: 1, quarantined: 0 },
    });
    const figures = await readBack(system, [blob]);
    expect(figures.tuplesIn).toBeGreaterThan(0);
  });

  it("with an empty records array (an hour without traffic) is done: zero tuples, nothing quarantined", async () => {
    system = await startTestSystem();
    const { blob, event } = await putBlob(nsgNic, 0);

    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, event);
    await system.host.waitForIdle();

    expect(system.host.getInstance(ingestInstanceId(blob))?.output).toMatchObject({
      outcome: "caughtUp",
      checkpoint: { blockCount: 1 },
      progress: { ranges: 1, events: 0, tuples: 0, quarantined: 0 },
    });
  });

  it("is ingested by a backfill, and counted as done", async () => {
    system = await startTestSystem();
    const { blob } = await putBlob(nsgNic, 2);

    const { summary } = await runBackfill(system, {
      from: HOUR_ISO,
      to: new Date(Date.parse(HOUR_ISO) + 3_600_000).toISOString(),
    });

    expect(summary).toMatchObject({ phase: "completed", blobsTotal: 1, blobsDone: 1, blobsFailed: 0 });
    await readBack(system, [blob]);
  });

  it("re-uploaded later with more records, is reset and read again, with a rewritten-blob warning", async () => {
    system = await startTestSystem();
    const first = await putBlob(vnetNic, 2);
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, first.event);
    await system.host.waitForIdle();

    const second = await putBlob(vnetNic, 4);
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, second.event);
    await system.host.waitForIdle();

    // Every event of the new content arrives; the first upload's events come again, byte-identical.
    const figures = await readBack(system, [second.blob], { allowDuplicates: true });
    expect(figures.duplicates).toBeGreaterThan(0);
    const alerts = await readHubEvents(system.eventHubsConnectionString, ALERTS_HUB, { expectedCount: 1 });
    expect(alerts.map((message) => (JSON.parse(message.bodyText) as { type: string }).type)).toContain(
      BLOB_REWRITTEN_EVENT_TYPE,
    );
  });
});
