/**
 * Reconcile timer: Event Grid delivery is at-least-once and, after its retries, may drop events
 * (design §4). Every few minutes this walks the current and previous hour of each flow-log
 * container by prefix (never the whole account), compares each blob's committed length with its
 * checkpoint, and starts (or updates) the ingestion of every blob that is behind.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import type { BlobSource } from "../adapters/blobSource";
import type { FlowtapSettings } from "../config";
import { recentHoursFilter } from "../core/blobWalk";
import { HEAD_BLOCK_SIZE_IN_BYTES, TAIL_BLOCK_SIZE_IN_BYTES } from "../core/blocks";
import { logger } from "../logger";
import { EntityNames } from "../contracts/names";
import { walkFlowLogBlobs, type WalkStats } from "../../activities/listBlobs";
import { startOrUpdateIngestion } from "./blobCreated";
import { CheckpointState, checkpointEntityKey } from "../contracts/ingestionContracts";

export interface ReconcileDeps {
  settings: () => FlowtapSettings;
  blobSource: () => BlobSource;
}

export interface ReconcileSummary {
  blobs: number;
  behind: number;
  listings: number;
}

/**
 * Hours walked: the one the run is in and the one before (Event Grid retries for up to a day, reconcile is the
 * backstop).
 */
const RECONCILE_HOURS = 2;
const HOUR_IN_MS = 3_600_000;

/** True when a blob of this committed length has bytes its checkpoint does not cover (grown, or rewritten). */
export function isBehind(
  contentLength: number,
  checkpoint: Pick<CheckpointState, "blockCount" | "byteOffset"> | undefined,
): boolean {
  if (!checkpoint || checkpoint.blockCount === 0)
    return contentLength > HEAD_BLOCK_SIZE_IN_BYTES + TAIL_BLOCK_SIZE_IN_BYTES;
  return contentLength !== checkpoint.byteOffset + TAIL_BLOCK_SIZE_IN_BYTES;
}

/**
 * The run's hours from the timer's schedule status (the host's clock, virtual in tests): from the
 * hour before its last occurrence to the hour of its next one.
 */
function windowOf(timer: Timer | undefined): { fromIso: string; toIso: string } {
  const last = Date.parse(timer?.scheduleStatus?.last ?? "");
  const next = Date.parse(timer?.scheduleStatus?.next ?? "");
  if (Number.isNaN(last) || Number.isNaN(next)) return recentHoursFilter(new Date(), RECONCILE_HOURS);
  const from = recentHoursFilter(new Date(Math.min(last, next)), RECONCILE_HOURS).fromIso;
  const to = Math.max(
    Date.parse(recentHoursFilter(new Date(Math.max(last, next)), 1).toIso),
    Date.parse(from) + RECONCILE_HOURS * HOUR_IN_MS,
  );
  return { fromIso: from, toIso: new Date(to).toISOString() };
}

export function makeReconcileHandler(deps: ReconcileDeps) {
  return async (timer: Timer, context: InvocationContext): Promise<ReconcileSummary> => {
    const settings = deps.settings();
    const client = df.getClient(context);
    const filter = windowOf(timer);
    const stats: WalkStats = { listings: 0 };
    const summary: ReconcileSummary = { blobs: 0, behind: 0, listings: 0 };
    for (const container of settings.storage.containers) {
      for await (const blob of walkFlowLogBlobs(deps.blobSource(), container, filter, stats)) {
        summary.blobs++;
        const entity = new df.EntityId(EntityNames.checkpoint, checkpointEntityKey(blob));
        const state = await client.readEntityState<CheckpointState>(entity);
        if (!isBehind(blob.contentLength, state.entityExists ? state.entityState : undefined)) continue;
        summary.behind++;
        await startOrUpdateIngestion(client, blob, settings);
      }
    }
    summary.listings = stats.listings;
    const level = summary.behind > 0 ? "info" : "verbose";
    logger[level](
      `Reconcile ${filter.fromIso}..${filter.toIso}: ${summary.blobs} blobs, ${summary.behind} behind their ` +
        `checkpoint, ${summary.listings} listings`,
    );
    return summary;
  };
}
