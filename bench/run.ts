/**
 * `npm run bench`: every flowtap figure as a ratio measured in the same run, a table on stdout and
 * `bench/results.json`. `--quick` runs small sizes; `--only core,eventhubs,...` picks sections.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { runBackfillLargeBench } from "./backfillLarge";
import { runCoreBench } from "./core";
import { runEventHubsBench } from "./eventHubs";
import { runLatencyBench } from "./latency";
import { runLogsIngestionBench } from "./logsIngestion";
import { runWireBench } from "./wire";
import {
  runBackfillBench,
  runMemoryBench,
  runPipelineBench,
  startBenchEnvironment,
  type BenchEnvironment,
  type MessageSettings,
} from "./ingestion";
import { MESSAGE_FORMATS } from "../src/config";
import { MIN_REPETITIONS } from "./repeat";
import { formatTable, machineInfo, pending, writeResults, type BenchFigure, type BenchResults } from "./report";
import { runHostBackfillBench } from "./hostBackfill";

export const BENCH_SECTIONS = [
  "core",
  "wire",
  "eventhubs",
  "loganalytics",
  "memory",
  "pipeline",
  "latency",
  "backfill",
  "backfill-large",
] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];
/** What `npm run bench` runs without --only: not the 100,000-blob backfill, which takes about half an hour alone. */
export const DEFAULT_BENCH_SECTIONS: readonly BenchSection[] = BENCH_SECTIONS.filter(
  (name) => name !== "backfill-large",
);

export interface BenchOptions {
  quick: boolean;
  sections: BenchSection[];
  /** Size of the blob whose ingestion peak RSS is measured. */
  memoryBlobSizeInBytes: number;
  coreSizeInBytes: number;
  repetitions: number;
  /** Size of the blob whose events the eventhubs section sends. */
  eventHubsBlobSizeInBytes: number;
  pipelineBlobSizeInBytes: number;
  backfillBlobSizeInBytes: number;
  /** FLOWTAP_EVENTS_PER_MESSAGE values of the plain JSON Event Hubs and pipeline figures (1 = the app's default). */
  eventsPerMessage: number[];
  /** The sink's message settings of a new deployment (the template's app settings): the default configuration. */
  defaultConfiguration: MessageSettings;
  /**
   * FLOWTAP_EVENTS_PER_MESSAGE of the long runs (memory, backfill): packed, so 1 GB takes minutes, not a quarter hour.
   */
  packedEventsPerMessage: number;
  perTupleSampleSize: number;
  /** Where the pipeline's child processes write `node --cpu-prof` profiles; undefined: not profiled. */
  cpuProfileDir: string | undefined;
  /** Where results.json goes; undefined: not written. */
  resultsPath: string | undefined;
  fixturesDir: string;
  latencyAppends: number;
  /** Blobs of the backfill-large section (--backfill-blobs). */
  backfillLargeBlobs: number;
  rootDir: string;
}

const MEBIBYTE = 2 ** 20;
const PACKED_EVENTS_PER_MESSAGE = 100;

export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
}

const USAGE = `usage: npm run bench -- [--quick] [--only SECTION,...] [--blob-size-mb N] [--results PATH|--no-results]
  --quick           small sizes (memory blob 64 MB), still 5 repetitions of each ratio
  --only S,...      sections: ${BENCH_SECTIONS.join(", ")} (default: all but backfill-large)
  --blob-size-mb N  size of the blob of the memory figure (default 1024, quick 64)
  --cpu-prof DIR    pipeline: the ingestion and sender children write CPU profiles (node --cpu-prof) to DIR
  --backfill-blobs N  blobs of the backfill-large section (default 100000, quick 2000)
  --results PATH    where to write the results (default bench/results.json)
  --no-results      print the table only
`;

