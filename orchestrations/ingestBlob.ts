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
 * A blob without a block list (written with Put Blob, as copy tools do) is one range: the whole
 * blob, its checkpoint keyed by its etag and length (core/blocks planWholeBlob), so a later upload
 * is a rewritten blob too.
 * A range that fails part-way is committed up to its wholly acknowledged blocks (so they are never
 * sent again) before the rest is retried or the instance fails.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, RetryOptions, Task, TimerTask } from "durable-functions";
import type { MinuteAggregate } from "../src/core/anomaly/aggregate";
import { backoffDelayInMs } from "../src/core/backoff";
import { addDropCounts } from "../src/core/eventFilter";
import { flowLogKeyOf } from "../src/core/freshness";
import { FreshnessEntity, freshnessEntityKey } from "../src/contracts/freshnessContracts";
import {
  INITIAL_BLOCK_CHECKPOINT,
  planNextRange,
  planWholeBlob,
  wholeBlobBlock,
  type BlockCheckpoint,
  type CommittedBlock,
  type PlannedRange,
  type RangePlan,
  type Rewritten,
  type WholeBlob,
} from "../src/core/blocks";
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
  type ClaimResult,
  type IngestBlobInput,
  type IngestBlobOptions,
  type IngestBlobResult,
  type IngestProgress,
  type ProcessRangeInput,
  type ProcessRangeResult,
  type ProcessRangeCounts,
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
  return backoffDelayInMs(attempt, options.activityRetryIntervalInMs, maxRetryIntervalInMs(options));
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
  if (blockCount === plan.blockCount) return plan.next;
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
      `processRange reported ${blockCount} completed blocks of a range of ${plan.blockCount} ` +
        `from block ${plan.firstBlockIndex}: not a part of it`,
    );
  }
  return part.next;
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
    ...(plan.wholeBlobEtag !== undefined && { wholeBlobEtag: plan.wholeBlobEtag }),
  };
}

/** One signal per target, to its live or historic detector. */
function signalDetectors(
  context: OrchestrationContext,
  location: BlobLocation,
  aggregates: readonly MinuteAggregate[],
  historic: boolean,
): void {
  const byKey = new Map<string, MinuteAggregate[]>();
  for (const aggregate of aggregates) {
    const key = historic ? historicDetectorEntityKey(aggregate.target, location) : detectorEntityKey(aggregate.target);
    byKey.set(key, [...(byKey.get(key) ?? []), aggregate]);
  }
  const nowIso = context.df.currentUtcDateTime.toISOString();
  for (const [key, targetAggregates] of byKey) {
    const input: DetectorIngestInput = { aggregates: targetAggregates, historic, nowIso };
    signalEntity(context, DetectorEntity.ingest, key, input);
  }
}

/** What a run read of its blob: the committed block list, or the blob whole when it has none (Put Blob). */
interface Listing {
  blocks: CommittedBlock[];
  whole: WholeBlob | undefined;
}

/** The blocks a range is cut from: the committed ones, or the one pseudo-block of a blob written whole. */
function blocksOf(listing: Listing): readonly CommittedBlock[] {
  return listing.whole ? [wholeBlobBlock(listing.whole)] : listing.blocks;
}

function rewrittenWarning(
  location: BlobLocation,
  resets: number,
  body: { time: string; reason: string; previousCheckpoint: BlockCheckpoint; historic: boolean },
): PublishEventsInput {
  const key = checkpointEntityKey(location);
  return {
    events: [
      {
        id: `${BLOB_REWRITTEN_EVENT_TYPE}-${key}-${resets}`,
        partitionKey: key,
        body: {
          type: BLOB_REWRITTEN_EVENT_TYPE,
          time: body.time,
          ...location,
          reason: body.reason,
          previousCheckpoint: body.previousCheckpoint,
          historic: body.historic,
        },
      },
    ],
  };
}

/** What a delivery step leaves for the loop: plan again (from a fresh block list or the one read). */
type Next = "replan" | "reread";

/**
 * One generation of one blob's ingestion. Each step is a generator the orchestrator delegates to
 * (`yield*`), so the replay sees the same tasks in the same order as one long function would yield.
 */
