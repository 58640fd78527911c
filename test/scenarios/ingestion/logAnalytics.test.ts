/**
 * Live ingestion to Log Analytics (FLOWTAP_SINKS loganalytics / both), end to end on the local system
 * with the local Logs Ingestion endpoint: every tuple is read back from what the endpoint accepted
 * (through the real @azure/monitor-ingestion client) and compared with the blob's flattened content
 * as ASIM rows. A range counts (checkpoint) only when every configured sink accepted it; duplicates
 * appear only where a range was sent again, identical and with the same EventOriginalUid.
 */
import { afterEach, describe, expect, it } from "vitest";
import { eventsOf, flattenFlowLog } from "../../../src/core/flatten";
import { toNetworkSessionRow } from "../../../src/core/asim";
import { FLOWS_HUB, readHubEvents, type LocalSystem } from "../../../devhost/system";
import { ActivityNames, EntityNames } from "../../../src/contracts/names";
import { CheckpointState, checkpointEntityKey } from "../../../src/contracts/ingestionContracts";
import {
  deliverLatest,
  GrowingBlob,
  nsgNic,
  ONE_BLOCK_PER_RANGE,
  readBack,
  reportDelivery,
  startTestSystem,
  vnetNic,
} from "./helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

/** The blob's tuples as the rows Log Analytics must hold, by EventOriginalUid. */
async function expectedRows(system: LocalSystem, blob: GrowingBlob): Promise<Map<string, unknown>> {
  const bytes = await system.blobService.getContainerClient(blob.container).getBlobClient(blob.path).downloadToBuffer();
  const events = eventsOf(flattenFlowLog(bytes, { blobPath: `${blob.container}/${blob.path}` }));
  return new Map(events.map((event) => [event.id, JSON.parse(JSON.stringify(toNetworkSessionRow(event)))]));
}

/** Reads back what the local endpoint accepted: every expected row, equal to the mapping; duplicates identical. */
async function readBackLogAnalytics(
  system: LocalSystem,
  blob: GrowingBlob,
  options: { allowDuplicates?: boolean } = {},
) {
  const expected = await expectedRows(system, blob);
  const seen = new Map<string, unknown>();
  let duplicates = 0;
  for (const row of system.logsIngestion!.rows()) {
    const id = String(row.EventOriginalUid);
    if (seen.has(id)) {
      duplicates++;
      expect(row, `duplicate ${id} is identical`).toEqual(seen.get(id));
    }
    seen.set(id, row);
    expect(row, `row ${id}`).toEqual(expected.get(id));
  }
  const lost = [...expected.keys()].filter((id) => !seen.has(id)).length;
  const figures = { tuplesIn: expected.size, distinctOut: seen.size, duplicates, lost };
  expect(lost, "rows lost").toBe(0);
  expect(seen.size, "no row that is not in the blob").toBe(expected.size);
  if (!options.allowDuplicates) expect(duplicates, "duplicates").toBe(0);
  return figures;
}

const checkpointOf = (system: LocalSystem, blob: GrowingBlob) =>
  system.host.getEntityState<CheckpointState>(EntityNames.checkpoint, checkpointEntityKey(blob));

