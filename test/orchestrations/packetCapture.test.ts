/**
 * The packet capture orchestration and its entities on the local host: the concurrency cap
 * across instances (capture gate), a capture that fails on the agent side, keeping the
 * capture resource, an unconfigured policy, and the detector and gate operations.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ArmFailureMode, ArmFailureTarget } from "../../devhost/arm";
import { buildTopology } from "../../devhost/generate";
import { EntityNames } from "../../src/contracts/names";
import {
  commonAlert,
  seedOf,
  startCaptureSystem,
  vmIdOf,
  type CaptureSystem,
  type StartCaptureSystemOptions,
} from "../scenarios/capture/captureSystem";
import { CAPTURE_GATE_KEY, DetectorOperations, packetCaptureInstanceId } from "../../src/contracts/captureContracts";

const topology = buildTopology({ seed: 21, nics: 4 });
const [first, second] = topology.nics as [(typeof topology.nics)[number], (typeof topology.nics)[number]];

let system: CaptureSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

async function start(options: Partial<StartCaptureSystemOptions> = {}): Promise<CaptureSystem> {
  system = await startCaptureSystem({ seed: seedOf(topology.nics), ...options });
  return system;
}

async function fire(current: CaptureSystem, vmId: string): Promise<void> {
  const response = await current.postAlert(JSON.stringify(commonAlert([vmId])));
  expect(response.status).toBe(202);
  await current.host.waitForIdle();
}

type Report = {
  type: string;
  reason: string | null;
  message: string;
  target: { vmResourceId: string };
  capture: { name: string; status: string; errors: string[]; resourceKept: boolean } | null;
};
const reports = (current: CaptureSystem): Report[] => current.captureReports() as unknown as Report[];

describe("packetCapture orchestration", () => {
  it("refuses a capture over the concurrency cap while another runs, and frees the slot when it ends", async () => {
    // Prepare: one capture at a time; the clock waits so the first one is running.
    const current = await start({ policy: { maxConcurrentCaptures: 1 }, autoAdvance: false });
    await fire(current, vmIdOf(first));

    // Act
    await fire(current, vmIdOf(second));
    current.host.virtualClock.autoAdvance = true;
    current.host.virtualClock.advanceToNextTimer();
    await current.host.waitForIdle();
    const gate = current.host.getEntityState(EntityNames.captureGate, CAPTURE_GATE_KEY) as { active: unknown[] };

    // Assess
    expect(reports(current).map((report) => [report.type, report.reason, report.target.vmResourceId])).toEqual([
      ["flowtap.captureRefused", "concurrencyCap", vmIdOf(second)],
      ["flowtap.captureCompleted", null, vmIdOf(first)],
    ]);
    expect(gate.active).toEqual([]);
  });

  it("reports a capture the agent fails as failed with its error codes, and still deletes it", async () => {
    // Prepare
    const current = await start({ autoAdvance: false });
    await fire(current, vmIdOf(first));
    const [put] = current.armRequests("PUT", "/packetCaptures/");
    current.arm.failPacketCapture(put!.path.split("/").pop()!, ["StorageFailed"]);

    // Act
    current.host.virtualClock.autoAdvance = true;
    current.host.virtualClock.advanceToNextTimer();
    await current.host.waitForIdle();

    // Assess
    const [report] = reports(current);
    expect(report).toMatchObject({
      type: "flowtap.captureFailed",
      reason: "captureError",
      capture: { status: "Error", errors: ["StorageFailed"] },
    });
    expect(current.armRequests("POST", "/stop")).toEqual([]);
    expect(current.armRequests("DELETE", "/packetCaptures/")).toHaveLength(1);
  });

  it("keeps the capture resource when the policy says so", async () => {
    const current = await start({ policy: { keepCaptureResource: true } });

    await fire(current, vmIdOf(first));

    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureCompleted", capture: { resourceKept: true } });
    expect(current.armRequests("DELETE", "/packetCaptures/")).toEqual([]);
    const kept = [];
    for await (const capture of current
      .network(first.subscriptionId)
      .packetCaptures.list("NetworkWatcherRG", `NetworkWatcher_${first.region}`))
      kept.push(capture.name);
    expect(kept).toEqual([report!.capture!.name]);
  });

  it("refuses every capture, without calling ARM, when FLOWTAP_CAPTURE_POLICY is not set", async () => {
    const current = await start({ settings: { FLOWTAP_CAPTURE_POLICY: "" } });

    await fire(current, vmIdOf(first));

    expect(reports(current)).toEqual([
      expect.objectContaining({ type: "flowtap.captureRefused", reason: "notConfigured" }),
    ]);
    expect(current.arm.requests).toEqual([]);
  });
});

describe("settings at start", () => {
  it.each([
    [{ FLOWTAP_RULES: '{"rules":[{"id":"x"}]}' }, /Setting FLOWTAP_RULES: rules\[0\]\.kind must be a non-empty string/],
    [
      { FLOWTAP_CAPTURE_POLICY: '{"storage":{}}' },
      /Setting FLOWTAP_CAPTURE_POLICY\.storage\.storageAccountId must be a non-empty string/,
    ],
  ])("the app does not start with a bad rule or policy, and says which setting (%#)", async (settings, message) => {
    await expect(start({ settings })).rejects.toThrow(message);
  });
});

describe("detector and gate operations", () => {
  it("get returns the detector state, reset empties it, an unknown operation changes nothing", async () => {
    const current = await start();
    const key = "000D3A000001";
    const aggregate = {
      v: 1,
      sourceId: "blob#1",
      minute: "2026-11-22T10:00:00.000Z",
      target: { key, mac: key, resourceId: null },
      localIps: ["10.0.0.4"],
      nsgNames: [],
      flowLogNames: [],
      inbound: {},
      egress: { bytes: 10, remotes: {} },
      droppedSources: 0,
    };
    await current.host.signalEntity(EntityNames.detector, key, DetectorOperations.ingest, {
      aggregates: [aggregate],
      historic: false,
      nowIso: "2026-11-22T10:01:00Z",
    });
    await current.host.waitForIdle();
    const ingested = current.host.getEntityState(EntityNames.detector, key) as {
      detector: { latestMinute: string; localIps: string[] };
    };

    await current.host.signalEntity(EntityNames.detector, key, "explode", {});
    await current.host.waitForIdle();
    const afterUnknown = current.host.getEntityState(EntityNames.detector, key);
    await current.host.signalEntity(EntityNames.detector, key, DetectorOperations.reset);
    await current.host.waitForIdle();

    expect(ingested.detector).toMatchObject({ latestMinute: "2026-11-22T10:00:00.000Z", localIps: ["10.0.0.4"] });
    expect(afterUnknown).toEqual(ingested);
    expect(current.host.getEntityState(EntityNames.detector, key)).toMatchObject({
      detector: { latestMinute: null, localIps: [] },
      pending: [],
    });
  });

  it("refuses a malformed ingest input, keeping the state", async () => {
    const current = await start();

    await current.host.signalEntity(EntityNames.detector, "000D3A000002", DetectorOperations.ingest, {
      aggregates: "many",
      historic: false,
      nowIso: "2026-11-22T10:01:00Z",
    });
    await current.host.waitForIdle();

    expect(current.host.getEntityState(EntityNames.detector, "000D3A000002")).toBeUndefined();
    expect(current.eventsOfType("flowtap.anomaly")).toEqual([]);
  });
});

describe("what the capture does with each ARM failure mode", () => {
  // Every PUT of the first capture (its name, then suffixed names) matches.
  const put = { method: "PUT", path: "/packetCaptures/" };

  it.each<[string, ArmFailureMode, ArmFailureTarget]>([
    ["429 on create", "throttled", { ...put, count: 1 }],
    ["409 AnotherOperationInProgress on create", "anotherOperationInProgress", { ...put, count: 1 }],
    ["a dropped connection beyond the SDK's retries", "connectionReset", { ...put, count: 4 }],
    ["a create whose operation ends Failed with InternalServerError", "operationInternalError", { ...put, count: 1 }],
    ["AnotherOperationInProgress on stop", "anotherOperationInProgress", { method: "POST", path: "/stop", count: 1 }],
    ["429 on the status query", "throttled", { method: "POST", path: "/queryStatus", count: 1 }],
  ])("retries %s, then completes", async (_what, mode, target) => {
    // Prepare
    const current = await start();
    current.arm.injectFailure(mode, target);

    // Act
    await fire(current, vmIdOf(first));

    // Assess: it did meet the failure (an error answer or a dropped connection), and completed.
    expect(reports(current)).toEqual([expect.objectContaining({ type: "flowtap.captureCompleted", reason: null })]);
    expect(current.arm.requests.filter((request) => request.statusCode >= 400 || request.statusCode === 0)).not.toEqual(
      [],
    );
  });

  it.each<[string, ArmFailureMode, ArmFailureTarget, string]>([
    ["the agent missing", "agentNotInstalled", { ...put, count: 1 }, "PacketCaptureAgentNotInstalled"],
    ["a storage failure of the create operation", "storageFailed", { ...put, count: 1 }, "StorageFailed"],
    ["the per-region session limit", "sessionLimitReached", { ...put, count: 1 }, "PacketCaptureSessionLimitReached"],
    [
      "AnotherOperationInProgress on every attempt",
      "anotherOperationInProgress",
      { ...put, count: 100 },
      "AnotherOperationInProgress",
    ],
  ])("reports %s as a failed create with the ARM code", async (_what, mode, target, code) => {
    // Prepare
    const current = await start();
    current.arm.injectFailure(mode, target);

    // Act
    await fire(current, vmIdOf(first));

    // Assess
    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureFailed", reason: "create" });
    expect(report!.message).toContain(`${code}: `);
    expect(current.host.getEntityState(EntityNames.captureGate, CAPTURE_GATE_KEY)).toMatchObject({ active: [] });
  });

  it("reports a status query that keeps failing as failed with the code, and still stops and deletes", async () => {
    // Prepare
    const current = await start();
    current.arm.injectFailure("internalServerError", { method: "POST", path: "/queryStatus", count: 100 });

    // Act
    await fire(current, vmIdOf(first));

    // Assess
    const [report] = reports(current);
    expect(report).toMatchObject({ type: "flowtap.captureFailed", reason: "status" });
    expect(report!.message).toContain("InternalServerError: ");
    expect(current.armRequests("POST", "/stop")).toHaveLength(1);
    expect(current.armRequests("DELETE", "/packetCaptures/")).toHaveLength(1);
  });
});

describe("waits between transient attempts", () => {
  it("doubles the wait from 30 s, and waits longer when Retry-After asks for it", async () => {
    // Prepare: a 409 AnotherOperationInProgress asking for 90 s, then one without Retry-After.
    const current = await start();
    const put = {
      method: "PUT",
      path: "/packetCaptures/",
      statusCode: 409,
      count: 1,
      code: "AnotherOperationInProgress",
    };
    current.arm.injectFaults({ ...put, retryAfterInSeconds: 90 }, put);

    // Act
    await fire(current, vmIdOf(first));

    // Assess: timers of 90 s (Retry-After over the first 30 s) and 60 s (the second wait) before the third PUT.
    const history = current.host.getHistory(packetCaptureInstanceId({ resourceId: vmIdOf(first), mac: null })) as {
      EventType: number;
      FireAt?: string;
      Timestamp: string;
    }[];
    const waits = history
      .filter((event) => event.EventType === 10)
      .map((timer) => (Date.parse(timer.FireAt!) - Date.parse(timer.Timestamp)) / 1000);
    expect(waits.slice(0, 2)).toEqual([90, 60]);
    expect(current.armRequests("PUT", "/packetCaptures/").map((request) => request.statusCode)).toEqual([
      409, 409, 201,
    ]);
    expect(reports(current)).toEqual([expect.objectContaining({ type: "flowtap.captureCompleted" })]);
  });
});
