/**
 * packetCapture: one instance per target (instance id from the target, so duplicate alerts
 * collapse). Resolves the VM and its region's network watcher, asks the capture gate (allowlist,
 * per-VM cooldown, concurrency cap), creates the capture, polls it on durable timers, stops it
 * at its limit, keeps or deletes the resource, and reports the result on the alerts hub.
 * ARM answers come back from the activities as ArmStep values: 429 waits for Retry-After on a
 * durable timer, transient 5xx get a few more attempts, anything else ends the capture as failed.
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import type { CapturePlan, CapturePolicyConfig, CaptureRequest, RefusalReason } from "../src/core/capturePolicy";
// A generic 64-bit string hash despite its name: deterministic instance and event ids.
import { hashBlobPath as hash64 } from "../src/core/eventId";
import { ActivityNames, type ActivityName } from "../src/names";
import {
  captureGateId,
  CaptureGateOperations,
  type AcquireCaptureInput,
  type AcquireCaptureResult,
} from "./captureGate";
import { PUBLISH_RETRY, type PublishEventsInput } from "./publishAlerts";

// ---- contracts with the activities (activities/packetCaptureArm.ts) ----------------------------

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
  /** 5xx (after the SDK's own retries) or a network error: worth a few more attempts. */
  | { outcome: "transient"; statusCode?: number; code?: string; message: string }
  /** Anything else (404, 400 PacketCaptureAgentNotInstalled, 403...): give up with the reason. */
  | { outcome: "failed"; statusCode?: number; code?: string; message: string };

export interface ResolveCaptureTargetInput {
  target: CaptureTarget;
  /** Subscriptions to search for a MAC (besides the target resource id's own). */
  subscriptionIds: string[];
}

export interface ResolvedCaptureTarget {
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

// ---- the orchestration ------------------------------------------------------------------------

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
    timeLimitInSeconds: number | null;
    totalBytesPerSession: number | null;
    filters: PacketCaptureFilter[];
    /** Whether the packetCapture ARM resource was kept after the capture. */
    resourceKept: boolean;
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

/** Waits for 429s are bounded too: after this many, the step fails. */
export const MAX_THROTTLED_WAITS = 5;
/** Attempts of a step answering 5xx (each after the SDK's own in-process retries). */
export const MAX_TRANSIENT_ATTEMPTS = 2;
export const TRANSIENT_RETRY_DELAY_IN_SECONDS = 30;

/** The instance id for a target: duplicate alerts for one target find its running instance. */
export function packetCaptureInstanceId(target: CaptureTarget): string {
  const identity = target.resourceId
    ? target.resourceId.toLowerCase()
    : `mac:${(target.mac ?? "").replace(/[^0-9a-f]/gi, "").toUpperCase()}`;
  return `capture-${hash64(identity)}`;
}

const TERMINAL_STATUSES = new Set(["Stopped", "Error"]);

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** Calls an ARM activity; waits out 429s and retries transient answers a bounded number of times. */
function* armStep<T>(
  context: OrchestrationContext,
  activity: ActivityName,
  input: unknown,
): Generator<Task, ArmStep<T>, unknown> {
  let throttled = 0;
  let transient = 0;
  for (;;) {
    let step: ArmStep<T>;
    try {
      step = (yield context.df.callActivity(activity, input)) as ArmStep<T>;
    } catch (error) {
      step = { outcome: "failed", message: `${activity} failed: ${(error as Error).message}` };
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
    id: `ftc-${hash64(`${context.df.instanceId}\u0000${input.requestedAt}\u0000${input.reason}`)}`,
    type,
    time: context.df.currentUtcDateTime.toISOString(),
    alertId: input.reason,
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
    yield context.df.callActivityWithRetry(ActivityNames.publishEvents, PUBLISH_RETRY, {
      events,
    } satisfies PublishEventsInput);
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
  const resolved = yield* armStep<ResolvedCaptureTarget>(context, ActivityNames.resolveCaptureTarget, {
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
  const decision = (yield context.df.callEntity(
    captureGateId(),
    CaptureGateOperations.acquire,
    acquire,
  )) as AcquireCaptureResult;
  if (decision.decision === "refused") {
    return yield* finish({
      ...baseReport(CaptureEventTypes.refused, vm.resourceId),
      reason: decision.reason,
      message: decision.message,
    });
  }
  const plan: CapturePlan = decision.plan;
  const release = (): void =>
    context.df.signalEntity(captureGateId(), CaptureGateOperations.release, { name: plan.name });
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
    timeLimitInSeconds: plan.parameters.timeLimitInSeconds ?? null,
    totalBytesPerSession: plan.parameters.totalBytesPerSession ?? null,
    filters: plan.parameters.filters ?? [],
    resourceKept: false,
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
  const created = yield* armStep<CreatedPacketCapture>(context, ActivityNames.createPacketCapture, {
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
    const polled = yield* armStep<PacketCaptureStatusResult>(context, ActivityNames.getPacketCaptureStatus, ref);
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
    const stopped = yield* armStep<null>(context, ActivityNames.stopPacketCapture, ref);
    const final =
      stopped.outcome === "ok"
        ? yield* armStep<PacketCaptureStatusResult>(context, ActivityNames.getPacketCaptureStatus, ref)
        : stopped;
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
    const deleted = yield* armStep<null>(context, ActivityNames.deletePacketCapture, ref);
    if (deleted.outcome !== "ok") capture.resourceKept = true;
  }

  if (failure) return yield* finish({ ...baseReport(CaptureEventTypes.failed, vm.resourceId), ...failure, capture });
  const message = `packet capture ${capture.name} ${capture.status === "Stopped" ? "stopped" : "ended"} (${capture.stopReason ?? "no stop reason"})`;
  return yield* finish({ ...baseReport(CaptureEventTypes.completed, vm.resourceId), message, capture });
};
