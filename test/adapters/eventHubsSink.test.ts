import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  closeSharedEventHubsSinks,
  createEventHubsSink,
  sharedEventHubsSink,
  type CreateEventHubsSinkOptions,
  type EventHubsSink,
  type SinkEvent,
  type SinkEventBytes,
} from "../../src/adapters/eventHubsSink";
import type { EventHubSettings } from "../../src/config";
import { EVENT_SCHEMA_VERSION } from "../../src/core/event";
import { ServiceError, ValidationError } from "../../src/errors";
import { startEventHubsEndpoint, type LocalEventHubEvent, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { localSinkSettings } from "./localSink";

const FAST = {
  retryOptions: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 },
  sendRetryOptions: { maxAttempts: 3, delayInMs: 10 },
} satisfies CreateEventHubsSinkOptions;
const SMALL_LINK_IN_BYTES = 4096;

/** `count` flow events like the flattener makes them, keyed by MAC. */
function flowEvents(
  count: number,
  keyOf: (i: number) => string | undefined,
  padding = "",
  blobHash = "0123456789abcdef",
): SinkEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `${blobHash}-${Math.floor(i / 10)}-${i % 10}`;
    const body = JSON.stringify({ id, srcIp: "10.0.0.4", dstIp: "52.1.2.3", dstPort: 443, seq: i, padding });
    return { id, body, partitionKey: keyOf(i) };
  });
}

/** What the endpoint stored, in partition order, as the consumer would decode it. */
function storedIds(events: LocalEventHubEvent[]): string[] {
  return events.map((event) => String(event.properties.flowtapEventId));
}

