/** The hierarchy walk against Azurite through the real blob source: pruned, filtered, paged. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBlobSource } from "../../src/adapters/blobSource";
import { readSettings } from "../../src/config";
import { blobPathFor, buildTopology, hoursFrom } from "../../devhost/generate";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { BlobServiceClient } from "@azure/storage-blob";
import { makeListBlobs, walkFlowLogBlobs } from "../../activities/listBlobs";
import { FlowLogBlob, ListBlobsResult, ListBlobsInput } from "../../src/contracts/backfillContracts";
import { topology as backfillTopology } from "../scenarios/backfill/helpers";

const topology = buildTopology({ seed: 3, nics: 6 });
const HOURS = ["2026-11-21T23:00:00Z", "2026-11-22T09:00:00Z", "2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z"];
let azurite: AzuriteInstance;
let written: { container: string; path: string; hourIso: string; mac: string }[];

beforeAll(async () => {
  azurite = await startAzurite();
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  written = [];
  for (const hourIso of HOURS) {
    for (const nic of topology.nics) {
      const { container, path } = blobPathFor(nic, hourIso);
      const client = service.getContainerClient(container);
      await client.createIfNotExists();
      await client.getBlockBlobClient(path).upload('{"records":[]}', 14);
      written.push({ container, path, hourIso, mac: nic.macAddress });
    }
  }
  await service.getContainerClient(written[0]!.container).getBlockBlobClient("unrelated/PT1H.json").upload("x", 1);
});
afterAll(() => azurite.stop());

const settings = () =>
  readSettings({
    FlowLogsStorage: azurite.connectionString,
    EventHubsConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v",
  });
const keys = (blobs: readonly { container: string; path: string }[]) =>
  blobs.map((b) => `${b.container}/${b.path}`).sort();

describe("listBlobs", () => {
  it("walks only the hours asked for, by prefix, never listing a container flat", async () => {
    const source = createBlobSource(settings().storage);
    const listed: string[] = [];
    // The real blob source, recording which prefixes it is asked to list flat.
    const recording = {
      ...source,
      listPrefixes: source.listPrefixes.bind(source),
      listBlobs: (container: string, prefix: string) => (listed.push(prefix), source.listBlobs(container, prefix)),
    };
    const found: FlowLogBlob[] = [];
    for (const container of settings().storage.containers) {
      for await (const blob of walkFlowLogBlobs(recording, container, {
        fromIso: "2026-11-22T09:00:00Z",
        toIso: "2026-11-22T11:00:00Z",
      }))
        found.push(blob);
    }

    expect(keys(found)).toEqual(
      keys(written.filter((w) => w.hourIso.startsWith("2026-11-22T09") || w.hourIso.startsWith("2026-11-22T10"))),
    );
    expect(found.every((blob) => blob.contentLength === 14)).toBe(true);
    expect(listed).toHaveLength(2 * topology.nics.length);
    expect(listed.every((prefix) => /\/y=2026\/m=11\/d=22\/h=(09|10)\/$/.test(prefix))).toBe(true);
  });

  it("filters by MAC and pages with a cursor without losing or repeating a blob", async () => {
    const listBlobs = makeListBlobs({
      blobSource: () => createBlobSource(settings().storage),
      containers: () => settings().storage.containers,
    });
    const filter = { fromIso: HOURS[0]!, toIso: "2026-11-22T12:00:00Z" };
    const mac = topology.nics[1]!.macAddress;
    const byMac = (await listBlobs(
      { filter: { ...filter, macAddresses: [mac] } },
      undefined as never,
    )) as ListBlobsResult;
    const pages: FlowLogBlob[][] = [];
    let after: ListBlobsResult["next"] = null;
    do {
      const page = (await listBlobs({ filter, page: { after, maxBlobs: 5 } }, undefined as never)) as ListBlobsResult;
      pages.push(page.blobs);
      after = page.next;
    } while (after !== null);

    expect(keys(byMac.blobs)).toEqual(keys(written.filter((w) => w.mac === mac)));
    expect(keys(pages.flat())).toEqual(keys(written));
    expect(pages.flat()).toHaveLength(written.length);
    expect(pages.slice(0, -1).every((page) => page.length === 5)).toBe(true);
  });

  it("refuses a container that is not a configured flow-log container", async () => {
    const listBlobs = makeListBlobs({
      blobSource: () => createBlobSource(settings().storage),
      containers: () => settings().storage.containers,
    });

    await expect(
      listBlobs({ filter: { fromIso: HOURS[0], toIso: HOURS[3] }, containers: ["secrets"] }, undefined as never),
    ).rejects.toThrow(/container 'secrets' is not a configured/);
  });
});

/** Backfill's listing pages on Azurite: name order, every blob once across pages, containers and days. */
describe("listBlobs pages for backfill: every blob once, across days and containers", () => {
  const FROM = "2026-11-14T20:00:00Z";
  const HOURS = 8; // crosses a day boundary, so pages resume across d= and h= prefixes
  let azurite: AzuriteInstance;
  let written: string[];

  beforeAll(async () => {
    azurite = await startAzurite();
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const blobs = [...hoursFrom(FROM, HOURS)].flatMap((hourIso) =>
      backfillTopology.nics.map((nic, i) => blobPathFor(nic, hourIso, { vnetLayout: i === 3 ? "underscore" : "arm" })),
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
      const nic = backfillTopology.nics[0]!;
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
});
