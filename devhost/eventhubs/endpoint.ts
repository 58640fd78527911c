import type { Server, Socket } from "node:net";
import {
  create_container,
  message as amqpMessage,
  types,
  type AmqpError,
  type Connection,
  type Delivery,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from "rhea";
import { ConfigurationError } from "../../src/errors";
import { logFailure, logger } from "../../src/logger";
import { partitionIdForKey } from "./partitionKey";
import { PartitionLog, type StoredEvent } from "./partitionLog";

/** One Event Hub the endpoint serves. */
export interface LocalHubDefinition {
  name: string;
  partitionCount: number;
  /** Consumer groups besides `$Default`, which always exists. */
  consumerGroups?: string[];
}

export interface StartEventHubsEndpointOptions {
  hubs: LocalHubDefinition[];
  /** Advertised on every link and enforced on sends, as the service does. Default 1 MB (Standard tier). */
  maxMessageSizeInBytes?: number;
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Default true. false: sends are decoded, checked and acknowledged as usual but their events are
   * not kept (consumers and `events()` see none), so benchmarks can stream gigabytes through it.
   */
  retainEvents?: boolean;
}

/**
 * Makes the next `count` sends (to `hub`, or to any hub) fail the way the service fails them:
 * `server-busy` refuses them with `com.microsoft:server-busy`; `timeout` never settles them, so the
 * client's send times out. `storeEventsOfTimedOutSends` keeps the events of a timed-out send, as
 * when the service stored a batch but its acknowledgement was lost (the client then sends duplicates).
 * `entity-disabled` refuses them with `com.microsoft:entity-disabled` (not retryable: an operator
 * disabled the hub).
 */
export interface InjectFaultsOptions {
  kind: "server-busy" | "timeout" | "entity-disabled";
  count: number;
  hub?: string;
  storeEventsOfTimedOutSends?: boolean;
  /** Sends (to `hub`, or to any hub) that go through untouched before the faults begin; default 0. */
  afterSends?: number;
}

/** An event as a test reads it back from the endpoint. */
export interface LocalEventHubEvent {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: Date;
  partitionKey?: string;
  /** Decoded like the SDK's consumer does: JSON when the data section parses as JSON, else the bytes. */
  body: unknown;
  properties: Record<string, unknown>;
  annotations: Record<string, unknown>;
  messageId?: string | number | Buffer;
  contentType?: string;
}

/** How sends ended, for tests of retry paths. */
export interface SendOutcomeCounts {
  accepted: number;
  /** Sends of an idempotent producer whose sequence numbers were already stored: accepted, not stored again. */
  duplicatesIgnored: number;
  refusedServerBusy: number;
  refusedTooLarge: number;
  timedOut: number;
}

export interface LocalEventHubsEndpoint {
  readonly port: number;
  /** `Endpoint=sb://127.0.0.1:PORT;...;EntityPath=hub;UseDevelopmentEmulator=true`. */
  connectionString(hub: string): string;
  injectFaults(options: InjectFaultsOptions): void;
  /** Events held by one partition, or by all partitions of the hub (partition by partition). */
  events(hub: string, partitionId?: string): LocalEventHubEvent[];
  eventCount(hub: string, partitionId?: string): number;
  sendOutcomes(): SendOutcomeCounts;
  /** Closes every connection (AMQP close, then the socket) and the listener. */
  stop(): Promise<void>;
}

const ONE_MEGABYTE = 1024 * 1024;
const DEFAULT_CONSUMER_GROUP = "$Default";
/** How long stop() lets clients answer the AMQP close before it destroys their sockets. */
const CLOSE_GRACE_IN_MS = 500;
const RUNTIME_METRIC_CAPABILITY = "com.microsoft:enable-receiver-runtime-metric-name";
const EPOCH_PROPERTY = "com.microsoft:epoch";
const IDEMPOTENT_PRODUCER = {
  capability: "com.microsoft:idempotent-producer",
  epoch: "com.microsoft:producer-epoch",
  producerId: "com.microsoft:producer-id",
  sequenceNumber: "com.microsoft:producer-sequence-number",
} as const;
const CONSUMER_ADDRESS = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/;
const PUBLISH_ADDRESS = /^([^/]+)(?:\/Partitions\/([^/]+))?$/;

interface Hub {
  definition: LocalHubDefinition;
  createdOn: Date;
  partitions: PartitionLog[];
  consumerGroups: Set<string>;
  /** Events with neither a partition id nor a key are spread round-robin, as the service does. */
  nextRoundRobinPartition: number;
}

/** What the endpoint remembers of an idempotent producer on one partition, across its links. */
interface IdempotentProducer {
  producerId: number;
  epoch: number;
  lastSequenceNumber: number;
}

interface PendingFault extends InjectFaultsOptions {
  remaining: number;
  sendsToLetThrough: number;
}

/** A rhea body section: data (0x75) holds one Buffer, or several in a batch envelope; sequence is 0x76. */
interface BodySections {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

function isBodySections(body: unknown, typecode: 0x75 | 0x76): body is BodySections {
  return typeof body === "object" && body !== null && (body as BodySections).typecode === typecode;
}

/** Starts an AMQP endpoint that the real `@azure/event-hubs` clients talk to. */
export async function startEventHubsEndpoint(options: StartEventHubsEndpointOptions): Promise<LocalEventHubsEndpoint> {
  const hubs = createHubs(options.hubs);
  const maxMessageSizeInBytes = options.maxMessageSizeInBytes ?? ONE_MEGABYTE;
  const retainEvents = options.retainEvents ?? true;
  if (!Number.isInteger(maxMessageSizeInBytes) || maxMessageSizeInBytes <= 0) {
    throw new ConfigurationError(
      `startEventHubsEndpoint: maxMessageSizeInBytes must be a positive integer, got ${maxMessageSizeInBytes}`,
    );
  }
  const faults: PendingFault[] = [];
  const outcomes: SendOutcomeCounts = {
    accepted: 0,
    duplicatesIgnored: 0,
    refusedServerBusy: 0,
    refusedTooLarge: 0,
    timedOut: 0,
  };
  const idempotentProducers = new Map<string, IdempotentProducer>();
  let nextProducerId = 1;
  /** Open consumer links with the partition they read (`hub/ConsumerGroups/cg/Partitions/N`) and owner level. */
  const activeConsumers = new Map<Sender, { path: string; ownerLevel?: number }>();
  /** Open connections, each with what to undo when it goes (consumer links' append listeners). */
  const connections = new Map<Connection, Set<() => void>>();
  const sockets = new Set<Socket>();

  const container = create_container({ id: "flowtap-local-eventhubs" });
  // The SDK authenticates with SASL ANONYMOUS and then a `$cbs` token, which is always accepted here.
  container.sasl_server_mechanisms.enable_anonymous();

  const hubOf = (name: string): Hub | undefined => hubs.get(name);

  function takeFault(hub: string): PendingFault | undefined {
    const fault = faults.find((candidate) => candidate.hub === undefined || candidate.hub === hub);
    if (!fault) return undefined;
    if (fault.sendsToLetThrough > 0) {
      fault.sendsToLetThrough -= 1;
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining === 0) faults.splice(faults.indexOf(fault), 1);
    return fault;
  }

  function openPublishLink(receiver: Receiver, address: string): void {
    const match = PUBLISH_ADDRESS.exec(address);
    const hub = match ? hubOf(match[1]) : undefined;
    const partitionId = match?.[2];
    const refusal =
      !match || !hub
        ? entityNotFound(address)
        : partitionId === undefined
          ? undefined
          : partitionRefusal(hub, partitionId);
    if (refusal || !hub) {
      receiver.close(refusal);
      return;
    }
    let producer: IdempotentProducer | undefined;
    if (capabilitiesOf(receiver.desired_capabilities).includes(IDEMPOTENT_PRODUCER.capability)) {
      if (partitionId === undefined) {
        receiver.close({
          condition: "amqp:not-allowed",
          description: `Idempotent publishing to '${address}' needs a partition id.`,
        });
        return;
      }
      producer = attachIdempotentProducer(receiver, `${hub.definition.name}/${partitionId}`);
    }
    receiver.on("message", (context: EventContext) => {
      onPublish(hub, partitionId, producer, context);
    });
  }

  /**
   * Answers the attach of an idempotent producer with its id, epoch and last stored sequence number
   * (a new producer gets a fresh id and -1), so the client numbers its events from there.
   */
  function attachIdempotentProducer(receiver: Receiver, partitionPath: string): IdempotentProducer {
    const requested = (receiver.properties ?? {}) as Record<string, unknown>;
    const requestedId = requested[IDEMPOTENT_PRODUCER.producerId];
    const producerId = typeof requestedId === "number" ? requestedId : nextProducerId++;
    const key = `${partitionPath}/${producerId}`;
    const requestedSequenceNumber = requested[IDEMPOTENT_PRODUCER.sequenceNumber];
    const producer = idempotentProducers.get(key) ?? {
      producerId,
      epoch: Number(requested[IDEMPOTENT_PRODUCER.epoch] ?? 0),
      lastSequenceNumber: typeof requestedSequenceNumber === "number" ? requestedSequenceNumber : -1,
    };
    idempotentProducers.set(key, producer);
    // rhea has no setter for these attach fields; they go out with the attach it sends after this event.
    const localAttach = (receiver as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
    localAttach.offered_capabilities = [IDEMPOTENT_PRODUCER.capability];
    localAttach.properties = {
      [IDEMPOTENT_PRODUCER.producerId]: types.wrap_long(producer.producerId),
      [IDEMPOTENT_PRODUCER.epoch]: types.wrap_short(producer.epoch),
      [IDEMPOTENT_PRODUCER.sequenceNumber]: types.wrap_int(producer.lastSequenceNumber),
    };
    return producer;
  }

  function onPublish(
    hub: Hub,
    partitionId: string | undefined,
    producer: IdempotentProducer | undefined,
    context: EventContext,
  ): void {
    const delivery = context.delivery as Delivery;
    // Batches (message format 0x80013700) arrive as raw bytes; plain messages arrive decoded.
    const payload = context.message as unknown as Message | Buffer;
    const isBatch = Buffer.isBuffer(payload);
    const encoded = isBatch ? payload : amqpMessage.encode(payload);
    const target = partitionId === undefined ? hub.definition.name : `${hub.definition.name}/Partitions/${partitionId}`;
    if (encoded.length > maxMessageSizeInBytes) {
      outcomes.refusedTooLarge += 1;
      logger.verbose(`local Event Hubs: refused ${encoded.length} bytes to ${target} (limit ${maxMessageSizeInBytes})`);
      delivery.reject({
        condition: "amqp:link:message-size-exceeded",
        description: `The received message (delivery-id:${delivery.id}, size:${encoded.length} bytes) exceeds the limit (${maxMessageSizeInBytes} bytes) currently allowed on the link.`,
      });
      return;
    }
    const fault = takeFault(hub.definition.name);
    if (fault) logger.verbose(`local Event Hubs: injected ${fault.kind} on a send to ${target}`);
    if (fault?.kind === "server-busy") {
      outcomes.refusedServerBusy += 1;
      delivery.reject({
        condition: "com.microsoft:server-busy",
        description: `The request was terminated because the entity is being throttled. Please wait 4 seconds and try again. (local fault injection, ${fault.remaining} left)`,
      });
      return;
    }
    if (fault?.kind === "entity-disabled") {
      delivery.reject({
        condition: "com.microsoft:entity-disabled",
        description: `Messaging entity '${target}' is currently disabled. (local fault injection, ${fault.remaining} left)`,
      });
      return;
    }
    if (fault?.kind === "timeout") {
      outcomes.timedOut += 1;
      if (fault.storeEventsOfTimedOutSends) store(hub, partitionId, producer, encoded, isBatch);
      return; // Never settled: the client's send times out.
    }
    const stored = store(hub, partitionId, producer, encoded, isBatch);
    if (stored === "out-of-order") {
      delivery.reject({
        condition: "com.microsoft:out-of-order-sequence",
        description: `The supplied sequence number is not the next one expected (${(producer?.lastSequenceNumber ?? 0) + 1}) for producer ${producer?.producerId} on ${target}.`,
      });
      return;
    }
    if (stored === "duplicate") outcomes.duplicatesIgnored += 1;
    else outcomes.accepted += 1;
    delivery.accept();
  }

  /**
   * Appends the events of one send. A batch's data sections each hold one encoded event; a plain
   * message is one event. An idempotent producer's send is stored only when its first sequence
   * number follows the last stored one; an already stored one is a duplicate (the retry of a send
   * whose acknowledgement was lost).
   */
  function store(
    hub: Hub,
    partitionId: string | undefined,
    producer: IdempotentProducer | undefined,
    encoded: Buffer,
    isBatch: boolean,
  ): "stored" | "duplicate" | "out-of-order" {
    const envelope = decodeMessage(encoded);
    const sections =
      isBatch && isBodySections(envelope.body, 0x75) ? ([] as unknown[]).concat(envelope.body.content) : [];
    const batch = isBatch
      ? sections.filter(Buffer.isBuffer).map((data) => ({ message: decodeMessage(data), sizeInBytes: data.length }))
      : [{ message: envelope, sizeInBytes: encoded.length }];
    if (batch.length === 0) return "stored";
    if (producer) {
      const firstSequenceNumber = Number(batch[0].message.message_annotations?.[IDEMPOTENT_PRODUCER.sequenceNumber]);
      if (firstSequenceNumber <= producer.lastSequenceNumber) return "duplicate";
      if (firstSequenceNumber !== producer.lastSequenceNumber + 1) return "out-of-order";
      producer.lastSequenceNumber = firstSequenceNumber + batch.length - 1;
    }
    const partitionKey = partitionKeyOf(envelope) ?? partitionKeyOf(batch[0].message);
    const targetPartition =
      partitionId !== undefined
        ? Number(partitionId)
        : partitionKey !== undefined
          ? Number(partitionIdForKey(partitionKey, hub.partitions.length))
          : hub.nextRoundRobinPartition++ % hub.partitions.length;
    const log = hub.partitions[targetPartition];
    if (!retainEvents) return "stored";
    const now = new Date();
    for (const { message, sizeInBytes } of batch) log.append(message, sizeInBytes, partitionKey, now);
    log.notifyAppended();
    return "stored";
  }

  function openConsumerLink(sender: Sender, match: RegExpExecArray): void {
    const [address, hubName, consumerGroup, partitionId] = match;
    const hub = hubOf(hubName);
    const log = hub && partitionOf(hub, partitionId);
    const refusal =
      !hub || !hub.consumerGroups.has(consumerGroup.toLowerCase())
        ? entityNotFound(address)
        : partitionRefusal(hub, partitionId);
    if (refusal || !log) {
      sender.close(refusal);
      return;
    }
    let next: number;
    try {
      next = log.startIndexFor(selectorFilterOf(sender));
    } catch (error) {
      sender.close({ condition: "amqp:invalid-field", description: `${address}: ${(error as Error).message}` });
      return;
    }
    const ownerLevelRefusal = claimPartition(sender, address);
    if (ownerLevelRefusal) {
      sender.close(ownerLevelRefusal);
      return;
    }
    const tracksLastEnqueued = capabilitiesOf(sender.desired_capabilities).includes(RUNTIME_METRIC_CAPABILITY);
    // Credit decides how many events go out: send while the client has granted some.
    const pump = (): void => {
      while (sender.sendable() && next < log.events.length) {
        const event = log.events[next++];
        sender.send(deliverable(event, tracksLastEnqueued ? log : undefined));
      }
    };
    const unsubscribe = log.onAppend(pump);
    const release = (): void => {
      unsubscribe();
      activeConsumers.delete(sender);
    };
    const connectionCleanups = connections.get(sender.connection);
    connectionCleanups?.add(release);
    sender.on("sendable", pump);
    sender.on("sender_close", () => {
      release();
      connectionCleanups?.delete(release);
    });
    pump();
  }

  /**
   * Owner levels (epochs), as the service applies them per consumer group and partition: a receiver
   * with owner level e disconnects the receivers below or at e (and those without one) with
   * `amqp:link:stolen`; it is refused while a higher one, or (without an owner level) any, is active.
   */
  function claimPartition(sender: Sender, path: string): AmqpError | undefined {
    const requested: unknown = (sender.properties as Record<string, unknown> | undefined)?.[EPOCH_PROPERTY];
    const ownerLevel = typeof requested === "number" ? requested : undefined;
    const rivals = [...activeConsumers].filter(([, active]) => active.path === path);
    const blocking = rivals.find(
      ([, active]) => active.ownerLevel !== undefined && (ownerLevel === undefined || active.ownerLevel > ownerLevel),
    );
    if (blocking) {
      return {
        condition: "amqp:link:stolen",
        description: `Receiver on '${path}' refused: a receiver with owner level ${blocking[1].ownerLevel} is active there.`,
      };
    }
    if (ownerLevel !== undefined) {
      for (const [rival, active] of rivals) {
        activeConsumers.delete(rival);
        rival.close({
          condition: "amqp:link:stolen",
          description: `New receiver with higher epoch of '${ownerLevel}' is created hence current receiver with epoch '${active.ownerLevel ?? "none"}' on '${path}' is getting disconnected.`,
        });
      }
    }
    activeConsumers.set(sender, { path, ownerLevel });
    return undefined;
  }

  function answerRequest(kind: "$cbs" | "$management", context: EventContext): void {
    const request = context.message as Message;
    (context.delivery as Delivery).accept();
    const reply =
      kind === "$cbs"
        ? { application_properties: { "status-code": 202, "status-description": "Accepted" } }
        : managementReply(request);
    // The SDK names its reply link after the request's reply_to (its source is `$cbs` / `$management`).
    const replySender = context.connection.find_sender(
      (sender: Sender) => sender.name === request.reply_to || sender.target?.address === request.reply_to,
    );
    if (!replySender) {
      logger.warning(`local Event Hubs: no reply link '${String(request.reply_to)}' for a ${kind} request`);
      return;
    }
    replySender.send({ ...reply, correlation_id: request.message_id, to: request.reply_to } as Message);
  }

  function managementReply(request: Message): Partial<Message> {
    const properties = (request.application_properties ?? {}) as Record<string, unknown>;
    const hub = hubOf(String(properties.name));
    const fail = (statusCode: number, error: AmqpError): Partial<Message> => ({
      application_properties: {
        "status-code": statusCode,
        "status-description": error.description,
        "error-condition": error.condition,
      },
    });
    const notImplemented = (what: string): AmqpError => ({
      condition: "amqp:not-implemented",
      description: `${what} is not supported`,
    });
    if (properties.operation !== "READ") return fail(400, notImplemented(`operation ${String(properties.operation)}`));
    if (!hub) return fail(404, entityNotFound(String(properties.name)));
    const ok = (body: Record<string, unknown>): Partial<Message> => ({
      application_properties: { "status-code": 200, "status-description": "OK" },
      body,
    });
    const { name, partitionCount } = hub.definition;
    if (properties.type === "com.microsoft:eventhub") {
      return ok({
        name,
        type: properties.type,
        created_at: hub.createdOn,
        partition_count: partitionCount,
        partition_ids: hub.partitions.map((_, index) => String(index)),
      });
    }
    const partitionId = String(properties.partition);
    const log = partitionOf(hub, partitionId);
    if (properties.type !== "com.microsoft:partition")
      return fail(400, notImplemented(`type ${String(properties.type)}`));
    const refusal = partitionRefusal(hub, partitionId);
    if (refusal || !log) return fail(400, refusal ?? entityNotFound(partitionId));
    const info = log.runtimeInfo();
    return ok({
      name,
      type: properties.type,
      partition: partitionId,
      begin_sequence_number: types.wrap_long(info.beginningSequenceNumber),
      last_enqueued_sequence_number: types.wrap_long(info.lastEnqueuedSequenceNumber),
      last_enqueued_offset: info.lastEnqueuedOffset,
      last_enqueued_time_utc: info.lastEnqueuedTimeUtc,
      is_partition_empty: info.isEmpty,
    });
  }

  // Handled here, on the container, only: rhea stops dispatching at the first level with a listener.
  container.on("connection_open", (context: EventContext) => {
    connections.set(context.connection, new Set());
  });
  for (const closing of ["connection_close", "disconnected"]) {
    container.on(closing, (context: EventContext) => {
      for (const cleanup of connections.get(context.connection) ?? []) cleanup();
      connections.delete(context.connection);
    });
  }
  container.on("receiver_open", (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const address = String(receiver.target?.address ?? "");
    receiver.set_target({ address });
    if (address === "$cbs" || address === "$management") {
      receiver.on("message", (messageContext: EventContext) => answerRequest(address, messageContext));
    } else {
      openPublishLink(receiver, address);
    }
  });
  container.on("sender_open", (context: EventContext) => {
    const sender = context.sender as Sender;
    const address = String(sender.source?.address ?? "");
    sender.set_source({ address });
    const consumer = CONSUMER_ADDRESS.exec(address);
    // Anything else is a reply link of `$cbs` / `$management`, found again by its name.
    if (consumer) openConsumerLink(sender, consumer);
  });
  for (const failure of ["error", "connection_error", "protocol_error"]) {
    container.on(failure, (context: EventContext | Error) => {
      logFailure(
        `local Event Hubs: ${failure}`,
        context instanceof Error ? context : (context.error ?? context.connection?.error),
      );
    });
  }

  const server = container.listen({
    host: "127.0.0.1",
    port: options.port ?? 0,
    // Links the clients attach take these: credit for producers, the size limit for everyone.
    receiver_options: { autoaccept: false, max_message_size: maxMessageSizeInBytes, credit_window: 1000 },
    sender_options: { max_message_size: maxMessageSizeInBytes },
  }) as Server;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : Number.NaN;
  logger.info(`local Event Hubs endpoint on 127.0.0.1:${port} (${[...hubs.keys()].join(", ")})`);

  const requireHub = (name: string, where: string): Hub => {
    const hub = hubOf(name);
    if (!hub) throw new ConfigurationError(`${where}: unknown hub '${name}' (known: ${[...hubs.keys()].join(", ")})`);
    return hub;
  };
  const logsOf = (name: string, partitionId: string | undefined, where: string): Array<[string, PartitionLog]> => {
    const hub = requireHub(name, where);
    const all = hub.partitions.map((log, index): [string, PartitionLog] => [String(index), log]);
    if (partitionId === undefined) return all;
    const selected = all.filter(([id]) => id === partitionId);
    if (selected.length === 0)
      throw new ConfigurationError(`${where}: hub '${name}' has no partition '${partitionId}'`);
    return selected;
  };

  return {
    port,
    connectionString(hub) {
      requireHub(hub, "connectionString");
      return `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=local;SharedAccessKey=local;EntityPath=${hub};UseDevelopmentEmulator=true`;
    },
    injectFaults(fault) {
      if (!Number.isInteger(fault.count) || fault.count <= 0) {
        throw new ConfigurationError(`injectFaults: count must be a positive integer, got ${fault.count}`);
      }
      if (fault.hub !== undefined) requireHub(fault.hub, "injectFaults");
      const sendsToLetThrough = fault.afterSends ?? 0;
      if (!Number.isInteger(sendsToLetThrough) || sendsToLetThrough < 0) {
        throw new ConfigurationError(
          `injectFaults: afterSends must be a non-negative integer, got ${fault.afterSends}`,
        );
      }
      faults.push({ ...fault, remaining: fault.count, sendsToLetThrough });
    },
    events(hub, partitionId) {
      return logsOf(hub, partitionId, "events").flatMap(([id, log]) =>
        log.events.map((event) => toLocalEvent(id, event)),
      );
    },
    eventCount(hub, partitionId) {
      return logsOf(hub, partitionId, "eventCount").reduce((sum, [, log]) => sum + log.events.length, 0);
    },
    sendOutcomes: () => ({ ...outcomes }),
    async stop() {
      const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections.keys()) connection.close();
      const socketsClosed = Promise.all(
        [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve))),
      );
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, CLOSE_GRACE_IN_MS);
      });
      await Promise.race([socketsClosed, grace]);
      clearTimeout(graceTimer);
      for (const socket of sockets) socket.destroy();
      await listenerClosed;
    },
  };
}

