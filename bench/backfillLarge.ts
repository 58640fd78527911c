/**
 * backfill-large: a backfill over many small hourly blobs (100,000 by default: 139 flow logs × 720
 * hours) through the whole local system as users run it: Azurite (in the bench process), the local
 * Functions host running the compiled app (its own process), the Event Hubs endpoint (its own
 * process). The backfill is started over HTTP (`POST /api/backfill`) and followed at its status URL.
 * Reports blobs/s, the per-blob cost against the bare processing of the same blobs (readBlockList
 * + processRange called directly, no orchestration), the peak RSS of every process, the largest
 * orchestration history and state, and whether every tuple arrived exactly once (read back).
 */
import { EventHubConsumerClient, earliestEventPosition, type Subscription } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { startAzurite, type AzuriteInstance } from "../devhost/azurite";
import { planManyBlobs, type ManyBlobsLayout } from "../devhost/generate";
import { namespaceConnectionString } from "../devhost/system";
import type { BackfillProgress } from "../src/core/backfillProgress";
import { postBackfill } from "./backfillHttp";
import { forkBenchChild, type BenchChild } from "./childProcess";
import type { EndpointReply, EndpointRequest } from "./endpointProcess";
import { ExactlyOnceTally, type ExactlyOnceVerdict } from "./exactlyOnce";
import type { HostReply, HostRequest } from "./hostProcess";
import type { StoreFigures } from "./hostStoreFigures";
import type { IngestReply, IngestRequest } from "./ingestProcess";
import { peakRssOfPid, peakRssOfTree } from "./peakRss";
import { measured, type BenchFigure } from "./report";
import type { UploadReply, UploadRequest } from "./uploadProcess";

export interface BackfillLargeOptions {
  blobCount: number;
  /** Blobs of the bare run (the first ones of the same corpus): per-blob cost needs no 100,000. */
  bareBlobCount: number;
  maxParallelBlobs: number;
  /** FLOWTAP_BACKFILL_PAGE_BLOBS: blobs per backfill generation (continueAsNew); a multiple of maxParallelBlobs. */
  blobsPerPage: number;
  /** The host's activities at once (FUNCTIONS maxConcurrentActivityFunctions). */
  maxConcurrentActivities: number;
  appModulePath: string;
  /** Give up on the backfill after this long. */
  timeoutInMs: number;
  progress: (line: string) => void;
}

const HUBS = { flows: "flows", alerts: "alerts", bare: "bare" } as const;
const PARTITIONS = 4;
const START_HOUR = "2026-01-01T00:00:00Z";
const BACKFILL_ID = "bench-large";
const SEED = 21;
const MEBIBYTE = 2 ** 20;
/** Per partition: enough for 100,000 blobs of a few events each (the endpoint drops the oldest beyond). */
const RETENTION = { maxEvents: 10_000_000, maxBytes: 4096 * MEBIBYTE };

interface Processes {
  azurite: AzuriteInstance;
  blobService: BlobServiceClient;
  endpoint: BenchChild<EndpointRequest, EndpointReply>;
  connectionStrings: Record<string, string>;
  host: BenchChild<HostRequest, HostReply> | undefined;
}

export async function runBackfillLargeBench(options: BackfillLargeOptions): Promise<BenchFigure[]> {
  const processes = await startProcesses();
  try {
    const layout = planManyBlobs({ blobCount: options.blobCount, seed: SEED, startHourIso: START_HOUR });
    options.progress(`backfill-large: uploading ${layout.blobs.length} blobs (${layout.topology.nics.length} NICs)`);
    const upload = await uploadInChild(processes, options.blobCount);
    options.progress(`backfill-large: uploaded in ${(upload.elapsedInMs / 1000).toFixed(1)} s; bare run`);
    const bare = await runBare(processes, layout, options);
    const run = await runBackfill(processes, layout, options);
    options.progress(`backfill-large: backfill done in ${(run.elapsedInMs / 1000).toFixed(1)} s; reading back`);
    const verdict = await readBack(processes.connectionStrings[HUBS.flows]!, upload.tuples, options.timeoutInMs);
    return largeFigures({ options, layout, upload, bare, run, verdict });
  } finally {
    await processes.host?.stop(30_000);
    await processes.endpoint.stop();
    await processes.azurite.stop();
  }
}

async function startProcesses(): Promise<Processes> {
  const azurite = await startAzurite();
  const endpoint: BenchChild<EndpointRequest, EndpointReply> = forkBenchChild(join(__dirname, "endpointProcess.js"));
  try {
    const hubs = Object.values(HUBS).map((name) => ({ name, partitionCount: PARTITIONS, retention: RETENTION }));
    const reply = await endpoint.request({ kind: "start", hubs, retainEvents: true });
    return {
      azurite,
      blobService: BlobServiceClient.fromConnectionString(azurite.connectionString),
      endpoint,
      connectionStrings: reply.connectionStrings ?? {},
      host: undefined,
    };
  } catch (error) {
    await endpoint.stop();
    await azurite.stop();
    throw error;
  }
}

