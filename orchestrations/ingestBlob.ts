/**
 * ingestBlob: one orchestration per blob (a singleton, instance id from the blob) that catches a
 * flow-log blob up to its committed end, range by range (design §3):
 *   get checkpoint → read the committed block list → planNextRange (pure) → CLAIM on the
 *   checkpoint entity → processRange (read, flatten, send) → ADVANCE (compare-and-set) → signal
 *   the detector → next range; continueAsNew every `rangesPerGeneration` ranges (bounded history).
 * It always works from the committed block list, never from an event's contentLength, so late,
 * duplicate or reordered events change nothing. Updates announced while it runs arrive as
 * "blobUpdated" events; before a live run ends it drains them and re-reads the block list once
 * more (a backfill run, `historic`, ends as soon as it is caught up).
 * A rewritten blob is reset to its start and reprocessed, with a `flowtap.blobRewritten` warning.
 * A range that fails part-way is committed up to its wholly acknowledged blocks (so they are never
 * sent again) before the rest is retried or the instance fails.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, RetryOptions, Task, TimerTask } from "durable-functions";
import type { MinuteAggregate } from "../src/core/anomaly/aggregate";
import { addDropCounts } from "../src/core/eventFilter";
import { flowLogKeyOf } from "../src/core/freshness";
import { FreshnessEntity, freshnessEntityKey } from "../src/contracts/freshnessContracts";
import { planNextRange, type BlockCheckpoint, type CommittedBlock, type PlannedRange } from "../src/core/blocks";
import type { BlobLocation } from "../src/core/blobUrl";
import { ServiceError, ValidationError } from "../src/errors";
import {
  DetectorEntity,
  detectorEntityKey,
  historicDetectorEntityKey,
  publishEventsActivity,
} from "../src/contracts/captureContracts";
import type { DetectorIngestInput, PublishEventsInput } from "../src/contracts/captureContracts";
import {
  BLOB_REWRITTEN_EVENT_TYPE,
  BLOB_UPDATED_EVENT,
  blobKey,
  CheckpointEntity,
  checkpointEntityKey,
  processRangeActivity,
  readBlockListActivity,
  type AdvanceInput,
  type CheckpointState,
  type ClaimInput,
  type IngestBlobInput,
  type IngestBlobOptions,
  type IngestBlobResult,
  type IngestProgress,
  type ProcessRangeCounts,
  type ProcessRangeInput,
  type ProcessRangeResult,
  type ResetInput,
} from "../src/contracts/ingestionContracts";
import { callActivity, callEntity, signalEntity } from "./calls";
import { positionOf, samePosition } from "./checkpoint";

const EMPTY_PROGRESS: IngestProgress = {
  ranges: 0,
  events: 0,
  tuples: 0,
  bytes: 0,
  quarantined: 0,
  dropped: 0,
  droppedByReason: {},
  rewrites: 0,
  generations: 0,
};

/** Tells the flow log's freshness entity what a live range delivered (backfill reports no freshness). */
function signalFreshness(
  context: OrchestrationContext,
  location: BlobLocation,
  commitIso: string,
  counts: ProcessRangeCounts,
): void {
  const flowLog = flowLogKeyOf(location.container, location.path);
  signalEntity(context, FreshnessEntity.record, freshnessEntityKey(flowLog), {
    flowLog,
    commitIso,
    lastTupleTimeIso: counts.lastTupleTimeIso ?? null,
    tuples: counts.tuples,
    events: counts.events,
    bytes: counts.bytes,
    dropped: counts.dropped ?? 0,
    droppedByReason: counts.droppedByReason ?? {},
  });
}

/** Adds a range's dropped tuples to the run's (runs started before filters have none yet). */
function addDroppedTo(progress: IngestProgress, result: Pick<ProcessRangeCounts, "dropped" | "droppedByReason">): void {
  progress.dropped = (progress.dropped ?? 0) + (result.dropped ?? 0);
  addDropCounts((progress.droppedByReason ??= {}), result.droppedByReason);
}

const MAX_RETRY_INTERVAL_IN_MS = 5 * 60_000;

