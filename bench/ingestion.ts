/**
 * Ingestion figures: Azurite (in the bench process) → the ingestion activities (in a child process)
 * → the local Event Hubs endpoint (in another child process, events not retained).
 * - pipeline: one blob, tuples/s, against the endpoint's ceiling and the one-send-per-tuple pattern;
 * - memory: peak RSS of the ingestion process over one big blob (default 1 GB);
 * - backfill scaling: the same corpus with 1, 2 and 4 blobs in parallel.
 */
import type { ContainerClient } from "@azure/storage-blob";
import { BlobServiceClient } from "@azure/storage-blob";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { MessageFormat } from "../src/config";
import { startAzurite, type AzuriteInstance } from "../devhost/azurite";
import { forkBenchChild, type BenchChild } from "./childProcess";
import { planGeneratedBlobs, stageGeneratedBlob, type PlanGeneratedBlobsOptions, type StagedBlob } from "./corpus";
import type { EndpointReply, EndpointRequest } from "./endpointProcess";
import { ceilingFigure, formatName, spreadDetails } from "./eventHubs";
import type { IngestReply, IngestRequest } from "./ingestProcess";
import { measureRatio, measureRatios, median, spreadOf, type RatioMeasurement, type Spread } from "./repeat";
import { measured, ratioOf, type BenchFigure } from "./report";
import { BENCH_PARTITION_COUNT, EVENT_HUBS_BENCH_HUBS, startSenderChild, type SenderChild } from "./senderChild";

export const INGEST_HUB = "flows";
const MEBIBYTE = 2 ** 20;
/** The activity's default range (FLOWTAP_MAX_RANGE_BYTES). */
const MAX_RANGE_SIZE_IN_BYTES = 4 * MEBIBYTE;
/**
 * Records of the memory blob: up to 10,000 tuples (≈ 650 KB blocks, a busy NIC's minute), so 1 GB
 * is ≈ 1,600 blocks. With the generator's 600 it would be ≈ 26,000 blocks, and Azurite's in-memory
 * block index makes staging quadratic in the block count (over ten minutes for 1 GB).
 */
const MEMORY_MAX_TUPLES_PER_RECORD = 10_000;

