import { ValidationError } from "../errors";
import { parseArmResourceId } from "./anomaly/armId";
import { parseResourceIdSegments } from "./resourceId";
import type { RuleKind, Severity } from "./anomaly/rules";

/**
 * Two alert schemas:
 * 1. The anomaly alert flowtap emits (AnomalyAlert, version ALERT_SCHEMA_VERSION).
 * 2. The Azure Monitor common alert schema flowtap accepts on its webhook (parseCommonAlert).
 */

/** Bump on any change to AnomalyAlert (documented in docs/events.md, "Alerts hub"). */
export const ALERT_SCHEMA_VERSION = "1";
export const ANOMALY_ALERT_TYPE = "flowtap.anomaly";

/** One remote address in an alert's evidence. */
export interface EvidenceRemote {
  ip: string;
  /** The rule's measure for this remote: denied flows, distinct ports, allowed flows, or bytes. */
  value: number;
  /** Target ports (inbound kinds) or remote ports (egressBytes), at most 16. */
  ports: number[];
  protocols: string[];
}

/**
 * The anomaly alert event. Fields:
 * - `schemaVersion`: ALERT_SCHEMA_VERSION.
 * - `id`: deterministic from target key + rule id + window start (re-detection gives the same id).
 * - `type`: always `flowtap.anomaly`.
 * - `time`: when it was detected (the detector's `nowIso`), ISO-8601 UTC.
 * - `ruleId`, `kind`, `severity` (0 critical .. 4 verbose).
 * - `target`: `key` (detector key), `mac`, `ip` (first target address seen) and `ips`, `resourceId`.
 * - `window`: `start` (inclusive), `end` (exclusive) minute boundaries, `minutes`.
 * - `evidence`: `metric` (deniedFlows|distinctPorts|allowedFlows|bytes), `value` (the largest per-source
 *   value, or the total bytes for egressBytes), `threshold`, `remotes` (top 10 by value), `ports`,
 *   `protocols`, `nsgNames`, `flowLogNames`. For distinctPorts the value is capped at the threshold.
 * - `historic`: true when found while backfilling; such alerts never request a capture.
 * - `capture`: `requested`, plus the rule's `durationInSeconds` / `maxSizeInBytes` when set.
 */
export interface AnomalyAlert {
  schemaVersion: typeof ALERT_SCHEMA_VERSION;
  id: string;
  type: typeof ANOMALY_ALERT_TYPE;
  time: string;
  ruleId: string;
  kind: RuleKind;
  severity: Severity;
  target: { key: string; mac: string | null; ip: string | null; ips: string[]; resourceId: string | null };
  window: { start: string; end: string; minutes: number };
  evidence: {
    metric: string;
    value: number;
    threshold: number;
    remotes: EvidenceRemote[];
    ports: number[];
    protocols: string[];
    nsgNames: string[];
    flowLogNames: string[];
  };
  historic: boolean;
  capture: { requested: boolean; durationInSeconds?: number; maxSizeInBytes?: number };
}

// ---------------------------------------------------------------------------------------------
// Azure Monitor common alert schema

export const COMMON_ALERT_SCHEMA_ID = "azureMonitorCommonAlertSchema";

export interface CommonAlertTarget {
  kind: "vm" | "nic";
  /** As sent (ARM ids are case-insensitive: compare lower-cased). */
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** A common-schema alert as flowtap reads it: the essentials it reports, and the raw parts targets come from. */
export interface CommonAlert {
  alertId: string;
  monitorCondition: "Fired" | "Resolved";
  /** null where the payload has none (budget and test alerts send null). */
  alertRule: string | null;
  severity: string | null;
  signalType: string | null;
  monitoringService: string | null;
  firedDateTime: string | null;
  /** `data.essentials.alertTargetIDs` (null when absent or null). */
  alertTargetIDs: unknown[] | null;
  /** `data.essentials.configurationItems` (null when absent or null). */
  configurationItems: unknown[] | null;
  /** `data.alertContext` (an object, or null). */
  alertContext: Record<string, unknown> | null;
}

function reject(reason: string): never {
  throw new ValidationError(`Azure Monitor alert payload refused: ${reason}`);
}

function requireObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) reject(`${path} must be an object`);
  return value as Record<string, unknown>;
}

function requireString(object: Record<string, unknown>, key: string, path: string): string {
  const value = object[key];
  if (typeof value !== "string" || value.trim() === "") reject(`${path}.${key} must be a non-empty string`);
  return value;
}

