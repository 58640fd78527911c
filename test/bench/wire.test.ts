import { describe, expect, it } from "vitest";
import { runWireBench, WIRE_FORMATS } from "../../bench/wire";
import { FIXTURES_DIR, skipWithoutFixtures } from "../core/flowLogFixtures";

describe("wire bench on tiny inputs", () => {
  it("measures every format's bytes per tuple against the source's, on generated data and the samples", async (ctx) => {
    skipWithoutFixtures(ctx);
    // Act
    const figures = await runWireBench({
      generatedSizeInBytes: 64 * 1024,
      generatedBlobSizeInBytes: 32 * 1024,
      fixturesDir: FIXTURES_DIR,
    });

    // Assess
    const ids = ["generated", "fixtures"].flatMap((corpus) => [
      `wire.${corpus}.source`,
      ...WIRE_FORMATS.map((format) => `wire.${corpus}.${format.id}`),
    ]);
    expect(figures.map((figure) => figure.id)).toEqual(ids);
    const valueOf = (id: string) => figures.find((figure) => figure.id === id)!.value!;
    for (const corpus of ["generated", "fixtures"]) {
      const source = figures.find((figure) => figure.id === `wire.${corpus}.source`)!;
      expect(source.details?.tuples).toBeGreaterThan(300);
      expect(valueOf(`wire.${corpus}.compact.100`)).toBeLessThan(valueOf(`wire.${corpus}.json.100`));
      const target = figures.find((figure) => figure.id === `wire.${corpus}.compact.100`)!;
      expect(target.ratio?.value).toBeCloseTo(target.value! / source.value!, 6);
      expect(target.target).toEqual({ comparator: "<", threshold: 1, of: "ratio" });
    }
  });
});
