/** One event as the endpoint holds it: the message as the producer encoded it, plus what the service stamps on it. */
export interface StoredEvent {
  /** The AMQP message bytes (a private copy, so a kept event never pins the frame it came in). */
  encoded: Buffer;
  sequenceNumber: number;
  /** Byte position in the partition, a decimal string like the service's offsets. */
  offset: string;
  enqueuedTimeUtc: Date;
  partitionKey?: string;
}

/**
 * How much a partition keeps, like a hub's retention: the oldest events go once either limit is passed.
 * The service retains by time (and, on Dedicated, by size); a local endpoint bounds its memory instead.
 */
export interface RetentionLimits {
  /** Events kept per partition. */
  maxEvents: number;
  /** Encoded bytes kept per partition (the newest event is always kept, even when larger). */
  maxBytes: number;
}

/** Large enough that every test and the demo see all they send; 4 partitions then hold at most 256 MiB. */
export const DEFAULT_RETENTION: RetentionLimits = { maxEvents: 500_000, maxBytes: 64 * 1024 * 1024 };

/** What `$management` READ reports for a partition. */
export interface PartitionRuntimeInfo {
  beginningSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedOffset: string;
  lastEnqueuedTimeUtc: Date;
  isEmpty: boolean;
}

/** Dropped events are cut off the array's front in one go once they are this many and half of it. */
const COMPACT_AFTER = 1024;
/**
 * Events are copied into slabs of this size (larger events get their own buffer): one allocation per
 * event would cost more than a small event itself. Events are dropped oldest first, so a slab is freed as
 * soon as its last event goes; at most two slabs hold bytes beyond the retained ones.
 */
const SLAB_BYTES = 1024 * 1024;

/** The event stream of one partition, bounded by its retention limits. */
export class PartitionLog {
  /** Retained events are `events[head..]`; slots before `head` were emptied and await compaction. */
  private events: Array<StoredEvent | undefined> = [];
  private head = 0;
  private bytes = 0;
  private nextSequenceNumber = 0;
  private nextOffset = 0;
  private last: StoredEvent | undefined;
  private slab = Buffer.alloc(0);
  private slabUsed = 0;
  private readonly appendListeners = new Set<() => void>();

  constructor(private readonly limits: RetentionLimits = DEFAULT_RETENTION) {}

  /** A private copy of `message`, so a kept event never pins the frame or batch it came in. */
  private copyOf(message: Buffer): Buffer {
    if (message.length > SLAB_BYTES / 4) return Buffer.from(Uint8Array.prototype.slice.call(message));
    if (this.slabUsed + message.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const copy = this.slab.subarray(this.slabUsed, this.slabUsed + message.length);
    message.copy(copy);
    this.slabUsed += message.length;
    return copy;
  }

  append(message: Buffer, partitionKey: string | undefined, now: Date): void {
    const encoded = this.copyOf(message);
    const event: StoredEvent = {
      encoded,
      sequenceNumber: this.nextSequenceNumber++,
      offset: String(this.nextOffset),
      enqueuedTimeUtc: now,
      partitionKey,
    };
    this.events.push(event);
    this.last = event;
    this.nextOffset += encoded.length;
    this.bytes += encoded.length;
    this.dropBeyondLimits();
  }

  private dropBeyondLimits(): void {
    while (
      this.retainedCount > this.limits.maxEvents ||
      (this.bytes > this.limits.maxBytes && this.retainedCount > 1)
    ) {
      this.bytes -= this.events[this.head]?.encoded.length ?? 0;
      // Emptied at once, so a dropped event's memory is free before the array is compacted.
      this.events[this.head] = undefined;
      this.head += 1;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  get retainedCount(): number {
    return this.events.length - this.head;
  }

  /** Encoded bytes of the retained events: what the retention limit bounds. */
  get retainedBytes(): number {
    return this.bytes;
  }

  /** The retained events, oldest first. */
  retained(): StoredEvent[] {
    return this.events.slice(this.head) as StoredEvent[];
  }

  /** The oldest retained event at or after `sequenceNumber` (a reader behind retention skips to the oldest). */
  nextFrom(sequenceNumber: number): StoredEvent | undefined {
    const first = this.events[this.head];
    if (!first) return undefined;
    return this.events[this.head + Math.max(0, sequenceNumber - first.sequenceNumber)];
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
    const first = this.events[this.head];
    return {
      // Before the first event the service reports 0 as the beginning and -1 as the last.
      beginningSequenceNumber: first?.sequenceNumber ?? this.nextSequenceNumber,
      lastEnqueuedSequenceNumber: this.last?.sequenceNumber ?? -1,
      lastEnqueuedOffset: this.last?.offset ?? "-1",
      lastEnqueuedTimeUtc: this.last?.enqueuedTimeUtc ?? new Date(0),
      isEmpty: first === undefined,
    };
  }

  /**
   * Sequence number of the first event a consumer receives for an `apache.org:selector-filter:string`
   * filter as the SDKs write it (JS eventPosition.ts getEventPositionFilter; Python _consumer.py), e.g.
   * `amqp.annotation.x-opt-sequence-number >= '5'`. Offset `-1` is the oldest retained event and
   * `@latest` the end; a position older than retention starts at the oldest retained event.
   */
  startSequenceNumberFor(selector: string): number {
    const parsed = SELECTOR_PATTERN.exec(selector.trim());
    if (!parsed) throw new Error(`unsupported selector filter ${JSON.stringify(selector)}`);
    const [, field, operator, value] = parsed;
    const oldest = this.events[this.head]?.sequenceNumber ?? this.nextSequenceNumber;
    if (field === "offset" && value === "-1") return oldest;
    if (field === "offset" && value === "@latest") return this.nextSequenceNumber;
    const position = Number(value);
    if (!Number.isFinite(position)) throw new Error(`selector filter value ${JSON.stringify(value)} is not a number`);
    const keyOf = KEYS[field as keyof typeof KEYS];
    const starts = operator === ">=" ? (key: number) => key >= position : (key: number) => key > position;
    // Every key grows with the sequence number: binary search for the first retained event that starts.
    let low = this.head;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (starts(keyOf(this.events[middle] as StoredEvent))) high = middle;
      else low = middle + 1;
    }
    return this.events[low]?.sequenceNumber ?? this.nextSequenceNumber;
  }
}

const SELECTOR_PATTERN = /^amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time) (>=|>) '([^']*)'$/;
const KEYS = {
  offset: (event: StoredEvent) => Number(event.offset),
  "sequence-number": (event: StoredEvent) => event.sequenceNumber,
  "enqueued-time": (event: StoredEvent) => event.enqueuedTimeUtc.getTime(),
} as const;
