/** readBlockList and processRange against Azurite through the real blob source (no send needed). */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBlobSource } from "../../src/adapters/blobSource";
import { createEventHubsSink } from "../../src/adapters/eventHubsSink";
import { readSettings } from "../../src/config";
import { DEFAULT_RULES } from "../../src/core/anomaly/rules";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { FlowLogBlobWriter } from "../../devhost/flowLogWriter";
import { makeProcessRange } from "../../activities/processRange";
import { makeReadBlockList } from "../../activities/readBlockList";
import { ProcessRangeResult, ReadBlockListResult } from "../../src/contracts/ingestionContracts";

const container = "insights-logs-flowlogflowevent";
const path =
  "flowLogResourceID=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL/y=2026/m=11/d=22/h=10/m=00/macAddress=000D3AAABBCC/PT1H.json";
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

describe("processRange", () => {
  it("answers stale, sending nothing, when the blob no longer has the planned range", async () => {
    const sink = createEventHubsSink(settings().eventHubs);
    try {
      const processRange = makeProcessRange({
        ...deps(),
        sink: () => sink,
        partitionKey: () => "mac",
        rules: () => DEFAULT_RULES,
      });
      const result = (await processRange(
        { container, path, offsetInBytes: 12, countInBytes: 100, firstBlockIndex: 1, blockSizesInBytes: [100] },
        noContext,
      )) as ProcessRangeResult;

      expect(result).toMatchObject({ kind: "stale", reason: expect.stringMatching(/ends beyond the end of the blob/) });
      expect(sink.totals.eventsSent).toBe(0);
    } finally {
      await sink.close();
    }
  });

  it("refuses block sizes that do not add up to the range", async () => {
    const processRange = makeProcessRange({
      ...deps(),
      sink: () => createEventHubsSink(settings().eventHubs),
      partitionKey: () => "mac",
      rules: () => DEFAULT_RULES,
    });

    await expect(
      processRange(
        { container, path, offsetInBytes: 12, countInBytes: 4, firstBlockIndex: 1, blockSizesInBytes: [2, 3] },
        noContext,
      ),
    ).rejects.toThrow(/add up to countInBytes 4/);
  });
});