function parseInput(value: unknown): IngestBlobInput {
  const input = value as Partial<IngestBlobInput> | undefined;
  if (
    typeof input?.container !== "string" ||
    typeof input.path !== "string" ||
    typeof input.options !== "object" ||
    input.options === null
  ) {
    throw new ValidationError(`ingestBlob: the input needs container, path and options, got ${JSON.stringify(value)}`);
  }
  return input as IngestBlobInput;
}

function retryOptionsOf(options: IngestBlobOptions): RetryOptions {
  const retry = new df.RetryOptions(options.activityRetryIntervalInMs, options.activityMaxAttempts);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = maxRetryIntervalInMs(options);
  return retry;
}

function maxRetryIntervalInMs(options: IngestBlobOptions): number {
  return Math.max(MAX_RETRY_INTERVAL_IN_MS, options.activityRetryIntervalInMs);
}

function retryDelayInMs(options: IngestBlobOptions, attempt: number): number {
  return Math.min(options.activityRetryIntervalInMs * 2 ** (attempt - 1), maxRetryIntervalInMs(options));
}

/**
 * The checkpoint after the first `blockCount` blocks of a planned range (planned the same way, so its digest is right).
 */
function partOfRange(
  blocks: readonly CommittedBlock[],
  from: BlockCheckpoint,
  plan: PlannedRange,
  blockCount: number,
  options: IngestBlobOptions,
): BlockCheckpoint {
  const part = planNextRange(blocks, from, {
    maxRangeSizeInBytes: options.maxRangeSizeInBytes,
    maxBlockCount: blockCount,
  });
  if (
    part.kind !== "range" ||
    part.firstBlockIndex !== plan.firstBlockIndex ||
    part.blockCount !== blockCount ||
    blockCount > plan.blockCount
  ) {
    throw new ValidationError(
      `processRange reported ${blockCount} completed blocks of a range of ${plan.blockCount} from block ${plan.firstBlockIndex}: not a part of it`,
    );
  }
  return part.next;
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

function rangeInput(location: BlobLocation, plan: PlannedRange, blocks: readonly CommittedBlock[]): ProcessRangeInput {
  return {
    container: location.container,
    path: location.path,
    offsetInBytes: plan.offsetInBytes,
    countInBytes: plan.countInBytes,
    firstBlockIndex: plan.firstBlockIndex,
    blockSizesInBytes: blocks
      .slice(plan.firstBlockIndex, plan.firstBlockIndex + plan.blockCount)
      .map((block) => block.sizeInBytes),
  };
}

/** One signal per target, to its live or historic detector. */
function signalDetectors(
  context: OrchestrationContext,
  aggregates: readonly MinuteAggregate[],
  historic: boolean,
): void {
  const byKey = new Map<string, MinuteAggregate[]>();
  for (const aggregate of aggregates) {
    const key = historic ? historicDetectorEntityKey(aggregate.target) : detectorEntityKey(aggregate.target);
    byKey.set(key, [...(byKey.get(key) ?? []), aggregate]);
  }
  const nowIso = context.df.currentUtcDateTime.toISOString();
  for (const [key, targetAggregates] of byKey) {
    const input: DetectorIngestInput = { aggregates: targetAggregates, historic, nowIso };
    signalEntity(context, DetectorEntity.ingest, key, input);
  }
}

export const ingestBlobOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, IngestBlobResult | undefined, unknown> {
  const input = parseInput(context.df.getInput());
  const { options } = input;
  const location: BlobLocation = { container: input.container, path: input.path };
  const owner = context.df.instanceId;
  const where = `ingestBlob ${owner} (${blobKey(location)})`;
  const entityKey = checkpointEntityKey(location);
  const retry = retryOptionsOf(options);
  const progress: IngestProgress = {
    ...(input.progress ?? EMPTY_PROGRESS),
    droppedByReason: { ...input.progress?.droppedByReason },
  };
  progress.generations++;
  const log = (message: string): void => {
    if (!context.df.isReplaying) context.warn(`${where}: ${message}`);
  };
  /** Ranges and waits of this generation: history stays bounded by continueAsNew. */
  let steps = 0;
  const nowIso = (): string => context.df.currentUtcDateTime.toISOString();
  const waitUntil = (fireAt: Date): TimerTask => context.df.createTimer(fireAt);

  const state = yield* callEntity(context, CheckpointEntity.get, entityKey, undefined);
  let checkpoint = positionOf(state);
  let blocks: CommittedBlock[] | undefined;
  /** Set once the final re-read of the block list is under way: caught up after it, the run ends. */
  let finalCheck = false;
  /** The block list was read after the last advance: caught up on it, no re-read is needed. */
  let listIsFresh = false;
  /** Attempts of processRange that ended in a failure since the last range fully delivered (a partial one included). */
  let failedAttempts = 0;

  for (;;) {
    if (steps >= options.rangesPerGeneration) {
      context.df.continueAsNew({ ...input, progress } satisfies IngestBlobInput);
      return undefined;
    }
    if (blocks === undefined) {
      const list = yield* callActivity(context, readBlockListActivity, location, retry);
      if (!list.found) {
        log("the blob does not exist; nothing to ingest");
        return { ...location, outcome: "blobNotFound", checkpoint, progress };
      }
      if (list.blocks.length === 0 && list.contentLength > 0) {
        log(
          `the blob holds ${list.contentLength} bytes but no committed blocks (written with Put Blob?): flow logs are read by their blocks; not ingested`,
        );
        return { ...location, outcome: "noBlockList", checkpoint, progress };
      }
      blocks = list.blocks;
      listIsFresh = true;
    }
    const plan = planNextRange(blocks, checkpoint, { maxRangeSizeInBytes: options.maxRangeSizeInBytes });

    if (plan.kind === "rewritten") {
      const resetInput: ResetInput = {
        reason: `blob rewritten: ${plan.reason}`,
        nowIso: nowIso(),
        owner,
        expected: checkpoint,
      };
      const reset = yield* callEntity(context, CheckpointEntity.reset, entityKey, resetInput);
      if (reset.applied) {
        log(`${resetInput.reason}; reprocessing it from its start`);
        progress.rewrites++;
        const warning: PublishEventsInput = {
          events: [
            {
              id: `${BLOB_REWRITTEN_EVENT_TYPE}-${checkpointEntityKey(location)}-${reset.state.resets}`,
              partitionKey: checkpointEntityKey(location),
              body: {
                type: BLOB_REWRITTEN_EVENT_TYPE,
                time: nowIso(),
                ...location,
                reason: plan.reason,
                previousCheckpoint: checkpoint,
                historic: input.historic ?? false,
              },
            },
          ],
        };
        yield* callActivity(context, publishEventsActivity, warning, retry);
      } else if (samePosition(reset.state, checkpoint)) {
        // Another owner's live claim: wait for it to end rather than pull the blob from under it.
        yield waitUntil(addSeconds(context.df.currentUtcDateTime, options.claimRetryInSeconds));
        steps++;
      }
      checkpoint = positionOf(reset.state);
      blocks = undefined;
      continue;
    }

    if (plan.kind === "caughtUp") {
      const done = { ...location, outcome: "caughtUp", checkpoint, progress } satisfies IngestBlobResult;
      // Backfill reads finished hours: nothing to wait for (live ingestion takes a blob still growing).
      if (finalCheck || input.historic) return done;
      // Drain "blobUpdated" events already delivered, or wait the linger for one.
      const updated = context.df.waitForExternalEvent(BLOB_UPDATED_EVENT);
      const linger = waitUntil(addSeconds(context.df.currentUtcDateTime, options.lingerInSeconds));
      const winner: unknown = yield context.df.Task.any([updated, linger]);
      steps++;
      if (winner === updated) {
        linger.cancel();
        blocks = undefined;
        continue;
      }
      // Nothing announced: end on a list read since the last advance, else read it once more first.
      if (listIsFresh) return done;
      finalCheck = true;
      blocks = undefined;
      continue;
    }

    const claimRange = () => {
      const claimInput: ClaimInput = {
        ...location,
        owner,
        from: checkpoint,
        nowIso: nowIso(),
        untilIso: addSeconds(context.df.currentUtcDateTime, options.claimTtlInSeconds).toISOString(),
      };
      return callEntity(context, CheckpointEntity.claim, entityKey, claimInput);
    };
    const claim = yield* claimRange();
    if (!claim.granted) {
      if (samePosition(claim.state, checkpoint)) {
        log(`range not claimed (${claim.reason}); trying again in ${options.claimRetryInSeconds} s`);
        yield waitUntil(addSeconds(context.df.currentUtcDateTime, options.claimRetryInSeconds));
        steps++;
      }
      // Someone else moved the checkpoint: plan again from there, with a block list newer than it.
      checkpoint = positionOf(claim.state);
      blocks = undefined;
      continue;
    }

    // Retried here rather than with callActivityWithRetry: the claim is renewed before each retry,
    // so an owner whose claim lapsed during the backoff never sends a range another owner took.
    let result: ProcessRangeResult | undefined;
    let lostTo: CheckpointState | undefined;
    let attempt = failedAttempts + 1;
    for (; result === undefined && lostTo === undefined; attempt++) {
      try {
        result = yield* callActivity(context, processRangeActivity, rangeInput(location, plan, blocks));
      } catch (error) {
        if (attempt >= options.activityMaxAttempts) {
          // Nothing is committed: free the range for the next attempt (a new event, reconcile, backfill).
          yield* callEntity(context, CheckpointEntity.release, entityKey, { owner });
          throw error;
        }
        const delayInMs = retryDelayInMs(options, attempt);
        log(
          `processRange attempt ${attempt} of ${options.activityMaxAttempts} failed (${error instanceof Error ? error.message : String(error)}); retrying in ${delayInMs} ms`,
        );
        yield waitUntil(new Date(context.df.currentUtcDateTime.getTime() + delayInMs));
        const renewed = yield* claimRange();
        if (!renewed.granted) lostTo = renewed.state;
      }
    }
    steps++;
    if (result === undefined) {
      log("the range was taken over while processRange waited for a retry; planning again");
      checkpoint = positionOf(lostTo);
      blocks = undefined;
      continue;
    }
    if (result.kind === "stale") {
      log(`the planned range is stale (${result.reason}); reading the block list again`);
      yield* callEntity(context, CheckpointEntity.release, entityKey, { owner });
      blocks = undefined;
      continue;
    }

    // Part-way: commit exactly the blocks whose events were all acknowledged, so they are never sent again.
    const to =
      result.kind === "partial"
        ? partOfRange(blocks, checkpoint, plan, result.completedBlockCount, options)
        : plan.next;
    const advanceInput: AdvanceInput = { owner, from: checkpoint, to, events: result.events, nowIso: nowIso() };
    const advanced = yield* callEntity(context, CheckpointEntity.advance, entityKey, advanceInput);
    if (advanced.outcome === "refused") {
      // Only after our claim expired and another owner took the range over: it was sent twice.
      log(`advance refused (${advanced.reason}): the range was re-sent after a claim expired`);
      checkpoint = positionOf(advanced.state);
      blocks = undefined;
      continue;
    }
    checkpoint = to;
    finalCheck = false;
    listIsFresh = false;
    progress.ranges++;
    progress.events += result.events;
    progress.tuples += result.tuples;
    progress.bytes += result.bytes;
    progress.quarantined += result.quarantined;
    addDroppedTo(progress, result);
    if (!input.historic) signalFreshness(context, location, advanceInput.nowIso, result);
    if (result.aggregates.length > 0) signalDetectors(context, result.aggregates, input.historic ?? false);
    if (result.kind === "processed") {
      failedAttempts = 0;
      continue;
    }

    // The rest of the range failed: retry it under the same policy (the advance released the claim:
    // another owner may take it meanwhile), or fail with the activity's error, the delivered part committed.
    const { failure } = result;
    failedAttempts = attempt - 1;
    const committed = `the first ${result.completedBlockCount} of ${plan.blockCount} blocks are delivered and committed`;
    if (!failure.retryable || failedAttempts >= options.activityMaxAttempts) {
      throw new ServiceError(`processRange failed part-way (${committed}): ${failure.name}: ${failure.message}`, {
        retryable: failure.retryable,
      });
    }
    const delayInMs = retryDelayInMs(options, failedAttempts);
    log(
      `processRange attempt ${failedAttempts} of ${options.activityMaxAttempts} failed part-way (${committed}): ${failure.message}; retrying the rest in ${delayInMs} ms`,
    );
    yield waitUntil(new Date(context.df.currentUtcDateTime.getTime() + delayInMs));
    blocks = undefined;
  }
};
