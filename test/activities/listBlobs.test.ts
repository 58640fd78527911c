/** The hierarchy walk against Azurite through the real blob source: pruned, filtered, paged. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBlobSource } from "../../src/adapters/blobSource";
import { readSettings } from "../../src/config";
import { blobPathFor, buildTopology } from "../../devhost/generate";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { BlobServiceClient } from "@azure/storage-blob";
import { makeListBlobs, walkFlowLogBlobs } from "../../activities/listBlobs";
import { FlowLogBlob, ListBlobsResult } from "../../src/contracts/backfillContracts";

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
