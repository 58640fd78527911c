/** Backfill's listing pages on Azurite: name order, every blob once across pages, containers and days. */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeListBlobs, walkFlowLogBlobs } from "../../activities/listBlobs";
import { createBlobSource } from "../../src/adapters/blobSource";
import { readSettings } from "../../src/config";
import { blobPathFor, hoursFrom } from "../../devhost/generate";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { topology } from "./helpers";
import { FlowLogBlob, ListBlobsInput, ListBlobsResult } from "../../src/contracts/backfillContracts";

const FROM = "2026-11-14T20:00:00Z";
const HOURS = 8; // crosses a day boundary, so pages resume across d= and h= prefixes
let azurite: AzuriteInstance;
let written: string[];

beforeAll(async () => {
  azurite = await startAzurite();
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const blobs = [...hoursFrom(FROM, HOURS)].flatMap((hourIso) =>
    topology.nics.map((nic, i) => blobPathFor(nic, hourIso, { vnetLayout: i === 3 ? "underscore" : "arm" })),
  );
  for (const container of new Set(blobs.map((b) => b.container)))
    await service.getContainerClient(container).createIfNotExists();
  await Promise.all(
    blobs.map((b) => service.getContainerClient(b.container).getBlockBlobClient(b.path).upload("{}", 2)),
  );
  written = blobs.map((b) => `${b.container}/${b.path}`);
});
afterAll(() => azurite.stop());

const key = (blob: FlowLogBlob): string => `${blob.container}/${blob.path}`;
const settingsOf = () =>
  readSettings({
    FlowLogsStorage: azurite.connectionString,
    EventHubsConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v",
  });

describe("listBlobs pages for backfill", () => {
  it("returns every blob once, in name order, page after page, and counts without names", async () => {
    const settings = settingsOf();
    const listBlobs = makeListBlobs({
      blobSource: () => createBlobSource(settings.storage),
      containers: () => settings.storage.containers,
    });
    const list = async (input: ListBlobsInput): Promise<ListBlobsResult> =>
      (await listBlobs(input, undefined as never)) as ListBlobsResult;
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
    const byContainer = settings.storage.containers.flatMap((container) =>
      written.filter((k) => k.startsWith(`${container}/`)).sort(),
    );
    expect(listed).toEqual(byContainer);
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(written.length);
  });

  it("walks an hour holding more blobs than one listing page (the service pages at 5,000; here at 3)", async () => {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const hourIso = "2026-11-20T05:00:00Z";
    const nic = topology.nics[0]!;
    const paths = Array.from({ length: 11 }, (_, i) =>
      blobPathFor({ ...nic, macAddress: `000D3A0000${String(i).padStart(2, "0")}` }, hourIso),
    );
    await Promise.all(
      paths.map((p) => service.getContainerClient(p.container).getBlockBlobClient(p.path).upload("{}", 2)),
    );
    const source = createBlobSource(settingsOf().storage);
    // The real blob source, asked for listing pages of 3 names: the walk must follow the continuation.
    const smallPages = {
      ...source,
      listPrefixes: source.listPrefixes.bind(source),
      listBlobs: (container: string, prefix: string) => source.listBlobs(container, prefix, { maxPageSize: 3 }),
    };

    const found: string[] = [];
    for await (const blob of walkFlowLogBlobs(smallPages, paths[0]!.container, {
      fromIso: hourIso,
      toIso: "2026-11-20T06:00:00Z",
    }))
      found.push(blob.path);

    expect(found).toEqual(paths.map((p) => p.path).sort());
  });
});
