/**
 * The published common-alert-schema samples (test/fixtures/alerts, see SOURCES.md) through
 * `POST /api/alerts` on the local host, with the local ARM endpoint seeded with the machines they
 * name: each target gets its own outcome, and no well-formed alert is answered 400.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ArmSeed } from "../../../devhost/arm";
import { STORAGE_ACCOUNT_ID, startCaptureSystem, type CaptureSystem } from "./captureSystem";

const FIXTURES = path.join(__dirname, "../../fixtures/alerts");
const SUB = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e";
const TEST_VM = `/subscriptions/${SUB}/resourceGroups/test-RG/providers/Microsoft.Compute/virtualMachines/test-VM`;
const LOG_VM = `/subscriptions/${SUB}/resourceGroups/rg-logs/providers/Microsoft.Compute/virtualMachines/vm-logs-01`;
const METRIC_VM =
  `/subscriptions/${SUB}/resourceGroups/pipelinealertrg/providers/` + `Microsoft.Compute/virtualMachines/wcus-r2-gen2`;

function vm(id: string, index: number, computerName?: string): NonNullable<ArmSeed["virtualMachines"]>[number] {
  const [, , , , group] = id.split("/");
  return {
    id,
    location: "eastus",
    networkWatcherExtension: true,
    ...(computerName && { computerName }),
    nics: [
      {
        id: `/subscriptions/${SUB}/resourceGroups/${group}/providers/Microsoft.Network/networkInterfaces/nic-${index}`,
        mac: `00-0D-3A-00-00-0${index}`,
        privateIp: `10.0.0.${index + 4}`,
      },
    ],
  };
}

/** The machines the samples name: test-VM, a VM whose host name is test-computer, the metric sample's VM. */
const SEED: ArmSeed = {
  subscriptions: [{ id: SUB }],
  virtualMachines: [vm(TEST_VM, 1), vm(LOG_VM, 2, "test-computer"), vm(METRIC_VM, 3)],
  networkWatchers: [{ subscriptionId: SUB, location: "eastus" }],
};

function sample(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, file), "utf8")) as Record<string, unknown>;
}

interface TargetAnswer {
  target: string;
  source: string;
  outcome: string;
  reason: string | null;
  resourceId: string | null;
  captureInstanceId: string | null;
}

let system: CaptureSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function deliver(body: Record<string, unknown>, seed: ArmSeed = SEED) {
  system = await startCaptureSystem({ seed, policy: { maxDurationInSeconds: 60 } });
  const response = await system.postAlert(JSON.stringify(body));
  const answer = (await response.json()) as { targets: TargetAnswer[]; eventId: string; status: string };
  await system.host.waitForIdle();
  const outcomes = (answer.targets ?? []).map((target) => [target.target, target.outcome, target.resourceId]);
  const events = system.eventsOfType("flowtap.monitorAlert") as unknown as {
    id: string;
    targets: (TargetAnswer & { captureReportId: string | null })[];
  }[];
  return { current: system, status: response.status, answer, outcomes, events };
}

const workspace =
  `/subscriptions/${SUB}/resourcegroups/test-RG/providers/` +
  `microsoft.operationalinsights/workspaces/test-logAnalyticsWorkspace`;

