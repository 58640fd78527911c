/**
 * The demo's Azure Monitor alert: an action group's common-schema metric alert on a VM the
 * scripted attacks leave alone fires through `POST /api/alerts/secure` with a token of the local
 * tenant (its capture starts), then resolves through `POST /api/alerts` (the capture stops at its
 * next poll and its report says the alert resolved).
 */
import { vmIdOf, type DemoPlan } from "./plan";
import type { DemoSystem } from "./scenario";

function commonAlert(alertId: string, vmId: string, condition: "Fired" | "Resolved", time: string): string {
  return JSON.stringify({
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId,
        alertRule: "flowtap-demo-high-cpu",
        severity: "Sev3",
        signalType: "Metric",
        monitorCondition: condition,
        monitoringService: "Platform",
        alertTargetIDs: [vmId.toLowerCase()],
        configurationItems: [vmId.split("/").at(-1)],
        firedDateTime: time,
        ...(condition === "Resolved" && { resolvedDateTime: time }),
        essentialsVersion: "1.0",
        alertContextVersion: "1.0",
      },
      alertContext: { conditionType: "SingleResourceMultipleMetricCriteria", condition: { allOf: [] } },
    },
  });
}

/** POSTs an alert as an action group would: with Secure Webhook (an Entra token), or with the function key. */
async function post(system: DemoSystem, body: string, secure: boolean): Promise<Record<string, unknown>> {
  const url = secure
    ? `${system.baseUrl}/api/alerts/secure`
    : `${system.baseUrl}/api/alerts?code=${system.functionKey}`;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (secure) headers.Authorization = `Bearer ${await system.secureWebhookToken()}`;
  const response = await fetch(url, {
    method: "POST",
    body,
    headers,
  });
  return { httpStatus: response.status, ...((await response.json()) as Record<string, unknown>) };
}

/** Fires and resolves an alert on the first VM no attack targets; the lines the demo prints. */
export async function fireAndResolveAlert(system: DemoSystem, plan: DemoPlan): Promise<string[]> {
  const attacked = new Set(plan.attacks.map((attack) => attack.macAddress.toUpperCase()));
  const nic = plan.topology.nics.find((candidate) => !attacked.has(candidate.macAddress.toUpperCase()));
  if (!nic) return [];
  const vmId = vmIdOf(nic);
  const alertId = `/subscriptions/${nic.subscriptionId}/providers/Microsoft.AlertsManagement/alerts/flowtap-demo`;
  // Fired through Secure Webhook, resolved through the function-key route: both are action group options.
  const fired = await post(system, commonAlert(alertId, vmId, "Fired", system.now().toISOString()), true);
  // Resolved while its capture still runs: the virtual clock moves only once all is idle.
  const resolved = await post(system, commonAlert(alertId, vmId, "Resolved", system.now().toISOString()), false);
  await system.waitForIdle();
  const captures = (fired.captures as { outcome: string }[] | undefined) ?? [];
  const stopping = (resolved.stopping as unknown[] | undefined) ?? [];
  return [
    `azure monitor alert on ${nic.vmName}: fired via Secure Webhook (${fired.httpStatus}, ` +
      `capture ${captures[0]?.outcome ?? "none"}), ` +
      `resolved (${resolved.httpStatus}, ${stopping.length} capture(s) asked to stop)`,
  ];
}
