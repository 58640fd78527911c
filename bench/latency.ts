/**
 * Live latency: a record block committed (the commit's response received) → its first event
 * received by an EventHubConsumerClient, through the local system: the Event Grid trigger, the
 * ingestBlob orchestration on the local Durable Functions host (real clock), processRange, the sink
 * and the local Event Hubs endpoint. One append at a time, each waited for, `appends` times.
 */
import {
  EventHubConsumerClient,
  earliestEventPosition,
  type ReceivedEventData,
  type Subscription,
} from "@azure/event-hubs";
import { performance } from "node:perf_hooks";
import { buildTopology, generateRecords, blobPathFor } from "../devhost/generate";
import { FlowLogBlobWriter } from "../devhost/flowLogWriter";
import { FLOWS_HUB, startLocalSystem } from "../devhost/system";
import { TriggerNames } from "../src/contracts/names";
import { BENCH_HOUR_ISO, BENCH_SEED } from "./corpus";
import { measured, type BenchFigure } from "./report";

export interface LatencyBenchOptions {
  appends: number;
  /** Give up on one append after this long. */
  timeoutPerAppendInMs: number;
  /** The compiled app (dist/src/app.js). */
  appModulePath: string;
}

const TUPLES_PER_APPEND = 8;

/** The record index in an event id `{blobHash}-{recordIndex}-{tupleIndex}`. */
function recordIndexOf(eventId: unknown): number | undefined {
  if (typeof eventId !== "string") return undefined;
  const parts = eventId.split("-");
  return parts.length === 3 ? Number(parts[1]) : undefined;
}

/** The first event id a received message carries (single event, or a JSON array of events). */
function firstEventId(event: ReceivedEventData): unknown {
  const fromProperty = event.properties?.["flowtapEventId"];
  if (fromProperty !== undefined) return fromProperty;
  const body = event.body as unknown;
  const first = Array.isArray(body) ? (body[0] as unknown) : body;
  return typeof first === "object" && first !== null ? (first as { id?: unknown }).id : undefined;
}

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

export async function runLatencyBench(options: LatencyBenchOptions): Promise<BenchFigure[]> {
  const system = await startLocalSystem({
    app: { modulePath: options.appModulePath },
    port: 0,
    enableTimerTriggers: false,
  });
  const consumer = new EventHubConsumerClient("$Default", system.eventHubsConnectionString, FLOWS_HUB);
  let subscription: Subscription | undefined;
  try {
    const arrivals = new RecordArrivals();
    subscription = arrivals.subscribe(consumer);
    const timings = await timeAppends(system, arrivals, options);
    return latencyFigures(timings, options);
  } finally {
    await subscription?.close();
    await consumer.close();
    await system.stop();
  }
}

/** When the first event of each record arrived at the consumer, and who waits for which record. */
class RecordArrivals {
  /** Record index → the time its first event arrived. */
  readonly times = new Map<number, number>();
  private readonly waiters = new Map<number, () => void>();

  subscribe(consumer: EventHubConsumerClient): Subscription {
    return consumer.subscribe(
      {
        processEvents: async (events) => {
          const now = performance.now();
          for (const event of events) {
            const recordIndex = recordIndexOf(firstEventId(event));
            if (recordIndex === undefined || this.times.has(recordIndex)) continue;
            this.times.set(recordIndex, now);
            this.waiters.get(recordIndex)?.();
          }
        },
        processError: async () => undefined, // the consumer retries; a lost append shows as a timeout
      },
      // The hub is this run's own: from the start, so no append's event can slip in before a receiver attached.
      { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1, maxBatchSize: 100 },
    );
  }

  /** Resolves when record `recordIndex` arrives. */
  expect(recordIndex: number): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.set(recordIndex, resolve));
  }

  forget(recordIndex: number): void {
    this.waiters.delete(recordIndex);
  }
}

/** Whether `arrived` settles within `timeoutInMs`. */
async function arrivedWithin(arrived: Promise<void>, timeoutInMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutInMs)));
  const outcome = await Promise.race([arrived, timedOut]);
  clearTimeout(timer);
  return outcome !== "timeout";
}

interface AppendTimings {
  /** Milliseconds from commit to first event, of the appends that arrived in time. */
  latencies: number[];
  timedOutAppends: number[];
}

/** Appends one record at a time (each its own record index) and times it to its first event. */
async function timeAppends(
  system: Awaited<ReturnType<typeof startLocalSystem>>,
  arrivals: RecordArrivals,
  options: LatencyBenchOptions,
): Promise<AppendTimings> {
  const topology = buildTopology({ seed: BENCH_SEED, nics: 1 });
  const nic = topology.nics[0]!;
  const { container, path } = blobPathFor(nic, BENCH_HOUR_ISO);
  const writer = new FlowLogBlobWriter(system.blobService.getContainerClient(container), path);
  const timings: AppendTimings = { latencies: [], timedOutAppends: [] };
  for (let append = 0; append < options.appends; append++) {
    const minute = append % 60;
    const records = [
      ...generateRecords({
        topology,
        nic,
        hourIso: BENCH_HOUR_ISO,
        minutes: { first: minute, last: minute },
        tuplesPerMinute: TUPLES_PER_APPEND,
      }),
    ];
    const arrived = arrivals.expect(append);
    const commit = await writer.append(...records);
    const committedAt = performance.now();
    await system.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit.events.eventGrid);
    const inTime = await arrivedWithin(arrived, options.timeoutPerAppendInMs);
    arrivals.forget(append);
    if (inTime) timings.latencies.push(arrivals.times.get(append)! - committedAt);
    else timings.timedOutAppends.push(append);
  }
  return timings;
}

function latencyFigures({ latencies, timedOutAppends }: AppendTimings, options: LatencyBenchOptions): BenchFigure[] {
  // A timed-out append counts as the timeout: a lower bound of its latency.
  const all = [...latencies, ...timedOutAppends.map(() => options.timeoutPerAppendInMs)];
  const p50 = percentile(all, 0.5);
  const p99 = percentile(all, 0.99);
  const timeouts = timedOutAppends.length;
  const details = {
    appends: options.appends,
    received: latencies.length,
    timeouts,
    timedOutAppends: timedOutAppends.join(","),
    p50InMs: p50,
    p99InMs: p99,
    meanInMs: all.reduce((sum, value) => sum + value, 0) / all.length,
    maxInMs: Math.max(...all),
  };
  const note =
    "block committed (commit response) → first event at an EventHubConsumerClient; Event Grid trigger invoked " +
    "right after the commit, ingestBlob on the local host (real clock); " +
    `${timeouts} of ${options.appends} appends timed out after ${options.timeoutPerAppendInMs} ms (counted as that)`;
  return [
    measured({
      id: "latency.p50",
      label: `live latency p50 (${options.appends} appends)`,
      value: p50,
      unit: "ms",
      details,
    }),
    measured({
      id: "latency.p99",
      label: `live latency p99 (${options.appends} appends)`,
      value: p99,
      unit: "ms",
      target: { comparator: "<", threshold: 1000, of: "value" },
      note,
    }),
  ];
}
