/**
 * packetCapture: one instance per target (instance id from the target, so duplicate alerts
 * collapse). Resolves the VM and its region's network watcher, asks the capture gate (allowlist,
 * per-VM cooldown, concurrency cap), creates the capture, polls it on durable timers, stops it
 * at its limit, keeps or deletes the resource, and reports the result on the alerts hub.
 * ARM answers come back from the activities as ArmStep values: 429 waits for Retry-After on a
 * durable timer, transient answers (5xx, AnotherOperationInProgress, timeouts, transient operation
 * failures) get a few more attempts with growing waits that honour Retry-After, anything else ends
 * the capture as failed with the ARM code in the report's message.
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import type { CapturePlan, CapturePolicyConfig, CaptureRequest } from "../src/core/capturePolicy";
import type { ActivityContract } from "../src/contracts/contract";
import {
  CAPTURE_EVENT_SCHEMA_VERSION,
  CAPTURE_GATE_KEY,
  CaptureEventTypes,
  captureReportId,
  CaptureGateEntity,
  CaptureStopEntity,
  createPacketCaptureActivity,
  deletePacketCaptureActivity,
  getPacketCaptureStatusActivity,
  publishEventsActivity,
  resolveCaptureTargetActivity,
  stopPacketCaptureActivity,
  type AcquireCaptureResult,
  type ArmStep,
  type CaptureEventType,
  type CaptureReport,
  type NetworkWatcherRef,
  type PacketCaptureCustomStatus,
  type PacketCaptureInput,
  type PacketCaptureRef,
  type PacketCaptureStatusResult,
  type ResolvedCaptureTarget,
} from "../src/contracts/captureContracts";
import { callActivity, callEntity, signalEntity } from "./calls";
import { PUBLISH_RETRY } from "./publishAlerts";

/** Waits for 429s are bounded too: after this many, the step fails. */
export const MAX_THROTTLED_WAITS = 5;
/** Attempts of a step answering transiently (each after the SDK's own in-process retries). */
export const MAX_TRANSIENT_ATTEMPTS = 3;
/** The first wait before retrying a transient answer; it doubles with each further attempt. */
export const TRANSIENT_RETRY_DELAY_IN_SECONDS = 30;

const TERMINAL_STATUSES = new Set(["Stopped", "Error"]);

type Steps<T> = Generator<Task, T, unknown>;
type ArmFailure = Exclude<ArmStep<unknown>, { outcome: "ok" }>;
type CaptureDetails = NonNullable<CaptureReport["capture"]>;
type Failure = { reason: CaptureReport["reason"]; message: string };

