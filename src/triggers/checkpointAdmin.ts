/**
 * Operators' view of a blob's checkpoint (admin key): `GET /api/checkpoints/{container}/{*path}`
 * returns the checkpoint entity's state; `POST` with `{"reason": "..."}` resets it, so the blob is
 * delivered again from its start by the next event, reconcile run, or the ingestion it starts here.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { FlowtapSettings } from "../config";
import { parseAcceptedBlobUrl } from "../core/blobUrl";
import { ValidationError } from "../errors";
import { logger } from "../logger";
import { readJsonBody } from "./httpBody";
import { EntityNames } from "../contracts/names";
import { startOrUpdateIngestion } from "./blobCreated";
import {
  CheckpointOperations,
  CheckpointState,
  ResetInput,
  checkpointEntityKey,
} from "../contracts/ingestionContracts";

export const CHECKPOINT_ADMIN_ROUTE = "checkpoints/{container}/{*path}";

export interface CheckpointAdminDeps {
  settings: () => FlowtapSettings;
  now: () => Date;
}

export function makeCheckpointAdminHandler(deps: CheckpointAdminDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const settings = deps.settings();
    const container = request.params.container ?? "";
    const path = request.params.path ?? "";
    let location;
    try {
      // Same acceptance as events: only the configured containers and PT1H.json blobs.
      location = parseAcceptedBlobUrl(
        `https://${settings.storage.accountName}.blob.core.windows.net/${container}/${path}`,
        settings.storage,
      );
    } catch (error) {
      if (error instanceof ValidationError) return { status: 400, jsonBody: { error: error.message } };
      throw error;
    }
    const client = df.getClient(context);
    const entity = new df.EntityId(EntityNames.checkpoint, checkpointEntityKey(location));
    if (request.method === "GET") {
      const state = await client.readEntityState<CheckpointState>(entity);
      return state.entityExists
        ? { status: 200, jsonBody: state.entityState }
        : { status: 404, jsonBody: { error: `no checkpoint for ${container}/${path}` } };
    }
    let reason = "operator reset";
    const read = await readJsonBody(request, { whenEmpty: {} });
    const body = read.ok ? (read.value as { reason?: unknown } | null) : undefined;
    if (typeof body !== "object" || body === null || (body.reason !== undefined && typeof body.reason !== "string")) {
      return { status: 400, jsonBody: { error: 'the body must be JSON {"reason": "..."}' } };
    }
    if (typeof body.reason === "string") reason = body.reason;
    const input: ResetInput = { reason, nowIso: deps.now().toISOString() };
    await client.signalEntity(entity, CheckpointOperations.reset, input);
    logger.warning(`Checkpoint of ${container}/${path} reset by an operator: ${reason}`);
    await startOrUpdateIngestion(client, location, settings);
    return { status: 202, jsonBody: { container, path, reset: true, reason } };
  };
}
