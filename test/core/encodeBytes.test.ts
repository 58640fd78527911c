import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeEvent, encodeEventBytes, eventsOf, flattenFlowLog, toSchema1, type FlowEvent } from "../../src/core";
import { FIXTURES_PRESENT, readFixture, skipAllWithoutFixtures } from "./flowLogFixtures";

skipAllWithoutFixtures();

/** An event of the VNet docs sample; read before the tests, not at load, so that a clone without the samples skips. */
let BASE: FlowEvent;
beforeAll(() => {
  if (FIXTURES_PRESENT)
    BASE = eventsOf(flattenFlowLog(readFixture("vnet/azure-docs-vnet-flow-logs-overview-md.json")))[0]!;
});

describe("encodeEventBytes", () => {
  it("writes encodeEvent's UTF-8 for every event of the samples, each event's bytes intact after later ones", () => {
    // Prepare
    const events = [
      "nsg-v2/abhishekgangurde-DevReops-PT1H.json",
      "vnet/sumologic-blob_fixtures_vnetflowlogs.json",
      "nsg-v1/msconnector-sampleJsonInput.json",
    ].flatMap((file) => eventsOf(flattenFlowLog(readFixture(file))));
    // Act
    const encoded = events.map((event) => [encodeEventBytes(event), encodeEventBytes(event, 1)]);
    // Assess
    encoded.forEach(([v2, v1], index) => {
      expect(v2!.toString("utf8")).toBe(JSON.stringify(events[index]));
      expect(v1!.toString("utf8")).toBe(JSON.stringify(toSchema1(events[index]!)));
    });
  });

  it("escapes and encodes any text and number exactly as encodeEvent does, also when shared fields change", () => {
    fc.assert(
      fc.property(
        fc.record({
          rule: fc.string({ unit: "binary" }),
          srcIp: fc.string({ unit: "grapheme" }),
          dstIp: fc.string({ unit: "binary" }),
          flowState: fc.option(fc.string(), { nil: null }),
          blob: fc.string({ unit: "binary" }),
          targetResourceId: fc.option(fc.string({ unit: "binary" }), { nil: null }),
          subnetId: fc.option(fc.string({ unit: "binary" }), { nil: null }),
          version: fc.constantFrom(1 as const, 2 as const),
          srcPort: fc.option(fc.oneof(fc.nat(), fc.maxSafeInteger(), fc.integer()), { nil: null }),
          bytesSrcToDst: fc.option(fc.double(), { nil: null }),
        }),
        ({ version, ...fields }) => {
          // Any text where the schema names values: the encoder must not rely on them.
          const event = { ...BASE, ...fields } as FlowEvent;
          expect(encodeEventBytes(event, version).equals(Buffer.from(encodeEvent(event, version), "utf8"))).toBe(true);
          expect(encodeEventBytes(BASE).toString("utf8")).toBe(JSON.stringify(BASE));
        },
      ),
      { numRuns: 500 },
    );
  });
});