/** The repository root: the nearest folder above this file holding package.json (src and dist alike). */
export function repoRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/**
 * FLOWTAP_MESSAGE_FORMAT and FLOWTAP_EVENTS_PER_MESSAGE as the template (infra/main.json) sets them
 * for new deployments; each the app's own default (json, 1) when the template has no plain value
 * there (an expression, or nothing).
 */
export function templateMessageSettings(root: string): MessageSettings {
  const template = JSON.parse(readFileSync(join(root, "infra", "main.json"), "utf8")) as {
    variables?: { appSettings?: Record<string, unknown> };
  };
  const appSettings = template.variables?.appSettings ?? {};
  const format = appSettings["FLOWTAP_MESSAGE_FORMAT"];
  const eventsPerMessage = Number(appSettings["FLOWTAP_EVENTS_PER_MESSAGE"]);
  return {
    // Case-insensitive, as the app reads it.
    messageFormat: MESSAGE_FORMATS.find((choice) => choice === String(format).toLowerCase()) ?? "json",
    eventsPerMessage: Number.isInteger(eventsPerMessage) && eventsPerMessage >= 1 ? eventsPerMessage : 1,
  };
}

/** 1 and 100 events per message, and the default configuration's count when it sends plain JSON too. */
function plainEventsPerMessage(defaultConfiguration: MessageSettings): number[] {
  const plainDefault = defaultConfiguration.messageFormat === "json" ? [defaultConfiguration.eventsPerMessage] : [];
  return [...new Set([1, PACKED_EVENTS_PER_MESSAGE, ...plainDefault])];
}

export function parseBenchArgs(args: readonly string[], root: string = repoRoot()): BenchOptions {
  const quick = args.includes("--quick");
  let sections: BenchSection[] = [...DEFAULT_BENCH_SECTIONS];
  let blobSizeInMegabytes = quick ? 64 : 1024;
  let resultsPath: string | undefined = join(root, "bench", "results.json");
  const defaultConfiguration = templateMessageSettings(root);
  let cpuProfileDir: string | undefined;
  let backfillLargeBlobs = quick ? 2000 : 100_000;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string => {
      const next = args[++i];
      if (next === undefined) throw new BenchUsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--quick") continue;
    if (arg === "--only") {
      const names = value()
        .split(",")
        .map((name) => name.trim());
      const unknown = names.find((name) => !(BENCH_SECTIONS as readonly string[]).includes(name));
      if (unknown !== undefined)
        throw new BenchUsageError(`--only: unknown section '${unknown}' (sections: ${BENCH_SECTIONS.join(", ")})`);
      sections = names as BenchSection[];
    } else if (arg === "--blob-size-mb") {
      const raw = value();
      blobSizeInMegabytes = Number(raw);
      if (!Number.isInteger(blobSizeInMegabytes) || blobSizeInMegabytes < 1 || blobSizeInMegabytes > 16_384) {
        throw new BenchUsageError(`--blob-size-mb must be an integer in [1, 16384], got '${raw}'`);
      }
    } else if (arg === "--backfill-blobs") {
      const raw = value();
      backfillLargeBlobs = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isInteger(backfillLargeBlobs) || backfillLargeBlobs < 1 || backfillLargeBlobs > 1_000_000) {
        throw new BenchUsageError(`--backfill-blobs must be an integer in [1, 1000000], got '${raw}'`);
      }
    } else if (arg === "--results") {
      resultsPath = resolve(value());
    } else if (arg === "--cpu-prof") {
      cpuProfileDir = resolve(value());
    } else if (arg === "--no-results") {
      resultsPath = undefined;
    } else {
      throw new BenchUsageError(`unknown option '${arg}'`);
    }
  }
  return {
    quick,
    sections,
    memoryBlobSizeInBytes: blobSizeInMegabytes * MEBIBYTE,
    coreSizeInBytes: (quick ? 8 : 32) * MEBIBYTE,
    repetitions: MIN_REPETITIONS,
    eventHubsBlobSizeInBytes: (quick ? 2 : 8) * MEBIBYTE,
    pipelineBlobSizeInBytes: (quick ? 4 : 16) * MEBIBYTE,
    backfillBlobSizeInBytes: (quick ? 1 : 4) * MEBIBYTE,
    eventsPerMessage: plainEventsPerMessage(defaultConfiguration),
    defaultConfiguration,
    packedEventsPerMessage: PACKED_EVENTS_PER_MESSAGE,
    perTupleSampleSize: quick ? 300 : 1000,
    cpuProfileDir,
    resultsPath,
    fixturesDir: resolve(root, "..", "shared", "fixtures", "flowlogs"),
    latencyAppends: quick ? 50 : 200,
    backfillLargeBlobs,
    rootDir: root,
  };
}

