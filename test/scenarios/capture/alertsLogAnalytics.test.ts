/**
 * Alerts and their captures in Log Analytics: with FLOWTAP_SINKS=both, every event the alerts hub gets (anomaly
 * alerts, capture reports) is also a FlowtapAlerts_CL row on the local Logs Ingestion endpoint, sent by the real
 * `@azure/monitor-ingestion` client, once; a capture report's row names its alert's id. A publish that one sink
 * refused fails and is retried whole, so the rows still arrive once and the alerts hub's re-sent events keep their ids.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ALERTS_COLUMNS } from "../../../src/core/alertsTable";
import { EntityNames } from "../../../src/contracts/names";
import {
  DetectorOperations,
  detectorEntityKey,
  type DetectorIngestInput,
} from "../../../src/contracts/captureContracts";
import { startLogsIngestionEndpoint, type LogsIngestionEndpoint } from "../../../devhost/logsingestion";
import { seedOf, startCaptureSystem, type CaptureSystem } from "./captureSystem";
import { rules, scanAggregates, scanned, topology } from "./portScan";

let logs: LogsIngestionEndpoint;
let system: CaptureSystem | undefined;
// An endpoint per test: both tests publish the same deterministic ids.
beforeEach(async () => {
  logs = await startLogsIngestionEndpoint();
});
afterEach(async () => {
  await system?.stop();
  system = undefined;
  await logs.stop();
});

async function startWithLogAnalytics(): Promise<CaptureSystem> {
  const settings = { ...(await logs.appSettings("both")), FLOWTAP_LOGS_INGESTION_RETRY_DELAY_MS: "5" };
  return startCaptureSystem({ seed: seedOf(topology.nics), rules: { rules } as never, settings });
}

/** A port scan on `scanned` signalled to its detector: alerts, and the capture the port-scan rule asks for. */
async function detectScan(current: CaptureSystem): Promise<void> {
  const aggregates = scanAggregates();
  const input: DetectorIngestInput = { aggregates, historic: false, nowIso: "2026-11-22T11:00:00.000Z" };
  await current.host.signalEntity(
    EntityNames.detector,
    detectorEntityKey(aggregates[0]!.target),
    DetectorOperations.ingest,
    input,
  );
  await current.host.waitForIdle();
}

/** The alerts stream's rows of these event ids, in arrival order. */
function rowsOf(ids: readonly unknown[]): Record<string, unknown>[] {
  const wanted = new Set(ids);
  return logs.rows(logs.alertsStreamName).filter((row) => wanted.has(row.EventId));
}

describe("alerts and capture reports in Log Analytics (FLOWTAP_SINKS=both)", () => {
  it("each alerts-hub event arrives once as a typed row; a capture report joins its alert by AlertId", async () => {
    // Prepare
    system = await startWithLogAnalytics();
    // Act
    await detectScan(system);
    // Assess
    const hubEvents = system.alertsHubEvents();
    const ids = hubEvents.map((event) => event.id);
    expect(system.captureReports()).toHaveLength(1);
    const rows = rowsOf(ids);
    expect(rows.map((row) => row.EventId).sort()).toEqual([...ids].sort());
    for (const row of rows) expect(Object.keys(row)).toEqual(ALERTS_COLUMNS.map((column) => column.name));
    const scan = system.eventsOfType("flowtap.anomaly").find((alert) => alert.ruleId === "port-scan")!;
    const report = system.captureReports()[0]!;
    const alertRow = rows.find((row) => row.EventId === scan.id)!;
    const reportRow = rows.find((row) => row.EventId === report.id)!;
    expect(alertRow).toMatchObject({
      EventType: "flowtap.anomaly",
      AlertId: scan.id,
      AlertSource: "anomaly",
      AlertRule: "port-scan",
      TargetMac: scanned.macAddress,
      CaptureRequested: true,
      Payload: scan,
    });
    expect(typeof alertRow.MetricValue).toBe("number");
    expect(reportRow).toMatchObject({
      EventType: "flowtap.captureCompleted",
      AlertId: scan.id,
      AlertSource: "anomaly",
      CaptureStatus: "Stopped",
      CaptureFileUrl: (report.capture as { fileUrl: string }).fileUrl,
      Payload: report,
    });
  });

  it("a publish Log Analytics refused is retried whole: rows once, re-sent hub events keep their ids", async () => {
    // Prepare: the first alerts upload gets 413, which neither the SDK nor the sink retries.
    system = await startWithLogAnalytics();
    const callsBefore = logs.calls.length;
    logs.injectFault({ statusCode: 413, stream: logs.alertsStreamName! });
    // Act
    await detectScan(system);
    // Assess
    const refused = logs.calls.slice(callsBefore).filter((call) => call.statusCode === 413);
    expect(refused).toHaveLength(1);
    const hubIds = system.alertsHubEvents().map((event) => event.id);
    const distinctIds = [...new Set(hubIds)];
    // The alerts went to the hub in the refused publish and again in its retry.
    expect(hubIds.length).toBeGreaterThan(distinctIds.length);
    expect(system.captureReports()).toHaveLength(1);
    expect(
      rowsOf(distinctIds)
        .map((row) => row.EventId)
        .sort(),
    ).toEqual(distinctIds.sort());
  });
});