describe("live ingestion to Log Analytics", () => {
  it("with both sinks, delivers every tuple once to the flows hub and once to Log Analytics", async () => {
    // Prepare
    system = await startTestSystem({ logAnalytics: "both", settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, vnetNic);
    // Act
    await deliverLatest(system, await blob.appendMinutes(3));
    await system.host.waitForIdle();
    // Assess
    const hub = await readBack(system, [blob]);
    const logs = await readBackLogAnalytics(system, blob);
    reportDelivery("ingestion", "both sinks, Event Hubs side", hub);
    reportDelivery("ingestion", "both sinks, Log Analytics side", logs);
    expect(checkpointOf(system, blob)).toMatchObject({ rangesCommitted: 3, eventsEmitted: logs.tuplesIn });
  });

  it("with Log Analytics only, sends nothing to the flows hub", async () => {
    // Prepare
    system = await startTestSystem({ logAnalytics: "loganalytics" });
    const blob = new GrowingBlob(system, nsgNic);
    // Act
    await deliverLatest(system, await blob.appendMinutes(2));
    await system.host.waitForIdle();
    // Assess
    const logs = await readBackLogAnalytics(system, blob);
    reportDelivery("ingestion", "Log Analytics only", logs);
    const hub = await readHubEvents(system.eventHubsConnectionString, FLOWS_HUB, { quietPeriodInMs: 300 });
    expect(hub).toEqual([]);
  });

  it("with both, does not commit a range Log Analytics refused the hub took; sends it again later", async () => {
    // Prepare: range 1 passes; range 2's uploads are refused (413, not retryable) until the fault is cleared.
    system = await startTestSystem({ logAnalytics: "both", settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, nsgNic);
    const commits = await blob.appendMinutes(3);
    system.logsIngestion!.injectFault({ statusCode: 413, afterCalls: 1, count: Number.POSITIVE_INFINITY });
    // Act
    await deliverLatest(system, commits);
    await system.host.waitForIdle();
    // Assess: only range 1 counts, although the hub acknowledged range 2 too.
    const afterFault = checkpointOf(system, blob);
    const rangeOneEvents = afterFault?.eventsEmitted ?? 0;
    expect(afterFault?.rangesCommitted).toBe(1);
    expect(system.logsIngestion!.rows()).toHaveLength(rangeOneEvents);
    expect(system.eventHubs.events(FLOWS_HUB).length).toBeGreaterThan(rangeOneEvents);

    // Act: Log Analytics takes the range again; the next minute's event resumes from the checkpoint.
    system.logsIngestion!.clearFaults();
    await deliverLatest(system, await blob.appendMinutes(1));
    await system.host.waitForIdle();
    // Assess: Log Analytics has every tuple once; the hub has range 2 twice, identical.
    const logs = await readBackLogAnalytics(system, blob);
    const hub = await readBack(system, [blob], { allowDuplicates: true });
    reportDelivery("ingestion", "Log Analytics refused range 2 (413) until cleared: Log Analytics side", logs);
    reportDelivery("ingestion", "Log Analytics refused range 2 (413) until cleared: Event Hubs side", hub);
    expect(hub.duplicates).toBeGreaterThan(0);
    expect(checkpointOf(system, blob)).toMatchObject({ rangesCommitted: 4, eventsEmitted: logs.tuplesIn });
  });

  it("with both, does not commit a range the hub refused though Log Analytics took it", async () => {
    // Prepare: the hub takes range 1, then refuses every try of range 2 (3 activity attempts) as disabled.
    system = await startTestSystem({ logAnalytics: "both", settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, vnetNic);
    const commits = await blob.appendMinutes(3);
    system.eventHubs.injectFaults({ kind: "entity-disabled", count: 3, hub: FLOWS_HUB, afterSends: 1 });
    // Act
    await deliverLatest(system, commits);
    await system.host.waitForIdle();
    const committedAfterFault = checkpointOf(system, blob)?.rangesCommitted;
    await deliverLatest(system, await blob.appendMinutes(1));
    await system.host.waitForIdle();
    // Assess: the refused range was not committed, so it went to Log Analytics twice (identical rows).
    expect(committedAfterFault).toBe(1);
    const hub = await readBack(system, [blob]);
    const logs = await readBackLogAnalytics(system, blob, { allowDuplicates: true });
    reportDelivery("ingestion", "hub refused range 2 for good, then back: Event Hubs side", hub);
    reportDelivery("ingestion", "hub refused range 2 for good, then back: Log Analytics side", logs);
    expect(logs.duplicates).toBeGreaterThan(0);
  });

  it("retries a range whose uploads fail past every retry (503), losing nothing", async () => {
    // Prepare: the SDK's 4 tries for each of the sink's 3 attempts fail on range 2's first processRange.
    system = await startTestSystem({ logAnalytics: "both", settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, vnetNic);
    system.logsIngestion!.injectFault({ statusCode: 503, retryAfterInSeconds: 0, count: 12, afterCalls: 1 });
    // Act
    await deliverLatest(system, await blob.appendMinutes(3));
    await system.host.waitForIdle();
    // Assess
    const logs = await readBackLogAnalytics(system, blob);
    const hub = await readBack(system, [blob], { allowDuplicates: true });
    reportDelivery("ingestion", "Log Analytics 503 past every retry on range 2: Log Analytics side", logs);
    reportDelivery("ingestion", "Log Analytics 503 past every retry on range 2: Event Hubs side", hub);
    expect(system.host.faults.activityInvocations(ActivityNames.processRange)).toBe(4);
    expect(system.logsIngestion!.calls.filter((call) => call.statusCode === 503)).toHaveLength(12);
  });

  it("after a crash between sends and checkpoint, re-sends identical rows (same EventOriginalUid)", async () => {
    // Prepare
    system = await startTestSystem({ logAnalytics: "both", settings: ONE_BLOCK_PER_RANGE });
    const blob = new GrowingBlob(system, vnetNic);
    const crashed = system.host.faults.crashAfterActivity(ActivityNames.processRange, { invocation: 2 });
    // Act
    await deliverLatest(system, await blob.appendMinutes(3));
    await crashed;
    const host = await system.restartHost();
    await host.waitForIdle();
    // Assess
    const logs = await readBackLogAnalytics(system, blob, { allowDuplicates: true });
    reportDelivery("ingestion", "crash after processRange 2, both sinks: Log Analytics side", logs);
    expect(logs.duplicates).toBeGreaterThan(0);
  });
});
