import { ValidationError } from "../errors";
import { parseArmResourceId } from "./anomaly/armId";
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

export type CommonAlert =
  | {
      kind: "fired";
      alertId: string;
      alertRule: string;
      severity: string;
      firedDateTime: string;
      targets: CommonAlertTarget[];
    }
  | { kind: "resolved"; alertId: string };

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

const TARGET_TYPES: Record<string, CommonAlertTarget["kind"]> = {
  "microsoft.compute/virtualmachines": "vm",
  "microsoft.network/networkinterfaces": "nic",
};

/** Parses a VM or NIC resource id (any case); null for anything else. */
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
 * Parses an Azure Monitor common-alert-schema webhook body (already JSON-parsed).
 * Fired alerts must target VMs or NICs; anything else throws a ValidationError naming the field.
 */
export function parseCommonAlert(body: unknown): CommonAlert {
  const root = requireObject(body, "body");
  if (root.schemaId !== COMMON_ALERT_SCHEMA_ID) {
    reject(
      `schemaId must be "${COMMON_ALERT_SCHEMA_ID}" (got ${JSON.stringify(root.schemaId) ?? "nothing"}); enable the ` +
        `common alert schema on the action group`,
    );
  }
  const data = requireObject(root.data, "data");
  const essentials = requireObject(data.essentials, "data.essentials");
  const path = "data.essentials";
  const alertId = requireString(essentials, "alertId", path);
  const condition = essentials.monitorCondition;
  if (condition === "Resolved") return { kind: "resolved", alertId };
  if (condition !== "Fired")
    reject(`${path}.monitorCondition must be "Fired" or "Resolved" (got ${JSON.stringify(condition) ?? "nothing"})`);
  const alertRule = requireString(essentials, "alertRule", path);
  const severity = requireString(essentials, "severity", path);
  const firedDateTime = requireString(essentials, "firedDateTime", path);
  if (Number.isNaN(Date.parse(firedDateTime)))
    reject(`${path}.firedDateTime must be an ISO-8601 time (got "${firedDateTime}")`);
  const ids = essentials.alertTargetIDs;
  if (!Array.isArray(ids)) reject(`${path}.alertTargetIDs must be an array`);
  if (ids.length === 0) reject(`${path}.alertTargetIDs must not be empty`);
  const targets = ids.map((id: unknown, index) => {
    const target = typeof id === "string" ? parseVmOrNicResourceId(id) : null;
    if (!target)
      reject(
        `${path}.alertTargetIDs[${index}] must be a virtual machine or network interface resource id ` +
          `(got ${JSON.stringify(id)})`,
      );
    return target;
  });
  return { kind: "fired", alertId, alertRule, severity, firedDateTime, targets };
}
