import type { PacketCapture, PacketCaptureFilter } from "@azure/arm-network";
import { ValidationError } from "../errors";
import type { AnomalyAlert, EvidenceRemote } from "./alertSchema";
import { parseScaleSetInstanceId, parseVmOrNicResourceId, type ScaleSetInstanceId } from "./alertSchema";
import { addBounded, MAX_EVIDENCE_PORTS } from "./anomaly/aggregate";
import { parseArmResourceId } from "./anomaly/armId";
// A generic 64-bit string hash despite its name: deterministic capture names.
import { hashBlobPath as hash64 } from "./eventId";
import { parseIp } from "./anomaly/ip";
import { MAX_CAPTURE_DURATION_IN_SECONDS } from "./anomaly/rules";
import { toEpochMs } from "./anomaly/time";
import {
  expectBoolean,
  expectKnownKeys,
  expectNonEmptyString,
  expectObject,
  expectPositiveInteger,
  expectStringList,
  fail,
} from "./anomaly/validate";

/**
 * Packet-capture policy, pure: who may be captured, how often, how many at once, and the exact
 * Network Watcher `PacketCapture` body (name, filters, storage path, clamped limits).
 */

export interface CaptureStorage {
  /** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}`. */
  storageAccountId: string;
  /** Container, optionally with a folder: `packet-captures` (default) or `captures/flowtap`. */
  containerPath?: string;
  /** Blob endpoint override (sovereign clouds, local emulator); default `https://{name}.blob.core.windows.net`. */
  blobEndpoint?: string;
}

export interface CapturePolicyConfig {
  /** Subscription ids whose VMs may be captured; absent = any (RBAC still applies). */
  allowedSubscriptions?: string[];
  /** Resource group names, or `/subscriptions/{s}/resourceGroups/{rg}` ids; absent = any. */
  allowedResourceGroups?: string[];
  maxConcurrentCaptures: number;
  /** Minimum time between two captures of the same VM. */
  cooldownInMinutes: number;
  /** Cap on each capture's time limit; at most 18000 (the service limit). */
  maxDurationInSeconds: number;
  maxBytesPerSession: number;
  /** 0 captures whole packets. */
  bytesToCapturePerPacket: number;
  storage: CaptureStorage;
  /** Keep the packetCapture ARM resource after it stops (the .cap blob stays either way). */
  keepCaptureResource: boolean;
}

export const DEFAULT_CONTAINER_PATH = "packet-captures";
/** Filters per capture, and remote IPs/ports per filter: Network Watcher matches them in the VM agent. */
export const MAX_CAPTURE_FILTERS = 2;
export const MAX_FILTER_LIST_ENTRIES = 10;
export const MAX_CAPTURE_NAME_LENGTH = 80;

const CONFIG_KEYS = [
  "allowedSubscriptions",
  "allowedResourceGroups",
  "maxConcurrentCaptures",
  "cooldownInMinutes",
  "maxDurationInSeconds",
  "maxBytesPerSession",
  "bytesToCapturePerPacket",
  "storage",
  "keepCaptureResource",
] as const;
const STORAGE_KEYS = ["storageAccountId", "containerPath", "blobEndpoint"] as const;

function storageAccountNameOf(storageAccountId: string): string | null {
  const parsed = parseArmResourceId(storageAccountId);
  if (parsed?.type !== "microsoft.storage/storageaccounts") return null;
  const name = parsed.name;
  const nameOk =
    name.length >= 3 && name.length <= 24 && [...name].every((c) => (c >= "a" && c <= "z") || (c >= "0" && c <= "9"));
  return nameOk ? name : null;
}

