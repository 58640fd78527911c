import { describe, expect, it } from "vitest";
import {
  addFailure,
  emptyFailureList,
  MAX_LISTED_FAILURE_BYTES,
  MAX_REASON_LENGTH,
} from "../../src/core/backfillFailures";

describe("backfill failure list", () => {
  it("stays under its byte cap however many blobs fail, and counts the rest", () => {
    // Prepare: 1,000 failures with 2 KB reasons (what used to travel in every continueAsNew input).
    const list = emptyFailureList();
    const reason = "x".repeat(2000);

    // Act
    for (let i = 0; i < 1000; i++) addFailure(list, { container: "c", path: `y=2026/h=${i}/PT1H.json`, reason });

    // Assess
    const bytes = Buffer.byteLength(JSON.stringify(list));
    expect(bytes).toBeLessThanOrEqual(MAX_LISTED_FAILURE_BYTES + 64);
    expect(list.failures.length).toBeGreaterThan(0);
    expect(list.failures.length + list.failuresNotListed).toBe(1000);
    expect(list.failures[0]!.reason).toHaveLength(MAX_REASON_LENGTH);
    expect(list.failures[0]!.reason.endsWith("…")).toBe(true);
  });

  it("lists short failures whole, in order", () => {
    const list = emptyFailureList();

    addFailure(list, { container: "c", path: "a", reason: "first" });
    addFailure(list, { container: "c", path: "b", reason: "second" });

    expect(list).toEqual({
      failures: [
        { container: "c", path: "a", reason: "first" },
        { container: "c", path: "b", reason: "second" },
      ],
      failuresNotListed: 0,
    });
  });
});
