/**
 * The Event Hubs side of ingestion: sends encoded events in the SDK's own batches (`createBatch` +
 * `tryAdd`, so the link's maximum size is the final word), one partition key per batch, in order.
 * With `eventsPerMessage` above 1, up to that many events of one key travel as one message whose
 * body is a JSON array (Data Explorer "multijson"); with `messageFormat` compact, the message is the
 * events' compact records (docs/events.md), gzip-compressed (Data Explorer "multijson" with GZip
 * compression). Transient failures are retried by the SDK and then by a bounded backoff around each
 * batch; whatever still fails throws a ServiceError, and
 * the caller must not advance its checkpoint past what `onAcknowledged` reported. Batches end
 * between the caller's units (record blocks) whenever a unit fits a batch, so a failure part-way
 * leaves whole units acknowledged. Re-sent events are byte-identical (design §3).
 */
import type { EventDataBatch, EventHubProducerClient, RetryOptions } from "@azure/event-hubs";
import { setTimeout as sleep } from "node:timers/promises";
import { constants as zlibConstants, gzipSync } from "node:zlib";
import type { EventHubSettings, MessageFormat } from "../config";
import { backoffDelayInMs } from "../core/backoff";
import { encodeCompactEvent, encodeEventBytes, type CompactSharedPart } from "../core/encode";
import { EVENT_SCHEMA_VERSION, type EventSchemaVersion, type FlowEvent } from "../core/event";
import { ServiceError, ValidationError } from "../errors";
import { logFailure, logger } from "../logger";
import { createEventHubProducerClient } from "./credentials";
import { disableNagle } from "./producerSocket";

/** One event, already encoded as JSON text. */
export interface SinkEvent {
  id: string;
  body: string;
  /** Events with the same key land on the same partition, in order; none: any partition. */
  partitionKey?: string;
}

/** One event as the UTF-8 bytes of its JSON (sent as they are, without a conversion). */
export interface SinkEventBytes extends Omit<SinkEvent, "body"> {
  body: Uint8Array;
  /** Compact format: the shared record the body's compact record names (sent once per message). */
  shared?: CompactSharedPart;
}

/** An event encoded for a sink's message format: its body, and its shared record when compact. */
export type EncodedEvent = Pick<SinkEventBytes, "body" | "shared">;

export interface SendTotals {
  messagesSent: number;
  eventsSent: number;
  batchesSent: number;
  /** Bytes of the sent batches as the SDK sizes them (AMQP framing included). */
  bytesSent: number;
}

export interface SendRetryOptions {
  /** Attempts per batch, the first included, on top of the SDK's own retries; default 3. */
  maxAttempts?: number;
  /** Delay before the second attempt, doubled for each further one; default 1,000 ms. */
  delayInMs?: number;
  maxDelayInMs?: number;
}

export interface SendOptions {
  /**
   * Where the caller's units end (a record block's events), as counts of leading events, ascending.
   * A batch that cannot take the next unit whole is sent before it, unless the unit alone exceeds a
   * batch or spans partition keys: then it is split like any other events.
   */
  unitEnds?: readonly number[];
  /** Called after each acknowledged batch with the number of leading events acknowledged so far. */
  onAcknowledged?: (acknowledgedEventCount: number) => void;
  /**
   * Sent only after this settles, and not at all if it rejects (e.g. the caller's previous send):
   * the batches are built meanwhile, so building overlaps the wire without reordering anything.
   */
  after?: Promise<unknown>;
}

export interface CreateEventHubsSinkOptions {
  /** Default: settings.eventHubName (pass settings.alertsEventHubName for alerts). */
  eventHubName?: string;
  /** The SDK's retries of each operation (`maxRetries`, `retryDelayInMs`, `timeoutInMs`, ...). */
  retryOptions?: RetryOptions;
  /** Our bounded backoff around each batch, after the SDK's retries gave up on a transient error. */
  sendRetryOptions?: SendRetryOptions;
}

export interface EventHubsSink {
  readonly eventHubName: string;
  readonly messageFormat: MessageFormat;
  /** The event as this sink's format carries it: schema `schemaVersion` JSON, or (compact) its compact record. */
  encode(event: FlowEvent, schemaVersion: EventSchemaVersion): EncodedEvent;
  /**
   * Sends every event in input order (batches one after the other), so the acknowledged events are
   * always a prefix of the input; resolves once the service acknowledged all.
   */
  send(events: Iterable<SinkEvent | SinkEventBytes>, options?: SendOptions): Promise<SendTotals>;
  /** Everything this sink sent since it was created. */
  readonly totals: Readonly<SendTotals>;
  close(): Promise<void>;
}

