import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeEvent, eventsOf, flattenFlowLog, toSchema1, type FlowEvent } from "../../src/core";
import { FIXTURES_PRESENT, readFixture, skipAllWithoutFixtures } from "./flowLogFixtures";

skipAllWithoutFixtures();

/** An event of the VNet docs sample; read before the tests, not at load, so that a clone without the samples skips. */
let BASE: FlowEvent;
beforeAll(() => {
  if (FIXTURES_PRESENT)
    BASE = eventsOf(flattenFlowLog(readFixture("vnet/azure-docs-vnet-flow-logs-overview-md.json")))[0]!;
});

describe("encodeEvent", () => {
  it("writes exactly what JSON.stringify writes for every event of the samples, in key order", () => {
    for (const file of [
      "nsg-v2/abhishekgangurde-DevReops-PT1H.json",
      "vnet/sumologic-blob_fixtures_vnetflowlogs.json",
      "nsg-v1/msconnector-sampleJsonInput.json",
    ]) {
      for (const event of eventsOf(flattenFlowLog(readFixture(file))))
        expect(encodeEvent(event)).toBe(JSON.stringify(event));
    }
  });

  it("writes schema 1 exactly as JSON.stringify writes the schema 1 event, alternating with schema 2", () => {
    // Prepare
    const events = ["nsg-v2/abhishekgangurde-DevReops-PT1H.json", "vnet/sumologic-blob_fixtures_vnetflowlogs.json"]
      .map((file) => eventsOf(flattenFlowLog(readFixture(file))))
      .flat();
    // Act
    const encoded = events.map((event) => [encodeEvent(event, 1), encodeEvent(event, 2)]);
    // Assess
    encoded.forEach(([v1, v2], index) => {
      expect(v1).toBe(JSON.stringify(toSchema1(events[index]!)));
      expect(v2).toBe(JSON.stringify(events[index]));
    });
  });

  it("escapes strings that need it: quotes, backslashes, control characters, lone surrogates", () => {
    const odd = { ...BASE, rule: 'a"b\\c\n\u0001', blob: "x\ud800y", srcIp: "ü😀", mac: null, encryption: "\t" };
    const json = encodeEvent(odd);
    expect(json).toBe(JSON.stringify(odd));
    expect(JSON.parse(json)).toEqual(odd);
  });

  it("does not reuse the shared part for an event whose shared fields differ", () => {
    const first = encodeEvent(BASE);
    const other = { ...BASE, rule: "other", blob: "b2" };
    expect(encodeEvent(other)).toBe(JSON.stringify(other));
    expect(encodeEvent(BASE)).toBe(first);
  });

  it("round-trips any strings and numbers through JSON.parse", () => {
    fc.assert(
      fc.property(
        fc.record({
          rule: fc.string({ unit: "binary" }),
          srcIp: fc.string({ unit: "grapheme" }),
          targetResourceId: fc.option(fc.string({ unit: "binary" }), { nil: null }),
          vmId: fc.option(fc.string({ unit: "binary" }), { nil: null }),
          bytesSrcToDst: fc.option(fc.nat(), { nil: null }),
        }),
        (fields) => {
          const event = { ...BASE, ...fields };
          expect(JSON.parse(encodeEvent(event))).toEqual(event);
          expect(encodeEvent(event)).toBe(JSON.stringify(event));
          expect(encodeEvent(event, 1)).toBe(JSON.stringify(toSchema1(event)));
        },
      ),
      { numRuns: 100 },
    );
  });
});