/** Azurite in this process, the Event Hubs endpoint in a child: started once, shared by the sections. */
export interface BenchEnvironment {
  azurite: AzuriteInstance;
  blobService: BlobServiceClient;
  /** Hub name → connection string. */
  eventHubs: Readonly<Record<string, string>>;
  /** CPU time the endpoint process has used so far. */
  endpointCpuTimeInMs(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  const azurite = await startAzurite();
  const endpoint: BenchChild<EndpointRequest, EndpointReply> = forkBenchChild(join(__dirname, "endpointProcess.js"));
  try {
    const hubs = [INGEST_HUB, ...Object.values(EVENT_HUBS_BENCH_HUBS)].map((name) => ({
      name,
      partitionCount: BENCH_PARTITION_COUNT,
    }));
    const reply = await endpoint.request({ kind: "start", hubs, retainEvents: false });
    return {
      azurite,
      blobService: BlobServiceClient.fromConnectionString(azurite.connectionString),
      eventHubs: reply.connectionStrings ?? {},
      endpointCpuTimeInMs: async () => (await endpoint.request({ kind: "cpu" })).cpuTimeInMs ?? Number.NaN,
      async stop() {
        await endpoint.stop();
        await azurite.stop();
      },
    };
  } catch (error) {
    await endpoint.stop();
    await azurite.stop();
    throw error;
  }
}

/** Stages `count` generated blobs of about `blobSizeInBytes` each, one after the other. */
export async function stageBlobs(
  environment: BenchEnvironment,
  count: number,
  blobSizeInBytes: number,
  seed: number,
  plan: Pick<PlanGeneratedBlobsOptions, "maxTuplesPerRecord" | "hourIso"> = {},
): Promise<StagedBlob[]> {
  const plans = planGeneratedBlobs({ blobCount: count, blobSizeInBytes, seed, ...plan });
  const containers = new Map<string, ContainerClient>();
  const staged: StagedBlob[] = [];
  for (const plan of plans) {
    let container = containers.get(plan.blob.container);
    if (!container) {
      container = environment.blobService.getContainerClient(plan.blob.container);
      await container.createIfNotExists();
      containers.set(plan.blob.container, container);
    }
    staged.push(await stageGeneratedBlob(container, plan));
  }
  return staged;
}

/** The flows sink's message settings: what FLOWTAP_MESSAGE_FORMAT and FLOWTAP_EVENTS_PER_MESSAGE set. */
export interface MessageSettings {
  messageFormat: MessageFormat;
  eventsPerMessage: number;
}

export interface IngestRunOptions {
  parallelBlobs: number;
  eventsPerMessage: number;
  /** Default json (the memory and backfill figures). */
  messageFormat?: MessageFormat;
  /** Extra Node flags for the child (e.g. `--cpu-prof`). */
  execArgv?: readonly string[];
}

/** An ingestion child kept across runs (warm code, open links), or forked for one run. */
export interface IngestChild {
  run(blobs: readonly StagedBlob[], options: IngestRunOptions): Promise<IngestReply & { endpointCpuTimeInMs: number }>;
  stop(): Promise<void>;
}

export function startIngestChild(environment: BenchEnvironment, execArgv?: readonly string[]): IngestChild {
  const child: BenchChild<IngestRequest, IngestReply> = forkBenchChild(join(__dirname, "ingestProcess.js"), execArgv);
  return {
    async run(blobs, options) {
      const endpointCpuBefore = await environment.endpointCpuTimeInMs();
      const reply = await child.request({
        storageConnectionString: environment.azurite.connectionString,
        eventHubsConnectionString: environment.eventHubs[INGEST_HUB]!,
        eventHubName: INGEST_HUB,
        blobs: blobs.map((blob) => ({ container: blob.container, path: blob.path })),
        parallelBlobs: options.parallelBlobs,
        maxRangeSizeInBytes: MAX_RANGE_SIZE_IN_BYTES,
        eventsPerMessage: options.eventsPerMessage,
        messageFormat: options.messageFormat ?? "json",
      });
      return { ...reply, endpointCpuTimeInMs: (await environment.endpointCpuTimeInMs()) - endpointCpuBefore };
    },
    stop: () => child.stop(),
  };
}

/** The ingestion measured in a fresh child process (so its peak RSS is this run's alone). */
export async function ingestInChild(
  environment: BenchEnvironment,
  blobs: readonly StagedBlob[],
  options: IngestRunOptions,
): Promise<IngestReply & { endpointCpuTimeInMs: number }> {
  const child = startIngestChild(environment, options.execArgv);
  try {
    return await child.run(blobs, options);
  } finally {
    await child.stop();
  }
}

const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

function runDetails(
  blobs: readonly StagedBlob[],
  run: IngestReply & { endpointCpuTimeInMs: number },
): Record<string, number> {
  return {
    blobs: blobs.length,
    blobBytes: blobs.reduce((sum, blob) => sum + blob.sizeInBytes, 0),
    tuples: run.tuples,
    events: run.events,
    ranges: run.ranges,
    elapsedInMs: run.elapsedInMs,
    // CPU of each process per tuple (robust to a loaded machine) and busy share over the run: which side limits.
    ingestionCpuMicrosecondsPerTuple: (run.cpuTimeInMs * 1000) / run.tuples,
    endpointCpuMicrosecondsPerTuple: (run.endpointCpuTimeInMs * 1000) / run.tuples,
    ingestionCpuShare: run.cpuTimeInMs / run.elapsedInMs,
    endpointCpuShare: run.endpointCpuTimeInMs / run.elapsedInMs,
    maxRssInBytes: run.maxRssInBytes,
  };
}

export interface PipelineBenchOptions {
  blobSizeInBytes: number;
  /** Plain JSON formats to run (events per message), each against its own ceiling. */
  eventsPerMessage: readonly number[];
  /** The sink settings of new deployments (the template's): its per-tuple ratio carries the target. */
  defaultConfiguration: MessageSettings;
  perTupleSampleSize: number;
  repetitions: number;
  cpuProfileDir?: string;
}

/**
 * The sink settings the pipeline runs with: each plain JSON format, then the default configuration when it is not
 * one of them (e.g. compact records, which the ceiling sender does not build).
 */
export function pipelineConfigurations(
  options: Pick<PipelineBenchOptions, "eventsPerMessage" | "defaultConfiguration">,
): MessageSettings[] {
  const plain = options.eventsPerMessage.map((eventsPerMessage) => ({
    messageFormat: "json" as const,
    eventsPerMessage,
  }));
  const isDefault = (settings: MessageSettings): boolean => sameSettings(settings, options.defaultConfiguration);
  return plain.some(isDefault) ? plain : [...plain, { ...options.defaultConfiguration }];
}

const sameSettings = (a: MessageSettings, b: MessageSettings): boolean =>
  a.messageFormat === b.messageFormat && a.eventsPerMessage === b.eventsPerMessage;

type PipelineRun = IngestReply & { endpointCpuTimeInMs: number };

/** What the figures of one configuration compare: its pipeline runs against the sender child's runs. */
interface PipelineSides {
  blobs: readonly StagedBlob[];
  sender: SenderChild;
  /** One pipeline run (recorded in `runs`), in tuples/s. */
  pipeline: () => Promise<number>;
  runs: readonly PipelineRun[];
  /** The fastest concurrency of the plain JSON ceiling at the configuration's events per message. */
  calibration: CeilingCalibration;
}

type CeilingCalibration = Awaited<ReturnType<SenderChild["bestCeilingConcurrency"]>>;

/**
 * The pipeline against the ceiling and against one send per tuple, on the same blob's events: the
 * pipeline, the ceiling and the per-tuple sample measured in turn, `repetitions` times, each side
 * in its own warm child process.
 */
export async function runPipelineBench(
  environment: BenchEnvironment,
  options: PipelineBenchOptions,
): Promise<BenchFigure[]> {
  const blobs = await stageBlobs(environment, 1, options.blobSizeInBytes, 11);
  const warmUp = await stageBlobs(environment, 1, MEBIBYTE, 23);
  const execArgv = options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : [];
  const ingestion = startIngestChild(environment, execArgv);
  let sender: SenderChild | undefined;
  try {
    const started = await startSenderChild(
      environment.azurite.connectionString,
      environment.eventHubs,
      blobs,
      execArgv,
    );
    sender = started;
    // One calibration per events per message: the default configuration is compared with the same JSON ceiling.
    const calibrations = new Map<number, CeilingCalibration>();
    const calibrate = async (eventsPerMessage: number): Promise<CeilingCalibration> => {
      let calibration = calibrations.get(eventsPerMessage);
      if (!calibration)
        calibrations.set(eventsPerMessage, (calibration = await started.bestCeilingConcurrency(eventsPerMessage)));
      return calibration;
    };
    const figures: BenchFigure[] = [];
    for (const configuration of pipelineConfigurations(options)) {
      await ingestion.run(warmUp, { parallelBlobs: 1, ...configuration });
      const runs: PipelineRun[] = [];
      const pipeline = async (): Promise<number> => {
        const run = await ingestion.run(blobs, { parallelBlobs: 1, ...configuration });
        runs.push(run);
        return perSecond(run.tuples, run.elapsedInMs);
      };
      const sides = {
        blobs,
        sender: started,
        pipeline,
        runs,
        calibration: await calibrate(configuration.eventsPerMessage),
      };
      const figuresOf = configuration.messageFormat === "json" ? pipelineFigures : defaultConfigurationFigures;
      figures.push(...(await figuresOf(sides, configuration, options)));
    }
    return figures;
  } finally {
    await sender?.stop();
    await ingestion.stop();
  }
}

/** `1 event/message`, `100 events/message`, `compact gzip, 100 events/message`. */
const configurationName = (settings: MessageSettings): string =>
  settings.messageFormat === "json"
    ? formatName(settings.eventsPerMessage)
    : `${settings.messageFormat} gzip, ${formatName(settings.eventsPerMessage)}`;

/** The figure id part: `1`, `100` for plain JSON (as before compact existed), `compact100`. */
const configurationId = (settings: MessageSettings): string =>
  `${settings.messageFormat === "json" ? "" : settings.messageFormat}${settings.eventsPerMessage}`;

const pipelineLabel = (settings: MessageSettings): string =>
  `pipeline Azurite→activity→Event Hubs, ${configurationName(settings)}`;

/** A plain JSON format against its ceiling (≥ 0.9), the ceiling at 1 in flight, and one send per tuple. */
async function pipelineFigures(
  sides: PipelineSides,
  settings: MessageSettings,
  options: PipelineBenchOptions,
): Promise<BenchFigure[]> {
  const { blobs, sender, calibration } = sides;
  const { eventsPerMessage } = settings;
  const { concurrency } = calibration;
  const format = configurationName(settings);
  sender.takeCeilingCpuMicrosecondsPerTuple();
  const measurement = await measureRatios({
    ours: sides.pipeline,
    baselines: {
      ceiling: () => sender.ceilingRate(eventsPerMessage, concurrency),
      // The sink keeps each key's batches in order, one on the wire at a time: the ceiling at 1 in flight.
      ordered: () => (concurrency === 1 ? Promise.resolve(Number.NaN) : sender.ceilingRate(eventsPerMessage, 1)),
      perTuple: () => sender.perTupleRate(options.perTupleSampleSize),
    },
    repetitions: options.repetitions,
  });
  const ordered = concurrency === 1 ? measurement.ceiling : measurement.ordered;
  const label = pipelineLabel(settings);
  const first = eventsPerMessage === options.eventsPerMessage[0];
  const details = pipelineDetails(sides, measurement.ceiling.ours, sender.takeCeilingCpuMicrosecondsPerTuple());
  return [
    measured({
      id: `pipeline.${eventsPerMessage}.ceiling`,
      label,
      value: measurement.ceiling.ours.median,
      unit: "tuples/s",
      ratio: ratioOf(measurement.ceiling.ratio, `ceiling, ${format}`),
      target: { comparator: ">=", threshold: 0.9, of: "ratio" },
      details,
      note:
        (first
          ? `one ${Math.round(blobs[0]!.sizeInBytes / MEBIBYTE)} MB blob, 4 MB ranges one after the other (as ` +
            `ingestBlob runs them); ingestion, senders and endpoint each in their own process; `
          : "") +
        `bound on this machine ${details.cpuBoundRatio!.toFixed(2)}x: CPU per tuple of the ceiling's sender ` +
        `(${details.medianCeilingCpuMicrosecondsPerTuple!.toFixed(1)} µs) over the ingestion's ` +
        `(${details.medianIngestionCpuMicrosecondsPerTuple!.toFixed(1)} µs), each CPU-bound on its core`,
    }),
    ceilingFigure(`pipeline.${eventsPerMessage}.ceilingRate`, format, measurement.ceiling.baseline, {
      events: sender.events,
      concurrency,
      calibration: calibration.rates,
    }),
    measured({
      id: `pipeline.${eventsPerMessage}.ordered`,
      label: `${label} vs ceiling at 1 batch in flight`,
      value: ordered.ours.median,
      unit: "tuples/s",
      ratio: ratioOf(ordered.ratio, "ceiling, 1 in flight"),
      details: { orderedCeilingTuplesPerSecond: ordered.baseline.median },
      note: first
        ? "the sink keeps each partition key's events in order with one batch on the wire: what ordering costs is " +
          "the gap between this ratio and the one against the fastest concurrency"
        : undefined,
    }),
    perTupleFigure(settings, measurement.perTuple, options, first, details.medianIngestionCpuMicrosecondsPerTuple!),
  ];
}

/**
 * The default configuration when no plain format is it (compact records): against one send per tuple (its target)
 * and, as info, against the plain JSON ceiling at its events per message (the ceiling sender builds no compact
 * messages: the gap includes gzip's CPU, and compact sends fewer bytes).
 */
async function defaultConfigurationFigures(
  sides: PipelineSides,
  settings: MessageSettings,
  options: PipelineBenchOptions,
): Promise<BenchFigure[]> {
  const { sender } = sides;
  const { concurrency } = sides.calibration;
  sender.takeCeilingCpuMicrosecondsPerTuple();
  const measurement = await measureRatios({
    ours: sides.pipeline,
    baselines: {
      ceiling: () => sender.ceilingRate(settings.eventsPerMessage, concurrency),
      perTuple: () => sender.perTupleRate(options.perTupleSampleSize),
    },
    repetitions: options.repetitions,
  });
  const jsonFormat = formatName(settings.eventsPerMessage);
  return [
    perTupleFigure(settings, measurement.perTuple, options, false, ingestionCpuMicrosecondsPerTuple(sides)),
    measured({
      id: `pipeline.${configurationId(settings)}.ceiling`,
      label: `${pipelineLabel(settings)} vs the plain JSON ceiling`,
      value: measurement.ceiling.ours.median,
      unit: "tuples/s",
      ratio: ratioOf(measurement.ceiling.ratio, `ceiling, JSON ${jsonFormat}`),
      details: {
        ...pipelineDetails(sides, measurement.ceiling.ours, sender.takeCeilingCpuMicrosecondsPerTuple()),
        jsonCeilingTuplesPerSecond: measurement.ceiling.baseline.median,
        concurrency,
      },
      note:
        `the ceiling sender builds plain JSON messages only (${jsonFormat}, the JSON figures' ceiling): ` +
        `compact's gzip costs CPU that ceiling does not spend`,
    }),
  ];
}

/**
 * The pipeline against one send per tuple. `ingestionCpuMicrosecondsPerTuple` gives its bound here: the rate if that
 * CPU were spread over every core of the machine with nothing else running, over the per-tuple rate.
 */
function perTupleFigure(
  settings: MessageSettings,
  perTuple: RatioMeasurement,
  options: PipelineBenchOptions,
  first: boolean,
  ingestionCpuMicrosecondsPerTuple: number,
): BenchFigure {
  const isDefault = sameSettings(settings, options.defaultConfiguration);
  const allCoresTuplesPerSecond = (availableParallelism() * 1e6) / ingestionCpuMicrosecondsPerTuple;
  const boundOnThisMachine = allCoresTuplesPerSecond / perTuple.baseline.median;
  return measured({
    id: `pipeline.${configurationId(settings)}.perTuple`,
    label: `${pipelineLabel(settings)} vs one send per tuple${isDefault ? " (default configuration)" : ""}`,
    value: perTuple.ours.median,
    unit: "tuples/s",
    ratio: ratioOf(perTuple.ratio, "one send per tuple"),
    ...(isDefault && { target: { comparator: ">=", threshold: 100, of: "ratio" } as const }),
    details: {
      perTupleSampleTuples: options.perTupleSampleSize,
      perTupleMedian: perTuple.baseline.median,
      allCoresTuplesPerSecond,
      boundOnThisMachine,
    },
    note: isDefault
      ? `bound on this machine ${boundOnThisMachine.toFixed(0)}x: ${ingestionCpuMicrosecondsPerTuple.toFixed(2)} ` +
        `µs of ingestion CPU per tuple spread over all ${availableParallelism()} cores, over one send per tuple`
      : first
        ? `the per-tuple rate: ${options.perTupleSampleSize} tuples, taken as constant`
        : undefined,
  });
}

/** The median run's counts and CPU, the pipeline's spread, and the CPU per tuple of each side. */
function pipelineDetails(
  sides: PipelineSides,
  pipelineRates: Spread,
  ceilingCpuMicrosecondsPerTuple: readonly number[],
): Record<string, number> {
  const ingestionCpu = ingestionCpuMicrosecondsPerTuple(sides);
  const ceilingCpu = median(ceilingCpuMicrosecondsPerTuple);
  return {
    ...runDetails(sides.blobs, medianRun(sides.runs)),
    ...spreadDetails(pipelineRates),
    // Load-independent: CPU per tuple of the ingestion against the ceiling sender (its runs at both concurrencies).
    medianIngestionCpuMicrosecondsPerTuple: ingestionCpu,
    medianCeilingCpuMicrosecondsPerTuple: ceilingCpu,
    // Where both sides are CPU-bound, the most pipeline / ceiling can be while the ingestion does its work on the core
    // it sends from.
    cpuBoundRatio: ceilingCpu / ingestionCpu,
  };
}

/** The ingestion child's CPU (all its threads) per tuple, median over the pipeline runs so far. */
function ingestionCpuMicrosecondsPerTuple(sides: PipelineSides): number {
  return median(sides.runs.map((run) => (run.cpuTimeInMs * 1000) / run.tuples));
}

/** The run of median elapsed time (its CPU and RSS details are those of a typical run). */
function medianRun<Run extends { elapsedInMs: number }>(runs: readonly Run[]): Run {
  return [...runs].sort((a, b) => a.elapsedInMs - b.elapsedInMs)[Math.floor(runs.length / 2)]!;
}

export interface MemoryBenchOptions {
  blobSizeInBytes: number;
  eventsPerMessage: number;
}

export async function runMemoryBench(
  environment: BenchEnvironment,
  options: MemoryBenchOptions,
): Promise<BenchFigure[]> {
  const stagingStart = performance.now();
  const blobs = await stageBlobs(environment, 1, options.blobSizeInBytes, 13, {
    maxTuplesPerRecord: MEMORY_MAX_TUPLES_PER_RECORD,
  });
  const stagingInMs = performance.now() - stagingStart;
  const run = await ingestInChild(environment, blobs, { parallelBlobs: 1, eventsPerMessage: options.eventsPerMessage });
  return [
    measured({
      id: "memory.peakRss",
      label: `memory: peak RSS ingesting one ${Math.round(blobs[0]!.sizeInBytes / MEBIBYTE)} MB PT1H.json`,
      value: run.maxRssInBytes / MEBIBYTE,
      unit: "MB",
      target: { comparator: "<", threshold: 300, of: "value" },
      details: {
        ...runDetails(blobs, run),
        tuplesPerSecond: perSecond(run.tuples, run.elapsedInMs),
        blocks: blobs[0]!.blockCount,
        stagingInMs,
      },
      note:
        `maxRSS of the ingestion child process (Azurite holds the blob in the bench process); blocks staged one ` +
        `per record as the service writes them, records of up to ${MEMORY_MAX_TUPLES_PER_RECORD} tuples;` +
        ` ${options.eventsPerMessage} events/message`,
    }),
  ];
}

export interface BackfillBenchOptions {
  blobCount: number;
  blobSizeInBytes: number;
  eventsPerMessage: number;
  parallelism: readonly number[];
  repetitions: number;
}

/**
 * The same corpus ingested with n blobs in parallel in one process (one Functions host running that
 * many ingestBlob instances at once, as backfill's maxParallelBlobs does), each n against the first
 * (1 at a time) in alternating repetitions, in one warm ingestion child.
 */
export async function runBackfillBench(
  environment: BenchEnvironment,
  options: BackfillBenchOptions,
): Promise<BenchFigure[]> {
  const blobs = await stageBlobs(environment, options.blobCount, options.blobSizeInBytes, 17);
  const [first, ...others] = options.parallelism;
  if (first === undefined) return [];
  const ingestion = startIngestChild(environment);
  try {
    const runs = new Map<number, Array<IngestReply & { endpointCpuTimeInMs: number }>>();
    const rate = async (parallelBlobs: number): Promise<number> => {
      const run = await ingestion.run(blobs, { parallelBlobs, eventsPerMessage: options.eventsPerMessage });
      runs.set(parallelBlobs, [...(runs.get(parallelBlobs) ?? []), run]);
      return perSecond(run.tuples, run.elapsedInMs);
    };
    await rate(first); // warm-up
    runs.clear();
    const measurements = new Map<number, RatioMeasurement>();
    for (const parallelBlobs of others)
      measurements.set(
        parallelBlobs,
        await measureRatio({
          ours: () => rate(parallelBlobs),
          baseline: () => rate(first),
          repetitions: options.repetitions,
        }),
      );
    const firstRates = runs.get(first)!.map((run) => perSecond(run.tuples, run.elapsedInMs));
    const figure = (parallelBlobs: number, ratio: BenchFigure["ratio"], rates: Spread): BenchFigure =>
      measured({
        id: `backfill.parallel${parallelBlobs}`,
        label: `backfill ${blobs.length} blobs, ${parallelBlobs} at a time in one process`,
        value: rates.median,
        unit: "tuples/s",
        ...(ratio && { ratio }),
        details: { ...runDetails(blobs, medianRun(runs.get(parallelBlobs)!)), ...spreadDetails(rates) },
        note:
          parallelBlobs === first
            ? `${blobs.length} blobs of ${Math.round(options.blobSizeInBytes / MEBIBYTE)} MB through the activities ` +
              `(as backfill's ingestBlob sub-orchestrations run them), ${options.eventsPerMessage} events/message`
            : undefined,
      });
    return [
      figure(first, undefined, spreadOf(firstRates)),
      ...others.map((parallelBlobs) => {
        const measurement = measurements.get(parallelBlobs)!;
        return figure(parallelBlobs, ratioOf(measurement.ratio, `${first} at a time`), measurement.ours);
      }),
    ];
  } finally {
    await ingestion.stop();
  }
}
