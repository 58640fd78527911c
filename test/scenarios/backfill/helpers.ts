/** Shared setup of the backfill tests: generated weeks of flow logs in Azurite, the HTTP starter, waiting. */
import {
  blobPathFor,
  buildTopology,
  generateRecords,
  hoursFrom,
  serializeBlob,
  type AttackPlan,
  type TopologyNic,
} from "../../../devhost/generate";
import type { BackfillProgress } from "../../../src/core/backfillProgress";
import type { InstanceStatus } from "../../../devhost/host";
import type { LocalSystem } from "../../../devhost/system";
import { BackfillSummary } from "../../../src/contracts/backfillContracts";

/** Three NSGs and three VNet flow logs in two subscriptions. */
export const topology = buildTopology({ seed: 11, nics: 6 });
export const WEEK = { from: "2026-11-14T00:00:00Z", to: "2026-11-21T00:00:00Z" };

export interface WrittenBlob {
  container: string;
  path: string;
  nic: TopologyNic;
  hourIso: string;
}

export interface WriteHoursOptions {
  nics?: readonly TopologyNic[];
  /** Minutes per blob (from minute 0); default 1 (with 2 tuples per minute). */
  minutes?: number;
  /** Only these UTC hours of each day (VMs that run part of the day); default all. */
  hoursOfDay?: readonly number[];
  attacks?: readonly AttackPlan[];
}

/** Block ids of one length (the service requires it), distinct within a blob. */
const blockId = (index: number): string => Buffer.from(`block-${String(index).padStart(6, "0")}`).toString("base64");

/**
 * Writes every NIC's blob for each hour of [fromIso, toIso) in the service's block layout (head
 * block, one block per record, tail block), staging a blob's blocks at once and committing them in
 * one request; the second VNet flow log uses the `{sub}_{RG}/{WATCHER}_{NAME}` layout.
 */
export async function writeHours(
  system: LocalSystem,
  fromIso: string,
  toIso: string,
  options: WriteHoursOptions = {},
): Promise<WrittenBlob[]> {
  const nics = options.nics ?? topology.nics;
  const underscoreNic = topology.nics.filter((nic) => nic.kind === "vnet")[1];
  const hours = (Date.parse(toIso) - Date.parse(fromIso)) / 3_600_000;
  const blobs: WrittenBlob[] = [];
  for (const hourIso of hoursFrom(fromIso, hours)) {
    if (options.hoursOfDay && !options.hoursOfDay.includes(new Date(hourIso).getUTCHours())) continue;
    for (const nic of nics)
      blobs.push({
        nic,
        hourIso,
        ...blobPathFor(nic, hourIso, { vnetLayout: nic === underscoreNic ? "underscore" : "arm" }),
      });
  }
  const lastMinute = (options.minutes ?? 1) - 1;
  for (const container of new Set(blobs.map((blob) => blob.container)))
    await system.blobService.getContainerClient(container).createIfNotExists();
  let next = 0;
  const writeNext = async (): Promise<void> => {
    while (next < blobs.length) {
      const blob = blobs[next++]!;
      const records = generateRecords({
        topology,
        nic: blob.nic,
        hourIso: blob.hourIso,
        minutes: { first: 0, last: lastMinute },
        tuplesPerMinute: 2,
        attacks: options.attacks,
      });
      const client = system.blobService.getContainerClient(blob.container).getBlockBlobClient(blob.path);
      const chunks = [...serializeBlob(records)];
      await Promise.all(
        chunks.map((chunk, i) => client.stageBlock(blockId(i), Buffer.from(chunk), Buffer.byteLength(chunk))),
      );
      await client.commitBlockList(chunks.map((_, i) => blockId(i)));
    }
  };
  await Promise.all(Array.from({ length: 16 }, writeNext));
  return blobs;
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
}

/** POST /api/backfill over real HTTP with the host's function key. */
export async function postBackfill(
  system: LocalSystem,
  body: unknown,
  options: { key?: string | null } = {},
): Promise<PostResult> {
  const key = options.key === undefined ? system.host.keys.host : options.key;
  const response = await fetch(`${system.host.baseUrl}/api/backfill`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key !== null && { "x-functions-key": key }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** Starts a backfill (expects 202) and waits for its end. */
export async function runBackfill(
  system: LocalSystem,
  body: Record<string, unknown>,
): Promise<{ status: InstanceStatus; summary: BackfillSummary }> {
  const started = await postBackfill(system, body);
  if (started.status !== 202) throw new Error(`backfill refused: ${started.status} ${JSON.stringify(started.body)}`);
  const status = await system.host.waitForInstance(started.body.id as string, { timeoutInMs: 60_000 });
  await system.host.waitForIdle();
  return { status, summary: status.output as BackfillSummary };
}

/** Polls the instance until `condition` holds on its progress (no timing is asserted). */
export async function waitForProgress(
  system: LocalSystem,
  id: string,
  condition: (progress: BackfillProgress) => boolean,
): Promise<BackfillProgress> {
  for (let attempt = 0; attempt < 3000; attempt++) {
    const progress = system.host.getInstance(id)?.customStatus as BackfillProgress | undefined;
    if (progress && condition(progress)) return progress;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`backfill ${id}: condition not reached; status ${JSON.stringify(system.host.getInstance(id))}`);
}
