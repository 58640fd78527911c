/**
 * The capture starters: the Azure Monitor alert webhook (`POST /api/alerts`, common alert
 * schema) and the one function both it and the detector use to start a target's capture
 * orchestration, so that duplicate alerts for a running target collapse into it. Which targets
 * an alert names is core logic (alertTargets); this module resolves, starts and answers.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { TokenCheck } from "../adapters/entraTokens";
import type { CaptureSettings } from "../config";
import { parseCommonAlert, type AnomalyAlert, type CommonAlert } from "../core/alertSchema";
import { planAlertTargets, subscriptionsOfAlert, type ComputerMatch, type PlannedTarget } from "../core/alertTargets";
import { captureRequestFromAlert, type CaptureRequest } from "../core/capturePolicy";
import { ValidationError } from "../errors";
import { logger } from "../logger";
import { readJsonBody } from "./httpBody";
import { OrchestrationNames } from "../contracts/names";
import {
  CaptureStopEntity,
  captureReportId,
  type CaptureStopRequest,
  MONITOR_ALERT_EVENT_SCHEMA_VERSION,
  MONITOR_ALERT_EVENT_TYPE,
  monitorAlertEventId,
  monitorAlertInstanceId,
  packetCaptureInstanceId,
  type MonitorAlertEvent,
  type MonitorAlertTarget,
  type PacketCaptureInput,
} from "../contracts/captureContracts";

export interface StartPacketCaptureResult {
  instanceId: string;
  /** started: a new instance; absorbed: the target's capture instance was already running. */
  outcome: "started" | "absorbed";
  /** The id of the report the instance will publish (null when a running instance's input is unreadable). */
  reportId: string | null;
}

const RUNNING_STATUSES = new Set<string>([
  df.OrchestrationRuntimeStatus.Running,
  df.OrchestrationRuntimeStatus.Pending,
  df.OrchestrationRuntimeStatus.ContinuedAsNew,
]);

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

function isRunning(status: DurableOrchestrationStatus | undefined): status is DurableOrchestrationStatus {
  return status?.runtimeStatus !== undefined && RUNNING_STATUSES.has(status.runtimeStatus);
}

/** Whether the instance exists, running or finished. */
export async function instanceExists(client: DurableClient, instanceId: string): Promise<boolean> {
  return (await instanceStatus(client, instanceId)) !== undefined;
}

/** Whether the instance exists and has not finished (an unknown instance is not running). */
export async function isInstanceActive(client: DurableClient, instanceId: string): Promise<boolean> {
  return isRunning(await instanceStatus(client, instanceId));
}

