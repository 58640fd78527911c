/**
 * The event settings end to end on the local system: cost filters drop what they name (counted by
 * reason in ingestBlob's progress and the backfill summary, the rest delivered as before), and
 * FLOWTAP_EVENT_SCHEMA_VERSION=1 sends schema 1 events.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FLOWS_HUB, readHubEvents, type LocalSystem } from "../../../devhost/system";
import { ingestInstanceId, type IngestBlobResult } from "../../../src/contracts/ingestionContracts";
import { TriggerNames } from "../../../src/contracts/names";
import { toSchema1 } from "../../../src/core/event";
import { eventsOf, flattenFlowLog } from "../../../src/core/flatten";
import { runBackfill, WEEK, writeHours } from "../backfill/helpers";
import { GrowingBlob, startTestSystem, vnetNic } from "./helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

/** Ingests two minutes of a VNet blob; returns the blob's flattened events and what the hub got. */
async function ingestVnetBlob(running: LocalSystem) {
  const blob = new GrowingBlob(running, vnetNic, 20);
  const commits = await blob.appendMinutes(2);
  await running.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commits.at(-1)!.events.eventGrid);
  await running.host.waitForIdle();
  const client = running.blobService.getContainerClient(blob.container).getBlobClient(blob.path);
  const flattened = eventsOf(
    flattenFlowLog(await client.downloadToBuffer(), { blobPath: `${blob.container}/${blob.path}` }),
  );
  const received = (await readHubEvents(running.eventHubsConnectionString, FLOWS_HUB, { quietPeriodInMs: 300 })).map(
    (message) => JSON.parse(message.bodyText) as { id: string; schemaVersion: number },
  );
  const output = running.host.getInstance(ingestInstanceId(blob))?.output as IngestBlobResult;
  return { flattened, received, output };
}

describe("event settings", () => {
  it("drops what the cost filters name, counts it by reason, and delivers the rest", async () => {
    // Prepare
    const filters = {
      drop: [
        { reason: "denied", decision: "deny" },
        { reason: "https-continuing", flowStates: ["continuing"], dstPorts: [443] },
      ],
    };
    system = await startTestSystem({ settings: { FLOWTAP_EVENT_FILTERS: JSON.stringify(filters) } });
    // Act
    const { flattened, received, output } = await ingestVnetBlob(system);
    // Assess
    const denied = flattened.filter((event) => event.decision === "deny");
    const continuing = flattened.filter(
      (event) => event.decision === "allow" && event.flowState === "continuing" && event.dstPort === 443,
    );
    const kept = flattened.filter((event) => !denied.includes(event) && !continuing.includes(event));
    expect(denied.length).toBeGreaterThan(0);
    expect(received.map((event) => event.id).sort()).toEqual(kept.map((event) => event.id).sort());
    expect(output.progress).toMatchObject({
      events: kept.length,
      tuples: flattened.length,
      dropped: denied.length + continuing.length,
      droppedByReason: {
        denied: denied.length,
        ...(continuing.length > 0 && { "https-continuing": continuing.length }),
      },
    });
  });

  it("counts what the cost filters dropped by reason in a backfill's summary", async () => {
    // Prepare
    const filters = { drop: [{ reason: "denied", decision: "deny" }] };
    system = await startTestSystem({ settings: { FLOWTAP_EVENT_FILTERS: JSON.stringify(filters) } });
    const range = { from: WEEK.from, to: "2026-11-14T01:00:00Z" };
    const blobs = await writeHours(system, range.from, range.to, { minutes: 3 });
    const flattened = [];
    for (const blob of blobs) {
      const bytes = await system.blobService
        .getContainerClient(blob.container)
        .getBlobClient(blob.path)
        .downloadToBuffer();
      flattened.push(...eventsOf(flattenFlowLog(bytes, { blobPath: `${blob.container}/${blob.path}` })));
    }
    // Act
    const { summary } = await runBackfill(system, range);
    // Assess
    const denied = flattened.filter((event) => event.decision === "deny").length;
    expect(denied).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      blobsDone: blobs.length,
      eventsSent: flattened.length - denied,
      eventsDropped: denied,
      droppedByReason: { denied },
    });
  });

  it("sends schema 1 events when FLOWTAP_EVENT_SCHEMA_VERSION=1", async () => {
    // Prepare
    system = await startTestSystem({ settings: { FLOWTAP_EVENT_SCHEMA_VERSION: "1" } });
    // Act
    const { flattened, received } = await ingestVnetBlob(system);
    // Assess
    const byId = new Map(received.map((event) => [event.id, event]));
    expect(byId.size).toBe(flattened.length);
    for (const event of flattened) expect(byId.get(event.id)).toEqual(toSchema1(event));
  });
});
