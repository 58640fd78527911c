/**
 * The capture starters: the Azure Monitor alert webhook (`POST /api/alerts`, common alert
 * schema) and the one function both it and the detector use to start a target's capture
 * orchestration, so that duplicate alerts for a running target collapse into it.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { CaptureSettings } from "../config";
import { parseCommonAlert, type AnomalyAlert, type CommonAlertTarget } from "../core/alertSchema";
import { captureRequestFromAlert, type CaptureRequest } from "../core/capturePolicy";
import { ValidationError } from "../errors";
import { logger } from "../logger";
import { readJsonBody } from "./httpBody";
import { OrchestrationNames } from "../contracts/names";
import { PacketCaptureInput, packetCaptureInstanceId } from "../contracts/captureContracts";

export interface StartPacketCaptureResult {
  instanceId: string;
  /** started: a new instance; absorbed: the target's capture instance was already running. */
  outcome: "started" | "absorbed";
}

const RUNNING_STATUSES = new Set<string>([
  df.OrchestrationRuntimeStatus.Running,
  df.OrchestrationRuntimeStatus.Pending,
  df.OrchestrationRuntimeStatus.ContinuedAsNew,
]);

/** Whether the instance exists and has not finished (an unknown instance is not running). */
/**
 * The instance's status, or undefined when there is none. durable-functions' getStatus rejects an unknown
 * instance with an error naming the extension's 404 (lib/src/durableClient/DurableClient.js): a plain GET
 * answered 404, not a failure of the host.
 */
export async function instanceStatus(
  client: DurableClient,
  instanceId: string,
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId);
  } catch (error) {
    if (/HTTP 404/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Whether the instance exists, running or finished. */
export async function instanceExists(client: DurableClient, instanceId: string): Promise<boolean> {
  return (await instanceStatus(client, instanceId)) !== undefined;
}

export async function isInstanceActive(client: DurableClient, instanceId: string): Promise<boolean> {
  const status = await instanceStatus(client, instanceId);
  return status?.runtimeStatus !== undefined && RUNNING_STATUSES.has(status.runtimeStatus);
}

/**
 * Starts the target's packet capture orchestration (instance id from the target), or absorbs
 * the request into the running one. A finished instance starts afresh: the capture gate's
 * per-VM cooldown then decides.
 */
export async function startPacketCapture(
  client: DurableClient,
  input: PacketCaptureInput,
): Promise<StartPacketCaptureResult> {
  const instanceId = packetCaptureInstanceId(input.target);
  if (await isInstanceActive(client, instanceId)) return { instanceId, outcome: "absorbed" };
  try {
    await client.startNew(OrchestrationNames.packetCapture, { instanceId, input });
    return { instanceId, outcome: "started" };
  } catch (error) {
    // Two alerts raced to start it: the other one won.
    if (await isInstanceActive(client, instanceId)) return { instanceId, outcome: "absorbed" };
    throw error;
  }
}

type CaptureHints = PacketCaptureInput["hints"];

function hintsOf(request: CaptureRequest): CaptureHints {
  const { vmResourceId: _vm, reason: _reason, ...hints } = request;
  return hints;
}

/** The capture input for a flowtap anomaly alert (filters on its offending remotes and their ports). */
export function captureInputFromAlert(
  alert: AnomalyAlert,
  settings: CaptureSettings,
  requestedAt: string,
): PacketCaptureInput {
  return {
    target: { resourceId: alert.target.resourceId, mac: alert.target.mac },
    reason: alert.id,
    source: "anomaly",
    hints: hintsOf(captureRequestFromAlert(alert, "")),
    policy: settings.policy ?? null,
    pollIntervalInSeconds: settings.pollIntervalInSeconds,
    requestedAt,
  };
}

/** The capture input for one target of an Azure Monitor alert (no evidence: the policy's limits, no filters). */
export function captureInputFromMonitorAlert(
  alertId: string,
  target: CommonAlertTarget,
  settings: CaptureSettings,
  requestedAt: string,
): PacketCaptureInput {
  return {
    target: { resourceId: target.resourceId, mac: null },
    reason: alertId,
    source: "azureMonitor",
    hints: {},
    policy: settings.policy ?? null,
    pollIntervalInSeconds: settings.pollIntervalInSeconds,
    requestedAt,
  };
}

export interface AlertsHttpDeps {
  /** Validated capture settings (read lazily, once). */
  captureSettings: () => CaptureSettings;
  /** The durable client of the invocation (df.getClient). */
  client: (context: InvocationContext) => DurableClient;
}

/** A 400 naming what is wrong with the payload (logged: the sender is a misconfigured action group). */
function refused(reason: string): HttpResponseInit {
  logger.info(`alerts webhook: ${reason}`);
  return { status: 400, jsonBody: { error: reason } };
}

/**
 * `POST /api/alerts`: Fired → 202 with the status URLs of the capture instance(s);
 * Resolved → 200, nothing started; a payload that is not a common-schema alert on VMs or NICs → 400 with the reason.
 */
export function makeAlertsHttpHandler(deps: AlertsHttpDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const body = await readJsonBody(request);
    if (!body.ok) return refused(body.error);
    let alert: ReturnType<typeof parseCommonAlert>;
    try {
      alert = parseCommonAlert(body.value);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return refused(error.message);
    }
    if (alert.kind === "resolved") {
      return {
        status: 200,
        jsonBody: {
          alertId: alert.alertId,
          status: "ignored",
          reason: "monitorCondition is Resolved: nothing to capture",
        },
      };
    }
    const settings = deps.captureSettings();
    const client = deps.client(context);
    const requestedAt = new Date().toISOString();
    const captures = [];
    for (const target of alert.targets) {
      const started = await startPacketCapture(
        client,
        captureInputFromMonitorAlert(alert.alertId, target, settings, requestedAt),
      );
      captures.push({
        target: target.resourceId,
        ...started,
        ...client.createHttpManagementPayload(started.instanceId),
      });
    }
    logger.info(
      `alerts webhook: alert ${alert.alertId}: ` +
        captures.map((capture) => `${capture.instanceId} ${capture.outcome}`).join(", "),
    );
    const first = client.createCheckStatusResponse(request, captures[0].instanceId);
    const headers = Object.fromEntries(new Headers(first.headers).entries());
    return {
      status: 202,
      headers,
      jsonBody: { ...client.createHttpManagementPayload(captures[0].instanceId), alertId: alert.alertId, captures },
    };
  };
}
