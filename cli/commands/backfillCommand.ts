/**
 * `flowtap backfill`: starts a backfill on a Functions host (the local one by default, or any
 * endpoint with its function key), follows its progress at the durable status URL — a bar
 * redrawn in place on a terminal, one plain line per change otherwise — and prints the final
 * summary with every failed blob. Exit code 0 when it completed with no failed blob, 1 when it
 * failed, was terminated or had failed blobs, 2 for a bad command line or a refused request.
 */
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { BackfillProgress } from "../../src/core/backfillProgress";
import { logFailure } from "../../src/logger";
import type { CliCommand } from "../command";
import { backfillIdOfInstance, type BackfillSummary } from "../../src/contracts/backfillContracts";
import { readEndpointsFile, type FlowtapEndpoints } from "../../devhost/endpointsFile";

const USAGE = `usage: flowtap backfill --from TIME --to TIME [filters] [--max-parallel N] [--id ID]
                        [--url BASE] [--key KEY]
  Ingests the flow logs of [from, to) (ISO-8601 on whole hours, e.g. 2026-11-01T00:00:00Z) through the
  same exactly-once path as live ingestion; blobs already delivered are not sent again.
  --from TIME, --to TIME   (required) the first hour and the hour after the last
  filters (repeat an option or give a comma-separated list; default: no filter):
    --container NAME       flow-log container (default: the configured ones)
    --account NAME         storage account (default: the configured one)
    --subscription ID      --resource-group NAME   --nsg NAME   --flow-log NAME   --mac MAC   (default: all)
  --max-parallel N         blobs ingested at once (default: the host's FLOWTAP_BACKFILL_PARALLEL_BLOBS)
  --id ID                  backfill id (default: derived from the request; a running id is refused)
  --url BASE               Functions host (default $FLOWTAP_URL, else the one in .flowtap/endpoints.json
                           that npm start writes, else http://localhost:7071)
  --key KEY                function key (default $FLOWTAP_FUNCTION_KEY, else the one in .flowtap/endpoints.json)
  --poll-ms MS             status polling interval (default 1000)
example: npx flowtap backfill --from 2026-11-01T00:00:00Z --to 2026-11-02T00:00:00Z --nsg NSG-WEB
`;

export interface BackfillCliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  /** Where `.flowtap/endpoints.json` is looked for (default: the current folder). */
  cwd?: string;
}

interface BackfillArgs {
  body: Record<string, unknown>;
  baseUrl: string;
  key: string | undefined;
  pollIntervalInMs: number;
}

/** Options whose values are lists in the request body. */
const LIST_OPTIONS: Record<string, string> = {
  "--container": "containers",
  "--subscription": "subscriptionIds",
  "--resource-group": "resourceGroups",
  "--nsg": "nsgNames",
  "--flow-log": "flowLogNames",
  "--mac": "macs",
};
const SCALAR_OPTIONS = ["--from", "--to", "--account", "--max-parallel", "--id", "--url", "--key", "--poll-ms"];

function parseArgs(
  args: readonly string[],
  env: BackfillCliIo["env"],
  endpoints: FlowtapEndpoints | undefined,
): BackfillArgs | string {
  const lists: Record<string, string[]> = {};
  const scalars: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (LIST_OPTIONS[name] === undefined && !SCALAR_OPTIONS.includes(name)) return `unknown option '${arg}'`;
    const value = name !== arg ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === "") return `${name} needs a value`;
    const field = LIST_OPTIONS[name];
    if (field !== undefined)
      (lists[field] ??= []).push(
        ...value
          .split(",")
          .map((v) => v.trim())
          .filter(Boolean),
      );
    else scalars[name] = value;
  }
  if (scalars["--from"] === undefined || scalars["--to"] === undefined) return "--from and --to are required";
  const body: Record<string, unknown> = { from: scalars["--from"], to: scalars["--to"], ...lists };
  if (scalars["--account"] !== undefined) body.storageAccount = scalars["--account"];
  if (scalars["--id"] !== undefined) body.backfillId = scalars["--id"];
  if (scalars["--max-parallel"] !== undefined) {
    const parallel = Number(scalars["--max-parallel"]);
    if (!Number.isInteger(parallel) || parallel < 1)
      return `--max-parallel must be a positive integer, got '${scalars["--max-parallel"]}'`;
    body.maxParallelBlobs = parallel;
  }
  const pollIntervalInMs = Number(scalars["--poll-ms"] ?? 1000);
  if (!Number.isInteger(pollIntervalInMs) || pollIntervalInMs < 1)
    return `--poll-ms must be a positive integer, got '${scalars["--poll-ms"]}'`;
  const url = scalars["--url"] ?? env.FLOWTAP_URL ?? endpoints?.functionsBaseUrl ?? "http://localhost:7071";
  const baseUrl = url.replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/i.test(baseUrl)) return `--url must be an http(s) URL, got '${baseUrl}'`;
  const fileKey = endpoints?.functionsBaseUrl === baseUrl ? endpoints.functionKey : undefined;
  return { body, baseUrl, key: scalars["--key"] ?? env.FLOWTAP_FUNCTION_KEY ?? fileKey, pollIntervalInMs };
}

