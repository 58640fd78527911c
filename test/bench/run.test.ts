import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { pipelineConfigurations } from "../../bench/ingestion";
import { machineInfo, measured, writeResults } from "../../bench/report";
import { BenchUsageError, parseBenchArgs, templateMessageSettings, withFiguresNotRerun } from "../../bench/run";

const ROOT = resolve(__dirname, "../..");

/** A repository root whose template (infra/main.json) has these app settings. */
async function rootWithAppSettings(appSettings: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "flowtap-bench-root-"));
  await mkdir(join(root, "infra"));
  await writeFile(join(root, "infra", "main.json"), JSON.stringify({ variables: { appSettings } }));
  return root;
}

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
    expect(options.defaultConfiguration).toEqual(templateMessageSettings(ROOT));
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
  it("runs the template's compact default configuration once more, beside the plain JSON formats", async () => {
    const root = await rootWithAppSettings({ FLOWTAP_EVENTS_PER_MESSAGE: "100", FLOWTAP_MESSAGE_FORMAT: "Compact" });
    try {
      const options = parseBenchArgs(["--no-results"], root);

      expect(options.defaultConfiguration).toEqual({ messageFormat: "compact", eventsPerMessage: 100 });
      expect(options.eventsPerMessage).toEqual([1, 100]);
      expect(pipelineConfigurations(options)).toEqual([
        { messageFormat: "json", eventsPerMessage: 1 },
        { messageFormat: "json", eventsPerMessage: 100 },
        { messageFormat: "compact", eventsPerMessage: 100 },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  it("measures a plain JSON default configuration among the plain formats, once", async () => {
    const root = await rootWithAppSettings({ FLOWTAP_EVENTS_PER_MESSAGE: "50", FLOWTAP_MESSAGE_FORMAT: "json" });
    try {
      const options = parseBenchArgs(["--no-results"], root);

      expect(options.eventsPerMessage).toEqual([1, 100, 50]);
      expect(pipelineConfigurations(options)).toEqual(
        [1, 100, 50].map((eventsPerMessage) => ({ messageFormat: "json", eventsPerMessage })),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  it("falls back to the app's defaults (json, 1 event/message) when the template sets no plain values", async () => {
    const root = await rootWithAppSettings({
      FLOWTAP_EVENTS_PER_MESSAGE: "[parameters('eventsPerMessage')]",
      FLOWTAP_MESSAGE_FORMAT: "[parameters('messageFormat')]",
    });
    try {
      const options = parseBenchArgs(["--no-results"], root);

      expect(options.defaultConfiguration).toEqual({ messageFormat: "json", eventsPerMessage: 1 });
      expect(pipelineConfigurations(options)).toEqual([
        { messageFormat: "json", eventsPerMessage: 1 },
        { messageFormat: "json", eventsPerMessage: 100 },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
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
