/**
 * The backfill feature's contracts: the backfill orchestration's input and summary and the
 * listBlobs activity's paged listing, shared by orchestrations/, activities/ and the HTTP starter.
 * Each blob of a backfill runs through ingestBlob (contracts/ingestion).
 */
import type { IngestionSettings } from "../config";
import type { FailedBlob, FailureList } from "../core/backfillFailures";
import type { BackfillCounts, BackfillProgress, BackfillRequest } from "../core/backfillProgress";
import type { BlobLocation } from "../core/blobUrl";
import type { BlobWalkFilter } from "../core/blobWalk";
import { hashBlobPath } from "../core/eventId";
import { activityContract, orchestrationContract } from "./contract";
import { blobKey } from "./ingestionContracts";
import { ActivityNames, OrchestrationNames } from "./names";

export interface BackfillInput {
  request: BackfillRequest;
  /** Blobs listed (and counted) per activity call; one ingestion page per generation. */
  blobsPerPage: number;
  /** ingestBlob's knobs for this backfill's blobs (orchestrations read no settings themselves). */
  ingestion: IngestionSettings;
  /** Carried across continueAsNew; absent at the start. */
  run?: BackfillRun;
}

/** Carried across continueAsNew: a few KB whatever the backfill's size (failures are capped in bytes). */
export interface BackfillRun extends FailureList {
  phase: "counting" | "ingesting";
  startedAt: string;
  /** The last blob listed so far in this phase (the next page starts after it); null at the start of a phase. */
  cursor: BlobLocation | null;
  counts: BackfillCounts;
}

export type { FailedBlob };

/** The output: the final progress and the failed blobs with their reasons (capped in bytes, the rest counted). */
export interface BackfillSummary extends BackfillProgress, FailureList {}

/**
 * Instance ids of a backfill and of its children. Every kind of instance has its own prefix (`backfill:`, `ingest-`,
 * `capture-`, `alerts-`, `monitor-alert-`) and a backfillId has no `:` (parseBackfillRequest), so no caller-chosen
 * backfillId can name another backfill's child or an instance of another kind.
 */
const BACKFILL_INSTANCE_PREFIX = "backfill:";

export function backfillInstanceId(backfillId: string): string {
  return `${BACKFILL_INSTANCE_PREFIX}${backfillId}`;
}

/** The backfillId of a backfill's instance id (what a user named it). */
export function backfillIdOfInstance(instanceId: string): string {
  return instanceId.startsWith(BACKFILL_INSTANCE_PREFIX)
    ? instanceId.slice(BACKFILL_INSTANCE_PREFIX.length)
    : instanceId;
}

/** A blob's ingestion in a backfill run: unique per run, so a re-run never meets a leftover child's id. */
export function backfillChildInstanceId(backfillId: string, startedAt: string, location: BlobLocation): string {
  return `${backfillInstanceId(backfillId)}:${Date.parse(startedAt).toString(36)}:${hashBlobPath(blobKey(location))}`;
}

export interface FlowLogBlob {
  container: string;
  path: string;
  contentLength: number;
}

/** Where a paged listing resumes: after this blob (the last one of the previous page). */
export type BackfillListCursor = BlobLocation;

export interface ListBlobsPage {
  /** null: from the start. */
  after: BackfillListCursor | null;
  maxBlobs: number;
  /** Count the page's blobs without returning them (a small result for totals). */
  countOnly?: boolean;
}

export interface ListBlobsInput {
  filter: BlobWalkFilter;
  /** Default: every configured flow-log container. */
  containers?: string[];
  /** Default: one page with every blob. */
  page?: ListBlobsPage;
}

export interface ListBlobsResult {
  /** Empty with countOnly. */
  blobs: FlowLogBlob[];
  count: number;
  /** Where the next page starts; null when the walk is complete. */
  next: BackfillListCursor | null;
  listings: number;
}

export const backfillOrchestration = orchestrationContract<BackfillInput, BackfillSummary | undefined>(
  OrchestrationNames.backfill,
);
export const listBlobsActivity = activityContract<ListBlobsInput, ListBlobsResult>(ActivityNames.listBlobs);