export const FLOWTAP_EVENT_ID_PROPERTY = "flowtapEventId";
export const FLOWTAP_LAST_EVENT_ID_PROPERTY = "flowtapLastEventId";
export const FLOWTAP_EVENT_COUNT_PROPERTY = "flowtapEventCount";
export const FLOWTAP_SCHEMA_VERSION_PROPERTY = "flowtapSchemaVersion";
/** Set on compact messages only, to "compact": the body is gzip-compressed compact records. */
export const FLOWTAP_MESSAGE_FORMAT_PROPERTY = "flowtapMessageFormat";
/** A compact message's AMQP content-encoding (RFC 9110 8.4.1 names, as AMQP 1.0 §3.2.4 asks). */
export const COMPACT_CONTENT_ENCODING = "gzip";
const CONTENT_TYPE = "application/json";
/**
 * Fastest deflate: ingestion is CPU-bound, and on the bench corpus level 1 costs about half of level 6's time for
 * about a fifth more bytes (still about half the source blob's bytes per tuple at 100 events a message).
 */
const GZIP_LEVEL = zlibConstants.Z_BEST_SPEED;
/** The partition key annotation the SDK writes on each EventData (its toRheaMessage), written here on compact ones. */
const PARTITION_KEY_ANNOTATION = "x-opt-partition-key";
/**
 * Room left in a batch for a JSON-array message's AMQP framing and properties (two event ids, a
 * count, the partition key), so the packed body plus framing still passes `tryAdd`.
 */
const PACKED_MESSAGE_OVERHEAD_IN_BYTES = 1024;
/** A message's framing before one was measured (ids, properties, partition key): about 200 bytes. */
const INITIAL_MESSAGE_FRAMING_IN_BYTES = 256;
/** Ids of one send differ by a few digits: room for a longer id than the one measured. */
const MESSAGE_FRAMING_MARGIN_IN_BYTES = 16;

export function createEventHubsSink(
  settings: EventHubSettings,
  options: CreateEventHubsSinkOptions = {},
): EventHubsSink {
  const eventHubName = options.eventHubName ?? settings.eventHubName;
  const producer = createEventHubProducerClient(settings.connection, eventHubName, {
    retryOptions: options.retryOptions,
  });
  return new ProducerSink(producer, eventHubName, settings, options.sendRetryOptions ?? {});
}

/**
 * Sinks shared by every activity invocation of this process: the AMQP connection is opened once.
 * Keyed by the connection, the hub and the packing settings.
 */
const sharedSinks = new Map<string, EventHubsSink>();

export function sharedEventHubsSink(
  settings: EventHubSettings,
  options: CreateEventHubsSinkOptions = {},
): EventHubsSink {
  const key = JSON.stringify([settings, options.eventHubName ?? settings.eventHubName]);
  let sink = sharedSinks.get(key);
  if (!sink) {
    sink = createEventHubsSink(settings, options);
    sharedSinks.set(key, sink);
  }
  return sink;
}

/** Closes and forgets every shared sink (host shutdown, tests). */
export async function closeSharedEventHubsSinks(): Promise<void> {
  const sinks = [...sharedSinks.values()];
  sharedSinks.clear();
  await Promise.all(sinks.map((sink) => sink.close()));
}

/** Events [start, end) of one send, with their bodies as bytes. */
interface EventRun {
  events: readonly (SinkEvent | SinkEventBytes)[];
  bodies: readonly Buffer[];
  start: number;
  end: number;
}

/** A message on its way: one event, several consecutive ones packed as a JSON array, or compact records. */
interface OutgoingMessage {
  firstId: string;
  lastId: string;
  eventCount: number;
  body: Buffer;
  compact: boolean;
}

class ProducerSink implements EventHubsSink {
  readonly totals: SendTotals = emptyTotals();
  readonly messageFormat: MessageFormat;
  private readonly eventsPerMessage: number;
  private readonly maxBatchSizeInBytes: number | undefined;
  private readonly maxAttempts: number;
  private readonly delayInMs: number;
  private readonly maxDelayInMs: number;
  /** Calls run one after the other, so batches never interleave or overtake each other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The largest framing a message added to a batch cost beyond its body: sizes units before they are added. */
  private messageFramingInBytes = INITIAL_MESSAGE_FRAMING_IN_BYTES;