interface DurableStatus {
  runtimeStatus?: string;
  customStatus?: BackfillProgress | null;
  output?: unknown;
}

const TERMINAL = new Set(["Completed", "Failed", "Terminated", "Canceled"]);
const MAX_NOT_FOUND_POLLS = 30;
const BAR_WIDTH = 24;

function percentOf(progress: BackfillProgress): number {
  const finished = progress.blobsDone + progress.blobsFailed;
  return progress.blobsTotal > 0 ? Math.min(100, Math.floor((finished * 100) / progress.blobsTotal)) : 0;
}

/** Rate and time left measured by this command on the wall clock (the host's may be the demo's simulated one). */
export interface WallClockRate {
  blobsPerSecond: number;
  /** Undefined until a rate is known. */
  secondsLeft: number | undefined;
}

/** The wall-clock rate since the backfill started. */
export function measureRate(
  first: { atMs: number; finished: number },
  now: { atMs: number; finished: number },
  total: number,
): WallClockRate | undefined {
  const seconds = (now.atMs - first.atMs) / 1000;
  if (seconds <= 0) return undefined;
  const blobsPerSecond = (now.finished - first.finished) / seconds;
  const secondsLeft = blobsPerSecond > 0 ? Math.ceil((total - now.finished) / blobsPerSecond) : undefined;
  return { blobsPerSecond, secondsLeft };
}

