import { EventHubProducerClient } from "@azure/event-hubs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCoreBench } from "../../bench/core";
import { EVENT_HUBS_BENCH_HUBS, runEventHubsBench } from "../../bench/eventHubs";
import { formatTable, machineInfo, measured, pending, writeResults } from "../../bench/report";
import { BenchUsageError, parseBenchArgs, withFiguresNotRerun } from "../../bench/run";
import { startEventHubsEndpoint, type LocalEventHubsEndpoint } from "../../devhost/eventhubs";
import { FIXTURES_DIR, skipWithoutFixtures } from "../core/flowLogFixtures";

const ROOT = resolve(__dirname, "../..");

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

  it("parses --quick and --only, and names a bad section", () => {
    const options = parseBenchArgs(["--quick", "--only", "core,memory", "--no-results"], ROOT);
    expect(options).toMatchObject({
      quick: true,
      sections: ["core", "memory"],
      memoryBlobSizeInBytes: 64 * 2 ** 20,
      resultsPath: undefined,
    });
    expect(() => parseBenchArgs(["--only", "cpu"], ROOT)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(["--blob-size-mb", "0"], ROOT)).toThrow(/--blob-size-mb/);
  });
});

describe("bench figures on tiny inputs", () => {
  it("core: measures our path and the floor on generated data and fixtures", async (context) => {
    skipWithoutFixtures(context);
    // Act
    const figures = await runCoreBench({
      generatedSizeInBytes: 64 * 1024,
      generatedBlobSizeInBytes: 32 * 1024,
      repetitions: 1,
      fixturesDir: FIXTURES_DIR,
      fixtureBytesPerRepetition: 1,
    });

    // Assess
    expect(figures.map((figure) => figure.id)).toEqual([
      "core.generated",
      "core.generated.encode",
      "core.fixtures",
      "core.fixtures.encode",
    ]);
    for (const figure of figures) {
      expect(figure.value).toBeGreaterThan(0);
      expect(figure.ratio?.value).toBeGreaterThan(0);
      expect(["pass", "miss"]).toContain(figure.status);
    }
    expect(figures[0]!.details?.corpusTuples).toBeGreaterThan(500);
  });

  describe("Event Hubs", () => {
    let endpoint: LocalEventHubsEndpoint;
    beforeAll(async () => {
      endpoint = await startEventHubsEndpoint({
        hubs: [...Object.values(EVENT_HUBS_BENCH_HUBS), "dropped"].map((name) => ({ name, partitionCount: 2 })),
        retainEvents: false,
      });
    });
    afterAll(async () => {
      await endpoint.stop();
    });

    it("an endpoint that does not retain events still acknowledges every send", async () => {
      const producer = new EventHubProducerClient(endpoint.connectionString("dropped"));
      try {
        await producer.sendBatch([{ body: { n: 1 } }, { body: { n: 2 } }], { partitionKey: "k" });
      } finally {
        await producer.close();
      }
      expect(endpoint.sendOutcomes().accepted).toBeGreaterThanOrEqual(1);
      expect(endpoint.eventCount("dropped")).toBe(0);
    });

    it("measures the ceiling, the sink and one send per tuple", async () => {
      const connectionStrings = Object.fromEntries(
        Object.values(EVENT_HUBS_BENCH_HUBS).map((hub) => [hub, endpoint.connectionString(hub)]),
      );

      const { figures, rates } = await runEventHubsBench({
        connectionStrings,
        eventCount: 300,
        perTupleSampleSize: 5,
        ceilingConcurrency: 2,
        eventsPerMessage: [1, 10],
      });

      expect(figures.map((figure) => figure.id)).toEqual([
        "eventhubs.ceiling.1",
        "eventhubs.sink.1",
        "eventhubs.ceiling.10",
        "eventhubs.sink.10",
        "eventhubs.perTuple",
      ]);
      expect(rates.ceilingTuplesPerSecond.get(10)).toBeGreaterThan(0);
      expect(rates.perTupleTuplesPerSecond).toBeGreaterThan(0);
    });
  });
});

describe("bench results file", () => {
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
