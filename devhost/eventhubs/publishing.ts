/**
 * Producer links: sends to `hub` and `hub/Partitions/N` as the service takes them (JS SDK eventHubSender.ts;
 * Python _producer.py), batches (message format 0x80013700, each data section one encoded event, as
 * eventDataBatch.ts builds them) unpacked into their events, idempotent producers, injected faults.
 */
import { message as amqpMessage, types, type Delivery, type EventContext, type Message, type Receiver } from "rhea";
import { logger } from "../../src/logger";
import { Conditions, entityDisabled, entityNotFound, messageSizeExceeded, serverBusy } from "./conditions";
import { partitionRefusal, type Hub } from "./hubs";
import { partitionIdForKey } from "./partitionKey";
import type { EndpointState, PendingFault } from "./state";

const IDEMPOTENT_PRODUCER = {
  capability: "com.microsoft:idempotent-producer",
  epoch: "com.microsoft:producer-epoch",
  producerId: "com.microsoft:producer-id",
  sequenceNumber: "com.microsoft:producer-sequence-number",
} as const;
const PUBLISH_ADDRESS = /^([^/]+)(?:\/Partitions\/([^/]+))?$/;

/** What the endpoint remembers of an idempotent producer on one partition, across its links. */
interface IdempotentProducer {
  producerId: number;
  epoch: number;
  lastSequenceNumber: number;
}

/** A rhea body section: data (0x75) holds one Buffer, or several in a batch envelope; sequence is 0x76. */
export interface BodySections {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

export function isBodySections(body: unknown, typecode: 0x75 | 0x76): body is BodySections {
  return typeof body === "object" && body !== null && (body as BodySections).typecode === typecode;
}

/** rhea's codec types its result apart from the `Message` its links take; they are the same object. */
export function decodeMessage(bytes: Buffer): Message {
  return amqpMessage.decode(bytes) as unknown as Message;
}

/** A link's capabilities arrive as one symbol or a list of them. */
export function capabilitiesOf(capabilities: string | string[] | undefined): string[] {
  return capabilities === undefined || capabilities === null ? [] : ([] as string[]).concat(capabilities);
}

function partitionKeyOf(message: Message): string | undefined {
  const key: unknown = message.message_annotations?.["x-opt-partition-key"];
  return typeof key === "string" ? key : undefined;
}

/** One send's events: each its encoded bytes, with the first one decoded (for its key and producer number). */
interface Send {
  events: Buffer[];
  partitionKey: string | undefined;
  firstProducerSequenceNumber: number;
}

function unpack(encoded: Buffer, isBatch: boolean): Send {
  const envelope = decodeMessage(encoded);
  const sections =
    isBatch && isBodySections(envelope.body, 0x75) ? ([] as unknown[]).concat(envelope.body.content) : [];
  const events = isBatch ? sections.filter(Buffer.isBuffer) : [encoded];
  const first = isBatch && events.length > 0 ? decodeMessage(events[0]) : envelope;
  return {
    events,
    partitionKey: partitionKeyOf(envelope) ?? partitionKeyOf(first),
    firstProducerSequenceNumber: Number(first.message_annotations?.[IDEMPOTENT_PRODUCER.sequenceNumber]),
  };
}

export class Publishing {
  private readonly idempotentProducers = new Map<string, IdempotentProducer>();
  private nextProducerId = 1;

  constructor(private readonly state: EndpointState) {}

  openPublishLink(receiver: Receiver, address: string): void {
    const match = PUBLISH_ADDRESS.exec(address);
    const hub = match ? this.state.hubs.get(match[1]) : undefined;
    const partitionId = match?.[2];
    if (!hub) {
      receiver.close(entityNotFound(address));
      return;
    }
    const refusal = partitionId === undefined ? undefined : partitionRefusal(hub, partitionId);
    if (refusal) {
      receiver.close(refusal);
      return;
    }
    let producer: IdempotentProducer | undefined;
    if (capabilitiesOf(receiver.desired_capabilities).includes(IDEMPOTENT_PRODUCER.capability)) {
      if (partitionId === undefined) {
        receiver.close({
          condition: Conditions.notAllowed,
          description: `Idempotent publishing to '${address}' needs a partition id.`,
        });
        return;
      }
      producer = this.attachIdempotentProducer(receiver, `${hub.definition.name}/${partitionId}`);
    }
    receiver.on("message", (context: EventContext) => this.onPublish(hub, partitionId, producer, context));
  }