  constructor(
    private readonly producer: EventHubProducerClient,
    readonly eventHubName: string,
    settings: Pick<EventHubSettings, "eventsPerMessage" | "maxBatchSizeInBytes" | "messageFormat">,
    retry: SendRetryOptions,
  ) {
    this.messageFormat = settings.messageFormat ?? "json";
    this.eventsPerMessage = settings.eventsPerMessage;
    this.maxBatchSizeInBytes = settings.maxBatchSizeInBytes;
    this.maxAttempts = retry.maxAttempts ?? 3;
    this.delayInMs = retry.delayInMs ?? 1000;
    this.maxDelayInMs = retry.maxDelayInMs ?? 30_000;
  }

  send(events: Iterable<SinkEvent | SinkEventBytes>, options: SendOptions = {}): Promise<SendTotals> {
    // Calls build their batches at once, but send them only after the previous call's last batch settled.
    const result = this.sendInOrder(
      Array.isArray(events) ? (events as (SinkEvent | SinkEventBytes)[]) : Array.from(events),
      options,
      this.queue,
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  encode(event: FlowEvent, schemaVersion: EventSchemaVersion): EncodedEvent {
    return this.messageFormat === "compact"
      ? encodeCompactEvent(event)
      : { body: encodeEventBytes(event, schemaVersion) };
  }

  async close(): Promise<void> {
    await this.producer.close();
  }

  private async sendInOrder(
    events: readonly (SinkEvent | SinkEventBytes)[],
    options: SendOptions,
    previousCall: Promise<unknown>,
  ): Promise<SendTotals> {
    const sent = emptyTotals();
    if (events.length === 0) return sent;
    const unitEnds = new Set(options.unitEnds);
    /** The batch on the wire: the next one is built meanwhile and sent once this one is acknowledged. */
    let inFlight: Promise<unknown> = Promise.all([previousCall, options.after]);
    inFlight.catch(() => undefined); // a rejected `after` is rethrown before the first batch goes
    /**
     * Leading events in batches handed to the service, and leading events added to batches (the current one included).
     */
    let handedOver = 0;
    let added = 0;
    const sendBatch = async (batch: EventDataBatch): Promise<void> => {
      await inFlight;
      const eventCount = added - handedOver;
      const acknowledgedThrough = added;
      handedOver = added;
      inFlight = this.sendBatch(batch, eventCount, sent).then(() => options.onAcknowledged?.(acknowledgedThrough));
      inFlight.catch(() => undefined); // awaited (and rethrown) before the next batch goes, or at the end
    };
    try {
      let batch = await this.createBatch(events[0]!.partitionKey);
      // Encoded once; the first batch tells the link's limit: refuse what can never fit before anything is sent.
      const bodies = encodeBodies(events, this.largestEventInBytes(batch.maxSizeInBytes), this.messageFormat);
      for (let groupStart = 0; groupStart < events.length;) {
        const partitionKey = events[groupStart]!.partitionKey;
        let groupEnd = groupStart + 1;
        while (groupEnd < events.length && events[groupEnd]!.partitionKey === partitionKey) groupEnd++;
        if (batch.count > 0 || batch.partitionKey !== partitionKey) {
          if (batch.count > 0) await sendBatch(batch);
          batch = await this.createBatch(partitionKey);
        }
        const messages = this.messagesOf(events, bodies, groupStart, groupEnd, batch.maxSizeInBytes);
        for (const [messageIndex, message] of messages.entries()) {
          if (
            batch.count > 0 &&
            unitEnds.has(added) &&
            !this.unitFits(batch, messages, messageIndex, added, unitEnds)
          ) {
            await sendBatch(batch);
            batch = await this.createBatch(partitionKey);
          }
          const eventData = toEventData(message, partitionKey);
          const sizeBefore = batch.sizeInBytes;
          if (!batch.tryAdd(eventData)) {
            if (batch.count === 0) throw tooLarge(message, batch);
            await sendBatch(batch);
            batch = await this.createBatch(partitionKey);
            if (!batch.tryAdd(eventData)) throw tooLarge(message, batch);
          } else if (batch.count > 1) {
            // Measured on a batch's later messages: its first one also carries the batch envelope.
            this.messageFramingInBytes = Math.max(
              this.messageFramingInBytes,
              batch.sizeInBytes - sizeBefore - message.body.byteLength,
            );
          }
          added += message.eventCount;
        }
        groupStart = groupEnd;
      }
      if (batch.count > 0) await sendBatch(batch);
      await inFlight;
    } catch (error) {
      // Nothing is sent after a failure; a batch still on the wire reports its acknowledgement first.
      await inFlight.catch(() => undefined);
      throw error;
    }
    return sent;
  }

  /**
   * Whether the unit starting at `messages[first]` (after `eventsBefore` events) fits what is left
   * of the batch, or cannot fit any batch (then it fills this one like any events).
   */
  private unitFits(
    batch: EventDataBatch,
    messages: readonly OutgoingMessage[],
    first: number,
    eventsBefore: number,
    unitEnds: ReadonlySet<number>,
  ): boolean {
    let sizeInBytes = 0;
    let eventEnd = eventsBefore;
    for (let index = first; index < messages.length; index++) {
      sizeInBytes += messages[index].body.byteLength + this.messageFramingInBytes + MESSAGE_FRAMING_MARGIN_IN_BYTES;
      eventEnd += messages[index].eventCount;
      if (sizeInBytes > batch.maxSizeInBytes || unitEnds.has(eventEnd)) break;
    }
    return sizeInBytes > batch.maxSizeInBytes || batch.sizeInBytes + sizeInBytes <= batch.maxSizeInBytes;
  }

  /** Single events, or JSON arrays of up to eventsPerMessage events that fit a batch with room to spare. */
  private messagesOf(
    events: readonly (SinkEvent | SinkEventBytes)[],
    bodies: readonly Buffer[],
    start: number,
    end: number,
    batchSizeInBytes: number,
  ): OutgoingMessage[] {
    const messages: OutgoingMessage[] = [];
    if (this.messageFormat === "compact") {
      return this.compactMessagesOf(
        { events, bodies, start, end },
        largestGzipInput(this.largestBodyInBytes(batchSizeInBytes)),
      );
    }
    if (this.eventsPerMessage <= 1) {
      for (let index = start; index < end; index++) {
        const id = events[index]!.id;
        messages.push({ firstId: id, lastId: id, eventCount: 1, body: bodies[index]!, compact: false });
      }
      return messages;
    }
    const largestBodyInBytes = this.largestBodyInBytes(batchSizeInBytes);
    for (let first = start; first < end;) {
      // As many events as fit: the brackets, the bodies and a comma between each two.
      let sizeInBytes = 2 + bodies[first]!.byteLength;
      let last = first;
      while (
        last + 1 < end &&
        last + 1 - first < this.eventsPerMessage &&
        sizeInBytes + 1 + bodies[last + 1]!.byteLength <= largestBodyInBytes
      ) {
        last++;
        sizeInBytes += 1 + bodies[last]!.byteLength;
      }
      messages.push({
        firstId: events[first]!.id,
        lastId: events[last]!.id,
        eventCount: last - first + 1,
        body: jsonArrayOf(bodies, first, last + 1, sizeInBytes),
        compact: false,
      });
      first = last + 1;
    }
    return messages;
  }

  /**
   * Up to eventsPerMessage events a message as compact records (each shared record once, before the first event
   * naming it), gzip-compressed; the records before compression never pass what the compressed body may take.
   */
  private compactMessagesOf(run: EventRun, largestRecordsInBytes: number): OutgoingMessage[] {
    const { events, bodies, start, end } = run;
    const messages: OutgoingMessage[] = [];
    for (let first = start; first < end;) {
      const records: Buffer[] = [];
      const keys = new Set<string>();
      let sizeInBytes = 1; // the brackets, less the comma the first record does not need
      let next = first;
      let previous: CompactSharedPart | undefined;
      while (next < end && next - first < this.eventsPerMessage) {
        const shared = (events[next] as SinkEventBytes).shared!; // encodeBodies refused events without one
        // Consecutive events mostly share one record: the set is asked only when it changes.
        const newShared = shared !== previous && !keys.has(shared.key);
        previous = shared;
        const added = 1 + bodies[next]!.byteLength + (newShared ? 1 + shared.body.byteLength : 0);
        if (next > first && sizeInBytes + added > largestRecordsInBytes) break;
        if (newShared) {
          records.push(shared.body);
          keys.add(shared.key);
        }
        records.push(bodies[next]!);
        sizeInBytes += added;
        next++;
      }
      messages.push({
        firstId: events[first]!.id,
        lastId: events[next - 1]!.id,
        eventCount: next - first,
        body: gzipSync(jsonArrayOf(records, 0, records.length, sizeInBytes), { level: GZIP_LEVEL }),
        compact: true,
      });
      first = next;
    }
    return messages;
  }

  /** Whether messages may hold several events (and carry the properties of a range of events). */
  private get packs(): boolean {
    return this.eventsPerMessage > 1 || this.messageFormat === "compact";
  }

  /** The largest message body a batch of this size takes: a packed message leaves room for its framing. */
  private largestBodyInBytes(batchSizeInBytes: number): number {
    return this.packs ? Math.max(batchSizeInBytes - PACKED_MESSAGE_OVERHEAD_IN_BYTES, 1) : batchSizeInBytes;
  }

  /**
   * The largest event that fits a message: packed alone, it still needs its array brackets; compact, its shared
   * record and a comma too, uncompressed (encodeBodies adds the shared record's size).
   */
  private largestEventInBytes(batchSizeInBytes: number): number {
    const largestBody = this.largestBodyInBytes(batchSizeInBytes);
    if (this.messageFormat === "compact") return largestGzipInput(largestBody) - "[,]".length;
    return largestBody - (this.packs ? "[]".length : 0);
  }

  private createBatch(partitionKey: string | undefined): Promise<EventDataBatch> {
    const options = {
      ...(partitionKey !== undefined ? { partitionKey } : {}),
      ...(this.maxBatchSizeInBytes !== undefined ? { maxSizeInBytes: this.maxBatchSizeInBytes } : {}),
    };
    return this.withRetries(`create a batch for Event Hub '${this.eventHubName}'`, () =>
      this.producer.createBatch(options),
    );
  }

  private async sendBatch(batch: EventDataBatch, eventCount: number, sent: SendTotals): Promise<void> {
    const what =
      `send a batch of ${batch.count} messages (${batch.sizeInBytes} bytes) ` + `to Event Hub '${this.eventHubName}'`;
    await this.withRetries(what, () => {
      disableNagle(this.producer); // the batch goes whole, not its tail after a delayed ACK (producerSocket.ts)
      return this.producer.sendBatch(batch);
    });
    for (const totals of [sent, this.totals]) {
      totals.batchesSent += 1;
      totals.messagesSent += batch.count;
      totals.eventsSent += eventCount;
      totals.bytesSent += batch.sizeInBytes;
    }
  }

  /** The SDK already retried transient errors; a few more spaced attempts ride out longer throttling. */
  private async withRetries<T>(what: string, operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        const retryable = isTransient(error);
        if (!retryable || attempt >= this.maxAttempts) {
          const failure = new ServiceError(
            `Event Hubs: could not ${what} (attempt ${attempt} of ${this.maxAttempts}): ${describe(error)}`,
            { retryable, cause: error },
          );
          logFailure("Event Hubs send failed; the checkpoint must not advance", failure);
          throw failure;
        }
        const delayInMs = backoffDelayInMs(attempt, this.delayInMs, this.maxDelayInMs);
        logger.warning(
          `Event Hubs: could not ${what} (attempt ${attempt}): ${describe(error)}; retrying in ${delayInMs} ms`,
        );
        await sleep(delayInMs);
      }
    }
  }
}

