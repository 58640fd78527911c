/**
 * Operators' view of a blob's checkpoint (admin key): `GET /api/checkpoints/{container}/{*path}`
 * returns the checkpoint entity's state; `POST` with `{"reason": "..."}` (or no body) resets it, so
 * the blob is delivered again from its start by the next event, reconcile run, or the ingestion it
 * starts here. 400 names what is wrong in the path or body; 404 when the blob has no checkpoint.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { FlowtapSettings } from "../config";
import { parseAcceptedBlobUrl, type BlobLocation } from "../core/blobUrl";
import { printable } from "../core/printable";
import { ValidationError } from "../errors";
import { logger } from "../logger";
import { readJsonBody, type JsonBody } from "./httpBody";
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

/** The fields a reset body may have: `{"reason": "..."}` (or no body at all). */
const RESET_BODY_FIELDS = ["reason"] as const;

/** The operator's reason from a reset body, or why the body is refused (naming the field). */
export function parseResetBody(read: JsonBody): { reason: string } | { error: string } {
  if (!read.ok) return { error: `${read.error}; send {"reason": "..."} or nothing` };
  const body = read.value;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { error: 'the body must be a JSON object {"reason": "..."}' };
  }
  const unknown = Object.keys(body).filter((field) => !(RESET_BODY_FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) {
    const names = unknown.map((field) => `"${printable(field)}"`).join(", ");
    return { error: `unknown field ${names} in the body; the only field is "reason"` };
  }
  const { reason } = body as { reason?: unknown };
  if (reason !== undefined && typeof reason !== "string") {
    return { error: `field "reason" must be a string, got ${reason === null ? "null" : typeof reason}` };
  }
  return { reason: reason ?? "operator reset" };
}

function locationOf(request: HttpRequest, settings: FlowtapSettings): BlobLocation | { refused: HttpResponseInit } {
  const container = request.params.container ?? "";
  const path = request.params.path ?? "";
  try {
    // Same acceptance as events: only the configured containers and PT1H.json blobs. A malformed
    // percent-encoding reaches here as it came (the host leaves it undecoded) and is named.
    return parseAcceptedBlobUrl(
      `https://${settings.storage.accountName}.blob.core.windows.net/${container}/${path}`,
      settings.storage,
    );
  } catch (error) {
    if (error instanceof ValidationError)
      return { refused: { status: 400, jsonBody: { error: printable(error.message) } } };
    throw error;
  }
}

export function makeCheckpointAdminHandler(deps: CheckpointAdminDeps) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const settings = deps.settings();
    const location = locationOf(request, settings);
    if ("refused" in location) return location.refused;
    const blob = printable(`${location.container}/${location.path}`);
    const client = df.getClient(context);
    const entity = new df.EntityId(EntityNames.checkpoint, checkpointEntityKey(location));
    const state = await client.readEntityState<CheckpointState>(entity);
    if (!state.entityExists) return { status: 404, jsonBody: { error: `no checkpoint for ${blob}` } };
    if (request.method === "GET") return { status: 200, jsonBody: state.entityState };
    const body = parseResetBody(await readJsonBody(request, { whenEmpty: {} }));
    if ("error" in body) return { status: 400, jsonBody: { error: body.error } };
    const input: ResetInput = { reason: body.reason, nowIso: deps.now().toISOString() };
    await client.signalEntity(entity, CheckpointOperations.reset, input);
    logger.warning(`Checkpoint of ${blob} reset by an operator: ${printable(body.reason)}`);
    await startOrUpdateIngestion(client, location, settings);
    return { status: 202, jsonBody: { ...location, reset: true, reason: body.reason } };
  };
}