/** The instance's fixed facts, shared by its steps. */
interface CaptureRun {
  context: OrchestrationContext;
  input: PacketCaptureInput;
  setStatus(status: PacketCaptureCustomStatus): void;
  /** A report of this type with the run's identity filled in. */
  report(type: CaptureEventType, vmResourceId: string | null): CaptureReport;
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** The wait before transient attempt `attempt + 1`: doubling from the base, never before Retry-After. */
export function transientDelayInSeconds(attempt: number, retryAfterInSeconds?: number): number {
  return Math.max(TRANSIENT_RETRY_DELAY_IN_SECONDS * 2 ** (attempt - 1), retryAfterInSeconds ?? 0);
}

/** Calls an ARM activity; waits out 429s and retries transient answers a bounded number of times. */
function* armStep<TInput, T>(
  context: OrchestrationContext,
  activity: ActivityContract<TInput, ArmStep<T>>,
  input: TInput,
): Steps<ArmStep<T>> {
  let throttled = 0;
  let transient = 0;
  for (;;) {
    let step: ArmStep<T>;
    try {
      step = yield* callActivity(context, activity, input);
    } catch (error) {
      step = { outcome: "failed", message: `${activity.activity} failed: ${(error as Error).message}` };
    }
    let waitInSeconds: number;
    if (step.outcome === "throttled" && ++throttled <= MAX_THROTTLED_WAITS) waitInSeconds = step.retryAfterInSeconds;
    else if (step.outcome === "transient" && ++transient < MAX_TRANSIENT_ATTEMPTS)
      waitInSeconds = transientDelayInSeconds(transient, step.retryAfterInSeconds);
    else return step;
    yield context.df.createTimer(addSeconds(context.df.currentUtcDateTime, waitInSeconds));
  }
}

function stepMessage(step: ArmFailure): string {
  const code = "code" in step && step.code ? `${step.code}: ` : "";
  return `${code}${step.message}`;
}

function captureRunOf(context: OrchestrationContext): CaptureRun {
  const input = context.df.getInput<PacketCaptureInput>();
  return {
    context,
    input,
    setStatus: (status) => context.df.setCustomStatus(status),
    report: (type, vmResourceId) => ({
      schemaVersion: CAPTURE_EVENT_SCHEMA_VERSION,
      id: captureReportId(context.df.instanceId, input),
      type,
      time: context.df.currentUtcDateTime.toISOString(),
      alertId: input.reason,
      alertEventId: input.alertEventId ?? null,
      source: input.source,
      target: { resourceId: input.target.resourceId, mac: input.target.mac, vmResourceId },
      reason: null,
      message: "",
      capture: null,
    }),
  };
}

/** Publishes the report on the alerts hub and returns it as the output. */
function* finish(run: CaptureRun, report: CaptureReport): Steps<CaptureReport> {
  const status = {
    captureName: report.capture?.name,
    status: report.capture?.status ?? undefined,
    message: report.message,
  };
  run.setStatus({ phase: "reporting", ...status });
  const partitionKey = report.target.vmResourceId ?? report.target.resourceId ?? report.target.mac ?? undefined;
  yield* callActivity(
    run.context,
    publishEventsActivity,
    { events: [{ id: report.id, body: report, partitionKey }] },
    PUBLISH_RETRY,
  );
  run.setStatus({ phase: "done", ...status });
  return report;
}

/** 1. Which VM, which network watcher. */
function* resolveTarget(run: CaptureRun, policy: CapturePolicyConfig): Steps<ArmStep<ResolvedCaptureTarget>> {
  run.setStatus({ phase: "resolving" });
  const subscriptionIds = policy.allowedSubscriptions ?? [];
  return yield* armStep(run.context, resolveCaptureTargetActivity, { target: run.input.target, subscriptionIds });
}

/** 2. The policy (allowlist, cooldown, concurrency) across all instances. */
function* acquire(run: CaptureRun, policy: CapturePolicyConfig, vmResourceId: string): Steps<AcquireCaptureResult> {
  run.setStatus({ phase: "gate" });
  const request: CaptureRequest = { ...run.input.hints, vmResourceId, reason: run.input.reason };
  const nowIso = run.context.df.currentUtcDateTime.toISOString();
  return yield* callEntity(run.context, CaptureGateEntity.acquire, CAPTURE_GATE_KEY, { request, policy, nowIso });
}

function captureDetailsOf(plan: CapturePlan, name: string, watcherId: string, fileUrl: string | null): CaptureDetails {
  return {
    name,
    networkWatcherId: watcherId,
    status: null,
    stopReason: null,
    errors: [],
    fileUrl,
    storageLocation: { storageId: plan.parameters.storageLocation.storageId ?? null, storagePath: fileUrl },
    timeLimitInSeconds: plan.parameters.timeLimitInSeconds ?? null,
    totalBytesPerSession: plan.parameters.totalBytesPerSession ?? null,
    filters: plan.parameters.filters ?? [],
    resourceKept: false,
    stopRequest: null,
  };
}

function applyStatus(capture: CaptureDetails, status: PacketCaptureStatusResult): void {
  Object.assign(capture, { status: status.status, stopReason: status.stopReason, errors: status.errors });
}

/**
 * 4. Polls on durable timers until it stops by itself, reaches its limit (counted from its creation) or its alert
 * resolved (the run's captureStop entity, read at each poll).
 */
function* pollUntilDone(
  run: CaptureRun,
  ref: PacketCaptureRef,
  capture: CaptureDetails,
  plan: CapturePlan,
): Steps<Failure | null> {
  const { context } = run;
  const endsAt = addSeconds(context.df.currentUtcDateTime, plan.parameters.timeLimitInSeconds ?? 0);
  for (;;) {
    run.setStatus({ phase: "capturing", captureName: capture.name, status: capture.status ?? "NotStarted" });
    const next = addSeconds(context.df.currentUtcDateTime, run.input.pollIntervalInSeconds);
    yield context.df.createTimer(next < endsAt ? next : endsAt);
    // Its alert resolved: stop now (step 5), and say so in the report.
    const stopKey = captureReportId(context.df.instanceId, run.input);
    capture.stopRequest = yield* callEntity(context, CaptureStopEntity.get, stopKey, undefined);
    if (capture.stopRequest) return null;
    const polled = yield* armStep(context, getPacketCaptureStatusActivity, ref);
    if (polled.outcome !== "ok")
      return { reason: "status", message: `querying packet capture ${capture.name} failed: ${stepMessage(polled)}` };
    applyStatus(capture, polled.value);
    if (TERMINAL_STATUSES.has(polled.value.status) || context.df.currentUtcDateTime >= endsAt) return null;
  }
}

/** 5. Stops it at its limit (or after a failed poll, so it does not run on unobserved). */
function* stopIfRunning(run: CaptureRun, ref: PacketCaptureRef, capture: CaptureDetails): Steps<Failure | null> {
  if (capture.status === "Stopped" || capture.status === "Error") return null;
  run.setStatus({ phase: "stopping", captureName: capture.name, status: capture.status ?? undefined });
  const stopped = yield* armStep(run.context, stopPacketCaptureActivity, ref);
  const final = stopped.outcome === "ok" ? yield* armStep(run.context, getPacketCaptureStatusActivity, ref) : stopped;
  if (final.outcome !== "ok")
    return { reason: "status", message: `stopping packet capture ${capture.name} failed: ${stepMessage(final)}` };
  applyStatus(capture, final.value);
  return null;
}

/** 6. Keeps or deletes the ARM resource (the .cap blob stays either way). */
function* deleteUnlessKept(
  run: CaptureRun,
  ref: PacketCaptureRef,
  capture: CaptureDetails,
  keep: boolean,
): Steps<void> {
  capture.resourceKept = keep;
  if (keep) return;
  run.setStatus({ phase: "deleting", captureName: capture.name, status: capture.status ?? undefined });
  const deleted = yield* armStep(run.context, deletePacketCaptureActivity, ref);
  if (deleted.outcome !== "ok") capture.resourceKept = true;
}

/** 3 to 6, once the gate allowed the capture: create, watch, stop, clean up, report. */
function* runCapture(
  run: CaptureRun,
  vmResourceId: string,
  watcher: NetworkWatcherRef,
  plan: CapturePlan,
): Steps<CaptureReport> {
  const release = (): void =>
    signalEntity(run.context, CaptureGateEntity.release, CAPTURE_GATE_KEY, { name: plan.name });
  run.setStatus({ phase: "creating", captureName: plan.name });
  const created = yield* armStep(run.context, createPacketCaptureActivity, {
    watcher,
    name: plan.name,
    parameters: plan.parameters,
  });
  if (created.outcome !== "ok") {
    release();
    return {
      ...run.report(CaptureEventTypes.failed, vmResourceId),
      reason: "create",
      message: `creating packet capture ${plan.name} failed: ${stepMessage(created)}`,
      capture: captureDetailsOf(plan, plan.name, watcher.id, null),
    };
  }
  const fileUrl = created.value.storagePath ?? plan.parameters.storageLocation.storagePath ?? null;
  const capture = captureDetailsOf(plan, created.value.name, watcher.id, fileUrl);
  const ref: PacketCaptureRef = { watcher, name: capture.name };
  const pollFailure = yield* pollUntilDone(run, ref, capture, plan);
  const stopFailure = yield* stopIfRunning(run, ref, capture);
  release();
  const captureError: Failure | null =
    capture.status === "Error"
      ? {
          reason: "captureError",
          message: `packet capture ${capture.name} failed: ${capture.errors.join(", ") || "no error code given"}`,
        }
      : null;
  yield* deleteUnlessKept(run, ref, capture, plan.keepCaptureResource);
  const failure = pollFailure ?? stopFailure ?? captureError;
  if (failure) return { ...run.report(CaptureEventTypes.failed, vmResourceId), ...failure, capture };
  const ended = capture.status === "Stopped" ? "stopped" : "ended";
  const why = capture.stopRequest
    ? `alert ${capture.stopRequest.alertId} resolved`
    : (capture.stopReason ?? "no stop reason");
  const message = `packet capture ${capture.name} ${ended} (${why})`;
  return { ...run.report(CaptureEventTypes.completed, vmResourceId), message, capture };
}

export const packetCaptureOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const run = captureRunOf(context);
  const { policy } = run.input;
  if (!policy) {
    const message = "packet capture is not configured (set FLOWTAP_CAPTURE_POLICY)";
    return yield* finish(run, { ...run.report(CaptureEventTypes.refused, null), reason: "notConfigured", message });
  }
  const resolved = yield* resolveTarget(run, policy);
  if (resolved.outcome !== "ok") {
    const message = `cannot resolve the capture target: ${stepMessage(resolved)}`;
    return yield* finish(run, { ...run.report(CaptureEventTypes.failed, null), reason: "resolve", message });
  }
  const { vm, watcher, hasAgent } = resolved.value;
  const decision = yield* acquire(run, policy, vm.resourceId);
  if (decision.decision === "refused") {
    const { reason, message } = decision;
    return yield* finish(run, { ...run.report(CaptureEventTypes.refused, vm.resourceId), reason, message });
  }
  if (!hasAgent || !watcher) {
    signalEntity(context, CaptureGateEntity.release, CAPTURE_GATE_KEY, { name: decision.plan.name });
    const reason = !hasAgent ? "noAgent" : "noNetworkWatcher";
    const message = !hasAgent
      ? `the Network Watcher agent VM extension is not installed on ${vm.resourceId}`
      : `subscription of ${vm.resourceId} has no network watcher in region ${vm.location}`;
    return yield* finish(run, { ...run.report(CaptureEventTypes.failed, vm.resourceId), reason, message });
  }
  return yield* finish(run, yield* runCapture(run, vm.resourceId, watcher, decision.plan));
};
