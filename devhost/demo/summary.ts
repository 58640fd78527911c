/**
 * The end of `flowtap start` and `flowtap run`: a small table, then one machine-readable line
 * `summary: blobs=N tuples=N events=N distinctIds=N duplicates=N lost=N anomalies=N captures=N silentFlowLogs=N
 * elapsedMs=N`.
 */
import { ANOMALY_ALERT_TYPE, type AnomalyAlert } from "../../src/core/alertSchema";
import type { BlobServiceClient } from "@azure/storage-blob";
import {
  EventIdCounter,
  expectedEventIds,
  idOf,
  readBackEvents,
  type BlobRef,
  type DeliveryTally,
  type ReadBackOptions,
} from "./delivery";
import { CaptureEventTypes, CaptureReport } from "../../src/contracts/captureContracts";
import { FLOW_LOG_SILENT_EVENT_TYPE, type FlowLogSilentAlert } from "../../src/core/freshness";

export interface RunSummary {
  blobs: number;
  tuples: number;
  events: number;
  distinctIds: number;
  duplicates: number;
  lost: number;
  anomalies: number;
  captures: number;
  /** Flow logs alerted silent (flowtap.flowLogSilent). */
  silentFlowLogs: number;
  elapsedMs: number;
}

const SUMMARY_KEYS: readonly (keyof RunSummary)[] = [
  "blobs",
  "tuples",
  "events",
  "distinctIds",
  "duplicates",
  "lost",
  "anomalies",
  "captures",
  "silentFlowLogs",
  "elapsedMs",
];

export function summaryLine(summary: RunSummary): string {
  return `summary: ${SUMMARY_KEYS.map((key) => `${key}=${summary[key]}`).join(" ")}`;
}

/** Two columns, the first padded: `label   value`. */
export function formatTable(rows: ReadonlyArray<readonly [string, string | number]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join("\n");
}

export interface AlertsHubContent {
  /** Distinct anomaly alerts (by id). */
  anomalies: AnomalyAlert[];
  /** Distinct reports of completed captures (by id). */
  captures: CaptureReport[];
  /** Distinct reports of refused or failed captures. */
  unsuccessfulCaptures: CaptureReport[];
  /** Distinct alerts of flow logs gone silent. */
  silentFlowLogs: FlowLogSilentAlert[];
}

/** Reads the alerts hub back: the anomalies found and the captures' reports. */
export async function readAlertsHub(options: ReadBackOptions): Promise<AlertsHubContent> {
  const anomalies = new Map<string, AnomalyAlert>();
  const captures = new Map<string, CaptureReport>();
  const unsuccessful = new Map<string, CaptureReport>();
  const silent = new Map<string, FlowLogSilentAlert>();
  await readBackEvents(options, (body) => {
    const event = body as { id?: unknown; type?: unknown };
    if (typeof event.id !== "string") return;
    if (event.type === ANOMALY_ALERT_TYPE) anomalies.set(event.id, body as AnomalyAlert);
    else if (event.type === CaptureEventTypes.completed) captures.set(event.id, body as CaptureReport);
    else if (event.type === CaptureEventTypes.failed || event.type === CaptureEventTypes.refused)
      unsuccessful.set(event.id, body as CaptureReport);
    else if (event.type === FLOW_LOG_SILENT_EVENT_TYPE) silent.set(event.id, body as FlowLogSilentAlert);
  });
  return {
    anomalies: [...anomalies.values()],
    captures: [...captures.values()],
    unsuccessfulCaptures: [...unsuccessful.values()],
    silentFlowLogs: [...silent.values()],
  };
}

export interface CheckDeliveryOptions {
  blobService: BlobServiceClient;
  /** The blobs whose tuples must all have arrived once. */
  blobs: readonly BlobRef[];
  flows: ReadBackOptions;
  alerts: ReadBackOptions;
  /** Each flow event read back, in hub order. */
  onEvent?: (body: unknown) => void;
}

export interface DeliveryCheck {
  tuples: number;
  tally: DeliveryTally;
  alerts: AlertsHubContent;
}

/** Reads both hubs back and compares the flow events' ids with the blobs' own. */
export async function checkDelivery(options: CheckDeliveryOptions): Promise<DeliveryCheck> {
  const expected = await expectedEventIds(options.blobService, options.blobs);
  const counter = new EventIdCounter();
  await readBackEvents(options.flows, (body) => {
    counter.add(idOf(body) ?? "");
    options.onEvent?.(body);
  });
  return { tuples: expected.tuples, tally: counter.tally(expected.ids), alerts: await readAlertsHub(options.alerts) };
}

/** The summary of a checked run. */
export function runSummary(check: DeliveryCheck, blobs: number, elapsedMs: number): RunSummary {
  const { tally, alerts } = check;
  return {
    blobs,
    tuples: check.tuples,
    events: tally.events,
    distinctIds: tally.distinctIds,
    duplicates: tally.duplicates,
    lost: tally.lost,
    anomalies: alerts.anomalies.length,
    captures: alerts.captures.length,
    silentFlowLogs: alerts.silentFlowLogs.length,
    elapsedMs,
  };
}

/** One line per alert: `port-scan (historic) on 000D3A.. 10.0.0.4 from 45.155.205.233 at 10:11-10:16`. */
export function describeAlert(alert: AnomalyAlert): string {
  const remotes = alert.evidence.remotes
    .map((remote) => remote.ip)
    .slice(0, 3)
    .join(", ");
  const window = `${alert.window.start.slice(11, 16)}-${alert.window.end.slice(11, 16)}`;
  const { target, evidence } = alert;
  const rule = `${alert.ruleId}${alert.historic ? " (historic)" : ""}`;
  const on = `${target.mac ?? target.resourceId ?? target.key} ${target.ip ?? ""}`;
  return (
    `${rule} on ${on} from ${remotes} at ${window} UTC: ` +
    `${evidence.metric}=${evidence.value} (threshold ${evidence.threshold})`
  );
}

/** `FL-VNET-APP-02 silent since 12:27 UTC (13 min, alerted after 10)`. */
export function describeSilence(alert: FlowLogSilentAlert): string {
  const name = alert.flowLog.split("/").at(-1) ?? alert.flowLog;
  const minutes = (seconds: number): number => Math.round(seconds / 60);
  return (
    `${name} silent since ${alert.lastCommitTime.slice(11, 16)} UTC ` +
    `(${minutes(alert.silentForSeconds)} min, alerted after ${minutes(alert.silentAfterSeconds)})`
  );
}

export function describeCapture(report: CaptureReport): string {
  const vm = report.target.vmResourceId?.split("/").at(-1) ?? report.target.resourceId ?? report.target.mac ?? "?";
  const capture = report.capture;
  const name = capture?.name ?? "capture";
  const stop = capture?.stopRequest
    ? ` (stopped: alert resolved)`
    : capture?.stopReason
      ? ` (${capture.stopReason})`
      : "";
  const file = capture?.fileUrl ? ` -> ${capture.fileUrl}` : "";
  const reason = report.reason ? ` [${report.reason}]` : "";
  return `${name} on ${vm}: ${report.type.replace("flowtap.", "")}${stop}${file}${reason}`;
}
