/** Test helpers: generate a blob's text and read it back with the project's own flattener. */
import { eventsOf, flattenFlowLog } from "../../../src/core/flatten";
import type { FlowEvent } from "../../../src/core/event";
import { blobPathFor, generateRecords, serializeBlob, type GenerateRecordsOptions } from "../../../devhost/generate";

export function blobText(options: GenerateRecordsOptions): string {
  return [...serializeBlob(generateRecords(options))].join("");
}

/** The events of a generated blob; fails on any issue the flattener reports. */
export function eventsOfBlob(options: GenerateRecordsOptions): FlowEvent[] {
  const { container, path } = blobPathFor(options.nic, options.hourIso);
  const result = flattenFlowLog(blobText(options), { blobPath: `${container}/${path}` });
  if (result.issues.length > 0) throw new Error(`flattener issues: ${JSON.stringify(result.issues.slice(0, 3))}`);
  return eventsOf(result);
}

/** Largest sum of `valueOf` over the items of any window of `windowInMs`. */
export function maxSumInWindow<T>(
  items: readonly T[],
  timeOf: (item: T) => number,
  windowInMs: number,
  valueOf: (item: T) => number,
): number {
  const sorted = [...items].sort((a, b) => timeOf(a) - timeOf(b));
  let best = 0;
  let sum = 0;
  let start = 0;
  for (const item of sorted) {
    sum += valueOf(item);
    while (timeOf(item) - timeOf(sorted[start] as T) >= windowInMs) sum -= valueOf(sorted[start++] as T);
    best = Math.max(best, sum);
  }
  return best;
}

/** Largest `measure` of the items of any window of `windowInMs` (for small lists: it re-measures each window). */
export function maxInWindow<T>(
  items: readonly T[],
  timeOf: (item: T) => number,
  windowInMs: number,
  measure: (inWindow: T[]) => number,
): number {
  const sorted = [...items].sort((a, b) => timeOf(a) - timeOf(b));
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (timeOf(sorted[end] as T) - timeOf(sorted[start] as T) >= windowInMs) start++;
    best = Math.max(best, measure(sorted.slice(start, end + 1)));
  }
  return best;
}

export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

export const timeOfEvent = (event: FlowEvent): number => Date.parse(event.time);
