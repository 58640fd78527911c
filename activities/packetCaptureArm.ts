/**
 * The ARM steps of a packet capture: resolve the target, create, query status, stop, delete.
 * Each is a thin activity built from the shared ARM clients. ARM answers never throw out of
 * these activities: they come back as ArmStep values (throttled with Retry-After, transient,
 * failed with the ARM code), so the orchestration decides about waiting and retrying.
 */
import type { NetworkManagementClient } from "@azure/arm-network";
import { isRestError, type RestError } from "@azure/core-rest-pipeline";
import type { ActivityHandler } from "durable-functions";
import { listAllNetworkInterfaces, type ArmClients } from "../src/adapters/arm";
import { parseScaleSetInstanceId, parseVmOrNicResourceId } from "../src/core/alertSchema";
import { parseArmResourceId } from "../src/core/anomaly/armId";
import { hasNetworkWatcherExtension } from "../src/adapters/virtualMachines";
import { logFailure, logger } from "../src/logger";
import {
  ArmStep,
  CreatePacketCaptureInput,
  CreatedPacketCapture,
  NetworkWatcherRef,
  PacketCaptureRef,
  PacketCaptureStatusResult,
  ResolveCaptureTargetInput,
  ResolvedCaptureTarget,
} from "../src/contracts/captureContracts";

export interface PacketCaptureArmDeps {
  /** The shared ARM clients (created once per process from settings). */
  arm: () => ArmClients;
}

type ArmFailure = Exclude<ArmStep<never>, { outcome: "ok" }>;

/** Suffixed names tried after 409 conflicts with a capture that is not ours. */
export const MAX_NAME_SUFFIXES = 3;
const DEFAULT_RETRY_AFTER_IN_SECONDS = 10;
const MAX_RETRY_AFTER_IN_SECONDS = 3600;
const NETWORK_ERROR_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);
/** 409 for a conflicting operation on the resource or one it depends on: wait and try again. */
export const ANOTHER_OPERATION_IN_PROGRESS = "AnotherOperationInProgress";
/** Codes of failed asynchronous operations that say "try again" rather than "this cannot work". */
const TRANSIENT_OPERATION_CODES = new Set([
  ANOTHER_OPERATION_IN_PROGRESS,
  "InternalServerError",
  "InternalError",
  "ServerTimeout",
  "RetryableError",
  "TooManyRequests",
]);
/** Our code for an asynchronous operation that ended Failed without an error code in its body. */
export const OPERATION_FAILED_WITHOUT_CODE = "LongRunningOperationFailed";

const ok = <T>(value: T): ArmStep<T> => ({ outcome: "ok", value });
const failed = (message: string, code?: string): ArmFailure => ({
  outcome: "failed",
  message,
  ...(code !== undefined && { code }),
});

/** Retry-After in seconds (delta-seconds or an HTTP date), bounded; a default when absent or odd. */
export function retryAfterInSeconds(header: string | undefined, nowInMs: number): number {
  if (header === undefined) return DEFAULT_RETRY_AFTER_IN_SECONDS;
  const seconds = /^\d+$/.test(header.trim())
    ? Number(header.trim())
    : Math.ceil((Date.parse(header) - nowInMs) / 1000);
  if (!Number.isFinite(seconds)) return DEFAULT_RETRY_AFTER_IN_SECONDS;
  return Math.min(MAX_RETRY_AFTER_IN_SECONDS, Math.max(1, seconds));
}

/**
 * The last raw answer an SDK call received. For an operation that ends `Failed`, @azure/core-lro 2.7
 * (poller/operation.js, processOperationStatus) throws, and keeps as the poller state's `error`, a plain Error
 * "The long-running operation has failed. CODE. message": no status, no code property, no body. The code is only
 * in the polled body, which arm-network hands to the caller's `onResponse` for the initial request and every poll.
 */
class ResponseTrail {
  last: { status: number; parsedBody?: unknown } | undefined;

  /** `options` plus an `onResponse` that records each answer. */
  watch<T extends object>(
    options: T,
  ): T & { onResponse: (response: { status: number; parsedBody?: unknown }) => void } {
    return { ...options, onResponse: (response) => (this.last = response) };
  }

