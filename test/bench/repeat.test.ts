import { describe, expect, it } from "vitest";
import { measureRatio, measureRatios, median, spreadOf } from "../../bench/repeat";

describe("bench repeat: ratios from alternating repetitions", () => {
  it("measures the two sides in turn, ours first, and pairs each repetition's samples", async () => {
    // Prepare
    const order: string[] = [];
    const ours = [10, 12, 9, 30, 11];
    const baseline = [10, 10, 10, 10, 5];

    // Act
    const result = await measureRatio({
      ours: (repetition) => (order.push(`ours${repetition}`), ours[repetition]!),
      baseline: async (repetition) => (order.push(`baseline${repetition}`), baseline[repetition]!),
      repetitions: 5,
    });

    // Assess
    expect(order).toEqual([
      "ours0",
      "baseline0",
      "ours1",
      "baseline1",
      "ours2",
      "baseline2",
      "ours3",
      "baseline3",
      "ours4",
      "baseline4",
    ]);
    expect(result.samples).toEqual({ ours, baseline });
    // Ratios 1, 1.2, 0.9, 3, 2.2: the outlier moves min and max, not the median.
    expect(result.ratio).toEqual({ median: 1.2, min: 0.9, max: 3, count: 5 });
    expect(result.ours).toEqual({ median: 11, min: 9, max: 30, count: 5 });
    expect(result.baseline.median).toBe(10);
  });

  it("several baselines share ours' samples: ours, then each baseline, in turn", async () => {
    const order: string[] = [];
    const result = await measureRatios({
      ours: () => (order.push("ours"), 100),
      baselines: { fast: () => (order.push("fast"), 50), slow: () => (order.push("slow"), 1) },
      repetitions: 2,
    });
    expect(order).toEqual(["ours", "fast", "slow", "ours", "fast", "slow"]);
    expect(result.fast.ratio.median).toBe(2);
    expect(result.slow.ratio).toEqual({ median: 100, min: 100, max: 100, count: 2 });
  });

  it("a failing side fails the measurement, and repetitions must be a positive integer", async () => {
    await expect(
      measureRatio({ ours: () => 1, baseline: () => Promise.reject(new Error("endpoint down")), repetitions: 5 }),
    ).rejects.toThrow("endpoint down");
    await expect(measureRatio({ ours: () => 1, baseline: () => 1, repetitions: 0 })).rejects.toThrow(/repetitions/);
  });

  it("median of an odd and an even count; spread of unsorted values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spreadOf([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, count: 3 });
    expect(() => median([])).toThrow(RangeError);
  });
});
