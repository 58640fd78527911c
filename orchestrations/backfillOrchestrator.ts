/**
 * backfill: ingests every flow-log blob of a time range (HTTP-started, instance id = backfillId).
 * It never lists a whole account: the listBlobs activity walks the hierarchy by prefix (pruned by
 * filters and y=/m=/d=/h=) and answers one page at a time with a cursor. First it counts the
 * blobs (blobsTotal, for the eta), then ingests page after page: each blob goes through the
 * same ingestBlob orchestration and checkpoint entity as live ingestion (a sub-orchestration with
 * its own instance id and `historic: true`), at most `maxParallelBlobs` at once. Every page is one
 * generation (continueAsNew), so the history stays bounded however many blobs there are.
 * Checkpoints make a re-run (after a terminate, or over an overlapping range) send only what was
 * not sent yet. A failed blob is recorded with its reason and the rest goes on.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, RetryOptions, Task } from "durable-functions";
import type { IngestionSettings } from "../src/config";
import { describeProgress, emptyCounts, walkFilterOf, type BackfillProgress } from "../src/core/backfillProgress";
import type { BlobLocation } from "../src/core/blobUrl";
import { addDropCounts } from "../src/core/eventFilter";
import { ValidationError } from "../src/errors";
import {
  blobKey,
  ingestBlobInput,
  ingestBlobOrchestration,
  type IngestBlobResult,
} from "../src/contracts/ingestionContracts";
import {
  backfillChildInstanceId,
  listBlobsActivity,
  MAX_LISTED_FAILURES,
  type BackfillInput,
  type BackfillRun,
  type BackfillSummary,
  type ListBlobsInput,
} from "../src/contracts/backfillContracts";
import { callActivity, resultOf, subOrchestrationTask, type TypedTask } from "./calls";

/** Counting pages are larger than ingestion pages: counting returns no names. */
const COUNT_PAGE_FACTOR = 25;

function parseInput(value: unknown): BackfillInput {
  const input = value as Partial<BackfillInput> | undefined;
  if (
    typeof input?.request?.backfillId !== "string" ||
    !Number.isInteger(input.blobsPerPage) ||
    typeof input.ingestion !== "object"
  ) {
    throw new ValidationError(
      `backfill: the input needs request, blobsPerPage and ingestion, got ${JSON.stringify(value)}`,
    );
  }
  return input as BackfillInput;
}

/** Listing retries like ingestion's activities: a transient storage error does not end the backfill. */
function listingRetry(ingestion: IngestionSettings): RetryOptions {
  const retry = new df.RetryOptions(ingestion.activityRetryIntervalInMs, ingestion.activityMaxAttempts);
  retry.backoffCoefficient = 2;
  return retry;
}

/** Reasons are cut: up to MAX_LISTED_FAILURES of them travel in every generation's input. */
const MAX_REASON_LENGTH = 500;

