/** Common-alert-schema bodies shaped like the documentation's metric-alert sample, for the core alert tests. */
export const SUB = "11111111-2222-3333-4444-555555555555";
export const VM_ID =
  `/subscriptions/${SUB}/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/` + `wcus-r2-gen2`;
export const NIC_ID = `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKINTERFACES/NIC-1`;

/** Shaped like the metric-alert sample of the Azure Monitor common alert schema documentation. */
export function firedAlert(essentials: Record<string, unknown> = {}): Record<string, unknown> {
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

export function essentialsOf(overrides: Record<string, unknown>): Record<string, unknown> {
  return (firedAlert(overrides).data as { essentials: Record<string, unknown> }).essentials;
}
