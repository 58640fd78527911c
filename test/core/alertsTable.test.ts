/**
 * The alerts hub's events as FlowtapAlerts_CL rows: every column of the table in every row, the alert id an event
 * belongs to (what the workbook joins on), typed fields where the event has them, empty where it has not, and the
 * whole event in Payload.
 */
import { describe, expect, it } from "vitest";
import { ALERTS_COLUMNS, toAlertsRow } from "../../src/core/alertsTable";
import { MAX_FIELD_BYTES, oversizedFieldOf } from "../../src/core/asim";
import { ValidationError } from "../../src/errors";

const ANOMALY = {
  schemaVersion: "1",
  id: "fta-2b443191ee99e41c",
  type: "flowtap.anomaly",
  time: "2026-11-22T11:00:00.000Z",
  ruleId: "port-scan",
  kind: "portScan",
  severity: 2,
  target: { key: "6045BD3A2638", mac: "6045BD3A2638", ip: "10.0.0.4", ips: ["10.0.0.4"], resourceId: "/NSG" },
  window: { start: "2026-11-22T10:05:00.000Z", end: "2026-11-22T10:10:00.000Z", minutes: 5 },
  evidence: { metric: "distinctPorts", value: 25, threshold: 25, remotes: [], ports: [22], protocols: ["TCP"] },
  historic: false,
  capture: { requested: true, durationInSeconds: 120 },
};

const MONITOR_ALERT = {
  schemaVersion: "1",
  id: "ftm-0011223344556677",
  type: "flowtap.monitorAlert",
  time: "2026-11-22T11:01:00.000Z",
  alertId: "/subscriptions/sub/providers/Microsoft.AlertsManagement/alerts/0001",
  alertRule: "high-cpu",
  severity: "Sev2",
  signalType: "Metric",
  monitoringService: "Platform",
  monitorCondition: "Fired",
  firedDateTime: "2026-11-22T10:59:00.000Z",
  targets: [],
};

const FRESHNESS = {
  type: "flowtap.freshness",
  schemaVersion: "1",
  id: "freshness-abc-2026-11-22T11:05:00.000Z",
  time: "2026-11-22T11:05:00.000Z",
  flowLog: "INSIGHTS-LOGS-FLOWLOGFLOWEVENT/FLOWLOGRESOURCEID=/S_RG/NW_FL",
  lastTupleTime: null,
  lastCommitTime: null,
  lagSeconds: null,
};

describe("toAlertsRow", () => {
  it("fills every column of the table, in its order, with the anomaly's fields and the whole event", () => {
    const row = toAlertsRow({ id: ANOMALY.id, body: ANOMALY });

    expect(Object.keys(row)).toEqual(ALERTS_COLUMNS.map((column) => column.name));
    expect(row).toMatchObject({
      TimeGenerated: ANOMALY.time,
      EventId: ANOMALY.id,
      EventType: "flowtap.anomaly",
      AlertId: ANOMALY.id,
      AlertSource: "anomaly",
      AlertRule: "port-scan",
      AlertKind: "portScan",
      Severity: "2",
      TargetMac: "6045BD3A2638",
      TargetIp: "10.0.0.4",
      WindowStart: ANOMALY.window.start,
      WindowEnd: ANOMALY.window.end,
      Metric: "distinctPorts",
      MetricValue: 25,
      Threshold: 25,
      Historic: false,
      CaptureRequested: true,
      CaptureStatus: null,
      FlowLog: null,
      Payload: ANOMALY,
    });
  });

  it("an Azure Monitor alert: its alert id, rule, signal, severity and condition", () => {
    const row = toAlertsRow({ id: MONITOR_ALERT.id, body: MONITOR_ALERT });

    expect(row).toMatchObject({
      AlertId: MONITOR_ALERT.alertId,
      AlertSource: "azureMonitor",
      AlertRule: "high-cpu",
      AlertKind: "Metric",
      Severity: "Sev2",
      MonitorCondition: "Fired",
      TargetMac: null,
      Historic: null,
    });
  });

  it("a freshness report belongs to no alert and names its flow log", () => {
    const row = toAlertsRow({ id: FRESHNESS.id, body: FRESHNESS });

    expect(row).toMatchObject({ EventType: "flowtap.freshness", AlertId: null, AlertSource: null });
    expect(row.FlowLog).toBe(FRESHNESS.flowLog);
  });

  it("refuses an event without a time, naming it (TimeGenerated is required)", () => {
    const { time: _time, ...timeless } = ANOMALY;

    expect(() => toAlertsRow({ id: "fta-1", body: timeless })).toThrow(ValidationError);
    expect(() => toAlertsRow({ id: "fta-1", body: { ...ANOMALY, time: "soon" } })).toThrow(
      /Event fta-1: body.time must be an ISO-8601 time/,
    );
  });

  it("an event over 64 KB keeps its typed columns; Payload says how large it was (the hub has it whole)", () => {
    const huge = { ...MONITOR_ALERT, targets: [{ target: "x".repeat(MAX_FIELD_BYTES) }] };

    const row = toAlertsRow({ id: huge.id, body: huge });

    expect(row).toMatchObject({ AlertId: MONITOR_ALERT.alertId, MonitorCondition: "Fired" });
    expect(row.Payload).toEqual({
      omitted: expect.stringMatching(/^the event is \d+ bytes, over 65536$/),
      bytes: expect.any(Number),
    });
    expect(oversizedFieldOf(row, ALERTS_COLUMNS)).toBeNull();
    expect(oversizedFieldOf(toAlertsRow({ id: ANOMALY.id, body: ANOMALY }), ALERTS_COLUMNS)).toBeNull();
  });
});
