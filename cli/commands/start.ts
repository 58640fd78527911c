/**
 * `flowtap start` (`npm start`): the whole system on one machine. Starts Azurite, the Event Hubs
 * and ARM endpoints and the local Functions host serving http://localhost:PORT/api/..., runs the
 * scripted demo (history, backfill with a progress bar, a live hour with attacks, detection and
 * packet captures), prints the summary, then keeps serving until Ctrl-C (`--once`: exits instead).
 */
import { rm } from "node:fs/promises";
import { relative } from "node:path";
import { Writable } from "node:stream";
import { parseOptions, PROCESS_IO, waitForSignal, type CliCommand } from "../command";
import { logFailure } from "../../src/logger";
import { DEFAULT_DEMO_OPTIONS, armSeedOf, liveHourBefore, planDemo, type DemoPlan } from "../../devhost/demo/plan";
import { createProgressWriter } from "../../devhost/demo/progress";
import { runDemo, type BackfillStep, type DemoSystem } from "../../devhost/demo/scenario";
import { runBackfill } from "./backfillCommand";
import { startDemoSystem, type LocalDemoSystem } from "../../devhost/demo/localSystem";
import { startBlobWatcher } from "../../devhost/blobWatcher";
import { formatEndpoints, writeEndpointsFile } from "../../devhost/endpointsFile";
import { UsageError, type CliIo } from "./generate";

export interface StartCliOptions {
  /** Port of the Functions host on 127.0.0.1 (0: any free port). */
  port: number;
  /** AMQPS port of the Event Hubs endpoint (default the service's 5671; 0: any free port). */
  amqpsPort: number;
  /** Exit after the summary instead of serving. */
  once: boolean;
  /** Start the system empty and serve (no generated data, no demo). */
  demo: boolean;
  seed: number;
  /** Also run the local Logs Ingestion endpoint and send flow events to it (FLOWTAP_SINKS=both). */
  logAnalytics: boolean;
}

/** What the command needs from its process; tests pass their own. */
export interface StartRuntime {
  io: CliIo;
  /** Whether stdout is a terminal (progress bars redrawn in place) or not (plain lines). */
  isTty: boolean;
  /** Resolves with the signal's name when the user asks to stop (SIGINT, SIGTERM). */
  waitForShutdown: () => Promise<string>;
  nowMs: number;
  /** Where `.flowtap/endpoints.json` is written (default: the current folder). */
  rootDir?: string;
}

const USAGE = `usage: flowtap start [--port N] [--amqps-port N] [--once] [--seed S] [--no-demo] [--log-analytics]
  --port N    port of the local Functions host (default 7071; 0 picks a free one)
  --amqps-port N  AMQPS port of the local Event Hubs endpoint (default 5671, as the service; 0 picks a free one)
  --once      exit after the summary (exit code 1 if any event was lost or duplicated; default: serve)
  --seed S    seed of the generated estate and traffic (default ${DEFAULT_DEMO_OPTIONS.seed})
  --no-demo   start the system empty and serve it on the wall clock (nothing generated; default: the demo runs)
  --log-analytics  also send flow events to a local Logs Ingestion endpoint as ASIM rows (FLOWTAP_SINKS=both;
              default: the flows hub only); read them with: npx flowtap tail --hub loganalytics
example: npm start -- --no-demo --port 7072     (or: npx flowtap start --no-demo)
`;

function parseInteger(option: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number > max)
    throw new UsageError(`${option} must be an integer in [0, ${max}], got '${value}'`);
  return number;
}

export function parseStartArgs(args: readonly string[]): StartCliOptions {
  const values = parseOptions(args, {
    port: { type: "string" },
    "amqps-port": { type: "string" },
    once: { type: "boolean" },
    seed: { type: "string" },
    "no-demo": { type: "boolean" },
    "log-analytics": { type: "boolean" },
  });
  return {
    port: parseInteger("--port", values.port, 7071, 65535),
    amqpsPort: parseInteger("--amqps-port", values["amqps-port"], AMQPS_PORT, 65535),
    once: values.once ?? false,
    demo: !(values["no-demo"] ?? false),
    seed: parseInteger("--seed", values.seed, DEFAULT_DEMO_OPTIONS.seed, 0xffff_ffff),
    logAnalytics: values["log-analytics"] ?? false,
  };
}