  /** The `error{code,message}` of the last answer's body, if it has one. */
  error(): { code?: string; message?: string } | undefined {
    const body = this.last?.parsedBody as { error?: { code?: unknown; message?: unknown } } | undefined;
    const error = body?.error;
    if (typeof error !== "object" || error === null) return undefined;
    return {
      ...(typeof error.code === "string" && { code: error.code }),
      ...(typeof error.message === "string" && { message: error.message }),
    };
  }
}

/** An ARM answer with an HTTP status: 429 throttled; 5xx, 408, AnotherOperationInProgress transient; else failed. */
function httpFailureOf(error: RestError, what: string): ArmFailure {
  const status = error.statusCode;
  const message = `${what}: ${status ?? "no answer"} ${error.message}`;
  const code = error.code;
  const retryAfterHeader = error.response?.headers.get("retry-after");
  if (status === 429) {
    return { outcome: "throttled", retryAfterInSeconds: retryAfterInSeconds(retryAfterHeader, Date.now()), message };
  }
  if (status === undefined || status >= 500 || status === 408 || code === ANOTHER_OPERATION_IN_PROGRESS) {
    return {
      outcome: "transient",
      message,
      ...(status !== undefined && { statusCode: status }),
      ...(code && { code }),
      ...(retryAfterHeader !== undefined && { retryAfterInSeconds: retryAfterInSeconds(retryAfterHeader, Date.now()) }),
    };
  }
  return { outcome: "failed", statusCode: status, message, ...(code && { code }) };
}

/** An asynchronous operation that ended Failed: classified by the code of its error body. */
function operationFailureOf(error: Error, what: string, trail: ResponseTrail): ArmFailure {
  const body = trail.error();
  const code = body?.code ?? OPERATION_FAILED_WITHOUT_CODE;
  const message = `${what}: operation failed: ${body?.message ?? error.message}`;
  // Without a code nothing says the failure is permanent: retry it a bounded number of times.
  if (!body?.code || TRANSIENT_OPERATION_CODES.has(code)) return { outcome: "transient", code, message };
  return failed(message, code);
}

/** What an SDK error means for the orchestration. */
export function armFailureOf(error: unknown, what: string, trail = new ResponseTrail()): ArmFailure {
  if (isRestError(error)) return httpFailureOf(error, what);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && NETWORK_ERROR_CODES.has(code))
    return { outcome: "transient", code, message: `${what}: ${(error as Error).message}` };
  if (error instanceof Error && trail.last !== undefined) return operationFailureOf(error, what, trail);
  return failed(`${what}: ${(error as Error)?.message ?? String(error)}`);
}

/** Runs one ARM step; logs and converts failures. */
async function step<T>(what: string, run: (trail: ResponseTrail) => Promise<ArmStep<T>>): Promise<ArmStep<T>> {
  const trail = new ResponseTrail();
  try {
    return await run(trail);
  } catch (error) {
    const failure = armFailureOf(error, what, trail);
    if (failure.outcome === "failed") logFailure(what, error);
    else logger.info(`${what}: ${failure.outcome} (${failure.message})`);
    return failure;
  }
}

function normalizeMac(mac: string): string {
  return mac.replace(/[^0-9a-f]/gi, "").toUpperCase();
}

function normalizeLocation(location: string | undefined): string {
  return (location ?? "").replace(/\s+/g, "").toLowerCase();
}

/**
 * The VM of the target: a VM or scale set instance id as is, a NIC id through its `virtualMachine`, a MAC
 * through listAllNetworkInterfaces (a scale set NIC's `virtualMachine` is its instance).
 */
