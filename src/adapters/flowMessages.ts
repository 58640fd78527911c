/**
 * Reading the flows hub's messages back into events, whatever the sink's format: one JSON event, a JSON array of
 * events, or (flowtapMessageFormat "compact", content-encoding gzip) gzip-compressed compact records, expanded into
 * schema 2 events (docs/events.md). For every reader in this repository (flowtap tail, the demo, the tests' hub reads).
 */
import { gunzipSync } from "node:zlib";
import { expandCompactRecords } from "../core/compactRecords";
import { ValidationError } from "../errors";
import { FLOWTAP_MESSAGE_FORMAT_PROPERTY } from "./eventHubsSink";

/** What a reader has of a received message: its body (bytes, or JSON the client parsed) and application properties. */
export interface ReceivedFlowMessage {
  body: unknown;
  properties?: Record<string, unknown> | undefined;
}

/** Whether the message holds gzip-compressed compact records (its properties say so). */
export function isCompactMessage(message: ReceivedFlowMessage): boolean {
  return message.properties?.[FLOWTAP_MESSAGE_FORMAT_PROPERTY] === "compact";
}

/** The events a flows-hub message carries, in order; `where` names the message in errors. */
export function eventsOfFlowMessage(message: ReceivedFlowMessage, where = "flows hub message"): unknown[] {
  if (isCompactMessage(message)) {
    if (!Buffer.isBuffer(message.body)) throw new ValidationError(`${where}: a compact message's body must be bytes`);
    const records: unknown = JSON.parse(gunzipSync(message.body).toString("utf8"));
    if (!Array.isArray(records)) throw new ValidationError(`${where}: a compact message must hold a JSON array`);
    return expandCompactRecords(records, where);
  }
  const parsed: unknown = Buffer.isBuffer(message.body) ? JSON.parse(message.body.toString("utf8")) : message.body;
  return Array.isArray(parsed) ? parsed : [parsed];
}