/** Generates and uploads the corpus from a child process (the layout is the same: deterministic). */
async function uploadInChild(processes: Processes, blobCount: number): Promise<UploadReply> {
  const child: BenchChild<UploadRequest, UploadReply> = forkBenchChild(join(__dirname, "uploadProcess.js"));
  try {
    return await child.request({
      storageConnectionString: processes.azurite.connectionString,
      blobCount,
      seed: SEED,
      startHourIso: START_HOUR,
      concurrency: 32,
    });
  } finally {
    await child.stop();
  }
}

/** The first `bareBlobCount` blobs through the activities alone, as many at a time as the backfill takes. */
async function runBare(
  processes: Processes,
  layout: ManyBlobsLayout,
  options: BackfillLargeOptions,
): Promise<IngestReply> {
  const child: BenchChild<IngestRequest, IngestReply> = forkBenchChild(join(__dirname, "ingestProcess.js"));
  try {
    return await child.request({
      storageConnectionString: processes.azurite.connectionString,
      eventHubsConnectionString: processes.connectionStrings[HUBS.bare]!,
      eventHubName: HUBS.bare,
      // As the host runs the app: its default message format.
      messageFormat: "json",
      blobs: layout.blobs
        .slice(0, options.bareBlobCount)
        .map((blob) => ({ container: blob.container, path: blob.path })),
      parallelBlobs: options.maxParallelBlobs,
      maxRangeSizeInBytes: 4 * MEBIBYTE,
      eventsPerMessage: 1,
    });
  } finally {
    await child.stop();
  }
}

interface BackfillRun {
  elapsedInMs: number;
  progress: BackfillProgress & { failures?: unknown[] };
  runtimeStatus: string;
  store: StoreFigures;
  /** CPU time of the host (since it started), the endpoint and the bench process (Azurite) during the backfill. */
  hostCpuTimeInMs: number;
  endpointCpuTimeInMs: number;
  benchCpuTimeInMs: number;
  /** pid → peak RSS of the host and its descendants, the endpoint and this process. */
  peakRss: { host: number; hostDescendants: number; endpoint: number; bench: number };
}

async function runBackfill(
  processes: Processes,
  layout: ManyBlobsLayout,
  options: BackfillLargeOptions,
): Promise<BackfillRun> {
  const host: BenchChild<HostRequest, HostReply> = forkBenchChild(
    join(__dirname, "hostProcess.js"),
    // A 100,000-blob backfill leaves its finished instances in the host's in-memory store (tens of KB each).
    ["--max-old-space-size=8192"],
  );
  processes.host = host;
  const started = await host.request({
    kind: "start",
    appModulePath: options.appModulePath,
    maxConcurrentActivities: options.maxConcurrentActivities,
    settings: {
      FlowLogsStorage: processes.azurite.connectionString,
      EventHubsConnection: namespaceConnectionString(processes.connectionStrings[HUBS.flows]!),
      FLOWTAP_EVENTHUB_NAME: HUBS.flows,
      FLOWTAP_ALERTS_EVENTHUB_NAME: HUBS.alerts,
      FLOWTAP_ENRICHMENT: "off",
      FLOWTAP_BACKFILL_PAGE_BLOBS: String(options.blobsPerPage),
    },
  });
  const endpointCpuAtStart = await endpointCpuTimeInMs(processes);
  const benchCpuAtStart = process.cpuUsage();
  const start = performance.now();
  const { statusQueryGetUri: statusUrl } = await postBackfill(started.baseUrl!, started.functionKey!, {
    from: layout.fromIso,
    to: layout.toIso,
    backfillId: BACKFILL_ID,
    maxParallelBlobs: options.maxParallelBlobs,
  });
  const status = await followBackfill(statusUrl, start, options);
  const elapsedInMs = performance.now() - start;
  const figures = await host.request({ kind: "figures" });
  const benchCpu = process.cpuUsage(benchCpuAtStart);
  const endpointCpuInMs = (await endpointCpuTimeInMs(processes)) - endpointCpuAtStart;
  const hostTree = peakRssOfTree(host.pid!);
  const hostPeak = hostTree.get(host.pid!) ?? Number.NaN;
  return {
    elapsedInMs,
    progress: status.output ?? status.customStatus,
    runtimeStatus: status.runtimeStatus,
    store: figures.figures!,
    hostCpuTimeInMs: figures.cpuTimeInMs ?? Number.NaN,
    endpointCpuTimeInMs: endpointCpuInMs,
    benchCpuTimeInMs: (benchCpu.user + benchCpu.system) / 1000,
    peakRss: {
      host: hostPeak,
      hostDescendants: [...hostTree.values()].reduce((sum, peak) => sum + peak, 0) - hostPeak,
      endpoint: peakRssOfPid(processes.endpoint.pid!) ?? Number.NaN,
      bench: peakRssOfPid(process.pid) ?? Number.NaN,
    },
  };
}

