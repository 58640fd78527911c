/**
 * Bytes on the wire per tuple for each flows-hub message format, against the source blob's bytes per tuple, on the
 * same corpora in the same run: the real sink sends every event of the corpus through the real client to the local
 * Event Hubs endpoint, and counts what it sent as the SDK sizes its batches (each message's body, properties and
 * AMQP framing, and the batch envelope). Sizes do not depend on the machine: one pass is exact.
 */
import { createEventHubsSink, type SinkEventBytes } from "../src/adapters/eventHubsSink";
import type { MessageFormat } from "../src/config";
import { eventsOf, flattenFlowLog, type FlowEvent } from "../src/core";
import { partitionKeyOf } from "../activities/processRange";
import { startEventHubsEndpoint } from "../devhost/eventhubs";
import { generateInMemoryCorpus, loadParsableFixtures, type InMemoryBlob } from "./corpus";
import { measured, type BenchFigure } from "./report";

export interface WireFormat {
  /** Figure id part, e.g. `compact.100`. */
  id: string;
  messageFormat: MessageFormat;
  eventsPerMessage: number;
}

/** The formats compared: the sink's settings a deployment can choose. */
export const WIRE_FORMATS: readonly WireFormat[] = [
  { id: "json.1", messageFormat: "json", eventsPerMessage: 1 },
  { id: "json.100", messageFormat: "json", eventsPerMessage: 100 },
  { id: "compact.1", messageFormat: "compact", eventsPerMessage: 1 },
  { id: "compact.100", messageFormat: "compact", eventsPerMessage: 100 },
  { id: "compact.1000", messageFormat: "compact", eventsPerMessage: 1000 },
];
/** The format whose target is recorded: compact gzip at 100 events a message at most the source's bytes. */
const TARGET_FORMAT = "compact.100";

export interface WireBenchOptions {
  /** Generated blobs, in all (NSG v2 and VNet v4 alternating, as the generator writes them). */
  generatedSizeInBytes: number;
  generatedBlobSizeInBytes: number;
  fixturesDir: string;
}

interface Corpus {
  id: string;
  label: string;
  events: FlowEvent[];
  /** Bytes of the blobs the events come from. */
  sourceBytes: number;
}

/**
 * The samples under a blob path of the service's shape for their kind, so their events carry paths and ids as long
 * as real ones (the samples' own names are short).
 */
function servicePathOf(file: string, index: number): string {
  const subscription = "/SUBSCRIPTIONS/00000000-0000-0000-0000-00000000BE4C/RESOURCEGROUPS";
  const hour = `y=2026/m=11/d=22/h=10/m=00/macAddress=000D3A${String(index).padStart(6, "0")}/PT1H.json`;
  return file.startsWith("vnet")
    ? `insights-logs-flowlogflowevent/flowLogResourceID=${subscription}/NETWORKWATCHERRG/PROVIDERS/` +
        `MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_WESTEUROPE/FLOWLOGS/FLOWLOG-${index}/${hour}`
    : `insights-logs-networksecuritygroupflowevent/resourceId=${subscription}/RG-APP/PROVIDERS/` +
        `MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-${index}/${hour}`;
}

function corpusOf(
  id: string,
  label: string,
  blobs: readonly InMemoryBlob[],
  pathOf: (blob: InMemoryBlob, index: number) => string,
): Corpus {
  const events: FlowEvent[] = [];
  let sourceBytes = 0;
  blobs.forEach((blob, index) => {
    const ofBlob = eventsOf(flattenFlowLog(blob.bytes, { blobPath: pathOf(blob, index) }));
    if (ofBlob.length === 0) return; // a sample without tuples has no bytes per tuple
    events.push(...ofBlob);
    sourceBytes += blob.bytes.byteLength;
  });
  return { id, label, events, sourceBytes };
}

