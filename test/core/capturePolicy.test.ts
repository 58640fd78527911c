import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateFlowEvents, aggregateOptionsFor } from "../../src/core/anomaly/aggregate";
import { applyAggregates, emptyDetectorState } from "../../src/core/anomaly/detector";
import { DEFAULT_RULES } from "../../src/core/anomaly/rules";
import {
  buildCaptureFilters,
  captureName,
  captureRequestFromAlert,
  decideCapture,
  emptyCapturePolicyState,
  releaseCapture,
  validateCapturePolicyConfig,
  type CapturePolicyConfig,
  type CaptureRequest,
} from "../../src/core/capturePolicy";
import { ValidationError } from "../../src/errors";
import { eventsInMinute, TARGET_IP } from "./anomaly/flowEvents";

const SUB = "11111111-2222-3333-4444-555555555555";
const STORAGE_ID =
  `/subscriptions/${SUB}/resourceGroups/rg-ops/providers/Microsoft.Storage/storageAccounts/` + `flowtapcaptures`;
const vmId = (name: string, group = "RG-Web") =>
  `/subscriptions/${SUB}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/${name}`;
const NOW = "2026-11-22T12:46:07.000Z";
const later = (minutes: number) => new Date(Date.parse(NOW) + minutes * 60_000).toISOString();

const config: CapturePolicyConfig = validateCapturePolicyConfig({
  maxConcurrentCaptures: 2,
  cooldownInMinutes: 30,
  maxDurationInSeconds: 900,
  maxBytesPerSession: 100_000_000,
  storage: { storageAccountId: STORAGE_ID, containerPath: "captures/flowtap" },
});

function request(overrides: Partial<CaptureRequest> = {}): CaptureRequest {
  return { vmResourceId: vmId("web-1"), reason: "fta-0123456789abcdef", ...overrides };
}

describe("capture policy configuration", () => {
  it("fills defaults around the required storage", () => {
    // Act
    const minimal = validateCapturePolicyConfig({ storage: { storageAccountId: STORAGE_ID } });
    // Assess
    expect(minimal).toEqual({
      maxConcurrentCaptures: 2,
      cooldownInMinutes: 60,
      maxDurationInSeconds: 600,
      maxBytesPerSession: 1024 ** 3,
      bytesToCapturePerPacket: 0,
      keepCaptureResource: false,
      storage: { storageAccountId: STORAGE_ID },
    });
  });

  it.each([
    [{}, "capturePolicy.storage must be an object"],
    [
      { storage: { storageAccountId: "flowtapcaptures" } },
      "capturePolicy.storage.storageAccountId must be a storage account resource id",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID.replace("flowtapcaptures", "Bad_Name") } },
      "capturePolicy.storage.storageAccountId must be a storage account resource id",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID, containerPath: "Captures" } },
      "capturePolicy.storage.containerPath must start with a valid container name (3-63 lower-case letters, digits, " +
        'single hyphens; got "Captures")',
    ],
    [
      { storage: { storageAccountId: STORAGE_ID, blobEndpoint: "ftp://x" } },
      "capturePolicy.storage.blobEndpoint must be an http(s) URL",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID }, maxDurationInSeconds: 18_001 },
      "capturePolicy.maxDurationInSeconds must be at most 18000",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID }, maxConcurrentCaptures: 0 },
      "capturePolicy.maxConcurrentCaptures must be a positive integer",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID }, bytesToCapturePerPacket: -1 },
      "capturePolicy.bytesToCapturePerPacket must be a positive integer",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID }, allowedSubscriptions: SUB },
      "capturePolicy.allowedSubscriptions must be an array",
    ],
    [
      { storage: { storageAccountId: STORAGE_ID }, keepCaptureResource: "no" },
      "capturePolicy.keepCaptureResource must be true or false",
    ],
    [{ storage: { storageAccountId: STORAGE_ID }, maxDuration: 5 }, "capturePolicy.maxDuration is not a known setting"],
  ])("refuses %j naming the path", (value, message) => {
    // Act/Assess
    expect(() => validateCapturePolicyConfig(value)).toThrow(expect.objectContaining({ code: "Configuration" }));
    expect(() => validateCapturePolicyConfig(value)).toThrow(message);
  });
});

