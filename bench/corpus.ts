/**
 * Benchmark corpora: generated PT1H.json blobs (the seeded generator, NSG v2 and VNet v4 NICs
 * alternating), the published fixtures, and blobs staged into Blob storage block by block the way
 * the service writes them (head, one block per record, tail), streamed so 1 GB never sits in memory.
 */
import type { ContainerClient } from "@azure/storage-blob";
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  buildTopology,
  countTuples,
  generateRecords,
  planBlobs,
  serializeBlob,
  type FlowLogRecord,
  type PlannedBlob,
  type Topology,
} from "../devhost/generate";

/** Average bytes of one tuple in a generated blob (NSG ≈ 62, VNet ≈ 70), to size blobs. */
const GENERATED_BYTES_PER_TUPLE = 66;
const MINUTES_PER_HOUR = 60;
export const BENCH_SEED = 7;
export const BENCH_HOUR_ISO = "2026-11-22T10:00:00Z";

export interface InMemoryBlob {
  /** `${container}/${path}`. */
  name: string;
  bytes: Buffer;
  tuples: number;
}

export interface PlanGeneratedBlobsOptions {
  blobCount: number;
  /** Approximate size of each blob (it decides the tuples per minute). */
  blobSizeInBytes: number;
  seed?: number;
  /** Tuples per record (one record = one block); default the generator's 600. */
  maxTuplesPerRecord?: number;
  /** The hour the blobs are of; default BENCH_HOUR_ISO. */
  hourIso?: string;
}

export interface GeneratedBlobPlan {
  topology: Topology;
  blob: PlannedBlob;
  tuplesPerMinute: number;
  maxTuplesPerRecord: number | undefined;
}

/** One blob per NIC for one hour, NSG and VNet alternating, each about `blobSizeInBytes`. */
export function planGeneratedBlobs(options: PlanGeneratedBlobsOptions): GeneratedBlobPlan[] {
  const topology = buildTopology({ seed: options.seed ?? BENCH_SEED, nics: options.blobCount });
  const tuplesPerMinute = Math.max(
    1,
    Math.round(options.blobSizeInBytes / MINUTES_PER_HOUR / GENERATED_BYTES_PER_TUPLE),
  );
  return [...planBlobs(topology, options.hourIso ?? BENCH_HOUR_ISO, 1)].map((blob) => ({
    topology,
    blob,
    tuplesPerMinute,
    maxTuplesPerRecord: options.maxTuplesPerRecord,
  }));
}

/** Counts the tuples of the records that pass through. */
export class TupleCounter {
  tuples = 0;
  *count(records: Iterable<FlowLogRecord>): Generator<FlowLogRecord> {
    for (const record of records) {
      this.tuples += countTuples(record);
      yield record;
    }
  }
}

/** The blob's block texts (head, records, tail), generated lazily. */
export function generatedBlockTexts(plan: GeneratedBlobPlan, counter: TupleCounter): Generator<string> {
  const records = generateRecords({
    topology: plan.topology,
    nic: plan.blob.nic,
    hourIso: plan.blob.hourIso,
    tuplesPerMinute: plan.tuplesPerMinute,
    maxTuplesPerRecord: plan.maxTuplesPerRecord,
  });
  return serializeBlob(counter.count(records));
}

/** Generated blobs held in memory, `totalSizeInBytes` in all, in blobs of about `blobSizeInBytes`. */
export function generateInMemoryCorpus(totalSizeInBytes: number, blobSizeInBytes: number): InMemoryBlob[] {
  const blobCount = Math.max(1, Math.ceil(totalSizeInBytes / blobSizeInBytes));
  return planGeneratedBlobs({ blobCount, blobSizeInBytes: Math.min(blobSizeInBytes, totalSizeInBytes) }).map((plan) => {
    const counter = new TupleCounter();
    const bytes = Buffer.from([...generatedBlockTexts(plan, counter)].join(""), "utf8");
    return { name: `${plan.blob.container}/${plan.blob.path}`, bytes, tuples: counter.tuples };
  });
}

/** Every fixture file that is whole JSON (JSON.parse accepts it), so the floor can parse it too. */
export async function loadParsableFixtures(fixturesDir: string): Promise<InMemoryBlob[]> {
  const files = (await readdir(fixturesDir, { recursive: true })).filter((file) => file.endsWith(".json")).sort();
  const blobs: InMemoryBlob[] = [];
  for (const file of files) {
    const bytes = await readFile(join(fixturesDir, file));
    try {
      JSON.parse(bytes.toString("utf8"));
    } catch {
      continue; // truncated or fragment samples: the floor (JSON.parse) cannot read them
    }
    blobs.push({ name: relative(fixturesDir, join(fixturesDir, file)), bytes, tuples: 0 });
  }
  return blobs;
}

export interface StagedBlob {
  container: string;
  path: string;
  sizeInBytes: number;
  tuples: number;
  blockCount: number;
}

export interface StageGeneratedBlobOptions {
  /** Blocks staged at once; default 8. */
  concurrency?: number;
}

/**
 * Stages the blob's blocks (head, one per record, tail) as they are generated, a few at a time,
 * then commits the block list once: the committed blob is what the service would have written.
 */
export async function stageGeneratedBlob(
  container: ContainerClient,
  plan: GeneratedBlobPlan,
  options: StageGeneratedBlobOptions = {},
): Promise<StagedBlob> {
  const concurrency = options.concurrency ?? 8;
  const blob = container.getBlockBlobClient(plan.blob.path);
  const counter = new TupleCounter();
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let sizeInBytes = 0;
  for (const text of generatedBlockTexts(plan, counter)) {
    const body = Buffer.from(text, "utf8");
    // Block ids of one blob must all have the same length: base64 of a UUID.
    const id = Buffer.from(randomUUID(), "utf8").toString("base64");
    blockIds.push(id);
    sizeInBytes += body.byteLength;
    const staging: Promise<void> = blob.stageBlock(id, body, body.byteLength).then(() => {
      inFlight.delete(staging);
    });
    inFlight.add(staging);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await blob.commitBlockList(blockIds, { blobHTTPHeaders: { blobContentType: "application/json" } });
  return {
    container: plan.blob.container,
    path: plan.blob.path,
    sizeInBytes,
    tuples: counter.tuples,
    blockCount: blockIds.length,
  };
}
