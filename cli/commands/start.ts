/**
 * `flowtap start` (`npm start`): the whole system on one machine. Starts Azurite, the Event Hubs
 * and ARM endpoints and the local Functions host serving http://localhost:PORT/api/..., runs the
 * scripted demo (history, backfill with a progress bar, a live hour with attacks, detection and
 * packet captures), prints the summary, then keeps serving until Ctrl-C (`--once`: exits instead).
 */
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import type { CliCommand } from "../command";
import { logFailure } from "../../src/logger";
import { DEFAULT_DEMO_OPTIONS, armSeedOf, liveHourBefore, planDemo, type DemoPlan } from "../../devhost/demo/plan";
import { createProgressWriter } from "../../devhost/demo/progress";
import { runDemo, type BackfillStep, type DemoSystem } from "../../devhost/demo/scenario";
import { runBackfill } from "./backfillCommand";
import { startDemoSystem, type LocalDemoSystem } from "../../devhost/demo/localSystem";
import { ENDPOINTS_FILE, writeEndpointEntries } from "../../devhost/eventhubs/endpointsFile";
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
}

/** What the command needs from its process; tests pass their own. */
export interface StartRuntime {
  io: CliIo;
  /** Whether stdout is a terminal (progress bars redrawn in place) or not (plain lines). */
  isTty: boolean;
  /** Resolves with the signal's name when the user asks to stop (SIGINT, SIGTERM). */
  waitForShutdown: () => Promise<string>;
  nowMs: number;
}

const USAGE = `usage: flowtap start [--port N] [--amqps-port N] [--once] [--seed S] [--no-demo]
  --port N    port of the local Functions host (default 7071; 0 picks a free one)
  --amqps-port N  AMQPS port of the local Event Hubs endpoint (default 5671, as the service; 0 picks a free one)
  --once      exit after the summary (exit code 1 if any event was lost or duplicated)
  --seed S    seed of the generated estate and traffic (default ${DEFAULT_DEMO_OPTIONS.seed})
  --no-demo   start the system empty and serve it (nothing generated)
`;

function parseInteger(option: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number > max)
    throw new UsageError(`${option} must be an integer in [0, ${max}], got '${value}'`);
  return number;
}

export function parseStartArgs(args: readonly string[]): StartCliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        port: { type: "string" },
        "amqps-port": { type: "string" },
        once: { type: "boolean" },
        seed: { type: "string" },
        "no-demo": { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  return {
    port: parseInteger("--port", values.port, 7071, 65535),
    amqpsPort: parseInteger("--amqps-port", values["amqps-port"], AMQPS_PORT, 65535),
    once: values.once ?? false,
    demo: !(values["no-demo"] ?? false),
    seed: parseInteger("--seed", values.seed, DEFAULT_DEMO_OPTIONS.seed, 0xffff_ffff),
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

/** The curl commands a user tries next against the running system. */
export function nextSteps(system: Pick<DemoSystem, "baseUrl" | "functionKey">, plan: DemoPlan): string {
  const base = system.baseUrl.replace("127.0.0.1", "localhost");
  const key = system.functionKey;
  const nic = plan.topology.nics[0]!;
  const vmId = `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${nic.vmName}`;
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
  return [
    `flowtap is serving on ${base}/api (Ctrl-C stops it). Function key of this run: ${key}`,
    `  # backfill the history again (202 with the durable status URLs), then read its status (progress in customStatus)`,
    `  STATUS=$(curl -s -X POST "${base}/api/backfill?code=${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"from":"${plan.historicFromIso}","to":"${plan.liveHourIso}"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).statusQueryGetUri')`,
    `  curl -s "$STATUS"`,
    `  # the same with the CLI and its progress bar`,
    `  FLOWTAP_FUNCTION_KEY=${key} npx flowtap backfill --url ${base} --from ${plan.historicFromIso} --to ${plan.liveHourIso}`,
    `  # post an Azure Monitor alert on ${nic.vmName}: starts a packet capture (202 with its status URLs)`,
    `  curl -s -X POST "${base}/api/alerts?code=${key}" -H "Content-Type: application/json" -d '${alert}'`,
  ].join("\n");
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
  try {
    starting = startDemoSystem({
      port: options.port,
      armSeed: armSeedOf(plan.topology),
      startTime: new Date(plan.liveHourIso),
      eventHubsTlsPort: options.amqpsPort,
    });
    const started = await untilShutdown(starting);
    if ("signal" in started) return stopping(started.signal);
    const system = started.done;
    await writeEndpointEntries(ENDPOINTS_FILE, system.eventHubsEndpoints);
    progress.line(`local system up: Functions host ${system.baseUrl}/api, Azurite, Event Hubs and ARM endpoints`);
    progress.line(`endpoints and connection strings: ${ENDPOINTS_FILE}`);
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
    progress.line(nextSteps(system, plan));
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
    await starting?.then(
      (system) => system.stop(),
      () => undefined,
    );
  }
}

/** Resolves at the first SIGINT or SIGTERM (and stops listening for both). */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

export const startCommand: CliCommand = {
  name: "start",
  summary: "run the whole system locally (emulators, Functions host, scripted demo with attacks), then serve",
  run: (args) =>
    runStart(args, {
      io: { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
      isTty: process.stdout.isTTY === true,
      waitForShutdown: waitForSignal,
      nowMs: Date.now(),
    }),
};
