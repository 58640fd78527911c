import type { StoredEvent } from "./partitionLog";
import { decodeMessage, isBodySections } from "./publishing";

/** An event as a test reads it back from the endpoint. */
export interface LocalEventHubEvent {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: Date;
  partitionKey?: string;
  /** Decoded like the SDK's consumer does: JSON when the data section parses as JSON, else the bytes. */
  body: unknown;
  properties: Record<string, unknown>;
  annotations: Record<string, unknown>;
  messageId?: string | number | Buffer;
  contentType?: string;
  /** AMQP content-encoding (gzip on compact messages). */
  contentEncoding?: string;
}

export function toLocalEvent(partitionId: string, event: StoredEvent): LocalEventHubEvent {
  const message = decodeMessage(event.encoded);
  return {
    partitionId,
    sequenceNumber: event.sequenceNumber,
    offset: event.offset,
    enqueuedTimeUtc: event.enqueuedTimeUtc,
    partitionKey: event.partitionKey,
    body: decodeBody(message.body),
    properties: { ...message.application_properties },
    annotations: { ...message.message_annotations },
    messageId: message.message_id as LocalEventHubEvent["messageId"],
    contentType: message.content_type,
    contentEncoding: message.content_encoding,
  };
}

/** Mirrors the SDK's default body decoding: a data section holding JSON is parsed, other bytes stay bytes. */
function decodeBody(body: unknown): unknown {
  if (isBodySections(body, 0x76)) return body.content;
  if (!isBodySections(body, 0x75) || !Buffer.isBuffer(body.content)) return body;
  try {
    return JSON.parse(body.content.toString("utf8"));
  } catch {
    return body.content;
  }
}
