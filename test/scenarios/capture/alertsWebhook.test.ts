/**
 * The Azure Monitor webhook (`POST /api/alerts`) over real HTTP with the function key, and the
 * capture orchestration's policy and ARM paths against the local ARM endpoint: allowlist,
 * cooldown and duplicate alerts, 429 / 409 / 5xx answers, a VM without the agent extension.
 */
import { afterEach, describe, expect, it } from "vitest";
import { buildTopology } from "../../../devhost/generate";
import { OrchestrationNames } from "../../../src/contracts/names";
import {
  START_TIME,
  commonAlert,
  nicIdOf,
  scaleSetNear,
  seedOf,
  startCaptureSystem,
  vmIdOf,
  type CaptureSystem,
  type StartCaptureSystemOptions,
} from "./captureSystem";
import { packetCaptureInstanceId } from "../../../src/contracts/captureContracts";
import { MAX_TRANSIENT_ATTEMPTS } from "../../../orchestrations/packetCapture";

const topology = buildTopology({ seed: 21, nics: 4 });
const vm = topology.nics[0]!;
const outsider = topology.nics.find((nic) => nic.resourceGroup !== vm.resourceGroup)!;
const policy = { allowedResourceGroups: [vm.resourceGroup], cooldownInMinutes: 60, maxDurationInSeconds: 90 };

let system: CaptureSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function start(options: Partial<StartCaptureSystemOptions> = {}): Promise<CaptureSystem> {
  system = await startCaptureSystem({ seed: seedOf(topology.nics), policy, ...options });
  return system;
}

function essentialsOf(target: typeof vm): object {
  return (commonAlert([vmIdOf(target)]).data as { essentials: object }).essentials;
}

interface Accepted {
  id: string;
  statusQueryGetUri: string;
  alertId: string;
  captures: { target: string; instanceId: string; outcome: string; reportId: string; statusQueryGetUri: string }[];
}

