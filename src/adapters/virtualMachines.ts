/**
 * The VM lookup the capture activities need: a GET of a Compute virtual machine through an
 * authenticated core-rest-pipeline pipeline (`@azure/arm-network` has no VM operations and
 * `@azure/arm-compute` is not a dependency), and the Network Watcher agent check.
 */
import type { TokenCredential } from "@azure/core-auth";
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type PipelineRequestOptions,
  type PipelineRetryOptions,
  type TlsSettings,
} from "@azure/core-rest-pipeline";
import { parseArmResourceId } from "../core/anomaly/armId";
import { armPath, parseResourceIdSegments } from "../core/resourceId";
import { parseScaleSetInstanceId } from "../core/alertSchema";
import { matchComputer, type ComputerMatch, type VirtualMachineName } from "../core/alertTargets";
import { ValidationError } from "../errors";
import { logFailure } from "../logger";

/** Compute API version of the VM GET (the version the product pins). */
export const VIRTUAL_MACHINE_API_VERSION = "2024-07-01";

/** The parts of a Compute VM (api-version 2024-07-01) flowtap reads. */
export interface VirtualMachine {
  id: string;
  name: string;
  location: string;
  properties?: {
    vmId?: string;
    provisioningState?: string;
    osProfile?: { computerName?: string };
    networkProfile?: { networkInterfaces?: { id: string; properties?: { primary?: boolean } }[] };
    instanceView?: { extensions?: { name?: string; type?: string; statuses?: { code?: string }[] }[] };
  };
  /** Installed VM extensions. */
  resources?: VirtualMachineExtension[];
}

export interface VirtualMachineExtension {
  id?: string;
  name?: string;
  properties?: { publisher?: string; type?: string; typeHandlerVersion?: string; provisioningState?: string };
}

export interface GetVirtualMachineOptions {
  credential: TokenCredential;
  /** ARM endpoint; default https://management.azure.com. */
  endpoint?: string;
  /** Extra CA trust (a local endpoint's self-signed certificate). */
  tlsOptions?: TlsSettings;
  retryOptions?: PipelineRetryOptions;
  /** Adds `$expand=instanceView` (extension and power states). */
  expandInstanceView?: boolean;
  abortSignal?: PipelineRequestOptions["abortSignal"];
}

type ArmErrorBody = { error?: { code?: string; message?: string } };

/** The body as JSON, or undefined when it is empty or not JSON. */
function jsonBodyOf(text: string | null | undefined): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** An authenticated pipeline to ARM and the endpoint's base URL. */
function armPipeline(options: GetVirtualMachineOptions) {
  const endpoint = (options.endpoint ?? "https://management.azure.com").replace(/\/+$/, "");
  const pipeline = createPipelineFromOptions({ tlsOptions: options.tlsOptions, retryOptions: options.retryOptions });
  pipeline.addPolicy(
    bearerTokenAuthenticationPolicy({ credential: options.credential, scopes: `${endpoint}/.default` }),
  );
  return { endpoint, pipeline };
}

/** GETs `url` and returns its JSON body; a RestError with ARM's code and status when refused or not JSON. */
async function getArmJson(url: string, what: string, options: GetVirtualMachineOptions): Promise<unknown> {
  const { pipeline } = armPipeline(options);
  const request = createPipelineRequest({ url, method: "GET", abortSignal: options.abortSignal });
  const response = await pipeline.sendRequest(createDefaultHttpClient(), request);
  const body = jsonBodyOf(response.bodyAsText);
  if (response.status !== 200 || body === undefined) {
    const armError = (body as ArmErrorBody | undefined)?.error;
    const error = new RestError(
      armError?.message ?? `GET ${what} answered ${response.status}${body === undefined ? " without a JSON body" : ""}`,
      { code: armError?.code, statusCode: response.status, request, response },
    );
    logFailure(what, error);
    throw error;
  }
  return body;
}

/**
 * GETs a virtual machine or a scale set VM (VirtualMachineScaleSetVMs_Get, Compute spec
 * virtualMachineScaleSet.json: the same `location`, `properties` and extension `resources` a VM has).
 * Throws a ValidationError when `vmId` is not a VM resource id (or a
 * segment fails validation), and a RestError carrying the ARM error `code` and `statusCode` when
 * ARM refuses or answers no JSON. The URL is built from the id's encoded segments.
 */
export async function getVirtualMachine(vmId: string, options: GetVirtualMachineOptions): Promise<VirtualMachine> {
  const segments = parseResourceIdSegments(vmId);
  const isMachine =
    parseArmResourceId(vmId)?.type === "microsoft.compute/virtualmachines" || parseScaleSetInstanceId(vmId) !== null;
  if (!segments.ok || !isMachine) {
    throw new ValidationError(
      "getVirtualMachine: vmId must be " +
        "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name} or a scale set " +
        "VM .../virtualMachineScaleSets/{set}/virtualMachines/{instanceId}" +
        `${segments.ok ? "" : ` (${segments.reason})`}, got ${JSON.stringify(vmId)}`,
    );
  }
  const { endpoint } = armPipeline(options);
  const query = new URLSearchParams({ "api-version": VIRTUAL_MACHINE_API_VERSION });
  if (options.expandInstanceView) query.set("$expand", "instanceView");
  const url = `${endpoint}${armPath(segments.value.segments)}?${query.toString()}`;
  return (await getArmJson(url, `getVirtualMachine ${vmId}`, options)) as VirtualMachine;
}