function formatDuration(seconds: number): string {
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s` : `${seconds}s`;
}

/** One progress line: `[#####-----]  45% 120/300 blobs (3 failed), 12345 events, 99 bytes, 2.5 blobs/s, 1m 12s left` */
export function formatProgress(progress: BackfillProgress, withBar: boolean, rate?: WallClockRate): string {
  const finished = progress.blobsDone + progress.blobsFailed;
  if (progress.phase === "counting") return `counting blobs: ${progress.blobsTotal} so far`;
  const percent = percentOf(progress);
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  const bar = withBar ? `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ` : "";
  const failed = progress.blobsFailed > 0 ? ` (${progress.blobsFailed} failed)` : "";
  const running = progress.phase !== "completed";
  const speed = rate ? `, ${Number(rate.blobsPerSecond.toFixed(2))} blobs/s` : "";
  const left = rate?.secondsLeft !== undefined && running ? `, ${formatDuration(rate.secondsLeft)} left` : "";
  return (
    `${bar}${String(percent).padStart(3)}% ${finished}/${progress.blobsTotal} blobs${failed}, ` +
    `${progress.eventsSent} events, ${progress.bytesRead} bytes${speed}${left}`
  );
}

function formatSummary(id: string, status: DurableStatus, elapsedInMs: number): string {
  const summary = status.output as Partial<BackfillSummary> | string | null | undefined;
  const progress =
    typeof summary === "object" && summary !== null && summary.blobsTotal !== undefined
      ? (summary as BackfillSummary)
      : status.customStatus;
  const lines = [`backfill ${id}: ${status.runtimeStatus}`];
  if (progress) {
    lines.push(
      `  blobs: ${progress.blobsDone} done, ${progress.blobsFailed} failed, ${progress.blobsTotal} total`,
      `  events sent: ${progress.eventsSent}, bytes read: ${progress.bytesRead}`,
      `  hours ${progress.from} to ${progress.to}, took ${formatDuration(Math.round(elapsedInMs / 1000))} (wall clock)`,
    );
  }
  if (typeof summary === "string") lines.push(`  ${summary}`);
  if (typeof summary === "object" && summary !== null && Array.isArray(summary.failures)) {
    for (const failure of summary.failures)
      lines.push(`  failed: ${failure.container}/${failure.path}: ${failure.reason}`);
    if ((summary.failuresNotListed ?? 0) > 0) lines.push(`  ... and ${summary.failuresNotListed} more failed blobs`);
  }
  return `${lines.join("\n")}\n`;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Runs `backfill` with the given arguments; resolves to the exit code. */
export async function runBackfill(args: string[], io: BackfillCliIo): Promise<number> {
  const write = (stream: Writable, text: string): void => void stream.write(text);
  if (args.includes("--help") || args.includes("-h")) {
    write(io.stdout, USAGE);
    return 0;
  }
  let endpoints: FlowtapEndpoints | undefined;
  try {
    // The file only fills in what neither the command line nor the environment gives.
    const given = (option: string): boolean => args.some((arg) => arg === option || arg.startsWith(`${option}=`));
    const hasUrl = given("--url") || Boolean(io.env.FLOWTAP_URL);
    const hasKey = given("--key") || Boolean(io.env.FLOWTAP_FUNCTION_KEY);
    if (!hasUrl || !hasKey) endpoints = await readEndpointsFile(io.cwd);
  } catch (error) {
    write(io.stderr, `flowtap backfill: ${(error as Error).message}\n`);
    return 2;
  }
  const parsed = parseArgs(args, io.env, endpoints);
  if (typeof parsed === "string") {
    write(io.stderr, `flowtap backfill: ${parsed}\n${USAGE}`);
    return 2;
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (parsed.key) headers["x-functions-key"] = parsed.key;
  const startUrl = `${parsed.baseUrl}/api/backfill`;
  let started: { id: string; statusQueryGetUri: string };
  try {
    const response = await fetch(startUrl, { method: "POST", headers, body: JSON.stringify(parsed.body) });
    const answer = await readJson(response);
    if (response.status !== 202) {
      const message =
        typeof answer === "object" && answer !== null && "error" in answer
          ? String(answer.error)
          : JSON.stringify(answer);
      write(io.stderr, `flowtap backfill: the host refused the request (HTTP ${response.status}): ${message}\n`);
      return 2;
    }
    started = answer as typeof started;
  } catch (error) {
    logFailure(`backfill: POST ${startUrl}`, error);
    write(io.stderr, `flowtap backfill: cannot reach ${startUrl}: ${(error as Error).message}\n`);
    return 1;
  }
  const tty = io.stdout.isTTY === true;
  const backfillId = backfillIdOfInstance(started.id);
  write(io.stdout, `backfill ${backfillId} started\n`);

  let status: DurableStatus = {};
  let lastLine = "";
  const start = { atMs: Date.now(), finished: 0 };
  for (let notFound = 0; ;) {
    const response = await fetch(started.statusQueryGetUri, {
      headers: parsed.key ? { "x-functions-key": parsed.key } : {},
    });
    status = (await readJson(response)) as DurableStatus;
    // Right after the start the instance may not be visible yet; for long, the URL is wrong.
    notFound = response.status === 404 ? notFound + 1 : 0;
    if ((response.status >= 400 && response.status !== 404) || notFound > MAX_NOT_FOUND_POLLS) {
      write(io.stderr, `flowtap backfill: status query failed (HTTP ${response.status}): ${JSON.stringify(status)}\n`);
      return 1;
    }
    const progress = status.customStatus;
    const now = { atMs: Date.now(), finished: progress ? progress.blobsDone + progress.blobsFailed : 0 };
    const line = progress ? formatProgress(progress, tty, measureRate(start, now, progress.blobsTotal)) : "";
    if (line !== "" && line !== lastLine) {
      write(io.stdout, tty ? `\r${line}\u001b[K` : `${line}\n`);
      lastLine = line;
    }
    if (status.runtimeStatus !== undefined && TERMINAL.has(status.runtimeStatus)) break;
    await sleep(parsed.pollIntervalInMs);
  }
  if (tty && lastLine !== "") write(io.stdout, "\n");
  write(io.stdout, formatSummary(backfillId, status, Date.now() - start.atMs));
  const blobsFailed = (status.output as Partial<BackfillSummary> | null)?.blobsFailed ?? 0;
  return status.runtimeStatus === "Completed" && blobsFailed === 0 ? 0 : 1;
}

export const backfillCommand: CliCommand = {
  name: "backfill",
  summary: "backfill a time range of flow logs through a Functions host, with progress",
  run: (args) => runBackfill(args, { stdout: process.stdout, stderr: process.stderr, env: process.env }),
};
