/**
 * publishEvents: sends small JSON events (anomaly alerts, capture reports, warnings) to the
 * alerts hub, one event per message, partitioned by key so one target's events stay in order;
 * with Log Analytics configured, also as FlowtapAlerts_CL rows. It succeeds only when every
 * configured sink accepted every event; otherwise it throws and its retry sends them all again
 * (same ids: consumers de-duplicate by id, docs/events.md).
 */
import type { ActivityHandler } from "durable-functions";
import type { EventHubsSink } from "../src/adapters/eventHubsSink";
import type { AlertsLogsSink } from "../src/adapters/logsIngestionSink";
import { ValidationError } from "../src/errors";
import { PublishEventsInput, PublishEventsResult, PublishedEvent } from "../src/contracts/captureContracts";

export interface PublishEventsDeps {
  /** The alerts hub sink (created once per process and reused). */
  sink: () => EventHubsSink;
  /** The Log Analytics alerts stream; undefined when Log Analytics (or its alerts stream) is not configured. */
  logsSink?: () => AlertsLogsSink | undefined;
}

function parseInput(input: unknown): PublishEventsInput {
  const events = (input as Partial<PublishEventsInput> | undefined)?.events;
  if (!Array.isArray(events)) throw new ValidationError("publishEvents: input.events must be an array");
  events.forEach((event: Partial<PublishedEvent>, index) => {
    if (typeof event?.id !== "string" || event.id === "")
      throw new ValidationError(`publishEvents: events[${index}].id must be a non-empty string`);
    if (typeof event.body !== "object" || event.body === null)
      throw new ValidationError(`publishEvents: events[${index}].body must be an object`);
  });
  return { events: events as PublishedEvent[] };
}

export function makePublishEvents(deps: PublishEventsDeps): ActivityHandler {
  return async (input: unknown): Promise<PublishEventsResult> => {
    const { events } = parseInput(input);
    if (events.length === 0) return { eventsSent: 0 };
    const hubEvents = events.map((event) => ({
      id: event.id,
      body: JSON.stringify(event.body),
      ...(event.partitionKey !== undefined && { partitionKey: event.partitionKey }),
    }));
    // Both settle before the activity answers, so a failure never leaves the other send running.
    const [hub, logs] = await Promise.allSettled([deps.sink().send(hubEvents), deps.logsSink?.()?.send(events)]);
    if (hub.status === "rejected") throw hub.reason;
    if (logs.status === "rejected") throw logs.reason;
    return { eventsSent: hub.value.eventsSent };
  };
}
