/**
 * Event Hubs figures on the local AMQP endpoint: its ceiling (pre-built batches of pre-encoded
 * events sent with the bare SDK, nothing else in the loop), our sink adapter against that ceiling,
 * and the seed script's pattern (one awaited send per tuple), timed on a small sample.
 */
import { EventHubProducerClient, type EventData, type EventDataBatch } from "@azure/event-hubs";
import { performance } from "node:perf_hooks";
import {
  createEventHubsSink,
  FLOWTAP_EVENT_COUNT_PROPERTY,
  FLOWTAP_EVENT_ID_PROPERTY,
  FLOWTAP_LAST_EVENT_ID_PROPERTY,
  FLOWTAP_SCHEMA_VERSION_PROPERTY,
  type SinkEvent,
} from "../src/adapters/eventHubsSink";
import type { EventHubSettings } from "../src/config";
import { encodeEvent, EVENT_SCHEMA_VERSION, flattenFlowLog } from "../src/core";
import { generateInMemoryCorpus } from "./corpus";
import { measured, type BenchFigure } from "./report";

export interface EventHubsBenchOptions {
  /** Hub name → connection string of the endpoint (hubs `ceiling`, `sink`, `pertuple`). */
  connectionStrings: Readonly<Record<string, string>>;
  /** Events sent for each ceiling and sink run. */
  eventCount: number;
  /** Tuples sent one by one for the per-tuple pattern (extrapolated to tuples/s). */
  perTupleSampleSize: number;
  /** Batches in flight for the concurrent ceiling run. */
  ceilingConcurrency: number;
  /** Message formats measured: events per message (1 = the app's default; above 1: JSON arrays). */
  eventsPerMessage: readonly number[];
}

/** Tuples per second of each way of sending, measured in this run. */
export interface EventHubsRates {
  /** Events per message → the ceiling in that message format. */
  ceilingTuplesPerSecond: ReadonlyMap<number, number>;
  perTupleTuplesPerSecond: number;
}

export const BENCH_PARTITION_COUNT = 4;

/** Enough generated tuples, flattened and encoded: the sink's input, partition key = MAC. */
export function encodedSinkEvents(count: number): SinkEvent[] {
  // ≈ 62-70 bytes per tuple in the blob: ask for a little more than needed, cut to `count`.
  const blobs = generateInMemoryCorpus(Math.max(count * 80, 64 * 1024), 4 * 1024 * 1024);
  const events: SinkEvent[] = [];
  for (const blob of blobs) {
    for (const record of flattenFlowLog(blob.bytes, { blobPath: blob.name }).records) {
      for (const event of record.events) {
        if (events.length === count) return events;
        events.push({ id: event.id, body: encodeEvent(event), partitionKey: event.mac ?? undefined });
      }
    }
  }
  return events;
}

/** One message as our sink sends it: one event, or `events.length` events as a JSON array. */
interface OutgoingMessage {
  events: readonly SinkEvent[];
  partitionKey: string | undefined;
}

/** The EventData our sink sends for a message (same body bytes, ids, count and schema properties). */
function eventDataOf(message: OutgoingMessage): EventData {
  const first = message.events[0]!;
  const last = message.events[message.events.length - 1]!;
  const packed = message.events.length > 1;
  return {
    body: Buffer.from(packed ? `[${message.events.map((event) => event.body).join(",")}]` : first.body, "utf8"),
    contentType: "application/json",
    messageId: packed ? `${first.id}..${last.id}` : first.id,
    properties: {
      [FLOWTAP_EVENT_ID_PROPERTY]: first.id,
      ...(packed ? { [FLOWTAP_LAST_EVENT_ID_PROPERTY]: last.id } : {}),
      [FLOWTAP_EVENT_COUNT_PROPERTY]: message.events.length,
      [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION,
    },
  };
}

/** Consecutive events of one key, `eventsPerMessage` at a time (fewer at a key change). */
function messagesOf(events: readonly SinkEvent[], eventsPerMessage: number): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  let current: SinkEvent[] = [];
  for (const event of events) {
    if (
      current.length === eventsPerMessage ||
      (current.length > 0 && current[0]!.partitionKey !== event.partitionKey)
    ) {
      messages.push({ events: current, partitionKey: current[0]!.partitionKey });
      current = [];
    }
    current.push(event);
  }
  if (current.length > 0) messages.push({ events: current, partitionKey: current[0]!.partitionKey });
  return messages;
}

