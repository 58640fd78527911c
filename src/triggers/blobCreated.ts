/**
 * BlobCreated triggers: the Event Grid trigger and the HTTP webhook variant (Event Grid schema
 * arrays, a single CloudEvent or a CloudEvents batch, with both validation handshakes). Only
 * `Microsoft.Storage.BlobCreated` events for a `PT1H.json` blob of the configured account and
 * containers are taken (core/blobUrl): any other URL is refused and logged, so an event can never
 * make the app read an arbitrary URL with its identity. The event only says "look at this blob":
 * ingestion works from the committed block list, so late or duplicate events change nothing.
 */
import type { EventGridEvent, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import type { FlowtapSettings } from "../config";
import { parseAcceptedBlobSubject, parseAcceptedBlobUrl, type AcceptedBlobs, type BlobLocation } from "../core/blobUrl";
import { ServiceError, ValidationError } from "../errors";
import { logger } from "../logger";
import { readJsonBody } from "./httpBody";
import { OrchestrationNames } from "../contracts/names";
import { BLOB_UPDATED_EVENT, blobKey, ingestBlobInput, ingestInstanceId } from "../contracts/ingestionContracts";
import { instanceStatus } from "./alerts";

export const BLOB_CREATED_EVENT_TYPE = "Microsoft.Storage.BlobCreated";

export type BlobCreatedOutcome =
  | { kind: "accepted"; location: BlobLocation; eventId: string }
  | { kind: "ignored"; eventId: string; reason: string }
  | { kind: "refused"; eventId: string; reason: string };

export interface BlobCreatedDeps {
  settings: () => FlowtapSettings;
}

/**
 * Classifies one event of either schema. Throws ValidationError for a payload that is not an
 * event at all (no id, no type, BlobCreated without data.url).
 */
export function classifyBlobCreatedEvent(event: unknown, accepted: AcceptedBlobs, index = 0): BlobCreatedOutcome {
  const where = `event #${index}`;
  if (typeof event !== "object" || event === null || Array.isArray(event))
    throw new ValidationError(`${where} is not a JSON object`);
  const record = event as Record<string, unknown>;
  const type = record.eventType ?? record.type;
  if (typeof record.id !== "string" || record.id === "") throw new ValidationError(`${where} has no id`);
  if (typeof type !== "string")
    throw new ValidationError(`${where} (${record.id}) has neither eventType (Event Grid) nor type (CloudEvents)`);
  const eventId = record.id;
  if (type !== BLOB_CREATED_EVENT_TYPE)
    return { kind: "ignored", eventId, reason: `event type ${type} is not ${BLOB_CREATED_EVENT_TYPE}` };
  const data = record.data as Record<string, unknown> | undefined;
  if (typeof data !== "object" || data === null || typeof data.url !== "string") {
    throw new ValidationError(`${where} (${eventId}) is a BlobCreated event without data.url`);
  }
  try {
    const location = parseAcceptedBlobUrl(data.url, accepted);
    const topic = record.topic ?? record.source;
    if (typeof record.subject === "string" && typeof topic === "string") {
      const fromSubject = parseAcceptedBlobSubject(record.subject, topic, accepted);
      if (blobKey(fromSubject) !== blobKey(location)) {
        throw new ValidationError(
          `Refused event: its subject names ${blobKey(fromSubject)} but its url names ${blobKey(location)}`,
        );
      }
    }
    return { kind: "accepted", location, eventId };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { kind: "refused", eventId, reason: error.message };
  }
}

function logOutcome(outcome: BlobCreatedOutcome, trigger: string): void {
  if (outcome.kind === "refused") logger.warning(`${trigger}: event ${outcome.eventId} refused: ${outcome.reason}`);
  else if (outcome.kind === "ignored") logger.info(`${trigger}: event ${outcome.eventId} ignored: ${outcome.reason}`);
}

const RUNNING: ReadonlySet<string> = new Set([
  df.OrchestrationRuntimeStatus.Running,
  df.OrchestrationRuntimeStatus.Pending,
  df.OrchestrationRuntimeStatus.ContinuedAsNew,
]);

async function isRunning(client: DurableClient, instanceId: string): Promise<boolean> {
  const status = await instanceStatus(client, instanceId);
  return status?.runtimeStatus !== undefined && RUNNING.has(status.runtimeStatus);
}

/**
 * Starts the blob's ingestBlob singleton, or tells the running one that its blob changed. Whether it runs is asked
 * with getStatus (a start of a running instance is an error the real host logs). A raiseEvent to an instance that
 * has just ended is dropped by the extension, so the status is checked after it; a start that loses a race with
 * another trigger fails, and the next round finds the instance running.
 */
export async function startOrUpdateIngestion(
  client: DurableClient,
  location: BlobLocation,
  settings: FlowtapSettings,
): Promise<"started" | "updated"> {
  const instanceId = ingestInstanceId(location);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (await isRunning(client, instanceId)) {
        await client.raiseEvent(instanceId, BLOB_UPDATED_EVENT, { at: "trigger" });
        if (await isRunning(client, instanceId)) return "updated";
        continue;
      }
      const input = ingestBlobInput(location, settings.ingestion);
      await client.startNew(OrchestrationNames.ingestBlob, { instanceId, input });
      logger.info(`Started ingestion ${instanceId} of ${blobKey(location)}`);
      return "started";
    } catch (error) {
      lastError = error;
    }
  }
  throw new ServiceError(
    `Could not start or update ingestion ${instanceId} of ${blobKey(location)}: ${String(lastError)}`,
    { retryable: true, cause: lastError },
  );
}

