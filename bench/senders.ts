/**
 * The ways of sending that flowtap's sending is compared with, on events encoded before timing:
 * - the ceiling: the bare @azure/event-hubs SDK as any user must drive it (`createBatch`, `tryAdd`
 *   of each message, `sendBatch`), with `concurrency` batches in flight; the messages carry the
 *   exact bodies and properties the sink sends;
 * - the seed script's pattern: one awaited `sendBatch` of one event per tuple.
 * The encoded events are held in a few large objects (one buffer of all bodies, offsets, ids), not
 * hundreds of thousands of small ones: a big heap of small objects would slow every garbage
 * collection of the sender, a cost the ingestion (which holds about 1 MB of events) never pays.
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

/** Encoded events: event i's body is `bytes[ends[i - 1] ?? 0, ends[i])`. */
export interface PreparedEvents {
  bytes: Buffer;
  ends: Uint32Array;
  ids: string[];
  partitionKeys: Array<string | undefined>;
}

/** Events grouped into messages as the sink groups them: consecutive events of one key, up to N at a time. */
export interface MessagePlan {
  /** The first event of each message, then the event count. */
  starts: Uint32Array;
  /** N > 1: each message's JSON-array body, built before timing; N = 1: views of the event's bytes. */
  packedBodies: Buffer[] | undefined;
}

export function prepareEvents(events: readonly SinkEventBytes[]): PreparedEvents {
  const ends = new Uint32Array(events.length);
  let end = 0;
  events.forEach((event, index) => (ends[index] = end += event.body.byteLength));
  return {
    bytes: Buffer.concat(events.map((event) => event.body)),
    ends,
    ids: events.map((event) => event.id),
    partitionKeys: events.map((event) => event.partitionKey),
  };
}

const bodyOf = (events: PreparedEvents, index: number): Buffer =>
  events.bytes.subarray(index === 0 ? 0 : events.ends[index - 1], events.ends[index]);

/** Consecutive events of one key, `eventsPerMessage` at a time (fewer at a key change). */
export function planMessages(events: PreparedEvents, eventsPerMessage: number): MessagePlan {
  const starts: number[] = [];
  const count = events.ids.length;
  for (let index = 0; index < count; index++) {
    const start = starts[starts.length - 1];
    if (
      start === undefined ||
      index - start === eventsPerMessage ||
      events.partitionKeys[start] !== events.partitionKeys[index]
    )
      starts.push(index);
  }
  starts.push(count);
  const plan = { starts: Uint32Array.from(starts), packedBodies: undefined };
  if (eventsPerMessage === 1) return plan;
  const packedBodies = starts.slice(0, -1).map((start, message) => {
    const parts: Buffer[] = [OPEN];
    for (let index = start; index < starts[message + 1]!; index++)
      parts.push(...(index > start ? [COMMA, bodyOf(events, index)] : [bodyOf(events, index)]));
    return Buffer.concat([...parts, CLOSE]);
  });
  return { ...plan, packedBodies };
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

export const messageCountOf = (plan: MessagePlan): number => plan.starts.length - 1;

/** The EventData our sink sends for message `message` (same body bytes, ids, count and schema properties). */
export function eventDataAt(events: PreparedEvents, plan: MessagePlan, message: number): EventData {
  const first = plan.starts[message]!;
  const count = plan.starts[message + 1]! - first;
  const firstId = events.ids[first]!;
  if (count === 1) {
    return {
      body: bodyOf(events, first),
      contentType: "application/json",
      messageId: firstId,
      properties: {
        [FLOWTAP_EVENT_ID_PROPERTY]: firstId,
        [FLOWTAP_EVENT_COUNT_PROPERTY]: 1,
        [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION,
      },
    };
  }
  const lastId = events.ids[first + count - 1]!;
  return {
    body: plan.packedBodies![message]!,
    contentType: "application/json",
    messageId: `${firstId}..${lastId}`,
    properties: {
      [FLOWTAP_EVENT_ID_PROPERTY]: firstId,
      [FLOWTAP_LAST_EVENT_ID_PROPERTY]: lastId,
      [FLOWTAP_EVENT_COUNT_PROPERTY]: count,
      [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION,
    },
  };
}

export interface SendRun {
  elapsedInMs: number;
  batches: number;
  /** Events in the messages sent. */
  events: number;
}

/**
 * The ceiling: the first `messageLimit` messages, each built (`EventData` over its encoded body) and
 * added with `tryAdd` to batches from `createBatch` (one partition key each, filled to the link's
 * limit), sent with at most `concurrency` batches in flight; all of it timed.
 */
export async function sendWithBareSdk(
  producer: EventHubProducerClient,
  events: PreparedEvents,
  plan: MessagePlan,
  concurrency: number,
  messageLimit: number = messageCountOf(plan),
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
  const messageCount = Math.min(messageLimit, messageCountOf(plan));
  let batch: EventDataBatch | undefined;
  for (let message = 0; message < messageCount; message++) {
    const data = eventDataAt(events, plan, message);
    const partitionKey = events.partitionKeys[plan.starts[message]!];
    if (batch && batch.partitionKey === partitionKey && batch.tryAdd(data)) continue;
    if (batch && batch.count > 0) await send(batch);
    batch = await producer.createBatch(partitionKey === undefined ? {} : { partitionKey });
    if (!batch.tryAdd(data)) throw new Error(`message ${message} does not fit an empty batch`);
  }
  if (batch && batch.count > 0) await send(batch);
  await Promise.all(inFlight);
  return { elapsedInMs: performance.now() - start, batches, events: plan.starts[messageCount]! };
}

/** The seed script's pattern: one awaited send of one event per tuple, for the first `sampleSize` events. */
export async function sendOneByOne(
  producer: EventHubProducerClient,
  events: PreparedEvents,
  sampleSize: number,
): Promise<SendRun> {
  const count = Math.min(sampleSize, events.ids.length);
  const single: MessagePlan = {
    starts: Uint32Array.from({ length: count + 1 }, (_, index) => index),
    packedBodies: undefined,
  };
  const start = performance.now();
  for (let message = 0; message < count; message++) {
    const partitionKey = events.partitionKeys[message];
    await producer.sendBatch(
      [eventDataAt(events, single, message)],
      partitionKey === undefined ? {} : { partitionKey },
    );
  }
  return { elapsedInMs: performance.now() - start, batches: count, events: count };
}

/** The events `[start, end)` as the sink takes them (built while timing, as processRange builds them). */
export function sinkEventsOf(events: PreparedEvents, start: number, end: number): SinkEventBytes[] {
  const chunk: SinkEventBytes[] = [];
  for (let index = start; index < end; index++) {
    const partitionKey = events.partitionKeys[index];
    chunk.push({
      id: events.ids[index]!,
      body: bodyOf(events, index),
      ...(partitionKey !== undefined && { partitionKey }),
    });
  }
  return chunk;
}
