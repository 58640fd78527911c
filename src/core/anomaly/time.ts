import { ValidationError } from "../../errors";

/** Minute arithmetic on ISO-8601 UTC strings; all times are passed in, never read from a clock. */

export const MS_PER_MINUTE = 60_000;

/** Epoch ms of an ISO time; throws a ValidationError naming the field when unparsable. */
export function toEpochMs(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new ValidationError(`${what} is not an ISO-8601 time: "${iso}"`);
  return ms;
}

/** The canonical form FlowEvent times use (`toISOString()`): its minute is its first 16 characters. */
export function isCanonicalIsoTime(iso: string): boolean {
  return iso.length === 24 && iso[23] === "Z" && iso[10] === "T" && iso[16] === ":";
}

/** The minute containing `iso`, as `YYYY-MM-DDTHH:MM:00.000Z`. */
export function minuteOf(iso: string, what: string): string {
  // Fast path for the canonical form, called once per event.
  if (isCanonicalIsoTime(iso)) return `${iso.slice(0, 16)}:00.000Z`;
  const ms = toEpochMs(iso, what);
  return new Date(ms - (((ms % MS_PER_MINUTE) + MS_PER_MINUTE) % MS_PER_MINUTE)).toISOString();
}

export function addMinutes(iso: string, minutes: number): string {
  return new Date(Date.parse(iso) + minutes * MS_PER_MINUTE).toISOString();
}

/** Whole minutes from `from` to `to` (negative when `to` is earlier). */
export function minutesBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / MS_PER_MINUTE);
}