/** The service's AMQPS port: clients that cannot be given another (Python azure-eventhub 5.11) dial it. */
const AMQPS_PORT = 5671;

/** How often the backfill's progress is polled in the demo (the CLI's default is 1 s). */
const BACKFILL_POLL_INTERVAL_IN_MS = 100;

/** A Writable forwarding text to `write`, reporting `isTty` as its TTY-ness. */
function textStream(write: (text: string) => void, isTty: boolean): Writable & { isTTY: boolean } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      write(chunk.toString("utf8"));
      callback();
    },
  });
  return Object.assign(stream, { isTTY: isTty });
}

/** `flowtap backfill` against the system, exactly as a user runs it: POST /api/backfill, then its progress bar. */
export function backfillLikeAUser(
  system: Pick<DemoSystem, "baseUrl" | "functionKey">,
  io: CliIo,
  isTty: boolean,
): BackfillStep {
  return async (from, to) => {
    const args = [
      "--from",
      from,
      "--to",
      to,
      "--url",
      system.baseUrl,
      "--key",
      system.functionKey,
      "--poll-ms",
      String(BACKFILL_POLL_INTERVAL_IN_MS),
    ];
    const code = await runBackfill(args, {
      stdout: textStream(io.stdout, isTty),
      stderr: textStream(io.stderr, false),
      env: {},
    });
    return code === 0;
  };
}

/** The demo's own examples against the running system: its history, its VMs (printed after the demo only). */
export function nextSteps(system: Pick<DemoSystem, "baseUrl" | "functionKey">, plan: DemoPlan): string {
  const base = system.baseUrl;
  const key = system.functionKey;
  const nic = plan.topology.nics[0]!;
  const vmId =
    `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}` +
    `/providers/Microsoft.Compute/virtualMachines/${nic.vmName}`;
  const alert = JSON.stringify({
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId: "demo-alert-1",
        alertRule: "demo",
        severity: "Sev2",
        signalType: "Metric",
        monitorCondition: "Fired",
        alertTargetIDs: [vmId],
        firedDateTime: new Date().toISOString(),
      },
      alertContext: {},
    },
  });
  const range = `--from ${plan.historicFromIso} --to ${plan.liveHourIso}`;
  return [
    `try it on the demo's estate (its host runs on the demo's simulated clock: times in durable status are simulated):`,
    `  # backfill the demo's history again with a progress bar (wall-clock rate and ETA)`,
    `  npx flowtap backfill ${range}`,
    `  # the same over HTTP: 202 with the durable status URLs, then the status (progress in customStatus)`,
    `  STATUS=$(curl -s -X POST "${base}/api/backfill?code=${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"from":"${plan.historicFromIso}","to":"${plan.liveHourIso}"}' ` +
      `| node -pe 'JSON.parse(require("fs").readFileSync(0)).statusQueryGetUri')`,
    `  curl -s "$STATUS"`,
    `  # post an Azure Monitor alert on ${nic.vmName}: starts a packet capture (202 with its status URLs)`,
    `  curl -s -X POST "${base}/api/alerts?code=${key}" -H "Content-Type: application/json" -d '${alert}'`,
  ].join("\n");
}

/**
 * Serving: watches the storage for blobs any client writes (as Event Grid would), writes
 * `.flowtap/endpoints.json` and ends the start-up with the block that says how to reach everything.
 * Returns what undoes it at shutdown.
 */
