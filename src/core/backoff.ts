/** Exponential backoff, shared by the sinks' retry rounds and ingestBlob's activity retries. Pure. */

/**
 * The wait before attempt `attempt + 1`: `firstDelayInMs` after the first attempt, doubled after each further one,
 * at most `maxDelayInMs`.
 */
export function backoffDelayInMs(attempt: number, firstDelayInMs: number, maxDelayInMs: number): number {
  return Math.min(firstDelayInMs * 2 ** (attempt - 1), maxDelayInMs);
}
