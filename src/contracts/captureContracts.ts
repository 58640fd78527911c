/**
 * The capture feature's contracts: the detector and capture-gate entities, the packetCapture and
 * publishAlerts orchestrations and their activities (ARM steps, publishEvents), with the events
 * they publish. Shared by orchestrations/, activities/ and the triggers that start captures.
 */
import type { AnomalyAlert } from "../core/alertSchema";
import type { MinuteAggregate, TargetRef } from "../core/anomaly/aggregate";
import type { ApplyAggregatesResult, DetectorState } from "../core/anomaly/detector";
import type { CapturePlan, CapturePolicyConfig, CaptureRequest, RefusalReason } from "../core/capturePolicy";
// A generic 64-bit string hash despite its name: entity-safe keys and deterministic instance ids.
import { hashBlobPath as hash64 } from "../core/eventId";
import { activityContract, entityOperation, orchestrationContract } from "./contract";
import { ActivityNames, EntityNames, OrchestrationNames } from "./names";

// ---- detector entity ----------------------------------------------------------------------------

export const HISTORIC_DETECTOR_SUFFIX = "-historic";
/** Operations of the detector entity. */
export const DetectorOperations = { ingest: "ingest", get: "get", reset: "reset" } as const;

/** Input of the "ingest" operation (what the ingestion orchestration signals). */
export interface DetectorIngestInput {
  aggregates: MinuteAggregate[];
  historic: boolean;
  /** context.df.currentUtcDateTime of the signalling orchestration, ISO-8601. */
  nowIso: string;
}

export interface DetectorEntityState {
  detector: DetectorState;
  /** Alerts detected but not yet handed off (their dispatch failed): retried on the next operation. */
  pending: AnomalyAlert[];
}

/** Result of "ingest" (visible to callers that call rather than signal). */
export interface DetectorIngestResult {
  alerts: number;
  skipped: ApplyAggregatesResult["skipped"];
  /** Alerts still waiting for a successful dispatch. */
  pending: number;
}

export interface AlertDispatch {
  /** The detector entity key. */
  detectorKey: string;
  alerts: AnomalyAlert[];
}

/** The entity key of a target's live detector: the MAC, else a hash of the resource id (keys must not contain '/'). */
export function detectorEntityKey(target: TargetRef): string {
  return target.mac ?? `res-${hash64(target.key.toLowerCase())}`;
}

/**
 * The entity key of a target's backfill detector for one blob. A blob's ranges reach its detector in order (one
 * ingestBlob reads them one after the other), while a backfill reads a NIC's hourly blobs in parallel: a detector
 * shared by them would see a later hour first and expire the earlier hour's minutes, missing its anomalies by chance.
 */
export function historicDetectorEntityKey(target: TargetRef, blob: { container: string; path: string }): string {
  return `${detectorEntityKey(target)}-${hash64(`${blob.container}/${blob.path}`)}${HISTORIC_DETECTOR_SUFFIX}`;
}

export function isHistoricDetectorKey(key: string): boolean {
  return key.endsWith(HISTORIC_DETECTOR_SUFFIX);
}

// ---- capture gate entity -----------------------------------------------------------------------

/** The one gate of the app. */
export const CAPTURE_GATE_KEY = "global";
export const CaptureGateOperations = { acquire: "acquire", release: "release", get: "get", reset: "reset" } as const;

export interface AcquireCaptureInput {
  request: CaptureRequest;
  policy: CapturePolicyConfig;
  /** The orchestration's currentUtcDateTime, ISO-8601. */
  nowIso: string;
}

export type AcquireCaptureResult =
  { decision: "allowed"; plan: CapturePlan } | { decision: "refused"; reason: RefusalReason; message: string };

export interface ReleaseCaptureInput {
  name: string;
}

// ---- capture stop entity ---------------------------------------------------------------------------

export const CaptureStopOperations = { request: "request", get: "get" } as const;

/** Why a capture was asked to stop before its limit. */
export interface CaptureStopRequest {
  reason: "alertResolved";
  /** The Azure Monitor alert that resolved. */
  alertId: string;
  /** When the stop was asked for, ISO-8601. */
  requestedAt: string;
}

// ---- packetCapture orchestration and its ARM activities -----------------------------------------

/** What to capture: a VM or NIC resource id, and/or a NIC MAC (as the detector knows it). */
export interface CaptureTarget {
  resourceId: string | null;
  /** 12 hex digits, any separators. */
  mac: string | null;
}

