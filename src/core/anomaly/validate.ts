import { configurationError } from "../../errors";

/**
 * Small validators for JSON configuration: each throws a Configuration FlowtapError whose message
 * starts with the offending path (`rules[2].thresholds.distinctPorts must be ...`).
 */

export type JsonObject = Record<string, unknown>;

export function fail(path: string, expectation: string): never {
  throw configurationError(`${path} ${expectation}`);
}

export function expectObject(value: unknown, path: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(path, "must be an object");
  return value as JsonObject;
}

/** Refuses keys outside `allowed`, so a typo (`windowInMinute`) is an error rather than a silent default. */
export function expectKnownKeys(object: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key))
      fail(`${path}.${key}`, `is not a known setting (expected one of: ${allowed.join(", ")})`);
  }
}

export function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, "must be an array");
  return value;
}

export function expectNonEmptyString(value: unknown, path: string): string {
  if (typeof value !== "string" || value.trim() === "") fail(path, "must be a non-empty string");
  return value;
}

export function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") fail(path, "must be true or false");
  return value;
}

/** A positive safe integer, optionally at most `max`. */
export function expectPositiveInteger(value: unknown, path: string, max?: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) fail(path, "must be a positive integer");
  if (max !== undefined && value > max) fail(path, `must be at most ${max}`);
  return value;
}

export function expectStringList(value: unknown, path: string): string[] {
  return expectArray(value, path).map((item, index) => expectNonEmptyString(item, `${path}[${index}]`));
}

/** Parses JSON text from a setting or file, naming the source on failure. */
export function parseJsonSetting(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw configurationError(`${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
