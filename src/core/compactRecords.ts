/**
 * Reading compact records back into schema 2 events (docs/events.md "Compact messages"): a message's records are
 * shared records (`shared` key, no `id`) and event records (`id`, `time`, `shared` naming a shared record of the
 * same message, and the event's own fields). An event is its shared record's fields and its own, in schema 2's key
 * order, so it equals the plain JSON event field for field.
 */
import { ValidationError } from "../errors";

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The schema 2 events of one compact message's records, in order; `where` names the message in errors. */
export function expandCompactRecords(records: readonly unknown[], where: string): JsonObject[] {
  const sharedByKey = new Map<string, JsonObject>();
  const events: JsonObject[] = [];
  records.forEach((record, index) => {
    if (!isObject(record) || typeof record.shared !== "string") {
      throw new ValidationError(`${where}: record ${index} is not a compact record (an object with a "shared" key)`);
    }
    if (typeof record.id !== "string") {
      sharedByKey.set(record.shared, record);
      return;
    }
    const shared = sharedByKey.get(record.shared);
    if (!shared) {
      throw new ValidationError(
        `${where}: event ${record.id} names shared record ${record.shared}, which no earlier record of the message is`,
      );
    }
    const { shared: _key, schemaVersion, blob, ...sharedFields } = shared;
    const { id, time, shared: _ref, ...ownFields } = record;
    events.push({ schemaVersion, id, time, ...sharedFields, ...ownFields, blob });
  });
  return events;
}
