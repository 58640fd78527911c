import { EventHubProducerClient } from "@azure/event-hubs";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { create_container, type Connection } from "rhea";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../../devhost/eventhubs";

describe("local Event Hubs endpoint: idle connections", () => {
  let endpoint: LocalEventHubsEndpoint;
  beforeAll(async () => {
    endpoint = await startEventHubsEndpoint({ hubs: [{ name: "idle", partitionCount: 1 }] });
  });
  afterAll(async () => {
    await endpoint.stop();
  });

  it("sends heartbeats to a client that asks for a short idle timeout, and keeps serving", async () => {
    // Prepare: a client whose idle timeout makes the endpoint write empty (heartbeat) frames.
    const connection: Connection = create_container().connect({
      host: "127.0.0.1",
      port: endpoint.port,
      username: "RootManageSharedAccessKey",
      password: "local",
      idle_time_out: 100,
      reconnect: false,
    });
    await once(connection, "connection_open");

    // Act: idle for several heartbeat periods.
    await sleep(400);

    // Assess: the connection is open and the endpoint still takes a send.
    expect(connection.is_open()).toBe(true);
    connection.close();
    const producer = new EventHubProducerClient(endpoint.connectionString("idle"));
    try {
      await producer.sendBatch([{ body: "after the heartbeats" }]);
    } finally {
      await producer.close();
    }
    expect(endpoint.eventCount("idle")).toBe(1);
  });
});
