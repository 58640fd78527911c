/**
 * What an Azure Monitor alert asks flowtap to capture: every machine it names, from
 * `alertTargetIDs`, the dimensions of metric and log alerts (`_ResourceId`, `Computer`; log
 * alerts V1 `alertContext.Dimensions`, V2 and metric alerts `alertContext.condition.allOf[].dimensions`)
 * and, for log alerts, `configurationItems`. Each target gets its own outcome: a target that
 * cannot be captured is reported, never a reason to refuse the others.
 */
import type { CommonAlert } from "./alertSchema";
import { parseResourceIdSegments } from "./resourceId";

/** A target flowtap can hand to a capture: a VM, a NIC (resolved to its VM) or a scale set instance. */
export interface CapturableTarget {
  kind: "vm" | "nic" | "vmssInstance";
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  /** The VM, NIC or scale set name. */
  name: string;
  /** The scale set instance id (vmssInstance only). */
  instanceId?: string;
}

/** What flowtap makes of a target before any ARM call. */
export type TargetPlan =
  | { plan: "capture"; capturable: CapturableTarget }
  /** A computer name (log alerts): resolved to a VM through ARM. */
  | { plan: "computer"; computerName: string }
  /** Well-formed, but not something a packet capture can target (a workspace, a storage account...). */
  | { plan: "notCapturable"; reason: string }
  /** Malformed or unsafe (a resource id with `?`, `..`...): never sent to ARM. */
  | { plan: "refused"; reason: string };

/** One target as named by the alert, with its plan. */
export type PlannedTarget = {
  /** The resource id or computer name, as sent. */
  target: string;
  /** Where in the payload it was found, e.g. `data.essentials.alertTargetIDs[0]`. */
  source: string;
} & TargetPlan;

const VM_TYPE = "microsoft.compute/virtualmachines";
const NIC_TYPE = "microsoft.network/networkinterfaces";
const VMSS_TYPE = "microsoft.compute/virtualmachinescalesets";
const WORKSPACE_TYPE = "microsoft.operationalinsights/workspaces";
const RESOURCE_ID_DIMENSIONS = new Set(["_resourceid", "resourceid", "microsoft.resourceid"]);
const COMPUTER_DIMENSIONS = new Set(["computer", "computername", "_computer"]);
/** A host name or FQDN as Log Analytics records it in `Computer`. */
const COMPUTER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9])?$/;

interface Candidate {
  kind: "resource" | "computer";
  value: string;
  source: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{name, value}` dimensions of metric and log V2 alerts (`condition.allOf[]`) and log V1 alerts (`Dimensions`). */
function dimensionsOf(context: Record<string, unknown> | null): { name: string; value: string; source: string }[] {
  if (!context) return [];
  const lists: { list: unknown; path: string }[] = [{ list: context.Dimensions, path: "data.alertContext.Dimensions" }];
  const condition = context.condition;
  if (isObject(condition) && Array.isArray(condition.allOf)) {
    condition.allOf.forEach((criterion: unknown, index) => {
      if (isObject(criterion))
        lists.push({ list: criterion.dimensions, path: `data.alertContext.condition.allOf[${index}].dimensions` });
    });
  }
  return lists.flatMap(({ list, path }) =>
    Array.isArray(list)
      ? list.flatMap((dimension: unknown, index) =>
          isObject(dimension) && typeof dimension.name === "string" && typeof dimension.value === "string"
            ? [{ name: dimension.name, value: dimension.value, source: `${path}[${index}]` }]
            : [],
        )
      : [],
  );
}

function isLogAlert(alert: CommonAlert): boolean {
  return /^log$/i.test(alert.signalType ?? "") || /log analytics|log alerts/i.test(alert.monitoringService ?? "");
}

/** Every target the alert names, de-duplicated (ids and names compare case-insensitively). */
function candidatesOf(alert: CommonAlert): Candidate[] {
  const candidates: Candidate[] = [];
  (alert.alertTargetIDs ?? []).forEach((id, index) =>
    candidates.push({ kind: "resource", value: String(id), source: `data.essentials.alertTargetIDs[${index}]` }),
  );
  for (const dimension of dimensionsOf(alert.alertContext)) {
    const name = dimension.name.toLowerCase();
    // A metric alert's ResourceId dimension holds the VM's GUID: only full ids are targets.
    if (RESOURCE_ID_DIMENSIONS.has(name) && dimension.value.startsWith("/"))
      candidates.push({ kind: "resource", value: dimension.value, source: dimension.source });
    else if (COMPUTER_DIMENSIONS.has(name))
      candidates.push({ kind: "computer", value: dimension.value, source: dimension.source });
  }
  if (isLogAlert(alert)) {
    // In log alerts configurationItems name the computers; elsewhere they repeat the targets' names.
    (alert.configurationItems ?? []).forEach((item, index) => {
      if (typeof item === "string")
        candidates.push({ kind: "computer", value: item, source: `data.essentials.configurationItems[${index}]` });
    });
  }
  const resourceNames = new Set(
    candidates.filter((c) => c.kind === "resource").map((c) => c.value.split("/").pop()!.toLowerCase()),
  );
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    const key = `${candidate.kind}|${candidate.value.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    // A computer named like one of the resource targets is that target (a VM's name is usually its host name).
    return candidate.kind === "resource" || !resourceNames.has(candidate.value.toLowerCase());
  });
}

