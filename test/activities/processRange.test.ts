/**
 * processRange with a record block bigger than a send chunk (its events go to the sink in several
 * calls): every event once and in order, and a failure part-way through the big block commits only
 * the blocks before it.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProcessRange } from "../../activities/processRange";
import { makeReadBlockList } from "../../activities/readBlockList";
import { createBlobSource } from "../../src/adapters/blobSource";
import { createEventHubsSink } from "../../src/adapters/eventHubsSink";
import { createLogsIngestionSink } from "../../src/adapters/logsIngestionSink";
import { readSettings, readSinkSettings } from "../../src/config";
import { DEFAULT_RULES } from "../../src/core/anomaly/rules";
import { startAzurite, type AzuriteInstance } from "../../devhost/azurite";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { FlowLogBlobWriter } from "../../devhost/flowLogWriter";
import { startLogsIngestionEndpoint, type LogsIngestionEndpoint } from "../../devhost/logsingestion";
import { ServiceError } from "../../src/errors";
import { ProcessRangeInput, ProcessRangeResult, ReadBlockListResult } from "../../src/contracts/ingestionContracts";

const container = "insights-logs-networksecuritygroupflowevent";
const path =
  "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG/y=2026/m=11/" +
  "d=22/h=10/m=00/macAddress=000D3AAABBCC/PT1H.json";
const MAC = "000D3AAABBCC";
/** ≈ 3 MB of encoded events: three send chunks of about 1 MB. */
const BIG_BLOCK_TUPLES = 3000;
const SMALL_BLOCK_TUPLES = 5;

function nsgRecord(tupleCount: number, firstPort: number): string {
  const tuples = Array.from(
    { length: tupleCount },
    (_, i) => `1795341600,10.0.0.4,52.1.2.3,${firstPort + i},443,T,O,A,B,1,100,1,100`,
  );
  return JSON.stringify({
    time: "2026-11-22T10:00:00.0000000Z",
    systemId: "00000000-0000-0000-0000-000000000001",
    macAddress: MAC,
    category: "NetworkSecurityGroupFlowEvent",
    resourceId: "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG",
    operationName: "NetworkSecurityGroupFlowEvents",
    properties: {
      Version: 2,
      flows: [{ rule: "DefaultRule_AllowInternetOutBound", flows: [{ mac: MAC, flowTuples: tuples }] }],
    },
  });
}

let azurite: AzuriteInstance;
let eventHubs: LocalEventHubsEndpoint;
let range: ProcessRangeInput;

beforeAll(async () => {
  [azurite, eventHubs] = await Promise.all([
    startAzurite(),
    startEventHubsEndpoint({
      hubs: [
        { name: "whole", partitionCount: 2 },
        { name: "failing", partitionCount: 2 },
        { name: "both", partitionCount: 2 },
        { name: "partial", partitionCount: 2 },
        { name: "firstBlock", partitionCount: 2 },
      ],
    }),
  ]);
  const writer = new FlowLogBlobWriter(
    BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container),
    path,
  );
  await writer.appendRawBlock(nsgRecord(SMALL_BLOCK_TUPLES, 1000));
  await writer.appendRawBlock(`,${nsgRecord(BIG_BLOCK_TUPLES, 20000)}`);
  const list = (await makeReadBlockList(deps())({ container, path }, noContext)) as ReadBlockListResult;
  const records = list.blocks.slice(1, 3);
  range = {
    container,
    path,
    offsetInBytes: list.blocks[0]!.sizeInBytes,
    countInBytes: records.reduce((sum, block) => sum + block.sizeInBytes, 0),
    firstBlockIndex: 1,
    blockSizesInBytes: records.map((block) => block.sizeInBytes),
  };
});
afterAll(async () => {
  await eventHubs.stop();
  await azurite.stop();
});

function settings(hub: string) {
  return readSettings({
    FlowLogsStorage: azurite.connectionString,
    EventHubsConnection: eventHubs.connectionString(hub),
    FLOWTAP_EVENTHUB_NAME: hub,
  });
}
function deps() {
  return {
    blobSource: () =>
      createBlobSource(
        readSettings({
          FlowLogsStorage: azurite.connectionString,
          EventHubsConnection: "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v",
        }).storage,
      ),
  };
}
const noContext = undefined as never;
const portOf = (body: unknown): number => (body as { srcPort: number }).srcPort;

