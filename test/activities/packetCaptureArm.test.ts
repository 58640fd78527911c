/**
 * The ARM activities against the local ARM endpoint through the real NetworkManagementClient
 * (built by src/adapters/arm.ts from settings): target resolution by VM, NIC and MAC (over
 * paged listings), 409 adoption of our own capture, and what ARM answers become.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvocationContext } from "@azure/functions";
import {
  MAX_NAME_SUFFIXES,
  makeCreatePacketCapture,
  makeResolveCaptureTarget,
  retryAfterInSeconds,
  type PacketCaptureArmDeps,
} from "../../activities/packetCaptureArm";
import { createArmClients } from "../../src/adapters/arm";
import { readArmSettings } from "../../src/config";
import { buildTopology } from "../../devhost/generate";
import { startArmEndpoint, type ArmEndpoint, type ArmFailureMode } from "../../devhost/arm";
import { nicIdOf, scaleSetNear, seedOf, vmIdOf } from "../scenarios/capture/captureSystem";
import {
  ArmStep,
  CreatePacketCaptureInput,
  CreatedPacketCapture,
  ResolveCaptureTargetInput,
  ResolvedCaptureTarget,
} from "../../src/contracts/captureContracts";

const topology = buildTopology({ seed: 21, nics: 4 });
const nic = topology.nics[2]!;
const scaleSet = scaleSetNear(nic);
const instanceVmId = `${scaleSet.id}/virtualMachines/3`;

let arm: ArmEndpoint;
let deps: PacketCaptureArmDeps;
beforeAll(async () => {
  // Pages of one item: lookups by MAC must follow nextLink.
  arm = await startArmEndpoint({
    seed: { ...seedOf(topology.nics), virtualMachineScaleSets: [scaleSet] },
    listPageSize: 1,
  });
  const clients = createArmClients(
    readArmSettings({
      FLOWTAP_ARM_ENDPOINT: arm.endpoint,
      FLOWTAP_ARM_CA_CERT: arm.caCertificatePem,
      FLOWTAP_ARM_DEV_TOKEN: "t",
      FLOWTAP_ARM_LRO_INTERVAL_MS: "5",
      FLOWTAP_ARM_RETRY_DELAY_MS: "5",
    }),
  );
  deps = { arm: () => clients };
});
afterAll(async () => {
  await arm.stop();
});

const context = () => new InvocationContext();

async function resolve(input: ResolveCaptureTargetInput): Promise<ArmStep<ResolvedCaptureTarget>> {
  return (await makeResolveCaptureTarget(deps)(input, context())) as ArmStep<ResolvedCaptureTarget>;
}

describe("resolveCaptureTarget", () => {
  const expected: ArmStep<ResolvedCaptureTarget> = {
    outcome: "ok",
    value: {
      vm: { resourceId: vmIdOf(nic), name: nic.vmName, location: nic.region },
      hasAgent: true,
      watcher: {
        id:
          `/subscriptions/${nic.subscriptionId}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/` +
          `networkWatchers/NetworkWatcher_${nic.region}`,
        subscriptionId: nic.subscriptionId,
        resourceGroup: "NetworkWatcherRG",
        name: `NetworkWatcher_${nic.region}`,
      },
    },
  };

  it.each([
    ["a VM id", { resourceId: vmIdOf(nic), mac: null }, []],
    ["a NIC id", { resourceId: nicIdOf(nic), mac: null }, []],
    [
      "a MAC with the NSG id of its flow log",
      {
        resourceId:
          `/subscriptions/${nic.subscriptionId}/resourceGroups/${nic.resourceGroup}/providers/Microsoft.Network/` +
          "networkSecurityGroups/nsg",
        mac: nic.macAddress,
      },
      [],
    ],
    [
      "a MAC and the policy's subscriptions",
      { resourceId: null, mac: nic.macAddress.toLowerCase() },
      [nic.subscriptionId],
    ],
  ])("finds the VM and its region's network watcher from %s", async (_what, target, subscriptionIds) => {
    expect(await resolve({ target, subscriptionIds })).toEqual(expected);
  });

  it.each([
    ["its scale set VM id", { resourceId: instanceVmId, mac: null }],
    ["its MAC (a scale set NIC, not in networkInterfaces.listAll)", { resourceId: null, mac: "00-0D-3A-5C-00-01" }],
  ])("finds a scale set instance, its agent and its region's network watcher from %s", async (_what, target) => {
    const step = await resolve({ target, subscriptionIds: [nic.subscriptionId] });

    expect(step).toEqual({
      ...expected,
      value: { ...expected.value, vm: { resourceId: instanceVmId, name: "vmss-web_3", location: nic.region } },
    });
  });

  it.each([
    ["an instance the scale set does not have", `${scaleSet.id}/virtualMachines/7`, /404 .*virtualMachines.*7/],
    ["a scale set that does not exist", instanceVmId.replace("vmss-web", "vmss-ghost"), /404 .*vmss-ghost/],
  ])("fails %s with the reason", async (_what, resourceId, reason) => {
    const step = await resolve({ target: { resourceId, mac: null }, subscriptionIds: [] });

    expect(step.outcome).toBe("failed");
    expect(step.outcome !== "ok" && step.message).toMatch(reason);
  });

  it.each([
    [
      "an unknown MAC",
      { resourceId: null, mac: "00-11-22-33-44-55" },
      [nic.subscriptionId],
      /no network interface with MAC 001122334455/,
    ],
    [
      "a MAC without any subscription",
      { resourceId: null, mac: nic.macAddress },
      [],
      /no subscription known \(set allowedSubscriptions in FLOWTAP_CAPTURE_POLICY\)/,
    ],
    ["a VM that does not exist", { resourceId: vmIdOf({ ...nic, vmName: "ghost" }), mac: null }, [], /404 .*ghost/],
  ])("fails %s with the reason", async (_what, target, subscriptionIds, reason) => {
    const step = await resolve({ target, subscriptionIds });

    expect(step.outcome).toBe("failed");
    expect(step.outcome !== "ok" && step.message).toMatch(reason);
  });
});

describe("createPacketCapture", () => {
  it("adopts a capture of the same name on the same VM after the 409 of its second PUT", async () => {
    // Prepare: the capture exists (an earlier attempt whose answer was lost); a second PUT of its name is a 409.
    const watcher = (await resolve({ target: { resourceId: vmIdOf(nic), mac: null }, subscriptionIds: [] })) as Extract<
      ArmStep<ResolvedCaptureTarget>,
      { outcome: "ok" }
    >;
    const input: CreatePacketCaptureInput = {
      watcher: watcher.value.watcher!,
      name: "flowtap-adopt",
      parameters: {
        target: vmIdOf(nic),
        storageLocation: {
          storageId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/caps",
          storagePath: "https://caps.blob.core.windows.net/packet-captures/flowtap-adopt.cap",
        },
      },
    };
    await deps
      .arm()
      .network(nic.subscriptionId)
      .packetCaptures.beginCreateAndWait(
        input.watcher.resourceGroup,
        input.watcher.name,
        input.name,
        input.parameters,
        { updateIntervalInMs: 5 },
      );
    // Act
    const step = (await makeCreatePacketCapture(deps)(input, context())) as ArmStep<CreatedPacketCapture>;

    // Assess
    expect(step).toEqual({
      outcome: "ok",
      value: { name: "flowtap-adopt", adopted: true, storagePath: input.parameters.storageLocation.storagePath },
    });
  });

  it("creates an AzureVMSS capture scoped to one instance through the real client", async () => {
    // Prepare
    const input: CreatePacketCaptureInput = {
      watcher: {
        id: "w",
        subscriptionId: nic.subscriptionId,
        resourceGroup: "NetworkWatcherRG",
        name: `NetworkWatcher_${nic.region}`,
      },
      name: "flowtap-vmss",
      parameters: {
        target: scaleSet.id,
        targetType: "AzureVMSS",
        scope: { include: ["3"] },
        storageLocation: {
          storageId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/caps",
        },
      },
    };

    // Act
    const step = (await makeCreatePacketCapture(deps)(input, context())) as ArmStep<CreatedPacketCapture>;
    const stored = await deps
      .arm()
      .network(nic.subscriptionId)
      .packetCaptures.get("NetworkWatcherRG", input.watcher.name, "flowtap-vmss");

    // Assess
    expect(step).toMatchObject({ outcome: "ok", value: { name: "flowtap-vmss", adopted: false } });
    expect(stored).toMatchObject({ target: scaleSet.id, targetType: "AzureVMSS", scope: { include: ["3"] } });
  });

  it("reports a VM without the agent as a failure carrying the ARM code", async () => {
    const other = await startArmEndpoint({ seed: seedOf(topology.nics, { withoutAgent: [nic] }) });
    try {
      const clients = createArmClients(
        readArmSettings({
          FLOWTAP_ARM_ENDPOINT: other.endpoint,
          FLOWTAP_ARM_CA_CERT: other.caCertificatePem,
          FLOWTAP_ARM_DEV_TOKEN: "t",
          FLOWTAP_ARM_LRO_INTERVAL_MS: "5",
        }),
      );
      const watcherName = `NetworkWatcher_${nic.region}`;
      const input: CreatePacketCaptureInput = {
        watcher: { id: "w", subscriptionId: nic.subscriptionId, resourceGroup: "NetworkWatcherRG", name: watcherName },
        name: "flowtap-noagent",
        parameters: {
          target: vmIdOf(nic),
          storageLocation: {
            storageId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/caps",
          },
        },
      };

      const step = (await makeCreatePacketCapture({ arm: () => clients })(
        input,
        context(),
      )) as ArmStep<CreatedPacketCapture>;

      expect(step).toMatchObject({ outcome: "failed", statusCode: 400, code: "PacketCaptureAgentNotInstalled" });
    } finally {
      await other.stop();
    }
  });
});

describe("retryAfterInSeconds", () => {
  const now = Date.parse("2026-11-22T11:00:00Z");

  it.each([
    ["delta seconds", "30", 30],
    ["an HTTP date", "Sun, 22 Nov 2026 11:01:00 GMT", 60],
    ["no header", undefined, 10],
    ["nonsense", "soon", 10],
    ["a date in the past", "Sun, 22 Nov 2026 10:00:00 GMT", 1],
    ["a huge delay", "999999", 3600],
  ])("reads %s", (_what, header, seconds) => {
    expect(retryAfterInSeconds(header, now)).toBe(seconds);
  });
});

describe("createPacketCapture classifies every ARM answer", () => {
  const watcherOf = (of: typeof nic) => ({
    id: "w",
    subscriptionId: of.subscriptionId,
    resourceGroup: "NetworkWatcherRG",
    name: `NetworkWatcher_${of.region}`,
  });
  let counter = 0;
  const createInput = (overrides: Partial<CreatePacketCaptureInput["parameters"]> = {}): CreatePacketCaptureInput => {
    counter += 1;
    return {
      watcher: watcherOf(nic),
      name: `flowtap-class-${counter}`,
      parameters: {
        target: vmIdOf(nic),
        timeLimitInSeconds: 60,
        storageLocation: {
          storageId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/caps",
        },
        ...overrides,
      },
    };
  };
  const create = async (input: CreatePacketCaptureInput) =>
    (await makeCreatePacketCapture(deps)(input, context())) as ArmStep<CreatedPacketCapture>;

  it.each<[string, ArmFailureMode, number, Partial<ArmStep<CreatedPacketCapture>>]>([
    ["429 as throttled with its Retry-After", "throttled", 1, { outcome: "throttled", retryAfterInSeconds: 1 }],
    [
      "409 AnotherOperationInProgress as transient",
      "anotherOperationInProgress",
      1,
      { outcome: "transient", statusCode: 409, code: "AnotherOperationInProgress" },
    ],
    [
      "a 5xx the SDK's retries did not overcome as transient",
      "internalServerError",
      4,
      { outcome: "transient", statusCode: 500, code: "InternalServerError" },
    ],
    [
      "a dropped connection (no answer, as a timeout) as transient",
      "connectionReset",
      4,
      { outcome: "transient", code: "ECONNRESET" },
    ],
    [
      "an operation that ended Failed with InternalServerError as transient, with the code from its body",
      "operationInternalError",
      1,
      { outcome: "transient", code: "InternalServerError" },
    ],
    [
      "an operation that ended Failed on storage as failed with its code",
      "storageFailed",
      1,
      { outcome: "failed", code: "StorageFailed" },
    ],
    [
      "the per-region session limit as failed with its code",
      "sessionLimitReached",
      1,
      { outcome: "failed", statusCode: 400, code: "PacketCaptureSessionLimitReached" },
    ],
    [
      "a missing agent as failed with its code",
      "agentNotInstalled",
      1,
      { outcome: "failed", statusCode: 400, code: "PacketCaptureAgentNotInstalled" },
    ],
    [
      "a name clash on every suffixed name as failed Conflict",
      "captureAlreadyExists",
      MAX_NAME_SUFFIXES + 1,
      { outcome: "failed", code: "Conflict" },
    ],
  ])("reports %s", async (_what, mode, count, expected) => {
    // Prepare
    const input = createInput();
    arm.injectFailure(mode, { method: "PUT", path: `/packetCaptures/${input.name}`, count });

    // Act
    const step = await create(input);

    // Assess
    expect(step).toMatchObject(expected);
  });

  it.each<[string, Partial<CreatePacketCaptureInput["parameters"]>, Partial<ArmStep<CreatedPacketCapture>>]>([
    [
      "an invalid body as failed 400 InvalidRequestFormat",
      { timeLimitInSeconds: 99999 },
      { outcome: "failed", statusCode: 400, code: "InvalidRequestFormat" },
    ],
    [
      "a target that does not exist as failed 404 ResourceNotFound",
      { target: vmIdOf({ ...nic, vmName: "ghost" }) },
      { outcome: "failed", statusCode: 404, code: "ResourceNotFound" },
    ],
  ])("reports %s", async (_what, overrides, expected) => {
    expect(await create(createInput(overrides))).toMatchObject(expected);
  });

  it("takes a suffixed name when the capture of that name failed, rather than adopting it", async () => {
    // Prepare: the first attempt's operation ended Failed, leaving the capture in provisioningState Failed.
    const input = createInput();
    arm.injectFailure("operationInternalError", { method: "PUT", path: `/packetCaptures/${input.name}` });
    const first = await create(input);

    // Act
    const second = await create(input);

    // Assess
    expect(first).toMatchObject({ outcome: "transient", code: "InternalServerError" });
    expect(second).toEqual({ outcome: "ok", value: { name: `${input.name}-1`, adopted: false, storagePath: null } });
  });
});
