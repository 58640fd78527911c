/**
 * Backfill scaling with the local host's worker processes: the real backfill orchestration (POST /api/backfill,
 * ingestBlob children, checkpoint entities) over the same blobs, with 2 worker processes against 1, in alternating
 * repetitions (bench/repeat.ts). The host runs in a child process of its own (workerHostProcess.ts), its workers
 * are its children; Azurite stays in the bench process and the Event Hubs endpoint in its child, as in the other
 * sections.
 * Besides the ratio it reports what the host process costs per blob against what its workers cost.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { BENCH_HOUR_ISO } from "./corpus";
import { forkBenchChild, type BenchChild } from "./childProcess";
import type { BackfillRequestBody } from "./backfillHttp";
import type { HostBackfillReply, HostBackfillRequest } from "./workerHostProcess";
import { INGEST_HUB, stageBlobs, type BenchEnvironment } from "./ingestion";
import { measureRatio, median } from "./repeat";
import { measured, type BenchFigure } from "./report";
import { namespaceConnectionString } from "../devhost/system";

const MEBIBYTE = 2 ** 20;

/** One run, with the CPU time of the processes around the host: Azurite (the bench process) and the endpoint. */
interface MeasuredRun extends HostBackfillReply {
  azuriteCpuTimeInMs: number;
  endpointCpuTimeInMs: number;
}
const HOUR_IN_MS = 3_600_000;
/** Enough blobs that round robin gives every worker ranges to compile the hot code on. */
const WARM_UP_BLOBS = 4;
const WARM_UP_HOUR_ISO = new Date(Date.parse(BENCH_HOUR_ISO) + HOUR_IN_MS).toISOString();
/**
 * The timed blobs' own hour: the bench hour also holds the other sections' blobs (the memory figure's 1 GB one, whose
 * ranges can only run one after the other), which would measure one blob's sequence rather than the workers.
 */
const TIMED_HOUR_ISO = new Date(Date.parse(BENCH_HOUR_ISO) + 2 * HOUR_IN_MS).toISOString();

export interface HostBackfillBenchOptions {
  blobCount: number;
  blobSizeInBytes: number;
  eventsPerMessage: number;
  repetitions: number;
  /** The built app (dist/src/app.js). */
  appModulePath: string;
}

export async function runHostBackfillBench(
  environment: BenchEnvironment,
  options: HostBackfillBenchOptions,
): Promise<BenchFigure[]> {
  await stageBlobs(environment, options.blobCount, options.blobSizeInBytes, 19, { hourIso: TIMED_HOUR_ISO });
  // The warm-up's own hour, so the timed backfill's blobs are all new to each fresh host.
  await stageBlobs(environment, WARM_UP_BLOBS, options.blobSizeInBytes, 29, { hourIso: WARM_UP_HOUR_ISO });
  const child: BenchChild<HostBackfillRequest, HostBackfillReply> = forkBenchChild(
    join(__dirname, "workerHostProcess.js"),
  );
  const runs = new Map<number, MeasuredRun[]>([
    [1, []],
    [2, []],
  ]);
  try {
    const measure = async (workerProcessCount: number, repetition: number): Promise<number> => {
      await child.request(warmUpRequest(environment, options, workerProcessCount, repetition));
      const benchCpuAtStart = process.cpuUsage();
      const endpointCpuAtStart = await environment.endpointCpuTimeInMs();
      const reply = await child.request({
        kind: "backfill",
        backfill: hourBackfill(TIMED_HOUR_ISO, options.blobCount, `workers${workerProcessCount}-${repetition}`),
      });
      const benchCpu = process.cpuUsage(benchCpuAtStart);
      const endpointCpuTimeInMs = (await environment.endpointCpuTimeInMs()) - endpointCpuAtStart;
      if (reply.summary.blobsDone !== reply.summary.blobsTotal || reply.summary.blobsFailed !== 0)
        throw new Error(`backfill with ${workerProcessCount} workers: ${JSON.stringify(reply.summary)}`);
      runs.get(workerProcessCount)!.push({
        ...reply,
        azuriteCpuTimeInMs: (benchCpu.user + benchCpu.system) / 1000,
        endpointCpuTimeInMs,
      });
      return (reply.summary.eventsSent * 1000) / reply.elapsedInMs;
    };
    const result = await measureRatio({
      ours: (repetition) => measure(2, repetition),
      baseline: (repetition) => measure(1, repetition),
      repetitions: options.repetitions,
    });
    const blobCount = runs.get(1)![0]!.summary.blobsTotal;
    const bound = coreBound(runs.get(1)!);
    return [
      measured({
        id: "backfill.workers2",
        label: `backfill ${blobCount} blobs through the local host, 2 worker processes vs 1`,
        value: result.ours.median,
        unit: "tuples/s",
        ratio: { value: result.ratio.median, against: "1 worker process" },
        target: { comparator: ">=", threshold: 1.7, of: "ratio" },
        details: {
          ratioMin: result.ratio.min,
          ratioMax: result.ratio.max,
          repetitions: result.ratio.count,
          blobs: blobCount,
          blobBytes: runs.get(1)![0]!.summary.bytesRead,
          oneWorkerTuplesPerSecond: result.baseline.median,
          ...costs("oneWorker", runs.get(1)!, blobCount),
          ...costs("twoWorkers", runs.get(2)!, blobCount),
          boundOnThisMachine: bound.ratio,
          oneWorkerCoresBusy: bound.coresBusy,
        },
        note:
          `median of ${result.ratio.count} alternating repetitions (min ${result.ratio.min.toFixed(2)}, ` +
          `max ${result.ratio.max.toFixed(2)}); ${options.blobCount} blobs of ` +
          `${Math.round(options.blobSizeInBytes / MEBIBYTE)} MB in an hour of their own, all at once, ` +
          `${options.eventsPerMessage} events/message, a fresh host and store per run, timed after a warm-up ` +
          `backfill of ${WARM_UP_BLOBS} other blobs on it; CPU ms per blob of the ` +
          `host process and of its workers in results.json; bound on this machine ${bound.ratio.toFixed(2)}x: ` +
          `with 1 worker the processes already keep ${bound.coresBusy.toFixed(2)} of ${availableParallelism()} ` +
          `cores busy (the worker's own V8 GC and libuv threads included), and 2 workers do the same work`,
      }),
    ];
  } finally {
    await child.stop();
  }
}

