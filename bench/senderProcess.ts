/**
 * Child process: the sending sides flowtap's figures are compared with, on the events of blobs in
 * Blob storage, flattened and encoded (as processRange encodes them) once, before any timing:
 * the bare-SDK ceiling, our sink adapter alone, and one awaited send per tuple. It stays up across
 * repetitions, so its links are open and its code warm, as the ingestion child's are.
 */
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobServiceClient } from "@azure/storage-blob";
import { createEventHubsSink, type EventHubsSink, type SinkEventBytes } from "../src/adapters/eventHubsSink";
import { encodeEventBytes, flattenFlowLog } from "../src/core";
import { serveBenchRequests } from "./childProcess";
import { SEND_CHUNK_SIZE_IN_BYTES } from "../activities/rangeSender";
import {
  planMessages,
  prepareEvents,
  sendOneByOne,
  sendWithBareSdk,
  sinkEventsOf,
  type MessagePlan,
  type PreparedEvents,
  type SendRun,
} from "./senders";

export type SenderRequest =
  | {
      kind: "prepare";
      storageConnectionString: string;
      blobs: ReadonlyArray<{ container: string; path: string }>;
      /** Hub name → connection string. */
      eventHubs: Readonly<Record<string, string>>;
    }
  | {
      kind: "ceiling";
      hub: string;
      eventsPerMessage: number;
      concurrency: number;
      /** Only the first messages holding about this many events (calibration); default all. */
      eventLimit?: number;
    }
  | { kind: "sink"; hub: string; eventsPerMessage: number }
  | { kind: "perTuple"; hub: string; sampleSize: number };

export interface SenderReply extends Partial<SendRun> {
  /** Events sent (prepare: events prepared). */
  events: number;
  /** CPU time this process used for the request (user + system). */
  cpuTimeInMs?: number;
}

let events: PreparedEvents = prepareEvents([]);
let connectionStrings: Readonly<Record<string, string>> = {};
const producers = new Map<string, EventHubProducerClient>();
const sinks = new Map<string, EventHubsSink>();
const plans = new Map<number, MessagePlan>();

function connectionString(hub: string): string {
  const value = connectionStrings[hub];
  if (value === undefined) throw new Error(`no connection string for hub '${hub}'`);
  return value;
}

function producerFor(hub: string): EventHubProducerClient {
  let producer = producers.get(hub);
  if (!producer) producers.set(hub, (producer = new EventHubProducerClient(connectionString(hub))));
  return producer;
}

function sinkFor(hub: string, eventsPerMessage: number): EventHubsSink {
  const key = `${hub}/${eventsPerMessage}`;
  let sink = sinks.get(key);
  if (!sink) {
    sink = createEventHubsSink({
      connection: { kind: "connectionString", connectionString: connectionString(hub) },
      eventHubName: hub,
      alertsEventHubName: hub,
      partitionKey: "mac",
      eventsPerMessage,
      maxBatchSizeInBytes: undefined,
    });
    sinks.set(key, sink);
  }
  return sink;
}

function planFor(eventsPerMessage: number): MessagePlan {
  let plan = plans.get(eventsPerMessage);
  if (!plan) plans.set(eventsPerMessage, (plan = planMessages(events, eventsPerMessage)));
  return plan;
}

/**
 * Our sink on the events, handed over in chunks of about 1 MB as processRange's RangeSender hands
 * them (each chunk built while the one before is on the wire).
 */
async function sendThroughSink(sink: EventHubsSink): Promise<SendRun> {
  const start = performance.now();
  let batches = 0;
  let previous: Promise<unknown> = Promise.resolve();
  const count = events.ids.length;
  for (let first = 0; first < count;) {
    const chunkStart = first === 0 ? 0 : events.ends[first - 1]!;
    let end = first + 1;
    while (end < count && events.ends[end - 1]! - chunkStart < SEND_CHUNK_SIZE_IN_BYTES) end++;
    const sending = sink.send(sinkEventsOf(events, first, end)).then((totals) => (batches += totals.batchesSent));
    await previous;
    previous = sending;
    first = end;
  }
  await previous;
  return { elapsedInMs: performance.now() - start, batches, events: count };
}

/** The blobs' events as processRange sends them: encoded bytes, partition key = MAC. */
async function prepare(request: Extract<SenderRequest, { kind: "prepare" }>): Promise<SenderReply> {
  connectionStrings = request.eventHubs;
  const service = BlobServiceClient.fromConnectionString(request.storageConnectionString);
  const encoded: SinkEventBytes[] = [];
  plans.clear();
  for (const blob of request.blobs) {
    const bytes = await service.getContainerClient(blob.container).getBlobClient(blob.path).downloadToBuffer();
    for (const record of flattenFlowLog(bytes, { blobPath: `${blob.container}/${blob.path}` }).records) {
      for (const event of record.events)
        encoded.push({ id: event.id, body: encodeEventBytes(event), partitionKey: event.mac ?? undefined });
    }
  }
  events = prepareEvents(encoded);
  return { events: events.ids.length };
}

async function handle(request: SenderRequest): Promise<SenderReply> {
  switch (request.kind) {
    case "prepare":
      return prepare(request);
    case "ceiling": {
      const plan = planFor(request.eventsPerMessage);
      const limit = Math.ceil((request.eventLimit ?? events.ids.length) / request.eventsPerMessage);
      return sendWithBareSdk(producerFor(request.hub), events, plan, request.concurrency, limit);
    }
    case "sink":
      return sendThroughSink(sinkFor(request.hub, request.eventsPerMessage));
    case "perTuple":
      return sendOneByOne(producerFor(request.hub), events, request.sampleSize);
  }
}

/** The reply with the CPU the request used: what a side costs does not depend on how busy the machine is. */
async function handleTimed(request: SenderRequest): Promise<SenderReply> {
  const cpuAtStart = process.cpuUsage();
  const reply = await handle(request);
  const cpu = process.cpuUsage(cpuAtStart);
  return { ...reply, cpuTimeInMs: (cpu.user + cpu.system) / 1000 };
}

serveBenchRequests<SenderRequest, SenderReply>(handleTimed, async () => {
  await Promise.all([...producers.values(), ...sinks.values()].map((client) => client.close()));
});
