import { describe, expect, it } from "vitest";
import { runCoreBench } from "../../bench/core";
import { FIXTURES_DIR, skipWithoutFixtures } from "../core/flowLogFixtures";

describe("core bench on tiny inputs", () => {
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
});
