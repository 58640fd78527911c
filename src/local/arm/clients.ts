import { NetworkManagementClient } from "@azure/arm-network";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
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
import { ValidationError } from "../../errors";
import { logFailure } from "../../logger";
import { parseJsonOrText } from "./json";
import { parseResourceId } from "./seed";

/** Polling interval to pass as `updateIntervalInMs` to `begin*` calls against the local endpoint (the SDK default is 2 s). */
export const LOCAL_LRO_UPDATE_INTERVAL_IN_MS = 10;

/** Compute API version of the VM GET (the version the product pins). */
export const VIRTUAL_MACHINE_API_VERSION = "2024-07-01";

/** A fixed bearer token, for local endpoints only (they check that a token is present, not what it is). */
export class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token = "flowtap-local-token") {}

  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000, tokenType: "Bearer" };
  }
}

export interface CreateLocalNetworkClientOptions {
  /** PEM certificate the endpoint presents (`ArmEndpoint.caCertificatePem`). */
  caCertificatePem: string;
  /** Default: a StaticTokenCredential. */
  credential?: TokenCredential;
  /** Base delay between retries of 5xx/408 answers (SDK default 1000 ms). Default 10 ms. */
  retryDelayInMs?: number;
  /** Retries after the first attempt (SDK default 3). */
  maxRetries?: number;
}

/**
 * The real `NetworkManagementClient`, pointed at a local https ARM endpoint. The self-signed
 * certificate is trusted through `tlsOptions.ca`, which core-rest-pipeline turns into the
 * https Agent's `ca` (no NODE_EXTRA_CA_CERTS needed). Pass
 * `{ updateIntervalInMs: LOCAL_LRO_UPDATE_INTERVAL_IN_MS }` to `begin*` calls.
 */
export function createLocalNetworkClient(endpoint: string, subscriptionId: string, options: CreateLocalNetworkClientOptions): NetworkManagementClient {
  return new NetworkManagementClient(options.credential ?? new StaticTokenCredential(), subscriptionId, {
    endpoint,
    tlsOptions: { ca: options.caCertificatePem },
    retryOptions: localRetryOptions(options),
  });
}

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

/**
 * GET of a virtual machine through an authenticated core-rest-pipeline pipeline
 * (`@azure/arm-network` has no VM operations and `@azure/arm-compute` is not a dependency).
 * Throws a RestError carrying the ARM error `code` and `statusCode` when ARM refuses.
 */
export async function getVirtualMachine(vmId: string, options: GetVirtualMachineOptions): Promise<VirtualMachine> {
  const parsed = parseResourceId(vmId);
  if (!parsed || parsed.provider.toLowerCase() !== "microsoft.compute" || parsed.type.toLowerCase() !== "virtualmachines") {
    throw new ValidationError(`getVirtualMachine: vmId must be /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}, got ${JSON.stringify(vmId)}`);
  }
  const endpoint = (options.endpoint ?? "https://management.azure.com").replace(/\/+$/, "");
  const pipeline = createPipelineFromOptions({ tlsOptions: options.tlsOptions, retryOptions: options.retryOptions });
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: options.credential, scopes: `${endpoint}/.default` }));
  const expand = options.expandInstanceView ? "&$expand=instanceView" : "";
  const request = createPipelineRequest({
    url: `${endpoint}${vmId}?api-version=${VIRTUAL_MACHINE_API_VERSION}${expand}`,
    method: "GET",
    abortSignal: options.abortSignal,
  });
  const response = await pipeline.sendRequest(createDefaultHttpClient(), request);
  const body = parseJsonOrText(response.bodyAsText ?? undefined);
  if (response.status !== 200) {
    const armError = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    const error = new RestError(armError?.message ?? `GET ${vmId} answered ${response.status}`, {
      code: armError?.code,
      statusCode: response.status,
      request,
      response,
    });
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

/** Retry options for local endpoints: the SDK's 1 s base delay makes fault tests slow. */
export function localRetryOptions(options: { retryDelayInMs?: number; maxRetries?: number }): PipelineRetryOptions {
  const retryDelayInMs = options.retryDelayInMs ?? 10;
  return { retryDelayInMs, maxRetryDelayInMs: retryDelayInMs * 10, ...(options.maxRetries !== undefined && { maxRetries: options.maxRetries }) };
}