/** The partition with this id: ids are the decimal indexes "0".."N-1", as the service names them. */
function partitionOf(hub: Hub, partitionId: string): PartitionLog | undefined {
  return /^(0|[1-9]\d*)$/.test(partitionId) ? hub.partitions[Number(partitionId)] : undefined;
}

/** The service's refusal of an unknown hub or consumer group (the SDK: MessagingEntityNotFoundError). */
function entityNotFound(address: string): AmqpError {
  return { condition: "amqp:not-found", description: `The messaging entity '${address}' could not be found.` };
}

/** The service's refusal of a partition id the hub does not have (the SDK: ArgumentOutOfRangeError). */
function partitionRefusal(hub: Hub, partitionId: string): AmqpError | undefined {
  if (partitionOf(hub, partitionId)) return undefined;
  return {
    condition: "com.microsoft:argument-out-of-range",
    description: `The specified partition '${partitionId}' is invalid for an EventHub partition sender or receiver. It should be between 0 and ${hub.partitions.length - 1}.`,
  };
}

function createHubs(definitions: LocalHubDefinition[]): Map<string, Hub> {
  if (!Array.isArray(definitions) || definitions.length === 0) {
    throw new ConfigurationError("startEventHubsEndpoint: hubs must list at least one hub");
  }
  const hubs = new Map<string, Hub>();
  definitions.forEach((definition, index) => {
    const where = `startEventHubsEndpoint: hubs[${index}]`;
    if (typeof definition.name !== "string" || !/^[\w.-]+$/.test(definition.name)) {
      throw new ConfigurationError(
        `${where}.name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(definition.name)}`,
      );
    }
    if (hubs.has(definition.name)) throw new ConfigurationError(`${where}.name '${definition.name}' is listed twice`);
    if (
      !Number.isInteger(definition.partitionCount) ||
      definition.partitionCount < 1 ||
      definition.partitionCount > 1024
    ) {
      throw new ConfigurationError(
        `${where}.partitionCount must be an integer from 1 to 1024, got ${definition.partitionCount}`,
      );
    }
    hubs.set(definition.name, {
      definition,
      createdOn: new Date(),
      partitions: Array.from({ length: definition.partitionCount }, () => new PartitionLog()),
      // Entity names are case-insensitive: the SDK's default group is "$default" (core-amqp Constants).
      consumerGroups: new Set(
        [DEFAULT_CONSUMER_GROUP, ...(definition.consumerGroups ?? [])].map((g) => g.toLowerCase()),
      ),
      nextRoundRobinPartition: 0,
    });
  });
  return hubs;
}

