/**
 * Retention: each partition keeps a bounded log (count and byte limits, like a hub's retention) and drops
 * the oldest events, so memory stays bounded whatever passes through; readers see what a reader of a hub
 * sees after retention removed events (the beginning sequence number advances, earliest reads start at the
 * oldest kept event). Checked through the real @azure/event-hubs clients and the endpoint's own accounting.
 */
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type ReceivedEventData,
  type Subscription,
} from "@azure/event-hubs";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETENTION, startEventHubsEndpoint } from "../../../devhost/eventhubs";
import { PartitionLog } from "../../../devhost/eventhubs/partitionLog";

const BATCHES = 30;
const EVENTS_PER_BATCH = 50;
const LIMITS = { maxEvents: 400, maxBytes: 64 * 1024 };
/** Each event's body is ~200 bytes, so the byte limit (not the count) is what binds for these events. */
const BODY = "x".repeat(200);

async function readFromEarliest(consumer: EventHubConsumerClient, count: number): Promise<ReceivedEventData[]> {
  const received: ReceivedEventData[] = [];
  let subscription: Subscription | undefined;
  await new Promise<void>((resolve, reject) => {
    subscription = consumer.subscribe(
      "0",
      {
        processEvents: async (events) => {
          received.push(...events);
          if (received.length >= count) resolve();
        },
        processError: async (error) => reject(error),
      },
      { startPosition: earliestEventPosition, maxBatchSize: 500, maxWaitTimeInSeconds: 0.2 },
    );
  });
  await subscription?.close();
  return received;
}

describe("local Event Hubs endpoint retention", () => {
  it("keeps at most the limits per partition, dropping the oldest; readers start at the oldest kept", async () => {
    // Prepare
    const eh = await startEventHubsEndpoint({ hubs: [{ name: "bounded", partitionCount: 1 }], retention: LIMITS });
    const producer = new EventHubProducerClient(eh.connectionString("bounded"));
    const consumer = new EventHubConsumerClient("$Default", eh.connectionString("bounded"));
    try {
      // Act: push 1500 events, ~330 KB, five times the byte limit; note the retained bytes after each batch.
      const retainedAfterEachBatch: number[] = [];
      for (let batch = 0; batch < BATCHES; batch += 1) {
        const events = Array.from({ length: EVENTS_PER_BATCH }, (_, index) => ({
          body: { n: batch * EVENTS_PER_BATCH + index, pad: BODY },
        }));
        await producer.sendBatch(events, { partitionId: "0" });
        retainedAfterEachBatch.push(eh.retention("bounded").retainedBytes);
      }
      const figures = eh.retention("bounded");
      const properties = await consumer.getPartitionProperties("0");
      const read = await readFromEarliest(consumer, figures.retainedEvents);

      // Assess: memory bounded by the byte limit at every step, the newest events kept, the rest dropped.
      expect(Math.max(...retainedAfterEachBatch)).toBeLessThanOrEqual(LIMITS.maxBytes);
      const total = BATCHES * EVENTS_PER_BATCH;
      const oldestKept = total - figures.retainedEvents;
      expect(oldestKept).toBeGreaterThan(0);
      expect(figures.beginningSequenceNumbers).toEqual([oldestKept]);
      expect(properties).toMatchObject({
        beginningSequenceNumber: oldestKept,
        lastEnqueuedSequenceNumber: total - 1,
        isEmpty: false,
      });
      expect(read[0].sequenceNumber).toBe(oldestKept);
      expect((read[0].body as { n: number }).n).toBe(oldestKept);
      expect(read.map((event) => event.sequenceNumber)).toEqual(
        Array.from({ length: figures.retainedEvents }, (_, index) => oldestKept + index),
      );
      // Offsets keep counting the bytes of dropped events, as the service's do.
      expect(Number(read[0].offset)).toBeGreaterThan(0);
    } finally {
      await producer.close();
      await consumer.close();
      await eh.stop();
    }
  });

  it("drops by count when the count limit binds first", async () => {
    // Prepare
    const eh = await startEventHubsEndpoint({
      hubs: [{ name: "counted", partitionCount: 2, retention: { maxEvents: 10 } }],
    });
    const producer = new EventHubProducerClient(eh.connectionString("counted"));
    try {
      // Act
      await producer.sendBatch(
        Array.from({ length: 25 }, (_, n) => ({ body: n })),
        { partitionId: "1" },
      );

      // Assess
      expect(eh.eventCount("counted", "1")).toBe(10);
      expect(eh.events("counted", "1").map((event) => event.body)).toEqual(
        Array.from({ length: 10 }, (_, index) => 15 + index),
      );
      expect(eh.retention("counted").beginningSequenceNumbers).toEqual([0, 15]);
    } finally {
      await producer.close();
      await eh.stop();
    }
  });

  it("holds at most the default limits with 2 M events through one partition", () => {
    // Prepare: events of the size of a flattened flow tuple (~330 bytes encoded).
    const log = new PartitionLog(DEFAULT_RETENTION);
    const event = Buffer.alloc(330, 0x61);
    const now = new Date(0);
    let mostRetained = 0;

    // Act
    for (let n = 0; n < 2_000_000; n += 1) {
      log.append(event, undefined, now);
      if (n % 10_000 === 0) mostRetained = Math.max(mostRetained, log.retainedBytes);
    }

    // Assess: 64 MiB at most (the byte limit binds: 330 B × 500 000 events would be 157 MiB).
    expect(Math.max(mostRetained, log.retainedBytes)).toBeLessThanOrEqual(DEFAULT_RETENTION.maxBytes);
    expect(log.retainedCount).toBe(Math.floor(DEFAULT_RETENTION.maxBytes / 330));
    expect(log.runtimeInfo()).toMatchObject({
      beginningSequenceNumber: 2_000_000 - log.retainedCount,
      lastEnqueuedSequenceNumber: 1_999_999,
    });
  });

  it("refuses retention limits that are not positive integers, naming the hub", async () => {
    await expect(
      startEventHubsEndpoint({ hubs: [{ name: "h", partitionCount: 1, retention: { maxBytes: 0 } }] }),
    ).rejects.toThrow(/hubs\[0\]\.retention\.maxBytes must be a positive integer, got 0/);
    await expect(
      startEventHubsEndpoint({ hubs: [{ name: "h", partitionCount: 1 }], retention: { maxEvents: 1.5 } }),
    ).rejects.toThrow(/retention\.maxEvents must be a positive integer, got 1\.5/);
  });
});
