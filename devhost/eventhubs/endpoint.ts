/**
 * A local Event Hubs endpoint on rhea: what the service offers over AMQP 1.0, as its clients (the JS SDK,
 * Python azure-eventhub, Qpid Proton) see it. The parts: performatives.ts (OPEN/BEGIN/ATTACH fields),
 * management.ts ($cbs, $management), publishing.ts (sends), consuming.ts (receivers), partitionLog.ts
 * (retention), listeners.ts (AMQP and AMQPS), certificates.ts (the local CA).
 */
import { create_container, type EventContext, type Receiver, type Sender } from "rhea";
import { configurationError } from "../../src/errors";
import { logFailure, logger } from "../../src/logger";
import { createLocalCertificates, removeLocalCertificates, type LocalCertificates } from "./certificates";
import { CONSUMER_ADDRESS, Consuming } from "./consuming";
import { createHubs, type Hub, type LocalHubDefinition } from "./hubs";
import { answerRequest } from "./management";
import { completeAttach, completeBegin, writeEveryField } from "./performatives";
import { startListeners, type Listeners } from "./listeners";
import type { PartitionLog, RetentionLimits } from "./partitionLog";
import { Publishing } from "./publishing";
import { toLocalEvent, type LocalEventHubEvent } from "./readBack";
import type { EndpointState, InjectFaultsOptions, SendOutcomeCounts } from "./state";

export interface StartEventHubsEndpointOptions {
  hubs: LocalHubDefinition[];
  /** Advertised on every link and enforced on sends, as the service does. Default 1 MB (Standard tier). */
  maxMessageSizeInBytes?: number;
  /** Plain AMQP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** AMQPS port on 127.0.0.1; 0 (the default) picks a free one. The service's is 5671. */
  tlsPort?: number;
  /** Where the local CA certificate is written (default: a new folder in the system's temporary folder). */
  certificateDirectory?: string;
  /** Per partition, for every hub that sets none itself; default DEFAULT_RETENTION. */
  retention?: Partial<RetentionLimits>;
  /**
   * Default true. false: sends are decoded, checked and acknowledged as usual but their events are
   * not kept (consumers and `events()` see none), so benchmarks can stream gigabytes through it.
   */
  retainEvents?: boolean;
}

/** What a hub's partitions hold now, by the endpoint's own accounting. */
export interface RetentionFigures {
  retainedEvents: number;
  /** Encoded bytes of the retained events. */
  retainedBytes: number;
  /** Per partition: the oldest retained sequence number (the next one to come when none is retained). */
  beginningSequenceNumbers: number[];
}

export interface LocalEventHubsEndpoint {
  readonly port: number;
  readonly tlsPort: number;
  /** The local CA a TLS client must trust, as a file and as PEM text. */
  readonly caFile: string;
  readonly caPem: string;
  /** `Endpoint=sb://127.0.0.1:PORT;...;EntityPath=hub;UseDevelopmentEmulator=true`: plain AMQP, current SDKs. */
  connectionString(hub: string): string;
  /** `Endpoint=sb://localhost/;...;EntityPath=hub` over AMQPS (`localhost:PORT` unless on 5671). */
  tlsConnectionString(hub: string): string;
  injectFaults(options: InjectFaultsOptions): void;
  /** Retained events of one partition, or of all partitions of the hub (partition by partition). */
  events(hub: string, partitionId?: string): LocalEventHubEvent[];
  eventCount(hub: string, partitionId?: string): number;
  retention(hub: string): RetentionFigures;
  sendOutcomes(): SendOutcomeCounts;
  /** Closes every connection (AMQP close, then the socket) and the listeners; removes the CA file. */
  stop(): Promise<void>;
}

const ONE_MEGABYTE = 1024 * 1024;
const AMQPS_PORT = 5671;
/** Any key works: tokens are accepted without checking (see README). */
const SHARED_ACCESS = "SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=local";

function createState(options: StartEventHubsEndpointOptions): EndpointState {
  const maxMessageSizeInBytes = options.maxMessageSizeInBytes ?? ONE_MEGABYTE;
  if (!Number.isInteger(maxMessageSizeInBytes) || maxMessageSizeInBytes <= 0) {
    throw configurationError(
      `startEventHubsEndpoint: maxMessageSizeInBytes must be a positive integer, got ${maxMessageSizeInBytes}`,
    );
  }
  return {
    hubs: createHubs(options.hubs, options.retention),
    maxMessageSizeInBytes,
    retainEvents: options.retainEvents ?? true,
    faults: [],
    outcomes: { accepted: 0, duplicatesIgnored: 0, refusedServerBusy: 0, refusedTooLarge: 0, timedOut: 0 },
    connections: new Map(),
  };
}

/**
 * The entity path of a link address: the JS SDK attaches to `hub/Partitions/0`, the Python client to
 * `amqps://host/hub/Partitions/0` (_producer_client.py, _consumer_client.py); the service takes both.
 */
