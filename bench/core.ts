/**
 * Core figure: parse + flatten + encode of whole PT1H.json blobs against the floor, the least any
 * implementation must do with the built-ins: `JSON.parse(bytes.toString("utf8"))` of the same bytes
 * plus `JSON.stringify(event)` of every event our path produces. Both are timed blob by blob, in
 * alternating order, over several repetitions; the verdict is the median of the per-repetition ratios.
 */
import { performance } from "node:perf_hooks";
import { encodeEvent, flattenFlowLog, type FlowEvent } from "../src/core";
import { generateInMemoryCorpus, loadParsableFixtures, type InMemoryBlob } from "./corpus";
import { measured, type BenchFigure } from "./report";

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

function eventsOf(blob: InMemoryBlob): FlowEvent[] {
  return flattenFlowLog(blob.bytes, { blobPath: blob.name }).records.flatMap((record) => record.events);
}

/** Our path: flatten the bytes, encode every event. Returns the encoded length (kept, so nothing is optimised away). */
function fullPath(blob: InMemoryBlob): number {
  let length = 0;
  for (const record of flattenFlowLog(blob.bytes, { blobPath: blob.name }).records) {
    for (const event of record.events) length += encodeEvent(event).length;
  }
  return length;
}

/** The floor: parse the same bytes with JSON.parse, stringify the same events with JSON.stringify. */
function floorPath(blob: InMemoryBlob, events: readonly FlowEvent[]): number {
  let length = (JSON.parse(blob.bytes.toString("utf8")) as unknown) === null ? 0 : 1;
  for (const event of events) length += JSON.stringify(event).length;
  return length;
}

function timed(work: () => number): { ms: number; length: number } {
  const start = performance.now();
  const length = work();
  return { ms: performance.now() - start, length };
}

function pass(blobs: readonly InMemoryBlob[], passIndex: number): PassTimings {
  const timings: PassTimings = { fullInMs: 0, floorInMs: 0, encodeInMs: 0, stringifyInMs: 0 };
  blobs.forEach((blob, blobIndex) => {
    const events = eventsOf(blob);
    const full = (): void => void (timings.fullInMs += timed(() => fullPath(blob)).ms);
    const floor = (): void => void (timings.floorInMs += timed(() => floorPath(blob, events)).ms);
    // Alternate which runs first, so neither always pays the other's garbage collection.
    const fullFirst = (blobIndex + passIndex) % 2 === 0;
    if (fullFirst) {
      full();
      floor();
    } else {
      floor();
      full();
    }
    const encode = (): void => void (timings.encodeInMs += timed(() => events.reduce((sum, event) => sum + encodeEvent(event).length, 0)).ms);
    const stringify = (): void => void (timings.stringifyInMs += timed(() => events.reduce((sum, event) => sum + JSON.stringify(event).length, 0)).ms);
    if (fullFirst) {
      encode();
      stringify();
    } else {
      stringify();
      encode();
    }
  });
  return timings;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function totalsOf(blobs: readonly InMemoryBlob[]): CorpusTotals {
  return { bytes: blobs.reduce((sum, blob) => sum + blob.bytes.byteLength, 0), tuples: blobs.reduce((sum, blob) => sum + eventsOf(blob).length, 0) };
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
    ratio: { value: median(passes.map((timing) => timing.floorInMs / timing.fullInMs)), against: "floor" },
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
        ? 'floor = JSON.parse(bytes.toString("utf8")) of the same blob + JSON.stringify of each event produced; ratio = floor time / our time (median of repetitions)'
        : undefined,
  });
  const encodeFigure = measured({
    id: `core.${id}.encode`,
    label: `core ${label}: encodeEvent`,
    value: perSecond(totals.tuples, median(passes.map((timing) => timing.encodeInMs))),
    unit: "events/s",
    ratio: { value: median(passes.map((timing) => timing.stringifyInMs / timing.encodeInMs)), against: "JSON.stringify" },
    target: { comparator: ">=", threshold: 1, of: "ratio" },
  });
  return [coreFigure, encodeFigure];
}

export async function runCoreBench(options: CoreBenchOptions): Promise<BenchFigure[]> {
  const generated = generateInMemoryCorpus(options.generatedSizeInBytes, options.generatedBlobSizeInBytes);
  const figures = benchCorpus("generated", `generated ${formatMegabytes(options.generatedSizeInBytes)}`, generated, options.repetitions);
  const fixtures = await loadParsableFixtures(options.fixturesDir);
  const fixtureBytes = fixtures.reduce((sum, blob) => sum + blob.bytes.byteLength, 0);
  const copies = Math.max(1, Math.ceil(options.fixtureBytesPerRepetition / Math.max(fixtureBytes, 1)));
  const repeated = Array.from({ length: copies }, () => fixtures).flat();
  figures.push(...benchCorpus("fixtures", `${fixtures.length} fixtures x${copies}`, repeated, options.repetitions));
  return figures;
}

export function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}