class IngestRun {
  readonly options: IngestBlobOptions;
  readonly location: BlobLocation;
  readonly owner: string;
  readonly entityKey: string;
  readonly retry: RetryOptions;
  readonly progress: IngestProgress;
  readonly historic: boolean;
  /** Ranges and waits of this generation: history stays bounded by continueAsNew. */
  steps = 0;
  checkpoint: BlockCheckpoint = INITIAL_BLOCK_CHECKPOINT;
  listing: Listing | undefined;
  /** Set once the final re-read of the block list is under way: caught up after it, the run ends. */
  finalCheck = false;
  /** The block list was read after the last advance: caught up on it, no re-read is needed. */
  listIsFresh = false;
  /** Attempts of processRange that ended in a failure since the last range fully delivered (a partial one included). */
  failedAttempts = 0;

  constructor(
    readonly context: OrchestrationContext,
    readonly input: IngestBlobInput,
  ) {
    this.options = input.options;
    this.location = { container: input.container, path: input.path };
    this.owner = context.df.instanceId;
    this.entityKey = checkpointEntityKey(this.location);
    this.retry = retryOptionsOf(this.options);
    this.progress = {
      ...(input.progress ?? EMPTY_PROGRESS),
      droppedByReason: { ...input.progress?.droppedByReason },
    };
    this.progress.generations++;
    this.historic = input.historic ?? false;
  }

  log(message: string): void {
    if (!this.context.df.isReplaying)
      this.context.warn(`ingestBlob ${this.owner} (${blobKey(this.location)}): ${message}`);
  }

  nowIso(): string {
    return this.context.df.currentUtcDateTime.toISOString();
  }

  wait(delayInMs: number): TimerTask {
    return this.context.df.createTimer(new Date(this.context.df.currentUtcDateTime.getTime() + delayInMs));
  }

  result(outcome: IngestBlobResult["outcome"]): IngestBlobResult {
    return { ...this.location, outcome, checkpoint: this.checkpoint, progress: this.progress };
  }

  /** Plans again from `state` (another owner moved it, or a reset), with a block list newer than it. */
  moveTo(state: BlockCheckpoint | null | undefined): Next {
    this.checkpoint = positionOf(state);
    return "reread";
  }

  /** Reads the block list (or the whole blob's etag and length); the result when the blob is gone. */
  *readListing(): Generator<Task, IngestBlobResult | undefined, unknown> {
    const list = yield* callActivity(this.context, readBlockListActivity, this.location, this.retry);
    if (!list.found) {
      this.log("the blob does not exist; nothing to ingest");
      return this.result("blobNotFound");
    }
    const writtenWhole = list.blocks.length === 0 && list.contentLength > 0;
    this.listing = {
      blocks: list.blocks,
      whole: writtenWhole ? { etag: list.etag, contentLength: list.contentLength } : undefined,
    };
    this.listIsFresh = true;
    return undefined;
  }

  plan(listing: Listing): RangePlan {
    if (listing.whole) return planWholeBlob(listing.whole, this.checkpoint);
    return planNextRange(listing.blocks, this.checkpoint, { maxRangeSizeInBytes: this.options.maxRangeSizeInBytes });
  }

  /** A rewritten blob: reset its checkpoint (compare-and-set) and warn on the alerts hub, or wait for a claim. */
  *resetRewritten(plan: Rewritten): Generator<Task, Next, unknown> {
    const resetInput: ResetInput = {
      reason: `blob rewritten: ${plan.reason}`,
      nowIso: this.nowIso(),
      owner: this.owner,
      expected: this.checkpoint,
    };
    const reset = yield* callEntity(this.context, CheckpointEntity.reset, this.entityKey, resetInput);
    if (reset.applied) {
      this.log(`${resetInput.reason}; reprocessing it from its start`);
      this.progress.rewrites++;
      const warning = rewrittenWarning(this.location, reset.state.resets, {
        time: this.nowIso(),
        reason: plan.reason,
        previousCheckpoint: this.checkpoint,
        historic: this.historic,
      });
      yield* callActivity(this.context, publishEventsActivity, warning, this.retry);
    } else if (samePosition(reset.state, this.checkpoint)) {
      // Another owner's live claim: wait for it to end rather than pull the blob from under it.
      yield this.wait(this.options.claimRetryInSeconds * 1000);
      this.steps++;
    }
    return this.moveTo(reset.state);
  }