function emptyTotals(): SendTotals {
  return { messagesSent: 0, eventsSent: 0, batchesSent: 0, bytesSent: 0 };
}

/** What a batch takes: EventData, or the raw AMQP message the SDK also accepts (for content-encoding). */
type BatchMessage = Parameters<EventDataBatch["tryAdd"]>[0];

function toEventData(message: OutgoingMessage, partitionKey: string | undefined): BatchMessage {
  const packed = message.eventCount > 1;
  const messageId = packed ? `${message.firstId}..${message.lastId}` : message.firstId;
  const properties = packed
    ? {
        [FLOWTAP_EVENT_ID_PROPERTY]: message.firstId,
        [FLOWTAP_LAST_EVENT_ID_PROPERTY]: message.lastId,
        [FLOWTAP_EVENT_COUNT_PROPERTY]: message.eventCount,
        [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION,
      }
    : {
        [FLOWTAP_EVENT_ID_PROPERTY]: message.firstId,
        [FLOWTAP_EVENT_COUNT_PROPERTY]: 1,
        [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION,
      };
  // Bytes, so the SDK sends them as they are (it would JSON-encode a string again).
  if (!message.compact) return { body: message.body, contentType: CONTENT_TYPE, messageId, properties };
  // EventData has no content-encoding: the raw message says gzip, with what the SDK writes for EventData.
  return {
    body: message.body,
    bodyType: "data",
    ...(partitionKey !== undefined && {
      header: { durable: true },
      messageAnnotations: { [PARTITION_KEY_ANNOTATION]: partitionKey },
    }),
    properties: { messageId, contentType: CONTENT_TYPE, contentEncoding: COMPACT_CONTENT_ENCODING },
    applicationProperties: { ...properties, [FLOWTAP_MESSAGE_FORMAT_PROPERTY]: "compact" },
  };
}

/**
 * The most bytes whose gzip never exceeds `sizeInBytes`: zlib's compressBound (zlib compress.c: n + n/4096 +
 * n/16384 + n/33554432 + 13) plus gzip's 18-byte header and trailer (RFC 1952), taken at `sizeInBytes` (it only grows).
 */
function largestGzipInput(sizeInBytes: number): number {
  const overhead = (sizeInBytes >> 12) + (sizeInBytes >> 14) + Math.floor(sizeInBytes / 33_554_432) + 13 + 18;
  return Math.max(sizeInBytes - overhead, 1);
}

/**
 * Each event's body as UTF-8 bytes (encoded once); throws, naming the event, if one can never fit a message or
 * (compact) has no shared record.
 */
function encodeBodies(
  events: readonly (SinkEvent | SinkEventBytes)[],
  maxSizeInBytes: number,
  format: MessageFormat,
): Buffer[] {
  const bodies = new Array<Buffer>(events.length);
  for (let index = 0; index < events.length; index++) {
    const shared = (events[index] as SinkEventBytes).shared;
    if (format === "compact" && shared === undefined) throw withoutSharedRecord(events[index]!.id);
    const text = events[index]!.body;
    const body =
      typeof text === "string"
        ? Buffer.from(text, "utf8")
        : Buffer.isBuffer(text)
          ? text
          : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    const sizeInBytes = body.byteLength + (format === "compact" ? shared!.body.byteLength : 0);
    if (sizeInBytes > maxSizeInBytes) {
      const error = new ValidationError(
        `Event ${events[index]!.id} is ${sizeInBytes} bytes: more than the ${maxSizeInBytes} bytes a message ` +
          `can take on this Event Hubs link; nothing was sent`,
      );
      logFailure("Event Hubs send refused", error);
      throw error;
    }
    bodies[index] = body;
  }
  return bodies;
}

function withoutSharedRecord(id: string): ValidationError {
  const error = new ValidationError(
    `Event ${id} has no shared record, which FLOWTAP_MESSAGE_FORMAT=compact sends with it (encode it with the ` +
      `sink's encode); nothing was sent`,
  );
  logFailure("Event Hubs send refused", error);
  return error;
}

/** `[a,b,...]` of bodies[start..end) in one allocation of the `sizeInBytes` it comes to. */
function jsonArrayOf(bodies: readonly Buffer[], start: number, end: number, sizeInBytes: number): Buffer {
  const array = Buffer.allocUnsafe(sizeInBytes);
  array[0] = 0x5b; // [
  let offset = 1;
  for (let index = start; index < end; index++) {
    if (index > start) array[offset++] = 0x2c; // ,
    // TypedArray set: Buffer's copy checks its arguments and makes a view first (per body, per message).
    array.set(bodies[index]!, offset);
    offset += bodies[index]!.byteLength;
  }
  array[offset] = 0x5d; // ]
  return array;
}

function tooLarge(message: OutgoingMessage, batch: EventDataBatch): ValidationError {
  const ids =
    message.eventCount === 1 ? `Event ${message.firstId}` : `Message of events ${message.firstId}..${message.lastId}`;
  const error = new ValidationError(
    `${ids} is ${message.body.byteLength} bytes and does not fit an empty Event Hubs batch ` +
      `(limit ${batch.maxSizeInBytes} bytes with framing)`,
  );
  logFailure("Event Hubs send refused", error);
  return error;
}

/** MessagingError (and its translations of connection loss, timeouts, ServerBusy) says whether a retry can help. */
function isTransient(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === true;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === "string" ? ` (${code})` : ""}: ${error.message}`;
}