async function vmIdOf(arm: ArmClients, input: ResolveCaptureTargetInput): Promise<ArmStep<string>> {
  const { resourceId, mac } = input.target;
  const direct = resourceId ? parseVmOrNicResourceId(resourceId) : null;
  if (direct?.kind === "vm") return ok(direct.resourceId);
  // A scale set instance is GET like a VM (its own id); the capture then targets its scale set (capturePolicy).
  if (resourceId && parseScaleSetInstanceId(resourceId)) return ok(resourceId);
  if (direct?.kind === "nic") {
    const nic = await arm.network(direct.subscriptionId).networkInterfaces.get(direct.resourceGroup, direct.name);
    return nic.virtualMachine?.id
      ? ok(nic.virtualMachine.id)
      : failed(`network interface ${direct.resourceId} is not attached to a virtual machine`);
  }
  if (!mac)
    return failed(
      `target ${resourceId ?? "(none)"} is neither a virtual machine, a scale set instance nor a network ` +
        "interface, and has no MAC",
    );
  const wanted = normalizeMac(mac);
  const ownSubscription = resourceId ? parseArmResourceId(resourceId)?.subscriptionId : undefined;
  const subscriptions = [
    ...new Set(
      [ownSubscription, ...input.subscriptionIds].filter((id): id is string => !!id).map((id) => id.toLowerCase()),
    ),
  ];
  if (subscriptions.length === 0)
    return failed(
      `cannot look up MAC ${wanted}: no subscription known (set allowedSubscriptions in FLOWTAP_CAPTURE_POLICY)`,
    );
  for (const subscriptionId of subscriptions) {
    for await (const nic of listAllNetworkInterfaces(arm, subscriptionId)) {
      if (nic.macAddress && normalizeMac(nic.macAddress) === wanted) {
        return nic.virtualMachine?.id
          ? ok(nic.virtualMachine.id)
          : failed(`network interface ${nic.id ?? wanted} (MAC ${wanted}) is not attached to a virtual machine`);
      }
    }
  }
  return failed(`no network interface with MAC ${wanted} in subscription(s) ${subscriptions.join(", ")}`);
}

async function watcherIn(
  client: NetworkManagementClient,
  subscriptionId: string,
  location: string,
): Promise<NetworkWatcherRef | null> {
  for await (const watcher of client.networkWatchers.listAll()) {
    const parsed = watcher.id ? parseArmResourceId(watcher.id) : null;
    if (parsed && normalizeLocation(watcher.location) === normalizeLocation(location)) {
      return { id: parsed.resourceId, subscriptionId, resourceGroup: parsed.resourceGroup, name: parsed.name };
    }
  }
  return null;
}

export function makeResolveCaptureTarget(deps: PacketCaptureArmDeps): ActivityHandler {
  return (input: ResolveCaptureTargetInput) =>
    step<ResolvedCaptureTarget>("resolveCaptureTarget", async () => {
      const arm = deps.arm();
      const vmId = await vmIdOf(arm, input);
      if (vmId.outcome !== "ok") return vmId;
      const vm = await arm.getVirtualMachine(vmId.value);
      const subscriptionId = (parseArmResourceId(vmId.value) ?? parseScaleSetInstanceId(vmId.value))
        ?.subscriptionId as string;
      const watcher = await watcherIn(arm.network(subscriptionId), subscriptionId, vm.location);
      return ok({
        vm: { resourceId: vm.id, name: vm.name, location: vm.location },
        hasAgent: hasNetworkWatcherExtension(vm),
        watcher,
      });
    });
}

/** The parameters for a suffixed name: the .cap file follows the capture's name. */
function renamed(input: CreatePacketCaptureInput, name: string): CreatePacketCaptureInput["parameters"] {
  const storagePath = input.parameters.storageLocation.storagePath;
  if (!storagePath?.endsWith(`/${input.name}.cap`)) return input.parameters;
  return {
    ...input.parameters,
    storageLocation: {
      ...input.parameters.storageLocation,
      storagePath: `${storagePath.slice(0, -`${input.name}.cap`.length)}${name}.cap`,
    },
  };
}

type PacketCaptures = NetworkManagementClient["packetCaptures"];

/**
 * After a 409 name clash (the spec's PacketCaptures_Create has no update, so a second PUT of a name fails): the
 * capture of that name if it is ours to adopt (same target, not Failed), else undefined.
 */
async function adoptable(captures: PacketCaptures, input: CreatePacketCaptureInput, name: string) {
  const existing = await captures.get(input.watcher.resourceGroup, input.watcher.name, name).catch((error: unknown) => {
    if (isRestError(error) && error.statusCode === 404) return undefined;
    throw error;
  });
  const sameTarget = existing?.target?.toLowerCase() === input.parameters.target.toLowerCase();
  return sameTarget && existing?.provisioningState !== "Failed" ? existing : undefined;
}

