import { describe, expect, it } from "vitest";
import { buildBlobPath, eventId, eventsOf, flattenFlowLog, hashBlobPath } from "../../src/core";
import { readFixture, skipWithoutFixtures } from "./flowLogFixtures";

describe("event ids", () => {
  it("are the same on every run for the same blob, record and tuple", (context) => {
    skipWithoutFixtures(context);
    const input = readFixture("nsg-v2/sumologic-blob_fixtures.json");
    const ids = () => eventsOf(flattenFlowLog(input, { blobPath: "resourceId=/x" })).map((event) => event.id);
    expect(ids()).toEqual(ids());
    expect(hashBlobPath("resourceId=/x")).toMatch(/^[0-9a-f]{16}$/);
  });

  it("differ between blobs with the same content", (context) => {
    skipWithoutFixtures(context);
    const input = readFixture("nsg-v2/elastic-nsg-sample_logs-testdata-log.json");
    const [a] = eventsOf(flattenFlowLog(input, { blobPath: "a" }));
    const [b] = eventsOf(flattenFlowLog(input, { blobPath: "b" }));
    expect(a!.id).not.toBe(b!.id);
  });

  it("are unique over a generated corpus of a million tuples in 2,500 blobs", () => {
    // Prepare: realistic neighbouring blob names (same NSGs, consecutive hours, a few MACs).
    const blobs: string[] = [];
    for (let nsg = 0; nsg < 5; nsg++) {
      for (let hour = 0; hour < 100; hour++) {
        for (let mac = 0; mac < 5; mac++) {
          blobs.push(
            buildBlobPath({
              kind: "nsg",
              subscriptionId: "00000000-0000-0000-0000-000000000000",
              resourceGroup: "RG",
              nsgName: `NSG-${nsg}`,
              year: 2025,
              month: 1 + Math.floor(hour / 24 / 28),
              day: 1 + (Math.floor(hour / 24) % 28),
              hourOfDay: hour % 24,
              mac: `00000000000${mac}`,
            }),
          );
        }
      }
    }
    // Act: 2,500 blobs x 20 records x 20 tuples.
    const ids = new Set<string>();
    for (const blob of blobs) {
      const hash = hashBlobPath(blob);
      for (let record = 0; record < 20; record++)
        for (let tuple = 0; tuple < 20; tuple++) ids.add(eventId(hash, record, tuple));
    }
    // Assess
    expect(ids.size).toBe(1_000_000);
  });
});
