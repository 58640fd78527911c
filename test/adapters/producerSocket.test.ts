import { EventHubProducerClient } from "@azure/event-hubs";
import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createEventHubsSink } from "../../src/adapters/eventHubsSink";
import { disableNagle } from "../../src/adapters/producerSocket";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { localSinkSettings } from "./localSink";

describe("Event Hubs producer sockets without Nagle's algorithm", () => {
  let endpoint: LocalEventHubsEndpoint;

  beforeAll(async () => {
    endpoint = await startEventHubsEndpoint({ hubs: [{ name: "flows", partitionCount: 2 }] });
  });
  afterAll(async () => {
    await endpoint.stop();
  });

  it("turns TCP_NODELAY on for the sink's connection to the hub, once per socket", async () => {
    // Prepare: watch Node's own setNoDelay, which the SDK's producer socket never gets from rhea on its own
    const setNoDelay = vi.spyOn(Socket.prototype, "setNoDelay");
    const sink = createEventHubsSink(localSinkSettings(endpoint, "flows"));
    const events = [1, 2, 3].map((seq) => ({ id: `e${seq}`, body: JSON.stringify({ seq }), partitionKey: "mac" }));
    try {
      // Act: two sends on the same connection
      await sink.send(events.slice(0, 2));
      await sink.send(events.slice(2));

      // Assess: one call, with true, on the socket connected to the endpoint's AMQP port
      const toEndpoint = setNoDelay.mock.contexts.filter((socket) => (socket as Socket).remotePort === endpoint.port);
      expect(toEndpoint).toHaveLength(1);
      const call = setNoDelay.mock.contexts.indexOf(toEndpoint[0]);
      expect(setNoDelay.mock.calls[call]).toEqual([true]);
      expect(sink.totals.eventsSent).toBe(3);
    } finally {
      setNoDelay.mockRestore();
      await sink.close();
    }
  });

  it("reports false, without throwing, for a producer that is not connected yet", async () => {
    // Prepare: a producer that has sent nothing has no socket
    const producer = new EventHubProducerClient(endpoint.connectionString("flows"));
    try {
      // Act, Assess
      expect(disableNagle(producer)).toBe(false);
    } finally {
      await producer.close();
    }
  });
});
