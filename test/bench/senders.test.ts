import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventHubsSink, type SinkEventBytes } from "../../src/adapters/eventHubsSink";
import { encodeEventBytes, flattenFlowLog } from "../../src/core";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { generateInMemoryCorpus } from "../../bench/corpus";
import { planMessages, prepareEvents, sendOneByOne, sendWithBareSdk } from "../../bench/senders";

/** Generated events as processRange sends them: encoded bytes, partition key = MAC. */
function sinkEvents(count: number): SinkEventBytes[] {
  const [blob] = generateInMemoryCorpus(64 * 1024, 64 * 1024);
  const events = flattenFlowLog(blob!.bytes, { blobPath: blob!.name }).records.flatMap((record) => record.events);
  return events
    .slice(0, count)
    .map((event) => ({ id: event.id, body: encodeEventBytes(event), partitionKey: event.mac ?? undefined }));
}

describe("bench senders: the ceiling and the seed pattern send what the sink sends", () => {
  let endpoint: LocalEventHubsEndpoint;
  beforeAll(async () => {
    endpoint = await startEventHubsEndpoint({
      hubs: ["sink1", "bare1", "sink3", "bare3", "onebyone"].map((name) => ({ name, partitionCount: 2 })),
    });
  });
  afterAll(async () => {
    await endpoint.stop();
  });

  /** What a hub holds, partition by partition, without the service's annotations. */
  const received = (hub: string) =>
    endpoint.events(hub).map(({ partitionId, partitionKey, body, properties, messageId, contentType }) => ({
      partitionId,
      partitionKey,
      body,
      properties,
      messageId,
      contentType,
    }));

  it.each([1, 3])("the bare-SDK ceiling at %i events/message sends the sink's messages", async (eventsPerMessage) => {
    // Prepare
    const events = sinkEvents(200);
    const sink = createEventHubsSink({
      connection: { kind: "connectionString", connectionString: endpoint.connectionString(`sink${eventsPerMessage}`) },
      eventHubName: `sink${eventsPerMessage}`,
      alertsEventHubName: `sink${eventsPerMessage}`,
      partitionKey: "mac",
      eventsPerMessage,
      maxBatchSizeInBytes: undefined,
    });
    const producer = new EventHubProducerClient(endpoint.connectionString(`bare${eventsPerMessage}`));

    // Act
    try {
      await sink.send(events);
      const prepared = prepareEvents(events);
      await sendWithBareSdk(producer, prepared, planMessages(prepared, eventsPerMessage), 4);
    } finally {
      await sink.close();
      await producer.close();
    }

    // Assess
    // Several batches in flight may land in another order: compared by message id.
    const byId = (hub: string) => received(hub).sort((a, b) => String(a.messageId).localeCompare(String(b.messageId)));
    const fromSink = byId(`sink${eventsPerMessage}`);
    const eventCount = fromSink.reduce((sum, message) => sum + Number(message.properties["flowtapEventCount"]), 0);
    expect(eventCount).toBe(200);
    expect(byId(`bare${eventsPerMessage}`)).toEqual(fromSink);
  });

  it("one send per tuple delivers every event, one message each", async () => {
    const events = sinkEvents(20);
    const producer = new EventHubProducerClient(endpoint.connectionString("onebyone"));
    try {
      const run = await sendOneByOne(producer, prepareEvents(events), 20);
      expect(run.batches).toBe(20);
    } finally {
      await producer.close();
    }
    expect(received("onebyone").map((event) => event.messageId)).toEqual(
      expect.arrayContaining(events.map((event) => event.id)),
    );
    expect(endpoint.eventCount("onebyone")).toBe(20);
  });
});
