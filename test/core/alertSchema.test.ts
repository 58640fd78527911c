import { describe, expect, it } from "vitest";
import { parseCommonAlert } from "../../src/core/alertSchema";
import { ValidationError } from "../../src/errors";
import { NIC_ID, SUB, VM_ID, firedAlert } from "./commonAlertBodies";

function reasonOf(body: unknown): string {
  try {
    parseCommonAlert(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message.replace("Azure Monitor alert payload refused: ", "");
  }
  throw new Error("expected a ValidationError");
}

describe("parseCommonAlert", () => {
  it("returns the essentials and the raw parts targets come from", () => {
    // Prepare
    const body = firedAlert({ alertTargetIDs: [VM_ID, NIC_ID] });
    // Act
    const alert = parseCommonAlert(body);
    // Assess
    expect(alert).toEqual({
      alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330`,
      monitorCondition: "Fired",
      alertRule: "WCUS-R2-Gen2",
      severity: "Sev3",
      signalType: "Metric",
      monitoringService: "Platform",
      firedDateTime: "2019-03-22T13:58:24.3713213Z",
      alertTargetIDs: [VM_ID, NIC_ID],
      configurationItems: ["wcus-r2-gen2"],
      alertContext: { properties: null, conditionType: "SingleResourceMultipleMetricCriteria" },
    });
  });

  it("accepts the nulls of budget and test alerts (no rule, severity or targets)", () => {
    // Act
    const alert = parseCommonAlert(firedAlert({ alertRule: null, severity: null, alertTargetIDs: null }));
    // Assess
    expect(alert).toMatchObject({ alertRule: null, severity: null, alertTargetIDs: null });
  });

  it.each([
    ["an array", [], "body must be an object"],
    ["no schemaId", { data: {} }, 'schemaId must be "azureMonitorCommonAlertSchema" (got nothing)'],
    [
      "another schema",
      { ...firedAlert(), schemaId: "Microsoft.Insights/activityLogs" },
      'schemaId must be "azureMonitorCommonAlertSchema" (got "Microsoft.Insights/activityLogs")',
    ],
    ["no data", { schemaId: "azureMonitorCommonAlertSchema" }, "data must be an object"],
    [
      "no essentials",
      { schemaId: "azureMonitorCommonAlertSchema", data: { alertContext: {} } },
      "data.essentials must be an object",
    ],
    ["no alertId", firedAlert({ alertId: undefined }), "data.essentials.alertId must be a non-empty string"],
    [
      "an unknown condition",
      firedAlert({ monitorCondition: "Acknowledged" }),
      'data.essentials.monitorCondition must be "Fired" or "Resolved" (got "Acknowledged")',
    ],
    ["a numeric alertRule", firedAlert({ alertRule: 7 }), "data.essentials.alertRule must be a string or null"],
    [
      "a bad firedDateTime",
      firedAlert({ firedDateTime: "yesterday" }),
      'data.essentials.firedDateTime must be an ISO-8601 time (got "yesterday")',
    ],
    ["targets not an array", firedAlert({ alertTargetIDs: VM_ID }), "data.essentials.alertTargetIDs must be an array"],
  ])("refuses %s, naming the field", (_, body, reason) => {
    // Act
    const actual = reasonOf(body);
    // Assess
    expect(actual.startsWith(reason)).toBe(true);
  });
});
