/**
 * Azure Resource Manager clients from settings: one `NetworkManagementClient` per subscription
 * (shared, so connections and tokens are reused) and the VM GET, with the configured endpoint,
 * extra CA trust and credential. 429 answers are NOT retried in-process: they surface as a
 * RestError so that the capture orchestration waits for Retry-After on a durable timer;
 * 5xx, 408 and network errors are retried by the SDK a bounded number of times.
 */
import { NetworkManagementClient, type NetworkInterface } from "@azure/arm-network";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { exponentialRetryPolicy, systemErrorRetryPolicy, type TlsSettings } from "@azure/core-rest-pipeline";
import { DefaultAzureCredential } from "@azure/identity";
import { isLoopbackEndpoint, type ArmSettings } from "../config";
import { configurationError } from "../errors";
import { logger } from "../logger";
import { parseArmResourceId } from "../core/anomaly/armId";
import {
  getVirtualMachine,
  listVirtualMachines,
  listVirtualMachineScaleSets,
  type VirtualMachine,
  type VirtualMachineScaleSet,
} from "./virtualMachines";

export interface ArmClients {
  readonly endpoint: string;
  /** The shared client for a subscription. */
  network(subscriptionId: string): NetworkManagementClient;
  getVirtualMachine(vmResourceId: string): Promise<VirtualMachine>;
  /** The VMs of a subscription (to find a computer named by a log alert). */
  listVirtualMachines(subscriptionId: string): Promise<VirtualMachine[]>;
  /** The VM scale sets of a subscription (their NICs are listed per scale set). */
  listVirtualMachineScaleSets(subscriptionId: string): Promise<VirtualMachineScaleSet[]>;
  /** Options for `begin*AndWait` calls: the configured LRO polling interval, if any. */
  readonly lroOptions: { updateIntervalInMs?: number };
}

/** A fixed token for a loopback ARM endpoint (FLOWTAP_ARM_DEV_TOKEN); never sent anywhere else. */
class DevTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}

  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000, tokenType: "Bearer" };
  }
}

function credentialOf(settings: ArmSettings): TokenCredential {
  if (settings.credential.kind === "devToken") {
    // Checked at start too; checked again here so no code path can send the token off the machine.
    if (!isLoopbackEndpoint(settings.endpoint))
      throw configurationError("FLOWTAP_ARM_DEV_TOKEN is only for a loopback FLOWTAP_ARM_ENDPOINT.");
    logger.verbose(`ARM at ${settings.endpoint} with the development token`);
    return new DevTokenCredential(settings.credential.token);
  }
  const clientId = settings.credential.clientId;
  logger.verbose(
    `ARM at ${settings.endpoint} with DefaultAzureCredential${clientId ? " (user-assigned identity)" : ""}`,
  );
  return clientId ? new DefaultAzureCredential({ managedIdentityClientId: clientId }) : new DefaultAzureCredential();
}

export function createArmClients(settings: ArmSettings): ArmClients {
  const credential = credentialOf(settings);
  const tlsOptions: TlsSettings | undefined = settings.caCertificatePem ? { ca: settings.caCertificatePem } : undefined;
  const retryOptions = { retryDelayInMs: settings.retryDelayInMs, maxRetryDelayInMs: settings.retryDelayInMs * 10 };
  const clients = new Map<string, NetworkManagementClient>();
  const vmOptions = {
    credential,
    endpoint: settings.endpoint,
    tlsOptions,
    retryOptions: { ...retryOptions, maxRetries: 0 },
  };
  return {
    endpoint: settings.endpoint,
    network(subscriptionId) {
      const key = subscriptionId.toLowerCase();
      let client = clients.get(key);
      if (!client) {
        client = new NetworkManagementClient(credential, subscriptionId, {
          endpoint: settings.endpoint,
          ...(tlsOptions && { tlsOptions }),
        });
        // The default retry policy also sleeps through 429s in-process; keep its 5xx/408 part and, since
        // exponentialRetryPolicy ignores network errors, add the policy that retries those (ECONNRESET, ETIMEDOUT...).
        client.pipeline.removePolicy({ name: "defaultRetryPolicy" });
        client.pipeline.addPolicy(exponentialRetryPolicy(retryOptions), { phase: "Retry" });
        client.pipeline.addPolicy(systemErrorRetryPolicy(retryOptions), { phase: "Retry" });
        clients.set(key, client);
      }
      return client;
    },
    getVirtualMachine: (vmResourceId) => getVirtualMachine(vmResourceId, vmOptions),
    listVirtualMachines: (subscriptionId) => listVirtualMachines(subscriptionId, vmOptions),
    listVirtualMachineScaleSets: (subscriptionId) => listVirtualMachineScaleSets(subscriptionId, vmOptions),
    lroOptions:
      settings.lroUpdateIntervalInMs === undefined ? {} : { updateIntervalInMs: settings.lroUpdateIntervalInMs },
  };
}

/** Scale sets whose NICs one listing reads at most (a bound on the requests per subscription). */
export const MAX_SCALE_SETS_LISTED = 200;

/**
 * Every NIC of a subscription: `networkInterfaces.listAll` (VMs' NICs), then, since Uniform scale set NICs are not
 * in it, `networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces` of each scale set (at most
 * MAX_SCALE_SETS_LISTED; their `virtualMachine.id` is the scale set VM). A failure throws out of the iteration:
 * the NICs already yielded stay good.
 */
export async function* listAllNetworkInterfaces(
  arm: ArmClients,
  subscriptionId: string,
): AsyncIterable<NetworkInterface> {
  const network = arm.network(subscriptionId);
  yield* network.networkInterfaces.listAll();
  const scaleSets = await arm.listVirtualMachineScaleSets(subscriptionId);
  if (scaleSets.length > MAX_SCALE_SETS_LISTED)
    logger.warning(
      `Subscription ${subscriptionId} has ${scaleSets.length} VM scale sets: ` +
        `the NICs of the first ${MAX_SCALE_SETS_LISTED} are listed`,
    );
  for (const scaleSet of scaleSets.slice(0, MAX_SCALE_SETS_LISTED)) {
    const parsed = parseArmResourceId(scaleSet.id);
    if (!parsed) continue;
    yield* network.networkInterfaces.listVirtualMachineScaleSetNetworkInterfaces(parsed.resourceGroup, parsed.name);
  }
}