  /** Caught up: the result when the run ends here, else undefined (an update came, or a last re-read is due). */
  *waitForUpdate(): Generator<Task, IngestBlobResult | undefined, unknown> {
    const done = this.result("caughtUp");
    // Backfill reads finished hours: nothing to wait for (live ingestion takes a blob still growing).
    if (this.finalCheck || this.historic) return done;
    // Drain "blobUpdated" events already delivered, or wait the linger for one.
    const updated = this.context.df.waitForExternalEvent(BLOB_UPDATED_EVENT);
    const linger = this.wait(this.options.lingerInSeconds * 1000);
    const winner: unknown = yield this.context.df.Task.any([updated, linger]);
    this.steps++;
    if (winner === updated) {
      linger.cancel();
      return undefined;
    }
    // Nothing announced: end on a list read since the last advance, else read it once more first.
    if (this.listIsFresh) return done;
    this.finalCheck = true;
    return undefined;
  }

  claim(): Generator<Task, ClaimResult, unknown> {
    const claimInput: ClaimInput = {
      ...this.location,
      owner: this.owner,
      from: this.checkpoint,
      nowIso: this.nowIso(),
      untilIso: new Date(
        this.context.df.currentUtcDateTime.getTime() + this.options.claimTtlInSeconds * 1000,
      ).toISOString(),
    };
    return callEntity(this.context, CheckpointEntity.claim, this.entityKey, claimInput);
  }

  /** Claims, sends and commits one planned range. */
  *deliver(plan: PlannedRange, listing: Listing): Generator<Task, Next, unknown> {
    const claim = yield* this.claim();
    if (!claim.granted) {
      if (samePosition(claim.state, this.checkpoint)) {
        this.log(`range not claimed (${claim.reason}); trying again in ${this.options.claimRetryInSeconds} s`);
        yield this.wait(this.options.claimRetryInSeconds * 1000);
        this.steps++;
      }
      return this.moveTo(claim.state);
    }
    const sent = yield* this.processWithRetries(rangeInput(this.location, plan, blocksOf(listing)));
    this.steps++;
    if ("lostTo" in sent) {
      this.log("the range was taken over while processRange waited for a retry; planning again");
      return this.moveTo(sent.lostTo);
    }
    const { result } = sent;
    if (result.kind === "stale") {
      this.log(`the planned range is stale (${result.reason}); reading the block list again`);
      yield* callEntity(this.context, CheckpointEntity.release, this.entityKey, { owner: this.owner });
      return "reread";
    }
    return yield* this.commit(plan, blocksOf(listing), result, sent.attempt);
  }

  /**
   * processRange, retried here rather than with callActivityWithRetry: the claim is renewed before
   * each retry, so an owner whose claim lapsed during the backoff never sends a range another owner took.
   */
  *processWithRetries(
    input: ProcessRangeInput,
  ): Generator<Task, { result: ProcessRangeResult; attempt: number } | { lostTo: CheckpointState }, unknown> {
    const { activityMaxAttempts } = this.options;
    for (let attempt = this.failedAttempts + 1; ; attempt++) {
      try {
        return { result: yield* callActivity(this.context, processRangeActivity, input), attempt };
      } catch (error) {
        if (attempt >= activityMaxAttempts) {
          // Nothing is committed: free the range for the next attempt (a new event, reconcile, backfill).
          yield* callEntity(this.context, CheckpointEntity.release, this.entityKey, { owner: this.owner });
          throw error;
        }
        const delayInMs = retryDelayInMs(this.options, attempt);
        const message = error instanceof Error ? error.message : String(error);
        this.log(
          `processRange attempt ${attempt} of ${activityMaxAttempts} failed (${message}); retrying in ${delayInMs} ms`,
        );
        yield this.wait(delayInMs);
        const renewed = yield* this.claim();
        if (!renewed.granted) return { lostTo: renewed.state };
      }
    }
  }

