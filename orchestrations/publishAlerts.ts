/**
 * publishAlerts: started by a detector entity (entities do no I/O) to put its alerts on the
 * alerts hub through the publishEvents activity, with bounded retries.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { AnomalyAlert } from "../src/core/alertSchema";
import { ActivityNames } from "../src/names";
import type { AlertDispatch } from "./detector";

/* The publishEvents activity contract (activities/publishEvents.ts). */
/** One event for the alerts hub. */
export interface PublishedEvent {
  /** Stable id (sent as the flowtapEventId property): consumers drop re-sent duplicates by it. */
  id: string;
  /** JSON-serializable body (an AnomalyAlert, a capture report, ...). */
  body: object;
  /** Same key, same partition, in order (e.g. the target key). */
  partitionKey?: string;
}

export interface PublishEventsInput {
  events: PublishedEvent[];
}

export interface PublishEventsResult {
  eventsSent: number;
}

/** Publishing retries: 5 attempts, 2 s doubling (the sink already retries inside each attempt). */
export const PUBLISH_RETRY = new df.RetryOptions(2_000, 5);
PUBLISH_RETRY.backoffCoefficient = 2;

/** An alert as an alerts-hub event: its own id, partitioned by target. */
export function alertEvent(alert: AnomalyAlert): PublishedEvent {
  return { id: alert.id, body: alert, partitionKey: alert.target.key };
}

export const publishAlertsOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<AlertDispatch>();
  const events = input.alerts.map(alertEvent);
  const result = (yield context.df.callActivityWithRetry(ActivityNames.publishEvents, PUBLISH_RETRY, {
    events,
  } satisfies PublishEventsInput)) as PublishEventsResult;
  return result;
};
