/**
 * Event Hubs figures on the local AMQP endpoint: its ceiling (pre-built batches of pre-encoded
 * events sent with the bare SDK, nothing else in the loop), our sink adapter against that ceiling,
 * and the seed script's pattern (one awaited send per tuple), timed on a small sample.
 */
import { EventHubProducerClient, type EventData, type EventDataBatch } from "@azure/event-hubs";
import { performance } from "node:perf_hooks";
import { createEventHubsSink, FLOWTAP_EVENT_COUNT_PROPERTY, FLOWTAP_EVENT_ID_PROPERTY, FLOWTAP_SCHEMA_VERSION_PROPERTY, type SinkEvent } from "../src/adapters/eventHubsSink";
import type { EventHubSettings } from "../src/config";
import { encodeEvent, EVENT_SCHEMA_VERSION, flattenFlowLog } from "../src/core";
import { generateInMemoryCorpus } from "./corpus";
import { measured, type BenchFigure } from "./report";

export interface EventHubsBenchOptions {
  /** Hub name → connection string of the endpoint (hubs `ceiling`, `sink`, `pertuple`). */
  connectionStrings: Readonly<Record<string, string>>;
  /** Events sent for the ceiling and for the sink. */
  eventCount: number;
  /** Tuples sent one by one for the per-tuple pattern (extrapolated to tuples/s). */
  perTupleSampleSize: number;
  /** Batches in flight for the concurrent ceiling run. */
  ceilingConcurrency: number;
}

/** Tuples per second of each way of sending, measured in this run. */
export interface EventHubsRates {
  ceilingTuplesPerSecond: number;
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

/** The EventData our sink sends for one event (same body bytes, id, count and schema properties). */
function eventDataOf(event: SinkEvent): EventData {
  return {
    body: Buffer.from(event.body, "utf8"),
    contentType: "application/json",
    messageId: event.id,
    properties: { [FLOWTAP_EVENT_ID_PROPERTY]: event.id, [FLOWTAP_EVENT_COUNT_PROPERTY]: 1, [FLOWTAP_SCHEMA_VERSION_PROPERTY]: EVENT_SCHEMA_VERSION },
  };
}

/** Full batches, one partition key each, built before any timing starts. */
async function prebuiltBatches(producer: EventHubProducerClient, events: readonly SinkEvent[]): Promise<EventDataBatch[]> {
  const batches: EventDataBatch[] = [];
  let batch: EventDataBatch | undefined;
  for (const event of events) {
    const data = eventDataOf(event);
    if (!batch || batch.partitionKey !== event.partitionKey || !batch.tryAdd(data)) {
      if (batch && batch.count > 0) batches.push(batch);
      batch = await producer.createBatch(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey });
      if (!batch.tryAdd(data)) throw new Error(`event ${event.id} does not fit an empty batch`);
    }
  }
  if (batch && batch.count > 0) batches.push(batch);
  return batches;
}

