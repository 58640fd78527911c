/**
 * Core figure: parse + flatten + encode of whole PT1H.json blobs against the floor, the least any
 * implementation must do with the built-ins: `JSON.parse(bytes.toString("utf8"))` of the same bytes
 * plus `JSON.stringify(event)` of every event our path produces. Our path streams each blob in
 * 64 KiB chunks through FlowLogFlattener, enrichment on with its cache warm, and encodes the events
 * of each chunk, as the ingestion activity does with a ranged download; the floor parses each blob
 * whole (JSON.parse cannot stream). Both are timed blob by blob, in alternating order, over several
 * repetitions; the verdict is the median of the per-repetition ratios.
 */
import { performance } from "node:perf_hooks";
import type { NetworkInterface } from "@azure/arm-network";
import { NicDirectory } from "../src/adapters/nicDirectory";
import { encodeEvent, FlowLogFlattener, type EnrichmentLookup, type FlattenResult, type FlowEvent } from "../src/core";
import { generateInMemoryCorpus, loadParsableFixtures, type InMemoryBlob } from "./corpus";
import { median, spreadOf } from "./repeat";
import { measured, ratioOf, type BenchFigure } from "./report";

export interface CoreBenchOptions {
  generatedSizeInBytes: number;
  /** Size of each generated blob: the activity reads ranges of at most 4 MB by default. */
  generatedBlobSizeInBytes: number;
  repetitions: number;
  fixturesDir: string;
  /** Fixtures are small: the set is repeated until a repetition reads about this many bytes. */
  fixtureBytesPerRepetition: number;
}

/** Milliseconds of each part over one pass of a corpus. */
interface PassTimings {
  fullInMs: number;
  floorInMs: number;
  encodeInMs: number;
  stringifyInMs: number;
}

interface CorpusTotals {
  bytes: number;
  tuples: number;
}

const MEGABYTE = 1_000_000;
/** About what one read of a ranged blob download stream delivers. */
export const STREAM_CHUNK_SIZE_IN_BYTES = 64 * 1024;

/**
 * Enrichment as the ingestion activity runs it once its cache is warm: every MAC of the corpus
 * resolved (NIC, VM, subnet, VNet ids of realistic length). Set by runCoreBench.
 */
let enrich: EnrichmentLookup | undefined;

/** Streams the blob through the flattener in 64 KiB chunks, handing each chunk's events to `take`. */
function streamEvents(blob: InMemoryBlob, take: (events: readonly FlowEvent[]) => void): void {
  const takeAll = (result: FlattenResult): void => {
    for (const record of result.records) take(record.events);
  };
  const flattener = new FlowLogFlattener({ blobPath: blob.name, ...(enrich && { enrich }) });
  for (let offset = 0; offset < blob.bytes.byteLength; offset += STREAM_CHUNK_SIZE_IN_BYTES) {
    takeAll(flattener.push(blob.bytes.subarray(offset, offset + STREAM_CHUNK_SIZE_IN_BYTES)));
  }
  takeAll(flattener.end());
}

/** Our path, timed as a whole: stream, flatten, encode every event. */
function timeFullPath(blob: InMemoryBlob): number {
  let length = 0; // kept, so nothing is optimised away
  const start = performance.now();
  streamEvents(blob, (events) => {
    for (const event of events) length += encodeEvent(event).length;
  });
  const elapsed = performance.now() - start;
  return length >= 0 ? elapsed : Number.NaN;
}

/**
 * The floor, timed in its two parts: JSON.parse of the whole blob; JSON.stringify of each event our
 * flattener produces (the flattening itself untimed, and streamed, so no blob's events pile up in
 * the heap). encodeEvent is timed on the same events for the encode-only figure.
 */
function timeFloorPath(blob: InMemoryBlob, timings: PassTimings, encodeFirst: boolean): void {
  let start = performance.now();
  const parsed: unknown = JSON.parse(blob.bytes.toString("utf8"));
  timings.floorInMs += performance.now() - start;
  let length = parsed === null ? 0 : 1;
  const stringify = (events: readonly FlowEvent[]): void => {
    start = performance.now();
    for (const event of events) length += JSON.stringify(event).length;
    const elapsed = performance.now() - start;
    timings.floorInMs += elapsed;
    timings.stringifyInMs += elapsed;
  };
  const encode = (events: readonly FlowEvent[]): void => {
    start = performance.now();
    for (const event of events) length += encodeEvent(event).length;
    timings.encodeInMs += performance.now() - start;
  };
  streamEvents(blob, (events) => {
    // Alternate which runs first, so neither always pays the other's garbage collection.
    if (encodeFirst) {
      encode(events);
      stringify(events);
    } else {
      stringify(events);
      encode(events);
    }
  });
  if (length < 0) throw new Error("unreachable: keeps the results alive");
}

function pass(blobs: readonly InMemoryBlob[], passIndex: number): PassTimings {
  const timings: PassTimings = { fullInMs: 0, floorInMs: 0, encodeInMs: 0, stringifyInMs: 0 };
  blobs.forEach((blob, blobIndex) => {
    const fullFirst = (blobIndex + passIndex) % 2 === 0;
    if (!fullFirst) timeFloorPath(blob, timings, fullFirst);
    timings.fullInMs += timeFullPath(blob);
    if (fullFirst) timeFloorPath(blob, timings, fullFirst);
  });
  return timings;
}