async function endpointCpuTimeInMs(processes: Processes): Promise<number> {
  return (await processes.endpoint.request({ kind: "cpu" })).cpuTimeInMs ?? Number.NaN;
}

interface DurableStatus {
  runtimeStatus: string;
  customStatus: BackfillProgress;
  output: (BackfillProgress & { failures?: unknown[] }) | null;
}

const TERMINAL = new Set(["Completed", "Failed", "Terminated"]);
const MAX_FAILED_POLLS = 10;

/** fetch's "fetch failed" with its cause (refused connection, timeout). */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/** Polls the status URL (every 2 s, as a user's script would) until the backfill ends. */
async function followBackfill(statusUrl: string, start: number, options: BackfillLargeOptions): Promise<DurableStatus> {
  let lastReport = 0;
  let failedPolls = 0;
  for (;;) {
    let status: DurableStatus;
    try {
      status = (await (await fetch(statusUrl)).json()) as DurableStatus;
      failedPolls = 0;
    } catch (error) {
      // A busy host may miss a poll; ten in a row (20 s) end the run, naming the cause.
      if (++failedPolls >= MAX_FAILED_POLLS) throw new Error(`status polls failed: ${describeFetchError(error)}`);
      await sleep(2000);
      continue;
    }
    if (TERMINAL.has(status.runtimeStatus)) return status;
    const elapsed = performance.now() - start;
    if (elapsed > options.timeoutInMs)
      throw new Error(
        `backfill not done after ${Math.round(elapsed / 1000)} s: ${JSON.stringify(status.customStatus)}`,
      );
    if (elapsed - lastReport > 30_000 && status.customStatus) {
      lastReport = elapsed;
      const { blobsDone, blobsTotal, phase } = status.customStatus;
      options.progress(`backfill-large: ${phase} ${blobsDone}/${blobsTotal} after ${Math.round(elapsed / 1000)} s`);
    }
    await sleep(2000);
  }
}

/** Reads the whole hub back through a real consumer, keeping only ids, until all came and 3 s passed quietly. */
async function readBack(connectionString: string, expected: number, timeoutInMs: number): Promise<ExactlyOnceVerdict> {
  const consumer = new EventHubConsumerClient("$Default", namespaceConnectionString(connectionString), HUBS.flows);
  const tally = new ExactlyOnceTally();
  let subscription: Subscription | undefined;
  let lastArrival = performance.now();
  const started = performance.now();
  try {
    subscription = consumer.subscribe(
      {
        processEvents: async (events) => {
          for (const event of events) tally.add({ properties: event.properties, body: event.body as Uint8Array });
          if (events.length > 0) lastArrival = performance.now();
        },
        processError: async () => undefined,
      },
      {
        startPosition: earliestEventPosition,
        skipParsingBodyAsJson: true,
        maxBatchSize: 2000,
        maxWaitTimeInSeconds: 1,
      },
    );
    while (performance.now() - started < timeoutInMs) {
      await sleep(500);
      if (tally.eventCount >= expected && performance.now() - lastArrival > 3000) break;
      if (performance.now() - lastArrival > 30_000) break;
    }
  } finally {
    await subscription?.close();
    await consumer.close();
  }
  return tally.verdict(expected);
}

interface LargeRun {
  options: BackfillLargeOptions;
  layout: ManyBlobsLayout;
  upload: UploadReply;
  bare: IngestReply;
  run: BackfillRun;
  verdict: ExactlyOnceVerdict;
}