/** Runs one section if it was chosen, adding its figures. */
type SectionRun = (name: BenchSection, work: () => Promise<BenchFigure[]>) => Promise<void>;

/**
 * Runs the chosen sections; each failure becomes a pending figure naming it, so one broken part never hides the rest.
 */
export async function runBench(
  options: BenchOptions,
  progress: (line: string) => void = () => undefined,
): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const section = sectionRunner(options, figures, progress);
  await section("core", () =>
    runCoreBench({
      generatedSizeInBytes: options.coreSizeInBytes,
      generatedBlobSizeInBytes: 4 * MEBIBYTE,
      repetitions: options.repetitions,
      fixturesDir: options.fixturesDir,
      fixtureBytesPerRepetition: 4 * MEBIBYTE,
    }),
  );
  await section("loganalytics", () =>
    runLogsIngestionBench({ eventCount: options.quick ? 12_500 : 50_000, repetitions: options.repetitions }),
  );
  await section("wire", () =>
    runWireBench({
      generatedSizeInBytes: (options.quick ? 2 : 8) * MEBIBYTE,
      generatedBlobSizeInBytes: MEBIBYTE,
      fixturesDir: options.fixturesDir,
    }),
  );
  // Azurite and the Event Hubs endpoint process, started once for the sections that use them.
  let environment: BenchEnvironment | undefined;
  try {
    await runSystemSections(options, section, async () => (environment ??= await startBenchEnvironment()));
  } finally {
    await environment?.stop();
  }
  await section("backfill-large", () =>
    runBackfillLargeBench({
      blobCount: options.backfillLargeBlobs,
      bareBlobCount: Math.min(options.backfillLargeBlobs, 2000),
      maxParallelBlobs: 32,
      blobsPerPage: 128,
      maxConcurrentActivities: 16,
      appModulePath: join(options.rootDir, "dist", "src", "app.js"),
      timeoutInMs: 45 * 60_000,
      progress,
    }),
  );
  return figures;
}

