/** Whole UTC hours for the generator: parsing and stepping, pure (no clock). */

const HOUR_IN_MS = 3_600_000;

/** Parses an ISO hour; throws RangeError naming `what` unless it is a whole UTC hour. */
export function parseHourIso(hourIso: string, what = "hourIso"): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d{1,3})?)?)?Z$/.test(hourIso)
    ? Date.parse(hourIso.length === 14 ? hourIso.replace("Z", ":00Z") : hourIso)
    : Number.NaN;
  if (!Number.isFinite(ms) || ms % HOUR_IN_MS !== 0) {
    throw new RangeError(`${what} must be a whole UTC hour like 2026-11-22T10:00:00Z, got '${hourIso}'`);
  }
  return ms;
}

/** `count` consecutive whole hours from `startHourIso`, as ISO strings (`2026-11-22T10:00:00.000Z`). */
export function hoursFrom(startHourIso: string, count: number): string[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`hours must be a non-negative integer, got ${count}`);
  const startMs = parseHourIso(startHourIso, "startHourIso");
  return Array.from({ length: count }, (_, i) => new Date(startMs + i * HOUR_IN_MS).toISOString());
}
