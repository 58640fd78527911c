/** A flows-hub sink on a hub of the local Event Hubs endpoint, for tests that send through the real client. */
import { createEventHubsSink, type EventHubsSink } from "../../src/adapters/eventHubsSink";
import type { EventHubSettings } from "../../src/config";
import type { LocalEventHubsEndpoint } from "../../devhost/eventhubs";

/** Settings of a hub of the endpoint: plain JSON, one event a message, keyed by MAC, unless `overrides` differ. */
export function localSinkSettings(
  endpoint: LocalEventHubsEndpoint,
  hub: string,
  overrides: Partial<EventHubSettings> = {},
): EventHubSettings {
  return {
    connection: { kind: "connectionString", connectionString: endpoint.connectionString(hub) },
    eventHubName: hub,
    alertsEventHubName: "alerts",
    partitionKey: "mac",
    eventsPerMessage: 1,
    maxBatchSizeInBytes: undefined,
    ...overrides,
  };
}

/** A sink with {@link localSinkSettings}. */
export function localSink(
  endpoint: LocalEventHubsEndpoint,
  hub: string,
  overrides: Partial<EventHubSettings> = {},
): EventHubsSink {
  return createEventHubsSink(localSinkSettings(endpoint, hub, overrides));
}
