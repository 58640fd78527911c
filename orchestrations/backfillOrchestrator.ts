/**
 * backfill: ingests every flow-log blob of a time range (HTTP-started, instance id = backfillId).
 * It never lists a whole account: the listBlobs activity walks the hierarchy by prefix (pruned by
 * filters and y=/m=/d=/h=) and answers one page at a time with a cursor. First it counts the
 * blobs (blobsTotal, for the eta), then ingests page after page: each blob goes through the
 * same ingestBlob orchestration and checkpoint entity as live ingestion (a sub-orchestration with
 * its own instance id and `historic: true`), in waves of `maxParallelBlobs` blobs.
 * Every page is one generation (continueAsNew), so the history stays bounded however many blobs there
 * are, and the state carried between generations stays a few KB (failures are capped in bytes).
 * Checkpoints make a re-run (after a terminate, or over an overlapping range) send only what was
 * not sent yet. A failed blob is recorded with its reason and the rest goes on.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, RetryOptions, Task } from "durable-functions";
import type { IngestionSettings } from "../src/config";
import { describeProgress, emptyCounts, walkFilterOf, type BackfillProgress } from "../src/core/backfillProgress";
import type { BlobLocation } from "../src/core/blobUrl";
import { ValidationError } from "../src/errors";
import { addFailure, emptyFailureList } from "../src/core/backfillFailures";
import {
  blobKey,
  ingestBlobInput,
  ingestBlobOrchestration,
  type IngestBlobResult,
} from "../src/contracts/ingestionContracts";
import {
  backfillChildInstanceId,
  listBlobsActivity,
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
    ...emptyFailureList(),
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

/**
 * Ingests a page in fixed waves of maxParallelBlobs blobs: each wave's ingestBlob children are awaited with one
 * Task.all, and a child is never put in a second compound task. A sliding window (Task.any over the running
 * children, again after each completion) would: the extension schedules such a child again and can credit its
 * result to another task (azure-functions-durable-js #574). When Task.all ends early on a failed child, the rest of
 * the wave is awaited one task at a time (a yield of a task already scheduled adds no action).
 */
function* ingestPage(
  context: OrchestrationContext,
  input: BackfillInput,
  run: BackfillRun,
  blobs: readonly BlobLocation[],
  showProgress: () => void,
): Generator<Task, void, unknown> {
  const waveSize = input.request.maxParallelBlobs;
  for (let first = 0; first < blobs.length; first += waveSize) {
    const wave = blobs.slice(first, first + waveSize).map((blob) => {
      const childId = backfillChildInstanceId(input.request.backfillId, run.startedAt, blob);
      const childInput = ingestBlobInput(blob, input.ingestion, { historic: true });
      return { blob, child: subOrchestrationTask(context, ingestBlobOrchestration, childInput, childId) };
    });
    yield* settleAll(
      context,
      wave.map((entry) => entry.child.task),
    );
    for (const { blob, child } of wave) settle(context, run, child, blob);
    showProgress();
  }
}

/** Waits until every task has ended, failed or not, without putting any of them in a second compound task. */
function* settleAll(context: OrchestrationContext, tasks: readonly Task[]): Generator<Task, void, unknown> {
  try {
    yield context.df.Task.all([...tasks]);
  } catch {
    for (const task of tasks) {
      if (task.isCompleted || task.isFaulted) continue;
      try {
        yield task;
      } catch {
        // Its failure is read from the task by settle().
      }
    }
  }
}

function settle(
  context: OrchestrationContext,
  run: BackfillRun,
  child: TypedTask<IngestBlobResult>,
  blob: BlobLocation,
): void {
  const fail = (reason: string): void => {
    run.counts.blobsFailed++;
    if (!context.df.isReplaying) context.warn(`backfill ${context.df.instanceId}: ${blobKey(blob)} failed: ${reason}`);
    addFailure(run, { container: blob.container, path: blob.path, reason });
  };
  if (child.task.isFaulted) {
    const error = child.task.result;
    fail(error instanceof Error ? error.message : String(error));
    return;
  }
  const result = resultOf(child);
  run.counts.blobsDone++;
  run.counts.eventsSent += result.progress.events;
  run.counts.bytesRead += result.progress.bytes;
}