describe("processRange with a block bigger than a send chunk", () => {
  it("delivers every event of the big block once, in order, and reports the range processed", async () => {
    // Prepare
    const sink = createEventHubsSink(settings("whole").eventHubs);
    const processRange = makeProcessRange({
      ...deps(),
      sink: () => sink,
      partitionKey: () => "mac",
      rules: () => DEFAULT_RULES,
    });
    try {
      // Act
      const result = (await processRange(range, noContext)) as ProcessRangeResult;
      // Assess
      expect(result).toMatchObject({ kind: "processed", events: SMALL_BLOCK_TUPLES + BIG_BLOCK_TUPLES, records: 2 });
      const ports = eventHubs.events("whole").map((event) => portOf(event.body));
      const expected = [
        ...Array.from({ length: SMALL_BLOCK_TUPLES }, (_, i) => 1000 + i),
        ...Array.from({ length: BIG_BLOCK_TUPLES }, (_, i) => 20000 + i),
      ];
      expect(ports).toEqual(expected);
    } finally {
      await sink.close();
    }
  });

  it("counts only the blocks before the big one as delivered when a send fails part-way through it", async () => {
    // Prepare
    const sink = createEventHubsSink(settings("failing").eventHubs, { sendRetryOptions: { maxAttempts: 1 } });
    const processRange = makeProcessRange({
      ...deps(),
      sink: () => sink,
      partitionKey: () => "mac",
      rules: () => DEFAULT_RULES,
    });
    eventHubs.injectFaults({ kind: "entity-disabled", count: 100, hub: "failing", afterSends: 1 });
    try {
      // Act
      const result = (await processRange(range, noContext)) as ProcessRangeResult;
      // Assess
      expect(result).toMatchObject({
        kind: "partial",
        completedBlockCount: 1,
        events: SMALL_BLOCK_TUPLES,
        tuples: SMALL_BLOCK_TUPLES,
      });
      expect(eventHubs.eventCount("failing")).toBeGreaterThan(SMALL_BLOCK_TUPLES); // part of the big block got through
      expect(eventHubs.eventCount("failing")).toBeLessThan(SMALL_BLOCK_TUPLES + BIG_BLOCK_TUPLES);
    } finally {
      await sink.close();
    }
  });

  it("reports for the delivered blocks of a failed range the aggregates of those blocks alone", async () => {
    // Prepare: the same failure as above, and the first block delivered as a range of its own.
    const failingSink = createEventHubsSink(settings("partial").eventHubs, { sendRetryOptions: { maxAttempts: 1 } });
    const sink = createEventHubsSink(settings("firstBlock").eventHubs);
    const processRangeTo = (target: typeof sink) =>
      makeProcessRange({ ...deps(), sink: () => target, partitionKey: () => "mac", rules: () => DEFAULT_RULES });
    const firstBlock = {
      ...range,
      countInBytes: range.blockSizesInBytes[0]!,
      blockSizesInBytes: [range.blockSizesInBytes[0]!],
    };
    eventHubs.injectFaults({ kind: "entity-disabled", count: 100, hub: "partial", afterSends: 1 });
    try {
      // Act
      const partial = (await processRangeTo(failingSink)(range, noContext)) as ProcessRangeResult;
      const alone = (await processRangeTo(sink)(firstBlock, noContext)) as ProcessRangeResult;
      // Assess
      expect(partial).toMatchObject({ kind: "partial", completedBlockCount: 1 });
      expect(alone.kind).toBe("processed");
      const aggregatesOf = (result: ProcessRangeResult) => ("aggregates" in result ? result.aggregates : []);
      expect(aggregatesOf(alone).length).toBeGreaterThan(0);
      expect(aggregatesOf(partial)).toEqual(aggregatesOf(alone));
    } finally {
      await Promise.all([failingSink.close(), sink.close()]);
    }
  });
});

