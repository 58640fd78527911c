/**
 * The ARM steps of a packet capture: resolve the target, create, query status, stop, delete.
 * Each is a thin activity built from the shared ARM clients. ARM answers never throw out of
 * these activities: they come back as ArmStep values (throttled with Retry-After, transient,
 * failed with the ARM code), so the orchestration decides about waiting and retrying.
 */
import type { NetworkManagementClient } from "@azure/arm-network";
import { isRestError } from "@azure/core-rest-pipeline";
import type { ActivityHandler } from "durable-functions";
import type { ArmClients } from "../src/adapters/arm";
import { parseVmOrNicResourceId } from "../src/core/alertSchema";
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

/** What an SDK error means for the orchestration. */
export function armFailureOf(error: unknown, what: string): ArmFailure {
  if (isRestError(error)) {
    const status = error.statusCode;
    const message = `${what}: ${status ?? "no answer"} ${error.message}`;
    const code = error.code;
    if (status === 429) {
      return {
        outcome: "throttled",
        retryAfterInSeconds: retryAfterInSeconds(error.response?.headers.get("retry-after"), Date.now()),
        message,
      };
    }
    if (status === undefined || status >= 500 || status === 408)
      return {
        outcome: "transient",
        message,
        ...(status !== undefined && { statusCode: status }),
        ...(code && { code }),
      };
    return { outcome: "failed", statusCode: status, message, ...(code && { code }) };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && NETWORK_ERROR_CODES.has(code))
    return { outcome: "transient", code, message: `${what}: ${(error as Error).message}` };
  return failed(`${what}: ${(error as Error)?.message ?? String(error)}`);
}

/** Runs one ARM step; logs and converts failures. */
async function step<T>(what: string, run: () => Promise<ArmStep<T>>): Promise<ArmStep<T>> {
  try {
    return await run();
  } catch (error) {
    const failure = armFailureOf(error, what);
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
 * The VM of the target: a VM id as is, a NIC id through its `virtualMachine`, a MAC through
 * `networkInterfaces.listAll`.
 */
async function vmIdOf(arm: ArmClients, input: ResolveCaptureTargetInput): Promise<ArmStep<string>> {
  const { resourceId, mac } = input.target;
  const direct = resourceId ? parseVmOrNicResourceId(resourceId) : null;
  if (direct?.kind === "vm") return ok(direct.resourceId);
  if (direct?.kind === "nic") {
    const nic = await arm.network(direct.subscriptionId).networkInterfaces.get(direct.resourceGroup, direct.name);
    return nic.virtualMachine?.id
      ? ok(nic.virtualMachine.id)
      : failed(`network interface ${direct.resourceId} is not attached to a virtual machine`);
  }
  if (!mac)
    return failed(
      `target ${resourceId ?? "(none)"} is neither a virtual machine nor a network interface, and has no MAC`,
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
    for await (const nic of arm.network(subscriptionId).networkInterfaces.listAll()) {
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
      const subscriptionId = parseArmResourceId(vmId.value)?.subscriptionId as string;
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

export function makeCreatePacketCapture(deps: PacketCaptureArmDeps): ActivityHandler {
  return (input: CreatePacketCaptureInput) =>
    step<CreatedPacketCapture>(`createPacketCapture ${input.name}`, async () => {
      const arm = deps.arm();
      const captures = arm.network(input.watcher.subscriptionId).packetCaptures;
      for (let suffix = 0; suffix <= MAX_NAME_SUFFIXES; suffix++) {
        const name = suffix === 0 ? input.name : `${input.name}-${suffix}`;
        const parameters = renamed(input, name);
        try {
          const created = await captures.beginCreateAndWait(
            input.watcher.resourceGroup,
            input.watcher.name,
            name,
            parameters,
            arm.lroOptions,
          );
          return ok({
            name,
            adopted: false,
            storagePath: created.storageLocation?.storagePath ?? parameters.storageLocation.storagePath ?? null,
          });
        } catch (error) {
          if (!isRestError(error) || error.statusCode !== 409) throw error;
          // A name conflict: adopt the capture if it is ours (same name, same target), else try a suffixed name.
          const existing = await captures
            .get(input.watcher.resourceGroup, input.watcher.name, name)
            .catch((getError: unknown) => {
              if (isRestError(getError) && getError.statusCode === 404) return undefined;
              throw getError;
            });
          if (existing?.target?.toLowerCase() === parameters.target.toLowerCase()) {
            logger.info(`createPacketCapture: adopting existing capture ${name} on ${parameters.target}`);
            return ok({ name, adopted: true, storagePath: existing.storageLocation?.storagePath ?? null });
          }
          logger.info(`createPacketCapture: name ${name} conflicts (${error.message}); trying a suffixed name`);
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
    step<PacketCaptureStatusResult>(`getPacketCaptureStatus ${input.name}`, async () => {
      const arm = deps.arm();
      const status = await arm
        .network(input.watcher.subscriptionId)
        .packetCaptures.beginGetStatusAndWait(
          input.watcher.resourceGroup,
          input.watcher.name,
          input.name,
          arm.lroOptions,
        );
      return ok({
        status: status.packetCaptureStatus ?? "Unknown",
        stopReason: status.stopReason ?? null,
        errors: status.packetCaptureError ?? [],
        captureStartTime: status.captureStartTime?.toISOString() ?? null,
      });
    });
}

type PacketCaptures = NetworkManagementClient["packetCaptures"];

/** A capture operation whose result is only "done" (stop, delete). */
function makeCaptureOperation(
  deps: PacketCaptureArmDeps,
  what: string,
  run: (captures: PacketCaptures, ref: PacketCaptureRef, lroOptions: ArmClients["lroOptions"]) => Promise<unknown>,
): ActivityHandler {
  return (input: PacketCaptureRef) =>
    step<null>(`${what} ${input.name}`, async () => {
      const arm = deps.arm();
      await run(arm.network(input.watcher.subscriptionId).packetCaptures, input, arm.lroOptions);
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
