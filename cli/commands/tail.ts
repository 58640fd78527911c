/**
 * `flowtap tail`: prints the events of a running system's hub through the real Event Hubs
 * consumer (`EventHubConsumerClient`), one JSON per line, or a short table on a terminal. The
 * namespace and hub names come from `.flowtap/endpoints.json` (written by `npm start`) unless
 * `--connection` names another namespace. `--hub loganalytics` prints the ASIM rows the local Logs
 * Ingestion endpoint accepted (`npm start -- --log-analytics`), polling its read-back route.
 */
import { EventHubConsumerClient, earliestEventPosition, latestEventPosition } from "@azure/event-hubs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseOptions, PROCESS_IO, waitForSignal, type CliCommand } from "../command";
import { eventsOfFlowMessage } from "../../src/adapters/flowMessages";
import { CaptureEventTypes } from "../../src/contracts/captureContracts";
import { readEndpointsFile, type FlowtapHubs } from "../../devhost/endpointsFile";
import { readAcceptedRows } from "../../devhost/logsingestion/readBack";
import { UsageError, type CliIo } from "./generate";

const USAGE = `usage: flowtap tail [--hub events|alerts|captures|loganalytics] [--from start|end] [--count N]
       [--connection CS]
  Prints the events of a running system (npm start) as they arrive: one JSON per line, or a short
  table on a terminal. Ctrl-C stops it.
  --hub NAME          events (flattened flow tuples), alerts (anomalies, captures, warnings) or
                      captures (capture reports only), or loganalytics (the ASIM rows the local Logs
                      Ingestion endpoint accepted: npm start -- --log-analytics) (default events)
  --from start|end    from the oldest event kept, or only new ones (default end)
  --count N           stop after N events (default: never)
  --connection CS     Event Hubs namespace connection string (default: .flowtap/endpoints.json)
example: npx flowtap tail --hub alerts --from start --count 10
`;

const HUB_CHOICES = ["events", "alerts", "captures", "loganalytics"] as const;
/** How often `--hub loganalytics` asks the local endpoint for new rows. */
const LOG_ANALYTICS_POLL_INTERVAL_IN_MS = 500;
type HubChoice = (typeof HUB_CHOICES)[number];

export interface TailOptions {
  hub: HubChoice;
  from: "start" | "end";
  count: number | undefined;
  connection: string | undefined;
}

export interface TailRuntime {
  io: CliIo;
  isTty: boolean;
  /** Resolves when the user asks to stop (Ctrl-C). */
  waitForShutdown: () => Promise<string>;
  /** Where `.flowtap/endpoints.json` is looked for (default: the current folder). */
  cwd?: string;
}

export function parseTailArgs(args: readonly string[]): TailOptions {
  const values = parseOptions(args, {
    hub: { type: "string" },
    from: { type: "string" },
    count: { type: "string" },
    connection: { type: "string" },
  });
  const hub = values.hub ?? "events";
  if (!(HUB_CHOICES as readonly string[]).includes(hub))
    throw new UsageError(`--hub must be one of ${HUB_CHOICES.join(", ")}, got '${hub}'`);
  const from = values.from ?? "end";
  if (from !== "start" && from !== "end") throw new UsageError(`--from must be start or end, got '${from}'`);
  let count: number | undefined;
  if (values.count !== undefined) {
    count = /^\d+$/.test(values.count) ? Number(values.count) : Number.NaN;
    if (!Number.isSafeInteger(count) || count < 1)
      throw new UsageError(`--count must be a positive integer, got '${values.count}'`);
  }
  return { hub: hub as HubChoice, from, count, connection: values.connection };
}

const CAPTURE_TYPES: readonly string[] = Object.values(CaptureEventTypes);

const cell = (value: unknown, width: number): string => String(value ?? "-").padEnd(width);

/** One table row: a flow event's tuple (event or ASIM row), or an alert's time, type and id. */
export function tableRow(event: Record<string, unknown>): string {
  if (typeof event.SrcIpAddr === "string") {
    const from = `${event.SrcIpAddr}:${String(event.SrcPortNumber)}`;
    const to = `${String(event.DstIpAddr)}:${String(event.DstPortNumber)}`;
    const action = `${cell(event.DvcAction, 7)}${cell(event.NetworkProtocol, 6)}`;
    return `${cell(event.TimeGenerated, 25)}${action}${cell(from, 22)}-> ${to}`;
  }
  if (typeof event.srcIp === "string") {
    const from = `${event.srcIp}:${String(event.srcPort)}`;
    const to = `${String(event.dstIp)}:${String(event.dstPort)}`;
    return `${cell(event.time, 25)}${cell(event.decision, 7)}${cell(event.protocol, 6)}${cell(from, 22)}-> ${to}`;
  }
  return `${cell(event.time, 25)}${cell(event.type, 26)}${String(event.id ?? "")}`;
}