/** A string field that may be absent or null (test and budget alerts send null); another type is refused. */
function optionalString(object: Record<string, unknown>, key: string, path: string): string | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") reject(`${path}.${key} must be a string or null (got ${JSON.stringify(value)})`);
  return value;
}

function optionalArray(object: Record<string, unknown>, key: string, path: string): unknown[] | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) reject(`${path}.${key} must be an array or null`);
  return value;
}

const TARGET_TYPES: Record<string, CommonAlertTarget["kind"]> = {
  "microsoft.compute/virtualmachines": "vm",
  "microsoft.network/networkinterfaces": "nic",
};

/** A VM scale set instance: `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/
 * virtualMachineScaleSets/{set}/virtualMachines/{instanceId}` (the id ARM gives a scale set VM). */
export interface ScaleSetInstanceId {
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  /** The scale set's own resource id (a packet capture's AzureVMSS target). */
  scaleSetId: string;
  scaleSetName: string;
  instanceId: string;
}

/** Parses a scale set instance id (any case, segments validated); null for anything else. */
export function parseScaleSetInstanceId(resourceId: string): ScaleSetInstanceId | null {
  const parsed = parseResourceIdSegments(resourceId);
  if (!parsed.ok || parsed.value.segments.length !== 10) return null;
  const segments = parsed.value.segments;
  const scaleSetId = `/${segments.slice(0, 8).join("/")}`;
  const scaleSet = parseArmResourceId(scaleSetId);
  if (
    scaleSet?.type !== "microsoft.compute/virtualmachinescalesets" ||
    segments[8]!.toLowerCase() !== "virtualmachines"
  )
    return null;
  const { subscriptionId, resourceGroup, name: scaleSetName } = scaleSet;
  return { resourceId, subscriptionId, resourceGroup, scaleSetId, scaleSetName, instanceId: segments[9]! };
}

/** Parses a VM or NIC resource id (any case, segments validated); null for anything else. */
export function parseVmOrNicResourceId(resourceId: string): CommonAlertTarget | null {
  const parsed = parseArmResourceId(resourceId);
  const kind = parsed ? TARGET_TYPES[parsed.type] : undefined;
  return parsed && kind
    ? {
        kind,
        resourceId,
        subscriptionId: parsed.subscriptionId,
        resourceGroup: parsed.resourceGroup,
        name: parsed.name,
      }
    : null;
}

/**
 * Parses an Azure Monitor common-alert-schema webhook body, already JSON-parsed (HTTP triggers read it with
 * readJsonBody).
 * Throws a ValidationError naming the field only when the body is not a common-schema alert: which
 * targets it names, and whether flowtap can capture them, is for alertTargets.planAlertTargets.
 */
export function parseCommonAlert(body: unknown): CommonAlert {
  const root = requireObject(body, "body");
  if (root.schemaId !== COMMON_ALERT_SCHEMA_ID) {
    reject(
      `schemaId must be "${COMMON_ALERT_SCHEMA_ID}" (got ${JSON.stringify(root.schemaId) ?? "nothing"}); ` +
        "enable the common alert schema on the action group",
    );
  }
  const data = requireObject(root.data, "data");
  const essentials = requireObject(data.essentials, "data.essentials");
  const path = "data.essentials";
  const alertId = requireString(essentials, "alertId", path);
  const monitorCondition = essentials.monitorCondition;
  if (monitorCondition !== "Fired" && monitorCondition !== "Resolved")
    reject(
      `${path}.monitorCondition must be "Fired" or "Resolved" (got ${JSON.stringify(monitorCondition) ?? "nothing"})`,
    );
  const firedDateTime = optionalString(essentials, "firedDateTime", path);
  if (firedDateTime !== null && Number.isNaN(Date.parse(firedDateTime)))
    reject(`${path}.firedDateTime must be an ISO-8601 time (got "${firedDateTime}")`);
  const alertContext = data.alertContext;
  if (alertContext !== undefined && alertContext !== null) requireObject(alertContext, "data.alertContext");
  return {
    alertId,
    monitorCondition,
    alertRule: optionalString(essentials, "alertRule", path),
    severity: optionalString(essentials, "severity", path),
    signalType: optionalString(essentials, "signalType", path),
    monitoringService: optionalString(essentials, "monitoringService", path),
    firedDateTime,
    alertTargetIDs: optionalArray(essentials, "alertTargetIDs", path),
    configurationItems: optionalArray(essentials, "configurationItems", path),
    alertContext: (alertContext ?? null) as Record<string, unknown> | null,
  };
}