function isContainerName(name: string): boolean {
  const charsOk = [...name].every((c) => (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c === "-");
  return (
    charsOk && name.length >= 3 && name.length <= 63 && name[0] !== "-" && !name.endsWith("-") && !name.includes("--")
  );
}

function expectNonNegativeInteger(value: unknown, path: string): number {
  if (value === 0) return 0;
  return expectPositiveInteger(value, path);
}

function validateStorage(value: unknown, path: string): CaptureStorage {
  const object = expectObject(value, path);
  expectKnownKeys(object, STORAGE_KEYS, path);
  const storageAccountId = expectNonEmptyString(object.storageAccountId, `${path}.storageAccountId`);
  if (!storageAccountNameOf(storageAccountId)) {
    fail(
      `${path}.storageAccountId`,
      "must be a storage account resource id (/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Storage/" +
        "storageAccounts/{name})",
    );
  }
  const storage: CaptureStorage = { storageAccountId };
  if (object.containerPath !== undefined) {
    const containerPath = expectNonEmptyString(object.containerPath, `${path}.containerPath`).replace(/^\/+|\/+$/g, "");
    const [container, ...folders] = containerPath.split("/");
    if (!isContainerName(container))
      fail(
        `${path}.containerPath`,
        `must start with a valid container name (3-63 lower-case letters, digits, single hyphens; got "${container}")`,
      );
    if (folders.some((folder) => folder === "")) fail(`${path}.containerPath`, "must not contain empty folder names");
    storage.containerPath = containerPath;
  }
  if (object.blobEndpoint !== undefined) {
    const endpoint = expectNonEmptyString(object.blobEndpoint, `${path}.blobEndpoint`);
    if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol))
      fail(`${path}.blobEndpoint`, "must be an http(s) URL");
    storage.blobEndpoint = endpoint.replace(/\/+$/, "");
  }
  return storage;
}

/** Defaults for everything but `storage`. */
export const DEFAULT_CAPTURE_POLICY: Omit<CapturePolicyConfig, "storage"> = {
  maxConcurrentCaptures: 2,
  cooldownInMinutes: 60,
  maxDurationInSeconds: 600,
  maxBytesPerSession: 1024 ** 3,
  bytesToCapturePerPacket: 0,
  keepCaptureResource: false,
};

/**
 * Validates capture-policy configuration (parsed JSON); missing optional settings take
 * DEFAULT_CAPTURE_POLICY. Throws a Configuration FlowtapError naming the path (`capturePolicy.storage...`).
 */
export function validateCapturePolicyConfig(value: unknown, path = "capturePolicy"): CapturePolicyConfig {
  const object = expectObject(value, path);
  expectKnownKeys(object, CONFIG_KEYS, path);
  const withDefault = <T>(key: keyof typeof DEFAULT_CAPTURE_POLICY, validate: (v: unknown, p: string) => T): T =>
    object[key] === undefined ? (DEFAULT_CAPTURE_POLICY[key] as T) : validate(object[key], `${path}.${key}`);
  const config: CapturePolicyConfig = {
    maxConcurrentCaptures: withDefault("maxConcurrentCaptures", (v, p) => expectPositiveInteger(v, p)),
    cooldownInMinutes: withDefault("cooldownInMinutes", expectNonNegativeInteger),
    maxDurationInSeconds: withDefault("maxDurationInSeconds", (v, p) =>
      expectPositiveInteger(v, p, MAX_CAPTURE_DURATION_IN_SECONDS),
    ),
    maxBytesPerSession: withDefault("maxBytesPerSession", (v, p) => expectPositiveInteger(v, p)),
    bytesToCapturePerPacket: withDefault("bytesToCapturePerPacket", expectNonNegativeInteger),
    storage: validateStorage(object.storage, `${path}.storage`),
    keepCaptureResource: withDefault("keepCaptureResource", expectBoolean),
  };
  for (const key of ["allowedSubscriptions", "allowedResourceGroups"] as const) {
    if (object[key] !== undefined) config[key] = expectStringList(object[key], `${path}.${key}`);
  }
  return config;
}

/** What to capture and why; filters are hints from the evidence. */
export interface CaptureRequest {
  /** The VM to capture on (a NIC target must be resolved to its VM by the caller). */
  vmResourceId: string;
  /** Alert id (flowtap or Azure Monitor), for logs and the capture record. */
  reason: string;
  localIp?: string | null;
  remoteIps?: string[];
  localPorts?: number[];
  remotePorts?: number[];
  protocols?: string[];
  durationInSeconds?: number;
  maxSizeInBytes?: number;
}

/**
 * The evidence remotes a capture filters on: for the per-source kinds, the sources that crossed
 * the threshold themselves (the evidence also lists smaller, usually benign ones); for egress,
 * where only the total crosses it, every listed destination.
 */
export function offendingRemotes(alert: AnomalyAlert): EvidenceRemote[] {
  const remotes = alert.evidence.remotes;
  if (alert.kind === "egressBytes") return remotes;
  const offenders = remotes.filter((remote) => remote.value >= alert.evidence.threshold);
  return offenders.length > 0 ? offenders : remotes;
}

/**
 * A request from a flowtap anomaly alert, filtered to the offending remotes (offendingRemotes)
 * and their ports: inbound kinds on the sources and the target ports they hit, egress on the
 * remote destinations and ports.
 */