function sectionRunner(options: BenchOptions, figures: BenchFigure[], progress: (line: string) => void): SectionRun {
  return async (name, work) => {
    if (!options.sections.includes(name)) return;
    progress(`bench: ${name}...`);
    const start = performance.now();
    try {
      figures.push(...(await work()));
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      figures.push(pending(`${name}.error`, `${name} (failed)`, "", reason));
    }
    progress(`bench: ${name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  };
}

/** The sections that run against Azurite and the Event Hubs endpoint (the latency one starts its own system). */
async function runSystemSections(
  options: BenchOptions,
  section: SectionRun,
  env: () => Promise<BenchEnvironment>,
): Promise<void> {
  await section("eventhubs", async () =>
    runEventHubsBench(await env(), {
      blobSizeInBytes: options.eventHubsBlobSizeInBytes,
      eventsPerMessage: options.eventsPerMessage,
      perTupleSampleSize: options.perTupleSampleSize,
      repetitions: options.repetitions,
    }),
  );
  await section("pipeline", async () =>
    runPipelineBench(await env(), {
      blobSizeInBytes: options.pipelineBlobSizeInBytes,
      eventsPerMessage: options.eventsPerMessage,
      defaultConfiguration: options.defaultConfiguration,
      perTupleSampleSize: options.perTupleSampleSize,
      repetitions: options.repetitions,
      cpuProfileDir: options.cpuProfileDir,
    }),
  );
  await section("memory", async () =>
    runMemoryBench(await env(), {
      blobSizeInBytes: options.memoryBlobSizeInBytes,
      eventsPerMessage: options.packedEventsPerMessage,
    }),
  );
  await section("latency", () =>
    runLatencyBench({
      appends: options.latencyAppends,
      timeoutPerAppendInMs: 10_000,
      appModulePath: join(options.rootDir, "dist", "src", "app.js"),
    }),
  );
  await section("backfill", async () =>
    runBackfillBench(await env(), {
      blobCount: 4,
      blobSizeInBytes: options.backfillBlobSizeInBytes,
      eventsPerMessage: options.packedEventsPerMessage,
      parallelism: [1, 2, 4],
      repetitions: options.repetitions,
    }),
  );
  await section("backfill", async () =>
    runHostBackfillBench(await env(), {
      blobCount: options.quick ? 8 : 16,
      blobSizeInBytes: (options.quick ? 2 : 4) * MEBIBYTE,
      eventsPerMessage: options.packedEventsPerMessage,
      repetitions: options.repetitions,
      appModulePath: join(options.rootDir, "dist", "src", "app.js"),
    }),
  );
}

/** The section a figure belongs to: its id's first part (`memory.peakRss` → memory). */
const sectionOf = (figure: BenchFigure): string => figure.id.split(".")[0]!;

/**
 * The new figures plus, from the existing results file, those of the sections this run skipped
 * (each keeps its measuredAt and measuredBy), in section order.
 */
export async function withFiguresNotRerun(
  path: string,
  sections: readonly BenchSection[],
  figures: readonly BenchFigure[],
): Promise<BenchFigure[]> {
  if (sections.length === BENCH_SECTIONS.length || !existsSync(path)) return [...figures];
  const previous = (JSON.parse(await readFile(path, "utf8")) as Partial<BenchResults>).figures ?? [];
  const kept = previous.filter((figure) => !(sections as readonly string[]).includes(sectionOf(figure)));
  const order = (figure: BenchFigure): number => (BENCH_SECTIONS as readonly string[]).indexOf(sectionOf(figure));
  return [...kept, ...figures]
    .map((figure, index) => ({ figure, index }))
    .sort((a, b) => order(a.figure) - order(b.figure) || a.index - b.index)
    .map(({ figure }) => figure);
}

export async function main(args: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(args);
  } catch (error) {
    if (error instanceof BenchUsageError) {
      process.stderr.write(`bench: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args.includes("--help")) {
    process.stdout.write(USAGE);
    return 0;
  }
  const start = performance.now();
  const figures = await runBench(options, (line) => process.stderr.write(`${line}\n`));
  const date = new Date().toISOString();
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`;
  for (const figure of figures) Object.assign(figure, { measuredAt: date, measuredBy: command });
  const results: BenchResults = {
    date,
    command,
    machine: machineInfo(),
    node: process.version,
    options: {
      ...options,
      cpuProfileDir: undefined,
      resultsPath: undefined,
      fixturesDir: undefined,
      rootDir: undefined,
    },
    durationInSeconds: (performance.now() - start) / 1000,
    figures,
  };
  process.stdout.write(formatTable(figures));
  if (options.resultsPath) {
    results.figures = await withFiguresNotRerun(options.resultsPath, options.sections, figures);
    await writeResults(options.resultsPath, results);
    process.stdout.write(`results: ${options.resultsPath}\n`);
  }
  const count = (status: BenchFigure["status"]): number => figures.filter((figure) => figure.status === status).length;
  process.stdout.write(`targets: ${count("pass")} pass, ${count("miss")} miss, ${count("pending")} pending\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