  /** Commits what was delivered (all, or the wholly acknowledged blocks), then retries the rest if any. */
  *commit(
    plan: PlannedRange,
    blocks: readonly CommittedBlock[],
    result: Exclude<ProcessRangeResult, { kind: "stale" }>,
    attempt: number,
  ): Generator<Task, Next, unknown> {
    // Part-way: commit exactly the blocks whose events were all acknowledged, so they are never sent again.
    const to =
      result.kind === "partial"
        ? partOfRange(blocks, this.checkpoint, plan, result.completedBlockCount, this.options)
        : plan.next;
    const advanceInput: AdvanceInput = {
      owner: this.owner,
      from: this.checkpoint,
      to,
      events: result.events,
      nowIso: this.nowIso(),
    };
    const advanced = yield* callEntity(this.context, CheckpointEntity.advance, this.entityKey, advanceInput);
    if (advanced.outcome === "refused") {
      // Only after our claim expired and another owner took the range over: it was sent twice.
      this.log(`advance refused (${advanced.reason}): the range was re-sent after a claim expired`);
      return this.moveTo(advanced.state);
    }
    this.checkpoint = to;
    this.finalCheck = false;
    this.listIsFresh = false;
    this.count(result, advanceInput.nowIso);
    if (result.kind === "processed") {
      this.failedAttempts = 0;
      return "replan";
    }
    yield* this.retryRest(plan, result, attempt);
    return "reread";
  }

  count(result: Exclude<ProcessRangeResult, { kind: "stale" }>, commitIso: string): void {
    this.progress.ranges++;
    this.progress.events += result.events;
    this.progress.tuples += result.tuples;
    this.progress.bytes += result.bytes;
    this.progress.quarantined += result.quarantined;
    addDroppedTo(this.progress, result);
    if (!this.historic) signalFreshness(this.context, this.location, commitIso, result);
    if (result.aggregates.length > 0) signalDetectors(this.context, this.location, result.aggregates, this.historic);
  }

  /**
   * The rest of the range failed: retry it under the same policy (the advance released the claim:
   * another owner may take it meanwhile), or fail with the activity's error, the delivered part committed.
   */
  *retryRest(
    plan: PlannedRange,
    result: Extract<ProcessRangeResult, { kind: "partial" }>,
    attempt: number,
  ): Generator<Task, void, unknown> {
    const { failure } = result;
    this.failedAttempts = attempt;
    const { activityMaxAttempts } = this.options;
    const firstBlocks = `the first ${result.completedBlockCount} of ${plan.blockCount} blocks`;
    const committed = `${firstBlocks} are delivered and committed`;
    if (!failure.retryable || this.failedAttempts >= activityMaxAttempts) {
      throw new ServiceError(`processRange failed part-way (${committed}): ${failure.name}: ${failure.message}`, {
        retryable: failure.retryable,
      });
    }
    const delayInMs = retryDelayInMs(this.options, this.failedAttempts);
    this.log(
      `processRange attempt ${this.failedAttempts} of ${activityMaxAttempts} failed part-way (${committed}): ` +
        `${failure.message}; retrying the rest in ${delayInMs} ms`,
    );
    yield this.wait(delayInMs);
  }
}

export const ingestBlobOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, IngestBlobResult | undefined, unknown> {
  const run = new IngestRun(context, parseInput(context.df.getInput()));
  const state = yield* callEntity(context, CheckpointEntity.get, run.entityKey, undefined);
  run.checkpoint = positionOf(state);
  for (;;) {
    if (run.steps >= run.options.rangesPerGeneration) {
      context.df.continueAsNew({ ...run.input, progress: run.progress } satisfies IngestBlobInput);
      return undefined;
    }
    if (run.listing === undefined) {
      const gone = yield* run.readListing();
      if (gone) return gone;
    }
    const listing = run.listing!;
    const plan = run.plan(listing);
    let next: Next;
    if (plan.kind === "rewritten") next = yield* run.resetRewritten(plan);
    else if (plan.kind === "caughtUp") {
      const done = yield* run.waitForUpdate();
      if (done) return done;
      next = "reread";
    } else next = yield* run.deliver(plan, listing);
    if (next === "reread") run.listing = undefined;
  }
};
