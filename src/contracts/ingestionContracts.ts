/**
 * The ingestion feature's contracts: the names, inputs and results of the ingestBlob
 * orchestration, the checkpoint entity and the readBlockList and processRange activities, shared
 * by orchestrations/, activities/ and the triggers that start ingestion.
 */
import type { IngestionSettings } from "../config";
import type { MinuteAggregate } from "../core/anomaly/aggregate";
import type { BlockCheckpoint, CommittedBlock } from "../core/blocks";
import type { BlobLocation } from "../core/blobUrl";
import { hashBlobPath } from "../core/eventId";
import { activityContract, entityOperation, orchestrationContract } from "./contract";
import { ActivityNames, EntityNames, OrchestrationNames } from "./names";

/** Operations of the checkpoint entity (orchestrations/checkpoint.ts). */
export const CheckpointOperations = {
  get: "get",
  claim: "claim",
  advance: "advance",
  release: "release",
  reset: "reset",
} as const;

export interface RangeClaim {
  owner: string;
  /** ISO-8601: the claim is void from this instant on, so a crashed owner never blocks a blob for good. */
  untilIso: string;
}

export interface CheckpointState extends BlockCheckpoint {
  container: string;
  path: string;
  eventsEmitted: number;
  rangesCommitted: number;
  lastUpdatedIso: string | null;
  claim: RangeClaim | null;
  /** The last advance applied: applying it again is a no-op. */
  lastAdvance: { owner: string; from: BlockCheckpoint; to: BlockCheckpoint } | null;
  resets: number;
  lastReset: { reason: string; atIso: string } | null;
}

export interface ClaimInput extends BlobLocation {
  owner: string;
  /** The position the owner planned from: the claim is refused unless it is the current one. */
  from: BlockCheckpoint;
  nowIso: string;
  untilIso: string;
}

export interface ClaimResult {
  granted: boolean;
  /** Why a claim was refused. */
  reason?: string;
  state: CheckpointState;
}

export interface AdvanceInput {
  owner: string;
  from: BlockCheckpoint;
  to: BlockCheckpoint;
  /** Events the range produced (added to eventsEmitted). */
  events: number;
  nowIso: string;
}

export interface AdvanceResult {
  outcome: "advanced" | "alreadyApplied" | "refused";
  reason?: string;
  state: CheckpointState;
}

export interface ReleaseInput {
  owner: string;
}

export interface ResetInput {
  reason: string;
  nowIso: string;
  /** An orchestration resetting a rewritten blob: refused while another owner's claim is live. Operators omit it. */
  owner?: string;
  /** Compare-and-set: reset only from this position. Operators omit it. */
  expected?: BlockCheckpoint;
}

export interface ResetResult {
  applied: boolean;
  reason?: string;
  state: CheckpointState;
}

/** `${container}/${path}`: the blob's key everywhere (ids, logs, entity state). */
export function blobKey(location: BlobLocation): string {
  return `${location.container}/${location.path}`;
}

/** The checkpoint entity key of a blob: a stable 64-bit hash of its key (entity keys cannot hold '/'). */
export function checkpointEntityKey(location: BlobLocation): string {
  return hashBlobPath(blobKey(location));
}

/** The external event a trigger raises on a running ingestBlob instance when its blob changed. */
export const BLOB_UPDATED_EVENT = "blobUpdated";
/** Type of the warning event published on the alerts hub when a blob was rewritten. */
export const BLOB_REWRITTEN_EVENT_TYPE = "flowtap.blobRewritten";

/** The orchestration's knobs (from IngestionSettings: orchestrations read no settings themselves). */
export type IngestBlobOptions = Pick<
  IngestionSettings,
  | "maxRangeSizeInBytes"
  | "rangesPerGeneration"
  | "claimTtlInSeconds"
  | "claimRetryInSeconds"
  | "lingerInSeconds"
  | "activityMaxAttempts"
  | "activityRetryIntervalInMs"
>;

/** Totals over every generation of one run. */
export interface IngestProgress {
  ranges: number;
  events: number;
  tuples: number;
  /** Blob bytes delivered. */
  bytes: number;
  quarantined: number;
  rewrites: number;
  generations: number;
}

export interface IngestBlobInput extends BlobLocation {
  /** Backfill: aggregates go to the historic detectors (never captures). Default false. */
  historic?: boolean;
  options: IngestBlobOptions;
  /** Carried across continueAsNew; absent at the start. */
  progress?: IngestProgress;
}

