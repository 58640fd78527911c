/**
 * Test harness for anomaly response: the local Event Hubs endpoint (hub "alerts"), the local
 * ARM endpoint seeded from a generated topology, and the local host running the capture
 * functions with a virtual clock. Everything through the real clients.
 */
import path from "node:path";
import {
  createLocalNetworkClient,
  startArmEndpoint,
  type ArmEndpoint,
  type ArmSeed,
  type VirtualMachineScaleSetSeed,
  type VirtualMachineSeed,
} from "../../../devhost/arm";
import { startEventHubsEndpoint } from "../../../devhost/eventhubs";
import { startLocalHost, type LocalHost } from "../../../devhost/host";
import type { TopologyNic } from "../../../devhost/generate";
import type { NetworkManagementClient } from "@azure/arm-network";

export type EventHubsEndpoint = Awaited<ReturnType<typeof startEventHubsEndpoint>>;

export const ALERTS_HUB = "alerts";
export const START_TIME = new Date("2026-11-22T11:00:00.000Z");
export const STORAGE_ACCOUNT_ID =
  "/subscriptions/sub-capture/resourceGroups/rg-captures/providers/Microsoft.Storage/storageAccounts/flowtapcaptures";

export interface CaptureSystem {
  host: LocalHost;
  eventHubs: EventHubsEndpoint;
  arm: ArmEndpoint;
  /** A real NetworkManagementClient on the local ARM endpoint. */
  network(subscriptionId: string): NetworkManagementClient;
  /** Bodies of the events on the alerts hub, parsed. */
  alertsHubEvents(): Record<string, unknown>[];
  /** Capture reports (flowtap.capture*) on the alerts hub. */
  captureReports(): Record<string, unknown>[];
  /** Events of one type on the alerts hub. */
  eventsOfType(type: string): Record<string, unknown>[];
  /** ARM requests matching a method and a path fragment. */
  armRequests(method: string, pathFragment: string): ArmEndpoint["requests"];
  /** POST to /api/alerts with the function key (unless `key` is null). */
  postAlert(body: string, key?: string | null): Promise<Response>;
  stop(): Promise<void>;
}

export interface StartCaptureSystemOptions {
  seed: ArmSeed;
  /** FLOWTAP_CAPTURE_POLICY as an object (storage filled in when absent). */
  policy?: Record<string, unknown>;
  /** FLOWTAP_RULES as an object. */
  rules?: { rules: Record<string, unknown>[] };
  settings?: Record<string, string>;
  /** Virtual clock auto-advance (default true): false lets a test act while a capture waits on its timer. */
  autoAdvance?: boolean;
}

export function vmIdOf(nic: TopologyNic): string {
  return (
    `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Compute/` +
    `virtualMachines/${nic.vmName}`
  );
}

export function nicIdOf(nic: TopologyNic): string {
  return (
    `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Network/` +
    `networkInterfaces/${nic.nicName}`
  );
}

/** The ARM seed of a topology: a VM per NIC, a network watcher per region. */
export function seedOf(nics: readonly TopologyNic[], options: { withoutAgent?: TopologyNic[] } = {}): ArmSeed {
  const virtualMachines: VirtualMachineSeed[] = nics.map((nic) => ({
    id: vmIdOf(nic),
    location: nic.region,
    networkWatcherExtension: !options.withoutAgent?.includes(nic),
    nics: [{ id: nicIdOf(nic), mac: nic.macAddress.match(/../g)!.join("-"), privateIp: nic.privateIp }],
  }));
  const subscriptions = [...new Set(nics.map((nic) => nic.subscriptionId))];
  const watchers = [...new Set(nics.map((nic) => `${nic.subscriptionId}|${nic.region}`))].map((entry) => {
    const [subscriptionId, location] = entry.split("|") as [string, string];
    return { subscriptionId, location };
  });
  return { subscriptions: subscriptions.map((id) => ({ id })), virtualMachines, networkWatchers: watchers };
}

export const SCALE_SET_INSTANCES = ["0", "3"] as const;

/**
 * A Uniform scale set `vmss-web` in `nic`'s subscription, group and region (its network watcher's): instances
 * 0 and 3, one NIC each (MACs 00-0D-3A-5C-00-00 and -01), the agent in the scale set model.
 */
