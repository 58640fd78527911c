/**
 * Every flows-hub message format, end to end through the real @azure/event-hubs producer and consumer on the local
 * endpoint: the sink sends events from the real flow-log samples, a consumer decodes the messages with
 * eventsOfFlowMessage, and gets exactly the events sent (schema 2 JSON), once each, with their ids, in order per key.
 */
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from "@azure/event-hubs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventHubsSink, SendTotals, SinkEventBytes } from "../../src/adapters/eventHubsSink";
import { eventsOfFlowMessage } from "../../src/adapters/flowMessages";
import type { EventHubSettings, MessageFormat } from "../../src/config";
import { encodeEvent, eventsOf, flattenFlowLog, type FlowEvent } from "../../src/core";
import { ValidationError } from "../../src/errors";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { fixtureFiles, readFixture, skipAllWithoutFixtures } from "../core/flowLogFixtures";
import { localSink } from "./localSink";

const FORMATS: { name: string; messageFormat: MessageFormat; eventsPerMessage: number }[] = [
  { name: "plain JSON, 1 event a message", messageFormat: "json", eventsPerMessage: 1 },
  { name: "JSON array, 100 events a message", messageFormat: "json", eventsPerMessage: 100 },
  { name: "compact gzip, 100 events a message", messageFormat: "compact", eventsPerMessage: 100 },
  { name: "compact gzip, 1 event a message", messageFormat: "compact", eventsPerMessage: 1 },
];
/** Events of each sample file (a few hundred in all, so one event a message stays quick). */
const EVENTS_PER_FILE = 40;

/** Events from every sample, each under a blob path of the service's shape (its long constants included). */
function sampleEvents(): FlowEvent[] {
  return fixtureFiles().flatMap((file, index) =>
    eventsOf(
      flattenFlowLog(readFixture(file), {
        blobPath:
          "insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/" +
          `RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL${index}/` +
          "y=2026/m=11/d=22/h=10/m=00/macAddress=000D3A000001/PT1H.json",
      }),
    ).slice(0, EVENTS_PER_FILE),
  );
}