describe("Event Hubs sink with the real producer on the local endpoint", () => {
  let eh: LocalEventHubsEndpoint;
  let smallLink: LocalEventHubsEndpoint;
  let hubCount = 0;
  const sinks: EventHubsSink[] = [];

  beforeAll(async () => {
    const hubs = Array.from({ length: 12 }, (_, i) => ({ name: `flows${i + 1}`, partitionCount: 4 }));
    [eh, smallLink] = await Promise.all([
      startEventHubsEndpoint({ hubs }),
      startEventHubsEndpoint({
        hubs: [{ name: "small", partitionCount: 2 }],
        maxMessageSizeInBytes: SMALL_LINK_IN_BYTES,
      }),
    ]);
  });
  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((sink) => sink.close()));
  });
  afterAll(async () => {
    await Promise.all([eh.stop(), smallLink.stop()]);
  });

  /** A sink on a fresh hub of the main endpoint (or of `endpoint` for `hub`). */
  function sinkFor(
    overrides: Partial<EventHubSettings> = {},
    options: CreateEventHubsSinkOptions = FAST,
    endpoint = eh,
    hub = `flows${++hubCount}`,
  ): { sink: EventHubsSink; hub: string; settings: EventHubSettings } {
    const settings = localSinkSettings(endpoint, hub, overrides);
    const sink = createEventHubsSink(settings, options);
    sinks.push(sink);
    return { sink, hub, settings };
  }

  it("delivers every event once, a key's events in order on one partition, with id, schema, content type", async () => {
    const { sink, hub } = sinkFor();
    const keys = ["000D3A000001", "000D3A000002", "000D3A000003"];
    const events = flowEvents(60, (i) => keys[Math.floor(i / 7) % keys.length]);

    const totals = await sink.send(events);

    const stored = eh.events(hub);
    expect(totals).toMatchObject({ eventsSent: 60, messagesSent: 60 });
    expect(totals.batchesSent).toBe(9); // 60 events in runs of 7 consecutive same-key events
    expect(storedIds(stored).sort()).toEqual(events.map((event) => event.id).sort());
    for (const key of keys) {
      const ofKey = stored.filter((event) => event.partitionKey === key);
      expect(new Set(ofKey.map((event) => event.partitionId)).size).toBe(1);
      expect(storedIds(ofKey)).toEqual(events.filter((event) => event.partitionKey === key).map((event) => event.id));
    }
    const first = stored.find((event) => event.properties.flowtapEventId === events[0].id);
    expect(first?.body).toEqual(JSON.parse(events[0].body));
    expect(first?.messageId).toBe(events[0].id);
    expect(first?.contentType).toBe("application/json");
    expect(first?.properties).toMatchObject({ flowtapSchemaVersion: EVENT_SCHEMA_VERSION, flowtapEventCount: 1 });
  });

  it("sends events without a key to any partition and keeps the running totals", async () => {
    const { sink, hub } = sinkFor({ partitionKey: "none" });

    const first = await sink.send(flowEvents(5, () => undefined));
    const second = await sink.send(flowEvents(3, () => undefined));

    expect(first.eventsSent + second.eventsSent).toBe(8);
    expect(sink.totals.eventsSent).toBe(8);
    expect(sink.totals.bytesSent).toBe(first.bytesSent + second.bytesSent);
    expect(eh.eventCount(hub)).toBe(8);
  });

  it("splits batches at the link's maximum message size", async () => {
    const { sink, hub } = sinkFor({}, FAST, smallLink, "small");
    const events = flowEvents(100, () => "000D3A000001", "x".repeat(150));

    const totals = await sink.send(events);

    expect(totals.batchesSent).toBeGreaterThan(5);
    expect(totals.bytesSent / totals.batchesSent).toBeLessThanOrEqual(SMALL_LINK_IN_BYTES);
    expect(smallLink.sendOutcomes().refusedTooLarge).toBe(0);
    expect(storedIds(smallLink.events(hub))).toEqual(events.map((event) => event.id));
  });

  it("honours a configured batch size below the link's", async () => {
    const { sink, hub } = sinkFor({ maxBatchSizeInBytes: 2048 });
    const events = flowEvents(40, () => "000D3A000001", "x".repeat(150));

    const totals = await sink.send(events);

    // About 9 KB of events: one batch on the 1 MB link, at least five under the 2 KB setting.
    expect(totals.batchesSent).toBeGreaterThanOrEqual(5);
    expect(totals.bytesSent / totals.batchesSent).toBeLessThanOrEqual(2048);
    expect(eh.eventCount(hub)).toBe(40);
  });

  it("packs up to eventsPerMessage events of one key into one JSON-array message", async () => {
    const { sink, hub } = sinkFor({ eventsPerMessage: 10 });
    const events = [
      ...flowEvents(25, () => "000D3A000001"),
      ...flowEvents(3, () => "000D3A000002", "", "fedcba9876543210"),
    ];

    const totals = await sink.send(events);

    const stored = eh.events(hub);
    expect(totals).toMatchObject({ eventsSent: 28, messagesSent: 4 });
    const arrays = stored.map((event) => event.body as { id: string }[]);
    expect(arrays.map((array) => array.length).sort()).toEqual([10, 10, 3, 5].sort());
    expect(
      arrays
        .flat()
        .map((event) => event.id)
        .sort(),
    ).toEqual(events.map((event) => event.id).sort());
    const firstMessage = stored.find((event) => event.properties.flowtapEventId === events[0].id);
    expect(firstMessage?.properties).toMatchObject({
      flowtapLastEventId: events[9].id,
      flowtapEventCount: 10,
      flowtapSchemaVersion: EVENT_SCHEMA_VERSION,
    });
    expect(firstMessage?.contentType).toBe("application/json");
  });

  it("packs by size too: arrays never exceed the link", async () => {
    const { sink, hub } = sinkFor({ eventsPerMessage: 100 }, FAST, smallLink, "small");
    const before = smallLink.eventCount(hub);
    const events = flowEvents(60, () => "000D3A000009", "y".repeat(150));

    const totals = await sink.send(events);

    expect(totals.messagesSent).toBeGreaterThan(2);
    expect(smallLink.sendOutcomes().refusedTooLarge).toBe(0);
    const arrays = smallLink
      .events(hub)
      .slice(before)
      .map((event) => event.body as { id: string }[]);
    expect(arrays.flat().map((event) => event.id)).toEqual(events.map((event) => event.id));
  });

  it("rides out ServerBusy on the next sends and still delivers every event exactly once", async () => {
    const { sink, hub } = sinkFor();
    const events = flowEvents(30, (i) => (i < 15 ? "000D3A000001" : "000D3A000002"));
    const refusedBefore = eh.sendOutcomes().refusedServerBusy;
    // 3 refusals: more than the SDK's own 2 tries, so our backoff around the batch is needed too.
    eh.injectFaults({ kind: "server-busy", count: 3, hub });

    const totals = await sink.send(events);

    expect(eh.sendOutcomes().refusedServerBusy - refusedBefore).toBe(3);
    expect(totals.eventsSent).toBe(30);
    expect(storedIds(eh.events(hub)).sort()).toEqual(events.map((event) => event.id).sort());
  });

  it("re-sends a batch whose acknowledgement timed out: the duplicates are byte-identical", async () => {
    const { sink, hub } = sinkFor({}, { ...FAST, retryOptions: { ...FAST.retryOptions, timeoutInMs: 300 } });
    const events = flowEvents(4, () => "000D3A000001");
    eh.injectFaults({ kind: "timeout", count: 1, hub, storeEventsOfTimedOutSends: true });

    const totals = await sink.send(events);

    const stored = eh.events(hub);
    expect(totals.eventsSent).toBe(4);
    expect(storedIds(stored)).toEqual([...events, ...events].map((event) => event.id));
    expect(stored.slice(4).map((event) => event.body)).toEqual(stored.slice(0, 4).map((event) => event.body));
  });

  it("fails with a retryable ServiceError when throttling outlasts every retry", async () => {
    const { sink, hub } = sinkFor();
    eh.injectFaults({ kind: "server-busy", count: 6, hub });

    const failure = await sink.send(flowEvents(2, () => "000D3A000001")).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({ retryable: true });
    expect(eh.eventCount(hub)).toBe(0);
  });

  it("ends batches between units and reports acknowledged events: a failure leaves whole units acked", async () => {
    // Seven of these events fit a 3,600-byte batch: a batch of whole 3-event units takes six.
    const { sink, hub } = sinkFor({ maxBatchSizeInBytes: 3600 });
    const events = flowEvents(18, () => "000D3A000001", "x".repeat(150));
    const unitEnds = [3, 6, 9, 12, 15, 18];
    const acknowledged: number[] = [];
    eh.injectFaults({ kind: "entity-disabled", count: 1, hub, afterSends: 2 });

    const failure = await sink
      .send(events, { unitEnds, onAcknowledged: (count) => acknowledged.push(count) })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({
      retryable: false,
      message: expect.stringContaining("MessagingEntityDisabledError"),
    });
    expect(acknowledged).toHaveLength(2);
    expect(acknowledged.every((count) => unitEnds.includes(count))).toBe(true);
    expect(storedIds(eh.events(hub))).toEqual(events.slice(0, acknowledged.at(-1)).map((event) => event.id));
  });

  it("fails with a non-retryable ServiceError, cause attached, when the hub does not exist", async () => {
    const namespaceConnectionString = eh.connectionString("flows1").replace(/EntityPath=[^;]*;?/, "");
    const { sink } = sinkFor({
      connection: { kind: "connectionString", connectionString: namespaceConnectionString },
      eventHubName: "no-such-hub",
    });

    const failure = await sink.send(flowEvents(1, () => "000D3A000001")).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceError);
    expect(failure).toMatchObject({ retryable: false, message: expect.stringContaining("no-such-hub") });
    expect((failure as ServiceError).cause).toBeInstanceOf(Error);
  });

  it("refuses an event larger than the link with a ValidationError naming it, before sending anything", async () => {
    const { sink, hub } = sinkFor({}, FAST, smallLink, "small");
    const before = smallLink.eventCount(hub);
    const events = [
      ...flowEvents(3, () => "000D3A000001"),
      { id: "huge-event", body: JSON.stringify({ p: "z".repeat(5000) }) },
    ];

    const failure = await sink.send(events).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toMatch(/huge-event is 5008 bytes/);
    expect(smallLink.eventCount(hub)).toBe(before);
  });

  it("packed, refuses an event that leaves no room for a message's framing, before sending anything", async () => {
    const { sink, hub } = sinkFor({ eventsPerMessage: 10 }, FAST, smallLink, "small");
    const before = smallLink.eventCount(hub);
    const events = [
      ...flowEvents(3, () => "k"),
      { id: "packed-too-big", body: JSON.stringify({ p: "v".repeat(3500) }), partitionKey: "k" },
    ];

    const failure = await sink.send(events).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toMatch(/packed-too-big is 3508 bytes: more than the 3070 bytes/);
    expect(smallLink.eventCount(hub)).toBe(before);
  });

  it("refuses an event that fits the link alone but not with its framing", async () => {
    const { sink } = sinkFor({}, FAST, smallLink, "small");
    const body = JSON.stringify({ p: "w".repeat(SMALL_LINK_IN_BYTES - 20) });

    const failure = await sink
      .send([{ id: "almost-too-big", body, partitionKey: "k" }])
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toMatch(
      /almost-too-big is \d+ bytes and does not fit an empty Event Hubs batch/,
    );
  });

  it("shares one sink (one connection) per settings across activity invocations", async () => {
    const { settings, hub } = sinkFor();

    const first = sharedEventHubsSink(settings, FAST);
    const again = sharedEventHubsSink(settings, FAST);
    await again.send(flowEvents(2, () => "k"));
    await closeSharedEventHubsSinks();

    expect(again).toBe(first);
    expect(eh.eventCount(hub)).toBe(2);
    expect(sharedEventHubsSink(settings, FAST)).not.toBe(first);
    await closeSharedEventHubsSinks();
  });
});