  /**
   * Answers the attach of an idempotent producer with its id, epoch and last stored sequence number
   * (a new producer gets a fresh id and -1), so the client numbers its events from there.
   */
  private attachIdempotentProducer(receiver: Receiver, partitionPath: string): IdempotentProducer {
    const requested = (receiver.properties ?? {}) as Record<string, unknown>;
    const requestedId = requested[IDEMPOTENT_PRODUCER.producerId];
    const producerId = typeof requestedId === "number" ? requestedId : this.nextProducerId++;
    const key = `${partitionPath}/${producerId}`;
    const requestedSequenceNumber = requested[IDEMPOTENT_PRODUCER.sequenceNumber];
    const producer = this.idempotentProducers.get(key) ?? {
      producerId,
      epoch: Number(requested[IDEMPOTENT_PRODUCER.epoch] ?? 0),
      lastSequenceNumber: typeof requestedSequenceNumber === "number" ? requestedSequenceNumber : -1,
    };
    this.idempotentProducers.set(key, producer);
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

  private takeFault(hub: string): PendingFault | undefined {
    const faults = this.state.faults;
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

  private onPublish(
    hub: Hub,
    partitionId: string | undefined,
    producer: IdempotentProducer | undefined,
    context: EventContext,
  ): void {
    const { outcomes, maxMessageSizeInBytes } = this.state;
    const delivery = context.delivery as Delivery;
    // Batches (message format 0x80013700) arrive as raw bytes; plain messages arrive decoded.
    const payload = context.message as unknown as Message | Buffer;
    const isBatch = Buffer.isBuffer(payload);
    const encoded = isBatch ? payload : amqpMessage.encode(payload);
    const target = partitionId === undefined ? hub.definition.name : `${hub.definition.name}/Partitions/${partitionId}`;
    if (encoded.length > maxMessageSizeInBytes) {
      outcomes.refusedTooLarge += 1;
      logger.verbose(`local Event Hubs: refused ${encoded.length} bytes to ${target} (limit ${maxMessageSizeInBytes})`);
      delivery.reject(messageSizeExceeded(delivery.id, encoded.length, maxMessageSizeInBytes));
      return;
    }
    const fault = this.takeFault(hub.definition.name);
    if (fault) {
      logger.verbose(`local Event Hubs: injected ${fault.kind} on a send to ${target}`);
      this.fail(fault, delivery, target, () => this.store(hub, partitionId, producer, unpack(encoded, isBatch)));
      return;
    }
    const stored = this.store(hub, partitionId, producer, unpack(encoded, isBatch));
    if (stored === "out-of-order") {
      delivery.reject({
        condition: Conditions.outOfOrderSequence,
        description:
          `The supplied sequence number is not the next one expected (${(producer?.lastSequenceNumber ?? 0) + 1})` +
          ` for producer ${producer?.producerId} on ${target}.`,
      });
      return;
    }
    if (stored === "duplicate") outcomes.duplicatesIgnored += 1;
    else outcomes.accepted += 1;
    delivery.accept();
  }

  private fail(fault: PendingFault, delivery: Delivery, target: string, storeAnyway: () => void): void {
    if (fault.kind === "server-busy") {
      this.state.outcomes.refusedServerBusy += 1;
      delivery.reject(serverBusy(fault.remaining));
    } else if (fault.kind === "entity-disabled") {
      delivery.reject(entityDisabled(target, fault.remaining));
    } else {
      this.state.outcomes.timedOut += 1;
      if (fault.storeEventsOfTimedOutSends) storeAnyway();
      // Never settled: the client's send times out.
    }
  }

  /**
   * Appends the events of one send. An idempotent producer's send is stored only when its first
   * sequence number follows the last stored one; an already stored one is a duplicate (the retry of a
   * send whose acknowledgement was lost).
   */
  private store(
    hub: Hub,
    partitionId: string | undefined,
    producer: IdempotentProducer | undefined,
    send: Send,
  ): "stored" | "duplicate" | "out-of-order" {
    if (send.events.length === 0) return "stored";
    if (producer) {
      const first = send.firstProducerSequenceNumber;
      if (first <= producer.lastSequenceNumber) return "duplicate";
      if (first !== producer.lastSequenceNumber + 1) return "out-of-order";
      producer.lastSequenceNumber = first + send.events.length - 1;
    }
    const targetPartition =
      partitionId !== undefined
        ? Number(partitionId)
        : send.partitionKey !== undefined
          ? Number(partitionIdForKey(send.partitionKey, hub.partitions.length))
          : hub.nextRoundRobinPartition++ % hub.partitions.length;
    if (!this.state.retainEvents) return "stored";
    const log = hub.partitions[targetPartition];
    const now = new Date();
    for (const event of send.events) log.append(event, send.partitionKey, now);
    log.notifyAppended();
    return "stored";
  }
}