/** Full batches, one partition key each, built before any timing starts. */
async function prebuiltBatches(
  producer: EventHubProducerClient,
  events: readonly SinkEvent[],
  eventsPerMessage: number,
): Promise<EventDataBatch[]> {
  const batches: EventDataBatch[] = [];
  let batch: EventDataBatch | undefined;
  for (const message of messagesOf(events, eventsPerMessage)) {
    const data = eventDataOf(message);
    if (!batch || batch.partitionKey !== message.partitionKey || !batch.tryAdd(data)) {
      if (batch && batch.count > 0) batches.push(batch);
      batch = await producer.createBatch(
        message.partitionKey === undefined ? {} : { partitionKey: message.partitionKey },
      );
      if (!batch.tryAdd(data))
        throw new Error(`message of ${message.events.length} events does not fit an empty batch`);
    }
  }
  if (batch && batch.count > 0) batches.push(batch);
  return batches;
}

/** Sends the batches with at most `concurrency` in flight; returns the elapsed milliseconds. */
async function sendAll(
  producer: EventHubProducerClient,
  batches: readonly EventDataBatch[],
  concurrency: number,
): Promise<number> {
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) await producer.sendBatch(batches[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}

function settingsFor(connectionString: string, hub: string, eventsPerMessage: number): EventHubSettings {
  return {
    connection: { kind: "connectionString", connectionString },
    eventHubName: hub,
    alertsEventHubName: hub,
    partitionKey: "mac",
    eventsPerMessage,
    maxBatchSizeInBytes: undefined,
  };
}

export const EVENT_HUBS_BENCH_HUBS = { ceiling: "ceiling", sink: "sink", perTuple: "pertuple" } as const;

const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

/** The events of a run, split as the measures use them. */
interface BenchEvents {
  events: readonly SinkEvent[];
  /** The first events, sent before any timing (link open, JIT). */
  warmUp: readonly SinkEvent[];
  /** Where the sequential ceiling run's events end and the concurrent run's begin. */
  half: number;
}

export async function runEventHubsBench(
  options: EventHubsBenchOptions,
): Promise<{ figures: BenchFigure[]; rates: EventHubsRates }> {
  const hubs = EVENT_HUBS_BENCH_HUBS;
  const connectionString = (hub: string): string => {
    const value = options.connectionStrings[hub];
    if (value === undefined) throw new Error(`no connection string for hub '${hub}'`);
    return value;
  };
  const events = encodedSinkEvents(options.eventCount);
  const run: BenchEvents = {
    events,
    warmUp: events.slice(0, Math.min(events.length, 2000)),
    half: Math.floor(events.length / 2),
  };
  const figures: BenchFigure[] = [];
  const ceilings = new Map<number, number>();
  for (const eventsPerMessage of options.eventsPerMessage) {
    const ceiling = await measureCeiling(connectionString(hubs.ceiling), run, eventsPerMessage, options);
    ceilings.set(eventsPerMessage, ceiling.value);
    // Our sink adapter on the same events (it sends batch after batch, in order).
    const sinkRate = await measureSink(connectionString(hubs.sink), run, eventsPerMessage);
    figures.push(...formatFigures(run, eventsPerMessage, ceiling, sinkRate, options));
  }
  const perTuple = await measurePerTuple(connectionString(hubs.perTuple), events.slice(0, options.perTupleSampleSize));
  figures.push(perTuple.figure);
  return { figures, rates: { ceilingTuplesPerSecond: ceilings, perTupleTuplesPerSecond: perTuple.rate } };
}

interface CeilingMeasure {
  /** The faster of the two runs, tuples/s. */
  value: number;
  sequentialRate: number;
  concurrentRate: number;
  batchCount: number;
}

/** Ceiling: one sequential run and one with several batches in flight; the faster one counts. */
async function measureCeiling(
  connectionString: string,
  { events, warmUp, half }: BenchEvents,
  eventsPerMessage: number,
  options: EventHubsBenchOptions,
): Promise<CeilingMeasure> {
  const producer = new EventHubProducerClient(connectionString);
  try {
    await sendAll(producer, await prebuiltBatches(producer, warmUp, eventsPerMessage), 1); // link open, JIT
    const sequentialBatches = await prebuiltBatches(producer, events.slice(0, half), eventsPerMessage);
    const sequentialInMs = await sendAll(producer, sequentialBatches, 1);
    const concurrentBatches = await prebuiltBatches(producer, events.slice(half), eventsPerMessage);
    const concurrentInMs = await sendAll(producer, concurrentBatches, options.ceilingConcurrency);
    const sequentialRate = perSecond(half, sequentialInMs);
    const concurrentRate = perSecond(events.length - half, concurrentInMs);
    return {
      value: Math.max(sequentialRate, concurrentRate),
      sequentialRate,
      concurrentRate,
      batchCount: sequentialBatches.length + concurrentBatches.length,
    };
  } finally {
    await producer.close();
  }
}

/** Tuples per second of our sink adapter sending all the events. */
async function measureSink(
  connectionString: string,
  { events, warmUp }: BenchEvents,
  eventsPerMessage: number,
): Promise<number> {
  const sink = createEventHubsSink(settingsFor(connectionString, EVENT_HUBS_BENCH_HUBS.sink, eventsPerMessage));
  try {
    await sink.send(warmUp);
    const start = performance.now();
    await sink.send(events);
    return perSecond(events.length, performance.now() - start);
  } finally {
    await sink.close();
  }
}

/** The ceiling and sink figures of one message format. */
function formatFigures(
  { events }: BenchEvents,
  eventsPerMessage: number,
  ceiling: CeilingMeasure,
  sinkRate: number,
  options: EventHubsBenchOptions,
): BenchFigure[] {
  const format = eventsPerMessage === 1 ? "1 event/message" : `${eventsPerMessage} events/message`;
  const bytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.body), 0);
  const note =
    `local rhea endpoint in its own process (events checked, acknowledged, not retained), ` +
    `${BENCH_PARTITION_COUNT} partitions, key = MAC; the faster of sequential and ` +
    `${options.ceilingConcurrency} batches in flight; batches built before timing`;
  return [
    measured({
      id: `eventhubs.ceiling.${eventsPerMessage}`,
      label: `Event Hubs ceiling, ${format} (bare SDK, pre-built batches)`,
      value: ceiling.value,
      unit: "tuples/s",
      details: {
        events: events.length,
        eventBytes: bytes,
        batches: ceiling.batchCount,
        sequentialTuplesPerSecond: ceiling.sequentialRate,
        concurrentTuplesPerSecond: ceiling.concurrentRate,
        concurrency: options.ceilingConcurrency,
        megabytesPerSecond: (ceiling.value * bytes) / events.length / 1e6,
      },
      note: eventsPerMessage === options.eventsPerMessage[0] ? note : undefined,
    }),
    measured({
      id: `eventhubs.sink.${eventsPerMessage}`,
      label: `Event Hubs sink adapter, ${format}`,
      value: sinkRate,
      unit: "tuples/s",
      ratio: { value: sinkRate / ceiling.value, against: "ceiling" },
      details: { events: events.length },
    }),
  ];
}

/** The seed script's pattern: one awaited send per tuple. */
async function measurePerTuple(
  connectionString: string,
  sample: readonly SinkEvent[],
): Promise<{ rate: number; figure: BenchFigure }> {
  const single = new EventHubProducerClient(connectionString);
  let perTupleInMs: number;
  const messageOf = (event: SinkEvent): EventData => eventDataOf({ events: [event], partitionKey: event.partitionKey });
  try {
    await single.sendBatch([messageOf(sample[0]!)]); // link open
    const start = performance.now();
    for (const event of sample) {
      await single.sendBatch(
        [messageOf(event)],
        event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey },
      );
    }
    perTupleInMs = performance.now() - start;
  } finally {
    await single.close();
  }
  const rate = perSecond(sample.length, perTupleInMs);
  const figure = measured({
    id: "eventhubs.perTuple",
    label: "one send per tuple (seed script pattern)",
    value: rate,
    unit: "tuples/s",
    details: { sampleTuples: sample.length, sampleInMs: perTupleInMs },
    note: `measured on ${sample.length} tuples sent one awaited send at a time, extrapolated as a constant rate`,
  });
  return { rate, figure };
}
