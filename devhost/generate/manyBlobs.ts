/**
 * The layout of a large backfill corpus: many flow logs (NICs) over months of hours, as a
 * subscription's history looks (one flow log writes 720 blobs a month). Each blob is small (a few
 * minutes of a few tuples) so that 100,000 of them fit in Azurite's memory and the backfill's own
 * per-blob cost shows. Pure and deterministic for (blobCount, seed, startHourIso).
 */
import { planBlobs, type PlannedBlob } from "./blob";
import { hoursFrom } from "./time";
import { buildTopology, type Topology } from "./topology";

/** Hours of history per flow log: a 30-day month. */
export const HOURS_PER_FLOW_LOG = 720;

export interface ManyBlobsOptions {
  blobCount: number;
  seed: number;
  /** First hour, a whole UTC hour. */
  startHourIso: string;
  /** Hours per flow log at most (default HOURS_PER_FLOW_LOG); more blobs take more flow logs. */
  hoursPerFlowLog?: number;
}

export interface ManyBlobsLayout {
  topology: Topology;
  /** The backfill range covering every blob: [fromIso, toIso). */
  fromIso: string;
  toIso: string;
  /** Exactly `blobCount` blobs, hour by hour, NIC by NIC (the last hour may hold fewer NICs). */
  blobs: PlannedBlob[];
}

/** Flow logs per subscription and resource groups per subscription, as an estate of many teams. */
const NICS_PER_SUBSCRIPTION = 40;
const RESOURCE_GROUPS_PER_SUBSCRIPTION = 4;

export function planManyBlobs(options: ManyBlobsOptions): ManyBlobsLayout {
  const { blobCount } = options;
  const hoursPerFlowLog = options.hoursPerFlowLog ?? HOURS_PER_FLOW_LOG;
  if (!Number.isInteger(blobCount) || blobCount < 1) {
    throw new RangeError(`planManyBlobs: blobCount must be a positive integer, got ${blobCount}`);
  }
  if (!Number.isInteger(hoursPerFlowLog) || hoursPerFlowLog < 1) {
    throw new RangeError(`planManyBlobs: hoursPerFlowLog must be a positive integer, got ${hoursPerFlowLog}`);
  }
  const nics = Math.ceil(blobCount / hoursPerFlowLog);
  const hours = Math.ceil(blobCount / nics);
  const topology = buildTopology({
    seed: options.seed,
    nics,
    subscriptions: Math.min(Math.ceil(nics / NICS_PER_SUBSCRIPTION), 100),
    resourceGroupsPerSubscription: RESOURCE_GROUPS_PER_SUBSCRIPTION,
  });
  const blobs: PlannedBlob[] = [];
  // VNet flow logs in the `{sub}_{RG}/{WATCHER}_{NAME}` layout real blobs use.
  for (const blob of planBlobs(topology, options.startHourIso, hours, { vnetLayout: "underscore" })) {
    if (blobs.length === blobCount) break;
    blobs.push(blob);
  }
  const hourList = hoursFrom(options.startHourIso, hours + 1);
  return { topology, fromIso: hourList[0]!, toIso: hourList[hours]!, blobs };
}
