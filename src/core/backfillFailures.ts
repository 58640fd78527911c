/**
 * A backfill's list of failed blobs, bounded in bytes: it travels in every generation's
 * continueAsNew input and in each slice's result, which must stay a few KB. Failures past the
 * cap are counted (and were logged with their reason when they happened), not listed.
 */

/** A failed blob and why (the reason is cut to MAX_REASON_LENGTH). */
export interface FailedBlob {
  container: string;
  path: string;
  reason: string;
}

export interface FailureList {
  failures: FailedBlob[];
  /** Failures beyond the byte cap, counted but not listed. */
  failuresNotListed: number;
}

/** The JSON of the listed failures stays under this many bytes (UTF-8). */
export const MAX_LISTED_FAILURE_BYTES = 4096;
export const MAX_REASON_LENGTH = 300;

export function emptyFailureList(): FailureList {
  return { failures: [], failuresNotListed: 0 };
}

export function cutReason(reason: string): string {
  return reason.length <= MAX_REASON_LENGTH ? reason : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

function listedBytes(failures: readonly FailedBlob[]): number {
  return new TextEncoder().encode(JSON.stringify(failures)).length;
}

/** Adds a failure: listed while the list stays under the byte cap, otherwise counted. */
export function addFailure(list: FailureList, failure: FailedBlob): void {
  const candidate = { ...failure, reason: cutReason(failure.reason) };
  if (listedBytes([...list.failures, candidate]) <= MAX_LISTED_FAILURE_BYTES) list.failures.push(candidate);
  else list.failuresNotListed++;
}