export interface IngestBlobResult extends BlobLocation {
  /**
   * caughtUp: every committed record block is delivered (a blob written whole, without a block
   * list, counts as one block); blobNotFound: the blob does not exist.
   */
  outcome: "caughtUp" | "blobNotFound";
  checkpoint: BlockCheckpoint;
  progress: IngestProgress;
}

/* Activity contracts (activities/readBlockList.ts, activities/processRange.ts). */
export type ReadBlockListInput = BlobLocation;

export interface ReadBlockListResult {
  found: boolean;
  blocks: CommittedBlock[];
  contentLength: number;
  /** The blob's etag: what a blob without a block list (Put Blob) is known by. */
  etag: string;
}

export interface ProcessRangeInput extends BlobLocation {
  offsetInBytes: number;
  countInBytes: number;
  firstBlockIndex: number;
  /** Sizes of the range's blocks, in order: each block is one record, read and flattened on its own. */
  blockSizesInBytes: number[];
  /**
   * Set for a blob without a block list: the range is the whole blob (firstBlockIndex 0, one size),
   * read only while the blob still has this etag and split into its records as it streams.
   */
  wholeBlobEtag?: string;
}

export interface ProcessRangeCounts {
  /** Tuples seen, malformed ones included. */
  tuples: number;
  events: number;
  bytes: number;
  records: number;
  issues: number;
  quarantined: number;
}

/** Why a range stopped part-way: enough to fail the instance with the activity's error. */
export interface ProcessRangeFailure {
  name: string;
  message: string;
  /** false: trying again cannot help (the instance fails once the acknowledged blocks are committed). */
  retryable: boolean;
}

export type ProcessRangeResult =
  | ({ kind: "processed"; aggregates: MinuteAggregate[] } & ProcessRangeCounts)
  /**
   * The send failed after the events of the range's first `completedBlockCount` blocks (not all) were
   * acknowledged: counts and aggregates cover exactly those blocks, which are to be committed.
   */
  | ({
      kind: "partial";
      completedBlockCount: number;
      aggregates: MinuteAggregate[];
      failure: ProcessRangeFailure;
    } & ProcessRangeCounts)
  /** The blob cannot serve the planned range (it changed since the block list was read): nothing was sent. */
  | { kind: "stale"; reason: string };

/** The live instance id of a blob's ingestion: `ingest-` + a stable hash of `${container}/${path}`. */
export function ingestInstanceId(location: BlobLocation): string {
  return `ingest-${hashBlobPath(blobKey(location))}`;
}

/** The input of ingestBlob for a blob (backfill passes `historic: true` and its own instance id). */
export function ingestBlobInput(
  location: BlobLocation,
  settings: IngestionSettings,
  options: { historic?: boolean } = {},
): IngestBlobInput {
  return {
    container: location.container,
    path: location.path,
    ...(options.historic ? { historic: true } : {}),
    options: {
      maxRangeSizeInBytes: settings.maxRangeSizeInBytes,
      rangesPerGeneration: settings.rangesPerGeneration,
      claimTtlInSeconds: settings.claimTtlInSeconds,
      claimRetryInSeconds: settings.claimRetryInSeconds,
      lingerInSeconds: settings.lingerInSeconds,
      activityMaxAttempts: settings.activityMaxAttempts,
      activityRetryIntervalInMs: settings.activityRetryIntervalInMs,
    },
  };
}

export const ingestBlobOrchestration = orchestrationContract<IngestBlobInput, IngestBlobResult>(
  OrchestrationNames.ingestBlob,
);
export const readBlockListActivity = activityContract<ReadBlockListInput, ReadBlockListResult>(
  ActivityNames.readBlockList,
);
export const processRangeActivity = activityContract<ProcessRangeInput, ProcessRangeResult>(ActivityNames.processRange);

/** The checkpoint entity's operations with their inputs and results. */
export const CheckpointEntity = {
  get: entityOperation<undefined, CheckpointState | null>(EntityNames.checkpoint, CheckpointOperations.get),
  claim: entityOperation<ClaimInput, ClaimResult>(EntityNames.checkpoint, CheckpointOperations.claim),
  advance: entityOperation<AdvanceInput, AdvanceResult>(EntityNames.checkpoint, CheckpointOperations.advance),
  release: entityOperation<ReleaseInput, null>(EntityNames.checkpoint, CheckpointOperations.release),
  reset: entityOperation<ResetInput, ResetResult>(EntityNames.checkpoint, CheckpointOperations.reset),
} as const;