/** An ARM call's outcome as the activities report it (they never throw for ARM answers). */
export type ArmStep<T> =
  | { outcome: "ok"; value: T }
  /** 429: try again after the service's Retry-After. */
  | { outcome: "throttled"; retryAfterInSeconds: number; message: string }
  /**
   * 5xx (after the SDK's own retries), 408, 409 AnotherOperationInProgress, a network error or timeout, or an
   * asynchronous operation that ended Failed with a transient code: worth a few more attempts, not before
   * `retryAfterInSeconds` when the service sent Retry-After.
   */
  | { outcome: "transient"; statusCode?: number; code?: string; message: string; retryAfterInSeconds?: number }
  /**
   * Permanent: validation (400), not found (404), a name clash (409), agent missing, the session limit, 403...,
   * with the ARM code (also of an asynchronous operation that ended Failed): give up with the reason.
   */
  | { outcome: "failed"; statusCode?: number; code?: string; message: string };

export interface ResolveCaptureTargetInput {
  target: CaptureTarget;
  /** Subscriptions to search for a MAC (besides the target resource id's own). */
  subscriptionIds: string[];
}

export interface ResolvedCaptureTarget {
  /** The VM, or the scale set VM (`.../virtualMachineScaleSets/{set}/virtualMachines/{instanceId}`) of an instance. */
  vm: { resourceId: string; name: string; location: string };
  /** Whether the Network Watcher agent VM extension is installed (captures need it). */
  hasAgent: boolean;
  /** The network watcher of the VM's region, or null when the subscription has none there. */
  watcher: NetworkWatcherRef | null;
}

