/**
 * The whole flowtap system on one machine (development, tests, benchmarks; NOT production):
 * Azurite, the local Event Hubs endpoint (hubs "flows" and "alerts"), optionally the local ARM
 * endpoint and the local Logs Ingestion endpoint, and the local Functions host running the app with
 * its settings wired to them.
 * `readHubEvents` reads a hub back through a real EventHubConsumerClient.
 */
import { EventHubConsumerClient, earliestEventPosition, type Subscription } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { eventsOfFlowMessage, isCompactMessage } from "../src/adapters/flowMessages";
import { configurationError } from "../src/errors";
import { logger } from "../src/logger";
import { startArmEndpoint, type ArmEndpoint, type StartArmEndpointOptions } from "./arm";
import { LOCAL_LRO_UPDATE_INTERVAL_IN_MS } from "./arm/clients";
import { startAzurite, type AzuriteInstance } from "./azurite";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "./eventhubs";
import { startLogsIngestionEndpoint, type LogsIngestionEndpoint } from "./logsingestion";
import {
  MemoryStore,
  startLocalHost,
  type ClockOptions,
  type HostStore,
  type LocalHost,
  type LocalHostOptions,
} from "./host";
import type { AppSource } from "./host/registry";

export const FLOWS_HUB = "flows";
export const ALERTS_HUB = "alerts";

export interface StartLocalSystemOptions {
  /** The app module (default: the host's, package.json `main` = dist/src/app.js; tests pass src/app.ts). */
  app?: AppSource;
  rootDir?: string;
  /** The host's HTTP port (default 7071; 0 in tests). */
  port?: number;
  /** Default real. */
  clock?: ClockOptions;
  /** Settings on top of the wired ones (they win). */
  settings?: Record<string, string>;
  /** Default: a new MemoryStore, kept across `restartHost`. */
  store?: HostStore;
  /** Partitions of each hub (default 4). */
  partitionCount?: number;
  /** AMQPS port of the Event Hubs endpoint (default 0: a free one; `npm start` uses the service's 5671). */
  eventHubsTlsPort?: number;
  /** Start the local ARM endpoint with this seed and wire the FLOWTAP_ARM_* settings to it. */
  arm?: StartArmEndpointOptions;
  /**
   * Start the local Logs Ingestion endpoint and send flow events to it: "loganalytics" instead of the flows hub,
   * "both" beside it (FLOWTAP_SINKS).
   */
  logAnalytics?: "loganalytics" | "both";
  /** Azurite persistence folder (default in memory). */
  azuriteLocation?: string;
  enableTimerTriggers?: boolean;
  maxConcurrentActivities?: number;
  /** The host's worker processes (LocalHostOptions.workerProcessCount). */
  workerProcessCount?: number;
}

export interface LocalSystem {
  readonly azurite: AzuriteInstance;
  readonly eventHubs: LocalEventHubsEndpoint;
  readonly arm: ArmEndpoint | undefined;
  readonly logsIngestion: LogsIngestionEndpoint | undefined;
  /** The running host (a new one after `restartHost`). */
  readonly host: LocalHost;
  /** The settings the app runs with. */
  readonly settings: Readonly<Record<string, string>>;
  /** A client of the flow-log storage account (Azurite). */
  readonly blobService: BlobServiceClient;
  /** The namespace connection string of the local Event Hubs endpoint. */
  readonly eventHubsConnectionString: string;
  /**
   * Stops the host (unless it already stopped, e.g. after `faults.crashAfterActivity`) and starts
   * a new one on the same store, as a restarted Functions host would resume.
   */
  restartHost(options?: Pick<LocalHostOptions, "clock">): Promise<LocalHost>;
  /** Stops the host and every endpoint. */
  stop(): Promise<void>;
}

/** The connection string without its EntityPath: the app's setting names the namespace, not one hub. */
export function namespaceConnectionString(hubConnectionString: string): string {
  return hubConnectionString.replace(/;?EntityPath=[^;]*/i, "");
}

