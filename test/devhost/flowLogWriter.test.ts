import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  INITIAL_BLOCK_CHECKPOINT,
  leadingSeparatorSizeInBytes,
  planNextRange,
  type BlockCheckpoint,
} from "../../src/core/blocks";
import { ValidationError } from "../../src/errors";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { FlowLogBlobWriter } from "../../devhost/flowLogWriter";
import { fixturePath, skipWithoutFixtures } from "../core/flowLogFixtures";

const blobName =
  "resourceId=/SUBSCRIPTIONS/SUB/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2026/m=11" +
  "/d=22/h=12/m=00/macAddress=000D3A000001/PT1H.json";
const record = (n: number) => ({ time: `2026-11-22T12:0${n}:00Z`, category: "NetworkSecurityGroupFlowEvent", n });

describe("FlowLogBlobWriter", () => {
  let azurite: AzuriteInstance;
  let container: ContainerClient;
  let containerCount = 0;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite.stop();
  });
  const freshContainer = (): ContainerClient => {
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      `flowlogs${++containerCount}`,
    );
    return container;
  };
  const download = async (): Promise<string> =>
    (await container.getBlockBlobClient(blobName).downloadToBuffer()).toString();
  const committedBlocks = async () =>
    (await container.getBlockBlobClient(blobName).getBlockList("committed")).committedBlocks ?? [];
  const blockTexts = async (): Promise<string[]> => {
    const texts: string[] = [];
    let offset = 0;
    const whole = await download();
    for (const block of await committedBlocks()) {
      texts.push(whole.slice(offset, offset + block.size));
      offset += block.size;
    }
    return texts;
  };

  it("lays the blob out as the service does after every append", async () => {
    // Prepare
    const writer = new FlowLogBlobWriter(freshContainer(), blobName);
    const appended: object[] = [];

    for (let n = 1; n <= 3; n++) {
      // Act
      await writer.append(record(n));
      appended.push(record(n));

      // Assess
      expect(JSON.parse(await download())).toEqual({ records: appended });
      const texts = await blockTexts();
      expect(texts[0]).toBe('{"records":[');
      expect(texts.at(-1)).toBe("]}");
      expect(texts.slice(1, -1)).toEqual(
        appended.map((r, i) => (i === 0 ? JSON.stringify(r) : `,${JSON.stringify(r)}`)),
      );
      expect(new Set((await committedBlocks()).map((b) => b.name.length)).size).toBe(1);
    }
  });

  it("returns BlobCreated events naming the blob, with increasing sequencers, in both schemas", async () => {
    const writer = new FlowLogBlobWriter(freshContainer(), blobName, {
      subscriptionId: "sub-1",
      resourceGroup: "rg-1",
    });

    const results = [await writer.append(record(1)), await writer.append(record(2)), await writer.append('{"n":3}')];

    const blob = container.getBlockBlobClient(blobName);
    const properties = await blob.getProperties();
    const last = results[2].events;
    expect(last.eventGrid).toMatchObject({
      eventType: "Microsoft.Storage.BlobCreated",
      topic:
        `/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Storage/storageAccounts` +
        `/${azurite.accountName}`,
      subject: `/blobServices/default/containers/${container.containerName}/blobs/${blobName}`,
      data: {
        api: "PutBlockList",
        blobType: "BlockBlob",
        url: blob.url,
        eTag: properties.etag,
        contentLength: properties.contentLength,
      },
    });
    expect(last.cloudEvent).toMatchObject({
      specversion: "1.0",
      type: "Microsoft.Storage.BlobCreated",
      source: last.eventGrid.topic,
      subject: last.eventGrid.subject,
      id: last.eventGrid.id,
      time: last.eventGrid.eventTime,
      data: last.eventGrid.data,
    });
    const sequencers = results.map((r) => r.events.eventGrid.data.sequencer);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
    expect(new Set(sequencers.map((s) => s.length)).size).toBe(1);
  });

  it("commits several records at once and continues a blob written by another writer", async () => {
    const first = new FlowLogBlobWriter(freshContainer(), blobName);
    await first.append(record(1), record(2));

    const result = await new FlowLogBlobWriter(container, blobName).append(record(3));

    expect(result.blockCount).toBe(5);
    expect(JSON.parse(await download())).toEqual({ records: [record(1), record(2), record(3)] });
  });

  it("round-trips a real flow log minute by minute through the planner's ranges", async (context) => {
    skipWithoutFixtures(context);
    const fixture = fixturePath("nsg-v2/abhishekgangurde-DevReops-PT1H.json");
    const { records } = JSON.parse(await readFile(fixture, "utf8")) as { records: object[] };
    const writer = new FlowLogBlobWriter(freshContainer(), blobName);
    const blob = container.getBlockBlobClient(blobName);
    const readBack: unknown[] = [];
    let checkpoint: BlockCheckpoint = INITIAL_BLOCK_CHECKPOINT;

    const limits = { maxRangeSizeInBytes: 4_096, maxBlockCount: 3 };
    for (const minute of records) {
      await writer.append(minute);
      const blocks = (await committedBlocks()).map((b) => ({ id: b.name, sizeInBytes: b.size }));
      let plan = planNextRange(blocks, checkpoint, limits);
      while (plan.kind === "range") {
        const text = (await blob.downloadToBuffer(plan.offsetInBytes, plan.countInBytes)).toString();
        readBack.push(
          ...(JSON.parse(`[${text.slice(leadingSeparatorSizeInBytes(plan.firstBlockIndex))}]`) as unknown[]),
        );
        checkpoint = plan.next;
        plan = planNextRange(blocks, checkpoint, limits);
      }
      expect(plan.kind).toBe("caughtUp");
    }

    expect(readBack).toEqual(records);
    expect(JSON.parse(await download())).toEqual({ records });
  });

  it("rewrites the blob from scratch with new block ids", async () => {
    const writer = new FlowLogBlobWriter(freshContainer(), blobName);
    await writer.append(record(1), record(2));
    const before = (await committedBlocks()).map((b) => b.name);

    await writer.rewrite([record(7)]);
    await writer.append(record(8));

    const after = (await committedBlocks()).map((b) => b.name);
    expect(JSON.parse(await download())).toEqual({ records: [record(7), record(8)] });
    expect(after.filter((id) => before.includes(id))).toEqual([]);
  });

  it("writes a raw poison block verbatim before the tail", async () => {
    const writer = new FlowLogBlobWriter(freshContainer(), blobName);
    await writer.append(record(1));

    await writer.appendRawBlock(",{not json");
    await writer.append(record(2));

    expect((await blockTexts()).slice(1)).toEqual([
      JSON.stringify(record(1)),
      ",{not json",
      `,${JSON.stringify(record(2))}`,
      "]}",
    ]);
    await expect(download().then((text) => JSON.parse(text))).rejects.toThrow(SyntaxError);
  });

  it("refuses a record that does not serialise to JSON", async () => {
    const writer = new FlowLogBlobWriter(freshContainer(), blobName);

    await expect(writer.append({ toJSON: () => undefined })).rejects.toThrow(ValidationError);
  });
});
