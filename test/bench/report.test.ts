import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatTable, machineInfo, measured, pending, ratioOf, writeResults } from "../../bench/report";

describe("bench report", () => {
  it("gives a verdict from the ratio or the value, and prints one line per figure", () => {
    // Prepare
    const ratioPass = measured({
      id: "a",
      label: "ratio pass",
      value: 10,
      unit: "tuples/s",
      ratio: { value: 1.2, against: "floor" },
      target: { comparator: ">=", threshold: 1, of: "ratio" },
    });
    const valueMiss = measured({
      id: "b",
      label: "value miss",
      value: 400,
      unit: "MB",
      target: { comparator: "<", threshold: 300, of: "value" },
    });
    const waiting = pending("c", "later", "tuples/s", "activity not there yet");

    // Act
    const table = formatTable([ratioPass, valueMiss, waiting]);

    // Assess
    expect([ratioPass.status, valueMiss.status, waiting.status]).toEqual(["pass", "miss", "pending"]);
    expect(table).toContain("1.2x vs floor");
    expect(table).toMatch(/value miss\s+\| 400 MB\s+\|\s+\| MB < 300\s+\| MISS/);
    expect(table).toContain("- later: activity not there yet");
  });

  it("shows a repeated ratio as its median with min and max, and judges the median", () => {
    const figure = measured({
      id: "p",
      label: "pipeline",
      value: 1,
      unit: "tuples/s",
      ratio: ratioOf({ median: 0.92, min: 0.61, max: 1.3, count: 5 }, "ceiling"),
      target: { comparator: ">=", threshold: 0.9, of: "ratio" },
    });

    expect(figure.status).toBe("pass");
    expect(figure.ratio).toMatchObject({ min: 0.61, max: 1.3, repetitions: 5 });
    expect(formatTable([figure])).toContain("0.92x [0.61-1.3] vs ceiling");
  });

  it("writes the figures with the machine and Node version", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flowtap-bench-"));
    try {
      const path = join(dir, "results.json");
      const figure = measured({ id: "x", label: "x", value: 1, unit: "tuples/s" });
      await writeResults(path, {
        date: "2026-11-22T00:00:00.000Z",
        command: "npm run bench",
        machine: machineInfo(),
        node: process.version,
        options: {},
        durationInSeconds: 1,
        figures: [figure],
      });
      const written = JSON.parse(await readFile(path, "utf8")) as { machine: { cpus: number }; figures: unknown[] };
      expect(written.machine.cpus).toBeGreaterThan(0);
      expect(written.figures).toEqual([figure]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
