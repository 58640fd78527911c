/** readBlockList against Azurite through the real blob source. */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBlobSource } from "../../src/adapters/blobSource";
import { readSettings } from "../../src/config";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { FlowLogBlobWriter } from "../../devhost/flowLogWriter";
import { makeReadBlockList } from "../../activities/readBlockList";
import { ReadBlockListResult } from "../../src/contracts/ingestionContracts";

const container = "insights-logs-flowlogflowevent";
const path =
  "flowLogResourceID=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL/" +
  "y=2026/m=11/d=22/h=10/m=00/macAddress=000D3AAABBCC/PT1H.json";
let azurite: AzuriteInstance;
beforeAll(async () => {
  azurite = await startAzurite();
  const writer = new FlowLogBlobWriter(
    BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container),
    path,
  );
  await writer.appendRawBlock("{}");
});
afterAll(() => azurite.stop());

const settings = () =>
  readSettings({
    FlowLogsStorage: azurite.connectionString,
    EventHubsConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v",
  });
const deps = () => ({
  blobSource: () => createBlobSource(settings().storage),
  containers: () => settings().storage.containers,
});
const noContext = undefined as never;

describe("readBlockList", () => {
  it("returns the committed blocks in order, or found: false for a missing blob", async () => {
    const readBlockList = makeReadBlockList(deps());
    const found = (await readBlockList({ container, path }, noContext)) as ReadBlockListResult;
    const missing = (await readBlockList(
      { container, path: path.replace("h=10", "h=11") },
      noContext,
    )) as ReadBlockListResult;

    expect(found.blocks.map((block) => block.sizeInBytes)).toEqual([12, 2, 2]);
    expect(found.contentLength).toBe(16);
    expect(missing).toEqual({ found: false, blocks: [], contentLength: 0, etag: "" });
  });

  it("refuses a blob outside the configured flow-log containers", async () => {
    await expect(makeReadBlockList(deps())({ container: "secrets", path: "a/PT1H.json" }, noContext)).rejects.toThrow(
      /container 'secrets' is not a configured flow-log container/,
    );
  });
});
