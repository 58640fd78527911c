/**
 * packetCapture: one instance per target (instance id from the target, so duplicate alerts
 * collapse). Resolves the VM and its region's network watcher, asks the capture gate (allowlist,
 * per-VM cooldown, concurrency cap), creates the capture, polls it on durable timers, stops it
 * at its limit, keeps or deletes the resource, and reports the result on the alerts hub.
 * ARM answers come back from the activities as ArmStep values: 429 waits for Retry-After on a
 * durable timer, transient 5xx get a few more attempts, anything else ends the capture as failed.
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import type { CapturePlan, CaptureRequest } from "../src/core/capturePolicy";
import type { ActivityContract } from "../src/contracts/contract";
import {
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
  type AcquireCaptureInput,
  type ArmStep,
  type CreatePacketCaptureInput,
  type CaptureReport,
  type PacketCaptureInput,
  type PublishEventsInput,
} from "../src/contracts/captureContracts";
import { callActivity, callEntity, signalEntity } from "./calls";
import { PUBLISH_RETRY } from "./publishAlerts";
import {
  CAPTURE_EVENT_SCHEMA_VERSION,
  CaptureEventType,
  PacketCaptureCustomStatus,
  PacketCaptureRef,
  ResolveCaptureTargetInput,
} from "../src/contracts/captureContracts";

/** Waits for 429s are bounded too: after this many, the step fails. */
export const MAX_THROTTLED_WAITS = 5;
/** Attempts of a step answering 5xx (each after the SDK's own in-process retries). */
export const MAX_TRANSIENT_ATTEMPTS = 2;
export const TRANSIENT_RETRY_DELAY_IN_SECONDS = 30;

const TERMINAL_STATUSES = new Set(["Stopped", "Error"]);

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** Calls an ARM activity; waits out 429s and retries transient answers a bounded number of times. */
function* armStep<TInput, T>(
  context: OrchestrationContext,
  activity: ActivityContract<TInput, ArmStep<T>>,
  input: TInput,
): Generator<Task, ArmStep<T>, unknown> {
  let throttled = 0;
  let transient = 0;
  for (;;) {
    let step: ArmStep<T>;
    try {
      step = yield* callActivity(context, activity, input);
    } catch (error) {
      step = { outcome: "failed", message: `${activity.activity} failed: ${(error as Error).message}` };
    }
    if (step.outcome === "throttled" && ++throttled <= MAX_THROTTLED_WAITS) {
      yield context.df.createTimer(addSeconds(context.df.currentUtcDateTime, step.retryAfterInSeconds));
    } else if (step.outcome === "transient" && ++transient < MAX_TRANSIENT_ATTEMPTS) {
      yield context.df.createTimer(
        addSeconds(context.df.currentUtcDateTime, TRANSIENT_RETRY_DELAY_IN_SECONDS * transient),
      );
    } else {
      return step;
    }
  }
}

function stepMessage(step: Exclude<ArmStep<unknown>, { outcome: "ok" }>): string {
  const code = "code" in step && step.code ? `${step.code}: ` : "";
  return `${code}${step.message}`;
}

