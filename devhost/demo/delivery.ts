/**
 * The delivery check behind `flowtap start` and `flowtap run`: every event on a hub is read back
 * through a real EventHubConsumerClient and its id compared with the ids computed from the final
 * blobs (flattenFlowLog of each), so "lost" and "duplicates" are measured, not assumed.
 */
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from "@azure/event-hubs";
import type { BlobServiceClient } from "@azure/storage-blob";
import { eventsOfFlowMessage } from "../../src/adapters/flowMessages";
import { eventsOf, flattenFlowLog } from "../../src/core/flatten";
import { ServiceError } from "../../src/errors";
import { logFailure } from "../../src/logger";

export interface BlobRef {
  container: string;
  /** Container-relative. */
  path: string;
}

export interface ExpectedEvents {
  ids: Set<string>;
  /** Tuples in the blobs (ids are unique per tuple, so equal to ids.size for well-formed blobs). */
  tuples: number;
}

/** The ids of every tuple of the blobs as they are now in storage. */
export async function expectedEventIds(
  blobService: BlobServiceClient,
  blobs: readonly BlobRef[],
): Promise<ExpectedEvents> {
  const ids = new Set<string>();
  let tuples = 0;
  for (const blob of blobs) {
    const text = await blobService.getContainerClient(blob.container).getBlobClient(blob.path).downloadToBuffer();
    for (const event of eventsOf(flattenFlowLog(text, { blobPath: blob.path }))) {
      ids.add(event.id);
      tuples += 1;
    }
  }
  return { ids, tuples };
}

/** How the received ids compare with the expected ones. */
export interface DeliveryTally {
  /** Events read back. */
  events: number;
  distinctIds: number;
  /** Events whose id had already been read. */
  duplicates: number;
  /** Expected ids never read back. */
  lost: number;
  /** Ids read back that no blob explains. */
  unexpected: number;
}

/** Counts ids as they are read; `tally` compares them with the expected ones. */
export class EventIdCounter {
  private readonly seen = new Set<string>();
  private events = 0;

  add(id: string): void {
    this.events += 1;
    this.seen.add(id);
  }

  tally(expected: ReadonlySet<string>): DeliveryTally {
    let unexpected = 0;
    for (const id of this.seen) if (!expected.has(id)) unexpected += 1;
    let lost = 0;
    for (const id of expected) if (!this.seen.has(id)) lost += 1;
    return {
      events: this.events,
      distinctIds: this.seen.size,
      duplicates: this.events - this.seen.size,
      lost,
      unexpected,
    };
  }
}

export interface ReadBackOptions {
  /** Namespace or hub connection string (the local endpoint's carries UseDevelopmentEmulator=true). */
  connectionString: string;
  eventHubName: string;
  /** Default `$Default`. */
  consumerGroup?: string;
  /** Give up when the hub's events have not all arrived by then. Default 60 000 ms. */
  timeoutInMs?: number;
}

/**
 * Reads every event the hub holds now (up to each partition's last enqueued sequence number,
 * taken at the start) and passes each body to `onBody`; a body packing several events as a JSON
 * array gives one call per element. Returns the number of bodies.
 */
export async function readBackEvents(options: ReadBackOptions, onBody: (body: unknown) => void): Promise<number> {
  const consumer = new EventHubConsumerClient(
    options.consumerGroup ?? "$Default",
    options.connectionString,
    options.eventHubName,
  );
  try {
    const lastSequence = new Map<string, number>();
    for (const partitionId of await consumer.getPartitionIds()) {
      const properties = await consumer.getPartitionProperties(partitionId);
      if (!properties.isEmpty) lastSequence.set(partitionId, properties.lastEnqueuedSequenceNumber);
    }
    let bodies = 0;
    if (lastSequence.size === 0) return bodies;
    const behind = new Set(lastSequence.keys());
    const timeoutInMs = options.timeoutInMs ?? 60_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new ServiceError(
            `Reading back ${options.eventHubName}: partitions ${[...behind].join(", ")} not read to their end ` +
              `within ${timeoutInMs} ms`,
            { retryable: true },
          ),
        );
      }, timeoutInMs);
      const take = (event: ReceivedEventData, partitionId: string): void => {
        const last = lastSequence.get(partitionId);
        if (last === undefined || event.sequenceNumber > last) return;
        const values = eventsOfFlowMessage(event); // one event, a JSON array, or compact records
        for (const value of values) onBody(value);
        bodies += values.length;
        if (event.sequenceNumber === last) behind.delete(partitionId);
      };
      const subscription = consumer.subscribe(
        {
          processEvents: async (events, context) => {
            for (const event of events) take(event, context.partitionId);
            if (behind.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
          // The client retries what can be retried; the timeout ends a read that never completes.
          processError: async (error) => logFailure(`Reading back ${options.eventHubName}`, error),
        },
        { startPosition: earliestEventPosition, maxBatchSize: 1000, maxWaitTimeInSeconds: 1 },
      );
      void subscription;
    });
    return bodies;
  } finally {
    await consumer.close();
  }
}

/** The id of an event body (a FlowEvent), or undefined when it carries none. */
export function idOf(body: unknown): string | undefined {
  const id = typeof body === "object" && body !== null ? (body as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id : undefined;
}
