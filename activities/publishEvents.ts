/**
 * publishEvents: sends small JSON events (anomaly alerts, capture reports, warnings) to the
 * alerts hub, one event per message, partitioned by key so one target's events stay in order.
 */
import type { ActivityHandler } from "durable-functions";
import type { EventHubsSink } from "../src/adapters/eventHubsSink";
import { ValidationError } from "../src/errors";
import { PublishEventsInput, PublishEventsResult, PublishedEvent } from "../src/contracts/captureContracts";

export interface PublishEventsDeps {
  /** The alerts hub sink (created once per process and reused). */
  sink: () => EventHubsSink;
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
    const totals = await deps.sink().send(
      events.map((event) => ({
        id: event.id,
        body: JSON.stringify(event.body),
        ...(event.partitionKey !== undefined && { partitionKey: event.partitionKey }),
      })),
    );
    return { eventsSent: totals.eventsSent };
  };
}
