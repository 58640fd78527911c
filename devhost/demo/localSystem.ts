/**
 * The local system (startLocalSystem) as the demo and `flowtap run` drive it: a virtual clock the
 * demo moves minute by minute (durable timers, e.g. capture polls, fire as soon as all is idle),
 * a capture policy allowing the seeded subscriptions, and short retry delays.
 */
import { join } from "node:path";
import { readSettings } from "../../src/config";
import { TriggerNames } from "../../src/contracts/names";
import type { ArmSeed } from "../arm";
import { startLocalEntra } from "../entra";
import { ALERTS_HUB, FLOWS_HUB, namespaceConnectionString, startLocalSystem } from "../system";
import type { FlowtapEndpoints } from "../endpointsFile";
import { DEMO_SILENT_MINUTES } from "./plan";
import type { DemoSystem } from "./scenario";

export interface StartDemoSystemOptions {
  /** The Functions host's port (0: any free port). */
  port: number;
  /** The ARM estate (VMs with their NICs, network watchers) captures run against. */
  armSeed: ArmSeed;
  /** Where the virtual clock starts. */
  startTime: Date;
  /** AMQPS port of the Event Hubs endpoint (default 0: a free one). */
  eventHubsTlsPort?: number;
  /** "real": wall-clock time (no demo to drive the clock); default "virtual". */
  clock?: "virtual" | "real";
  /** Also send flow events to the local Logs Ingestion endpoint (FLOWTAP_SINKS=both). */
  logAnalytics?: boolean;
}

/** The demo's system, and how a user reaches it (`.flowtap/endpoints.json`). */
export interface LocalDemoSystem extends DemoSystem {
  endpoints: FlowtapEndpoints;
  /** Whether the host's clock is the demo's simulated one (times and rates in its status are then simulated). */
  simulatedClock: boolean;
}

/** The Secure Webhook app's Application ID URI in the demo's local tenant. */
const DEMO_WEBHOOK_AUDIENCE = "api://flowtap-demo-alerts";

/** Longest capture the demo's policy allows: captures end (on the virtual clock) within the run. */
const DEMO_CAPTURE_MAX_DURATION_IN_SECONDS = 60;

/** The app module: dist/src/app.js when built, src/app.ts under vitest. */
function appModulePath(): string {
  return join(__dirname, `../../src/app${__filename.endsWith(".ts") ? ".ts" : ".js"}`);
}

export async function startDemoSystem(options: StartDemoSystemOptions): Promise<LocalDemoSystem> {
  const subscriptionIds = options.armSeed.subscriptions.map((subscription) => subscription.id);
  const captureSubscription = subscriptionIds[0] ?? "00000000-0000-0000-0000-000000000000";
  const entra = await startLocalEntra();
  const simulated = (options.clock ?? "virtual") === "virtual";
  const system = await startLocalSystem({
    app: { modulePath: appModulePath() },
    port: options.port,
    ...(options.eventHubsTlsPort !== undefined && { eventHubsTlsPort: options.eventHubsTlsPort }),
    clock: simulated ? { mode: "virtual", startTime: options.startTime, autoAdvance: true } : { mode: "real" },
    arm: { seed: options.armSeed },
    ...(options.logAnalytics && { logAnalytics: "both" as const }),
    settings: {
      FLOWTAP_ARM_RETRY_DELAY_MS: "5",
      FLOWTAP_ACTIVITY_RETRY_INTERVAL_MS: "100",
      FLOWTAP_EVENTHUB_RETRY_DELAY_MS: "100",
      FLOWTAP_FLOW_LOG_SILENT_MINUTES: String(DEMO_SILENT_MINUTES),
      ...entra.appSettings(DEMO_WEBHOOK_AUDIENCE),
      FLOWTAP_CAPTURE_POLICY: JSON.stringify({
        allowedSubscriptions: subscriptionIds,
        maxDurationInSeconds: DEMO_CAPTURE_MAX_DURATION_IN_SECONDS,
        storage: {
          storageAccountId:
            `/subscriptions/${captureSubscription}/resourceGroups/rg-captures/providers/` +
            `Microsoft.Storage/storageAccounts/flowtapcaptures`,
        },
      }),
    },
  }).catch(async (error: unknown) => {
    await entra.stop();
    throw error;
  });
  const { storage } = readSettings(system.settings);
  const logs = system.logsIngestion;
  return {
    endpoints: {
      functionsBaseUrl: system.host.baseUrl,
      functionKey: system.host.keys.host,
      masterKey: system.host.keys.master,
      storageConnectionString: system.azurite.connectionString,
      eventHubsConnectionString: system.eventHubsConnectionString,
      hubs: { events: FLOWS_HUB, alerts: ALERTS_HUB, captures: ALERTS_HUB },
      eventHubsTlsConnectionString: namespaceConnectionString(system.eventHubs.tlsConnectionString(FLOWS_HUB)),
      eventHubsCaFile: system.eventHubs.caFile,
      ...(logs && {
        logsIngestion: {
          endpoint: logs.endpoint,
          ruleId: logs.ruleId,
          streamName: logs.streamName,
          token: system.settings.FLOWTAP_LOGS_INGESTION_DEV_TOKEN ?? "",
          caCertificatePem: logs.caCertificatePem,
        },
      }),
    },
    simulatedClock: simulated,
    blobService: system.blobService,
    baseUrl: system.host.baseUrl,
    functionKey: system.host.keys.host,
    secureWebhookToken: () => entra.mintToken({ audience: DEMO_WEBHOOK_AUDIENCE }),
    containers: storage.containers,
    quarantineContainer: storage.quarantineContainer,
    flows: { connectionString: system.eventHubsConnectionString, eventHubName: FLOWS_HUB },
    alerts: { connectionString: system.eventHubsConnectionString, eventHubName: ALERTS_HUB },
    now: () => system.host.clock.now(),
    // On the real clock time moves by itself: nothing to advance.
    advanceClockTo: (time) => (simulated ? system.host.virtualClock.advanceTo(time) : undefined),
    deliverEventGrid: async (events) =>
      void (await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, events)),
    waitForIdle: () => system.host.waitForIdle(),
    stop: async () => {
      await system.stop();
      await entra.stop();
    },
  };
}
