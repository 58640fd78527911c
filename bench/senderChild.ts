/**
 * The bench's side of bench/senderProcess.ts: rates (tuples/s) of the ceiling, our sink alone and
 * one send per tuple, on the events of staged blobs, and the ceiling's best concurrency.
 */
import { join } from "node:path";
import { forkBenchChild, type BenchChild } from "./childProcess";
import type { StagedBlob } from "./corpus";
import type { SenderReply, SenderRequest } from "./senderProcess";

/** Hubs of the local endpoint the senders use (the ingestion uses its own, `flows`). */
export const EVENT_HUBS_BENCH_HUBS = { ceiling: "ceiling", sink: "sink", perTuple: "pertuple" } as const;
export const BENCH_PARTITION_COUNT = 4;

/** Batches in flight tried for the ceiling; the fastest counts. */
export const CEILING_CONCURRENCIES = [1, 2, 4, 8] as const;
/** Events sent per concurrency when looking for the fastest (enough for steady state, short). */
const CALIBRATION_EVENTS = 40_000;

export interface SenderChild {
  /** Events prepared from the blobs. */
  readonly events: number;
  ceilingRate(eventsPerMessage: number, concurrency: number): Promise<number>;
  /** CPU µs per tuple of the sender in each ceilingRate call so far (then cleared). */
  takeCeilingCpuMicrosecondsPerTuple(): number[];
  /** Tries each concurrency once (after a warm-up) and returns the fastest with every rate. */
  bestCeilingConcurrency(eventsPerMessage: number): Promise<{ concurrency: number; rates: Record<string, number> }>;
  sinkRate(eventsPerMessage: number): Promise<number>;
  perTupleRate(sampleSize: number): Promise<number>;
  stop(): Promise<void>;
}

const rateOf = (reply: SenderReply): number => (reply.events * 1000) / reply.elapsedInMs!;

export async function startSenderChild(
  storageConnectionString: string,
  eventHubs: Readonly<Record<string, string>>,
  blobs: readonly StagedBlob[],
  execArgv: readonly string[] = [],
): Promise<SenderChild> {
  const child: BenchChild<SenderRequest, SenderReply> = forkBenchChild(join(__dirname, "senderProcess.js"), execArgv);
  const hubs = EVENT_HUBS_BENCH_HUBS;
  try {
    const blobLocations = blobs.map((blob) => ({ container: blob.container, path: blob.path }));
    const prepared = await child.request({ kind: "prepare", storageConnectionString, blobs: blobLocations, eventHubs });
    const ceilingCpu: number[] = [];
    const ceilingRun = (eventsPerMessage: number, concurrency: number, eventLimit?: number): Promise<SenderReply> =>
      child.request({ kind: "ceiling", hub: hubs.ceiling, eventsPerMessage, concurrency, eventLimit });
    const ceiling = async (eventsPerMessage: number, concurrency: number, eventLimit?: number): Promise<number> =>
      rateOf(await ceilingRun(eventsPerMessage, concurrency, eventLimit));
    return {
      events: prepared.events,
      async ceilingRate(eventsPerMessage, concurrency) {
        const reply = await ceilingRun(eventsPerMessage, concurrency);
        ceilingCpu.push((reply.cpuTimeInMs! * 1000) / reply.events);
        return rateOf(reply);
      },
      takeCeilingCpuMicrosecondsPerTuple: () => ceilingCpu.splice(0),
      async bestCeilingConcurrency(eventsPerMessage) {
        await ceiling(eventsPerMessage, 1, CALIBRATION_EVENTS); // warm-up: link open, JIT
        const rates: Record<string, number> = {};
        for (const concurrency of CEILING_CONCURRENCIES)
          rates[concurrency] = await ceiling(eventsPerMessage, concurrency, CALIBRATION_EVENTS);
        const best = CEILING_CONCURRENCIES.reduce((a, b) => (rates[b]! > rates[a]! ? b : a));
        return { concurrency: best, rates };
      },
      sinkRate: async (eventsPerMessage) =>
        rateOf(await child.request({ kind: "sink", hub: hubs.sink, eventsPerMessage })),
      perTupleRate: async (sampleSize) =>
        rateOf(await child.request({ kind: "perTuple", hub: hubs.perTuple, sampleSize })),
      stop: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
