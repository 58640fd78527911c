/**
 * `flowtap run --source DIR`: pushes a folder of flow-log blobs (as `azcopy` downloads them)
 * through the pipeline on the local system: upload to Azurite as the service writes blobs,
 * backfill orchestration over their hours (or --from/--to) through `POST /api/backfill`,
 * checkpoint entities, the Event Hubs endpoint; then reads every event back through a consumer,
 * optionally into an NDJSON file, and checks that each tuple arrived exactly once.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { finished } from "node:stream/promises";
import { parseOptions, PROCESS_IO, type CliCommand } from "../command";
import { parseHourBoundary } from "../../src/core/backfillProgress";
import { ValidationError } from "../../src/errors";
import { logFailure } from "../../src/logger";
import { startDemoSystem } from "../../devhost/demo/localSystem";
import { createProgressWriter } from "../../devhost/demo/progress";
import type { DemoSystem } from "../../devhost/demo/scenario";
import { checkDelivery, formatTable, runSummary, summaryLine } from "../../devhost/demo/summary";
import { uploadSourceFolder } from "../../devhost/sourceFolder";
import { UsageError, type CliIo } from "./generate";
import { backfillLikeAUser } from "./start";

export interface RunCliOptions {
  sourceDir: string;
  /** NDJSON file receiving every event read back; none when undefined. */
  eventsOut: string | undefined;
  /** Hours to backfill (ISO-8601, whole hours); undefined: the hours of the files found. */
  range: { from: string; to: string } | undefined;
}

export interface RunRuntime {
  io: CliIo;
  isTty: boolean;
  nowMs: number;
}

const USAGE = `usage: flowtap run --source DIR [--events-out FILE] [--from HOUR --to HOUR]
  --source DIR        (required) flow-log blobs laid out as in their containers (as azcopy downloads them):
                      DIR/insights-logs-networksecuritygroupflowevent/resourceId=/.../PT1H.json
                      DIR/insights-logs-flowlogflowevent/flowLogResourceID=/.../PT1H.json
  --events-out FILE   write every event read back from Event Hubs to FILE, one JSON per line (default: none)
  --from, --to HOUR   backfill these hours only (ISO-8601 whole hours, to exclusive);
                      default: every hour found in DIR
example: npx flowtap run --source ./logs --events-out events.ndjson
exit code: 0 every tuple arrived once; 1 a tuple was lost or duplicated (or a failure);
           2 bad usage, or some files were not valid flow logs (reported, quarantined, the rest processed)
`;

export function parseRunArgs(args: readonly string[]): RunCliOptions {
  const values = parseOptions(args, {
    source: { type: "string" },
    "events-out": { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
  });
  if (values.source === undefined || values.source.trim() === "") throw new UsageError("--source DIR is required");
  if ((values.from === undefined) !== (values.to === undefined)) throw new UsageError("--from and --to go together");
  let range: RunCliOptions["range"];
  if (values.from !== undefined && values.to !== undefined) {
    try {
      const from = parseHourBoundary(values.from, "--from");
      const to = parseHourBoundary(values.to, "--to");
      if (to <= from) throw new UsageError(`--to must be after --from`);
      range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    } catch (error) {
      if (error instanceof ValidationError) throw new UsageError(error.message, { cause: error });
      throw error;
    }
  }
  return { sourceDir: values.source, eventsOut: values["events-out"], range };
}

async function requireDirectory(dir: string): Promise<void> {
  const stats = await stat(dir).catch(() => undefined);
  if (!stats?.isDirectory()) throw new UsageError(`--source ${dir}: not a directory`);
}

function inRange(hour: string, range: { from: string; to: string }): boolean {
  const ms = Date.parse(hour);
  return ms >= Date.parse(range.from) && ms < Date.parse(range.to);
}

/** Pushes the folder through the pipeline on a started system; returns the exit code. */
async function runPipeline(system: DemoSystem, options: RunCliOptions, runtime: RunRuntime): Promise<number> {
  const startedMs = Date.now();
  const { io } = runtime;
  const progress = createProgressWriter({ write: io.stdout, isTty: runtime.isTty });
  const upload = await uploadSourceFolder({
    sourceDir: options.sourceDir,
    blobService: system.blobService,
    containers: system.containers,
    quarantineContainer: system.quarantineContainer,
    onProgress: (done, total) => progress.progress("upload", done, total, "files"),
  });
  progress.done();
  for (const file of upload.rejected) {
    const fate = file.quarantinedAs ? ` (quarantined as ${file.quarantinedAs})` : " (skipped)";
    io.stderr(`flowtap run: ${file.file}: ${file.reason}${fate}\n`);
  }
  const range = options.range ?? upload.hours;
  if (range === null) {
    io.stderr(`flowtap run: no flow-log blob found under ${options.sourceDir}\n`);
    return 2;
  }
  const blobs = upload.uploaded.filter((blob) => inRange(blob.hour, range));
  progress.line(
    `uploaded ${upload.uploaded.length} blobs as the service writes them; ` +
      `backfilling ${range.from} to ${range.to} (${blobs.length} blobs)`,
  );
  const backfilled = await backfillLikeAUser(system, io, runtime.isTty)(range.from, range.to);
  await system.waitForIdle();

  let out: WriteStream | undefined;
  if (options.eventsOut !== undefined) out = createWriteStream(options.eventsOut);
  let check;
  try {
    check = await checkDelivery({ ...system, blobs, onEvent: (body) => out?.write(`${JSON.stringify(body)}\n`) });
  } finally {
    out?.end();
    if (out) await finished(out);
  }
  const summary = runSummary(check, blobs.length, Date.now() - startedMs);
  progress.line(
    formatTable([
      ["backfill", backfilled ? "completed" : "FAILED (see above)"],
      ["files rejected", upload.rejected.length],
      ["blobs with no records (valid, done)", blobs.filter((blob) => blob.records === 0).length],
      ["unexpected ids", check.tally.unexpected],
      ...(options.eventsOut !== undefined ? [["events written to", options.eventsOut] as const] : []),
    ]),
  );
  progress.line(summaryLine(summary));
  if (!backfilled || summary.lost > 0 || summary.duplicates > 0) return 1;
  return upload.rejected.length > 0 ? 2 : 0;
}

export async function runRun(args: readonly string[], runtime: RunRuntime): Promise<number> {
  const { io } = runtime;
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(USAGE);
    return 0;
  }
  let options: RunCliOptions;
  try {
    options = parseRunArgs(args);
    await requireDirectory(options.sourceDir);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`flowtap run: ${error.message}\n${USAGE}`);
    return 2;
  }
  let system: DemoSystem | undefined;
  try {
    system = await startDemoSystem({ port: 0, armSeed: { subscriptions: [] }, startTime: new Date(runtime.nowMs) });
    return await runPipeline(system, options, runtime);
  } catch (error) {
    logFailure("flowtap run failed", error);
    io.stderr(`flowtap run: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await system?.stop();
  }
}

export const runCommand: CliCommand = {
  name: "run",
  summary: "push a folder of flow-log blobs through the pipeline locally and check every tuple arrives once",
  run: (args) =>
    runRun(args, {
      io: PROCESS_IO,
      isTty: process.stdout.isTTY === true,
      nowMs: Date.now(),
    }),
};