async function fire(current: CaptureSystem, targets: string[], alertId?: string): Promise<Accepted> {
  const response = await current.postAlert(JSON.stringify(commonAlert(targets, alertId ? { alertId } : {})));
  expect(response.status).toBe(202);
  expect(response.headers.get("location")).toMatch(/\/runtime\/webhooks\/durabletask\/instances\//);
  return (await response.json()) as Accepted;
}

type Report = {
  type: string;
  reason: string | null;
  message: string;
  capture: { name: string; status: string; fileUrl: string } | null;
};
const reports = (current: CaptureSystem): Report[] => current.captureReports() as unknown as Report[];

describe("POST /api/alerts", () => {
  it.each([
    ["a body that is not JSON", "{not json", /body: not JSON/],
    [
      "another schema",
      JSON.stringify({ schemaId: "AzureMonitorMetricAlert", data: {} }),
      /schemaId must be "azureMonitorCommonAlertSchema"/,
    ],
    [
      "no essentials",
      JSON.stringify({ schemaId: "azureMonitorCommonAlertSchema", data: {} }),
      /data\.essentials must be an object/,
    ],
    [
      "an unknown monitor condition",
      JSON.stringify(commonAlert([vmIdOf(vm)], { condition: "Acknowledged" as never })),
      /monitorCondition must be "Fired" or "Resolved"/,
    ],
    [
      "targets that are not a list",
      JSON.stringify({ ...commonAlert([]), data: { essentials: { ...essentialsOf(vm), alertTargetIDs: "vm" } } }),
      /alertTargetIDs must be an array or null/,
    ],
    [
      "a bad fired time",
      JSON.stringify({ ...commonAlert([]), data: { essentials: { ...essentialsOf(vm), firedDateTime: "yesterday" } } }),
      /firedDateTime must be an ISO-8601 time/,
    ],
  ])("answers 400 with the reason for %s, and starts nothing", async (_what, body, reason) => {
    // Prepare
    const current = await start();

    // Act
    const response = await current.postAlert(body);

    // Assess
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(reason);
    expect(current.host.listInstances()).toEqual([]);
  });

  it("refuses a call without the function key", async () => {
    const current = await start();

    const response = await current.postAlert(JSON.stringify(commonAlert([vmIdOf(vm)])), null);

    expect(response.status).toBe(401);
    expect(current.host.listInstances()).toEqual([]);
  });

  it("acknowledges a Resolved alert it never saw fire with 200 and starts nothing", async () => {
    const current = await start();

    const response = await current.postAlert(JSON.stringify(commonAlert([vmIdOf(vm)], { condition: "Resolved" })));
    await current.host.waitForIdle();

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "nothingToStop", stopping: [] });
    expect(current.host.listInstances().map((instance) => instance.name)).toEqual([
      OrchestrationNames.publishMonitorAlert,
    ]);
    expect(current.eventsOfType("flowtap.monitorAlert")).toEqual([
      expect.objectContaining({ monitorCondition: "Resolved", targets: [] }),
    ]);
    expect(current.arm.requests).toEqual([]);
  });

  it("stops the capture a Fired alert started when the alert resolves, and the report says why", async () => {
    // Prepare: the capture is running (the clock waits on its first poll timer).
    const current = await start({ autoAdvance: false });
    const alertId = "/subscriptions/sub/providers/Microsoft.AlertsManagement/alerts/resolving";
    const fired = await fire(current, [vmIdOf(vm)], alertId);
    await current.host.waitForIdle();

    // Act
    const resolved = await current.postAlert(
      JSON.stringify(commonAlert([vmIdOf(vm)], { condition: "Resolved", alertId })),
    );
    const answer = (await resolved.json()) as { status: string; stopping: { reportId: string }[] };
    const resolvedAgain = await current.postAlert(
      JSON.stringify(commonAlert([vmIdOf(vm)], { condition: "Resolved", alertId })),
    );
    current.host.virtualClock.autoAdvance = true;
    current.host.virtualClock.advanceToNextTimer();
    await current.host.waitForIdle();

    // Assess: stopped at the first poll (30 s), long before its 90 s limit.
    expect(resolved.status).toBe(200);
    expect(answer).toMatchObject({ status: "stopping", stopping: [{ reportId: fired.captures[0]!.reportId }] });
    const [report] = current.captureReports() as unknown as {
      id: string;
      type: string;
      time: string;
      message: string;
      capture: { status: string; stopRequest: { reason: string; alertId: string } };
    }[];
    expect(report).toMatchObject({
      id: fired.captures[0]!.reportId,
      type: "flowtap.captureCompleted",
      capture: { status: "Stopped", stopRequest: { reason: "alertResolved", alertId } },
    });
    expect(report!.message).toContain(`alert ${alertId} resolved`);
    expect(Date.parse(report!.time) - START_TIME.getTime()).toBeLessThan(90_000);
    expect(current.armRequests("POST", "/stop")).toHaveLength(1);
    // A redelivered resolution gets the same answer and asks nothing more.
    expect(await resolvedAgain.json()).toEqual(answer);
    expect(current.eventsOfType("flowtap.monitorAlert").map((event) => event.monitorCondition)).toEqual([
      "Fired",
      "Resolved",
    ]);
  });

  it("leaves captures running on a Resolved alert when FLOWTAP_STOP_CAPTURES_ON_RESOLVE is false", async () => {
    const current = await start({ autoAdvance: false, settings: { FLOWTAP_STOP_CAPTURES_ON_RESOLVE: "false" } });
    const alertId = "/subscriptions/sub/providers/Microsoft.AlertsManagement/alerts/kept";
    await fire(current, [vmIdOf(vm)], alertId);
    await current.host.waitForIdle();

    const resolved = await current.postAlert(
      JSON.stringify(commonAlert([vmIdOf(vm)], { condition: "Resolved", alertId })),
    );
    current.host.virtualClock.autoAdvance = true;
    current.host.virtualClock.advanceToNextTimer();
    await current.host.waitForIdle();

    expect(await resolved.json()).toMatchObject({ status: "ignored" });
    expect(current.captureReports()).toEqual([
      expect.objectContaining({ capture: expect.objectContaining({ stopRequest: null }) }),
    ]);
  });

  it("collapses a target's alerts: duplicates join the capture, a later one (its NIC) meets the cooldown", async () => {
    // Prepare: the clock waits, so the first capture is still running when the duplicate arrives.
    const current = await start({ autoAdvance: false });
    const first = await fire(current, [vmIdOf(vm)]);
    await current.host.waitForIdle();

    // Act
    const duplicate = await fire(
      current,
      [vmIdOf(vm)],
      "/subscriptions/sub/providers/Microsoft.AlertsManagement/alerts/0002",
    );
    current.host.virtualClock.autoAdvance = true;
    current.host.virtualClock.advanceToNextTimer();
    await current.host.waitForIdle();
    const later = await fire(
      current,
      [nicIdOf(vm)],
      "/subscriptions/sub/providers/Microsoft.AlertsManagement/alerts/0003",
    );
    await current.host.waitForIdle();

    // Assess
    expect(first.captures).toEqual([
      expect.objectContaining({
        instanceId: packetCaptureInstanceId({ resourceId: vmIdOf(vm), mac: null }),
        outcome: "started",
      }),
    ]);
    expect(first.statusQueryGetUri).toBe(first.captures[0]!.statusQueryGetUri);
    expect(duplicate.captures[0]).toMatchObject({
      instanceId: first.captures[0]!.instanceId,
      outcome: "absorbed",
      reportId: first.captures[0]!.reportId,
    });
    expect(later.captures[0]).toMatchObject({ outcome: "started" });
    expect(current.armRequests("PUT", "/packetCaptures/")).toHaveLength(1);
    expect(reports(current).map((report) => [report.type, report.reason])).toEqual([
      ["flowtap.captureCompleted", null],
      ["flowtap.captureRefused", "cooldown"],
    ]);
    const status = await fetch(first.statusQueryGetUri);
    expect(((await status.json()) as { runtimeStatus: string }).runtimeStatus).toBe("Completed");
  });

  it("answers a redelivered alert (same alertId and condition) as the first time and starts nothing new", async () => {
    // Prepare: action groups retry on 408, 429, 503 and 504; the first delivery's capture is still running.
    const current = await start({ autoAdvance: false });
    const body = JSON.stringify(commonAlert([vmIdOf(vm), nicIdOf(outsider)]));
    const firstResponse = await current.postAlert(body);
    const first = (await firstResponse.json()) as Accepted;
    await current.host.waitForIdle();

    // Act: once while it runs, once after it ended.
    const whileRunning = await current.postAlert(body);
    current.host.virtualClock.autoAdvance = true;
    current.host.virtualClock.advanceToNextTimer();
    await current.host.waitForIdle();
    const afterwards = await current.postAlert(body);
    await current.host.waitForIdle();

    // Assess
    expect(firstResponse.status).toBe(202);
    for (const again of [whileRunning, afterwards]) {
      expect(again.status).toBe(202);
      expect(again.headers.get("location")).toBe(firstResponse.headers.get("location"));
      expect(await again.json()).toEqual(first);
    }
    expect(first.captures.map((capture) => capture.outcome)).toEqual(["started", "started"]);
    const captureInstances = current.host
      .listInstances()
      .filter((instance) => instance.name === OrchestrationNames.packetCapture);
    expect(captureInstances).toHaveLength(2);
    expect(current.armRequests("PUT", "/packetCaptures/")).toHaveLength(1);
    expect(current.eventsOfType("flowtap.monitorAlert")).toHaveLength(1);
    expect(reports(current).map((report) => report.type)).toEqual([
      "flowtap.captureRefused",
      "flowtap.captureCompleted",
    ]);
  });

  it("refuses and reports a target outside the allowed resource groups, without touching its capture", async () => {
    const current = await start();

    await fire(current, [vmIdOf(outsider)]);
    await current.host.waitForIdle();

    expect(reports(current)).toEqual([
      expect.objectContaining({ type: "flowtap.captureRefused", reason: "notAllowlisted", capture: null }),
    ]);
    expect(current.armRequests("PUT", "/packetCaptures/")).toEqual([]);
  });

  it("captures a scale set instance as AzureVMSS on its scale set, scoped to that instance", async () => {
    // Prepare
    const scaleSet = scaleSetNear(vm);
    const instanceVmId = `${scaleSet.id}/virtualMachines/3`;
    const current = await start({ seed: { ...seedOf(topology.nics), virtualMachineScaleSets: [scaleSet] } });

    // Act
    const accepted = await fire(current, [instanceVmId]);
    await current.host.waitForIdle();

    // Assess: the PUT the endpoint received, the capture it stores, and the report.
    expect(accepted.captures).toEqual([expect.objectContaining({ target: instanceVmId, outcome: "started" })]);
    expect(current.armRequests("GET", "/virtualMachineScaleSets/vmss-web/virtualMachines/3")).not.toEqual([]);
    const [put] = current.armRequests("PUT", "/packetCaptures/");
    expect(put).toMatchObject({
      statusCode: 201,
      body: { properties: { target: scaleSet.id, targetType: "AzureVMSS", scope: { include: ["3"] } } },
    });
    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureCompleted", capture: { status: "Stopped" } });
    expect(report!.capture!.name).toMatch(/^flowtap-vmss-web_3-/);
    expect((report as unknown as { target: { vmResourceId: string } }).target.vmResourceId).toBe(instanceVmId);
  });

  it("fails a VM without the Network Watcher agent extension with the reason, creating nothing", async () => {
    const current = await start({ seed: seedOf(topology.nics, { withoutAgent: [vm] }) });

    await fire(current, [vmIdOf(vm)]);
    await current.host.waitForIdle();

    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureFailed", reason: "noAgent" });
    expect(report!.message).toMatch(/agent VM extension is not installed/);
    expect(current.armRequests("PUT", "/packetCaptures/")).toEqual([]);
  });
});

