import { describe, expect, it } from "vitest";
import { parseCommonAlert } from "../../src/core/alertSchema";
import { matchComputer, planAlertTargets } from "../../src/core/alertTargets";
import { NIC_ID, SUB, VM_ID, essentialsOf, firedAlert } from "./commonAlertBodies";

describe("planAlertTargets", () => {
  const plans = (essentials: Record<string, unknown>, alertContext?: Record<string, unknown>) =>
    planAlertTargets(
      parseCommonAlert({
        ...firedAlert(essentials),
        data: { essentials: { ...essentialsOf(essentials) }, alertContext },
      }),
    ).map((planned) => [planned.target, planned.plan, "reason" in planned ? planned.reason : undefined]);

  it("captures VMs and NICs, reports everything else with the reason, one outcome each", () => {
    // Act
    const actual = plans({
      alertTargetIDs: [
        VM_ID,
        NIC_ID,
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1`,
        `/subscriptions/${SUB}`,
        `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss`,
        42,
      ],
    });
    // Assess
    expect(actual).toEqual([
      [VM_ID, "capture", undefined],
      [NIC_ID, "capture", undefined],
      [
        expect.stringContaining("sa1"),
        "notCapturable",
        expect.stringMatching(/Microsoft.Storage\/storageAccounts is not/),
      ],
      [`/subscriptions/${SUB}`, "notCapturable", "a subscription, not a machine"],
      [expect.stringContaining("/ss"), "notCapturable", expect.stringMatching(/scale set/)],
      ["42", "refused", 'not a valid resource id: does not start with "/"'],
    ]);
  });

  it("reads computers and resource ids from log alert dimensions (V1 and V2) and configurationItems", () => {
    // Prepare
    const workspace = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws`;
    const log = { signalType: "Log", alertTargetIDs: [workspace], configurationItems: ["web-01", "ws"] };
    // Act
    const v2 = plans(log, {
      condition: {
        allOf: [
          {
            dimensions: [
              { name: "_ResourceId", value: VM_ID },
              { name: "Computer", value: "db-01" },
            ],
          },
        ],
      },
    });
    const v1 = plans({ ...log, configurationItems: [] }, { Dimensions: [{ name: "Computer", value: "web-01" }] });
    // Assess
    expect(v2).toEqual([
      [workspace, "notCapturable", expect.stringMatching(/Log Analytics workspace/)],
      [VM_ID, "capture", undefined],
      ["db-01", "computer", undefined],
      ["web-01", "computer", undefined],
    ]);
    expect(v1).toEqual([
      [workspace, "notCapturable", expect.stringMatching(/Log Analytics workspace/)],
      ["web-01", "computer", undefined],
    ]);
  });

  it("ignores configurationItems outside log alerts (they repeat the targets' names)", () => {
    expect(plans({ configurationItems: ["wcus-r2-gen2", "other"] })).toEqual([[VM_ID, "capture", undefined]]);
  });

  it.each([
    ["a query", `${VM_ID}?api-version=1`, 'contains "?"'],
    ["a fragment", `${VM_ID}#x`, 'contains "#"'],
    [
      "an encoded dot",
      `/subscriptions/${SUB}/resourceGroups/%2e%2e/providers/Microsoft.Compute/virtualMachines/a`,
      '"%"',
    ],
    [
      "a parent segment",
      `/subscriptions/${SUB}/resourceGroups/../providers/Microsoft.Compute/virtualMachines/a`,
      '".."',
    ],
    ["an empty segment", `/subscriptions/${SUB}//resourceGroups/rg`, "segment 3 is empty"],
    [
      "whitespace",
      `/subscriptions/${SUB}/resourceGroups/r g/providers/Microsoft.Compute/virtualMachines/a`,
      "whitespace",
    ],
    [
      "a name outside Azure's rules",
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a&b=c`,
      "naming rules",
    ],
  ])("refuses a target id with %s, never planning a capture", (_, id, reason) => {
    const [planned] = plans({ alertTargetIDs: [id] });
    expect(planned).toEqual([id, "refused", expect.stringContaining(reason)]);
  });
});

describe("matchComputer", () => {
  const machines = [
    { id: "/vm/a", name: "vm-a", computerName: "web-01" },
    { id: "/vm/b", name: "web-02" },
    { id: "/vm/c", name: "vm-c", computerName: "twin" },
    { id: "/vm/d", name: "vm-d", computerName: "TWIN" },
  ];

  it.each([
    ["a computer name, any case", "WEB-01", { ok: true, vmResourceId: "/vm/a" }],
    ["an FQDN by its first label", "web-01.contoso.com", { ok: true, vmResourceId: "/vm/a" }],
    ["a VM name when no computer name matches", "web-02", { ok: true, vmResourceId: "/vm/b" }],
    ["nothing", "db-01", { ok: false, reason: 'no virtual machine with computer name "db-01"' }],
    ["two machines", "twin", { ok: false, reason: '2 virtual machines have computer name "twin"' }],
  ])("matches %s", (_, computer, expected) => {
    expect(matchComputer(computer, machines)).toEqual(expected);
  });
});
