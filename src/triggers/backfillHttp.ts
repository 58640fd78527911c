/**
 * `POST /api/backfill` (function key): validates the request (400 naming the field and the rule), refuses a
 * backfillId that is already running (409, with its status URLs), starts the backfill
 * orchestration (instance id `backfill:<backfillId>`, a namespace of its own) and answers 202 with the durable
 * status URLs (createCheckStatusResponse).
 */
import type { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { FlowtapSettings } from "../config";
import { parseBackfillRequest, type BackfillLimits } from "../core/backfillProgress";
import { ValidationError } from "../errors";
import { logger } from "../logger";
import { readJsonBody } from "./httpBody";
import { OrchestrationNames } from "../contracts/names";
import { isInstanceActive } from "./alerts";
import { backfillInstanceId, type BackfillInput } from "../contracts/backfillContracts";

export interface BackfillHttpDeps {
  settings: () => FlowtapSettings;
  client: (context: InvocationContext) => DurableClient;
}

export function backfillLimits(settings: FlowtapSettings): BackfillLimits {
  return {
    accountName: settings.storage.accountName,
    containers: settings.storage.containers,
    maxHours: settings.backfill.maxHours,
    defaultParallelBlobs: settings.backfill.defaultParallelBlobs,
    maxParallelBlobs: settings.backfill.maxParallelBlobs,
  };
}

/** The orchestration input of a validated request (ingestBlob ends a historic run once it is caught up). */
export function backfillInput(request: BackfillInput["request"], settings: FlowtapSettings): BackfillInput {
  return { request, blobsPerPage: settings.backfill.blobsPerPage, ingestion: settings.ingestion };
}

function badRequest(message: string): HttpResponseInit {
  return { status: 400, jsonBody: { error: message } };
}

export function makeBackfillHttpHandler(deps: BackfillHttpDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit | HttpResponse> => {
    const body = await readJsonBody(request);
    if (!body.ok) return badRequest(body.error);
    const settings = deps.settings();
    let backfill;
    try {
      backfill = parseBackfillRequest(body.value, backfillLimits(settings));
    } catch (error) {
      if (error instanceof ValidationError) return badRequest(error.message);
      throw error;
    }
    const client = deps.client(context);
    const instanceId = backfillInstanceId(backfill.backfillId);
    const conflict = (): HttpResponseInit => ({
      status: 409,
      jsonBody: {
        error: `backfillId: backfill '${backfill.backfillId}' is already running`,
        ...client.createHttpManagementPayload(instanceId),
      },
    });
    if (await isInstanceActive(client, instanceId)) return conflict();
    try {
      await client.startNew(OrchestrationNames.backfill, { instanceId, input: backfillInput(backfill, settings) });
    } catch (error) {
      // Two requests raced with the same id: the other one started it.
      if (await isInstanceActive(client, instanceId)) return conflict();
      throw error;
    }
    logger.info(
      `Backfill ${instanceId} started: ${backfill.from} to ${backfill.to}, ` +
        `containers ${backfill.containers.join(", ")}`,
    );
    return client.createCheckStatusResponse(request, instanceId);
  };
}
