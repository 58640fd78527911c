/**
 * The scripted demo of `flowtap start`: writes history the way the service writes flow logs,
 * backfills it through `POST /api/backfill` (as a user would) with a progress bar, appends the
 * live hour minute after minute delivering each commit's BlobCreated event to the Event Grid
 * trigger, lets the attacks be detected and captured, fires and resolves an Azure Monitor alert
 * (its capture stops), then reads every event back through an
 * Event Hubs consumer and compares ids with the blobs' own.
 */
import type { BlobServiceClient } from "@azure/storage-blob";
import { FlowLogBlobWriter } from "../flowLogWriter";
import type { EventGridBlobCreatedEvent } from "../blobCreatedEvent";
import type { ReadBackOptions } from "./delivery";
import { historicBlobs, liveBlobs, recordsOf, type DemoPlan } from "./plan";
import type { ProgressWriter } from "./progress";
import {
  checkDelivery,
  describeAlert,
  describeCapture,
  describeSilence,
  formatTable,
  runSummary,
  summaryLine,
  type RunSummary,
} from "./summary";
import { ServiceError } from "../../src/errors";
import { fireAndResolveAlert } from "./monitorAlert";
import type { PlannedBlob } from "../generate";

/** What the demo drives: the local system, as a user and the Azure services would see it. */
export interface DemoSystem {
  blobService: BlobServiceClient;
  /** `http://127.0.0.1:PORT` of the Functions host. */
  baseUrl: string;
  /** A function key (`?code=`). */
  functionKey: string;
  /** An action group's Entra token for `POST /api/alerts/secure` (Secure Webhook), from the local tenant. */
  secureWebhookToken(): Promise<string>;
  containers: readonly string[];
  quarantineContainer: string;
  flows: ReadBackOptions;
  alerts: ReadBackOptions;
  /** The host's clock (accelerated or virtual). */
  now(): Date;
  /** Moves an accelerated or virtual clock to `time` (never backwards). */
  advanceClockTo(time: Date): void;
  /** Delivers BlobCreated events to the Event Grid trigger, as Event Grid would. */
  deliverEventGrid(events: EventGridBlobCreatedEvent[]): Promise<void>;
  /** Resolves when nothing runs any more (ingestion, captures). */
  waitForIdle(): Promise<void>;
  stop(): Promise<void>;
}

export interface DemoResult {
  summary: RunSummary;
  /** The summary table, ending with the summary line. */
  report: string;
}

const MINUTE_IN_MS = 60_000;

/** Writes a blob's whole hour in the service's block layout (a block per record), in one commit. */
async function writeBlob(system: DemoSystem, plan: DemoPlan, blob: PlannedBlob): Promise<void> {
  const writer = new FlowLogBlobWriter(system.blobService.getContainerClient(blob.container), blob.path, {
    now: () => system.now(),
  });
  await writer.append(...recordsOf(plan, blob));
}

/** Backfills [from, to) through `POST /api/backfill` as a user would, drawing its progress; false when it failed. */
export type BackfillStep = (from: string, to: string) => Promise<boolean>;

/**
 * The live hour: the minutes before `liveFirstMinute` are in the blobs already (no events: the
 * first event catches them up), then each minute is appended and its commit's event delivered.
 */
