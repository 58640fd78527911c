/**
 * Event Hubs figures on the local AMQP endpoint (its own process), on the events of one staged blob
 * encoded before timing, all sent from one child process (bench/senderProcess.ts):
 * - the ceiling: the bare SDK's createBatch + tryAdd + sendBatch with the fastest concurrency found;
 * - our sink adapter on the same events, as a ratio against the ceiling (alternating repetitions);
 * - the seed script's pattern, one awaited send per tuple, on a sample.
 */
import type { BenchEnvironment } from "./ingestion";
import { stageBlobs } from "./ingestion";
import { measureRatio, spreadOf, type Spread } from "./repeat";
import { measured, ratioOf, type BenchFigure } from "./report";
import { BENCH_PARTITION_COUNT, startSenderChild, type SenderChild } from "./senderChild";

export interface EventHubsBenchOptions {
  /** Size of the blob whose events are sent. */
  blobSizeInBytes: number;
  /** Message formats measured: events per message (1: one JSON object; above 1: JSON arrays). */
  eventsPerMessage: readonly number[];
  /** Tuples sent one by one for the per-tuple pattern (its rate is taken as constant). */
  perTupleSampleSize: number;
  repetitions: number;
}

export const formatName = (eventsPerMessage: number): string =>
  eventsPerMessage === 1 ? "1 event/message" : `${eventsPerMessage} events/message`;

export async function runEventHubsBench(
  environment: BenchEnvironment,
  options: EventHubsBenchOptions,
): Promise<BenchFigure[]> {
  const blobs = await stageBlobs(environment, 1, options.blobSizeInBytes, 19);
  const sender = await startSenderChild(environment.azurite.connectionString, environment.eventHubs, blobs);
  try {
    const figures: BenchFigure[] = [];
    for (const eventsPerMessage of options.eventsPerMessage)
      figures.push(...(await sinkAgainstCeiling(sender, eventsPerMessage, options)));
    figures.push(await perTupleFigure(sender, options));
    return figures;
  } finally {
    await sender.stop();
  }
}

async function sinkAgainstCeiling(
  sender: SenderChild,
  eventsPerMessage: number,
  options: EventHubsBenchOptions,
): Promise<BenchFigure[]> {
  const format = formatName(eventsPerMessage);
  const { concurrency, rates } = await sender.bestCeilingConcurrency(eventsPerMessage);
  await sender.sinkRate(eventsPerMessage); // warm-up
  const measurement = await measureRatio({
    ours: () => sender.sinkRate(eventsPerMessage),
    baseline: () => sender.ceilingRate(eventsPerMessage, concurrency),
    repetitions: options.repetitions,
  });
  return [
    ceilingFigure(`eventhubs.ceiling.${eventsPerMessage}`, format, measurement.baseline, {
      events: sender.events,
      concurrency,
      calibration: rates,
    }),
    measured({
      id: `eventhubs.sink.${eventsPerMessage}`,
      label: `Event Hubs sink adapter, ${format}`,
      value: measurement.ours.median,
      unit: "tuples/s",
      ratio: ratioOf(measurement.ratio, "ceiling"),
      details: { events: sender.events, ...spreadDetails(measurement.ours) },
    }),
  ];
}

/** Min, max and count of a rate's samples, for a figure's details. */
export function spreadDetails(spread: Spread): Record<string, number> {
  return { minTuplesPerSecond: spread.min, maxTuplesPerSecond: spread.max, repetitions: spread.count };
}

/** The ceiling of one message format: the median of its samples, the concurrency found fastest. */
export function ceilingFigure(
  id: string,
  format: string,
  spread: Spread,
  found: { events: number; concurrency: number; calibration: Record<string, number> },
): BenchFigure {
  return measured({
    id,
    label: `Event Hubs ceiling, ${format} (bare SDK: createBatch+tryAdd+sendBatch)`,
    value: spread.median,
    unit: "tuples/s",
    details: {
      events: found.events,
      concurrency: found.concurrency,
      ...Object.fromEntries(
        Object.entries(found.calibration).map(([inFlight, rate]) => [`tuplesPerSecondAt${inFlight}InFlight`, rate]),
      ),
      ...spreadDetails(spread),
    },
    note:
      `the same events' bodies and properties encoded before timing, sent by the bare SDK ` +
      `(createBatch + tryAdd + sendBatch, timed) with the fastest of 1/2/4/8 batches in flight, ` +
      `to the local endpoint in its own process (${BENCH_PARTITION_COUNT} partitions, key = MAC)`,
  });
}

async function perTupleFigure(sender: SenderChild, options: EventHubsBenchOptions): Promise<BenchFigure> {
  await sender.perTupleRate(Math.min(50, options.perTupleSampleSize)); // warm-up
  const samples: number[] = [];
  for (let repetition = 0; repetition < options.repetitions; repetition++)
    samples.push(await sender.perTupleRate(options.perTupleSampleSize));
  const spread = spreadOf(samples);
  return measured({
    id: "eventhubs.perTuple",
    label: "one send per tuple (seed script pattern)",
    value: spread.median,
    unit: "tuples/s",
    details: { sampleTuples: options.perTupleSampleSize, ...spreadDetails(spread) },
    note: `${options.perTupleSampleSize} tuples sent one awaited send at a time, the rate taken as constant`,
  });
}
