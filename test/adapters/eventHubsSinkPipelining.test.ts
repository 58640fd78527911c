/** The sink's overlapping of calls: batches built early, sent strictly in call order, nothing after a failure. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventHubsSink, type EventHubsSink, type SinkEventBytes } from "../../src/adapters/eventHubsSink";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";

function eventsFrom(first: number, count: number): SinkEventBytes[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `e-${first + i}`;
    return { id, body: Buffer.from(JSON.stringify({ id, padding: "p".repeat(600) })), partitionKey: "000D3A000001" };
  });
}

describe("Event Hubs sink: overlapping calls", () => {
  let endpoint: LocalEventHubsEndpoint;
  const sinks: EventHubsSink[] = [];
  beforeAll(async () => {
    endpoint = await startEventHubsEndpoint({
      hubs: [
        { name: "ordered", partitionCount: 2 },
        { name: "after", partitionCount: 2 },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(sinks.map((sink) => sink.close()));
    await endpoint.stop();
  });
  function sinkFor(hub: string): EventHubsSink {
    const sink = createEventHubsSink(
      {
        connection: { kind: "connectionString", connectionString: endpoint.connectionString(hub) },
        eventHubName: hub,
        alertsEventHubName: hub,
        partitionKey: "mac",
        eventsPerMessage: 1,
        maxBatchSizeInBytes: 16 * 1024,
      },
      { sendRetryOptions: { maxAttempts: 1 } },
    );
    sinks.push(sink);
    return sink;
  }

  it("sends calls made at once in call order, each in several batches", async () => {
    // Prepare
    const sink = sinkFor("ordered");
    // Act
    await Promise.all([sink.send(eventsFrom(0, 60)), sink.send(eventsFrom(60, 60)), sink.send(eventsFrom(120, 60))]);
    // Assess
    expect(endpoint.events("ordered").map((event) => event.properties.flowtapEventId)).toEqual(
      eventsFrom(0, 180).map((event) => event.id),
    );
    expect(sink.totals.batchesSent).toBeGreaterThan(3);
  });

  it("sends nothing of a call whose `after` rejects, and rejects with that error", async () => {
    // Prepare
    const sink = sinkFor("after");
    const earlier = Promise.reject(new Error("the previous chunk failed"));
    // Act
    const failure = await sink.send(eventsFrom(0, 30), { after: earlier }).catch((error: unknown) => error);
    // Assess
    expect(failure).toMatchObject({ message: "the previous chunk failed" });
    expect(endpoint.eventCount("after")).toBe(0);
  });
});