async function serve(
  system: LocalDemoSystem,
  withDemoHints: DemoPlan | undefined,
  runtime: StartRuntime,
  line: (text: string) => void,
): Promise<() => Promise<void>> {
  const watcher = await startBlobWatcher({
    blobService: system.blobService,
    containers: system.containers,
    deliver: system.deliverEventGrid,
  });
  const rootDir = runtime.rootDir ?? process.cwd();
  const file = await writeEndpointsFile(system.endpoints, rootDir);
  if (withDemoHints) line(nextSteps(system, withDemoHints));
  line(formatEndpoints(system.endpoints, relative(process.cwd(), file) || file));
  line(`Ctrl-C stops it.`);
  return async () => {
    await watcher.stop();
    // A file naming a stopped system would send the next command to nothing.
    await rm(file, { force: true });
  };
}

export async function runStart(args: readonly string[], runtime: StartRuntime): Promise<number> {
  const { io } = runtime;
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(USAGE);
    return 0;
  }
  let options: StartCliOptions;
  try {
    options = parseStartArgs(args);
  } catch (error) {
    io.stderr(`flowtap start: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const plan = planDemo({ ...DEFAULT_DEMO_OPTIONS, seed: options.seed, liveHourIso: liveHourBefore(runtime.nowMs) });
  const progress = createProgressWriter({ write: io.stdout, isTty: runtime.isTty });
  // Listening from the start: Ctrl-C during the demo stops everything cleanly too.
  const shutdown = runtime.waitForShutdown();
  const untilShutdown = <T>(work: Promise<T>): Promise<{ done: T } | { signal: string }> =>
    Promise.race([work.then((done) => ({ done })), shutdown.then((signal) => ({ signal }))]);
  const stopping = (signal: string): number => {
    progress.line(`${signal}: stopping`);
    return 0;
  };
  let starting: Promise<LocalDemoSystem> | undefined;
  let unserve: (() => Promise<void>) | undefined;
  try {
    starting = startDemoSystem({
      port: options.port,
      armSeed: armSeedOf(plan.topology),
      startTime: new Date(plan.liveHourIso),
      eventHubsTlsPort: options.amqpsPort,
      // Without the demo nothing drives a simulated clock: status, ETA and rates are wall-clock.
      clock: options.demo ? "virtual" : "real",
      logAnalytics: options.logAnalytics,
    });
    const started = await untilShutdown(starting);
    if ("signal" in started) return stopping(started.signal);
    const system = started.done;
    progress.line(`local system up: Functions host ${system.baseUrl}/api, Azurite, Event Hubs and ARM endpoints`);
    if (options.demo) {
      const abort = new AbortController();
      const running = runDemo(system, plan, progress, backfillLikeAUser(system, io, runtime.isTty), abort.signal);
      const demo = await untilShutdown(running);
      if ("signal" in demo) {
        // Let the demo's step in flight finish while the system is still up, then stop it.
        abort.abort();
        const code = stopping(demo.signal);
        await running.catch(() => undefined);
        return code;
      }
      progress.line(demo.done.report);
      const failed = demo.done.summary.lost > 0 || demo.done.summary.duplicates > 0;
      if (options.once) return failed ? 1 : 0;
    } else if (options.once) {
      return 0;
    }
    unserve = await serve(system, options.demo ? plan : undefined, runtime, (text) => progress.line(text));
    return stopping(await shutdown);
  } catch (error) {
    logFailure("flowtap start failed", error);
    const { code, port } = error as NodeJS.ErrnoException & { port?: number };
    const portOption = port === options.amqpsPort ? "--amqps-port" : "--port";
    const portHint =
      code === "EADDRINUSE"
        ? ` (another process uses port ${port ?? options.port}: ${portOption} N picks another)`
        : "";
    io.stderr(`flowtap start: ${error instanceof Error ? error.message : String(error)}${portHint}\n`);
    return 1;
  } finally {
    await unserve?.();
    await starting?.then(
      (system) => system.stop(),
      () => undefined,
    );
  }
}

export const startCommand: CliCommand = {
  name: "start",
  summary: "run the whole system locally (emulators, Functions host, scripted demo with attacks), then serve",
  run: (args) =>
    runStart(args, {
      io: PROCESS_IO,
      isTty: process.stdout.isTTY === true,
      waitForShutdown: waitForSignal,
      nowMs: Date.now(),
    }),
};