/** The sink's overlapping of calls: batches built early, sent strictly in call order, nothing after a failure. */
function eventsFrom(first: number, count: number): SinkEventBytes[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `e-${first + i}`;
    return { id, body: Buffer.from(JSON.stringify({ id, padding: "p".repeat(600) })), partitionKey: "000D3A000001" };
  });
}

describe("Event Hubs sink: overlapping calls", () => {
  let endpoint: LocalEventHubsEndpoint;
  const sinks: EventHubsSink[] = [];
  beforeAll(async () => {
    endpoint = await startEventHubsEndpoint({
      hubs: [
        { name: "ordered", partitionCount: 2 },
        { name: "after", partitionCount: 2 },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(sinks.map((sink) => sink.close()));
    await endpoint.stop();
  });
  function sinkFor(hub: string): EventHubsSink {
    const sink = createEventHubsSink(
      {
        connection: { kind: "connectionString", connectionString: endpoint.connectionString(hub) },
        eventHubName: hub,
        alertsEventHubName: hub,
        partitionKey: "mac",
        eventsPerMessage: 1,
        maxBatchSizeInBytes: 16 * 1024,
      },
      { sendRetryOptions: { maxAttempts: 1 } },
    );
    sinks.push(sink);
    return sink;
  }

  it("sends calls made at once in call order, each in several batches", async () => {
    // Prepare
    const sink = sinkFor("ordered");
    // Act
    await Promise.all([sink.send(eventsFrom(0, 60)), sink.send(eventsFrom(60, 60)), sink.send(eventsFrom(120, 60))]);
    // Assess
    expect(endpoint.events("ordered").map((event) => event.properties.flowtapEventId)).toEqual(
      eventsFrom(0, 180).map((event) => event.id),
    );
    expect(sink.totals.batchesSent).toBeGreaterThan(3);
  });

  it("sends nothing of a call whose `after` rejects, and rejects with that error", async () => {
    // Prepare
    const sink = sinkFor("after");
    const earlier = Promise.reject(new Error("the previous chunk failed"));
    // Act
    const failure = await sink.send(eventsFrom(0, 30), { after: earlier }).catch((error: unknown) => error);
    // Assess
    expect(failure).toMatchObject({ message: "the previous chunk failed" });
    expect(endpoint.eventCount("after")).toBe(0);
  });
});
