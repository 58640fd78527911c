/** Backfill's listing pages on Azurite: name order, every blob once across pages, containers and days. */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeListBlobs, type FlowLogBlob, type ListBlobsInput, type ListBlobsResult } from "../../activities/listBlobs";
import { createBlobSource } from "../../src/adapters/blobSource";
import { readSettings } from "../../src/config";
import { blobPathFor, hoursFrom } from "../../src/core/generate";
import { startAzurite, type AzuriteInstance } from "../../src/local/azurite";
import { topology } from "./helpers";

const FROM = "2026-11-14T20:00:00Z";
const HOURS = 8; // crosses a day boundary, so pages resume across d= and h= prefixes
let azurite: AzuriteInstance;
let written: string[];

beforeAll(async () => {
  azurite = await startAzurite();
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const blobs = [...hoursFrom(FROM, HOURS)].flatMap((hourIso) => topology.nics.map((nic, i) => blobPathFor(nic, hourIso, { vnetLayout: i === 3 ? "underscore" : "arm" })));
  for (const container of new Set(blobs.map((b) => b.container))) await service.getContainerClient(container).createIfNotExists();
  await Promise.all(blobs.map((b) => service.getContainerClient(b.container).getBlockBlobClient(b.path).upload("{}", 2)));
  written = blobs.map((b) => `${b.container}/${b.path}`);
});
afterAll(() => azurite.stop());

const key = (blob: FlowLogBlob): string => `${blob.container}/${blob.path}`;

describe("listBlobs pages for backfill", () => {
  it("returns every blob once, in name order, page after page, and counts without names", async () => {
    const settings = readSettings({ FlowLogsStorage: azurite.connectionString, EventHubsConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v" });
    const listBlobs = makeListBlobs({ blobSource: () => createBlobSource(settings.storage), containers: () => settings.storage.containers });
    const list = async (input: ListBlobsInput): Promise<ListBlobsResult> => (await listBlobs(input, undefined as never)) as ListBlobsResult;
    const filter = { fromIso: FROM, toIso: "2026-11-15T04:00:00Z" };

    const pages: FlowLogBlob[][] = [];
    for (let after: ListBlobsResult["next"] = null, first = true; first || after !== null; first = false) {
      const page = await list({ filter, page: { after, maxBlobs: 7 } });
      pages.push(page.blobs);
      after = page.next;
    }
    const counts: number[] = [];
    for (let after: ListBlobsResult["next"] = null, first = true; first || after !== null; first = false) {
      const page = await list({ filter, page: { after, maxBlobs: 20, countOnly: true } });
      expect(page.blobs).toEqual([]);
      counts.push(page.count);
      after = page.next;
    }

    const listed = pages.flat().map(key);
    const byContainer = settings.storage.containers.flatMap((container) => written.filter((k) => k.startsWith(`${container}/`)).sort());
    expect(listed).toEqual(byContainer);
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(written.length);
  });
});
