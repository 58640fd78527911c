/**
 * Child process: ingests whole blobs through the real activities (readBlockList, then processRange
 * range after range as planned by the core's planNextRange, exactly the data path of the ingestBlob
 * orchestration without its durable bookkeeping), `parallelBlobs` blobs at a time, and reports
 * counts, elapsed time, CPU time and this process's peak RSS. It may serve several requests (the
 * repetitions of a figure): its sinks stay open between them, as the app's shared sink does.
 */
import { InvocationContext } from "@azure/functions";
import { makeProcessRange } from "../activities/processRange";
import { makeReadBlockList } from "../activities/readBlockList";
import { createBlobSource } from "../src/adapters/blobSource";
import { createEventHubsSink, type EventHubsSink } from "../src/adapters/eventHubsSink";
import { DEFAULT_RULES } from "../src/core/anomaly/rules";
import { INITIAL_BLOCK_CHECKPOINT, planNextRange, type BlockCheckpoint } from "../src/core/blocks";
import { serveBenchRequests } from "./childProcess";
import { peakRssOfPid } from "./peakRss";
import { ProcessRangeInput, ProcessRangeResult, ReadBlockListResult } from "../src/contracts/ingestionContracts";
import type { MessageFormat } from "../src/config";

export interface IngestRequest {
  storageConnectionString: string;
  eventHubsConnectionString: string;
  eventHubName: string;
  blobs: Array<{ container: string; path: string }>;
  parallelBlobs: number;
  maxRangeSizeInBytes: number;
  eventsPerMessage: number;
  /** FLOWTAP_MESSAGE_FORMAT of the sink: plain JSON or gzip compact records. */
  messageFormat: MessageFormat;
}

export interface IngestReply {
  tuples: number;
  events: number;
  bytes: number;
  ranges: number;
  elapsedInMs: number;
  cpuTimeInMs: number;
  /** Peak resident set size of this process since it started. */
  maxRssInBytes: number;
}

/** One sink per hub and format, kept across requests as the app's shared sink is across activity calls. */
const sinks = new Map<string, EventHubsSink>();

function sinkFor(request: IngestRequest): EventHubsSink {
  const key = JSON.stringify([
    request.eventHubsConnectionString,
    request.eventHubName,
    request.eventsPerMessage,
    request.messageFormat,
  ]);
  let sink = sinks.get(key);
  if (!sink) {
    sink = createEventHubsSink({
      connection: { kind: "connectionString", connectionString: request.eventHubsConnectionString },
      eventHubName: request.eventHubName,
      alertsEventHubName: request.eventHubName,
      partitionKey: "mac",
      eventsPerMessage: request.eventsPerMessage,
      messageFormat: request.messageFormat,
      maxBatchSizeInBytes: undefined,
    });
    sinks.set(key, sink);
  }
  return sink;
}

async function ingest(request: IngestRequest): Promise<IngestReply> {
  const connection = { kind: "connectionString", connectionString: request.storageConnectionString } as const;
  const blobSource = createBlobSource({
    connection,
    accountName: "devstoreaccount1",
    containers: [],
    quarantineContainer: "flowtap-quarantine",
  });
  const sink = sinkFor(request);
  const readBlockList = makeReadBlockList({ blobSource: () => blobSource });
  const processRange = makeProcessRange({
    blobSource: () => blobSource,
    sink: () => sink,
    partitionKey: () => "mac",
    rules: () => DEFAULT_RULES,
  });
  const context = new InvocationContext();
  const totals = { tuples: 0, events: 0, bytes: 0, ranges: 0 };

  const ingestBlob = async (location: { container: string; path: string }): Promise<void> => {
    const list = (await readBlockList(location, context)) as ReadBlockListResult;
    if (!list.found) throw new Error(`blob ${location.container}/${location.path} not found`);
    let checkpoint: BlockCheckpoint = INITIAL_BLOCK_CHECKPOINT;
    for (;;) {
      const plan = planNextRange(list.blocks, checkpoint, { maxRangeSizeInBytes: request.maxRangeSizeInBytes });
      if (plan.kind === "caughtUp") return;
      if (plan.kind === "rewritten") throw new Error(`blob ${location.path} reported rewritten: ${plan.reason}`);
      const input: ProcessRangeInput = {
        ...location,
        offsetInBytes: plan.offsetInBytes,
        countInBytes: plan.countInBytes,
        firstBlockIndex: plan.firstBlockIndex,
        blockSizesInBytes: list.blocks
          .slice(plan.firstBlockIndex, plan.firstBlockIndex + plan.blockCount)
          .map((block) => block.sizeInBytes),
      };
      const result = (await processRange(input, context)) as ProcessRangeResult;
      if (result.kind !== "processed")
        throw new Error(`range of ${location.path} not processed: ${JSON.stringify(result)}`);
      totals.tuples += result.tuples;
      totals.events += result.events;
      totals.bytes += result.bytes;
      totals.ranges += 1;
      checkpoint = plan.next;
    }
  };

  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  const queue = [...request.blobs];
  const worker = async (): Promise<void> => {
    for (let blob = queue.shift(); blob; blob = queue.shift()) await ingestBlob(blob);
  };
  await Promise.all(Array.from({ length: Math.max(1, request.parallelBlobs) }, worker));
  const elapsedInMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuAtStart);
  return { ...totals, elapsedInMs, cpuTimeInMs: (cpu.user + cpu.system) / 1000, maxRssInBytes: peakRssInBytes() };
}

/**
 * This process's peak RSS. Not `resourceUsage().maxRSS`: Linux carries it over fork and exec, so
 * a child would report at least its parent's RSS (the bench's, which holds Azurite's blobs). The
 * memory's own high-water mark (VmHWM) starts afresh at exec; elsewhere, the sampled maximum.
 */
function peakRssInBytes(): number {
  return peakRssOfPid(process.pid) ?? sampledPeakRssInBytes;
}

let sampledPeakRssInBytes = process.memoryUsage.rss();
setInterval(() => {
  sampledPeakRssInBytes = Math.max(sampledPeakRssInBytes, process.memoryUsage.rss());
}, 20).unref();

serveBenchRequests<IngestRequest, IngestReply>(ingest, async () => {
  await Promise.all([...sinks.values()].map((sink) => sink.close()));
});
