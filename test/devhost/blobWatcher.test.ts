/** The local stand-in for Event Grid over Azurite: one BlobCreated event per new or changed committed flow-log blob. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { BlobServiceClient } from "@azure/storage-blob";
import { startBlobWatcher } from "../../devhost/blobWatcher";
import type { EventGridBlobCreatedEvent } from "../../devhost/blobCreatedEvent";

const CONTAINER = "insights-logs-flowlogflowevent";
const HOUR = "flowLogResourceID=/SUB_RG/NW_FL/y=2026/m=11/d=22/h=10/m=00/macAddress=000D3A000001";
let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite.stop());

describe("blob watcher", () => {
  it("announces new and rewritten flow-log blobs once each, as Put Blob or Put Block List; nothing else", async () => {
    // Prepare: a blob that is there before the watcher starts, and an idle watcher.
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const container = service.getContainerClient(CONTAINER);
    await container.createIfNotExists();
    await container.getBlockBlobClient(`${HOUR}/before/PT1H.json`).upload("{}", 2);
    const delivered: EventGridBlobCreatedEvent[] = [];
    const watcher = await startBlobWatcher({
      blobService: service,
      containers: [CONTAINER, "not-there"],
      deliver: async (events) => void delivered.push(...events),
      intervalInMs: 60_000,
    });

    // Act
    const put = container.getBlockBlobClient(`${HOUR}/PT1H.json`);
    await put.upload('{"records":[]}', 14);
    await container.getBlockBlobClient(`${HOUR}/notes.txt`).upload("x", 1);
    const first = await watcher.scan();
    const unchanged = await watcher.scan();
    await put.stageBlock(Buffer.from("blk0").toString("base64"), '{"records":[', 12);
    await put.commitBlockList([Buffer.from("blk0").toString("base64")]);
    const rewritten = await watcher.scan();
    await watcher.stop();

    // Assess
    expect([first, unchanged, rewritten]).toEqual([1, 0, 1]);
    expect(delivered.map((event) => [event.subject, event.data.api])).toEqual([
      [`/blobServices/default/containers/${CONTAINER}/blobs/${HOUR}/PT1H.json`, "PutBlob"],
      [`/blobServices/default/containers/${CONTAINER}/blobs/${HOUR}/PT1H.json`, "PutBlockList"],
    ]);
    expect(delivered[0]!.data).toMatchObject({ contentLength: 14, url: put.url });
  });
});
