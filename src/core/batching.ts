/**
 * Packing encoded events into send batches under a byte limit (Event Hubs: 1 MB on Standard,
 * 256 KB on Basic). Streaming: push events as they are produced, take full batches, flush at the
 * end. Pure: no SDK, no I/O. The sender still uses the SDK's `tryAdd` as the final word; this
 * planning keeps batches under the limit so `tryAdd` refusals are the exception.
 */
import { ValidationError } from "../errors";

/** Event Hubs Standard maximum event and batch size. */
export const DEFAULT_MAX_BATCH_SIZE_IN_BYTES = 1_048_576;

/** An event already encoded for the wire (JSON text or its UTF-8 bytes). */
export interface EncodedEvent {
  /** Names the event in errors (e.g. the FlowEvent id). */
  readonly id: string;
  readonly body: string | Uint8Array;
  /** The body's size in bytes when already known; computed from the body otherwise. */
  readonly sizeInBytes?: number;
}

export interface EventBatcherOptions {
  /** Limit of one batch (and, in JSON array mode, of one array message); default 1 MiB. */
  maxSizeInBytes?: number;
  /** Estimated framing added per message (AMQP headers and section framing); default 0. */
  perMessageOverheadInBytes?: number;
  /**
   * Pack the events of a batch into one message whose body is a JSON array of them (Data
   * Explorer "multijson"); the bodies must be JSON texts.
   */
  jsonArray?: boolean;
}

/** A batch: its events in push order; in JSON array mode also the single array message body. */
export interface EventBatch<E extends EncodedEvent = EncodedEvent> {
  readonly events: E[];
  /** Estimated bytes of the batch, overheads included: never above maxSizeInBytes. */
  readonly sizeInBytes: number;
  /** JSON array mode: the one message body `[e1,e2,...]` (a string when every body is a string). */
  readonly jsonArrayBody?: string | Uint8Array;
}

/**
 * UTF-8 size of a string without encoding it (lone surrogates count as U+FFFD, 3 bytes). Native:
 * a JavaScript loop over every character was the sink's largest cost per event.
 */
export function utf8SizeInBytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * Packs events into batches in push order. Each event costs its body size plus the per-message
 * overhead; in JSON array mode a batch is one message `[a,b]` costing the bodies, one comma between
 * each two, the brackets and one overhead. An event that cannot fit even alone throws a
 * ValidationError naming it: nothing is dropped silently.
 */
export class EventBatcher<E extends EncodedEvent = EncodedEvent> {
  private readonly maxSizeInBytes: number;
  private readonly overheadInBytes: number;
  private readonly jsonArray: boolean;
  private events: E[] = [];
  private sizeInBytes = 0;

  constructor(options: EventBatcherOptions = {}) {
    this.maxSizeInBytes = options.maxSizeInBytes ?? DEFAULT_MAX_BATCH_SIZE_IN_BYTES;
    this.overheadInBytes = options.perMessageOverheadInBytes ?? 0;
    this.jsonArray = options.jsonArray ?? false;
    if (!Number.isSafeInteger(this.maxSizeInBytes) || this.maxSizeInBytes < 1) {
      throw new ValidationError(`maxSizeInBytes must be a positive integer, got ${options.maxSizeInBytes}`);
    }
    if (!Number.isSafeInteger(this.overheadInBytes) || this.overheadInBytes < 0) {
      throw new ValidationError(
        `perMessageOverheadInBytes must be a non-negative integer, got ${options.perMessageOverheadInBytes}`,
      );
    }
  }

  /** Adds an event; returns the batch it completed (the events before it) if it did not fit, else nothing. */
  push(event: E): EventBatch<E>[] {
    const bodySize =
      event.sizeInBytes ?? (typeof event.body === "string" ? utf8SizeInBytes(event.body) : event.body.byteLength);
    const aloneSize = this.jsonArray ? bodySize + 2 + this.overheadInBytes : bodySize + this.overheadInBytes;
    if (aloneSize > this.maxSizeInBytes) {
      throw new ValidationError(
        `event ${event.id} is ${bodySize} bytes (${aloneSize} with framing), more than the batch limit ` +
          `of ${this.maxSizeInBytes} bytes`,
      );
    }
    // In array mode a further event adds its body and a comma; the first pays brackets + overhead.
    const addedSize = this.events.length === 0 ? aloneSize : this.jsonArray ? bodySize + 1 : aloneSize;
    const completed: EventBatch<E>[] = [];
    if (this.sizeInBytes + addedSize > this.maxSizeInBytes) {
      completed.push(...this.flush());
      this.sizeInBytes = aloneSize;
    } else {
      this.sizeInBytes += addedSize;
    }
    this.events.push(event);
    return completed;
  }

  /** Returns the pending events as a last batch (nothing when none are pending) and starts afresh. */
  flush(): EventBatch<E>[] {
    if (this.events.length === 0) return [];
    const events = this.events;
    const batch: EventBatch<E> = this.jsonArray
      ? { events, sizeInBytes: this.sizeInBytes, jsonArrayBody: jsonArrayOf(events) }
      : { events, sizeInBytes: this.sizeInBytes };
    this.events = [];
    this.sizeInBytes = 0;
    return [batch];
  }
}

/** Packs a whole list at once (see {@link EventBatcher}). */
export function packEvents<E extends EncodedEvent>(
  events: Iterable<E>,
  options: EventBatcherOptions = {},
): EventBatch<E>[] {
  const batcher = new EventBatcher<E>(options);
  const batches: EventBatch<E>[] = [];
  for (const event of events) batches.push(...batcher.push(event));
  batches.push(...batcher.flush());
  return batches;
}

function jsonArrayOf(events: readonly EncodedEvent[]): string | Uint8Array {
  if (events.every((event) => typeof event.body === "string")) {
    return `[${events.map((event) => event.body as string).join(",")}]`;
  }
  const encoder = new TextEncoder();
  const parts = events.map((event) => (typeof event.body === "string" ? encoder.encode(event.body) : event.body));
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0) + parts.length + 1;
  const body = new Uint8Array(total);
  const COMMA = 0x2c;
  body[0] = 0x5b; // [
  let offset = 1;
  parts.forEach((part, i) => {
    if (i > 0) body[offset++] = COMMA;
    body.set(part, offset);
    offset += part.byteLength;
  });
  body[offset] = 0x5d; // ]
  return body;
}