export function scaleSetNear(nic: TopologyNic, subnetId?: string): VirtualMachineScaleSetSeed {
  const id =
    `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Compute/` +
    "virtualMachineScaleSets/vmss-web";
  const instances = SCALE_SET_INSTANCES.map((instanceId, index) => ({
    instanceId,
    nics: [
      {
        name: "vmss-web-nic",
        mac: `00-0D-3A-5C-00-0${index}`,
        privateIp: `10.9.0.${4 + index}`,
        ...(subnetId && { subnetId }),
      },
    ],
  }));
  return { id, location: nic.region, networkWatcherExtension: true, instances };
}

export async function startCaptureSystem(options: StartCaptureSystemOptions): Promise<CaptureSystem> {
  const eventHubs = await startEventHubsEndpoint({ hubs: [{ name: ALERTS_HUB, partitionCount: 2 }] });
  const arm = await startArmEndpoint({ seed: options.seed });
  const policy = { storage: { storageAccountId: STORAGE_ACCOUNT_ID }, ...options.policy };
  const stopEndpoints = () => Promise.all([eventHubs.stop(), arm.stop()]);
  const host = await startLocalHost({
    app: { modulePath: path.join(__dirname, "../../../src/functions/registerCapture.ts") },
    port: 0,
    clock: { mode: "virtual", startTime: START_TIME, autoAdvance: options.autoAdvance ?? true },
    settings: {
      FlowLogsStorage: "UseDevelopmentStorage=true",
      EventHubsConnection: eventHubs.connectionString(ALERTS_HUB).replace(/;EntityPath=[^;]*/, ""),
      FLOWTAP_ALERTS_EVENTHUB_NAME: ALERTS_HUB,
      FLOWTAP_ARM_ENDPOINT: arm.endpoint,
      FLOWTAP_ARM_CA_CERT: arm.caCertificatePem,
      FLOWTAP_ARM_DEV_TOKEN: "flowtap-test-token",
      FLOWTAP_ARM_LRO_INTERVAL_MS: "5",
      FLOWTAP_ARM_RETRY_DELAY_MS: "5",
      FLOWTAP_CAPTURE_POLICY: JSON.stringify(policy),
      FLOWTAP_CAPTURE_POLL_INTERVAL_SECONDS: "30",
      ...(options.rules && { FLOWTAP_RULES: JSON.stringify(options.rules) }),
      ...options.settings,
    },
  }).catch(async (error: unknown) => {
    await stopEndpoints();
    throw error;
  });
  // The endpoint decodes JSON bodies as the SDK's consumer does.
  const alertsHubEvents = (): Record<string, unknown>[] =>
    eventHubs.events(ALERTS_HUB).map((event) => event.body as Record<string, unknown>);
  return {
    host,
    eventHubs,
    arm,
    network: (subscriptionId) =>
      createLocalNetworkClient(arm.endpoint, subscriptionId, { caCertificatePem: arm.caCertificatePem }),
    alertsHubEvents,
    eventsOfType: (type) => alertsHubEvents().filter((event) => event.type === type),
    captureReports: () => alertsHubEvents().filter((event) => String(event.type).startsWith("flowtap.capture")),
    armRequests: (method, pathFragment) =>
      arm.requests.filter(
        (request) => request.method === method && request.path.toLowerCase().includes(pathFragment.toLowerCase()),
      ),
    postAlert: (body, key = host.keys.host) =>
      fetch(`${host.baseUrl}/api/alerts${key === null ? "" : `?code=${key}`}`, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json" },
      }),
    async stop() {
      await host.stop();
      await stopEndpoints();
    },
  };
}

let alertCount = 0;

/** An Azure Monitor common-schema alert on these targets (a new alertId each time unless one is given). */
export function commonAlert(
  targets: string[],
  options: { condition?: "Fired" | "Resolved"; alertId?: string } = {},
): Record<string, unknown> {
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId:
          options.alertId ??
          `/subscriptions/sub/providers/Microsoft.AlertsManagement/alerts/${String(++alertCount).padStart(4, "0")}`,
        alertRule: "high-cpu",
        severity: "Sev2",
        signalType: "Metric",
        monitorCondition: options.condition ?? "Fired",
        monitoringService: "Platform",
        alertTargetIDs: targets,
        firedDateTime: "2026-11-22T10:59:00.000Z",
      },
      alertContext: {},
    },
  };
}
