/**
 * Compact records: the encoder's shared and event records, read back by expandCompactRecords into the plain schema 2
 * events, and the message docs/events.md shows is what the encoder writes for its sample.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeCompactEvent,
  encodeEvent,
  eventsOf,
  expandCompactRecords,
  flattenFlowLog,
  type FlowEvent,
} from "../../src/core";
import { ValidationError } from "../../src/errors";
import { readFixture, skipWithoutFixtures } from "./flowLogFixtures";

const DOCS_SAMPLE = "vnet/azure-docs-flow-logs-read-md-vnet-single-record.json";
const DOCS_PATH =
  "insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/" +
  "RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS2EUAP/" +
  "FLOWLOGS/VNETFLOWLOG/y=2022/m=09/d=28/h=18/m=00/macAddress=00224871C205/PT1H.json";

/** A message's records as the sink lays them out: each shared record once, before its first event. */
function recordsOf(bodies: { body: Buffer; shared: { key: string; body: Buffer } }[]): unknown[] {
  const keys = new Set<string>();
  return bodies.flatMap(({ body, shared }) => {
    const first = !keys.has(shared.key);
    keys.add(shared.key);
    return [...(first ? [shared.body] : []), body].map((bytes) => JSON.parse(bytes.toString("utf8")) as unknown);
  });
}

describe("compact records", () => {
  it("read back, they are the plain schema 2 events, key order included", (ctx) => {
    skipWithoutFixtures(ctx);
    // Prepare
    const events = eventsOf(flattenFlowLog(readFixture(DOCS_SAMPLE), { blobPath: DOCS_PATH }));
    // Act
    const expanded = expandCompactRecords(recordsOf(events.map((event) => encodeCompactEvent(event))), "test");
    // Assess
    expect(events.length).toBeGreaterThan(1);
    expect(expanded.map((event) => JSON.stringify(event))).toEqual(events.map((event) => encodeEvent(event)));
  });

  it("write each event record as the JSON of its id, time, key and own fields, whatever their text", (ctx) => {
    skipWithoutFixtures(ctx);
    const [base] = eventsOf(flattenFlowLog(readFixture(DOCS_SAMPLE), { blobPath: DOCS_PATH }));
    fc.assert(
      fc.property(
        fc.record({
          id: fc.string({ unit: "binary" }),
          rule: fc.string({ unit: "binary" }),
          srcIp: fc.string({ unit: "grapheme" }),
          dstIp: fc.string({ unit: "binary" }),
          flowState: fc.option(fc.string(), { nil: null }),
          encryption: fc.option(fc.string({ unit: "binary" }), { nil: null }),
          srcPort: fc.option(fc.oneof(fc.nat(), fc.maxSafeInteger(), fc.integer()), { nil: null }),
          bytesSrcToDst: fc.option(fc.double(), { nil: null }),
        }),
        (fields) => {
          const event = { ...base!, ...fields } as FlowEvent;
          const { id, time, srcIp, dstIp, srcPort, dstPort, protocol, direction, decision, flowState } = event;
          const { encryption, packetsSrcToDst, bytesSrcToDst, packetsDstToSrc, bytesDstToSrc } = event;

          const { body, shared } = encodeCompactEvent(event);

          const own = { srcIp, dstIp, srcPort, dstPort, protocol, direction, decision, flowState, encryption };
          const counts = { packetsSrcToDst, bytesSrcToDst, packetsDstToSrc, bytesDstToSrc };
          expect(body.toString("utf8")).toBe(JSON.stringify({ id, time, shared: shared.key, ...own, ...counts }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("give equal shared records equal keys, and a new one where the shared fields change", (ctx) => {
    skipWithoutFixtures(ctx);
    const events = eventsOf(flattenFlowLog(readFixture(DOCS_SAMPLE), { blobPath: DOCS_PATH }));

    const [first, again] = [events[0]!, events[0]!].map((event) => encodeCompactEvent(event).shared);
    const other = events.find((event) => event.rule !== events[0]!.rule)!;

    expect(again!.key).toBe(first!.key);
    expect(encodeCompactEvent(other).shared.key).not.toBe(first!.key);
  });

  it("docs/events.md shows the message the encoder writes for its sample's first event", (ctx) => {
    skipWithoutFixtures(ctx);
    const docs = readFileSync(join(__dirname, "../../docs/events.md"), "utf8");
    const shown = docs.split("### Compact messages")[1]!.match(/```json\n([\s\S]*?)\n```/)![1]!;
    const [event] = eventsOf(flattenFlowLog(readFixture(DOCS_SAMPLE), { blobPath: DOCS_PATH }));

    expect(JSON.parse(shown)).toEqual(recordsOf([encodeCompactEvent(event!)]));
  });

  it("refuse an event naming a shared record the message has not carried before it, naming both", () => {
    const records = [
      { id: "abc-0-0", time: "2026-11-22T10:00:00.000Z", shared: "00000000000000aa" },
      { shared: "00000000000000aa", schemaVersion: 2, blob: "x" },
    ];

    expect(() => expandCompactRecords(records, "message m")).toThrow(ValidationError);
    expect(() => expandCompactRecords(records, "message m")).toThrow(
      /message m: event abc-0-0 names shared record 00000000000000aa, which no earlier record/,
    );
    expect(() => expandCompactRecords([{ id: "x" }], "message m")).toThrow(/record 0 is not a compact record/);
  });
});