function largeFigures({ options, layout, upload, bare, run, verdict }: LargeRun): BenchFigure[] {
  const blobs = layout.blobs.length;
  const blobsPerSecond = (blobs * 1000) / run.elapsedInMs;
  const bareMsPerBlob = bare.elapsedInMs / options.bareBlobCount;
  const msPerBlob = run.elapsedInMs / blobs;
  const backfillStore = run.store.orchestrations["backfill"];
  const ingestStore = run.store.orchestrations["ingestBlob"];
  const label = `backfill-large, ${blobs.toLocaleString("en-US")} blobs`;
  return [
    measured({
      id: "backfill-large.rate",
      label: `${label}: blobs/s through the local host`,
      value: blobsPerSecond,
      unit: "blobs/s",
      ratio: { value: msPerBlob / bareMsPerBlob, against: "bare processing per blob (ms/ms)" },
      details: {
        blobs,
        flowLogs: layout.topology.nics.length,
        from: layout.fromIso,
        to: layout.toIso,
        tuples: upload.tuples,
        blobBytes: upload.bytes,
        elapsedInMs: run.elapsedInMs,
        msPerBlob,
        bareBlobs: options.bareBlobCount,
        bareMsPerBlob,
        overheadMsPerBlob: msPerBlob - bareMsPerBlob,
        hostCpuMsPerBlob: run.hostCpuTimeInMs / blobs,
        endpointCpuMsPerBlob: run.endpointCpuTimeInMs / blobs,
        azuriteAndBenchCpuMsPerBlob: run.benchCpuTimeInMs / blobs,
        bareCpuMsPerBlob: bare.cpuTimeInMs / options.bareBlobCount,
        maxParallelBlobs: options.maxParallelBlobs,
        blobsPerPage: options.blobsPerPage,
        uploadBlobsPerSecond: (upload.blobs * 1000) / upload.elapsedInMs,
        uploadElapsedInMs: upload.elapsedInMs,
        uploadCpuMsPerBlob: upload.cpuTimeInMs / upload.blobs,
        // Per-blob costs do not grow with the count (Azurite's lookups are indexed): a linear projection.
        projected100kUploadMinutes: (upload.elapsedInMs / upload.blobs) * (100_000 / 60_000),
        projected100kBackfillMinutes: msPerBlob * (100_000 / 60_000),
        runtimeStatus: run.runtimeStatus,
        blobsFailed: run.progress.blobsFailed,
      },
      note:
        `${layout.topology.nics.length} flow logs (NSG v2 and VNet v4) × up to 720 hours, ` +
        `${Math.round(upload.bytes / upload.blobs)} bytes and ${(upload.tuples / upload.blobs).toFixed(1)} tuples ` +
        `per blob; POST /api/backfill, maxParallelBlobs ${options.maxParallelBlobs}; the ratio is the backfill's ` +
        `ms per blob over the bare activities' (readBlockList + processRange, first ${options.bareBlobCount} blobs)`,
    }),
    measured({
      id: "backfill-large.exactlyOnce",
      label: `${label}: every tuple arrived exactly once`,
      value: verdict.missing + verdict.duplicates + verdict.unreadable,
      unit: "events lost or repeated",
      target: { comparator: "<", threshold: 1, of: "value" },
      details: {
        ...verdict,
        exactlyOnce: String(verdict.exactlyOnce),
        eventsSent: run.progress.eventsSent,
        bytesPerEvent: verdict.bodyBytes / verdict.events,
      },
      note: "read back through an EventHubConsumerClient: count and distinct event ids against the tuples written",
    }),
    measured({
      id: "backfill-large.history",
      label: `${label}: largest backfill orchestration history`,
      value: backfillStore?.historyEvents ?? Number.NaN,
      unit: "events",
      target: { comparator: "<", threshold: 1000, of: "value" },
      details: {
        historyBytes: backfillStore?.historyBytes ?? Number.NaN,
        continueAsNewInputBytes: backfillStore?.inputBytes ?? Number.NaN,
        customStatusBytes: backfillStore?.customStatusBytes ?? Number.NaN,
        ingestBlobHistoryEvents: ingestStore?.historyEvents ?? Number.NaN,
        ingestBlobHistoryBytes: ingestStore?.historyBytes ?? Number.NaN,
        ...Object.fromEntries(
          Object.entries(run.store.entityStateBytes).map(([name, bytes]) => [`entityStateBytes.${name}`, bytes]),
        ),
        instancesInStore: run.store.instancesSaved,
        entitiesInStore: run.store.entitiesSaved,
      },
      note: `one generation per ${options.blobsPerPage}-blob page (continueAsNew): the bound does not grow with blobs`,
    }),
    measured({
      id: "backfill-large.peakRss",
      label: `${label}: peak RSS of the host process`,
      value: run.peakRss.host / MEBIBYTE,
      unit: "MB",
      details: {
        hostMb: run.peakRss.host / MEBIBYTE,
        hostWorkersMb: run.peakRss.hostDescendants / MEBIBYTE,
        endpointMb: run.peakRss.endpoint / MEBIBYTE,
        azuriteAndBenchMb: run.peakRss.bench / MEBIBYTE,
        bareIngestionMb: bare.maxRssInBytes / MEBIBYTE,
      },
      note: "VmHWM from /proc; the endpoint keeps every event for the read-back, Azurite every blob",
    }),
  ];
}