async function appendLive(
  system: DemoSystem,
  plan: DemoPlan,
  blobs: readonly PlannedBlob[],
  progress: ProgressWriter,
  abortSignal: AbortSignal,
): Promise<number> {
  const writers = blobs.map(
    (blob) =>
      new FlowLogBlobWriter(system.blobService.getContainerClient(blob.container), blob.path, {
        now: () => system.now(),
      }),
  );
  const liveStartMs = Date.parse(plan.liveHourIso);
  if (plan.liveFirstMinute > 0) {
    system.advanceClockTo(new Date(liveStartMs + plan.liveFirstMinute * MINUTE_IN_MS));
    const earlier = { first: 0, last: plan.liveFirstMinute - 1 };
    await Promise.all(blobs.map(async (blob, i) => writers[i]!.append(...recordsOf(plan, blob, earlier))));
  }
  let commits = 0;
  const total = plan.liveEndMinute - plan.liveFirstMinute;
  for (let minute = plan.liveFirstMinute; minute < plan.liveEndMinute; minute++) {
    abortSignal.throwIfAborted();
    // A minute's record is written once the minute is over, as the service does.
    system.advanceClockTo(new Date(liveStartMs + (minute + 1) * MINUTE_IN_MS));
    // The NICs' blobs are written, and their events delivered, independently of each other.
    await Promise.all(
      blobs.map(async (blob, i) => {
        const records = recordsOf(plan, blob, { first: minute, last: minute });
        if (records.length === 0) return;
        const commit = await writers[i]!.append(...records);
        commits += 1;
        await system.deliverEventGrid([commit.events.eventGrid]);
      }),
    );
    progress.progress("live", minute + 1 - plan.liveFirstMinute, total, `simulated minutes, ${commits} commits`);
  }
  progress.done();
  return commits;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs the whole demo on a started system; the caller prints `report` and stops the system.
 * Aborting stops it at the next step (a live minute, a phase), so the system can stop cleanly.
 */
export async function runDemo(
  system: DemoSystem,
  plan: DemoPlan,
  progress: ProgressWriter,
  backfill: BackfillStep,
  abortSignal: AbortSignal,
): Promise<DemoResult> {
  const startedMs = Date.now();
  const history = historicBlobs(plan);
  const live = liveBlobs(plan);
  const nics = plan.topology.nics;
  progress.line(
    `estate: ${plan.topology.subscriptions.length} subscriptions, ${nics.length} NICs ` +
      `(${nics.filter((n) => n.kind === "nsg").length} NSG flow logs v2,` +
      ` ${nics.filter((n) => n.kind === "vnet").length} VNet flow logs), seed ${plan.seed}`,
  );
  for (const attack of plan.attacks)
    progress.line(`scripted attack: ${attack.kind} on ${attack.macAddress} at ${attack.startIso}`);
  if (plan.silentFlowLog) {
    const { flowLogName, macAddress, fromMinute } = plan.silentFlowLog;
    progress.line(`scripted silence: flow log ${flowLogName} (${macAddress}) stops writing at minute ${fromMinute}`);
  }

  let written = 0;
  await Promise.all(
    history.map(async (blob) => {
      await writeBlob(system, plan, blob);
      progress.progress("history", ++written, history.length, "blobs written to Azurite");
    }),
  );
  progress.done();
  abortSignal.throwIfAborted();
  progress.line(`flowtap backfill --from ${plan.historicFromIso} --to ${plan.liveHourIso}`);
  if (!(await backfill(plan.historicFromIso, plan.liveHourIso)))
    throw new ServiceError("the backfill of the history failed", { retryable: false });
  const backfilledMs = Date.now();

  abortSignal.throwIfAborted();
  const commits = await appendLive(system, plan, live, progress, abortSignal);
  await system.waitForIdle();
  abortSignal.throwIfAborted();
  const liveDoneMs = Date.now();
  progress.line(
    `live (the demo's simulated clock): minutes ${plan.liveFirstMinute}-${plan.liveEndMinute - 1} of ` +
      `${plan.liveHourIso.slice(0, 13)}h appended to ${live.length} blobs in ${commits} commits, ` +
      `each delivered to the Event Grid trigger`,
  );

  const monitorAlertLines = await fireAndResolveAlert(system, plan);
  monitorAlertLines.forEach((line) => progress.line(line));

  const check = await checkDelivery({
    blobService: system.blobService,
    blobs: [...history, ...live],
    flows: system.flows,
    alerts: system.alerts,
  });
  const { tally, alerts } = check;
  const summary = runSummary(check, history.length + live.length, Date.now() - startedMs);
  const lines = [
    "",
    formatTable([
      ["blobs (history + live)", `${summary.blobs} (${history.length} + ${live.length})`],
      ["tuples in the blobs", summary.tuples],
      ["events read back", summary.events],
      ["distinct ids", summary.distinctIds],
      ["duplicates", summary.duplicates],
      ["lost", summary.lost],
      ["unexpected ids", tally.unexpected],
      ["anomalies", summary.anomalies],
      ["packet captures", summary.captures],
      ["silent flow logs", summary.silentFlowLogs],
      [
        "elapsed",
        `${seconds(summary.elapsedMs)} (history and backfill ${seconds(backfilledMs - startedMs)}, ` +
          `live ${seconds(liveDoneMs - backfilledMs)}, ` +
          `read-back ${seconds(startedMs + summary.elapsedMs - liveDoneMs)})`,
      ],
    ]),
    ...alerts.anomalies.map((alert) => `  alert: ${describeAlert(alert)}`),
    ...[...alerts.captures, ...alerts.unsuccessfulCaptures].map((report) => `  capture: ${describeCapture(report)}`),
    ...alerts.silentFlowLogs.map((alert) => `  silent: ${describeSilence(alert)}`),
    summaryLine(summary),
  ];
  return { summary, report: lines.join("\n") };
}