describe("decideCapture", () => {
  it("allows a capture and plans the Network Watcher body: name, storage path, clamped limits", () => {
    // Act
    const result = decideCapture(
      request({ durationInSeconds: 99_999, maxSizeInBytes: 5_000 }),
      emptyCapturePolicyState(),
      config,
      NOW,
    );
    // Assess
    expect(result.decision).toBe("allowed");
    if (result.decision !== "allowed") return;
    const name = result.plan.name;
    expect(name).toMatch(/^flowtap-web-1-20261122T124607-[0-9a-f]{8}$/);
    expect(result.plan.blobPath).toBe(`captures/flowtap/rg-web/web-1/2026-11-22T12-46/${name}.cap`);
    expect(result.plan.parameters).toEqual({
      target: vmId("web-1"),
      targetType: "AzureVM",
      bytesToCapturePerPacket: 0,
      totalBytesPerSession: 5_000,
      timeLimitInSeconds: 900,
      storageLocation: {
        storageId: STORAGE_ID,
        storagePath: `https://flowtapcaptures.blob.core.windows.net/${result.plan.blobPath}`,
      },
    });
    expect(result.plan.endsAt).toBe(later(15));
    expect(result.state.active).toEqual([
      { name, vmKey: vmId("web-1").toLowerCase(), startedAt: NOW, endsAt: later(15) },
    ]);
  });

  it("uses the policy caps when the request names no limits, and a configured blob endpoint", () => {
    // Prepare
    const local = validateCapturePolicyConfig({
      storage: { storageAccountId: STORAGE_ID, blobEndpoint: "http://127.0.0.1:10000/devstoreaccount1/" },
    });
    // Act
    const result = decideCapture(request(), emptyCapturePolicyState(), local, NOW);
    // Assess
    expect(result.decision === "allowed" && result.plan.parameters).toMatchObject({
      timeLimitInSeconds: 600,
      totalBytesPerSession: 1024 ** 3,
      storageLocation: {
        storagePath: expect.stringMatching(
          /^http:\/\/127\.0\.0\.1:10000\/devstoreaccount1\/packet-captures\/rg-web\/web-1\//,
        ),
      },
    });
  });

  it.each([
    [{ allowedSubscriptions: ["99999999-0000-0000-0000-000000000000"] }, "notAllowlisted"],
    [{ allowedResourceGroups: ["rg-db"] }, "notAllowlisted"],
    [{ allowedResourceGroups: [`/subscriptions/${SUB}/resourceGroups/rg-db`] }, "notAllowlisted"],
    [{ allowedSubscriptions: [SUB.toUpperCase()], allowedResourceGroups: ["rg-WEB"] }, "allowed"],
    [{ allowedResourceGroups: [`/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG-WEB`] }, "allowed"],
  ])("applies the allowlist %j case-insensitively", (allowlist, expected) => {
    // Act
    const result = decideCapture(request(), emptyCapturePolicyState(), { ...config, ...allowlist }, NOW);
    // Assess
    expect(result.decision === "refused" ? result.reason : result.decision).toBe(expected);
  });

  it("refuses a second capture of the same VM within the cooldown, not of another VM, and allows it after", () => {
    // Prepare
    const first = decideCapture(request(), emptyCapturePolicyState(), config, NOW);
    // Act
    const sameVm = decideCapture(request({ vmResourceId: vmId("WEB-1", "rg-web") }), first.state, config, later(29));
    const otherVm = decideCapture(request({ vmResourceId: vmId("web-2") }), first.state, config, later(1));
    const afterCooldown = decideCapture(request(), first.state, config, later(30));
    // Assess
    expect(sameVm).toMatchObject({ decision: "refused", reason: "cooldown" });
    expect(otherVm.decision).toBe("allowed");
    expect(afterCooldown.decision).toBe("allowed");
  });

  it("caps concurrent captures until one ends or is released", () => {
    // Prepare
    const shortCaptures = { ...config, maxConcurrentCaptures: 1, maxDurationInSeconds: 60 };
    const first = decideCapture(request(), emptyCapturePolicyState(), shortCaptures, NOW);
    if (first.decision !== "allowed") throw new Error("first capture refused");
    // Act
    const whileRunning = decideCapture(
      request({ vmResourceId: vmId("web-2") }),
      first.state,
      shortCaptures,
      later(0.5),
    );
    const afterEnd = decideCapture(request({ vmResourceId: vmId("web-2") }), first.state, shortCaptures, later(1));
    const afterRelease = decideCapture(
      request({ vmResourceId: vmId("web-2") }),
      releaseCapture(first.state, first.plan.name),
      shortCaptures,
      later(0.5),
    );
    // Assess
    expect(whileRunning).toMatchObject({ decision: "refused", reason: "concurrencyCap" });
    expect(afterEnd.decision).toBe("allowed");
    expect(afterRelease.decision).toBe("allowed");
  });

  it("plans a scale set instance as an AzureVMSS capture of its scale set scoped to the instance", () => {
    // Prepare
    const scaleSetId =
      `/subscriptions/${SUB}/resourceGroups/RG-Web/providers/Microsoft.Compute/` + "virtualMachineScaleSets/web";
    const instance = `${scaleSetId}/virtualMachines/12`;
    // Act
    const first = decideCapture(request({ vmResourceId: instance }), emptyCapturePolicyState(), config, NOW);
    const sibling = decideCapture(
      request({ vmResourceId: `${scaleSetId}/virtualMachines/13` }),
      first.state,
      config,
      NOW,
    );
    const again = decideCapture(request({ vmResourceId: instance.toUpperCase() }), first.state, config, later(1));
    // Assess: one instance's cooldown is its own, as a VM's is.
    expect(first.decision === "allowed" && first.plan).toMatchObject({
      name: expect.stringMatching(/^flowtap-web_12-20261122T124607-[0-9a-f]{8}$/),
      blobPath: expect.stringMatching(/^captures\/flowtap\/rg-web\/web_12\//),
      parameters: { target: scaleSetId, targetType: "AzureVMSS", scope: { include: ["12"] } },
    });
    expect(sibling.decision).toBe("allowed");
    expect(again).toMatchObject({ decision: "refused", reason: "cooldown" });
  });

  it("refuses a target that is not a VM", () => {
    // Prepare
    const nic = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic-1`;
    // Act/Assess
    expect(() => decideCapture(request({ vmResourceId: nic }), emptyCapturePolicyState(), config, NOW)).toThrow(
      ValidationError,
    );
  });
});

describe("capture names and filters", () => {
  it("names are ARM-safe, at most 80 characters, and deterministic", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 120 }),
        fc.string({ maxLength: 20 }),
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        (vmName, group, when) => {
          // Act
          const name = captureName(vmId(vmName, group), vmName, when.toISOString());
          // Assess
          expect(name.length).toBeLessThanOrEqual(80);
          expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]$/);
          expect(captureName(vmId(vmName, group), vmName, when.toISOString())).toBe(name);
        },
      ),
    );
  });

  it("keeps equal VM names in different resource groups apart", () => {
    expect(captureName(vmId("web", "a"), "web", NOW)).not.toBe(captureName(vmId("web", "b"), "web", NOW));
  });

  it("builds filters from a brute-force alert: remote source, local address, target ports, protocol", () => {
    // Prepare: a public source hammering SSH on the target
    const events = eventsInMinute("2026-11-22T12:00:00.000Z", 30, () => ({
      srcIp: "45.33.32.156",
      dstPort: 22,
      decision: "allow",
    }));
    const aggregates = aggregateFlowEvents(events, aggregateOptionsFor(DEFAULT_RULES, "blob#1"));
    const [alert] = applyAggregates(emptyDetectorState(), aggregates, DEFAULT_RULES, { nowIso: NOW }).alerts;
    // Act
    const captureRequest = captureRequestFromAlert(alert, vmId("web-1"));
    const filters = buildCaptureFilters(captureRequest);
    // Assess
    expect(captureRequest).toMatchObject({ reason: alert.id, durationInSeconds: 300 });
    expect(filters).toEqual([
      { protocol: "TCP", localIPAddress: TARGET_IP, remoteIPAddress: "45.33.32.156", localPort: "22" },
    ]);
  });

  it("filters on the sources that crossed the threshold and their ports, not on benign remotes beside them", () => {
    // Prepare: one public source hammering SSH, two others with a few RDP logins in the same minute
    const events = [
      ...eventsInMinute("2026-11-22T12:00:00.000Z", 30, () => ({
        srcIp: "45.33.32.156",
        dstPort: 22,
        decision: "allow",
      })),
      ...eventsInMinute("2026-11-22T12:00:00.000Z", 3, () => ({
        srcIp: "52.10.0.1",
        dstPort: 3389,
        decision: "allow",
      })),
      ...eventsInMinute("2026-11-22T12:00:00.000Z", 2, () => ({
        srcIp: "52.10.0.2",
        dstPort: 3389,
        decision: "allow",
      })),
    ];
    const aggregates = aggregateFlowEvents(events, aggregateOptionsFor(DEFAULT_RULES, "blob#1"));
    const [alert] = applyAggregates(emptyDetectorState(), aggregates, DEFAULT_RULES, { nowIso: NOW }).alerts;
    // Act
    const captureRequest = captureRequestFromAlert(alert, vmId("web-1"));
    const filters = buildCaptureFilters(captureRequest);
    // Assess: the evidence lists all three, the capture only the offender and the port it hit
    expect(alert.evidence.remotes.map((remote) => remote.ip)).toEqual(["45.33.32.156", "52.10.0.1", "52.10.0.2"]);
    expect(captureRequest).toMatchObject({ remoteIps: ["45.33.32.156"], localPorts: [22] });
    expect(filters).toEqual([
      { protocol: "TCP", localIPAddress: TARGET_IP, remoteIPAddress: "45.33.32.156", localPort: "22" },
    ]);
  });

  it("uses one filter per transport protocol, Any for others, and drops lists too long to filter on", () => {
    // Prepare
    const manyPorts = Array.from({ length: 11 }, (_, index) => index + 1);
    // Act
    const both = buildCaptureFilters({
      vmResourceId: "",
      reason: "",
      remoteIps: ["52.1.1.1", "not-an-ip", "2606:4700::1111"],
      remotePorts: [443],
      protocols: ["udp", "TCP"],
    });
    const icmp = buildCaptureFilters({
      vmResourceId: "",
      reason: "",
      localPorts: manyPorts,
      remoteIps: ["52.1.1.1"],
      protocols: ["ICMP", "TCP"],
    });
    const nothing = buildCaptureFilters({ vmResourceId: "", reason: "" });
    // Assess
    expect(both).toEqual([
      { protocol: "TCP", remoteIPAddress: "52.1.1.1;2606:4700::1111", remotePort: "443" },
      { protocol: "UDP", remoteIPAddress: "52.1.1.1;2606:4700::1111", remotePort: "443" },
    ]);
    expect(icmp).toEqual([{ protocol: "Any", remoteIPAddress: "52.1.1.1" }]);
    expect(nothing).toEqual([]);
  });
});