async function ingestAccepted(
  client: DurableClient,
  outcomes: readonly BlobCreatedOutcome[],
  settings: FlowtapSettings,
): Promise<number> {
  const locations = new Map<string, BlobLocation>();
  for (const outcome of outcomes)
    if (outcome.kind === "accepted") locations.set(blobKey(outcome.location), outcome.location);
  for (const location of locations.values()) await startOrUpdateIngestion(client, location, settings);
  return locations.size;
}

/** The Event Grid trigger: one event per invocation; malformed or refused events are logged and dropped. */
export function makeBlobCreatedEventGridHandler(deps: BlobCreatedDeps) {
  return async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const settings = deps.settings();
    let outcome: BlobCreatedOutcome;
    try {
      outcome = classifyBlobCreatedEvent(event, settings.storage);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      logger.warning(`blobCreatedEventGrid: malformed event dropped: ${error.message}`);
      return;
    }
    logOutcome(outcome, "blobCreatedEventGrid");
    await ingestAccepted(df.getClient(context), [outcome], settings);
  };
}

function json(status: number, body: unknown): HttpResponseInit {
  return { status, jsonBody: body };
}

/** The webhook: validation handshakes, then an array of Event Grid events, a CloudEvent or a CloudEvents batch. */
export function makeBlobCreatedWebhookHandler(deps: BlobCreatedDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    if (request.method === "OPTIONS") {
      const origin = request.headers.get("webhook-request-origin");
      if (!origin) return json(400, { error: "CloudEvents validation: the WebHook-Request-Origin header is missing" });
      return { status: 200, headers: { "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*" } };
    }
    const read = await readJsonBody(request);
    if (!read.ok) return json(400, { error: read.error });
    const body = read.value;
    if (request.headers.get("aeg-event-type") === "SubscriptionValidation") {
      const first = (Array.isArray(body) ? body[0] : body) as { data?: { validationCode?: unknown } } | undefined;
      const code = first?.data?.validationCode;
      if (typeof code !== "string")
        return json(400, { error: "SubscriptionValidation: data.validationCode is missing" });
      logger.info("blobCreatedWebhook: Event Grid subscription validated");
      return json(200, { validationResponse: code });
    }
    const settings = deps.settings();
    const events = Array.isArray(body) ? body : [body];
    if (events.length === 0) return json(400, { error: "the body holds no event" });
    let outcomes: BlobCreatedOutcome[];
    try {
      outcomes = events.map((event, index) => classifyBlobCreatedEvent(event, settings.storage, index));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      logger.warning(`blobCreatedWebhook: malformed payload refused: ${error.message}`);
      return json(400, { error: error.message });
    }
    outcomes.forEach((outcome) => logOutcome(outcome, "blobCreatedWebhook"));
    const blobs = await ingestAccepted(df.getClient(context), outcomes, settings);
    return json(200, {
      blobs,
      accepted: outcomes.filter((o) => o.kind === "accepted").length,
      ignored: outcomes.filter((o) => o.kind === "ignored").length,
      refused: outcomes
        .filter((o) => o.kind === "refused")
        .map((o) => ({ id: o.eventId, reason: o.kind === "refused" ? o.reason : "" })),
    });
  };
}