describe("ARM answers during a capture", () => {
  it("waits out a 429 for its Retry-After on a durable timer, then creates the capture", async () => {
    // Prepare
    const current = await start();
    current.arm.injectFaults({
      method: "PUT",
      path: "/packetCaptures/",
      statusCode: 429,
      count: 1,
      retryAfterInSeconds: 45,
    });

    // Act
    const accepted = await fire(current, [vmIdOf(vm)]);
    await current.host.waitForIdle();

    // Assess: two PUTs, with a 45 s durable timer between them.
    const puts = current.armRequests("PUT", "/packetCaptures/");
    expect(puts.map((request) => request.statusCode)).toEqual([429, 201]);
    const history = current.host.getHistory(accepted.captures[0]!.instanceId) as {
      EventType: number;
      Name?: string;
      FireAt?: string;
      Timestamp: string;
    }[];
    const scheduled = history.filter((event) => event.EventType === 4 && event.Name === "createPacketCapture");
    const timers = history.filter((event) => event.EventType === 10);
    expect(scheduled).toHaveLength(2);
    expect(timers.some((timer) => Date.parse(timer.FireAt!) - Date.parse(timer.Timestamp) === 45_000)).toBe(true);
    expect(reports(current).map((report) => report.type)).toEqual(["flowtap.captureCompleted"]);
  });

  it("resolves a 409 name conflict with a suffixed name whose .cap file follows it", async () => {
    const current = await start();
    current.arm.injectFaults({ method: "PUT", path: "/packetCaptures/", statusCode: 409, count: 1, code: "Conflict" });

    await fire(current, [vmIdOf(vm)]);
    await current.host.waitForIdle();

    const puts = current.armRequests("PUT", "/packetCaptures/");
    expect(puts.map((request) => request.statusCode)).toEqual([409, 201]);
    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureCompleted" });
    expect(report!.capture!.name).toBe(`${puts[0]!.path.split("/").pop()}-1`);
    expect(report!.capture!.fileUrl).toMatch(new RegExp(`/${report!.capture!.name}\\.cap$`));
  });

  it("rides out a brief 500 with the SDK's retries", async () => {
    const current = await start();
    current.arm.injectFaults({ method: "PUT", path: "/packetCaptures/", statusCode: 500, count: 2 });

    await fire(current, [vmIdOf(vm)]);
    await current.host.waitForIdle();

    expect(current.armRequests("PUT", "/packetCaptures/").map((request) => request.statusCode)).toEqual([
      500, 500, 201,
    ]);
    expect(reports(current).map((report) => report.type)).toEqual(["flowtap.captureCompleted"]);
  });

  it("fails with the reason after a bounded number of attempts when 500s persist", async () => {
    const current = await start();
    current.arm.injectFaults({ method: "PUT", path: "/packetCaptures/", statusCode: 500, count: 100 });

    const accepted = await fire(current, [vmIdOf(vm)]);
    await current.host.waitForIdle();

    // MAX_TRANSIENT_ATTEMPTS activity attempts × (1 + 3 SDK retries), then the capture is reported failed.
    expect(current.armRequests("PUT", "/packetCaptures/")).toHaveLength(MAX_TRANSIENT_ATTEMPTS * 4);
    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureFailed", reason: "create" });
    expect(report!.message).toMatch(/500/);
    expect(current.host.getInstance(accepted.captures[0]!.instanceId)).toMatchObject({
      name: OrchestrationNames.packetCapture,
      runtimeStatus: "Completed",
    });
  });
});
