/**
 * The events of the alerts hub (anomaly alerts, capture reports, Azure Monitor alerts, freshness reports and
 * warnings) as rows of the custom Log Analytics table `FlowtapAlerts_CL`, sent through the Logs Ingestion API to
 * the DCR stream `Custom-FlowtapAlerts` (FLOWTAP_DCR_ALERTS_STREAM). Pure. The columns below are the one source of
 * the stream declaration and of the table the template creates (infra/logAnalytics.ts); docs/events.md lists them.
 *
 * Typed columns carry what a workbook joins and filters on (the alert id joins an alert to its captures); the
 * whole event is in `Payload`, so nothing of it is lost when a column is missing.
 */
import { ValidationError } from "../errors";
import { ANOMALY_ALERT_TYPE } from "./alertSchema";
import { MAX_FIELD_BYTES, type LogAnalyticsColumn, type RowValue } from "./asim";

/** The custom table (custom tables end in `_CL`). */
export const ALERTS_TABLE = "FlowtapAlerts_CL";
/** The DCR data flow's `outputStream` for it (custom tables take the `Custom-` prefix). */
export const ALERTS_OUTPUT_STREAM = `Custom-${ALERTS_TABLE}`;
/** The DCR input stream the alerts go to unless FLOWTAP_DCR_ALERTS_STREAM names another. */
export const DEFAULT_DCR_ALERTS_STREAM = "Custom-FlowtapAlerts";

/** Every column of a row, in row order (the table's schema: TimeGenerated is required in every custom table). */
export const ALERTS_COLUMNS = [
  { name: "TimeGenerated", type: "datetime" },
  { name: "EventId", type: "string" },
  { name: "EventType", type: "string" },
  { name: "SchemaVersion", type: "string" },
  { name: "AlertId", type: "string" },
  { name: "AlertSource", type: "string" },
  { name: "AlertRule", type: "string" },
  { name: "AlertKind", type: "string" },
  { name: "Severity", type: "string" },
  { name: "MonitorCondition", type: "string" },
  { name: "TargetKey", type: "string" },
  { name: "TargetMac", type: "string" },
  { name: "TargetIp", type: "string" },
  { name: "TargetResourceId", type: "string" },
  { name: "VmResourceId", type: "string" },
  { name: "WindowStart", type: "datetime" },
  { name: "WindowEnd", type: "datetime" },
  { name: "Metric", type: "string" },
  { name: "MetricValue", type: "real" },
  { name: "Threshold", type: "real" },
  { name: "Historic", type: "boolean" },
  { name: "CaptureRequested", type: "boolean" },
  { name: "CaptureName", type: "string" },
  { name: "CaptureStatus", type: "string" },
  { name: "CaptureStopReason", type: "string" },
  { name: "CaptureFileUrl", type: "string" },
  { name: "Reason", type: "string" },
  { name: "Message", type: "string" },
  { name: "FlowLog", type: "string" },
  { name: "Payload", type: "dynamic" },
] as const satisfies readonly LogAnalyticsColumn[];

export type AlertsColumnName = (typeof ALERTS_COLUMNS)[number]["name"];
export type AlertsRow = Readonly<Record<AlertsColumnName, RowValue>>;

/** An event of the alerts hub as publishEvents gets it. */
export interface AlertsHubEvent {
  id: string;
  body: object;
}

type Fields = Readonly<Record<string, unknown>>;

const objectAt = (value: unknown): Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Fields) : {};
const textOf = (value: unknown): string | null => (typeof value === "string" ? value : null);
const numberOf = (value: unknown): number | null => (typeof value === "number" ? value : null);
const booleanOf = (value: unknown): boolean | null => (typeof value === "boolean" ? value : null);

/** Where an event says which alert it belongs to: an anomaly is its own alert, the others name it in `alertId`. */
function alertIdOf(body: Fields): string | null {
  return body.type === ANOMALY_ALERT_TYPE ? textOf(body.id) : textOf(body.alertId);
}

/** Anomalies are flowtap's own; capture reports say where their alert came from; monitor alerts are Azure's. */
function alertSourceOf(body: Fields): string | null {
  if (body.type === ANOMALY_ALERT_TYPE) return "anomaly";
  return textOf(body.source) ?? (typeof body.monitorCondition === "string" ? "azureMonitor" : null);
}

const UTF8 = new TextEncoder();

/**
 * The event for `Payload`; one whose JSON is over the 64 KB Log Analytics keeps per field (an Azure Monitor alert
 * naming very many targets) is replaced by a note of its size, so the typed columns still arrive (the alerts hub has
 * the whole event) instead of the publish being refused forever.
 */
function payloadOf(body: Fields): Fields {
  const bytes = UTF8.encode(JSON.stringify(body)).length;
  return bytes <= MAX_FIELD_BYTES ? body : { omitted: `the event is ${bytes} bytes, over ${MAX_FIELD_BYTES}`, bytes };
}

export function toAlertsRow(event: AlertsHubEvent): AlertsRow {
  const body = objectAt(event.body);
  const time = textOf(body.time);
  if (time === null || Number.isNaN(Date.parse(time)))
    throw new ValidationError(`Event ${event.id}: body.time must be an ISO-8601 time to be a ${ALERTS_TABLE} row`);
  const target = objectAt(body.target);
  const window = objectAt(body.window);
  const evidence = objectAt(body.evidence);
  const capture = objectAt(body.capture);
  const severity = body.severity;
  return {
    TimeGenerated: time,
    EventId: event.id,
    EventType: textOf(body.type),
    SchemaVersion: textOf(body.schemaVersion),
    AlertId: alertIdOf(body),
    AlertSource: alertSourceOf(body),
    AlertRule: textOf(body.ruleId) ?? textOf(body.alertRule),
    AlertKind: textOf(body.kind) ?? textOf(body.signalType),
    Severity: typeof severity === "number" ? String(severity) : textOf(severity),
    MonitorCondition: textOf(body.monitorCondition),
    TargetKey: textOf(target.key),
    TargetMac: textOf(target.mac),
    TargetIp: textOf(target.ip),
    TargetResourceId: textOf(target.resourceId),
    VmResourceId: textOf(target.vmResourceId),
    WindowStart: textOf(window.start),
    WindowEnd: textOf(window.end),
    Metric: textOf(evidence.metric),
    MetricValue: numberOf(evidence.value),
    Threshold: numberOf(evidence.threshold),
    Historic: booleanOf(body.historic),
    CaptureRequested: booleanOf(capture.requested),
    CaptureName: textOf(capture.name),
    CaptureStatus: textOf(capture.status),
    CaptureStopReason: textOf(capture.stopReason),
    CaptureFileUrl: textOf(capture.fileUrl),
    Reason: textOf(body.reason),
    Message: textOf(body.message),
    FlowLog: textOf(body.flowLog),
    Payload: payloadOf(body),
  };
}
