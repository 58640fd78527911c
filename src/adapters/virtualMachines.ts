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

/**
 * GETs a virtual machine. Throws a ValidationError when `vmId` is not a VM resource id, and a
 * RestError carrying the ARM error `code` and `statusCode` when ARM refuses or answers no JSON.
 */
export async function getVirtualMachine(vmId: string, options: GetVirtualMachineOptions): Promise<VirtualMachine> {
  if (parseArmResourceId(vmId)?.type !== "microsoft.compute/virtualmachines") {
    throw new ValidationError(
      `getVirtualMachine: vmId must be /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/` +
        `virtualMachines/{name}, got ${JSON.stringify(vmId)}`,
    );
  }
  const endpoint = (options.endpoint ?? "https://management.azure.com").replace(/\/+$/, "");
  const pipeline = createPipelineFromOptions({ tlsOptions: options.tlsOptions, retryOptions: options.retryOptions });
  pipeline.addPolicy(
    bearerTokenAuthenticationPolicy({ credential: options.credential, scopes: `${endpoint}/.default` }),
  );
  const expand = options.expandInstanceView ? "&$expand=instanceView" : "";
  const request = createPipelineRequest({
    url: `${endpoint}${vmId}?api-version=${VIRTUAL_MACHINE_API_VERSION}${expand}`,
    method: "GET",
    abortSignal: options.abortSignal,
  });
  const response = await pipeline.sendRequest(createDefaultHttpClient(), request);
  const body = jsonBodyOf(response.bodyAsText);
  if (response.status !== 200 || body === undefined) {
    const armError = (body as ArmErrorBody | undefined)?.error;
    const error = new RestError(
      armError?.message ?? `GET ${vmId} answered ${response.status}${body === undefined ? " without a JSON body" : ""}`,
      {
        code: armError?.code,
        statusCode: response.status,
        request,
        response,
      },
    );
    logFailure("getVirtualMachine", error);
    throw error;
  }
  return body as VirtualMachine;
}

/** Whether the Network Watcher agent (Linux or Windows) is among the VM's extensions. */
export function hasNetworkWatcherExtension(vm: VirtualMachine): boolean {
  return (vm.resources ?? []).some(
    (extension) =>
      extension.properties?.publisher?.toLowerCase() === "microsoft.azure.networkwatcher" &&
      /^NetworkWatcherAgent(Linux|Windows)$/i.test(extension.properties.type ?? ""),
  );
}