/** The report id of a running capture instance, from its input. */
function reportIdOfRunning(instanceId: string, status: DurableOrchestrationStatus): string | null {
  const input = status.input as Partial<PacketCaptureInput> | undefined;
  return typeof input?.requestedAt === "string" && typeof input.reason === "string"
    ? captureReportId(instanceId, { requestedAt: input.requestedAt, reason: input.reason })
    : null;
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
  const absorbed = (status: DurableOrchestrationStatus): StartPacketCaptureResult => ({
    instanceId,
    outcome: "absorbed",
    reportId: reportIdOfRunning(instanceId, status),
  });
  const before = await instanceStatus(client, instanceId);
  if (isRunning(before)) return absorbed(before);
  try {
    await client.startNew(OrchestrationNames.packetCapture, { instanceId, input });
    return { instanceId, outcome: "started", reportId: captureReportId(instanceId, input) };
  } catch (error) {
    // Two alerts raced to start it: the other one won.
    const after = await instanceStatus(client, instanceId);
    if (isRunning(after)) return absorbed(after);
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

/** The capture input for one VM or NIC of an Azure Monitor alert (no evidence: the policy's limits, no filters). */
export function captureInputFromMonitorAlert(
  alertId: string,
  resourceId: string,
  settings: CaptureSettings,
  requestedAt: string,
  alertEventId: string,
): PacketCaptureInput {
  return {
    target: { resourceId, mac: null },
    reason: alertId,
    source: "azureMonitor",
    hints: {},
    policy: settings.policy ?? null,
    pollIntervalInSeconds: settings.pollIntervalInSeconds,
    requestedAt,
    alertEventId,
  };
}

/** Finds the VM of a computer name in these subscriptions; never throws (a failed lookup is unresolved). */
export type ComputerResolver = (computerName: string, subscriptionIds: string[]) => Promise<ComputerMatch>;

export interface AlertsHttpDeps {
  /** Validated capture settings (read lazily, once). */
  captureSettings: () => CaptureSettings;
  /** The durable client of the invocation (df.getClient). */
  client: (context: InvocationContext) => DurableClient;
  /** A resolver for one request (it may cache ARM lists for that request only). */
  computerResolver: () => ComputerResolver;
  /**
   * Secure Webhook route only: the Entra token check, or undefined when it is not configured (then
   * every request is refused). Absent on the function-key route.
   */
  tokenCheck?: () => ((authorization: string | null) => Promise<TokenCheck>) | undefined;
}

/** The refusal of a Secure Webhook request, or null when its token passes. */
async function secureWebhookRefusal(
  check: ((authorization: string | null) => Promise<TokenCheck>) | undefined,
  request: HttpRequest,
): Promise<HttpResponseInit | null> {
  if (!check)
    return refused(
      "Secure Webhook is not configured: set FLOWTAP_ALERTS_ENTRA_TENANT_ID and FLOWTAP_ALERTS_ENTRA_AUDIENCE",
      404,
    );
  const result = await check(request.headers.get("authorization"));
  if (result.ok) return null;
  logger.info(`alerts webhook (Secure Webhook): refused: ${result.reason}`);
  return {
    status: result.status,
    headers: { "WWW-Authenticate": `Bearer error="${result.status === 401 ? "invalid_token" : "insufficient_scope"}"` },
    jsonBody: { error: result.reason },
  };
}

/**
 * A refusal naming what is wrong (logged: the sender is a misconfigured action group): 400 for the payload,
 * 404 for a route that is not configured.
 */
function refused(reason: string, status = 400): HttpResponseInit {
  logger.info(`alerts webhook: ${reason}`);
  return { status, jsonBody: { error: reason } };
}

interface AlertResponseContext {
  alert: CommonAlert;
  client: DurableClient;
  settings: CaptureSettings;
  resolveComputer: ComputerResolver;
  requestedAt: string;
  eventId: string;
}

/** The resource a planned target asks a capture for, or its outcome when it gets none. */
async function captureResourceOf(
  planned: PlannedTarget,
  context: AlertResponseContext,
): Promise<{ resourceId: string } | { outcome: MonitorAlertTarget["outcome"]; reason: string }> {
  switch (planned.plan) {
    case "notCapturable":
    case "refused":
      return { outcome: planned.plan, reason: planned.reason };
    case "computer": {
      const subscriptions = [
        ...new Set([
          ...subscriptionsOfAlert(context.alert),
          ...(context.settings.policy?.allowedSubscriptions ?? []).map((id) => id.toLowerCase()),
        ]),
      ];
      const match = await context.resolveComputer(planned.computerName, subscriptions);
      return match.ok ? { resourceId: match.vmResourceId } : { outcome: "unresolved", reason: match.reason };
    }
    case "capture":
      return { resourceId: planned.capturable.resourceId };
  }
}

async function targetOutcome(planned: PlannedTarget, context: AlertResponseContext): Promise<MonitorAlertTarget> {
  const base = { target: planned.target, source: planned.source, captureInstanceId: null, captureReportId: null };
  const resource = await captureResourceOf(planned, context);
  if (!("resourceId" in resource)) return { ...base, ...resource, resourceId: null };
  const { alert, settings, requestedAt, eventId } = context;
  const input = captureInputFromMonitorAlert(alert.alertId, resource.resourceId, settings, requestedAt, eventId);
  const started = await startPacketCapture(context.client, input);
  return {
    ...base,
    outcome: started.outcome,
    reason: null,
    resourceId: resource.resourceId,
    captureInstanceId: started.instanceId,
    captureReportId: started.reportId,
  };
}

/** The alert's event with these targets. */
function alertEventOf(context: AlertResponseContext, targets: MonitorAlertTarget[]): MonitorAlertEvent {
  const { alert } = context;
  return {
    schemaVersion: MONITOR_ALERT_EVENT_SCHEMA_VERSION,
    id: context.eventId,
    type: MONITOR_ALERT_EVENT_TYPE,
    time: context.requestedAt,
    alertId: alert.alertId,
    alertRule: alert.alertRule,
    severity: alert.severity,
    signalType: alert.signalType,
    monitoringService: alert.monitoringService,
    monitorCondition: alert.monitorCondition,
    firedDateTime: alert.firedDateTime,
    targets,
  };
}

/** Resolves every target of a fired alert and starts the captures: the alert's event. */
async function respondToAlert(context: AlertResponseContext): Promise<MonitorAlertEvent> {
  const targets: MonitorAlertTarget[] = [];
  // One at a time: targets resolving to one VM then collapse into one capture instance.
  for (const planned of planAlertTargets(context.alert)) targets.push(await targetOutcome(planned, context));
  return alertEventOf(context, targets);
}

/**
 * Records the event by starting its publishMonitorAlert instance (the instance's input is the record);
 * when a concurrent delivery recorded it first, that record wins.
 */
async function recordAlertEvent(
  client: DurableClient,
  instanceId: string,
  event: MonitorAlertEvent,
): Promise<MonitorAlertEvent> {
  try {
    await client.startNew(OrchestrationNames.publishMonitorAlert, { instanceId, input: event });
    return event;
  } catch (error) {
    const earlier = (await instanceStatus(client, instanceId))?.input as MonitorAlertEvent | undefined;
    if (earlier) return earlier;
    throw error;
  }
}

/** The answer to a Resolved alert: the captures asked to stop. */
function resolvedAnswerOf(event: MonitorAlertEvent): HttpResponseInit {
  const stopping = event.targets.map((target) => ({
    target: target.target,
    instanceId: target.captureInstanceId,
    reportId: target.captureReportId,
  }));
  const status = stopping.length > 0 ? "stopping" : "nothingToStop";
  return {
    status: 200,
    jsonBody: { alertId: event.alertId, eventId: event.id, monitorCondition: event.monitorCondition, status, stopping },
  };
}

/** The webhook's answer, rebuilt from the event alone: a redelivery gets the first delivery's answer. */
function answerOf(client: DurableClient, request: HttpRequest, event: MonitorAlertEvent): HttpResponseInit {
  if (event.monitorCondition === "Resolved") return resolvedAnswerOf(event);
  const targets = event.targets.map((target) =>
    target.captureInstanceId ? { ...target, ...client.createHttpManagementPayload(target.captureInstanceId) } : target,
  );
  const captures = event.targets.flatMap((target) =>
    target.captureInstanceId
      ? [
          {
            target: target.resourceId,
            instanceId: target.captureInstanceId,
            outcome: target.outcome,
            reportId: target.captureReportId,
            ...client.createHttpManagementPayload(target.captureInstanceId),
          },
        ]
      : [],
  );
  const body = {
    alertId: event.alertId,
    eventId: event.id,
    monitorCondition: event.monitorCondition,
    targets,
    captures,
  };
  if (captures.length === 0) return { status: 200, jsonBody: { ...body, status: "nothingToCapture" } };
  const first = client.createCheckStatusResponse(request, captures[0]!.instanceId);
  return {
    status: 202,
    headers: Object.fromEntries(new Headers(first.headers).entries()),
    jsonBody: { ...client.createHttpManagementPayload(captures[0]!.instanceId), ...body, status: "accepted" },
  };
}

/** The report id of the capture this alert started, when that same run still runs; else null. */
async function stillRunningReportId(client: DurableClient, target: MonitorAlertTarget): Promise<string | null> {
  const { outcome, captureInstanceId, captureReportId: reportId } = target;
  if (outcome !== "started" || !captureInstanceId || !reportId) return null;
  const status = await instanceStatus(client, captureInstanceId);
  return isRunning(status) && reportIdOfRunning(captureInstanceId, status) === reportId ? reportId : null;
}

/**
 * A Resolved alert: asks each capture its Fired delivery started, and that still runs, to stop
 * (the capture reports `alertResolved`); its event lists them as `stopRequested`. Captures it only
 * joined (`absorbed`) belong to someone else.
 */
async function stopCapturesOfResolved(context: AlertResponseContext): Promise<MonitorAlertEvent> {
  const { alert, client } = context;
  const fired = (await instanceStatus(client, monitorAlertInstanceId(alert.alertId, "Fired")))?.input as
    MonitorAlertEvent | undefined;
  const request: CaptureStopRequest = {
    reason: "alertResolved",
    alertId: alert.alertId,
    requestedAt: context.requestedAt,
  };
  const targets: MonitorAlertTarget[] = [];
  for (const target of fired?.targets ?? []) {
    const reportId = await stillRunningReportId(client, target);
    if (!reportId) continue;
    const { entity, operation } = CaptureStopEntity.request;
    await client.signalEntity(new df.EntityId(entity, reportId), operation, request);
    targets.push({ ...target, outcome: "stopRequested" });
  }
  return alertEventOf(context, targets);
}

/** Reads and parses the body (readJsonBody); a body that is not JSON or a ValidationError becomes the 400 answer. */
async function parseOrRefuse(request: HttpRequest): Promise<CommonAlert | HttpResponseInit> {
  const body = await readJsonBody(request);
  if (!body.ok) return refused(body.error);
  try {
    return parseCommonAlert(body.value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return refused(error.message);
  }
}

/**
 * `POST /api/alerts` (function key) and `POST /api/alerts/secure` (Secure Webhook: an Entra token
 * from the action group, checked first: 401 or 403 with the reason). Fired: each target's outcome,
 * 202 with the status URLs of the capture instance(s) when any capture runs, else 200. Resolved:
 * 200, and the captures its Fired delivery started are asked to stop (FLOWTAP_STOP_CAPTURES_ON_RESOLVE).
 * A body that is not a common-schema alert: 400 with the reason. A redelivery of the same alert
 * (alertId and monitorCondition) starts nothing and gets the first answer.
 */
export function makeAlertsHttpHandler(deps: AlertsHttpDeps): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const refusal = deps.tokenCheck ? await secureWebhookRefusal(deps.tokenCheck(), request) : null;
    if (refusal) return refusal;
    const alert = await parseOrRefuse(request);
    if (!("alertId" in alert)) return alert;
    const client = deps.client(context);
    const settings = deps.captureSettings();
    if (alert.monitorCondition === "Resolved" && !settings.stopCapturesOnResolve) {
      const jsonBody = { alertId: alert.alertId, monitorCondition: alert.monitorCondition, status: "ignored" };
      return { status: 200, jsonBody: { ...jsonBody, stopping: [] } };
    }
    const instanceId = monitorAlertInstanceId(alert.alertId, alert.monitorCondition);
    const earlier = (await instanceStatus(client, instanceId))?.input as MonitorAlertEvent | undefined;
    if (earlier) {
      logger.info(`alerts webhook: alert ${alert.alertId} delivered again: answering as the first time`);
      return answerOf(client, request, earlier);
    }
    const responseContext: AlertResponseContext = {
      alert,
      client,
      settings,
      resolveComputer: deps.computerResolver(),
      requestedAt: new Date().toISOString(),
      eventId: monitorAlertEventId(alert.alertId, alert.monitorCondition),
    };
    const event =
      alert.monitorCondition === "Resolved"
        ? await stopCapturesOfResolved(responseContext)
        : await respondToAlert(responseContext);
    const recorded = await recordAlertEvent(client, instanceId, event);
    logger.info(
      `alerts webhook: alert ${alert.alertId}: ` +
        recorded.targets.map((target) => `${target.target} ${target.outcome}`).join(", "),
    );
    return answerOf(client, request, recorded);
  };
}