export interface NetworkWatcherRef {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** The Network Watcher PacketCapture body and its filter type (from @azure/arm-network, via the core). */
export type PacketCapture = CapturePlan["parameters"];
export type PacketCaptureFilter = NonNullable<PacketCapture["filters"]>[number];

export interface CreatePacketCaptureInput {
  watcher: NetworkWatcherRef;
  name: string;
  parameters: PacketCapture;
}

export interface CreatedPacketCapture {
  /** The name finally used: the planned one, or a suffixed one after a name conflict. */
  name: string;
  /** True when an existing capture of ours (same name, same target) was adopted after a 409. */
  adopted: boolean;
  storagePath: string | null;
}

export interface PacketCaptureRef {
  watcher: NetworkWatcherRef;
  name: string;
}

export interface PacketCaptureStatusResult {
  status: string;
  stopReason: string | null;
  errors: string[];
  captureStartTime: string | null;
}

export interface PacketCaptureInput {
  target: CaptureTarget;
  /** The alert that asked for it (flowtap alert id or Azure Monitor alertId). */
  reason: string;
  source: "anomaly" | "azureMonitor";
  /** Filter hints and limits from the evidence (see captureRequestFromAlert). */
  hints: Omit<CaptureRequest, "vmResourceId" | "reason">;
  /** The capture policy (FLOWTAP_CAPTURE_POLICY); null: not configured, the capture is refused. */
  policy: CapturePolicyConfig | null;
  pollIntervalInSeconds: number;
  /** When it was requested (the starter's clock), ISO-8601: part of the report's id. */
  requestedAt: string;
  /** The `flowtap.monitorAlert` event of the Azure Monitor alert that asked for it (azureMonitor only). */
  alertEventId?: string;
}

export const CAPTURE_EVENT_SCHEMA_VERSION = "1";
export const CaptureEventTypes = {
  completed: "flowtap.captureCompleted",
  failed: "flowtap.captureFailed",
  refused: "flowtap.captureRefused",
} as const;
export type CaptureEventType = (typeof CaptureEventTypes)[keyof typeof CaptureEventTypes];

/** The capture report: the orchestration's output and the event published on the alerts hub. */
export interface CaptureReport {
  schemaVersion: typeof CAPTURE_EVENT_SCHEMA_VERSION;
  id: string;
  type: CaptureEventType;
  time: string;
  /** The alert that asked for it. */
  alertId: string;
  /** The `flowtap.monitorAlert` event of that alert (Azure Monitor alerts; null for anomalies). */
  alertEventId: string | null;
  source: PacketCaptureInput["source"];
  target: { resourceId: string | null; mac: string | null; vmResourceId: string | null };
  /** refused: notAllowlisted | cooldown | concurrencyCap | notConfigured; failed: the failing step. */
  reason:
    | RefusalReason
    | "notConfigured"
    | "resolve"
    | "noAgent"
    | "noNetworkWatcher"
    | "create"
    | "status"
    | "captureError"
    | null;
  message: string;
  capture: {
    name: string;
    networkWatcherId: string;
    status: string | null;
    stopReason: string | null;
    errors: string[];
    /** Where the .cap file is written (storagePath). */
    fileUrl: string | null;
    /** The capture's Network Watcher storage location: the account (`storageId`) and the blob URL (`storagePath`). */
    storageLocation: { storageId: string | null; storagePath: string | null };
    timeLimitInSeconds: number | null;
    totalBytesPerSession: number | null;
    filters: PacketCaptureFilter[];
    /** Whether the packetCapture ARM resource was kept after the capture. */
    resourceKept: boolean;
    /** Set when flowtap stopped it before its limit because its alert resolved. */
    stopRequest: CaptureStopRequest | null;
  } | null;
}

export type CapturePhase =
  "resolving" | "gate" | "creating" | "capturing" | "stopping" | "deleting" | "reporting" | "done";

export interface PacketCaptureCustomStatus {
  phase: CapturePhase;
  captureName?: string;
  status?: string;
  message?: string;
}

/** The capture report's id: from the capture instance and the request (so its starter can name it in advance). */
export function captureReportId(instanceId: string, input: Pick<PacketCaptureInput, "requestedAt" | "reason">): string {
  return `ftc-${hash64(`${instanceId}\u0000${input.requestedAt}\u0000${input.reason}`)}`;
}

/** The instance id for a target: duplicate alerts for one target find its running instance. */
export function packetCaptureInstanceId(target: CaptureTarget): string {
  const identity = target.resourceId
    ? target.resourceId.toLowerCase()
    : `mac:${(target.mac ?? "").replace(/[^0-9a-f]/gi, "").toUpperCase()}`;
  return `capture-${hash64(identity)}`;
}

// ---- Azure Monitor alerts ------------------------------------------------------------------------

export const MONITOR_ALERT_EVENT_SCHEMA_VERSION = "1";
export const MONITOR_ALERT_EVENT_TYPE = "flowtap.monitorAlert";

/**
 * What became of one target of an Azure Monitor alert: `started` (a capture instance was started),
 * `absorbed` (the target's capture was already running), `notCapturable` (well-formed, but no
 * machine: a workspace, a storage account, a subscription), `unresolved` (a computer name no VM
 * answers to, or the lookup failed), `refused` (malformed or unsafe: never sent to ARM); on a
 * Resolved alert, `stopRequested` (a capture its Fired delivery started, asked to stop).
 */
export type MonitorTargetOutcome =
  "started" | "absorbed" | "notCapturable" | "unresolved" | "refused" | "stopRequested";

export interface MonitorAlertTarget {
  /** The resource id or computer name as the alert sent it. */
  target: string;
  /** Where in the payload it was found, e.g. `data.essentials.alertTargetIDs[0]`. */
  source: string;
  outcome: MonitorTargetOutcome;
  /** Why it was not captured; null when started or absorbed. */
  reason: string | null;
  /** The resource the capture was asked for (the target, or the VM a computer name resolved to). */
  resourceId: string | null;
  /** The packetCapture orchestration instance (started or absorbed). */
  captureInstanceId: string | null;
  /** The id of that capture's report event (`flowtap.capture*`). */
  captureReportId: string | null;
}

/** The alerts-hub event for an Azure Monitor alert flowtap received: its essentials and every target's outcome. */
export interface MonitorAlertEvent {
  schemaVersion: typeof MONITOR_ALERT_EVENT_SCHEMA_VERSION;
  /** `ftm-…`, from alertId and monitorCondition: a redelivery has the same id. */
  id: string;
  type: typeof MONITOR_ALERT_EVENT_TYPE;
  /** When flowtap received it first. */
  time: string;
  alertId: string;
  alertRule: string | null;
  severity: string | null;
  signalType: string | null;
  monitoringService: string | null;
  monitorCondition: "Fired" | "Resolved";
  firedDateTime: string | null;
  targets: MonitorAlertTarget[];
}

function monitorAlertKey(alertId: string, monitorCondition: string): string {
  return hash64(`${alertId.toLowerCase()}\u0000${monitorCondition}`);
}

/** The event id of an alert delivery (alertId + monitorCondition): redeliveries share it. */
export function monitorAlertEventId(alertId: string, monitorCondition: string): string {
  return `ftm-${monitorAlertKey(alertId, monitorCondition)}`;
}

/** The publishMonitorAlert instance of an alert delivery: it holds the first answer for redeliveries. */
export function monitorAlertInstanceId(alertId: string, monitorCondition: string): string {
  return `monitor-alert-${monitorAlertKey(alertId, monitorCondition)}`;
}

// ---- publishEvents activity ----------------------------------------------------------------------

/** One event for the alerts hub. */
export interface PublishedEvent {
  /** Stable id (sent as the flowtapEventId property): consumers drop re-sent duplicates by it. */
  id: string;
  /** JSON-serializable body (an AnomalyAlert, a capture report, ...). */
  body: object;
  /** Same key, same partition, in order (e.g. the target key). */
  partitionKey?: string;
}

export interface PublishEventsInput {
  events: PublishedEvent[];
}

export interface PublishEventsResult {
  eventsSent: number;
}

/** The detector entity's operations with their inputs and results. */
export const DetectorEntity = {
  ingest: entityOperation<DetectorIngestInput, DetectorIngestResult>(EntityNames.detector, DetectorOperations.ingest),
  get: entityOperation<undefined, DetectorEntityState | null>(EntityNames.detector, DetectorOperations.get),
  reset: entityOperation<undefined, null>(EntityNames.detector, DetectorOperations.reset),
} as const;

/** The capture gate's operations with their inputs and results. */
export const CaptureGateEntity = {
  acquire: entityOperation<AcquireCaptureInput, AcquireCaptureResult>(
    EntityNames.captureGate,
    CaptureGateOperations.acquire,
  ),
  release: entityOperation<ReleaseCaptureInput, null>(EntityNames.captureGate, CaptureGateOperations.release),
} as const;

/** A capture run's stop flag (entity key: the run's report id, so a later run of the same target starts clear). */
export const CaptureStopEntity = {
  request: entityOperation<CaptureStopRequest, null>(EntityNames.captureStop, CaptureStopOperations.request),
  get: entityOperation<undefined, CaptureStopRequest | null>(EntityNames.captureStop, CaptureStopOperations.get),
} as const;

export const packetCaptureOrchestration = orchestrationContract<PacketCaptureInput, CaptureReport>(
  OrchestrationNames.packetCapture,
);
export const publishAlertsOrchestration = orchestrationContract<AlertDispatch, PublishAlertsResult>(
  OrchestrationNames.publishAlerts,
);
export const publishMonitorAlertOrchestration = orchestrationContract<MonitorAlertEvent, PublishEventsResult>(
  OrchestrationNames.publishMonitorAlert,
);

export interface PublishAlertsResult extends PublishEventsResult {
  captures: StartCapturesResult["captures"];
}

/** The instance id of the publishAlerts run of a dispatch: the same alerts always name the same instance. */
export function alertsInstanceId(dispatch: AlertDispatch): string {
  return `alerts-${hash64(dispatch.alerts.map((alert) => alert.id).join(","))}`;
}

/** startCaptures: the captures a dispatch's alerts ask for, requested once from publishAlerts. */
export interface StartCapturesInput {
  alerts: AnomalyAlert[];
}

export interface StartCapturesResult {
  /** Per alert: the target's capture instance and whether it was started or already running (absorbed). */
  captures: { alertId: string; instanceId: string; outcome: "started" | "absorbed" }[];
}

export const startCapturesActivity = activityContract<StartCapturesInput, StartCapturesResult>(
  ActivityNames.startCaptures,
);
export const publishEventsActivity = activityContract<PublishEventsInput, PublishEventsResult>(
  ActivityNames.publishEvents,
);
export const resolveCaptureTargetActivity = activityContract<ResolveCaptureTargetInput, ArmStep<ResolvedCaptureTarget>>(
  ActivityNames.resolveCaptureTarget,
);
export const createPacketCaptureActivity = activityContract<CreatePacketCaptureInput, ArmStep<CreatedPacketCapture>>(
  ActivityNames.createPacketCapture,
);
export const getPacketCaptureStatusActivity = activityContract<PacketCaptureRef, ArmStep<PacketCaptureStatusResult>>(
  ActivityNames.getPacketCaptureStatus,
);
export const stopPacketCaptureActivity = activityContract<PacketCaptureRef, ArmStep<null>>(
  ActivityNames.stopPacketCapture,
);
export const deletePacketCaptureActivity = activityContract<PacketCaptureRef, ArmStep<null>>(
  ActivityNames.deletePacketCapture,
);