describe("processRange with Log Analytics beside Event Hubs", () => {
  let logs: LogsIngestionEndpoint;
  beforeAll(async () => {
    logs = await startLogsIngestionEndpoint();
  });
  afterAll(() => logs.stop());

  /** processRange sending to the "both" hub and the local Logs Ingestion endpoint, neither retrying. */
  async function bothSinks() {
    const eventHubsSink = createEventHubsSink(settings("both").eventHubs, { sendRetryOptions: { maxAttempts: 1 } });
    const logsSink = createLogsIngestionSink(readSinkSettings(await logs.appSettings("both")).logsIngestion!, {
      retryOptions: { maxRetries: 0 },
      sendRetryOptions: { maxAttempts: 1 },
      maxConcurrency: 1,
    });
    const processRange = makeProcessRange({
      ...deps(),
      sink: () => eventHubsSink,
      logsIngestionSink: () => logsSink,
      partitionKey: () => "mac",
      rules: () => DEFAULT_RULES,
    });
    return { processRange, close: () => eventHubsSink.close() };
  }

  it("counts a block delivered only once Log Analytics accepted it too, though the hub took more", async () => {
    // Prepare: Log Analytics takes its first call (the small block and the start of the big one), then refuses.
    const { processRange, close } = await bothSinks();
    logs.injectFault({ statusCode: 413, afterCalls: 1, count: Number.POSITIVE_INFINITY });
    const hubBefore = eventHubs.eventCount("both");
    try {
      // Act
      const result = (await processRange(range, noContext)) as ProcessRangeResult;
      // Assess
      expect(result).toMatchObject({ kind: "partial", completedBlockCount: 1, events: SMALL_BLOCK_TUPLES });
      expect(eventHubs.eventCount("both") - hubBefore).toBeGreaterThan(SMALL_BLOCK_TUPLES);
      expect(logs.rows().length).toBeGreaterThan(SMALL_BLOCK_TUPLES);
      expect(logs.rows().length).toBeLessThan(SMALL_BLOCK_TUPLES + BIG_BLOCK_TUPLES);
    } finally {
      logs.clearFaults();
      await close();
    }
  });

  it("fails the range when Log Analytics refuses its first call, though the hub took events", async () => {
    // Prepare
    const { processRange, close } = await bothSinks();
    logs.injectFault({ statusCode: 413, count: Number.POSITIVE_INFINITY });
    const hubBefore = eventHubs.eventCount("both");
    try {
      // Act
      const failure = await Promise.resolve(processRange(range, noContext)).then(
        () => undefined,
        (error: unknown) => error,
      );
      // Assess
      expect(failure).toBeInstanceOf(ServiceError);
      expect((failure as Error).message).toMatch(/HTTP 413/);
      expect(eventHubs.eventCount("both") - hubBefore).toBeGreaterThan(0);
    } finally {
      logs.clearFaults();
      await close();
    }
  });
});

describe("processRange refusing a range it cannot process", () => {
  it("answers stale, sending nothing, when the blob no longer has the planned range", async () => {
    // Prepare
    const sink = createEventHubsSink(settings("whole").eventHubs);
    const footerOffset = range.offsetInBytes + range.countInBytes;
    try {
      const processRange = makeProcessRange({
        ...deps(),
        sink: () => sink,
        partitionKey: () => "mac",
        rules: () => DEFAULT_RULES,
      });
      // Act
      const result = (await processRange(
        {
          container,
          path,
          offsetInBytes: footerOffset,
          countInBytes: 100,
          firstBlockIndex: 3,
          blockSizesInBytes: [100],
        },
        noContext,
      )) as ProcessRangeResult;

      // Assess
      expect(result).toMatchObject({ kind: "stale", reason: expect.stringMatching(/ends beyond the end of the blob/) });
      expect(sink.totals.eventsSent).toBe(0);
    } finally {
      await sink.close();
    }
  });

  it("refuses block sizes that do not add up to the range", async () => {
    // Prepare
    const processRange = makeProcessRange({
      ...deps(),
      sink: () => createEventHubsSink(settings("whole").eventHubs),
      partitionKey: () => "mac",
      rules: () => DEFAULT_RULES,
    });

    // Act / Assess
    await expect(processRange({ ...range, countInBytes: 4, blockSizesInBytes: [2, 3] }, noContext)).rejects.toThrow(
      /add up to countInBytes 4/,
    );
  });
});
