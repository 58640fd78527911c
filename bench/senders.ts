/**
 * The ways of sending that flowtap's sending is compared with, on events encoded before timing:
 * - the ceiling: the bare @azure/event-hubs SDK as any user must drive it (`createBatch`, `tryAdd`
 *   of each message, `sendBatch`), with `concurrency` batches in flight; the messages carry the
 *   exact bodies and properties the sink sends, built before timing;
 * - the seed script's pattern: one awaited `sendBatch` of one event per tuple.
 */
import type { EventData, EventDataBatch, EventHubProducerClient } from "@azure/event-hubs";
import { performance } from "node:perf_hooks";
import {
  FLOWTAP_EVENT_COUNT_PROPERTY,
  FLOWTAP_EVENT_ID_PROPERTY,
  FLOWTAP_LAST_EVENT_ID_PROPERTY,
  FLOWTAP_SCHEMA_VERSION_PROPERTY,
  type SinkEventBytes,
} from "../src/adapters/eventHubsSink";
import { EVENT_SCHEMA_VERSION } from "../src/core";

/** One message as the sink sends it, built before timing, with its partition key. */
export interface PreparedMessage {
  data: EventData;
  partitionKey: string | undefined;
  eventCount: number;
}

/** The EventData our sink sends for consecutive events of one key (same body bytes, ids, count and schema). */
export function eventDataOf(events: readonly SinkEventBytes[]): EventData {
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const packed = events.length > 1;
  const parts: Uint8Array[] = [OPEN];
  events.forEach((event, index) => parts.push(...(index > 0 ? [COMMA, event.body] : [event.body])));
  return {
    body: packed ? Buffer.concat([...parts, CLOSE]) : Buffer.from(first.body),
    contentType: "application/json",
    messageId: packed ? `${first.id}..${last.id}` : first.id,
    properties: {
      [FLOWTAP_EVENT_ID_PROPERTY]: first.id,
      ...(packed ? { [FLOWTAP_LAST_EVENT_ID_PROPERTY]: last.id } : {}),
      [FLOWTAP_EVENT_COUNT_PROPERTY]: events.length,
      [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION,
    },
  };
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

/** Consecutive events of one key, `eventsPerMessage` at a time (fewer at a key change), as messages. */
export function prepareMessages(events: readonly SinkEventBytes[], eventsPerMessage: number): PreparedMessage[] {
  const messages: PreparedMessage[] = [];
  let current: SinkEventBytes[] = [];
  const close = (): void => {
    if (current.length > 0)
      messages.push({ data: eventDataOf(current), partitionKey: current[0]!.partitionKey, eventCount: current.length });
    current = [];
  };
  for (const event of events) {
    if (current.length === eventsPerMessage || (current.length > 0 && current[0]!.partitionKey !== event.partitionKey))
      close();
    current.push(event);
  }
  close();
  return messages;
}

export interface SendRun {
  elapsedInMs: number;
  batches: number;
}

/**
 * The ceiling: batches built with `createBatch` + `tryAdd` (one partition key each, filled to the
 * link's limit) and sent with at most `concurrency` in flight, all timed.
 */
export async function sendWithBareSdk(
  producer: EventHubProducerClient,
  messages: readonly PreparedMessage[],
  concurrency: number,
): Promise<SendRun> {
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let batches = 0;
  const send = async (batch: EventDataBatch): Promise<void> => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const sending: Promise<void> = producer.sendBatch(batch).then(() => void inFlight.delete(sending));
    inFlight.add(sending);
    batches++;
  };
  let batch: EventDataBatch | undefined;
  for (const message of messages) {
    if (batch && batch.partitionKey === message.partitionKey && batch.tryAdd(message.data)) continue;
    if (batch && batch.count > 0) await send(batch);
    batch = await producer.createBatch(
      message.partitionKey === undefined ? {} : { partitionKey: message.partitionKey },
    );
    if (!batch.tryAdd(message.data)) throw new Error("a message does not fit an empty batch");
  }
  if (batch && batch.count > 0) await send(batch);
  await Promise.all(inFlight);
  return { elapsedInMs: performance.now() - start, batches };
}

/** The seed script's pattern: one awaited send of one event per tuple. */
export async function sendOneByOne(
  producer: EventHubProducerClient,
  messages: readonly PreparedMessage[],
): Promise<SendRun> {
  const start = performance.now();
  for (const message of messages) {
    await producer.sendBatch(
      [message.data],
      message.partitionKey === undefined ? {} : { partitionKey: message.partitionKey },
    );
  }
  return { elapsedInMs: performance.now() - start, batches: messages.length };
}
