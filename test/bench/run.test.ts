import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { machineInfo, measured, writeResults } from "../../bench/report";
import { BenchUsageError, parseBenchArgs, withFiguresNotRerun } from "../../bench/run";

const ROOT = resolve(__dirname, "../..");

describe("bench run options and results", () => {
  it("parses --quick and --only, and names a bad section", () => {
    const options = parseBenchArgs(["--quick", "--only", "core,memory", "--no-results"], ROOT);
    expect(options).toMatchObject({
      quick: true,
      sections: ["core", "memory"],
      memoryBlobSizeInBytes: 64 * 2 ** 20,
      resultsPath: undefined,
    });
    expect(options.repetitions).toBeGreaterThanOrEqual(5);
    expect(options.eventsPerMessage).toContain(options.defaultEventsPerMessage);
    expect(() => parseBenchArgs(["--only", "cpu"], ROOT)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(["--blob-size-mb", "0"], ROOT)).toThrow(/--blob-size-mb/);
  });
  it("takes the backfill-large size from --backfill-blobs (default 100,000, quick 2,000), naming a bad one", () => {
    // Act
    const sized = parseBenchArgs(["--only", "backfill-large", "--backfill-blobs", "10000"], ROOT);

    // Assess
    expect(sized).toMatchObject({ sections: ["backfill-large"], backfillLargeBlobs: 10_000 });
    expect(parseBenchArgs([], ROOT).backfillLargeBlobs).toBe(100_000);
    expect(parseBenchArgs(["--quick"], ROOT).backfillLargeBlobs).toBe(2000);
    expect(() => parseBenchArgs(["--backfill-blobs", "0"], ROOT)).toThrow(/--backfill-blobs/);
    expect(() => parseBenchArgs(["--backfill-blobs", "1e3"], ROOT)).toThrow(/--backfill-blobs/);
  });
  it("a partial run replaces only its sections' figures and keeps the others in section order", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flowtap-bench-"));
    try {
      const path = join(dir, "results.json");
      const old = (id: string) =>
        measured({ id, label: id, value: 1, unit: "x", measuredAt: "2026-11-22T10:00:00.000Z" });
      await writeResults(path, {
        date: "",
        command: "",
        machine: machineInfo(),
        node: "",
        options: {},
        durationInSeconds: 0,
        figures: [old("core.generated"), old("memory.peakRss"), old("latency.p99")],
      });

      const merged = await withFiguresNotRerun(
        path,
        ["memory"],
        [measured({ id: "memory.peakRss", label: "new", value: 2, unit: "MB" })],
      );

      expect(merged.map((figure) => [figure.id, figure.value])).toEqual([
        ["core.generated", 1],
        ["memory.peakRss", 2],
        ["latency.p99", 1],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
