/**
 * Freshness end to end on the local system and its virtual clock: live ingestion records what
 * each flow log delivered, the reconcile timer reports every flow log it sees on the alerts hub,
 * and a flow log that was writing and then stays silent longer than the setting raises its alert
 * once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ALERTS_HUB, readHubEvents, type LocalSystem } from "../../../devhost/system";
import { TriggerNames } from "../../../src/contracts/names";
import {
  flowLogKeyOf,
  FLOW_LOG_SILENT_EVENT_TYPE,
  FRESHNESS_EVENT_TYPE,
  type FlowLogSilentAlert,
  type FreshnessEvent,
} from "../../../src/core/freshness";
import { eventsOf, flattenFlowLog } from "../../../src/core/flatten";
import { GrowingBlob, nsgNic, startTestSystem, vnetNic } from "./helpers";

let system: LocalSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const MINUTE_IN_MS = 60_000;

async function appendAndDeliver(running: LocalSystem, blob: GrowingBlob): Promise<void> {
  const [commit] = await blob.appendMinutes(1);
  await running.host.invokeEventGrid(TriggerNames.blobCreatedEventGrid, commit!.events.eventGrid);
  await running.host.waitForIdle();
}

async function reconcile(running: LocalSystem): Promise<void> {
  await running.host.invokeTimer(TriggerNames.reconcileTimer);
  await running.host.waitForIdle();
}

type FreshnessOutput = FreshnessEvent | FlowLogSilentAlert;

async function freshnessOutputs(running: LocalSystem): Promise<FreshnessOutput[]> {
  const messages = await readHubEvents(running.eventHubsConnectionString, ALERTS_HUB, { quietPeriodInMs: 300 });
  return messages
    .map((message) => JSON.parse(message.bodyText) as FreshnessOutput)
    .filter((event) => event.type === FRESHNESS_EVENT_TYPE || event.type === FLOW_LOG_SILENT_EVENT_TYPE);
}

describe("freshness", () => {
  it("reports each flow log's freshness and alerts once when one that was writing goes silent", async () => {
    // Prepare: two flow logs write; then only the NSG one goes on, for longer than the silence allowed.
    system = await startTestSystem({
      settings: { FLOWTAP_FLOW_LOG_SILENT_MINUTES: "10" },
    });
    const { host } = system;
    const vnet = new GrowingBlob(system, vnetNic);
    const nsg = new GrowingBlob(system, nsgNic);
    await appendAndDeliver(system, vnet);
    await appendAndDeliver(system, nsg);
    const vnetCommitIso = host.virtualClock.now().toISOString();
    const client = system.blobService.getContainerClient(vnet.container).getBlobClient(vnet.path);
    const vnetEvents = eventsOf(flattenFlowLog(await client.downloadToBuffer()));
    // Act
    await reconcile(system);
    host.virtualClock.advance(11 * MINUTE_IN_MS);
    await appendAndDeliver(system, nsg);
    await reconcile(system);
    host.virtualClock.advance(5 * MINUTE_IN_MS);
    await reconcile(system);
    // Assess
    const outputs = await freshnessOutputs(system);
    const vnetFlowLog = flowLogKeyOf(vnet.container, vnet.path);
    const nsgFlowLog = flowLogKeyOf(nsg.container, nsg.path);
    const reports = outputs.filter((event): event is FreshnessEvent => event.type === FRESHNESS_EVENT_TYPE);
    expect(reports.map((event) => event.flowLog).sort()).toEqual(
      [nsgFlowLog, nsgFlowLog, nsgFlowLog, vnetFlowLog, vnetFlowLog, vnetFlowLog].sort(),
    );
    const lastTuple = vnetEvents
      .map((event) => event.time)
      .sort()
      .at(-1)!;
    const firstVnet = reports.find((event) => event.flowLog === vnetFlowLog)!;
    expect(firstVnet).toMatchObject({
      lastTupleTime: lastTuple,
      lastCommitTime: vnetCommitIso,
      lagSeconds: Math.round((Date.parse(firstVnet.time) - Date.parse(lastTuple)) / 1000),
      interval: { from: null, tuples: vnetEvents.length, events: vnetEvents.length, dropped: 0 },
    });
    expect(firstVnet.interval.bytes).toBeGreaterThan(0);
    const laterVnet = reports.filter((event) => event.flowLog === vnetFlowLog).slice(1);
    expect(laterVnet.map((event) => [event.interval.tuples, event.lastCommitTime])).toEqual([
      [0, vnetCommitIso],
      [0, vnetCommitIso],
    ]);
    const alerts = outputs.filter((event): event is FlowLogSilentAlert => event.type === FLOW_LOG_SILENT_EVENT_TYPE);
    expect(alerts).toEqual([
      expect.objectContaining({
        flowLog: vnetFlowLog,
        lastCommitTime: vnetCommitIso,
        silentAfterSeconds: 600,
        silentForSeconds: 11 * 60,
      }),
    ]);
  });
});
