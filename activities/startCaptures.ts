/**
 * startCaptures: requests the packet captures a dispatch's alerts ask for. It runs from the
 * publishAlerts orchestration, whose start is the one idempotent step of a detector dispatch, so
 * the captures of an anomaly are requested from an orchestration's recorded action: once, even when
 * the real extension runs the detector's operation again after a crash before its checkpoint.
 * Each request joins the target's running capture or starts it (the capture gate's cooldown decides).
 */
import type { InvocationContext } from "@azure/functions";
import type { ActivityHandler } from "durable-functions";
import type { AnomalyAlert } from "../src/core/alertSchema";
import { ValidationError } from "../src/errors";
import type { StartCapturesInput, StartCapturesResult } from "../src/contracts/captureContracts";

export interface StartCapturesDeps {
  /** Starts (or joins) the alert's target capture through the durable client of this invocation. */
  startCapture: (
    alert: AnomalyAlert,
    context: InvocationContext,
  ) => Promise<{ instanceId: string; outcome: "started" | "absorbed" }>;
}

export function makeStartCaptures(deps: StartCapturesDeps): ActivityHandler {
  return async (input: unknown, context: InvocationContext): Promise<StartCapturesResult> => {
    const alerts = (input as Partial<StartCapturesInput> | undefined)?.alerts;
    if (!Array.isArray(alerts)) throw new ValidationError("startCaptures: input.alerts must be an array of alerts");
    const captures: StartCapturesResult["captures"] = [];
    for (const alert of alerts) captures.push({ alertId: alert.id, ...(await deps.startCapture(alert, context)) });
    return { captures };
  };
}