async function hubsAndConnection(options: TailOptions, cwd: string | undefined) {
  const endpoints = await readEndpointsFile(cwd);
  const connection = options.connection ?? endpoints?.eventHubsConnectionString;
  if (connection === undefined) {
    throw new UsageError("no .flowtap/endpoints.json here (is npm start running in this folder?) and no --connection");
  }
  const hubs: FlowtapHubs = endpoints?.hubs ?? { events: "flows", alerts: "alerts", captures: "alerts" };
  return { connection, hubName: hubs[options.hub as keyof FlowtapHubs] };
}

/** `--hub loganalytics`: polls the local endpoint's accepted rows until `count` were printed or the user stops it. */
async function followLogAnalytics(options: TailOptions, runtime: TailRuntime): Promise<number> {
  const connection = (await readEndpointsFile(runtime.cwd))?.logsIngestion;
  if (connection === undefined)
    throw new UsageError("no local Logs Ingestion endpoint in .flowtap/endpoints.json (npm start -- --log-analytics)");
  let stopped = false;
  const shutdown = runtime.waitForShutdown().then(() => (stopped = true));
  let next = options.from === "start" ? 0 : (await readAcceptedRows(connection, 0)).next;
  let printed = 0;
  while (!stopped) {
    const page = await readAcceptedRows(connection, next);
    next = page.next;
    for (const row of page.rows) {
      if (options.count !== undefined && printed >= options.count) return 0;
      runtime.io.stdout(`${runtime.isTty ? tableRow(row) : JSON.stringify(row)}\n`);
      printed++;
    }
    if (options.count !== undefined && printed >= options.count) return 0;
    await Promise.race([sleep(LOG_ANALYTICS_POLL_INTERVAL_IN_MS), shutdown]);
  }
  return 0;
}

/** Reads until `count` events were printed or the user stops it; resolves to the exit code. */
async function follow(options: TailOptions, runtime: TailRuntime): Promise<number> {
  if (options.hub === "loganalytics") return followLogAnalytics(options, runtime);
  const { connection, hubName } = await hubsAndConnection(options, runtime.cwd);
  const consumer = new EventHubConsumerClient(EventHubConsumerClient.defaultConsumerGroupName, connection, hubName);
  let printed = 0;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const subscription = consumer.subscribe(
    {
      processEvents: async (received) => {
        for (const message of received) {
          for (const event of eventsOfFlowMessage(message) as Record<string, unknown>[]) {
            if (options.count !== undefined && printed >= options.count) break;
            if (options.hub === "captures" && !CAPTURE_TYPES.includes(String(event.type))) continue;
            runtime.io.stdout(`${runtime.isTty ? tableRow(event) : JSON.stringify(event)}\n`);
            printed++;
          }
        }
        if (options.count !== undefined && printed >= options.count) finish(0);
      },
      processError: async (error) => {
        runtime.io.stderr(`flowtap tail: ${error.message}\n`);
        finish(1);
      },
    },
    {
      startPosition: options.from === "start" ? earliestEventPosition : latestEventPosition,
      skipParsingBodyAsJson: true,
      maxWaitTimeInSeconds: 1,
    },
  );
  try {
    return await Promise.race([finished, runtime.waitForShutdown().then(() => 0)]);
  } finally {
    await subscription.close();
    await consumer.close();
  }
}

export async function runTail(args: readonly string[], runtime: TailRuntime): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    runtime.io.stdout(USAGE);
    return 0;
  }
  try {
    return await follow(parseTailArgs(args), runtime);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    runtime.io.stderr(`flowtap tail: ${error.message}\n${USAGE}`);
    return 2;
  }
}

export const tailCommand: CliCommand = {
  name: "tail",
  summary: "print the events, alerts or capture reports of a running system (npm start) as they arrive",
  run: (args) =>
    runTail(args, {
      io: PROCESS_IO,
      isTty: process.stdout.isTTY === true,
      waitForShutdown: waitForSignal,
    }),
};
