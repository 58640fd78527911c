import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { selectiveFirst } from "../../devhost/azuriteLookups";

const blockId = (n: number): string => Buffer.from(`block-${String(n).padStart(6, "0")}`).toString("base64");

describe("selectiveFirst", () => {
  const indexed = { accountName: {}, containerName: {}, name: {}, blobName: {} };

  it("puts an equality on blobName, else on name, first, keeping every term", () => {
    // Act
    const block = selectiveFirst({ accountName: "a", containerName: "c", blobName: "b", name: "id" }, indexed);
    const blob = selectiveFirst({ accountName: "a", containerName: "c", name: "b", snapshot: "" }, indexed);

    // Assess
    expect(Object.entries(block as object)).toEqual([
      ["blobName", "b"],
      ["accountName", "a"],
      ["containerName", "c"],
      ["name", "id"],
    ]);
    expect(Object.keys(blob as object)).toEqual(["name", "accountName", "containerName", "snapshot"]);
  });

  it("looks a hierarchical listing prefix up as an index range, still matching the prefix", () => {
    // Prepare: the prefix `a-b/c.d/` as Azurite's escapeRegex writes it
    const regex = { $regex: "^a\\-b\\/c\\.d\\/" };

    // Act
    const query = selectiveFirst({ name: regex, accountName: "x", containerName: "c" }, indexed);
    const flat = { name: { $regex: "^abc" }, accountName: "x" };

    // Assess
    expect(query).toEqual({
      $and: [
        { name: { $between: ["a-b/c.d/", "a-b/c.d/\uffff"] } },
        { name: regex },
        { accountName: "x" },
        { containerName: "c" },
      ],
    });
    expect(selectiveFirst(flat, indexed)).toBe(flat);
  });

  it("leaves queries with operators, unindexed fields or a single term as they are", () => {
    // Prepare
    const listing = { accountName: "a", name: { $regex: /^x/ } };
    const unindexed = { accountName: "a", name: "b" };
    const single = { name: "b" };

    // Act / Assess
    expect(selectiveFirst(listing, indexed)).toBe(listing);
    expect(selectiveFirst(unindexed, { accountName: {} })).toBe(unindexed);
    expect(selectiveFirst(single, indexed)).toBe(single);
  });
});

describe("Azurite with indexed lookups", () => {
  let azurite: AzuriteInstance;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite.stop();
  });

  it("keeps blobs of the same name in two containers, and their staged blocks, apart", async () => {
    // Prepare
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const [first, second] = [service.getContainerClient("first"), service.getContainerClient("second")];
    await Promise.all([first.create(), second.create()]);
    const name = "same/PT1H.json";

    // Act
    await first.getBlockBlobClient(name).stageBlock(blockId(0), Buffer.from("one"), 3);
    await second.getBlockBlobClient(name).stageBlock(blockId(0), Buffer.from("second"), 6);
    await second.getBlockBlobClient(name).stageBlock(blockId(1), Buffer.from("!"), 1);
    await first.getBlockBlobClient(name).commitBlockList([blockId(0)]);
    await second.getBlockBlobClient(name).commitBlockList([blockId(0), blockId(1)]);

    // Assess
    expect((await first.getBlockBlobClient(name).downloadToBuffer()).toString()).toBe("one");
    expect((await second.getBlockBlobClient(name).downloadToBuffer()).toString()).toBe("second!");
    const listed = [];
    for await (const blob of second.listBlobsFlat({ prefix: "same/" })) listed.push(blob.name);
    expect(listed).toEqual([name]);
    const nested = [];
    for await (const item of first.listBlobsByHierarchy("/", { prefix: "same/" })) nested.push(item.name);
    expect(nested).toEqual([name]);
    await expect(service.getContainerClient("first").getBlockBlobClient("other").getProperties()).rejects.toThrow();
  });
});
