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
import { prepareMessages, sendOneByOne, sendWithBareSdk, type PreparedMessage, type SendRun } from "./senders";

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
}

let events: SinkEventBytes[] = [];
let connectionStrings: Readonly<Record<string, string>> = {};
const producers = new Map<string, EventHubProducerClient>();
const sinks = new Map<string, EventHubsSink>();
const messagesByFormat = new Map<number, PreparedMessage[]>();

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

function messagesFor(eventsPerMessage: number): PreparedMessage[] {
  let messages = messagesByFormat.get(eventsPerMessage);
  if (!messages) messagesByFormat.set(eventsPerMessage, (messages = prepareMessages(events, eventsPerMessage)));
  return messages;
}

/** The blobs' events as processRange sends them: encoded bytes, partition key = MAC. */
async function prepare(request: Extract<SenderRequest, { kind: "prepare" }>): Promise<SenderReply> {
  connectionStrings = request.eventHubs;
  const service = BlobServiceClient.fromConnectionString(request.storageConnectionString);
  events = [];
  messagesByFormat.clear();
  for (const blob of request.blobs) {
    const bytes = await service.getContainerClient(blob.container).getBlobClient(blob.path).downloadToBuffer();
    for (const record of flattenFlowLog(bytes, { blobPath: `${blob.container}/${blob.path}` }).records) {
      for (const event of record.events)
        events.push({ id: event.id, body: encodeEventBytes(event), partitionKey: event.mac ?? undefined });
    }
  }
  return { events: events.length };
}

async function handle(request: SenderRequest): Promise<SenderReply> {
  switch (request.kind) {
    case "prepare":
      return prepare(request);
    case "ceiling": {
      const all = messagesFor(request.eventsPerMessage);
      const messages = all.slice(0, Math.ceil((request.eventLimit ?? events.length) / request.eventsPerMessage));
      const run = await sendWithBareSdk(producerFor(request.hub), messages, request.concurrency);
      return { ...run, events: messages.reduce((sum, message) => sum + message.eventCount, 0) };
    }
    case "sink": {
      const start = performance.now();
      const totals = await sinkFor(request.hub, request.eventsPerMessage).send(events);
      return { elapsedInMs: performance.now() - start, batches: totals.batchesSent, events: events.length };
    }
    case "perTuple": {
      const sample = messagesFor(1).slice(0, request.sampleSize);
      return { ...(await sendOneByOne(producerFor(request.hub), sample)), events: sample.length };
    }
  }
}

serveBenchRequests<SenderRequest, SenderReply>(handle, async () => {
  await Promise.all([...producers.values(), ...sinks.values()].map((client) => client.close()));
});