/** rhea's codec types its result apart from the `Message` its links take; they are the same object. */
function decodeMessage(bytes: Buffer): Message {
  return amqpMessage.decode(bytes) as unknown as Message;
}

/** A link's capabilities arrive as one symbol or a list of them. */
function capabilitiesOf(capabilities: string | string[] | undefined): string[] {
  return capabilities === undefined || capabilities === null ? [] : ([] as string[]).concat(capabilities);
}

function partitionKeyOf(message: Message): string | undefined {
  const key: unknown = message.message_annotations?.["x-opt-partition-key"];
  return typeof key === "string" ? key : undefined;
}

/** The filter string of a consumer link; no filter means the start of the stream. */
function selectorFilterOf(sender: Sender): string {
  const filter = (sender.source as { filter?: Record<string, unknown> } | undefined)?.filter;
  const selector: unknown = filter?.["apache.org:selector-filter:string"];
  if (selector === undefined) return "amqp.annotation.x-opt-offset > '-1'";
  const value = typeof selector === "object" && selector !== null && "value" in selector ? selector.value : selector;
  return String(value);
}

/** The stored message with the annotations the service stamps on delivery. */
function deliverable(event: StoredEvent, trackedLog: PartitionLog | undefined): Message {
  const message: Message = {
    ...event.message,
    message_annotations: {
      ...event.message.message_annotations,
      "x-opt-sequence-number": types.wrap_long(event.sequenceNumber),
      "x-opt-offset": event.offset,
      "x-opt-enqueued-time": event.enqueuedTimeUtc,
      ...(event.partitionKey === undefined ? {} : { "x-opt-partition-key": event.partitionKey }),
    },
  };
  if (trackedLog) {
    const info = trackedLog.runtimeInfo();
    message.delivery_annotations = {
      last_enqueued_sequence_number: types.wrap_long(info.lastEnqueuedSequenceNumber),
      last_enqueued_offset: info.lastEnqueuedOffset,
      last_enqueued_time_utc: info.lastEnqueuedTimeUtc,
      runtime_info_retrieval_time_utc: new Date(),
    };
  }
  return message;
}

function toLocalEvent(partitionId: string, event: StoredEvent): LocalEventHubEvent {
  const { message } = event;
  return {
    partitionId,
    sequenceNumber: event.sequenceNumber,
    offset: event.offset,
    enqueuedTimeUtc: event.enqueuedTimeUtc,
    partitionKey: event.partitionKey,
    body: decodeBody(message.body),
    properties: { ...message.application_properties },
    annotations: { ...message.message_annotations },
    messageId: message.message_id as LocalEventHubEvent["messageId"],
    contentType: message.content_type,
  };
}

/** Mirrors the SDK's default body decoding: a data section holding JSON is parsed, other bytes stay bytes. */
function decodeBody(body: unknown): unknown {
  if (isBodySections(body, 0x76)) return body.content;
  if (!isBodySections(body, 0x75) || !Buffer.isBuffer(body.content)) return body;
  try {
    return JSON.parse(body.content.toString("utf8"));
  } catch {
    return body.content;
  }
}