/** Every message of the hub, read from the start by the SDK's consumer (its default body decoding). */
async function receiveAll(connectionString: string, messageCount: number): Promise<ReceivedEventData[]> {
  const consumer = new EventHubConsumerClient("$Default", connectionString);
  const received: ReceivedEventData[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${messageCount} messages`)), 30_000);
      consumer.subscribe(
        {
          processEvents: async (events) => {
            received.push(...events);
            if (received.length >= messageCount) {
              clearTimeout(timer);
              resolve();
            }
          },
          processError: async (error) => reject(error),
        },
        { startPosition: earliestEventPosition, maxBatchSize: 1000, maxWaitTimeInSeconds: 0.2 },
      );
    });
  } finally {
    await consumer.close();
  }
  return received;
}

describe("flows-hub message formats through the real client", () => {
  skipAllWithoutFixtures();
  let eh: LocalEventHubsEndpoint;
  let hubCount = 0;
  const sinks: EventHubsSink[] = [];
  beforeAll(async () => {
    eh = await startEventHubsEndpoint({
      hubs: Array.from({ length: 12 }, (_, i) => ({ name: `formats${i + 1}`, partitionCount: 4 })),
    });
  });
  afterAll(async () => {
    await Promise.all(sinks.map((sink) => sink.close()));
    await eh?.stop();
  });

  /** Sends the events through a sink of these settings on a fresh hub; returns what a consumer received. */
  async function sendAndReceive(
    events: readonly FlowEvent[],
    settings: Pick<EventHubSettings, "messageFormat" | "eventsPerMessage"> & Partial<EventHubSettings>,
  ): Promise<{ totals: SendTotals; received: ReceivedEventData[] }> {
    const hub = `formats${++hubCount}`;
    const sink = localSink(eh, hub, settings);
    sinks.push(sink);
    const sent: SinkEventBytes[] = events.map((event) => ({
      id: event.id,
      ...sink.encode(event, 2),
      ...(event.mac !== null && { partitionKey: event.mac }),
    }));
    const totals = await sink.send(sent);
    return { totals, received: await receiveAll(eh.connectionString(hub), totals.messagesSent) };
  }

  it.each(FORMATS)("$name: the consumer decodes exactly the events sent, once each, in order per key", async (f) => {
    // Prepare
    const events = sampleEvents();
    // Act
    const { totals, received } = await sendAndReceive(events, f);
    // Assess
    const decoded = received.map((message) => eventsOfFlowMessage(message) as { id: string }[]);
    const ids = decoded.flat().map((event) => event.id);
    expect(events.length).toBeGreaterThan(300);
    expect(totals).toMatchObject({ eventsSent: events.length, messagesSent: received.length });
    expect(new Set(ids).size).toBe(events.length);
    const byId = new Map(decoded.flat().map((event) => [event.id, event]));
    for (const event of events) expect(byId.get(event.id)).toEqual(JSON.parse(encodeEvent(event)));
    for (const key of new Set(events.map((event) => event.mac))) {
      const ofKey = received.filter((message) => (message.partitionKey ?? null) === key);
      expect(ofKey.flatMap((message) => eventsOfFlowMessage(message) as { id: string }[]).map((e) => e.id)).toEqual(
        events.filter((event) => event.mac === key).map((event) => event.id),
      );
    }
    received.forEach((message, index) => {
      const inMessage = decoded[index]!;
      expect(message.properties).toMatchObject({
        flowtapEventId: inMessage[0]!.id,
        flowtapEventCount: inMessage.length,
        flowtapSchemaVersion: 2,
      });
      if (inMessage.length > 1) expect(message.properties?.flowtapLastEventId).toBe(inMessage.at(-1)!.id);
      expect(inMessage.length).toBeLessThanOrEqual(f.eventsPerMessage);
    });
  });

  it("compact messages say they are gzip, JSON, compact; each shared record once, before its events", async () => {
    // Prepare
    const events = sampleEvents();
    // Act
    const { received } = await sendAndReceive(events, { messageFormat: "compact", eventsPerMessage: 100 });
    // Assess
    for (const message of received) {
      expect(message.contentType).toBe("application/json");
      expect(message.systemProperties?.contentEncoding).toBe("gzip");
      expect(message.properties?.flowtapMessageFormat).toBe("compact");
      const records = JSON.parse(gunzipSync(message.body as Buffer).toString("utf8")) as Record<string, unknown>[];
      const sharedKeys = records.filter((record) => record.id === undefined).map((record) => record.shared);
      expect(new Set(sharedKeys).size).toBe(sharedKeys.length);
      records.forEach((record, index) => {
        if (record.id === undefined) return;
        expect(Object.keys(record)).not.toContain("blob");
        expect(Object.keys(record)).not.toContain("targetResourceId");
        expect(sharedKeys.indexOf(record.shared)).toBeGreaterThanOrEqual(0);
        expect(records.findIndex((r) => r.id === undefined && r.shared === record.shared)).toBeLessThan(index);
      });
    }
  });

  it("compact: sending the same events again gives byte-identical messages (re-sends after a crash)", async () => {
    // Prepare
    const events = sampleEvents();
    const settings = { messageFormat: "compact", eventsPerMessage: 100 } as const;
    // Act
    const first = await sendAndReceive(events, settings);
    const again = await sendAndReceive(events, settings);
    // Assess
    const bodiesOf = (messages: ReceivedEventData[]) =>
      messages.map((message) => (message.body as Buffer).toString("base64")).sort();
    expect(bodiesOf(again.received)).toEqual(bodiesOf(first.received));
  });

  it("compact under a small batch size: messages are cut to fit, every event still decoded once", async () => {
    // Prepare
    const events = sampleEvents();
    // Act
    const { totals, received } = await sendAndReceive(events, {
      messageFormat: "compact",
      eventsPerMessage: 1000,
      maxBatchSizeInBytes: 4096,
    });
    // Assess
    const ids = received.flatMap((message) => eventsOfFlowMessage(message) as { id: string }[]).map((e) => e.id);
    expect(totals.messagesSent).toBeGreaterThan(events.length / 1000 + 1);
    expect(totals.bytesSent / totals.batchesSent).toBeLessThanOrEqual(4096);
    expect(ids.sort()).toEqual(events.map((event) => event.id).sort());
  });

  it("compact refuses events without a shared record, naming the event and the setting; sends nothing", async () => {
    // Prepare
    const hub = `formats${++hubCount}`;
    const sink = localSink(eh, hub, { messageFormat: "compact", eventsPerMessage: 100 });
    sinks.push(sink);
    // Act
    const failure = await sink.send([{ id: "plain-1", body: '{"id":"plain-1"}' }]).catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toMatch(/Event plain-1 has no shared record.*FLOWTAP_MESSAGE_FORMAT=compact/);
    expect(eh.eventCount(hub)).toBe(0);
  });
});
