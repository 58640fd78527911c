import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertAcceptedBlobUrl, createBlobSource, type BlobSource } from "../../src/adapters/blobSource";
import { NSG_CONTAINER, VNET_CONTAINER, type StorageSettings } from "../../src/config";
import { ValidationError } from "../../src/errors";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { FlowLogBlobWriter } from "../../devhost/flowLogWriter";
import { fixturePath, skipWithoutFixtures } from "../core/flowLogFixtures";

const nsgPath = (hour: number, mac: string) =>
  `resourceId=/SUBSCRIPTIONS/SUB/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2026/m=11` +
  `/d=22/h=${String(hour).padStart(2, "0")}/m=00/macAddress=${mac}/PT1H.json`;
const FAST_RETRIES = { maxTries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 };

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A real NSG v2 PT1H.json (15 records). */
async function fixtureRecords(): Promise<object[]> {
  const text = await readFile(fixturePath("nsg-v2/danifitz-azure-nsg-flow-logs-newrelic-PT1H.json"), "utf8");
  return (JSON.parse(text) as { records: object[] }).records;
}

describe("blob source on Azurite with the real storage client", () => {
  let azurite: AzuriteInstance;
  let service: BlobServiceClient;
  let settings: StorageSettings;
  let source: BlobSource;
  let nsg: ContainerClient;

  beforeAll(async () => {
    azurite = await startAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    settings = {
      connection: { kind: "connectionString", connectionString: azurite.connectionString },
      accountName: azurite.accountName,
      containers: [NSG_CONTAINER, VNET_CONTAINER],
      quarantineContainer: "flowtap-quarantine",
    };
    source = createBlobSource(settings, { retryOptions: FAST_RETRIES });
    nsg = service.getContainerClient(NSG_CONTAINER);
  });
  afterAll(async () => {
    await azurite.stop();
  });

  it("returns the committed block list, head to tail, of a flow-log blob", async (context) => {
    skipWithoutFixtures(context);
    const records = await fixtureRecords();
    const writer = new FlowLogBlobWriter(nsg, nsgPath(1, "000D3A000001"));
    await writer.append(...records.slice(0, 2));
    const commit = await writer.append(...records.slice(2, 3));

    const committed = await source.getCommittedBlocks(NSG_CONTAINER, writer.blobName);

    const sizes = committed?.blocks.map((block) => block.sizeInBytes) ?? [];
    expect(committed?.blocks).toHaveLength(commit.blockCount);
    expect(sizes[0]).toBe('{"records":['.length);
    expect(sizes.at(-1)).toBe("]}".length);
    expect(committed?.contentLength).toBe(commit.contentLength);
    expect(committed?.etag).toBe(commit.eTag);
    expect(new Set(committed?.blocks.map((block) => block.id)).size).toBe(commit.blockCount);
  });

  it("returns undefined for a blob or a container that does not exist", async () => {
    await nsg.createIfNotExists();

    const missingBlob = await source.getCommittedBlocks(NSG_CONTAINER, nsgPath(2, "000D3A0000FF"));
    const missingContainer = await source.getCommittedBlocks("no-such-container", nsgPath(2, "000D3A0000FF"));

    expect(missingBlob).toBeUndefined();
    expect(missingContainer).toBeUndefined();
  });

  it("streams exactly the bytes of a range: every block read alone reassembles the blob", async (context) => {
    skipWithoutFixtures(context);
    const writer = new FlowLogBlobWriter(nsg, nsgPath(3, "000D3A000003"));
    const records = await fixtureRecords();
    await writer.append(...records.slice(0, 3));
    const whole = await nsg.getBlobClient(writer.blobName).downloadToBuffer();
    const committed = await source.getCommittedBlocks(NSG_CONTAINER, writer.blobName);

    const parts: Buffer[] = [];
    let offset = 0;
    for (const block of committed?.blocks ?? []) {
      parts.push(await readAll(await source.openRange(NSG_CONTAINER, writer.blobName, offset, block.sizeInBytes)));
      offset += block.sizeInBytes;
    }

    expect(parts.map((part) => part.length)).toEqual(committed?.blocks.map((block) => block.sizeInBytes));
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
    expect(JSON.parse(parts[1].toString("utf8"))).toEqual(records[0]);
  });

  it("refuses ranges beyond the blob and empty or negative ranges", async () => {
    const writer = new FlowLogBlobWriter(nsg, nsgPath(4, "000D3A000004"));
    const { contentLength } = await writer.append({ time: "2026-11-22T04:00:00Z" });

    await expect(source.openRange(NSG_CONTAINER, writer.blobName, contentLength - 2, 10)).rejects.toThrow(
      /ends beyond the end of the blob \(2 bytes/,
    );
    await expect(source.openRange(NSG_CONTAINER, writer.blobName, contentLength + 5, 1)).rejects.toThrow(
      /starts beyond the end/,
    );
    await expect(source.openRange(NSG_CONTAINER, writer.blobName, 0, 0)).rejects.toThrow(ValidationError);
    await expect(source.openRange(NSG_CONTAINER, writer.blobName, -1, 1)).rejects.toThrow(ValidationError);
  });

  it("lists every blob under a prefix through many pages", async () => {
    const container = service.getContainerClient("listing");
    await container.create();
    const names = Array.from(
      { length: 1000 },
      (_, i) => `y=2026/h=${String(i % 24).padStart(2, "0")}/mac=${String(i).padStart(4, "0")}/PT1H.json`,
    );
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => container.getBlockBlobClient(name).upload("{}", 2)));
    }
    await container.getBlockBlobClient("other/PT1H.json").upload("{}", 2);

    const listed = await collect(source.listBlobs("listing", "y=2026/", { maxPageSize: 100 }));

    // The emulator honours the page size, so 1,000 blobs took ten pages.
    const firstPage = await container.listBlobsFlat({ prefix: "y=2026/" }).byPage({ maxPageSize: 100 }).next();
    expect(firstPage.value?.segment.blobItems).toHaveLength(100);
    expect(listed.map((blob) => blob.path).sort()).toEqual([...names].sort());
    expect(listed.every((blob) => blob.contentLength === 2 && blob.lastModified instanceof Date)).toBe(true);
  });

  it("lists nothing in a container that does not exist", async () => {
    const listed = await collect(source.listBlobs("not-created-yet", ""));

    expect(listed).toEqual([]);
  });

  it("walks the hierarchy one level at a time", async () => {
    const hours = [5, 6];
    for (const hour of hours) await new FlowLogBlobWriter(nsg, nsgPath(hour, "000D3A000005")).append({ hour });
    const dayPrefix = nsgPath(5, "X").split("/h=")[0] + "/";

    const hourPrefixes = await collect(source.listPrefixes(NSG_CONTAINER, dayPrefix));
    const macPrefixes = await collect(source.listPrefixes(NSG_CONTAINER, `${dayPrefix}h=05/m=00/`));

    expect(hourPrefixes).toEqual(expect.arrayContaining([`${dayPrefix}h=05/`, `${dayPrefix}h=06/`]));
    expect(hourPrefixes.every((prefix) => prefix.startsWith(dayPrefix) && prefix.endsWith("/"))).toBe(true);
    expect(macPrefixes).toEqual([`${dayPrefix}h=05/m=00/macAddress=000D3A000005/`]);
  });

  it("quarantines a record's raw text with ASCII-safe metadata, idempotently", async () => {
    const record = {
      container: NSG_CONTAINER,
      path: nsgPath(7, "000D3A000007"),
      recordIndex: 12,
      blockIndex: 13,
      reason: "Unexpected token é at position 3 — truncated record",
      rawText: ',{"time":"2026-11-22T07:12:00Z","bad',
    };

    const first = await source.quarantine(record);
    const second = await source.quarantine({ ...record, rawText: ',{"time":"retried"' });

    expect(second).toEqual(first);
    expect(first).toEqual({
      container: "flowtap-quarantine",
      path: `${NSG_CONTAINER}/${record.path}/record-000012.json`,
    });
    const blob = service.getContainerClient(first.container).getBlobClient(first.path);
    const properties = await blob.getProperties();
    expect((await blob.downloadToBuffer()).toString("utf8")).toBe(',{"time":"retried"');
    expect(decodeURIComponent(properties.metadata?.reason ?? "")).toBe(record.reason);
    expect(decodeURIComponent(properties.metadata?.sourceblob ?? "")).toBe(`${NSG_CONTAINER}/${record.path}`);
    expect(properties.metadata).toMatchObject({ recordindex: "12", blockindex: "13" });
  });

  it("accepts the URL of a blob the writer creates and refuses one of another account", async () => {
    const writer = new FlowLogBlobWriter(nsg, nsgPath(8, "000D3A000008"));
    const { events } = await writer.append({ hour: 8 });

    const accepted = assertAcceptedBlobUrl(events.eventGrid.data.url, settings);

    expect(accepted).toEqual({ container: NSG_CONTAINER, path: writer.blobName });
    expect(() => assertAcceptedBlobUrl(events.eventGrid.data.url, { ...settings, accountName: "prodacct" })).toThrow(
      /account 'devstoreaccount1' is not the configured account 'prodacct'/,
    );
  });
});
