/**
 * The one place that names every function of the app. Call sites use these constants,
 * never string literals, so a rename cannot leave a caller behind.
 */
export const OrchestrationNames = {
  /** One per blob (singleton instance id derived from the blob): catches a blob up to its end. */
  ingestBlob: "ingestBlob",
  /** HTTP-started: fans out over the blobs of a time range. */
  backfill: "backfill",
  /** One per target: starts, polls and reports a Network Watcher packet capture. */
  packetCapture: "packetCapture",
  /** Started by a detector entity (which does no I/O): publishes its alerts on the alerts hub. */
  publishAlerts: "publishAlerts",
  /** Started by the reconcile timer: reports each recent flow log's freshness (and silence) on the alerts hub. */
  reportFreshness: "reportFreshness",
  /** One per Azure Monitor alert delivery (alertId + monitorCondition): publishes its event, keeps its answer. */
  publishMonitorAlert: "publishMonitorAlert",
} as const;

export const EntityNames = {
  /** One per blob: exactly-once byte-range checkpoint. */
  checkpoint: "checkpoint",
  /** One per target: sliding anomaly windows. */
  detector: "detector",
  /** Singleton: counts running packet captures against the concurrency cap. */
  captureGate: "captureGate",
  /** One per flow log: its last tuple and commit times, what it delivered since the last report. */
  freshness: "freshness",
  /** One per capture run (keyed by its report id): a request to stop it early (its alert resolved). */
  captureStop: "captureStop",
} as const;

export const ActivityNames = {
  readBlockList: "readBlockList",
  processRange: "processRange",
  listBlobs: "listBlobs",
  publishEvents: "publishEvents",
  /** Started by publishAlerts: requests the packet captures its alerts ask for (through the durable client). */
  startCaptures: "startCaptures",
  resolveCaptureTarget: "resolveCaptureTarget",
  createPacketCapture: "createPacketCapture",
  getPacketCaptureStatus: "getPacketCaptureStatus",
  stopPacketCapture: "stopPacketCapture",
  deletePacketCapture: "deletePacketCapture",
} as const;

export const TriggerNames = {
  blobCreatedEventGrid: "blobCreatedEventGrid",
  blobCreatedWebhook: "blobCreatedWebhook",
  reconcileTimer: "reconcileTimer",
  backfillHttp: "backfillHttp",
  alertsHttp: "alertsHttp",
  /** Azure Monitor alerts with Secure Webhook (an action group's Entra token instead of the function key). */
  alertsSecureHttp: "alertsSecureHttp",
  /** Operators: read or reset a blob's ingestion checkpoint (admin key). */
  checkpointAdminHttp: "checkpointAdminHttp",
} as const;

export type OrchestrationName = (typeof OrchestrationNames)[keyof typeof OrchestrationNames];
export type EntityName = (typeof EntityNames)[keyof typeof EntityNames];
export type ActivityName = (typeof ActivityNames)[keyof typeof ActivityNames];
