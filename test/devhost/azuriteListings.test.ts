import { spawn, type ChildProcess } from "node:child_process";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEV_STORE_ACCOUNT_KEY,
  DEV_STORE_ACCOUNT_NAME,
  startAzurite,
  type AzuriteInstance,
} from "../../devhost/azurite";

/** Azurite as its own command starts it: no index patches (its listings are the reference). */
async function startPlainAzurite(): Promise<{ process: ChildProcess; blobEndpoint: string }> {
  const child = spawn(
    process.execPath,
    [
      require.resolve("azurite/dist/src/blob/main.js"),
      ...["--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence"],
      ...["--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"],
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /successfully listens on (http:\/\/\S+)/.exec(output);
      if (listening) resolve(listening[1]!);
    });
    child.once("exit", (code) => reject(new Error(`plain Azurite exited (${code}) before listening: ${output}`)));
  });
  return { process: child, blobEndpoint: `${address}/${DEV_STORE_ACCOUNT_NAME}` };
}

const connectionString = (blobEndpoint: string) =>
  `DefaultEndpointsProtocol=http;AccountName=${DEV_STORE_ACCOUNT_NAME};AccountKey=${DEV_STORE_ACCOUNT_KEY};` +
  `BlobEndpoint=${blobEndpoint};`;

/** A few hundred names over a hierarchy, with names that read as numbers and other delimiters. */
function blobNames(): string[] {
  const names = ["123", "7.5", "1/x", "a", "a/", "a//b", "a-b", "a/b-c/d", "z=1/y=2/PT1H.json"];
  for (let sub = 0; sub < 3; sub++)
    for (let day = 1; day <= 4; day++)
      for (let hour = 0; hour < 24; hour += 3)
        names.push(`resourceId=/SUB${sub}/y=2026/m=01/d=0${day}/h=${String(hour).padStart(2, "0")}/PT1H.json`);
  return names;
}

/** The same blobs in both Azurites: two containers sharing names, and a blob whose blocks are only staged. */
async function fill(service: BlobServiceClient): Promise<ContainerClient> {
  const [first, second] = [service.getContainerClient("first"), service.getContainerClient("second")];
  await Promise.all([first.create(), second.create()]);
  const names = blobNames();
  for (const [index, name] of names.entries()) {
    await first.getBlockBlobClient(name).upload(name, name.length);
    if (index % 2 === 0) await second.getBlockBlobClient(name).upload("x", 1);
  }
  const staged = Buffer.from("block-0").toString("base64");
  await first.getBlockBlobClient("resourceId=/SUB1/staged/PT1H.json").stageBlock(staged, Buffer.from("{}"), 2);
  return first;
}

interface ListingCase {
  delimiter: string;
  prefix: string;
  maxPageSize: number;
  marker?: string;
  uncommitted?: boolean;
}

/** Every page of a hierarchical listing: blob names and sizes, prefixes and the continuation token. */
async function listAll(container: ContainerClient, listing: ListingCase): Promise<unknown[]> {
  const pages: unknown[] = [];
  const options = { prefix: listing.prefix, includeUncommitedBlobs: listing.uncommitted };
  const paged = container
    .listBlobsByHierarchy(listing.delimiter, options)
    .byPage({ maxPageSize: listing.maxPageSize, continuationToken: listing.marker });
  for await (const page of paged) {
    pages.push({
      blobs: page.segment.blobItems.map((blob) => [blob.name, blob.properties.contentLength]),
      prefixes: (page.segment.blobPrefixes ?? []).map((prefix) => prefix.name),
      next: page.continuationToken,
    });
  }
  return pages;
}

function listingCases(): ListingCase[] {
  const cases: ListingCase[] = [];
  for (const delimiter of ["/", "=", "-"])
    for (const prefix of ["", "a", "resourceId=/", "resourceId=/SUB1/", "resourceId=/SUB1/y=2026/m=01/", "none/"])
      for (const maxPageSize of [1, 2, 3, 7, 5000]) cases.push({ delimiter, prefix, maxPageSize });
  cases.push(
    { delimiter: "/", prefix: "resourceId=/", maxPageSize: 2, marker: "resourceId=/SUB1/y=2026/m=01/d=02/h=03" },
    { delimiter: "/", prefix: "resourceId=/SUB1/", maxPageSize: 1, marker: "resourceId=/SUB1/y=2026/m=01/d=03/" },
    { delimiter: "/", prefix: "", maxPageSize: 3, marker: "7.5" },
    { delimiter: "/", prefix: "resourceId=/SUB1/", maxPageSize: 5000, uncommitted: true },
    { delimiter: "/", prefix: "", maxPageSize: 2, uncommitted: true },
  );
  return cases;
}

describe("Azurite with indexed listings", () => {
  let indexed: AzuriteInstance;
  let plain: { process: ChildProcess; blobEndpoint: string };
  let indexedContainer: ContainerClient;
  let plainContainer: ContainerClient;
  beforeAll(async () => {
    [indexed, plain] = await Promise.all([startAzurite(), startPlainAzurite()]);
    indexedContainer = await fill(BlobServiceClient.fromConnectionString(indexed.connectionString));
    plainContainer = await fill(BlobServiceClient.fromConnectionString(connectionString(plain.blobEndpoint)));
  }, 120_000);
  afterAll(async () => {
    plain?.process.kill();
    await indexed?.stop();
  });

  it("lists with delimiter, prefix, marker and page size exactly what Azurite's own listing returns", async () => {
    // Prepare
    const cases = listingCases();

    // Act
    const listed = [];
    for (const listing of cases)
      listed.push({
        listing,
        indexed: await listAll(indexedContainer, listing),
        plain: await listAll(plainContainer, listing),
      });

    // Assess
    for (const { listing, indexed: ours, plain: theirs } of listed)
      expect({ listing, pages: ours }).toEqual({
        listing,
        pages: theirs,
      });
    expect(listed.some(({ plain: pages }) => pages.length > 3)).toBe(true);
  }, 120_000);
});
