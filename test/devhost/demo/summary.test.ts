import { describe, expect, it } from "vitest";
import { summaryLine } from "../../../devhost/demo/summary";

describe("summaryLine", () => {
  it("is the one machine-readable line, keys in a fixed order", () => {
    expect(
      summaryLine({
        blobs: 12,
        tuples: 9,
        events: 9,
        distinctIds: 9,
        duplicates: 0,
        lost: 0,
        anomalies: 4,
        captures: 2,
        elapsedMs: 1500,
      }),
    ).toBe(
      "summary: blobs=12 tuples=9 events=9 distinctIds=9 duplicates=0 lost=0 anomalies=4 captures=2 elapsedMs=1500",
    );
  });
});
