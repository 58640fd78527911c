/**
 * Enrichment's NIC directory through the app's real ARM client (`@azure/arm-network`,
 * networkInterfaces.listAll and each scale set's NIC list) against the local ARM endpoint: one listing answers
 * every MAC of a subscription and is cached for the TTL, the cache stays within its bound, a scale set
 * instance's MAC resolves to the instance, and a failed listing leaves the fields null without throwing, and is
 * not repeated within the TTL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startArmEndpoint,
  type ArmEndpoint,
  type ArmSeed,
  type VirtualMachineScaleSetSeed,
  type VirtualMachineSeed,
} from "../../devhost/arm";
import { createArmClients, listAllNetworkInterfaces, type ArmClients } from "../../src/adapters/arm";
import { NicDirectory } from "../../src/adapters/nicDirectory";
import { readArmSettings } from "../../src/config";
import { NO_ENRICHMENT } from "../../src/core/event";

const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const MISSING_SUBSCRIPTION = "99999999-2222-3333-4444-555555555555";
const group = `/subscriptions/${SUBSCRIPTION}/resourceGroups/app-rg/providers`;
const vnetId = `${group}/Microsoft.Network/virtualNetworks/vnet-app`;
const vmOf = (index: number): VirtualMachineSeed => ({
  id: `${group}/Microsoft.Compute/virtualMachines/vm-${index}`,
  location: "eastus",
  networkWatcherExtension: true,
  nics: [
    {
      id: `${group}/Microsoft.Network/networkInterfaces/nic-${index}`,
      mac: `00-0D-3A-00-00-0${index}`,
      privateIp: `10.0.0.${index + 4}`,
      subnetId: `${vnetId}/subnets/default`,
    },
  ],
});
const seed: ArmSeed = { subscriptions: [{ id: SUBSCRIPTION }], virtualMachines: [1, 2, 3, 4].map(vmOf) };
const scaleSet: VirtualMachineScaleSetSeed = {
  id: `${group}/Microsoft.Compute/virtualMachineScaleSets/vmss-app`,
  location: "eastus",
  networkWatcherExtension: true,
  instances: ["0", "1"].map((instanceId) => ({
    instanceId,
    nics: [{ name: "nic", mac: `00-0D-3A-00-01-0${instanceId}`, privateIp: `10.0.1.${4 + Number(instanceId)}` }],
  })),
};
scaleSet.instances[1]!.nics[0]!.subnetId = `${vnetId}/subnets/scale`;
const MAC = (index: number): string => `000D3A00000${index}`;

/** The app's ARM clients for an endpoint, as createArmClients builds them from settings. */
const clientsOf = (endpoint: ArmEndpoint): ArmClients =>
  createArmClients(
    readArmSettings({
      FLOWTAP_ARM_ENDPOINT: endpoint.endpoint,
      FLOWTAP_ARM_CA_CERT: endpoint.caCertificatePem,
      FLOWTAP_ARM_DEV_TOKEN: "test-token",
      FLOWTAP_ARM_RETRY_DELAY_MS: "5",
    }),
  );

let arm: ArmEndpoint;
let clients: ArmClients;
beforeAll(async () => {
  arm = await startArmEndpoint({ seed, port: 0 });
  clients = clientsOf(arm);
});
afterAll(() => arm.stop());

function directory(options: { maxEntries?: number; now?: () => number; through?: ArmClients } = {}): NicDirectory {
  const through = options.through ?? clients;
  return new NicDirectory({
    listNics: (subscriptionId) => listAllNetworkInterfaces(through, subscriptionId),
    ttlInMs: 60_000,
    maxEntries: options.maxEntries ?? 100,
    waitInMs: 5_000,
    ...(options.now && { now: options.now }),
  });
}

const nicListings = (since: number): number =>
  arm.requests.slice(since).filter((request) => /\/networkInterfaces$/i.test(request.path)).length;