function entityPathOf(address: string | undefined): string {
  return String(address ?? "").replace(/^amqps?:\/\/[^/]+\//i, "");
}

/** Wires rhea's events to the endpoint's parts. rhea dispatches to the first level with a listener: the container. */
function handleConnections(container: ReturnType<typeof create_container>, state: EndpointState): void {
  const publishing = new Publishing(state);
  const consuming = new Consuming(state);
  container.on("connection_open", (context: EventContext) => {
    writeEveryField(context.connection);
    state.connections.set(context.connection, new Set());
  });
  container.on("session_open", (context: EventContext) => {
    if (context.session) completeBegin(context.session);
  });
  for (const closing of ["connection_close", "disconnected"]) {
    container.on(closing, (context: EventContext) => {
      for (const cleanup of state.connections.get(context.connection) ?? []) cleanup();
      state.connections.delete(context.connection);
    });
  }
  container.on("receiver_open", (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const address = entityPathOf(receiver.target?.address);
    completeAttach(receiver, address);
    if (address === "$cbs" || address === "$management") {
      receiver.on("message", (messageContext: EventContext) => answerRequest(state, address, messageContext));
    } else {
      publishing.openPublishLink(receiver, address);
    }
  });
  container.on("sender_open", (context: EventContext) => {
    const sender = context.sender as Sender;
    const address = entityPathOf(sender.source?.address);
    completeAttach(sender, address);
    const consumer = CONSUMER_ADDRESS.exec(address);
    // Anything else is a reply link of `$cbs` / `$management`, found again by its name or target.
    if (consumer) consuming.openConsumerLink(sender, consumer);
  });
  for (const failure of ["error", "connection_error", "protocol_error"]) {
    container.on(failure, (context: EventContext | Error) => {
      const error = context instanceof Error ? context : (context.error ?? context.connection?.error);
      logFailure(`local Event Hubs: ${failure}`, error);
    });
  }
}

/** Starts an AMQP endpoint that Event Hubs clients talk to: plain AMQP and AMQPS. */
export async function startEventHubsEndpoint(options: StartEventHubsEndpointOptions): Promise<LocalEventHubsEndpoint> {
  const state = createState(options);
  const certificates = createLocalCertificates(options.certificateDirectory);
  const container = create_container({ id: "flowtap-local-eventhubs" });
  // The SDKs authenticate with SASL ANONYMOUS, then a `$cbs` token; plain AMQP clients use SASL PLAIN with
  // the key name and key, as the service allows. Every token and key is accepted (see README).
  container.sasl_server_mechanisms.enable_anonymous();
  container.sasl_server_mechanisms.enable_plain(() => true);
  handleConnections(container, state);
  const listeners = await startListeners(container, {
    port: options.port ?? 0,
    tlsPort: options.tlsPort ?? 0,
    certificates,
    maxMessageSizeInBytes: state.maxMessageSizeInBytes,
  }).catch((error: unknown) => {
    removeLocalCertificates(certificates);
    throw error;
  });
  logger.info(
    `local Event Hubs endpoint on 127.0.0.1:${listeners.port} (AMQPS ${listeners.tlsPort}; ` +
      `${[...state.hubs.keys()].join(", ")})`,
  );
  return endpointApi(state, listeners, certificates);
}

function endpointApi(
  state: EndpointState,
  listeners: Listeners,
  certificates: LocalCertificates,
): LocalEventHubsEndpoint {
  const { port, tlsPort } = listeners;
  const hostAndPort = tlsPort === AMQPS_PORT ? "localhost" : `localhost:${tlsPort}`;
  return {
    port,
    tlsPort,
    caFile: certificates.caFile,
    caPem: certificates.caPem,
    connectionString(hub) {
      requireHub(state, hub, "connectionString");
      return `Endpoint=sb://127.0.0.1:${port};${SHARED_ACCESS};EntityPath=${hub};UseDevelopmentEmulator=true`;
    },
    tlsConnectionString(hub) {
      requireHub(state, hub, "tlsConnectionString");
      return `Endpoint=sb://${hostAndPort}/;${SHARED_ACCESS};EntityPath=${hub}`;
    },
    injectFaults: (fault) => injectFaults(state, fault),
    events: (hub, partitionId) =>
      logsOf(state, hub, partitionId, "events").flatMap(([id, log]) =>
        log.retained().map((event) => toLocalEvent(id, event)),
      ),
    eventCount: (hub, partitionId) =>
      logsOf(state, hub, partitionId, "eventCount").reduce((sum, [, log]) => sum + log.retainedCount, 0),
    retention(hub) {
      const logs = requireHub(state, hub, "retention").partitions;
      return {
        retainedEvents: logs.reduce((sum, log) => sum + log.retainedCount, 0),
        retainedBytes: logs.reduce((sum, log) => sum + log.retainedBytes, 0),
        beginningSequenceNumbers: logs.map((log) => log.runtimeInfo().beginningSequenceNumber),
      };
    },
    sendOutcomes: () => ({ ...state.outcomes }),
    async stop() {
      await listeners.stop(state.connections.keys());
      removeLocalCertificates(certificates);
    },
  };
}

function requireHub(state: EndpointState, name: string, where: string): Hub {
  const hub = state.hubs.get(name);
  if (!hub) throw configurationError(`${where}: unknown hub '${name}' (known: ${[...state.hubs.keys()].join(", ")})`);
  return hub;
}

function logsOf(state: EndpointState, name: string, partitionId: string | undefined, where: string) {
  const all = requireHub(state, name, where).partitions.map((log, index): [string, PartitionLog] => [
    String(index),
    log,
  ]);
  if (partitionId === undefined) return all;
  const selected = all.filter(([id]) => id === partitionId);
  if (selected.length === 0) throw configurationError(`${where}: hub '${name}' has no partition '${partitionId}'`);
  return selected;
}

function injectFaults(state: EndpointState, fault: InjectFaultsOptions): void {
  if (!Number.isInteger(fault.count) || fault.count <= 0) {
    throw configurationError(`injectFaults: count must be a positive integer, got ${fault.count}`);
  }
  if (fault.hub !== undefined) requireHub(state, fault.hub, "injectFaults");
  const sendsToLetThrough = fault.afterSends ?? 0;
  if (!Number.isInteger(sendsToLetThrough) || sendsToLetThrough < 0) {
    throw configurationError(`injectFaults: afterSends must be a non-negative integer, got ${fault.afterSends}`);
  }
  state.faults.push({ ...fault, remaining: fault.count, sendsToLetThrough });
}
