import { EventHubProducerClient } from "@azure/event-hubs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_HUBS_BENCH_HUBS, runEventHubsBench } from "../../bench/eventHubs";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";

describe("Event Hubs", () => {
  let endpoint: LocalEventHubsEndpoint;
  beforeAll(async () => {
    endpoint = await startEventHubsEndpoint({
      hubs: [...Object.values(EVENT_HUBS_BENCH_HUBS), "dropped"].map((name) => ({ name, partitionCount: 2 })),
      retainEvents: false,
    });
  });
  afterAll(async () => {
    await endpoint.stop();
  });

  it("an endpoint that does not retain events still acknowledges every send", async () => {
    const producer = new EventHubProducerClient(endpoint.connectionString("dropped"));
    try {
      await producer.sendBatch([{ body: { n: 1 } }, { body: { n: 2 } }], { partitionKey: "k" });
    } finally {
      await producer.close();
    }
    expect(endpoint.sendOutcomes().accepted).toBeGreaterThanOrEqual(1);
    expect(endpoint.eventCount("dropped")).toBe(0);
  });

  it("measures the ceiling, the sink and one send per tuple", async () => {
    const connectionStrings = Object.fromEntries(
      Object.values(EVENT_HUBS_BENCH_HUBS).map((hub) => [hub, endpoint.connectionString(hub)]),
    );

    const { figures, rates } = await runEventHubsBench({
      connectionStrings,
      eventCount: 300,
      perTupleSampleSize: 5,
      ceilingConcurrency: 2,
      eventsPerMessage: [1, 10],
    });

    expect(figures.map((figure) => figure.id)).toEqual([
      "eventhubs.ceiling.1",
      "eventhubs.sink.1",
      "eventhubs.ceiling.10",
      "eventhubs.sink.10",
      "eventhubs.perTuple",
    ]);
    expect(rates.ceilingTuplesPerSecond.get(10)).toBeGreaterThan(0);
    expect(rates.perTupleTuplesPerSecond).toBeGreaterThan(0);
  });
});
