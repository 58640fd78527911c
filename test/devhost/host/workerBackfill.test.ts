/**
 * The backfill through the local host's worker processes: with 2 workers it delivers exactly the events it
 * delivers with 1 (same ids, same bytes, each once), read back through a real Event Hubs consumer.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LocalSystem } from "../../../devhost/system";
import { readBack, reportDelivery, startTestSystem } from "../../scenarios/ingestion/helpers";
import { runBackfill, topology, writeHours } from "../../scenarios/backfill/helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const DAY = { from: "2026-11-20T00:00:00Z", to: "2026-11-21T00:00:00Z" };

/** A day of four NICs' flow logs backfilled on a fresh system with `workers` worker processes: the delivered bodies. */
async function backfillWith(workers: number): Promise<string[]> {
  system = await startTestSystem({ workerProcessCount: workers, settings: { FLOWTAP_BACKFILL_PAGE_BLOBS: "10" } });
  const blobs = await writeHours(system, DAY.from, DAY.to, {
    nics: topology.nics.slice(0, 4),
    hoursOfDay: [6, 7, 8, 9, 10, 11],
    minutes: 3,
  });
  expect(system.host.workerPids).toHaveLength(workers);

  const { status, summary } = await runBackfill(system, { ...DAY, maxParallelBlobs: 4, backfillId: "day" });

  const figures = await readBack(system, blobs);
  reportDelivery("backfill", `a day, ${blobs.length} blobs, ${workers} worker processes`, figures);
  expect(status.runtimeStatus).toBe("Completed");
  expect(summary).toMatchObject({ blobsTotal: blobs.length, blobsDone: blobs.length, blobsFailed: 0 });
  await system.stop();
  system = undefined;
  return figures.messages.map((message) => message.bodyText).sort();
}

describe("backfill on worker processes", () => {
  it("delivers with 2 worker processes exactly the events it delivers with 1", async () => {
    const withOne = await backfillWith(1);
    const withTwo = await backfillWith(2);

    expect(withOne.length).toBeGreaterThan(0);
    expect(withTwo).toEqual(withOne);
  }, 180_000);
});