export function captureRequestFromAlert(alert: AnomalyAlert, vmResourceId: string): CaptureRequest {
  const offenders = offendingRemotes(alert);
  const ports: number[] = [];
  for (const remote of offenders) remote.ports.forEach((port) => addBounded(ports, port, MAX_EVIDENCE_PORTS));
  const request: CaptureRequest = {
    vmResourceId,
    reason: alert.id,
    localIp: alert.target.ip,
    remoteIps: offenders.map((remote) => remote.ip),
    protocols: alert.evidence.protocols,
  };
  if (alert.kind === "egressBytes") request.remotePorts = ports;
  // A scan touches many ports by definition: filtering on the few recorded would miss the rest.
  else if (alert.kind !== "portScan") request.localPorts = ports;
  if (alert.capture.durationInSeconds !== undefined) request.durationInSeconds = alert.capture.durationInSeconds;
  if (alert.capture.maxSizeInBytes !== undefined) request.maxSizeInBytes = alert.capture.maxSizeInBytes;
  return request;
}

export interface ActiveCapture {
  name: string;
  /** Lower-cased VM resource id. */
  vmKey: string;
  startedAt: string;
  /** startedAt + time limit: after this the capture no longer counts toward the concurrency cap. */
  endsAt: string;
}

/** Small JSON state of the policy (one per app, e.g. in an entity). */
export interface CapturePolicyState {
  active: ActiveCapture[];
  /** Lower-cased VM id → last capture start, only within the cooldown. */
  lastStartByVm: Record<string, string>;
}

export function emptyCapturePolicyState(): CapturePolicyState {
  return { active: [], lastStartByVm: {} };
}

/** Everything the orchestration needs to create, name, store and clean up one capture. */
export interface CapturePlan {
  name: string;
  vm: { resourceId: string; subscriptionId: string; resourceGroup: string; name: string };
  /** The body for `packetCaptures.beginCreateAndWait(networkWatcherRg, networkWatcherName, name, parameters)`. */
  parameters: PacketCapture;
  /** Blob path inside the container (`{container}/{folders}/{rg}/{vm}/{yyyy-mm-ddThh-mm}/{name}.cap`). */
  blobPath: string;
  keepCaptureResource: boolean;
  endsAt: string;
}

export type RefusalReason = "notAllowlisted" | "cooldown" | "concurrencyCap";

export type CaptureDecision =
  | { decision: "allowed"; plan: CapturePlan; state: CapturePolicyState }
  | { decision: "refused"; reason: RefusalReason; message: string; state: CapturePolicyState };

function isoCompact(iso: string): { folder: string; stamp: string } {
  // 2026-11-22T12:46:07.000Z → folder 2026-11-22T12-46, stamp 20261122T124607
  const folder = `${iso.slice(0, 13)}-${iso.slice(14, 16)}`;
  const stamp = iso.slice(0, 19).replace(/[-:]/g, "");
  return { folder, stamp };
}

function armSafe(text: string): string {
  return [...text].map((c) => (/[A-Za-z0-9_.-]/.test(c) ? c : "-")).join("");
}

/**
 * Deterministic, ARM-safe capture name (letters, digits, `_.-`, starts and ends alphanumeric,
 * <= 80 chars): `flowtap-{vm}-{yyyymmddThhmmss}-{hash of vm id}`; the hash keeps equal VM
 * names in different resource groups apart.
 */
export function captureName(vmResourceId: string, vmName: string, startIso: string): string {
  const { stamp } = isoCompact(new Date(toEpochMs(startIso, "capture start")).toISOString());
  const suffix = `-${stamp}-${hash64(vmResourceId.toLowerCase()).slice(0, 8)}`;
  const prefix = "flowtap-";
  const room = MAX_CAPTURE_NAME_LENGTH - prefix.length - suffix.length;
  const vmPart =
    armSafe(vmName)
      .slice(0, room)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9_]+$/g, "") || "vm";
  return `${prefix}${vmPart}${suffix}`;
}

function joinBounded<T>(values: readonly T[] | undefined): string | undefined {
  if (!values || values.length === 0 || values.length > MAX_FILTER_LIST_ENTRIES) return undefined;
  return values.join(";");
}

/**
 * Network Watcher filters from the request's hints: one filter per protocol (TCP and/or UDP),
 * or a single `Any` filter when other protocols were seen. Lists are `;`-joined (the service's
 * notation) and omitted when longer than MAX_FILTER_LIST_ENTRIES; an empty result captures everything.
 */
