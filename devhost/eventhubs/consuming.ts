/**
 * Consumer links on `hub/ConsumerGroups/{cg}/Partitions/N`, as the JS SDK's eventHubReceiver.ts /
 * partitionReceiver and the Python _consumer.py open them: the `apache.org:selector-filter:string` filter
 * picks the first event, credit decides how many go out, deliveries carry the service's annotations, and
 * owner levels (`com.microsoft:epoch`) fence rival receivers.
 */
import { types, type AmqpError, type Message, type Sender } from "rhea";
import { Conditions, entityNotFound } from "./conditions";
import { partitionOf, partitionRefusal } from "./hubs";
import type { PartitionLog, StoredEvent } from "./partitionLog";
import { capabilitiesOf, decodeMessage } from "./publishing";
import type { EndpointState } from "./state";

const RUNTIME_METRIC_CAPABILITY = "com.microsoft:enable-receiver-runtime-metric-name";
const EPOCH_PROPERTY = "com.microsoft:epoch";
export const CONSUMER_ADDRESS = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/;

const SELECTOR_FILTER = "apache.org:selector-filter:string";

/**
 * The selector of a consumer link; no filter means the start of the stream. The filter is recognised by
 * its descriptor, whatever its key in the filter map (AMQP 1.0 part 3.5.8): the SDKs use the descriptor as
 * the key too, Qpid Proton's `Selector` uses the key "selector".
 */
function selectorFilterOf(sender: Sender): string {
  const filter = (sender.source as { filter?: Record<string, unknown> } | undefined)?.filter ?? {};
  for (const [key, entry] of Object.entries(filter)) {
    // rhea leaves described values in a map as they came: { descriptor: { value }, value }.
    const described = entry as { descriptor?: { value?: unknown }; value?: unknown } | null;
    if (described?.descriptor?.value === SELECTOR_FILTER || key === SELECTOR_FILTER)
      return String(
        described !== null && typeof described === "object" && "value" in described ? described.value : entry,
      );
  }
  return "amqp.annotation.x-opt-offset > '-1'";
}

/**
 * The stored message with the annotations the service stamps on delivery (types as the Python client's
 * _common.py EventData reads them: sequence number long, offset string, enqueued time timestamp).
 */
function deliverable(event: StoredEvent, trackedLog: PartitionLog | undefined): Message {
  const stored = decodeMessage(event.encoded);
  const message: Message = {
    ...stored,
    message_annotations: {
      ...stored.message_annotations,
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

export class Consuming {
  /** Open consumer links with the partition they read (`hub/ConsumerGroups/cg/Partitions/N`) and owner level. */
  private readonly activeConsumers = new Map<Sender, { path: string; ownerLevel?: number }>();

  constructor(private readonly state: EndpointState) {}

  openConsumerLink(sender: Sender, match: RegExpExecArray): void {
    const [address, hubName, consumerGroup, partitionId] = match;
    const hub = this.state.hubs.get(hubName);
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
      next = log.startSequenceNumberFor(selectorFilterOf(sender));
    } catch (error) {
      sender.close({ condition: Conditions.invalidField, description: `${address}: ${(error as Error).message}` });
      return;
    }
    const ownerLevelRefusal = this.claimPartition(sender, address);
    if (ownerLevelRefusal) {
      sender.close(ownerLevelRefusal);
      return;
    }
    const tracksLastEnqueued = capabilitiesOf(sender.desired_capabilities).includes(RUNTIME_METRIC_CAPABILITY);
    // Credit decides how many events go out: send while the client has granted some.
    const pump = (): void => {
      for (let event = log.nextFrom(next); event && sender.sendable(); event = log.nextFrom(next)) {
        next = event.sequenceNumber + 1;
        sender.send(deliverable(event, tracksLastEnqueued ? log : undefined));
      }
    };
    this.keepPumping(sender, log, pump);
    pump();
  }

  private keepPumping(sender: Sender, log: PartitionLog, pump: () => void): void {
    const unsubscribe = log.onAppend(pump);
    const release = (): void => {
      unsubscribe();
      this.activeConsumers.delete(sender);
    };
    const connectionCleanups = this.state.connections.get(sender.connection);
    connectionCleanups?.add(release);
    sender.on("sendable", pump);
    sender.on("sender_close", () => {
      release();
      connectionCleanups?.delete(release);
    });
  }

  /**
   * Owner levels (epochs), as the service applies them per consumer group and partition: a receiver
   * with owner level e disconnects the receivers below or at e (and those without one) with
   * `amqp:link:stolen`; it is refused while a higher one, or (without an owner level) any, is active.
   */
  private claimPartition(sender: Sender, path: string): AmqpError | undefined {
    const requested: unknown = (sender.properties as Record<string, unknown> | undefined)?.[EPOCH_PROPERTY];
    const ownerLevel = typeof requested === "number" ? requested : undefined;
    const rivals = [...this.activeConsumers].filter(([, active]) => active.path === path);
    const blocking = rivals.find(
      ([, active]) => active.ownerLevel !== undefined && (ownerLevel === undefined || active.ownerLevel > ownerLevel),
    );
    if (blocking) {
      const [, holder] = blocking;
      return {
        condition: Conditions.linkStolen,
        description: `Receiver on '${path}' refused: a receiver with owner level ${holder.ownerLevel} is active there.`,
      };
    }
    if (ownerLevel !== undefined) {
      for (const [rival, active] of rivals) {
        this.activeConsumers.delete(rival);
        rival.close({
          condition: Conditions.linkStolen,
          description:
            `New receiver with higher epoch of '${ownerLevel}' is created hence current receiver with epoch ` +
            `'${active.ownerLevel ?? "none"}' on '${path}' is getting disconnected.`,
        });
      }
    }
    this.activeConsumers.set(sender, { path, ownerLevel });
    return undefined;
  }
}
