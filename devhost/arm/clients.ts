import { NetworkManagementClient } from "@azure/arm-network";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import type { PipelineRetryOptions } from "@azure/core-rest-pipeline";

/**
 * Polling interval to pass as `updateIntervalInMs` to `begin*` calls against the local endpoint (the SDK default is 2
 * s).
 */
export const LOCAL_LRO_UPDATE_INTERVAL_IN_MS = 10;

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
export function createLocalNetworkClient(
  endpoint: string,
  subscriptionId: string,
  options: CreateLocalNetworkClientOptions,
): NetworkManagementClient {
  return new NetworkManagementClient(options.credential ?? new StaticTokenCredential(), subscriptionId, {
    endpoint,
    tlsOptions: { ca: options.caCertificatePem },
    retryOptions: localRetryOptions(options),
  });
}

/** Retry options for local endpoints: the SDK's 1 s base delay makes fault tests slow. */
export function localRetryOptions(options: { retryDelayInMs?: number; maxRetries?: number }): PipelineRetryOptions {
  const retryDelayInMs = options.retryDelayInMs ?? 10;
  return {
    retryDelayInMs,
    maxRetryDelayInMs: retryDelayInMs * 10,
    ...(options.maxRetries !== undefined && { maxRetries: options.maxRetries }),
  };
}
