import { describe, expect, it } from "vitest";
import { HOURS_PER_FLOW_LOG, planManyBlobs } from "../../../devhost/generate";
import { parseBlobPath } from "../../../src/core/blobPath";
import { parseBackfillRequest } from "../../../src/core/backfillProgress";

const START = "2026-01-01T00:00:00Z";

describe("planManyBlobs", () => {
  it("lays out exactly the asked number of distinct blobs, a month per flow log, inside the backfill range", () => {
    // Act
    const layout = planManyBlobs({ blobCount: 100_000, seed: 21, startHourIso: START });

    // Assess
    expect(layout.blobs).toHaveLength(100_000);
    expect(layout.topology.nics).toHaveLength(Math.ceil(100_000 / HOURS_PER_FLOW_LOG));
    expect(new Set(layout.blobs.map((blob) => `${blob.container}/${blob.path}`)).size).toBe(100_000);
    const fromMs = Date.parse(layout.fromIso);
    const toMs = Date.parse(layout.toIso);
    expect(layout.fromIso).toBe("2026-01-01T00:00:00.000Z");
    expect((toMs - fromMs) / 3_600_000).toBeLessThanOrEqual(HOURS_PER_FLOW_LOG);
    for (const blob of layout.blobs) {
      const hourMs = Date.parse(blob.hourIso);
      expect(hourMs >= fromMs && hourMs < toMs).toBe(true);
    }
  });

  it("gives paths the app parses back to the blob's flow log, MAC and hour, of both kinds", () => {
    // Act
    const layout = planManyBlobs({ blobCount: 3000, seed: 5, startHourIso: START });

    // Assess
    const kinds = new Set<string>();
    for (const blob of layout.blobs) {
      const parsed = parseBlobPath(`${blob.container}/${blob.path}`);
      kinds.add(parsed.kind);
      expect(parsed.kind).toBe(blob.nic.kind);
      expect(parsed.mac).toBe(blob.nic.macAddress);
      expect(parsed.hour).toBe(new Date(blob.hourIso).toISOString());
      expect(parsed.subscriptionId.toLowerCase()).toBe(blob.nic.subscriptionId);
    }
    expect([...kinds].sort()).toEqual(["nsg", "vnet"]);
  });

  it("is deterministic for a seed and differs for another", () => {
    // Act
    const first = planManyBlobs({ blobCount: 1500, seed: 7, startHourIso: START });
    const again = planManyBlobs({ blobCount: 1500, seed: 7, startHourIso: START });
    const other = planManyBlobs({ blobCount: 1500, seed: 8, startHourIso: START });

    // Assess
    expect(again.blobs.map((blob) => blob.path)).toEqual(first.blobs.map((blob) => blob.path));
    expect(other.blobs.map((blob) => blob.path)).not.toEqual(first.blobs.map((blob) => blob.path));
  });

  it("gives a range a backfill request accepts", () => {
    // Prepare
    const layout = planManyBlobs({ blobCount: 100_000, seed: 21, startHourIso: START });
    const limits = {
      accountName: "devstoreaccount1",
      containers: ["insights-logs-flowlogflowevent", "insights-logs-networksecuritygroupflowevent"],
      maxHours: 744,
      defaultParallelBlobs: 8,
      maxParallelBlobs: 64,
    };

    // Act
    const request = parseBackfillRequest({ from: layout.fromIso, to: layout.toIso }, limits);

    // Assess
    expect(request.from).toBe(layout.fromIso);
    expect(request.to).toBe(layout.toIso);
  });

  it("refuses a count that is not a positive integer, naming it", () => {
    // Act / Assess
    expect(() => planManyBlobs({ blobCount: 0, seed: 1, startHourIso: START })).toThrow(/blobCount.*got 0/);
    expect(() => planManyBlobs({ blobCount: 2.5, seed: 1, startHourIso: START })).toThrow(/blobCount/);
  });
});