export const packetCaptureOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<PacketCaptureInput>();
  const setStatus = (status: PacketCaptureCustomStatus): void => context.df.setCustomStatus(status);
  const baseReport = (type: CaptureEventType, vmResourceId: string | null): CaptureReport => ({
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
  });

  function* finish(report: CaptureReport): Generator<Task, CaptureReport, unknown> {
    setStatus({
      phase: "reporting",
      captureName: report.capture?.name,
      status: report.capture?.status ?? undefined,
      message: report.message,
    });
    const events: PublishEventsInput["events"] = [
      {
        id: report.id,
        body: report,
        partitionKey: report.target.vmResourceId ?? report.target.resourceId ?? report.target.mac ?? undefined,
      },
    ];
    yield* callActivity(context, publishEventsActivity, { events }, PUBLISH_RETRY);
    setStatus({
      phase: "done",
      captureName: report.capture?.name,
      status: report.capture?.status ?? undefined,
      message: report.message,
    });
    return report;
  }

  if (!input.policy) {
    return yield* finish({
      ...baseReport(CaptureEventTypes.refused, null),
      reason: "notConfigured",
      message: "packet capture is not configured (set FLOWTAP_CAPTURE_POLICY)",
    });
  }

  // 1. Which VM, which network watcher.
  setStatus({ phase: "resolving" });
  const subscriptionIds = input.policy.allowedSubscriptions ?? [];
  const resolved = yield* armStep(context, resolveCaptureTargetActivity, {
    target: input.target,
    subscriptionIds,
  } satisfies ResolveCaptureTargetInput);
  if (resolved.outcome !== "ok") {
    return yield* finish({
      ...baseReport(CaptureEventTypes.failed, null),
      reason: "resolve",
      message: `cannot resolve the capture target: ${stepMessage(resolved)}`,
    });
  }
  const { vm, watcher, hasAgent } = resolved.value;

  // 2. The policy (allowlist, cooldown, concurrency) across all instances.
  setStatus({ phase: "gate" });
  const request: CaptureRequest = { ...input.hints, vmResourceId: vm.resourceId, reason: input.reason };
  const acquire: AcquireCaptureInput = {
    request,
    policy: input.policy,
    nowIso: context.df.currentUtcDateTime.toISOString(),
  };
  const decision = yield* callEntity(context, CaptureGateEntity.acquire, CAPTURE_GATE_KEY, acquire);
  if (decision.decision === "refused") {
    return yield* finish({
      ...baseReport(CaptureEventTypes.refused, vm.resourceId),
      reason: decision.reason,
      message: decision.message,
    });
  }
  const plan: CapturePlan = decision.plan;
  const release = (): void => signalEntity(context, CaptureGateEntity.release, CAPTURE_GATE_KEY, { name: plan.name });
  const captureReport = (
    name: string,
    watcherId: string,
    fileUrl: string | null,
  ): NonNullable<CaptureReport["capture"]> => ({
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
  });

  if (!hasAgent || !watcher) {
    release();
    const reason = !hasAgent ? "noAgent" : "noNetworkWatcher";
    const message = !hasAgent
      ? `the Network Watcher agent VM extension is not installed on ${vm.resourceId}`
      : `subscription of ${vm.resourceId} has no network watcher in region ${vm.location}`;
    return yield* finish({ ...baseReport(CaptureEventTypes.failed, vm.resourceId), reason, message });
  }

  // 3. Create.
  setStatus({ phase: "creating", captureName: plan.name });
  const created = yield* armStep(context, createPacketCaptureActivity, {
    watcher,
    name: plan.name,
    parameters: plan.parameters,
  } satisfies CreatePacketCaptureInput);
  if (created.outcome !== "ok") {
    release();
    return yield* finish({
      ...baseReport(CaptureEventTypes.failed, vm.resourceId),
      reason: "create",
      message: `creating packet capture ${plan.name} failed: ${stepMessage(created)}`,
      capture: captureReport(plan.name, watcher.id, null),
    });
  }
  const capture = captureReport(
    created.value.name,
    watcher.id,
    created.value.storagePath ?? plan.parameters.storageLocation.storagePath ?? null,
  );
  const ref: PacketCaptureRef = { watcher, name: capture.name };

  // 4. Poll on durable timers until it stops by itself or reaches its limit (counted from its creation).
  const endsAt = addSeconds(context.df.currentUtcDateTime, plan.parameters.timeLimitInSeconds ?? 0);
  let failure: { reason: CaptureReport["reason"]; message: string } | null = null;
  for (;;) {
    setStatus({ phase: "capturing", captureName: capture.name, status: capture.status ?? "NotStarted" });
    const next = addSeconds(context.df.currentUtcDateTime, input.pollIntervalInSeconds);
    yield context.df.createTimer(next < endsAt ? next : endsAt);
    // Its alert resolved: stop now (step 5), and say so in the report.
    capture.stopRequest = yield* callEntity(
      context,
      CaptureStopEntity.get,
      captureReportId(context.df.instanceId, input),
      undefined,
    );
    if (capture.stopRequest) break;
    const polled = yield* armStep(context, getPacketCaptureStatusActivity, ref);
    if (polled.outcome !== "ok") {
      failure = { reason: "status", message: `querying packet capture ${capture.name} failed: ${stepMessage(polled)}` };
      break;
    }
    Object.assign(capture, {
      status: polled.value.status,
      stopReason: polled.value.stopReason,
      errors: polled.value.errors,
    });
    if (TERMINAL_STATUSES.has(polled.value.status) || context.df.currentUtcDateTime >= endsAt) break;
  }

  // 5. Stop it at its limit (or after a failed poll, so it does not run on unobserved).
  if (capture.status !== "Stopped" && capture.status !== "Error") {
    setStatus({ phase: "stopping", captureName: capture.name, status: capture.status ?? undefined });
    const stopped = yield* armStep(context, stopPacketCaptureActivity, ref);
    const final = stopped.outcome === "ok" ? yield* armStep(context, getPacketCaptureStatusActivity, ref) : stopped;
    if (final.outcome === "ok")
      Object.assign(capture, {
        status: final.value.status,
        stopReason: final.value.stopReason,
        errors: final.value.errors,
      });
    else
      failure ??= {
        reason: "status",
        message: `stopping packet capture ${capture.name} failed: ${stepMessage(final)}`,
      };
  }
  release();
  if (capture.status === "Error")
    failure ??= {
      reason: "captureError",
      message: `packet capture ${capture.name} failed: ${capture.errors.join(", ") || "no error code given"}`,
    };

  // 6. Keep or delete the ARM resource (the .cap blob stays either way).
  capture.resourceKept = plan.keepCaptureResource;
  if (!plan.keepCaptureResource) {
    setStatus({ phase: "deleting", captureName: capture.name, status: capture.status ?? undefined });
    const deleted = yield* armStep(context, deletePacketCaptureActivity, ref);
    if (deleted.outcome !== "ok") capture.resourceKept = true;
  }

  if (failure) return yield* finish({ ...baseReport(CaptureEventTypes.failed, vm.resourceId), ...failure, capture });
  const why = capture.stopRequest
    ? `alert ${capture.stopRequest.alertId} resolved`
    : (capture.stopReason ?? "no stop reason");
  const message = `packet capture ${capture.name} ${capture.status === "Stopped" ? "stopped" : "ended"} (${why})`;
  return yield* finish({ ...baseReport(CaptureEventTypes.completed, vm.resourceId), message, capture });
};