/** Sends the batches with at most `concurrency` in flight; returns the elapsed milliseconds. */
async function sendAll(producer: EventHubProducerClient, batches: readonly EventDataBatch[], concurrency: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) await producer.sendBatch(batches[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}

function settingsFor(connectionString: string, hub: string): EventHubSettings {
  return {
    connection: { kind: "connectionString", connectionString },
    eventHubName: hub,
    alertsEventHubName: hub,
    partitionKey: "mac",
    eventsPerMessage: 1,
    maxBatchSizeInBytes: undefined,
  };
}

export const EVENT_HUBS_BENCH_HUBS = { ceiling: "ceiling", sink: "sink", perTuple: "pertuple" } as const;

export async function runEventHubsBench(options: EventHubsBenchOptions): Promise<{ figures: BenchFigure[]; rates: EventHubsRates }> {
  const hubs = EVENT_HUBS_BENCH_HUBS;
  const connectionString = (hub: string): string => {
    const value = options.connectionStrings[hub];
    if (value === undefined) throw new Error(`no connection string for hub '${hub}'`);
    return value;
  };
  const events = encodedSinkEvents(options.eventCount);
  const bytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.body), 0);
  const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

  // Ceiling: one sequential run and one with several batches in flight; the faster one counts.
  const producer = new EventHubProducerClient(connectionString(hubs.ceiling));
  let sequentialInMs: number;
  let concurrentInMs: number;
  let batchCount: number;
  try {
    await sendAll(producer, await prebuiltBatches(producer, events.slice(0, Math.min(events.length, 2000))), 1); // warm-up: link open, JIT
    const half = Math.floor(events.length / 2);
    const sequentialBatches = await prebuiltBatches(producer, events.slice(0, half));
    sequentialInMs = await sendAll(producer, sequentialBatches, 1);
    const concurrentBatches = await prebuiltBatches(producer, events.slice(half));
    concurrentInMs = await sendAll(producer, concurrentBatches, options.ceilingConcurrency);
    batchCount = sequentialBatches.length + concurrentBatches.length;
  } finally {
    await producer.close();
  }
  const half = Math.floor(events.length / 2);
  const sequentialRate = perSecond(half, sequentialInMs);
  const concurrentRate = perSecond(events.length - half, concurrentInMs);
  const ceiling = Math.max(sequentialRate, concurrentRate);

  // Our sink adapter on the same events (it sends batch after batch, in order).
  const sink = createEventHubsSink(settingsFor(connectionString(hubs.sink), hubs.sink));
  let sinkInMs: number;
  try {
    await sink.send(events.slice(0, Math.min(events.length, 2000))); // warm-up
    const start = performance.now();
    await sink.send(events);
    sinkInMs = performance.now() - start;
  } finally {
    await sink.close();
  }
  const sinkRate = perSecond(events.length, sinkInMs);

  // The seed script's pattern: one awaited send per tuple.
  const single = new EventHubProducerClient(connectionString(hubs.perTuple));
  let perTupleInMs: number;
  const sample = events.slice(0, options.perTupleSampleSize);
  try {
    await single.sendBatch([eventDataOf(sample[0]!)]); // link open
    const start = performance.now();
    for (const event of sample) {
      await single.sendBatch([eventDataOf(event)], event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey });
    }
    perTupleInMs = performance.now() - start;
  } finally {
    await single.close();
  }
  const perTupleRate = perSecond(sample.length, perTupleInMs);

  const figures: BenchFigure[] = [
    measured({
      id: "eventhubs.ceiling",
      label: "Event Hubs ceiling (bare SDK, pre-built batches)",
      value: ceiling,
      unit: "tuples/s",
      details: {
        events: events.length,
        eventBytes: bytes,
        batches: batchCount,
        sequentialTuplesPerSecond: sequentialRate,
        concurrentTuplesPerSecond: concurrentRate,
        concurrency: options.ceilingConcurrency,
        megabytesPerSecond: (ceiling * bytes) / events.length / 1e6,
      },
      note: `local rhea endpoint in its own process (events not retained), ${BENCH_PARTITION_COUNT} partitions, key = MAC; the faster of sequential and ${options.ceilingConcurrency} batches in flight`,
    }),
    measured({
      id: "eventhubs.sink",
      label: "Event Hubs sink adapter (encoded events)",
      value: sinkRate,
      unit: "tuples/s",
      ratio: { value: sinkRate / ceiling, against: "ceiling" },
      details: { events: events.length },
    }),
    measured({
      id: "eventhubs.perTuple",
      label: "one send per tuple (seed script pattern)",
      value: perTupleRate,
      unit: "tuples/s",
      details: { sampleTuples: sample.length, sampleInMs: perTupleInMs, ceilingOverPerTuple: ceiling / perTupleRate },
      note: `measured on ${sample.length} tuples sent one awaited send at a time, extrapolated as a constant rate`,
    }),
  ];
  return { figures, rates: { ceilingTuplesPerSecond: ceiling, perTupleTuplesPerSecond: perTupleRate } };
}