function isNameClash(error: unknown): boolean {
  return isRestError(error) && error.statusCode === 409 && error.code !== ANOTHER_OPERATION_IN_PROGRESS;
}

export function makeCreatePacketCapture(deps: PacketCaptureArmDeps): ActivityHandler {
  return (input: CreatePacketCaptureInput) =>
    step<CreatedPacketCapture>(`createPacketCapture ${input.name}`, async (trail) => {
      const arm = deps.arm();
      const captures = arm.network(input.watcher.subscriptionId).packetCaptures;
      for (let suffix = 0; suffix <= MAX_NAME_SUFFIXES; suffix++) {
        const name = suffix === 0 ? input.name : `${input.name}-${suffix}`;
        const parameters = renamed(input, name);
        const { resourceGroup, name: watcherName } = input.watcher;
        try {
          const created = await captures.beginCreateAndWait(
            resourceGroup,
            watcherName,
            name,
            parameters,
            trail.watch(arm.lroOptions),
          );
          const storagePath = created.storageLocation?.storagePath ?? parameters.storageLocation.storagePath ?? null;
          return ok({ name, adopted: false, storagePath });
        } catch (error) {
          if (!isNameClash(error)) throw error;
          const existing = await adoptable(captures, input, name);
          if (existing) {
            logger.info(`createPacketCapture: adopting existing capture ${name} on ${parameters.target}`);
            return ok({ name, adopted: true, storagePath: existing.storageLocation?.storagePath ?? null });
          }
          logger.info(
            `createPacketCapture: name ${name} conflicts (${(error as Error).message}); trying a suffixed name`,
          );
        }
      }
      return failed(
        `packet capture name ${input.name} still conflicts after ${MAX_NAME_SUFFIXES} suffixed names`,
        "Conflict",
      );
    });
}

export function makeGetPacketCaptureStatus(deps: PacketCaptureArmDeps): ActivityHandler {
  return (input: PacketCaptureRef) =>
    step<PacketCaptureStatusResult>(`getPacketCaptureStatus ${input.name}`, async (trail) => {
      const arm = deps.arm();
      const status = await arm
        .network(input.watcher.subscriptionId)
        .packetCaptures.beginGetStatusAndWait(
          input.watcher.resourceGroup,
          input.watcher.name,
          input.name,
          trail.watch(arm.lroOptions),
        );
      return ok({
        status: status.packetCaptureStatus ?? "Unknown",
        stopReason: status.stopReason ?? null,
        errors: status.packetCaptureError ?? [],
        captureStartTime: status.captureStartTime?.toISOString() ?? null,
      });
    });
}

/** A capture operation whose result is only "done" (stop, delete). */
function makeCaptureOperation(
  deps: PacketCaptureArmDeps,
  what: string,
  run: (captures: PacketCaptures, ref: PacketCaptureRef, lroOptions: ArmClients["lroOptions"]) => Promise<unknown>,
): ActivityHandler {
  return (input: PacketCaptureRef) =>
    step<null>(`${what} ${input.name}`, async (trail) => {
      const arm = deps.arm();
      await run(arm.network(input.watcher.subscriptionId).packetCaptures, input, trail.watch(arm.lroOptions));
      return ok(null);
    });
}

export function makeStopPacketCapture(deps: PacketCaptureArmDeps): ActivityHandler {
  return makeCaptureOperation(deps, "stopPacketCapture", (captures, ref, lroOptions) =>
    captures.beginStopAndWait(ref.watcher.resourceGroup, ref.watcher.name, ref.name, lroOptions),
  );
}

export function makeDeletePacketCapture(deps: PacketCaptureArmDeps): ActivityHandler {
  return makeCaptureOperation(deps, "deletePacketCapture", (captures, ref, lroOptions) =>
    captures.beginDeleteAndWait(ref.watcher.resourceGroup, ref.watcher.name, ref.name, lroOptions),
  );
}
