/**
 * uploadSourceFolder against Azurite: flow-log files are written in the service's block layout
 * (head, one block per record, tail) and read back byte for byte; other files are reported by
 * path, and broken flow logs are copied to quarantine instead of a flow-log container.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTopology, generateRecords, planBlobs, serializeBlob } from "../../devhost/generate";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { uploadSourceFolder } from "../../devhost/sourceFolder";

const CONTAINERS = ["insights-logs-networksecuritygroupflowevent", "insights-logs-flowlogflowevent"];
const QUARANTINE = "flowtap-quarantine";

describe("uploadSourceFolder", () => {
  let azurite: AzuriteInstance;
  let source: string;

  beforeAll(async () => {
    azurite = await startAzurite();
    source = await mkdtemp(join(tmpdir(), "flowtap-source-"));
  });

  afterAll(async () => {
    await azurite?.stop();
    await rm(source, { recursive: true, force: true });
  });

  async function put(relativePath: string, text: string): Promise<string> {
    const file = join(source, ...relativePath.split("/"));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    return file;
  }

  it("uploads flow logs as the service writes them and reports every other file by path", async () => {
    // Prepare: one NSG and one VNet blob of 5 minutes each, and four files that are not flow logs.
    const topology = buildTopology({ seed: 3, nics: 2 });
    const texts = new Map<string, string>();
    for (const blob of planBlobs(topology, "2026-11-22T08:00:00Z", 1)) {
      const records = generateRecords({
        topology,
        nic: blob.nic,
        hourIso: blob.hourIso,
        minutes: { first: 0, last: 4 },
        tuplesPerMinute: 2,
      });
      const text = [...serializeBlob(records)].join("");
      texts.set(`${blob.container}/${blob.path}`, text);
      await put(`${blob.container}/${blob.path}`, text);
    }
    const notes = await put("README.txt", "downloaded with azcopy");
    const foreign = await put("other-container/resourceId=/x/PT1H.json", "{}");
    const badPath = await put(`${CONTAINERS[0]}/resourceId=/not/a/flow/log/PT1H.json`, '{"records":[]}');
    const brokenPath =
      `${CONTAINERS[0]}/resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/` +
      `RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2026/m=11/d=22/h=09/m=00/` +
      `macAddress=000D3A000001/PT1H.json`;
    const brokenText = '{"records":[{"time":"2026-11-22T09:01:00Z"';
    const broken = await put(brokenPath, brokenText);
    const blobService = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const progress: string[] = [];

    // Act
    const result = await uploadSourceFolder({
      sourceDir: source,
      blobService,
      containers: CONTAINERS,
      quarantineContainer: QUARANTINE,
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });

    // Assess: both flow logs uploaded, byte for byte, as head + a block per record + tail.
    expect(result.uploaded.map((blob) => `${blob.container}/${blob.path}`).sort()).toEqual([...texts.keys()].sort());
    for (const blob of result.uploaded) {
      const client = blobService.getContainerClient(blob.container).getBlockBlobClient(blob.path);
      const blocks = (await client.getBlockList("committed")).committedBlocks ?? [];
      expect(blob.records).toBe(5);
      expect(blocks.map((block) => block.size)).toEqual([12, ...blocks.slice(1, -1).map((block) => block.size), 2]);
      expect(blocks).toHaveLength(5 + 2);
      expect((await client.downloadToBuffer()).toString("utf8")).toBe(texts.get(`${blob.container}/${blob.path}`));
    }
    expect(result.hours).toEqual({ from: "2026-11-22T08:00:00.000Z", to: "2026-11-22T09:00:00.000Z" });
    // Every other file is reported by path; only the broken flow log went to quarantine.
    const rejected = new Map(result.rejected.map((file) => [file.file, file]));
    expect([...rejected.keys()].sort()).toEqual([notes, foreign, badPath, broken].sort());
    expect(rejected.get(notes)?.reason).toMatch(/not under a flow-log container folder/);
    expect(rejected.get(badPath)?.reason).toMatch(/is not a flow-log blob path/);
    expect(rejected.get(broken)).toMatchObject({ quarantinedAs: `${QUARANTINE}/${brokenPath}` });
    const quarantined = await blobService.getContainerClient(QUARANTINE).getBlobClient(brokenPath).downloadToBuffer();
    expect(quarantined.toString("utf8")).toBe(brokenText);
    expect(
      await blobService
        .getContainerClient(CONTAINERS[0]!)
        .getBlobClient(brokenPath.slice(CONTAINERS[0]!.length + 1))
        .exists(),
    ).toBe(false);
    expect(progress.at(-1)).toBe("3/3");
  });
});