export function buildCaptureFilters(request: CaptureRequest): PacketCaptureFilter[] {
  const template: PacketCaptureFilter = {};
  if (request.localIp && parseIp(request.localIp)) template.localIPAddress = request.localIp;
  const remoteIps = joinBounded(request.remoteIps?.filter((ip) => parseIp(ip) !== null));
  if (remoteIps) template.remoteIPAddress = remoteIps;
  const localPorts = joinBounded(request.localPorts);
  if (localPorts) template.localPort = localPorts;
  const remotePorts = joinBounded(request.remotePorts);
  if (remotePorts) template.remotePort = remotePorts;
  const protocols = [...new Set((request.protocols ?? []).map((protocol) => protocol.toUpperCase()))].sort();
  const transport = protocols.length > 0 && protocols.every((p) => p === "TCP" || p === "UDP") ? protocols : [];
  if (transport.length === 0) return Object.keys(template).length === 0 ? [] : [{ protocol: "Any", ...template }];
  return transport.slice(0, MAX_CAPTURE_FILTERS).map((protocol) => ({ protocol, ...template }));
}

function isAllowlisted(vm: { subscriptionId: string; resourceGroup: string }, config: CapturePolicyConfig): boolean {
  const subscription = vm.subscriptionId.toLowerCase();
  const group = vm.resourceGroup.toLowerCase();
  if (config.allowedSubscriptions && !config.allowedSubscriptions.some((entry) => entry.toLowerCase() === subscription))
    return false;
  if (!config.allowedResourceGroups) return true;
  const groupId = `/subscriptions/${subscription}/resourcegroups/${group}`;
  return config.allowedResourceGroups.some((entry) => {
    const lowered = entry.toLowerCase().replace(/\/+$/, "");
    return lowered.startsWith("/") ? lowered === groupId : lowered === group;
  });
}

/** Drops captures past their end and cooldown entries past the cooldown. */
function prune(state: CapturePolicyState, config: CapturePolicyConfig, nowMs: number): CapturePolicyState {
  const cooldownMs = config.cooldownInMinutes * 60_000;
  return {
    active: state.active.filter((capture) => Date.parse(capture.endsAt) > nowMs),
    lastStartByVm: Object.fromEntries(
      Object.entries(state.lastStartByVm).filter(([, start]) => Date.parse(start) + cooldownMs > nowMs),
    ),
  };
}

/** The machine a capture is for: a VM, or a scale set instance (captured through its scale set). */
interface CaptureMachine {
  subscriptionId: string;
  resourceGroup: string;
  /** The VM name, or the scale set VM's name `{set}_{instanceId}` as ARM names it. */
  name: string;
  scaleSetInstance: ScaleSetInstanceId | null;
}

function machineOf(vmResourceId: string): CaptureMachine {
  const instance = parseScaleSetInstanceId(vmResourceId);
  if (instance) {
    const { subscriptionId, resourceGroup, scaleSetName, instanceId } = instance;
    return { subscriptionId, resourceGroup, name: `${scaleSetName}_${instanceId}`, scaleSetInstance: instance };
  }
  const vm = parseVmOrNicResourceId(vmResourceId);
  if (!vm || vm.kind !== "vm")
    throw new ValidationError(
      "capture target must be a virtual machine or VM scale set instance resource id " + `(got "${vmResourceId}")`,
    );
  return { subscriptionId: vm.subscriptionId, resourceGroup: vm.resourceGroup, name: vm.name, scaleSetInstance: null };
}

/**
 * The PacketCapture target: a VM as `AzureVM`; a scale set instance as `AzureVMSS` on the scale set with
 * `scope.include` = [its instance id] (PacketCaptureParameters in azure-rest-api-specs
 * network/resource-manager/Microsoft.Network/stable/2024-05-01/networkWatcher.json; PacketCapture and
 * PacketCaptureMachineScope in @azure/arm-network 36 models: `scope` lists AzureVMSS instances to include).
 */
function captureTargetOf(
  vmResourceId: string,
  machine: CaptureMachine,
): Pick<PacketCapture, "target" | "targetType" | "scope"> {
  const instance = machine.scaleSetInstance;
  if (!instance) return { target: vmResourceId, targetType: "AzureVM" };
  return { target: instance.scaleSetId, targetType: "AzureVMSS", scope: { include: [instance.instanceId] } };
}