function failureReason(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return reason.length <= MAX_REASON_LENGTH ? reason : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

export const backfillOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, BackfillSummary | undefined, unknown> {
  const input = parseInput(context.df.getInput());
  const { request } = input;
  const nowIso = (): string => context.df.currentUtcDateTime.toISOString();
  const run: BackfillRun = input.run ?? {
    phase: "counting",
    startedAt: nowIso(),
    cursor: null,
    counts: emptyCounts(),
    failures: [],
    failuresNotListed: 0,
  };
  const progress = (phase: BackfillProgress["phase"]): BackfillProgress =>
    describeProgress(run.counts, request, phase, run.startedAt, nowIso());
  const showProgress = (): void => context.df.setCustomStatus(progress(run.phase));
  showProgress();

  const retry = listingRetry(input.ingestion);
  const listInput = (maxBlobs: number, countOnly: boolean): ListBlobsInput => ({
    filter: walkFilterOf(request),
    containers: request.containers,
    page: { after: run.cursor, maxBlobs, countOnly },
  });

  if (run.phase === "counting") {
    const page = yield* callActivity(
      context,
      listBlobsActivity,
      listInput(input.blobsPerPage * COUNT_PAGE_FACTOR, true),
      retry,
    );
    run.counts.blobsTotal += page.count;
    run.cursor = page.next;
    if (run.cursor === null) run.phase = "ingesting";
    context.df.continueAsNew({ ...input, run } satisfies BackfillInput);
    return undefined;
  }

  const page = yield* callActivity(context, listBlobsActivity, listInput(input.blobsPerPage, false), retry);
  yield* ingestPage(context, input, run, page.blobs, showProgress);
  run.cursor = page.next;
  if (run.cursor !== null) {
    context.df.continueAsNew({ ...input, run } satisfies BackfillInput);
    return undefined;
  }

  // Blobs created (or deleted) after counting: the final total is what was listed and ingested.
  run.counts.blobsTotal = run.counts.blobsDone + run.counts.blobsFailed;
  const final = progress("completed");
  context.df.setCustomStatus(final);
  return { ...final, failures: run.failures, failuresNotListed: run.failuresNotListed };
};

/** Runs ingestBlob for each blob of the page, at most maxParallelBlobs at once, and counts the outcomes. */
function* ingestPage(
  context: OrchestrationContext,
  input: BackfillInput,
  run: BackfillRun,
  blobs: readonly BlobLocation[],
  showProgress: () => void,
): Generator<Task, void, unknown> {
  const running: { child: TypedTask<IngestBlobResult>; blob: BlobLocation }[] = [];
  let next = 0;
  while (next < blobs.length || running.length > 0) {
    while (next < blobs.length && running.length < input.request.maxParallelBlobs) {
      const blob = blobs[next++]!;
      const childId = backfillChildInstanceId(input.request.backfillId, run.startedAt, blob);
      const childInput = ingestBlobInput(blob, input.ingestion, { historic: true });
      running.push({ child: subOrchestrationTask(context, ingestBlobOrchestration, childInput, childId), blob });
    }
    // Settle every child that has ended (a task may end while another is awaited), then wait for one more.
    const ended = running.filter((entry) => entry.child.task.isCompleted || entry.child.task.isFaulted);
    if (ended.length === 0) {
      yield context.df.Task.any(running.map((entry) => entry.child.task));
      continue;
    }
    for (const entry of ended) {
      running.splice(running.indexOf(entry), 1);
      settle(context, run, entry.child, entry.blob);
    }
    showProgress();
  }
}

function recordFailure(context: OrchestrationContext, run: BackfillRun, blob: BlobLocation, reason: string): void {
  run.counts.blobsFailed++;
  if (!context.df.isReplaying) context.warn(`backfill ${context.df.instanceId}: ${blobKey(blob)} failed: ${reason}`);
  if (run.failures.length < MAX_LISTED_FAILURES)
    run.failures.push({ container: blob.container, path: blob.path, reason });
  else run.failuresNotListed++;
}

function settle(
  context: OrchestrationContext,
  run: BackfillRun,
  child: TypedTask<IngestBlobResult>,
  blob: BlobLocation,
): void {
  if (child.task.isFaulted) {
    recordFailure(context, run, blob, failureReason(child.task.result));
    return;
  }
  const result = resultOf(child);
  if (result.outcome === "noBlockList") {
    recordFailure(
      context,
      run,
      blob,
      "the blob has content but no committed blocks (not written as flow logs are); not ingested",
    );
    return;
  }
  run.counts.blobsDone++;
  run.counts.eventsSent += result.progress.events;
  run.counts.bytesRead += result.progress.bytes;
  // Runs started before filters carry no drop counts yet.
  run.counts.eventsDropped = (run.counts.eventsDropped ?? 0) + (result.progress.dropped ?? 0);
  addDropCounts((run.counts.droppedByReason ??= {}), result.progress.droppedByReason);
}