function totalsOf(blobs: readonly InMemoryBlob[]): CorpusTotals {
  const totals: CorpusTotals = { bytes: 0, tuples: 0 };
  for (const blob of blobs) {
    totals.bytes += blob.bytes.byteLength;
    streamEvents(blob, (events) => void (totals.tuples += events.length));
  }
  return totals;
}

/** Times a corpus: one warm-up pass, then `repetitions` passes; medians of times and ratios. */
function benchCorpus(id: string, label: string, blobs: readonly InMemoryBlob[], repetitions: number): BenchFigure[] {
  const totals = totalsOf(blobs);
  pass(blobs, 1); // warm-up: JIT and inline caches for both paths
  const passes = Array.from({ length: repetitions }, (_, index) => pass(blobs, index));
  const fullInMs = median(passes.map((timing) => timing.fullInMs));
  const floorInMs = median(passes.map((timing) => timing.floorInMs));
  const perSecond = (count: number, ms: number): number => (count * 1000) / ms;
  const coreFigure = measured({
    id: `core.${id}`,
    label: `core ${label}: parse+flatten+encode`,
    value: perSecond(totals.tuples, fullInMs),
    unit: "tuples/s",
    ratio: ratioOf(spreadOf(passes.map((timing) => timing.floorInMs / timing.fullInMs)), "floor"),
    target: { comparator: ">=", threshold: 1, of: "ratio" },
    details: {
      megabytesPerSecond: perSecond(totals.bytes / MEGABYTE, fullInMs),
      floorTuplesPerSecond: perSecond(totals.tuples, floorInMs),
      floorMegabytesPerSecond: perSecond(totals.bytes / MEGABYTE, floorInMs),
      corpusBytes: totals.bytes,
      corpusTuples: totals.tuples,
      blobs: blobs.length,
      repetitions,
      fullMedianInMs: fullInMs,
      floorMedianInMs: floorInMs,
    },
    note:
      id === "generated"
        ? "ours = FlowLogFlattener fed 64 KiB chunks + encodeEvent per event; " +
          'floor = JSON.parse(bytes.toString("utf8")) of each whole blob + JSON.stringify of each event produced; ' +
          "ratio = floor time / our time (median of repetitions)"
        : undefined,
  });
  const encodeFigure = measured({
    id: `core.${id}.encode`,
    label: `core ${label}: encodeEvent`,
    value: perSecond(totals.tuples, median(passes.map((timing) => timing.encodeInMs))),
    unit: "events/s",
    ratio: ratioOf(spreadOf(passes.map((timing) => timing.stringifyInMs / timing.encodeInMs)), "JSON.stringify"),
    target: { comparator: ">=", threshold: 1, of: "ratio" },
  });
  return [coreFigure, encodeFigure];
}

/** A NIC for each MAC of the corpora, in one subscription's listing. */
function* nicsOf(macs: ReadonlySet<string>): Generator<NetworkInterface> {
  const group = "/subscriptions/00000000-0000-0000-0000-00000000be4c/resourceGroups/rg-bench/providers";
  let index = 0;
  for (const mac of macs) {
    const vnet = `${group}/Microsoft.Network/virtualNetworks/vnet-bench-${index % 8}`;
    yield {
      id: `${group}/Microsoft.Network/networkInterfaces/nic-bench-${index}`,
      macAddress: mac,
      virtualMachine: { id: `${group}/Microsoft.Compute/virtualMachines/vm-bench-${index++}` },
      ipConfigurations: [{ primary: true, subnet: { id: `${vnet}/subnets/default` } }],
    };
  }
}

/** A NIC directory whose cache answers every MAC of the blobs (the steady state of a running app). */
async function warmEnrichment(corpora: ReadonlyArray<readonly InMemoryBlob[]>): Promise<EnrichmentLookup> {
  const macs = new Set<string>();
  for (const blob of corpora.flat())
    streamEvents(blob, (events) => events.forEach((event) => event.mac !== null && macs.add(event.mac)));
  const directory = new NicDirectory({
    listNics: async function* () {
      yield* nicsOf(macs);
    },
    ttlInMs: 24 * 3_600_000,
    maxEntries: macs.size + 1,
    waitInMs: 60_000,
  });
  await directory.prefetch("00000000-0000-0000-0000-00000000be4c", "000000000000");
  return directory.lookup;
}

export async function runCoreBench(options: CoreBenchOptions): Promise<BenchFigure[]> {
  const generated = generateInMemoryCorpus(options.generatedSizeInBytes, options.generatedBlobSizeInBytes);
  const fixtures = await loadParsableFixtures(options.fixturesDir);
  enrich = undefined;
  enrich = await warmEnrichment([generated, fixtures]);
  const figures = benchCorpus(
    "generated",
    `generated ${formatMegabytes(options.generatedSizeInBytes)}`,
    generated,
    options.repetitions,
  );
  const fixtureBytes = fixtures.reduce((sum, blob) => sum + blob.bytes.byteLength, 0);
  const copies = Math.max(1, Math.ceil(options.fixtureBytesPerRepetition / Math.max(fixtureBytes, 1)));
  const repeated = Array.from({ length: copies }, () => fixtures).flat();
  figures.push(...benchCorpus("fixtures", `${fixtures.length} fixtures x${copies}`, repeated, options.repetitions));
  return figures;
}

export function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}
