import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readSinkSettings, type LogsIngestionSettings } from "../../src/config";
import { toNetworkSessionRow, type FlowEvent } from "../../src/core";
import {
  createLogsIngestionSink,
  type CreateLogsIngestionSinkOptions,
  type LogsIngestionSink,
} from "../../src/adapters/logsIngestionSink";
import { ServiceError, ValidationError } from "../../src/errors";
import { MAX_CALL_BYTES, startLogsIngestionEndpoint, type LogsIngestionEndpoint } from "../../devhost/logsingestion";
import { syntheticEvents } from "../support/syntheticEvents";

let endpoint: LogsIngestionEndpoint;
let settings: LogsIngestionSettings;

beforeAll(async () => {
  endpoint = await startLogsIngestionEndpoint();
  settings = readSinkSettings(await endpoint.appSettings()).logsIngestion!;
});
afterAll(() => endpoint.stop());

/** Each test sends its own events (distinct blob paths): rows stored by earlier tests do not count. */
let testIndex = 0;
let events: FlowEvent[];
beforeEach(() => {
  testIndex++;
  events = syntheticEvents(3000, `t${testIndex}/PT1H.json`);
});

const FAST_RETRIES = { sendRetryOptions: { delayInMs: 10 }, maxConcurrency: 1 } as const;

function sinkWith(options: CreateLogsIngestionSinkOptions = {}): LogsIngestionSink {
  return createLogsIngestionSink(settings, { ...FAST_RETRIES, ...options });
}

/** The stored rows of this test's events, by their id. */
function storedIds(): string[] {
  const ids = new Set(events.map((event) => event.id));
  return endpoint
    .rows()
    .map((row) => row.EventOriginalUid as string)
    .filter((id) => ids.has(id));
}

const callsSince = (start: number) => endpoint.calls.slice(start);

describe("createLogsIngestionSink through the real @azure/monitor-ingestion client", () => {
  it("uploads every row once, gzipped, in calls within 1 MB compressed and uncompressed", async () => {
    // Prepare
    const sink = sinkWith();
    const start = endpoint.calls.length;
    const acknowledged: number[] = [];
    // Act
    await sink.send(events, { onAcknowledged: (count) => acknowledged.push(count) });
    // Assess
    const calls = callsSince(start);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      expect(call).toMatchObject({ statusCode: 204, gzip: true });
      expect(call.bodyBytes).toBeLessThanOrEqual(MAX_CALL_BYTES);
      expect(call.decodedBytes).toBeLessThanOrEqual(MAX_CALL_BYTES);
    }
    expect(storedIds()).toEqual(events.map((event) => event.id));
    const stored = endpoint.rows().find((row) => row.EventOriginalUid === events[7]!.id);
    expect(stored).toEqual(JSON.parse(JSON.stringify(toNetworkSessionRow(events[7]!))));
    expect(acknowledged).toEqual([events.length]);
  });

  it("answers 429 by waiting for its Retry-After (the SDK's retry), then every row arrives once", async () => {
    // Prepare
    const sink = sinkWith();
    const start = endpoint.calls.length;
    endpoint.injectFault({ statusCode: 429, retryAfterInSeconds: 1 });
    // Act
    await sink.send(events.slice(0, 100));
    // Assess
    const [throttled, retried] = callsSince(start);
    expect([throttled?.statusCode, retried?.statusCode]).toEqual([429, 204]);
    expect(retried!.receivedAt - throttled!.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(storedIds()).toEqual(events.slice(0, 100).map((event) => event.id));
  });

  it("re-sends only the failed chunk when 503 outlasts the SDK's retries, without duplicating the others", async () => {
    // Prepare: the SDK does not retry; the second of three chunks fails twice.
    const sink = sinkWith({ retryOptions: { maxRetries: 0 } });
    const start = endpoint.calls.length;
    endpoint.injectFault({ statusCode: 503, retryAfterInSeconds: 0, count: 2, afterCalls: 1 });
    const acknowledged: number[] = [];
    // Act
    const totals = await sink.send(events, { onAcknowledged: (count) => acknowledged.push(count) });
    // Assess
    const statuses = callsSince(start).map((call) => call.statusCode);
    expect(statuses.filter((status) => status === 503)).toHaveLength(2);
    expect(new Set(storedIds()).size).toBe(events.length);
    expect(storedIds()).toHaveLength(events.length);
    expect(totals.rowsResent).toBeGreaterThan(0);
    expect(acknowledged.at(-1)).toBe(events.length);
    expect(acknowledged[0]).toBeLessThan(events.length);
  });

  it("reports a 413 chunk as a non-retryable ServiceError, acknowledging only the rows before it", async () => {
    // Prepare
    const sink = sinkWith();
    endpoint.injectFault({ statusCode: 413, afterCalls: 1 });
    let acknowledged = -1;
    // Act
    const failure = await sink.send(events, { onAcknowledged: (count) => (acknowledged = count) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(ServiceError);
    expect((failure as ServiceError).retryable).toBe(false);
    expect((failure as Error).message).toMatch(/rows not accepted by DCR dcr-\w+ stream Custom-\w+.*HTTP 413/);
    expect(acknowledged).toBeGreaterThan(0);
    expect(storedIds().slice(0, acknowledged)).toEqual(events.slice(0, acknowledged).map((event) => event.id));
  });

  it("gives up after its attempts on a lasting 503 with a retryable ServiceError", async () => {
    // Prepare
    const sink = sinkWith({ retryOptions: { maxRetries: 0 }, sendRetryOptions: { delayInMs: 1, maxAttempts: 2 } });
    endpoint.injectFault({ statusCode: 503, retryAfterInSeconds: 0, count: 2 });
    // Act
    const failure = await sink.send(events.slice(0, 10)).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(ServiceError);
    expect((failure as ServiceError).retryable).toBe(true);
    expect(storedIds()).toEqual([]);
  });

  it("refuses an event with a field over 64 KB before sending anything, naming the field and the event", async () => {
    // Prepare
    const sink = sinkWith();
    const start = endpoint.calls.length;
    const big = { ...events[1]!, rule: "R".repeat(70 * 1024) };
    // Act
    const failure = await sink.send([events[0]!, big]).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(ValidationError);
    expect((failure as Error).message).toContain(`Event ${big.id}: field NetworkRuleName is 71680 bytes`);
    expect(callsSince(start)).toEqual([]);
  });

  it("is refused (401, retryable) with a token the tenant did not sign", async () => {
    // Prepare
    const sink = sinkWith({
      retryOptions: { maxRetries: 0 },
      sendRetryOptions: { maxAttempts: 1 },
      credential: { getToken: async () => ({ token: "not-a-jwt", expiresOnTimestamp: Date.now() + 60_000 }) },
    });
    // Act
    const failure = await sink.send(events.slice(0, 1)).then(
      () => undefined,
      (error: unknown) => error,
    );
    // Assess
    expect((failure as Error).message).toContain("HTTP 401");
    expect((failure as ServiceError).retryable).toBe(true);
  });
});