/**
 * Decides whether to start a capture now, checking in order: allowlist, per-VM cooldown,
 * concurrency cap. When allowed, the returned state records the capture (call
 * `releaseCapture` when it stops early). Throws ValidationError when the target is neither a VM nor a scale set
 * instance id.
 */
export function decideCapture(
  request: CaptureRequest,
  previous: CapturePolicyState,
  config: CapturePolicyConfig,
  nowIso: string,
): CaptureDecision {
  const nowMs = toEpochMs(nowIso, "nowIso");
  const target = machineOf(request.vmResourceId);
  const state = prune(previous, config, nowMs);
  const vmKey = request.vmResourceId.toLowerCase();
  const refusal = refusalOf(target, vmKey, state, config);
  if (refusal) return { decision: "refused", ...refusal, state };
  const plan = capturePlan(request, target, config, nowMs);
  const { name, endsAt } = plan;
  const startedAt = new Date(nowMs).toISOString();
  return {
    decision: "allowed",
    plan,
    state: {
      active: [...state.active, { name, vmKey, startedAt, endsAt }],
      lastStartByVm: { ...state.lastStartByVm, [vmKey]: startedAt },
    },
  };
}

/** Why the policy refuses a capture of this VM now (allowlist, cooldown, cap), or null when it allows one. */
function refusalOf(
  target: CaptureMachine,
  vmKey: string,
  state: CapturePolicyState,
  config: CapturePolicyConfig,
): { reason: RefusalReason; message: string } | null {
  if (!isAllowlisted(target, config)) {
    return {
      reason: "notAllowlisted",
      message: `${target.name} is outside the allowed subscriptions/resource groups`,
    };
  }
  const lastStart = state.lastStartByVm[vmKey];
  if (lastStart !== undefined) {
    return {
      reason: "cooldown",
      message: `${target.name} was captured at ${lastStart}; cooldown ${config.cooldownInMinutes} min`,
    };
  }
  if (state.active.length >= config.maxConcurrentCaptures) {
    return {
      reason: "concurrencyCap",
      message: `${state.active.length} captures running (max ${config.maxConcurrentCaptures})`,
    };
  }
  return null;
}

/** The capture to start now: its name, ARM parameters (limits capped by the policy) and blob path. */
function capturePlan(
  request: CaptureRequest,
  target: CaptureMachine,
  config: CapturePolicyConfig,
  nowMs: number,
): CapturePlan {
  const startedAt = new Date(nowMs).toISOString();
  const timeLimitInSeconds = Math.min(
    request.durationInSeconds ?? config.maxDurationInSeconds,
    config.maxDurationInSeconds,
  );
  const totalBytesPerSession = Math.min(request.maxSizeInBytes ?? config.maxBytesPerSession, config.maxBytesPerSession);
  const name = captureName(request.vmResourceId, target.name, startedAt);
  const accountName = storageAccountNameOf(config.storage.storageAccountId) as string;
  const endpoint = config.storage.blobEndpoint ?? `https://${accountName}.blob.core.windows.net`;
  const containerPath = config.storage.containerPath ?? DEFAULT_CONTAINER_PATH;
  const vmFolder = `${armSafe(target.resourceGroup.toLowerCase())}/${armSafe(target.name)}`;
  const blobPath = `${containerPath}/${vmFolder}/${isoCompact(startedAt).folder}/${name}.cap`;
  const filters = buildCaptureFilters(request);
  const parameters: PacketCapture = {
    ...captureTargetOf(request.vmResourceId, target),
    bytesToCapturePerPacket: config.bytesToCapturePerPacket,
    totalBytesPerSession,
    timeLimitInSeconds,
    storageLocation: { storageId: config.storage.storageAccountId, storagePath: `${endpoint}/${blobPath}` },
  };
  if (filters.length > 0) parameters.filters = filters;
  return {
    name,
    vm: {
      resourceId: request.vmResourceId,
      subscriptionId: target.subscriptionId,
      resourceGroup: target.resourceGroup,
      name: target.name,
    },
    parameters,
    blobPath,
    keepCaptureResource: config.keepCaptureResource,
    endsAt: new Date(nowMs + timeLimitInSeconds * 1000).toISOString(),
  };
}

/** Frees a capture's concurrency slot when it stops before its time limit (the cooldown stays). */
export function releaseCapture(state: CapturePolicyState, name: string): CapturePolicyState {
  return { active: state.active.filter((capture) => capture.name !== name), lastStartByVm: { ...state.lastStartByVm } };
}