describe("published alert samples through POST /api/alerts", () => {
  it.each([
    ["metric-static-test-action.json", "microsoft.storage/storageaccounts"],
    ["metric-dynamic-test-action.json", "Microsoft.Storage/storageAccounts"],
  ])("%s (a storage account): 200, reported not capturable, nothing started", async (file, type) => {
    const { status, answer, outcomes, current, events } = await deliver(sample(file));

    expect(status).toBe(200);
    expect(answer.status).toBe("nothingToCapture");
    expect(outcomes).toEqual([[expect.stringContaining(type), "notCapturable", null]]);
    expect(answer.targets[0]!.reason).toMatch(/is not a virtual machine, network interface or scale set instance/);
    expect(events).toEqual([expect.objectContaining({ id: answer.eventId, targets: answer.targets })]);
    expect(current.arm.requests).toEqual([]);
  });

  it("the metric alert on a VM: Resolved is acknowledged; the same alert Fired captures the VM", async () => {
    const resolved = JSON.parse(
      JSON.stringify(sample("metric-static-vm-resolved.json")).replaceAll("<subscription ID>", SUB),
    ) as { data: { essentials: { monitorCondition: string } } };
    const first = await deliver(resolved);
    expect(first.status).toBe(200);
    expect(first.answer.status).toBe("nothingToStop");
    await system!.stop();
    system = undefined;

    resolved.data.essentials.monitorCondition = "Fired";
    const { status, outcomes } = await deliver(resolved);

    expect(status).toBe(202);
    // The ResourceId dimension holds the VM's GUID, not a target of its own.
    expect(outcomes).toEqual([[METRIC_VM.toLowerCase(), "started", METRIC_VM.toLowerCase()]]);
  });

  it("log alert V1, metric measurement (a workspace, no computer): 200, the workspace reported", async () => {
    const { status, outcomes, answer } = await deliver(sample("log-v1-metric-measurement-test-action.json"));

    expect(status).toBe(200);
    expect(outcomes).toEqual([[workspace, "notCapturable", null]]);
    expect(answer.targets[0]!.reason).toMatch(/Log Analytics workspace/);
  });

  it.each([
    ["log-v1-number-of-results-test-action.json", "data.essentials.configurationItems[0]"],
    ["log-v2-test-action.json", "data.alertContext.condition.allOf[0].dimensions[0]"],
  ])("%s: the computer it names is captured on its VM, the workspace reported", async (file, source) => {
    const { status, answer, outcomes, current } = await deliver(sample(file));

    expect(status).toBe(202);
    expect(outcomes).toEqual([
      [workspace, "notCapturable", null],
      ["test-computer", "started", LOG_VM],
    ]);
    expect(answer.targets[1]!.source).toBe(source);
    expect(current.armRequests("GET", "/providers/Microsoft.Compute/virtualMachines")[0]!.path).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines`,
    );
    expect(current.eventsOfType("flowtap.captureCompleted")).toHaveLength(1);
  });

  it("log alert V2 naming a computer no VM answers to: 200, the computer reported unresolved", async () => {
    const withoutIt: ArmSeed = { ...SEED, virtualMachines: [vm(TEST_VM, 1)] };

    const { status, outcomes, answer } = await deliver(sample("log-v2-test-action.json"), withoutIt);

    expect(status).toBe(200);
    expect(outcomes).toEqual([
      [workspace, "notCapturable", null],
      ["test-computer", "unresolved", null],
    ]);
    expect(answer.targets[1]!.reason).toBe('no virtual machine with computer name "test-computer"');
  });

  it.each(["activity-log-test-action.json", "resource-health-test-action.json"])(
    "%s (a VM): 202, the VM captured",
    async (file) => {
      const { status, outcomes, current } = await deliver(sample(file));

      expect(status).toBe(202);
      const sent = `/subscriptions/${SUB}/resourcegroups/test-RG/providers/microsoft.compute/virtualmachines/test-VM`;
      expect(outcomes).toEqual([[sent, "started", sent]]);
      expect(current.eventsOfType("flowtap.captureCompleted")).toHaveLength(1);
    },
  );

  it("the alert event and capture report name each other, with the capture's storage and final status", async () => {
    const { events, current } = await deliver(sample("activity-log-test-action.json"));

    const [event] = events;
    const [report] = current.captureReports() as unknown as {
      id: string;
      alertEventId: string;
      capture: { status: string; fileUrl: string; storageLocation: { storageId: string; storagePath: string } };
    }[];
    expect(event!.targets[0]).toMatchObject({ captureReportId: report!.id, outcome: "started" });
    expect(report!.alertEventId).toBe(event!.id);
    expect(report!.capture.status).toBe("Stopped");
    expect(report!.capture.storageLocation).toEqual({
      storageId: STORAGE_ACCOUNT_ID,
      storagePath: report!.capture.fileUrl,
    });
    expect(report!.capture.fileUrl).toMatch(/\/test-vm\/.*\.cap$/i);
  });

  it("service-health-test-action.json (a subscription): 200, reported not capturable", async () => {
    const { status, outcomes, answer } = await deliver(sample("service-health-test-action.json"));

    expect(status).toBe(200);
    expect(outcomes).toEqual([[`/subscriptions/${SUB}`, "notCapturable", null]]);
    expect(answer.targets[0]!.reason).toMatch(/a subscription/);
  });
});