/** What a validated resource id is, as a capture target. */
function classifyResource(segments: string[]): TargetPlan {
  const lower = segments.map((segment) => segment.toLowerCase());
  if (segments.length === 2) return { plan: "notCapturable", reason: "a subscription, not a machine" };
  if (lower[2] !== "resourcegroups" || (segments.length > 4 && lower[4] !== "providers"))
    return { plan: "notCapturable", reason: "not a resource id of a resource group" };
  if (segments.length === 4) return { plan: "notCapturable", reason: "a resource group, not a machine" };
  const type = `${lower[5]}/${lower[6]}`;
  const base = { resourceId: `/${segments.join("/")}`, subscriptionId: segments[1]!, resourceGroup: segments[3]! };
  if (segments.length === 8 && (type === VM_TYPE || type === NIC_TYPE))
    return { plan: "capture", capturable: { ...base, kind: type === VM_TYPE ? "vm" : "nic", name: segments[7]! } };
  if (segments.length === 10 && type === VMSS_TYPE && lower[8] === "virtualmachines")
    return {
      plan: "capture",
      capturable: { ...base, kind: "vmssInstance", name: segments[7]!, instanceId: segments[9]! },
    };
  if (segments.length === 8 && type === VMSS_TYPE)
    return { plan: "notCapturable", reason: "a whole VM scale set: the alert names none of its instances" };
  if (segments.length === 8 && type === WORKSPACE_TYPE)
    return {
      plan: "notCapturable",
      reason: "a Log Analytics workspace (the machines a log alert names are in its dimensions or configurationItems)",
    };
  const resourceType = segments.slice(5, segments.length - 1).join("/");
  return {
    plan: "notCapturable",
    reason: `${resourceType} is not a virtual machine, network interface or scale set instance`,
  };
}

function planCandidate(candidate: Candidate): PlannedTarget {
  const { value: target, source } = candidate;
  if (candidate.kind === "computer") {
    return COMPUTER_NAME.test(target)
      ? { target, source, plan: "computer", computerName: target }
      : { target, source, plan: "refused", reason: "not a computer name (letters, digits, _ . - only)" };
  }
  const parsed = parseResourceIdSegments(target);
  if (!parsed.ok) return { target, source, plan: "refused", reason: `not a valid resource id: ${parsed.reason}` };
  return { target, source, ...classifyResource(parsed.value.segments) };
}

/** The targets of an alert, each with its plan (capture, resolve a computer name, not capturable, refused). */
export function planAlertTargets(alert: CommonAlert): PlannedTarget[] {
  return candidatesOf(alert).map(planCandidate);
}

/** The subscriptions where a computer named by the alert may live: the alert targets' own. */
export function subscriptionsOfAlert(alert: CommonAlert): string[] {
  const subscriptions = (alert.alertTargetIDs ?? []).flatMap((id) => {
    const parsed = typeof id === "string" ? parseResourceIdSegments(id) : null;
    return parsed?.ok ? [parsed.value.segments[1]!.toLowerCase()] : [];
  });
  return [...new Set(subscriptions)];
}

/** The parts of a VM a computer name is matched against. */
export interface VirtualMachineName {
  id: string;
  name: string;
  computerName?: string;
}

export type ComputerMatch = { ok: true; vmResourceId: string } | { ok: false; reason: string };

/**
 * The one VM whose computer name (or, failing that, VM name) is `computer`, case-insensitively; an
 * FQDN matches by its first label. None or several: unresolved, with the reason.
 */
export function matchComputer(computer: string, machines: readonly VirtualMachineName[]): ComputerMatch {
  const wanted = new Set([computer.toLowerCase(), computer.split(".")[0]!.toLowerCase()]);
  const byComputerName = machines.filter((vm) => vm.computerName && wanted.has(vm.computerName.toLowerCase()));
  const matches =
    byComputerName.length > 0 ? byComputerName : machines.filter((vm) => wanted.has(vm.name.toLowerCase()));
  if (matches.length === 1) return { ok: true, vmResourceId: matches[0]!.id };
  return matches.length === 0
    ? { ok: false, reason: `no virtual machine with computer name "${computer}"` }
    : { ok: false, reason: `${matches.length} virtual machines have computer name "${computer}"` };
}
