/**
 * Whether every tuple arrived exactly once at the hub: the events read back (one per message, or
 * a packed message's JSON array) are tallied by their deterministic id, then compared with the
 * tuples the generator wrote. Only ids are kept, so millions of events take tens of MB.
 */
import { FLOWTAP_EVENT_COUNT_PROPERTY, FLOWTAP_EVENT_ID_PROPERTY } from "../src/adapters/eventHubsSink";

/** A message as read back: its application properties and body bytes. */
export interface ReadBackMessage {
  properties: Record<string, unknown> | undefined;
  body: Uint8Array | string;
}

export interface ExactlyOnceVerdict {
  expected: number;
  messages: number;
  events: number;
  distinctIds: number;
  /** Events whose id had already arrived. */
  duplicates: number;
  /** Expected events that never arrived (expected minus distinct ids, at least 0). */
  missing: number;
  /** Bytes of the message bodies (the events' JSON). */
  bodyBytes: number;
  /** Messages whose ids could not be read (no id property, or a packed body that is not an array of events). */
  unreadable: number;
  exactlyOnce: boolean;
}

export class ExactlyOnceTally {
  private readonly ids = new Set<string>();
  private messages = 0;
  private events = 0;
  private unreadable = 0;
  private bodyBytes = 0;

  add(message: ReadBackMessage): void {
    this.messages++;
    this.bodyBytes += typeof message.body === "string" ? Buffer.byteLength(message.body) : message.body.byteLength;
    const ids = idsOf(message);
    if (ids === undefined) {
      this.unreadable++;
      return;
    }
    for (const id of ids) {
      this.events++;
      this.ids.add(id);
    }
  }

  get messageCount(): number {
    return this.messages;
  }

  get eventCount(): number {
    return this.events;
  }

  verdict(expected: number): ExactlyOnceVerdict {
    const distinctIds = this.ids.size;
    const duplicates = this.events - distinctIds;
    const missing = Math.max(expected - distinctIds, 0);
    return {
      expected,
      messages: this.messages,
      events: this.events,
      distinctIds,
      duplicates,
      missing,
      unreadable: this.unreadable,
      bodyBytes: this.bodyBytes,
      exactlyOnce: duplicates === 0 && distinctIds === expected && this.unreadable === 0,
    };
  }
}

/** The event ids a message carries; undefined when they cannot be read. */
function idsOf(message: ReadBackMessage): string[] | undefined {
  const count = message.properties?.[FLOWTAP_EVENT_COUNT_PROPERTY];
  const firstId = message.properties?.[FLOWTAP_EVENT_ID_PROPERTY];
  if (count === 1 && typeof firstId === "string") return [firstId];
  const text = typeof message.body === "string" ? message.body : Buffer.from(message.body).toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== count) return undefined;
  const ids = parsed.map((event: unknown) => (event as { id?: unknown } | null)?.id);
  return ids.every((id): id is string => typeof id === "string") ? ids : undefined;
}
