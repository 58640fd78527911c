/**
 * Injection attempts through `POST /api/alerts`: target ids and computer names carrying `?`, `#`,
 * `%2e%2e`, `..`, empty segments or characters outside Azure's naming rules. Each is refused as a
 * target (the others still captured), and the local ARM endpoint's request log shows no request
 * whose path or query the alert changed.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ArmSeed } from "../../../devhost/arm";
import { commonAlert, startCaptureSystem, type CaptureSystem } from "./captureSystem";

const SUB = "11111111-2222-3333-4444-555555555555";
const GROUP = `/subscriptions/${SUB}/resourceGroups/rg-web/providers`;
const VM = `${GROUP}/Microsoft.Compute/virtualMachines/web-1`;
const SEED: ArmSeed = {
  subscriptions: [{ id: SUB }],
  virtualMachines: [
    {
      id: VM,
      location: "eastus",
      networkWatcherExtension: true,
      nics: [
        {
          id: `${GROUP}/Microsoft.Network/networkInterfaces/web-1-nic`,
          mac: "00-0D-3A-00-00-01",
          privateIp: "10.0.0.4",
        },
      ],
    },
  ],
  networkWatchers: [{ subscriptionId: SUB, location: "eastus" }],
};

const ATTEMPTS = [
  `${VM}?api-version=2015-01-01`,
  `${VM}?$expand=userData`,
  `${VM}#fragment`,
  `/subscriptions/${SUB}/resourceGroups/%2e%2e/providers/Microsoft.Compute/virtualMachines/web-1`,
  `${VM}%2F..%2F..%2Fproviders%2FMicrosoft.Authorization%2FroleAssignments`,
  `${VM}/../../../../providers/Microsoft.Authorization/roleAssignments/x`,
  `/subscriptions/${SUB}/resourceGroups//providers/Microsoft.Compute/virtualMachines/web-1`,
  `/subscriptions/${SUB}/resourceGroups/rg web/providers/Microsoft.Compute/virtualMachines/web-1`,
  `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-1&x=y`,
];
const COMPUTER_ATTEMPTS = ["web-1?api-version=1", "../web-1", "web-1/../../x", "web 1"];
/** The query parameters flowtap and the SDK send: nothing an alert put there. */
const ALLOWED_QUERY = new Set(["api-version", "$expand", "$skiptoken"]);

let system: CaptureSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

function logAlert(targets: string[], computers: string[]): Record<string, unknown> {
  const alert = commonAlert(targets);
  const data = alert.data as { essentials: Record<string, unknown>; alertContext: unknown };
  data.essentials.signalType = "Log";
  data.alertContext = {
    condition: { allOf: [{ dimensions: computers.map((value) => ({ name: "Computer", value })) }] },
  };
  return alert;
}

describe("injection attempts in an alert's targets", () => {
  it("refuses each attempt as a target, captures the real VM; no ARM request has a changed path or query", async () => {
    // Prepare
    system = await startCaptureSystem({ seed: SEED, policy: { maxDurationInSeconds: 60 } });

    // Act
    const response = await system.postAlert(JSON.stringify(logAlert([VM, ...ATTEMPTS], COMPUTER_ATTEMPTS)));
    const answer = (await response.json()) as { targets: { target: string; outcome: string; reason: string }[] };
    await system.host.waitForIdle();

    // Assess
    expect(response.status).toBe(202);
    expect(answer.targets.map((target) => [target.target, target.outcome])).toEqual([
      [VM, "started"],
      ...[...ATTEMPTS, ...COMPUTER_ATTEMPTS].map((attempt) => [attempt, "refused"]),
    ]);
    const requests = system.arm.requests;
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(request.path.startsWith(`/subscriptions/${SUB}/`)).toBe(true);
      expect(request.path).not.toMatch(/\.\.|roleAssignments|%2e|%2f|userData/i);
      expect(Object.keys(request.query).filter((key) => !ALLOWED_QUERY.has(key))).toEqual([]);
      expect(request.query["api-version"]).not.toBe("2015-01-01");
    }
    const vmGets = requests.filter((request) => /virtualMachines/i.test(request.path));
    expect(new Set(vmGets.map((request) => request.path))).toEqual(new Set([VM]));
    expect(system.captureReports()).toEqual([expect.objectContaining({ type: "flowtap.captureCompleted" })]);
  });

  it("an alert whose only targets are attempts is answered 200 with every refusal, and calls no ARM", async () => {
    system = await startCaptureSystem({ seed: SEED });

    const response = await system.postAlert(JSON.stringify(logAlert(ATTEMPTS, COMPUTER_ATTEMPTS)));
    const answer = (await response.json()) as { targets: { outcome: string; reason: string }[] };
    await system.host.waitForIdle();

    expect(response.status).toBe(200);
    expect(answer.targets.map((target) => target.outcome)).toEqual(
      [...ATTEMPTS, ...COMPUTER_ATTEMPTS].map(() => "refused"),
    );
    expect(answer.targets[0]!.reason).toBe('not a valid resource id: segment 8 contains "?"');
    expect(system.arm.requests).toEqual([]);
  });
});
