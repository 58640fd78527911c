import {
  EventHubBufferedProducerClient,
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
  type EventPosition,
  type ReceivedEventData,
  type Subscription,
} from "@azure/event-hubs";
import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { partitionIdForKey, startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../../devhost/eventhubs";

const FAST_RETRIES = { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 20 };

/** Subscribes to one partition until `count` events arrived, then closes the subscription. */
async function receiveEvents(
  consumer: EventHubConsumerClient,
  partitionId: string,
  startPosition: EventPosition,
  count: number,
): Promise<ReceivedEventData[]> {
  const received: ReceivedEventData[] = [];
  let subscription: Subscription | undefined;
  await new Promise<void>((resolve, reject) => {
    subscription = consumer.subscribe(
      partitionId,
      {
        processEvents: async (events) => {
          received.push(...events);
          if (received.length >= count) resolve();
        },
        processError: async (error) => reject(error),
      },
      { startPosition, maxBatchSize: 100, maxWaitTimeInSeconds: 0.2 },
    );
  });
  await subscription?.close();
  return received;
}

const sequenceNumbers = (events: ReceivedEventData[]): number[] => events.map((event) => event.sequenceNumber);

describe("local Event Hubs endpoint with the real @azure/event-hubs clients", () => {
  let eh: LocalEventHubsEndpoint;
  let producer: EventHubProducerClient;
  let consumer: EventHubConsumerClient;

  beforeAll(async () => {
    eh = await startEventHubsEndpoint({
      hubs: [
        { name: "flows", partitionCount: 4 },
        { name: "audit", partitionCount: 2, consumerGroups: ["analytics"] },
        { name: "positions", partitionCount: 1 },
        { name: "faulty", partitionCount: 1 },
        { name: "keyed", partitionCount: 32 },
      ],
    });
    producer = new EventHubProducerClient(eh.connectionString("flows"), { retryOptions: FAST_RETRIES });
    consumer = new EventHubConsumerClient("$Default", eh.connectionString("flows"));
  });

  afterAll(async () => {
    await producer.close();
    await consumer.close();
    await eh.stop();
  });

  it("stores a partition-key batch in the key's partition and a partition-id batch in that partition", async () => {
    // Prepare
    const byKey = await producer.createBatch({ partitionKey: "nic-0a" });
    expect(byKey.tryAdd({ body: { flow: 1 } })).toBe(true);
    expect(byKey.tryAdd({ body: { flow: 2 } })).toBe(true);
    const byId = await producer.createBatch({ partitionId: "3" });
    expect(byId.tryAdd({ body: "to-three" })).toBe(true);

    // Act
    await producer.sendBatch(byKey);
    await producer.sendBatch(byId);

    // Assess
    const keyPartition = partitionIdForKey("nic-0a", 4);
    expect(eh.events("flows", keyPartition).map((event) => [event.body, event.partitionKey])).toEqual([
      [{ flow: 1 }, "nic-0a"],
      [{ flow: 2 }, "nic-0a"],
    ]);
    expect(eh.events("flows", "3").map((event) => event.body)).toContain("to-three");
    const readBack = await receiveEvents(consumer, keyPartition, earliestEventPosition, 2);
    expect(readBack.map((event) => [event.body, event.partitionKey, event.sequenceNumber])).toEqual([
      [{ flow: 1 }, "nic-0a", 0],
      [{ flow: 2 }, "nic-0a", 1],
    ]);
    expect(readBack[0].enqueuedTimeUtc).toBeInstanceOf(Date);
    expect(readBack[1].offset).not.toBe(readBack[0].offset);
  });

  it("keeps application properties, message id, content type, correlation id and annotations", async () => {
    // Prepare
    const sent = {
      body: Buffer.from([0, 1, 2, 254]),
      properties: { blob: "insights-logs/y=2026/PT1H.json", block: 7, replay: false },
      messageId: "blob-1:block-7",
      contentType: "application/octet-stream",
      correlationId: "checkpoint-42",
    };

    // Act
    await producer.sendBatch([sent], { partitionId: "1" });
    await producer.sendBatch(
      [{ body: "annotated", messageAnnotations: { "x-flowtap-source": "nsg" }, bodyType: "data" as const }],
      { partitionId: "1" },
    );

    await producer.sendBatch(
      [
        { body: { kind: "amqp-value" }, bodyType: "value" as const },
        { body: [["seq", 1]], bodyType: "sequence" as const },
      ],
      { partitionId: "1" },
    );

    // Assess
    const received = await receiveEvents(consumer, "1", earliestEventPosition, 4);
    expect(received[0]).toMatchObject(sent);
    const held = eh.events("flows", "1");
    expect(held[0]).toMatchObject({
      messageId: sent.messageId,
      contentType: sent.contentType,
      properties: sent.properties,
    });
    expect(held[1].annotations).toMatchObject({ "x-flowtap-source": "nsg" });
    expect(received[1].getRawAmqpMessage().messageAnnotations).toMatchObject({ "x-flowtap-source": "nsg" });
    expect(received.slice(2).map((event) => event.body)).toEqual([{ kind: "amqp-value" }, [["seq", 1]]]);
    expect(held.slice(2).map((event) => event.body)).toEqual([{ kind: "amqp-value" }, [["seq", 1]]]);
  });

  it("starts consumers at earliest, latest, sequence numbers, offsets and enqueued times", async () => {
    // Prepare: two sends to a hub of their own, distinct enqueued times
    const positionsProducer = new EventHubProducerClient(eh.connectionString("positions"));
    const positionsConsumer = new EventHubConsumerClient("$Default", eh.connectionString("positions"));
    await positionsProducer.sendBatch([{ body: "e0" }, { body: "e1" }, { body: "e2" }]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await positionsProducer.sendBatch([{ body: "e3" }, { body: "e4" }]);
    const held = eh.events("positions", "0");
    const read = (position: EventPosition, count: number): Promise<ReceivedEventData[]> =>
      receiveEvents(positionsConsumer, "0", position, count);

    // Act + Assess
    expect(sequenceNumbers(await read(earliestEventPosition, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(sequenceNumbers(await read({ sequenceNumber: 2, isInclusive: true }, 3))).toEqual([2, 3, 4]);
    expect(sequenceNumbers(await read({ sequenceNumber: 2 }, 2))).toEqual([3, 4]);
    expect(sequenceNumbers(await read({ offset: held[3].offset, isInclusive: true }, 2))).toEqual([3, 4]);
    expect(sequenceNumbers(await read({ offset: held[3].offset }, 1))).toEqual([4]);
    expect(sequenceNumbers(await read({ enqueuedOn: held[0].enqueuedTimeUtc }, 2))).toEqual([3, 4]);

    // Latest: nothing already held, only what is sent once the receiver is attached.
    const afterLatest: ReceivedEventData[] = [];
    let sentAfterAttach = false;
    let subscription: Subscription | undefined;
    await new Promise<void>((resolve, reject) => {
      subscription = positionsConsumer.subscribe(
        "0",
        {
          processEvents: async (events) => {
            afterLatest.push(...events);
            // An empty batch means the receiver is attached and waited.
            if (events.length === 0 && !sentAfterAttach) {
              sentAfterAttach = true;
              await positionsProducer.sendBatch([{ body: "e5" }]);
            }
            if (afterLatest.length > 0) resolve();
          },
          processError: async (error) => reject(error),
        },
        { startPosition: latestEventPosition, maxWaitTimeInSeconds: 0.2 },
      );
    });
    await subscription?.close();
    expect(afterLatest.map((event) => [event.body, event.sequenceNumber])).toEqual([["e5", 5]]);
    await positionsProducer.close();
    await positionsConsumer.close();
  });

  it("answers getEventHubProperties and getPartitionProperties", async () => {
    // Prepare
    const auditProducer = new EventHubProducerClient(eh.connectionString("audit"));
    await auditProducer.sendBatch([{ body: "a" }, { body: "b" }], { partitionId: "1" });

    // Act
    const hub = await auditProducer.getEventHubProperties();
    const empty = await auditProducer.getPartitionProperties("0");
    const filled = await auditProducer.getPartitionProperties("1");

    // Assess
    expect(hub).toMatchObject({ name: "audit", partitionIds: ["0", "1"], isGeoDrEnabled: false });
    expect(hub.createdOn).toBeInstanceOf(Date);
    expect(empty).toMatchObject({
      eventHubName: "audit",
      partitionId: "0",
      isEmpty: true,
      lastEnqueuedSequenceNumber: -1,
    });
    expect(filled).toMatchObject({
      partitionId: "1",
      isEmpty: false,
      beginningSequenceNumber: 0,
      lastEnqueuedSequenceNumber: 1,
      lastEnqueuedOffset: eh.events("audit", "1")[1].offset,
    });
    expect(filled.lastEnqueuedOnUtc).toEqual(eh.events("audit", "1")[1].enqueuedTimeUtc);
    await auditProducer.close();
  });

  it("flushes the buffered producer and maps its partition keys as the endpoint does", async () => {
    // Prepare: keys of 5 to 45 characters (ASCII, then 2-byte UTF-8), so every tail case of the hash runs
    const sendErrors: Error[] = [];
    const buffered = new EventHubBufferedProducerClient(eh.connectionString("keyed"), {
      onSendEventsErrorHandler: (context) => {
        sendErrors.push(context.error);
      },
      maxWaitTimeInMs: 50,
    });
    const keyedProducer = new EventHubProducerClient(eh.connectionString("keyed"));
    const keys = Array.from({ length: 41 }, (_, index) =>
      `vm-${String(index).padStart(2, "0")}${"é".repeat(index)}`.slice(0, index + 5),
    );

    // Act
    for (const key of keys) await buffered.enqueueEvent({ body: { key } }, { partitionKey: key });
    await buffered.flush();
    await buffered.close();
    await keyedProducer.sendBatch([{ body: { key: keys[7] } }], { partitionKey: keys[7] });
    await keyedProducer.close();

    // Assess: the client hashed each key to a partition id (sent without the key); the endpoint's hash agrees.
    expect(sendErrors).toEqual([]);
    const keyOf = (body: unknown): string => (body as { key: string }).key;
    const held = eh.events("keyed");
    expect(held).toHaveLength(keys.length + 1);
    for (const event of held) {
      expect(event.partitionId).toBe(partitionIdForKey(keyOf(event.body), 32));
    }
    const partitionsOfKey7 = new Set(
      held.filter((event) => keyOf(event.body) === keys[7]).map((event) => event.partitionId),
    );
    expect(partitionsOfKey7.size).toBe(1);
    expect(new Set(held.map((event) => event.partitionId)).size).toBeGreaterThan(8);
  });

  it("keeps hubs apart and refuses unknown hubs, partitions and consumer groups", async () => {
    // Prepare
    const auditProducer = new EventHubProducerClient(eh.connectionString("audit"));
    const analytics = new EventHubConsumerClient("analytics", eh.connectionString("audit"));
    const unknownGroup = new EventHubConsumerClient("nobody", eh.connectionString("audit"));
    const flowsBefore = eh.eventCount("flows");

    // Act
    await auditProducer.sendBatch([{ body: "audit-only" }], { partitionId: "0" });
    const viaAnalytics = await receiveEvents(analytics, "0", earliestEventPosition, 1);
    const unknownGroupRead = receiveEvents(unknownGroup, "0", earliestEventPosition, 1);

    // Assess
    expect(viaAnalytics.map((event) => event.body)).toEqual(["audit-only"]);
    expect(eh.eventCount("flows")).toBe(flowsBefore);
    await expect(unknownGroupRead).rejects.toMatchObject({ code: "MessagingEntityNotFoundError" });
    const missingHub = new EventHubProducerClient(
      eh.connectionString("audit").replace("EntityPath=audit", "EntityPath=nohub"),
      {
        retryOptions: FAST_RETRIES,
      },
    );
    await expect(missingHub.getEventHubProperties()).rejects.toMatchObject({ code: "MessagingEntityNotFoundError" });
    await missingHub.close();
    await expect(auditProducer.sendBatch([{ body: "x" }], { partitionId: "9" })).rejects.toMatchObject({
      code: "ArgumentOutOfRangeError",
    });
    await expect(auditProducer.getPartitionProperties("9")).rejects.toMatchObject({ code: "ArgumentOutOfRangeError" });
    await auditProducer.close();
    await analytics.close();
    await unknownGroup.close();
  });

  it("disconnects a consumer when a higher owner level takes its partition, and refuses a lower one", async () => {
    // Prepare
    const auditProducer = new EventHubProducerClient(eh.connectionString("audit"));
    await auditProducer.sendBatch([{ body: "owned" }], { partitionId: "1" });
    const clients = [1, 2, 3].map(() => new EventHubConsumerClient("analytics", eh.connectionString("audit")));
    const errorsOf = clients.map((): Error[] => []);
    let firstDisconnected: () => void = () => undefined;
    const firstDisconnectedSeen = new Promise<void>((resolve) => (firstDisconnected = resolve));
    const subscribeWithOwnerLevel = (index: number, ownerLevel: number): Promise<Subscription> =>
      new Promise((resolve) => {
        const subscription: Subscription = clients[index].subscribe(
          "1",
          {
            processEvents: async (events) => (events.length > 0 ? resolve(subscription) : undefined),
            processError: async (error) => {
              errorsOf[index].push(error);
              if (index === 0) firstDisconnected();
              if (index === 2) resolve(subscription);
            },
          },
          { startPosition: earliestEventPosition, ownerLevel, maxWaitTimeInSeconds: 0.2 },
        );
      });

    // Act
    const first = await subscribeWithOwnerLevel(0, 1);
    const second = await subscribeWithOwnerLevel(1, 2);
    await firstDisconnectedSeen;
    const third = await subscribeWithOwnerLevel(2, 1);

    // Assess
    expect(errorsOf[0].map((error) => (error as { code?: string }).code)).toContain("ReceiverDisconnectedError");
    expect(errorsOf[1]).toEqual([]);
    expect(errorsOf[2].map((error) => (error as { code?: string }).code)).toContain("ReceiverDisconnectedError");
    await Promise.all([first.close(), second.close(), third.close()]);
    await Promise.all(clients.map((client) => client.close()));
    await auditProducer.close();
  });

  it("refuses the next sends with ServerBusy and the client's retries get them through", async () => {
    // Prepare
    const faulty = new EventHubProducerClient(eh.connectionString("faulty"), { retryOptions: FAST_RETRIES });
    await faulty.sendBatch([{ body: "warm-up" }]);
    const before = eh.sendOutcomes();
    eh.injectFaults({ kind: "server-busy", count: 2, hub: "faulty" });

    // Act
    await faulty.sendBatch([{ body: "after-busy" }]);

    // Assess
    expect(eh.sendOutcomes().refusedServerBusy - before.refusedServerBusy).toBe(2);
    expect(eh.events("faulty").map((event) => event.body)).toEqual(["warm-up", "after-busy"]);

    // Act: more refusals than retries surface the service's error
    eh.injectFaults({ kind: "server-busy", count: FAST_RETRIES.maxRetries + 1, hub: "faulty" });
    const exhausted = await faulty.sendBatch([{ body: "never" }]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(exhausted).toBeInstanceOf(AggregateError);
    const attempts = (exhausted as AggregateError).errors;
    expect(attempts).toHaveLength(FAST_RETRIES.maxRetries + 1);
    for (const attempt of attempts) expect(attempt).toMatchObject({ code: "ServerBusyError", retryable: true });
    expect(eh.events("faulty").map((event) => event.body)).not.toContain("never");
    await faulty.close();
  });

  it("leaves the next sends unsettled so the client times out and retries", async () => {
    // Prepare
    const faulty = new EventHubProducerClient(eh.connectionString("faulty"), {
      retryOptions: { ...FAST_RETRIES, timeoutInMs: 400 },
    });
    await faulty.sendBatch([{ body: "warm-up-2" }]);
    const before = eh.eventCount("faulty");
    const timedOutBefore = eh.sendOutcomes().timedOut;
    eh.injectFaults({ kind: "timeout", count: 1, hub: "faulty" });
    eh.injectFaults({ kind: "timeout", count: 1, hub: "faulty", storeEventsOfTimedOutSends: true });

    // Act
    await faulty.sendBatch([{ body: "lost-ack" }]);

    // Assess: first attempt dropped, second stored but unacknowledged, third acknowledged.
    expect(eh.sendOutcomes().timedOut - timedOutBefore).toBe(2);
    expect(
      eh
        .events("faulty")
        .slice(before)
        .map((event) => event.body),
    ).toEqual(["lost-ack", "lost-ack"]);
    await faulty.close();
  });

  it("stores an idempotent producer's retried send once when its acknowledgement was lost", async () => {
    // Prepare: in v6 only the buffered producer offers idempotent retries
    const sendErrors: Error[] = [];
    const idempotent = new EventHubBufferedProducerClient(eh.connectionString("faulty"), {
      enableIdempotentRetries: true,
      maxWaitTimeInMs: 50,
      onSendEventsErrorHandler: (context) => {
        sendErrors.push(context.error);
      },
      retryOptions: { ...FAST_RETRIES, timeoutInMs: 400 },
    });
    await idempotent.enqueueEvent({ body: "first" });
    await idempotent.flush();
    const before = eh.sendOutcomes();
    eh.injectFaults({ kind: "timeout", count: 1, hub: "faulty", storeEventsOfTimedOutSends: true });

    // Act
    await idempotent.enqueueEvents([{ body: "acknowledgement-lost" }, { body: "same-batch" }]);
    await idempotent.flush();
    await idempotent.enqueueEvent({ body: "next" });
    await idempotent.flush();
    await idempotent.close();

    // Assess
    expect(sendErrors).toEqual([]);
    const held = eh.events("faulty", "0").slice(-4);
    expect(held.map((event) => event.body)).toEqual(["first", "acknowledgement-lost", "same-batch", "next"]);
    expect(held.map((event) => event.annotations["com.microsoft:producer-sequence-number"])).toEqual([0, 1, 2, 3]);
    expect(eh.sendOutcomes().duplicatesIgnored - before.duplicatesIgnored).toBe(1);
  });
});

describe("local Event Hubs endpoint limits and shutdown", () => {
  it("accepts connections with Nagle's algorithm off, as the service's AMQP listener does", async () => {
    // Prepare: watch Node's setNoDelay; an endpoint and a client that sends once
    const setNoDelay = vi.spyOn(Socket.prototype, "setNoDelay");
    const endpoint = await startEventHubsEndpoint({ hubs: [{ name: "flows", partitionCount: 1 }] });
    const client = new EventHubProducerClient(endpoint.connectionString("flows"));
    try {
      // Act
      await client.sendBatch([{ body: "one" }]);

      // Assess: the endpoint's side of the connection (local port = the endpoint's) got setNoDelay(true)
      const accepted = setNoDelay.mock.contexts.flatMap((socket, call) =>
        (socket as Socket).localPort === endpoint.port ? [setNoDelay.mock.calls[call]] : [],
      );
      expect(accepted).toEqual([[true]]);
    } finally {
      setNoDelay.mockRestore();
      await client.close();
      await endpoint.stop();
    }
  });

  it("advertises the max message size and refuses a larger send with the service's error", async () => {
    // Prepare
    const eh = await startEventHubsEndpoint({
      hubs: [{ name: "small", partitionCount: 1 }],
      maxMessageSizeInBytes: 4096,
    });
    const producer = new EventHubProducerClient(eh.connectionString("small"), { retryOptions: FAST_RETRIES });

    // Act
    const batch = await producer.createBatch();
    const oversized = producer.sendBatch([{ body: Buffer.alloc(5000, 1) }]);

    // Assess
    expect(batch.maxSizeInBytes).toBe(4096);
    expect(batch.tryAdd({ body: Buffer.alloc(5000, 1) })).toBe(false);
    await expect(oversized).rejects.toMatchObject({ code: "MessageTooLargeError", retryable: false });
    expect(eh.eventCount("small")).toBe(0);
    expect(eh.sendOutcomes().refusedTooLarge).toBe(1);
    await producer.close();
    await eh.stop();
  });

  it("stops with producers and a subscribed consumer still open, and their close() returns", async () => {
    // Prepare
    const eh = await startEventHubsEndpoint({ hubs: [{ name: "live", partitionCount: 2 }] });
    const producer = new EventHubProducerClient(eh.connectionString("live"));
    const consumer = new EventHubConsumerClient("$Default", eh.connectionString("live"));
    await producer.sendBatch([{ body: "x" }], { partitionId: "0" });
    const received = new Promise<void>((resolve) => {
      consumer.subscribe(
        { processEvents: async (events) => (events.length > 0 ? resolve() : undefined), processError: async () => {} },
        {
          startPosition: earliestEventPosition,
          maxWaitTimeInSeconds: 0.2,
        },
      );
    });
    await received;

    // Act
    await eh.stop();
    await producer.close();
    await consumer.close();

    // Assess: the port no longer answers
    const late = new EventHubProducerClient(eh.connectionString("live"), { retryOptions: { maxRetries: 0 } });
    await expect(late.getEventHubProperties()).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await late.close();
  }, 15_000);

  it("rejects bad options with errors naming the option", async () => {
    await expect(startEventHubsEndpoint({ hubs: [] })).rejects.toThrow(/hubs must list at least one hub/);
    await expect(startEventHubsEndpoint({ hubs: [{ name: "h", partitionCount: 0 }] })).rejects.toThrow(
      /hubs\[0\]\.partitionCount/,
    );
    await expect(
      startEventHubsEndpoint({
        hubs: [
          { name: "h", partitionCount: 1 },
          { name: "h", partitionCount: 1 },
        ],
      }),
    ).rejects.toThrow(/hubs\[1\]\.name 'h' is listed twice/);
    await expect(
      startEventHubsEndpoint({ hubs: [{ name: "h", partitionCount: 1 }], maxMessageSizeInBytes: -1 }),
    ).rejects.toThrow(/maxMessageSizeInBytes/);
  });
});