/** Sends the corpus with one format's sink; bytes, messages and batches as the sink counted them. */
async function sendCorpus(connectionString: string, hub: string, corpus: Corpus, format: WireFormat) {
  const sink = createEventHubsSink({
    connection: { kind: "connectionString", connectionString },
    eventHubName: hub,
    alertsEventHubName: "alerts",
    partitionKey: "mac",
    eventsPerMessage: format.eventsPerMessage,
    maxBatchSizeInBytes: undefined,
    messageFormat: format.messageFormat,
  });
  try {
    // As processRange hands them over: the app's encoding, keyed by MAC, a block's worth of events a call.
    const events: SinkEventBytes[] = corpus.events.map((event) => ({
      id: event.id,
      ...sink.encode(event, 2),
      partitionKey: partitionKeyOf("mac", event),
    }));
    const chunk = 10_000;
    for (let start = 0; start < events.length; start += chunk) await sink.send(events.slice(start, start + chunk));
    return sink.totals;
  } finally {
    await sink.close();
  }
}

export async function runWireBench(options: WireBenchOptions): Promise<BenchFigure[]> {
  const corpora = [
    corpusOf(
      "generated",
      "generated",
      generateInMemoryCorpus(options.generatedSizeInBytes, options.generatedBlobSizeInBytes),
      (blob) => blob.name,
    ),
    corpusOf("fixtures", "fixtures", await loadParsableFixtures(options.fixturesDir), (blob, index) =>
      servicePathOf(blob.name, index),
    ),
  ];
  const hubs = corpora.flatMap((corpus) => WIRE_FORMATS.map((format) => `${corpus.id}-${format.id}`));
  const endpoint = await startEventHubsEndpoint({
    hubs: hubs.map((name) => ({ name, partitionCount: 4 })),
    retainEvents: false,
  });
  const figures: BenchFigure[] = [];
  try {
    for (const corpus of corpora) {
      const tuples = corpus.events.length;
      const sourcePerTuple = corpus.sourceBytes / tuples;
      figures.push(
        measured({
          id: `wire.${corpus.id}.source`,
          label: `wire ${corpus.label}: source blob`,
          value: sourcePerTuple,
          unit: "bytes/tuple",
          details: { sourceBytes: corpus.sourceBytes, tuples },
          note:
            corpus.id === "generated"
              ? "the flow-log blobs' bytes over their tuples"
              : "the published samples, each under a service-shaped blob path (their own names are short)",
        }),
      );
      for (const format of WIRE_FORMATS) {
        const hub = `${corpus.id}-${format.id}`;
        const totals = await sendCorpus(endpoint.connectionString(hub), hub, corpus, format);
        figures.push(wireFigure(corpus, format, totals, sourcePerTuple));
      }
    }
  } finally {
    await endpoint.stop();
  }
  return figures;
}

function wireFigure(
  corpus: Corpus,
  format: WireFormat,
  totals: { bytesSent: number; messagesSent: number; batchesSent: number; eventsSent: number },
  sourcePerTuple: number,
): BenchFigure {
  const perTuple = totals.bytesSent / totals.eventsSent;
  const formatLabel =
    format.messageFormat === "compact"
      ? `compact gzip, ${format.eventsPerMessage === 1 ? "1 event" : `${format.eventsPerMessage} events`}/message`
      : format.eventsPerMessage === 1
        ? "plain JSON, 1 event/message"
        : `JSON array, ${format.eventsPerMessage} events/message`;
  return measured({
    id: `wire.${corpus.id}.${format.id}`,
    label: `wire ${corpus.label}: ${formatLabel}`,
    value: perTuple,
    unit: "bytes/tuple",
    ratio: { value: perTuple / sourcePerTuple, against: "source blob" },
    ...(format.id === TARGET_FORMAT && { target: { comparator: "<", threshold: 1, of: "ratio" } }),
    details: {
      bytesSent: totals.bytesSent,
      messages: totals.messagesSent,
      batches: totals.batchesSent,
      tuples: totals.eventsSent,
    },
    note:
      corpus.id === "generated" && format.id === WIRE_FORMATS[0]!.id
        ? "the sink's batch sizes as the SDK counts them (bodies, properties, AMQP framing), over the tuples sent"
        : undefined,
  });
}