export async function startLocalSystem(options: StartLocalSystemOptions = {}): Promise<LocalSystem> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((error: unknown) => logger.warning(`local system: stop failed: ${String(error)}`));
  };
  try {
    const azurite = await startAzurite(
      options.azuriteLocation === undefined ? {} : { location: options.azuriteLocation },
    );
    stops.push(() => azurite.stop());
    const partitionCount = options.partitionCount ?? 4;
    const eventHubs = await startEventHubsEndpoint({
      hubs: [
        { name: FLOWS_HUB, partitionCount },
        { name: ALERTS_HUB, partitionCount },
      ],
      tlsPort: options.eventHubsTlsPort ?? 0,
    });
    stops.push(() => eventHubs.stop());
    const arm = options.arm ? await startArmEndpoint(options.arm) : undefined;
    if (arm) stops.push(() => arm.stop());
    const logsIngestion = options.logAnalytics ? await startLogsIngestionEndpoint() : undefined;
    if (logsIngestion) stops.push(() => logsIngestion.stop());

    const eventHubsConnectionString = namespaceConnectionString(eventHubs.connectionString(FLOWS_HUB));
    const settings: Record<string, string> = {
      FlowLogsStorage: azurite.connectionString,
      EventHubsConnection: eventHubsConnectionString,
      FLOWTAP_EVENTHUB_NAME: FLOWS_HUB,
      FLOWTAP_ALERTS_EVENTHUB_NAME: ALERTS_HUB,
      ...(arm && {
        FLOWTAP_ARM_ENDPOINT: arm.endpoint,
        FLOWTAP_ARM_CA_CERT: arm.caCertificatePem,
        FLOWTAP_ARM_DEV_TOKEN: "flowtap-local-token",
        FLOWTAP_ARM_LRO_INTERVAL_MS: String(LOCAL_LRO_UPDATE_INTERVAL_IN_MS),
      }),
      // Without a local ARM endpoint there is nothing to enrich from (public ARM is not reachable).
      ...(!arm && { FLOWTAP_ENRICHMENT: "off" }),
      ...(logsIngestion && (await logsIngestion.appSettings(options.logAnalytics))),
      ...options.settings,
    };
    const store = options.store ?? new MemoryStore();
    const hostOptions = (clock: ClockOptions | undefined): LocalHostOptions => ({
      ...(options.app && { app: options.app }),
      ...(options.rootDir !== undefined && { rootDir: options.rootDir }),
      port: options.port ?? 7071,
      ...(clock && { clock }),
      settings,
      store,
      ...(options.enableTimerTriggers !== undefined && { enableTimerTriggers: options.enableTimerTriggers }),
      ...(options.maxConcurrentActivities !== undefined && {
        maxConcurrentActivities: options.maxConcurrentActivities,
      }),
      ...(options.workerProcessCount !== undefined && { workerProcessCount: options.workerProcessCount }),
    });
    let host = await startLocalHost(hostOptions(options.clock));
    stops.push(() => host.stop());
    const blobService = BlobServiceClient.fromConnectionString(azurite.connectionString);
    logger.info(
      `local system: host ${host.baseUrl}, Azurite ${azurite.blobEndpoint}, Event Hubs ` +
        `127.0.0.1:${eventHubs.port}${arm ? `, ARM ${arm.endpoint}` : ""}` +
        `${logsIngestion ? `, Logs Ingestion ${logsIngestion.endpoint}` : ""}`,
    );
    return {
      azurite,
      eventHubs,
      arm,
      logsIngestion,
      get host() {
        return host;
      },
      settings,
      blobService,
      eventHubsConnectionString,
      async restartHost(restart = {}) {
        await host.stop();
        host = await startLocalHost(hostOptions(restart.clock ?? options.clock));
        return host;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** One message read back from a hub. */
export interface HubMessage {
  partitionId: string;
  sequenceNumber: number;
  partitionKey: string | undefined;
  /** The body bytes as UTF-8 text, exactly as sent; a compact message's: its events as a JSON array (expanded). */
  bodyText: string;
  properties: Record<string, unknown>;
}

export interface ReadHubEventsOptions {
  /** Wait for at least this many messages (then still for the quiet period, to see extras). */
  expectedCount?: number;
  /** Stop once no message arrived for this long, every partition being read (default 1000 ms). */
  quietPeriodInMs?: number;
  /** Give up after this long (default 15 000 ms): resolves with what arrived. */
  timeoutInMs?: number;
  consumerGroup?: string;
}

/**
 * Reads every message of a hub from the earliest position through a real EventHubConsumerClient,
 * until (`expectedCount` arrived and) a quiet period passed, or the timeout. Ordered by
 * partition, then sequence number.
 */
export async function readHubEvents(
  connectionString: string,
  hub: string,
  options: ReadHubEventsOptions = {},
): Promise<HubMessage[]> {
  const quietPeriodInMs = options.quietPeriodInMs ?? 1000;
  const timeoutInMs = options.timeoutInMs ?? 15_000;
  if (options.expectedCount !== undefined && options.expectedCount < 0)
    throw configurationError("readHubEvents: expectedCount must be >= 0");
  const consumer = new EventHubConsumerClient(
    options.consumerGroup ?? "$Default",
    namespaceConnectionString(connectionString),
    hub,
  );
  const partitionCount = (await consumer.getPartitionIds()).length;
  const messages: HubMessage[] = [];
  let subscription: Subscription | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const startedAt = Date.now();
      /** Partitions whose receiver answered at least once (with events or an empty wait): quiet counts from then. */
      const answered = new Set<string>();
      let quietSince = Number.POSITIVE_INFINITY;
      const check = setInterval(() => {
        const now = Date.now();
        const enough = options.expectedCount === undefined || messages.length >= options.expectedCount;
        if ((enough && now - quietSince >= quietPeriodInMs) || now - startedAt >= timeoutInMs) {
          clearInterval(check);
          resolve();
        }
      }, 20);
      subscription = consumer.subscribe(
        {
          processEvents: async (events, context) => {
            for (const event of events) {
              const body = event.body as unknown;
              messages.push({
                partitionId: context.partitionId,
                sequenceNumber: event.sequenceNumber,
                partitionKey: event.partitionKey ?? undefined,
                bodyText: isCompactMessage(event)
                  ? JSON.stringify(eventsOfFlowMessage(event))
                  : Buffer.isBuffer(body)
                    ? body.toString("utf8")
                    : JSON.stringify(body),
                properties: event.properties ?? {},
              });
            }
            answered.add(context.partitionId);
            if (events.length > 0 || (answered.size === partitionCount && quietSince === Number.POSITIVE_INFINITY))
              quietSince = Date.now();
          },
          processError: async (error) => {
            clearInterval(check);
            reject(error);
          },
        },
        {
          startPosition: earliestEventPosition,
          skipParsingBodyAsJson: true,
          maxWaitTimeInSeconds: 0.1,
          maxBatchSize: 1000,
        },
      );
    });
  } finally {
    await subscription?.close();
    await consumer.close();
  }
  return messages.sort((a, b) => Number(a.partitionId) - Number(b.partitionId) || a.sequenceNumber - b.sequenceNumber);
}