describe("NicDirectory through the real ARM client", () => {
  it("resolves a MAC to its NIC, VM, subnet and VNet with one listing for the whole subscription", async () => {
    // Prepare
    const nics = directory();
    const start = arm.requests.length;
    // Act
    await nics.prefetch(SUBSCRIPTION, MAC(1));
    await nics.prefetch(SUBSCRIPTION, MAC(2));
    // Assess
    expect(nics.lookup(MAC(2), null)).toEqual({
      nicId: `${group}/Microsoft.Network/networkInterfaces/nic-2`,
      vmId: `${group}/Microsoft.Compute/virtualMachines/vm-2`,
      subnetId: `${vnetId}/subnets/default`,
      vnetId,
    });
    expect(nics.lookup(null, `${group}/Microsoft.Network/networkInterfaces/NIC-3`).vmId).toMatch(/vm-3$/);
    expect(nics.lookup("000D3AFFFFFF", null)).toBe(NO_ENRICHMENT);
    expect(nicListings(start)).toBe(1);
  });

  it("shares one listing between concurrent misses and lists again only after the TTL", async () => {
    // Prepare
    let now = 1_000_000;
    const nics = directory({ now: () => now });
    const start = arm.requests.length;
    // Act
    await Promise.all([1, 2, 3, 4].map((index) => nics.prefetch(SUBSCRIPTION, MAC(index))));
    await nics.prefetch(SUBSCRIPTION, "000D3AFFFFFF"); // unknown, but listed within the TTL: no new listing
    const listingsWithinTtl = nicListings(start);
    now += 60_001;
    const expired = nics.lookup(MAC(1), null);
    await nics.prefetch(SUBSCRIPTION, MAC(1));
    // Assess
    expect(listingsWithinTtl).toBe(1);
    expect(expired).toBe(NO_ENRICHMENT);
    expect(nics.lookup(MAC(1), null).nicId).toMatch(/nic-1$/);
    expect(nicListings(start)).toBe(2);
  });

  it("keeps at most maxEntries NICs, the least recently used out first", async () => {
    // Prepare
    const nics = directory({ maxEntries: 2 });
    // Act
    await nics.prefetch(SUBSCRIPTION, MAC(1));
    // Assess: the listing order is 1..4, so 3 and 4 stay.
    expect(nics.size).toBe(2);
    expect([1, 2, 3, 4].map((index) => nics.lookup(MAC(index), null).nicId !== null)).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it("resolves a scale set instance's MAC to its NIC, the scale set VM, subnet and VNet", async () => {
    // Prepare: Uniform scale set NICs are not in networkInterfaces.listAll.
    const withScaleSet = await startArmEndpoint({ seed: { ...seed, virtualMachineScaleSets: [scaleSet] }, port: 0 });
    const nics = directory({ through: clientsOf(withScaleSet) });
    const instanceVmId = `${scaleSet.id}/virtualMachines/1`;
    try {
      // Act
      await nics.prefetch(SUBSCRIPTION, "000D3A000101");
      // Assess
      expect(nics.lookup("000D3A000101", null)).toEqual({
        nicId: `${instanceVmId}/networkInterfaces/nic`,
        vmId: instanceVmId,
        subnetId: `${vnetId}/subnets/scale`,
        vnetId,
      });
      expect(nics.lookup(MAC(1), null).vmId).toMatch(/virtualMachines\/vm-1$/);
      expect(nics.size).toBe(6);
      const listings = withScaleSet.requests.map((request) => request.path.split("/providers/")[1]);
      expect(listings).toEqual([
        "Microsoft.Network/networkInterfaces",
        "Microsoft.Compute/virtualMachineScaleSets",
        "microsoft.Compute/virtualMachineScaleSets/vmss-app/networkInterfaces",
      ]);
    } finally {
      await withScaleSet.stop();
    }
  });

  it("keeps the NICs already listed and leaves the rest null when a scale set listing fails", async () => {
    // Prepare
    const failing = await startArmEndpoint({ seed: { ...seed, virtualMachineScaleSets: [scaleSet] }, port: 0 });
    failing.injectFaults({ path: /virtualMachineScaleSets\/[^/]+\/networkInterfaces$/, statusCode: 500, count: 1000 });
    const nics = directory({ through: clientsOf(failing) });
    try {
      // Act
      await nics.prefetch(SUBSCRIPTION, "000D3A000101");
      // Assess
      expect(nics.lookup("000D3A000101", null)).toBe(NO_ENRICHMENT);
      expect(nics.lookup(MAC(2), null).vmId).toMatch(/vm-2$/);
    } finally {
      await failing.stop();
    }
  });

  it("leaves the fields null when ARM fails, without throwing, and does not ask again within the TTL", async () => {
    // Prepare: an ARM whose NIC listings fail (500, retried by the SDK, then given up).
    const failing = await startArmEndpoint({ seed, port: 0 });
    failing.injectFaults({ path: /networkInterfaces$/, statusCode: 500, count: 1000 });
    const nics = directory({ through: clientsOf(failing) });
    try {
      // Act
      await nics.prefetch(SUBSCRIPTION, MAC(1));
      const requestsAfterFailure = failing.requests.length;
      await nics.prefetch(SUBSCRIPTION, MAC(2));
      await nics.prefetch(MISSING_SUBSCRIPTION, MAC(1));
      // Assess
      expect(nics.lookup(MAC(1), null)).toBe(NO_ENRICHMENT);
      expect(failing.requests.slice(0, requestsAfterFailure).every((request) => request.statusCode === 500)).toBe(true);
      const later = failing.requests.slice(requestsAfterFailure);
      expect(later.every((request) => request.path.includes(MISSING_SUBSCRIPTION))).toBe(true);
    } finally {
      await failing.stop();
    }
  });

  it("never waits longer than waitInMs for a listing", async () => {
    // Prepare: a listing that never ends.
    const nics = new NicDirectory({
      listNics: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => undefined) }) }),
      ttlInMs: 60_000,
      maxEntries: 10,
      waitInMs: 20,
    });
    // Act
    await nics.prefetch(SUBSCRIPTION, MAC(1));
    // Assess
    expect(nics.lookup(MAC(1), null)).toBe(NO_ENRICHMENT);
  });
});
