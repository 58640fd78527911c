import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";

const blockId = (n: number): string => Buffer.from(`block-${String(n).padStart(6, "0")}`).toString("base64");

describe("startAzurite (in memory)", () => {
  let azurite: AzuriteInstance;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite.stop();
  });

  it("serves block blobs to the real Blob client: staged blocks, committed list, ranged reads", async () => {
    // Prepare
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("blocks");
    await container.create();
    const blob = container.getBlockBlobClient("a/PT1H.json");
    const parts = ['{"records":[', '{"n":1}', ',{"n":2}', "]}"];

    // Act
    for (const [i, part] of parts.entries()) await blob.stageBlock(blockId(i), Buffer.from(part), part.length);
    await blob.commitBlockList(parts.map((_, i) => blockId(i)));
    const list = await blob.getBlockList("committed");
    const range = await blob.downloadToBuffer(12, 15);

    // Assess
    expect(list.committedBlocks?.map((b) => [b.name, b.size])).toEqual(parts.map((p, i) => [blockId(i), p.length]));
    expect(range.toString()).toBe('{"n":1},{"n":2}');
    expect(JSON.parse((await blob.downloadToBuffer()).toString())).toEqual({ records: [{ n: 1 }, { n: 2 }] });
  });

  it("lists blobs by prefix page by page", async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("listing");
    await container.create();
    for (const name of ["p/1.json", "p/2.json", "p/3.json", "q/1.json"])
      await container.getBlockBlobClient(name).upload("x", 1);

    const pages: string[][] = [];
    for await (const page of container.listBlobsFlat({ prefix: "p/" }).byPage({ maxPageSize: 2 })) {
      pages.push(page.segment.blobItems.map((item) => item.name));
    }

    expect(pages).toEqual([["p/1.json", "p/2.json"], ["p/3.json"]]);
  });

  it("serves tables to the real Table client", async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, "checkpoints", {
      allowInsecureConnection: true,
    });
    await table.createTable();

    await table.upsertEntity({ partitionKey: "blob", rowKey: "a", blockCount: 3 });
    await table.upsertEntity({ partitionKey: "blob", rowKey: "a", blockCount: 5 }, "Replace");
    const entity = await table.getEntity<{ blockCount: number }>("blob", "a");

    expect(entity.blockCount).toBe(5);
    expect(azurite.tableEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
  });

  it("keeps separate instances apart", async () => {
    const other = await startAzurite();
    try {
      const names: string[] = [];
      for await (const c of BlobServiceClient.fromConnectionString(other.connectionString).listContainers())
        names.push(c.name);

      expect(other.blobEndpoint).not.toBe(azurite.blobEndpoint);
      expect(names).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe("startAzurite (on disk)", () => {
  it("keeps blobs across a restart in the same folder", async () => {
    const location = await mkdtemp(join(tmpdir(), "flowtap-azurite-"));
    try {
      const first = await startAzurite({ location });
      await BlobServiceClient.fromConnectionString(first.connectionString).getContainerClient("kept").create();
      await BlobServiceClient.fromConnectionString(first.connectionString)
        .getContainerClient("kept")
        .getBlockBlobClient("b")
        .upload("hello", 5);
      await first.stop();

      const second = await startAzurite({ location });
      try {
        const blob = BlobServiceClient.fromConnectionString(second.connectionString)
          .getContainerClient("kept")
          .getBlockBlobClient("b");
        expect((await blob.downloadToBuffer()).toString()).toBe("hello");
      } finally {
        await second.stop();
      }
    } finally {
      await rm(location, { recursive: true, force: true });
    }
  });
});
