import { describe, expect, it } from "vitest";
import { parseCommonAlert } from "../../src/core/alertSchema";
import { ValidationError } from "../../src/errors";

const SUB = "11111111-2222-3333-4444-555555555555";
const VM_ID =
  `/subscriptions/${SUB}/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/` + `wcus-r2-gen2`;
const NIC_ID = `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKINTERFACES/NIC-1`;

/** Shaped like the metric-alert sample of the Azure Monitor common alert schema documentation. */
function firedAlert(essentials: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId:
          `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/` + `b9569717-bc32-442f-add5-83a997729330`,
        alertRule: "WCUS-R2-Gen2",
        severity: "Sev3",
        signalType: "Metric",
        monitorCondition: "Fired",
        monitoringService: "Platform",
        alertTargetIDs: [VM_ID],
        configurationItems: ["wcus-r2-gen2"],
        originAlertId:
          "3f2d4487-b0fc-4125-8bd5-7ad17384221e_PipeLineAlertRG_microsoft.insights_metricAlerts_" +
          "WCUS-R2-Gen2_-117781227",
        firedDateTime: "2019-03-22T13:58:24.3713213Z",
        description: "",
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
        ...essentials,
      },
      alertContext: { properties: null, conditionType: "SingleResourceMultipleMetricCriteria" },
    },
  };
}

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
  it("returns a fired alert with its VM and NIC targets, whatever the id casing", () => {
    // Prepare
    const body = firedAlert({ alertTargetIDs: [VM_ID, NIC_ID] });
    // Act
    const alert = parseCommonAlert(body);
    // Assess
    expect(alert).toEqual({
      kind: "fired",
      alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330`,
      alertRule: "WCUS-R2-Gen2",
      severity: "Sev3",
      firedDateTime: "2019-03-22T13:58:24.3713213Z",
      targets: [
        { kind: "vm", resourceId: VM_ID, subscriptionId: SUB, resourceGroup: "pipelinealertrg", name: "wcus-r2-gen2" },
        { kind: "nic", resourceId: NIC_ID, subscriptionId: SUB, resourceGroup: "RG1", name: "NIC-1" },
      ],
    });
  });

  it("acknowledges a resolved alert with just its id", () => {
    // Act
    const alert = parseCommonAlert(
      firedAlert({ monitorCondition: "Resolved", resolvedDateTime: "2019-03-22T14:03:16.2246313Z" }),
    );
    // Assess
    expect(alert).toEqual({ kind: "resolved", alertId: expect.stringContaining("b9569717") });
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
    ["no alertRule", firedAlert({ alertRule: 7 }), "data.essentials.alertRule must be a non-empty string"],
    ["no severity", firedAlert({ severity: "" }), "data.essentials.severity must be a non-empty string"],
    [
      "a bad firedDateTime",
      firedAlert({ firedDateTime: "yesterday" }),
      'data.essentials.firedDateTime must be an ISO-8601 time (got "yesterday")',
    ],
    ["targets not an array", firedAlert({ alertTargetIDs: VM_ID }), "data.essentials.alertTargetIDs must be an array"],
    ["no targets", firedAlert({ alertTargetIDs: [] }), "data.essentials.alertTargetIDs must not be empty"],
    [
      "a storage account target",
      firedAlert({
        alertTargetIDs: [
          VM_ID,
          `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1`,
        ],
      }),
      "data.essentials.alertTargetIDs[1] must be a virtual machine or network interface resource id",
    ],
    [
      "a non-string target",
      firedAlert({ alertTargetIDs: [42] }),
      "data.essentials.alertTargetIDs[0] must be a virtual machine or network interface resource id (got 42)",
    ],
    [
      "a truncated VM id",
      firedAlert({
        alertTargetIDs: [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines`],
      }),
      "data.essentials.alertTargetIDs[0] must be",
    ],
  ])("refuses %s, naming the field", (_, body, reason) => {
    // Act
    const actual = reasonOf(body);
    // Assess
    expect(actual.startsWith(reason)).toBe(true);
  });
});
