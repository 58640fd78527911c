/**
 * publishAlerts: started by a detector entity (entities do no I/O) to put its alerts on the
 * alerts hub through the publishEvents activity, with bounded retries, then to request the packet
 * captures its live alerts ask for (startCaptures). Its instance id derives from the alerts and a
 * dispatch never starts an instance that exists, so each anomaly is published and captured once.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import type { AnomalyAlert } from "../src/core/alertSchema";
import {
  publishEventsActivity,
  startCapturesActivity,
  type AlertDispatch,
  type MonitorAlertEvent,
  type PublishAlertsResult,
  type PublishedEvent,
} from "../src/contracts/captureContracts";
import { callActivity } from "./calls";

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
  const published = yield* callActivity(context, publishEventsActivity, { events }, PUBLISH_RETRY);
  const toCapture = input.alerts.filter((alert) => alert.capture.requested && !alert.historic);
  const captures =
    toCapture.length === 0
      ? []
      : (yield* callActivity(context, startCapturesActivity, { alerts: toCapture }, PUBLISH_RETRY)).captures;
  return { ...published, captures } satisfies PublishAlertsResult;
};

/**
 * publishMonitorAlert: one instance per Azure Monitor alert delivery; publishes its event. The
 * instance's input is also the webhook's record of its first answer (a redelivery reads it back).
 */
export const publishMonitorAlertOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const event = context.df.getInput<MonitorAlertEvent>();
  const published: PublishedEvent = { id: event.id, body: event, partitionKey: event.alertId.toLowerCase() };
  return yield* callActivity(context, publishEventsActivity, { events: [published] }, PUBLISH_RETRY);
};