/** Pages of a Compute list this module follows at most (a guard against a nextLink loop). */
const MAX_LIST_PAGES = 100;

/** The parts of a Compute scale set (api-version 2024-07-01) flowtap reads. */
export interface VirtualMachineScaleSet {
  id: string;
  name: string;
  location: string;
}

/**
 * Lists a subscription's Compute resources of one type (`GET /subscriptions/{s}/providers/Microsoft.Compute/{type}`,
 * following `nextLink` only while it stays on the ARM endpoint, at most MAX_LIST_PAGES pages).
 */
async function listComputeResources<T>(
  subscriptionId: string,
  type: "virtualMachines" | "virtualMachineScaleSets",
  options: GetVirtualMachineOptions,
): Promise<T[]> {
  const what = `list ${type} of ${subscriptionId}`;
  const path = ["subscriptions", subscriptionId, "providers", "Microsoft.Compute", type];
  const parsed = parseResourceIdSegments(`/${path.join("/")}`);
  if (!parsed.ok) throw new ValidationError(`${what}: subscription id ${parsed.reason}`);
  const { endpoint } = armPipeline(options);
  let url: string | undefined =
    `${endpoint}${armPath(parsed.value.segments)}?api-version=${VIRTUAL_MACHINE_API_VERSION}`;
  const resources: T[] = [];
  for (let page = 0; url && page < MAX_LIST_PAGES; page++) {
    const body = (await getArmJson(url, what, options)) as { value?: T[]; nextLink?: string };
    resources.push(...(body.value ?? []));
    url = body.nextLink && new URL(body.nextLink).origin === new URL(endpoint).origin ? body.nextLink : undefined;
  }
  return resources;
}

/** The virtual machines of a subscription (VirtualMachines_ListAll, Compute spec virtualMachine.json). */
export function listVirtualMachines(
  subscriptionId: string,
  options: GetVirtualMachineOptions,
): Promise<VirtualMachine[]> {
  return listComputeResources(subscriptionId, "virtualMachines", options);
}

/** The VM scale sets of a subscription (VirtualMachineScaleSets_ListAll, Compute spec virtualMachineScaleSet.json). */
export function listVirtualMachineScaleSets(
  subscriptionId: string,
  options: GetVirtualMachineOptions,
): Promise<VirtualMachineScaleSet[]> {
  return listComputeResources(subscriptionId, "virtualMachineScaleSets", options);
}

/**
 * A computer-name resolver over `list` (a subscription's VMs), caching each list for the resolver's
 * life (one webhook request). Never throws: a failed listing makes the name unresolved, with why.
 */
export function makeComputerResolver(
  list: (subscriptionId: string) => Promise<VirtualMachine[]>,
): (computerName: string, subscriptionIds: string[]) => Promise<ComputerMatch> {
  const lists = new Map<string, Promise<VirtualMachineName[]>>();
  const machinesOf = (subscriptionId: string): Promise<VirtualMachineName[]> => {
    let machines = lists.get(subscriptionId);
    if (!machines) {
      machines = list(subscriptionId).then((vms) =>
        vms.map((vm) => ({ id: vm.id, name: vm.name, computerName: vm.properties?.osProfile?.computerName })),
      );
      lists.set(subscriptionId, machines);
    }
    return machines;
  };
  return async (computerName, subscriptionIds) => {
    if (subscriptionIds.length === 0)
      return {
        ok: false,
        reason:
          `no subscription to look up computer "${computerName}" in ` +
          "(the alert names none; set allowedSubscriptions in FLOWTAP_CAPTURE_POLICY)",
      };
    const machines: VirtualMachineName[] = [];
    for (const subscriptionId of subscriptionIds) {
      try {
        machines.push(...(await machinesOf(subscriptionId)));
      } catch (error) {
        return {
          ok: false,
          reason: `listing the virtual machines of subscription ${subscriptionId} failed: ${(error as Error).message}`,
        };
      }
    }
    return matchComputer(computerName, machines);
  };
}

/** Whether the Network Watcher agent (Linux or Windows) is among the VM's extensions. */
export function hasNetworkWatcherExtension(vm: VirtualMachine): boolean {
  return (vm.resources ?? []).some(
    (extension) =>
      extension.properties?.publisher?.toLowerCase() === "microsoft.azure.networkwatcher" &&
      /^NetworkWatcherAgent(Linux|Windows)$/i.test(extension.properties.type ?? ""),
  );
}
