import type { Message } from "rhea";

/** One event as the endpoint holds it: the message as sent plus what the service stamps on it. */
export interface StoredEvent {
  /** The AMQP message as the producer encoded it (body, properties, annotations). */
  message: Message;
  sequenceNumber: number;
  /** Byte position in the partition, a decimal string like the service's offsets. */
  offset: string;
  enqueuedTimeUtc: Date;
  partitionKey?: string;
  /** Encoded size in bytes; offsets advance by it. */
  sizeInBytes: number;
}

/** What `$management` READ reports for a partition. */
export interface PartitionRuntimeInfo {
  beginningSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedOffset: string;
  lastEnqueuedTimeUtc: Date;
  isEmpty: boolean;
}

/** The append-only event stream of one partition. */
export class PartitionLog {
  readonly events: StoredEvent[] = [];
  private nextOffset = 0;
  private readonly appendListeners = new Set<() => void>();

  append(message: Message, sizeInBytes: number, partitionKey: string | undefined, now: Date): void {
    this.events.push({
      message,
      sequenceNumber: this.events.length,
      offset: String(this.nextOffset),
      enqueuedTimeUtc: now,
      partitionKey,
      sizeInBytes,
    });
    this.nextOffset += sizeInBytes;
  }

  /** Tells listeners (consumer links waiting for events) once a batch has been appended. */
  notifyAppended(): void {
    for (const listener of this.appendListeners) listener();
  }

  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  runtimeInfo(): PartitionRuntimeInfo {
    const last = this.events.at(-1);
    return {
      beginningSequenceNumber: 0,
      lastEnqueuedSequenceNumber: last?.sequenceNumber ?? -1,
      lastEnqueuedOffset: last?.offset ?? "-1",
      lastEnqueuedTimeUtc: last?.enqueuedTimeUtc ?? new Date(0),
      isEmpty: last === undefined,
    };
  }

  /**
   * Index of the first event a consumer receives for an `apache.org:selector-filter:string`
   * filter as the SDK writes it, e.g. `amqp.annotation.x-opt-sequence-number >= '5'`.
   * Offset `-1` is the start of the stream and `@latest` its end.
   */
  startIndexFor(selector: string): number {
    const parsed = SELECTOR_PATTERN.exec(selector.trim());
    if (!parsed) throw new Error(`unsupported selector filter ${JSON.stringify(selector)}`);
    const [, field, operator, value] = parsed;
    const inclusive = operator === ">=";
    if (field === "offset" && value === "-1") return 0;
    if (field === "offset" && value === "@latest") return this.events.length;
    const position = Number(value);
    if (!Number.isFinite(position)) throw new Error(`selector filter value ${JSON.stringify(value)} is not a number`);
    const keyOf: (event: StoredEvent) => number =
      field === "offset"
        ? (event) => Number(event.offset)
        : field === "sequence-number"
          ? (event) => event.sequenceNumber
          : (event) => event.enqueuedTimeUtc.getTime();
    const index = this.events.findIndex((event) => (inclusive ? keyOf(event) >= position : keyOf(event) > position));
    return index === -1 ? this.events.length : index;
  }
}

const SELECTOR_PATTERN = /^amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time) (>=|>) '([^']*)'$/;