/** Starts a host with `workerProcessCount` workers in the child and backfills the warm-up hour on it. */
function warmUpRequest(
  environment: BenchEnvironment,
  options: HostBackfillBenchOptions,
  workerProcessCount: number,
  repetition: number,
): HostBackfillRequest {
  return {
    kind: "warmUp",
    appModulePath: options.appModulePath,
    workerProcessCount,
    settings: {
      FlowLogsStorage: environment.azurite.connectionString,
      EventHubsConnection: namespaceConnectionString(environment.eventHubs[INGEST_HUB]!),
      FLOWTAP_EVENTHUB_NAME: INGEST_HUB,
      FLOWTAP_ALERTS_EVENTHUB_NAME: INGEST_HUB,
      FLOWTAP_ENRICHMENT: "off",
      FLOWTAP_EVENTS_PER_MESSAGE: String(options.eventsPerMessage),
    },
    backfill: hourBackfill(WARM_UP_HOUR_ISO, WARM_UP_BLOBS, `warm-up-${workerProcessCount}-${repetition}`),
  };
}

/** The body of POST /api/backfill for one hour, all its blobs at once. */
function hourBackfill(hourIso: string, maxParallelBlobs: number, backfillId: string): BackfillRequestBody {
  return {
    from: hourIso,
    to: new Date(Date.parse(hourIso) + HOUR_IN_MS).toISOString(),
    maxParallelBlobs,
    backfillId,
  };
}

/**
 * Median CPU ms per blob of each process (the host, all its workers, Azurite in the bench process, the Event Hubs
 * endpoint), and the median wall time, over `runs`: on 2 cores the others compete with the workers.
 */
function costs(prefix: string, runs: readonly MeasuredRun[], blobCount: number): Record<string, number> {
  const perBlob = (cpu: (run: MeasuredRun) => number): number => median(runs.map((run) => cpu(run) / blobCount));
  return {
    [`${prefix}HostCpuMsPerBlob`]: perBlob((run) => run.hostCpuTimeInMs),
    [`${prefix}WorkersCpuMsPerBlob`]: perBlob((run) => run.workerCpuTimeInMs),
    [`${prefix}AzuriteCpuMsPerBlob`]: perBlob((run) => run.azuriteCpuTimeInMs),
    [`${prefix}EndpointCpuMsPerBlob`]: perBlob((run) => run.endpointCpuTimeInMs),
    [`${prefix}ElapsedInMs`]: median(runs.map((run) => run.elapsedInMs)),
  };
}

/**
 * The most 2 workers can gain over 1 here: the 1-worker runs' CPU (every process, every thread) spread over all cores
 * with no idle time, against their median wall time; and how many cores those runs kept busy.
 */
function coreBound(oneWorkerRuns: readonly MeasuredRun[]): { ratio: number; coresBusy: number } {
  const cpuOf = (run: MeasuredRun): number =>
    run.hostCpuTimeInMs + run.workerCpuTimeInMs + run.azuriteCpuTimeInMs + run.endpointCpuTimeInMs;
  const coresBusy = median(oneWorkerRuns.map((run) => cpuOf(run) / run.elapsedInMs));
  return { ratio: availableParallelism() / coresBusy, coresBusy };
}
