import { describe, expect, it } from "vitest";
import { buildTopology } from "../../../devhost/generate";

describe("buildTopology", () => {
  it("is deterministic for a seed and differs for another seed", () => {
    // Prepare / Act
    const first = buildTopology({ seed: 7, nics: 6 });
    const again = buildTopology({ seed: 7, nics: 6 });
    const other = buildTopology({ seed: 8, nics: 6 });

    // Assess
    expect(again).toEqual(first);
    expect(other.nics.map((nic) => nic.macAddress)).not.toEqual(first.nics.map((nic) => nic.macAddress));
    expect(other.subscriptions[0]?.subscriptionId).not.toBe(first.subscriptions[0]?.subscriptionId);
  });

  it("gives distinct upper-case MACs and addresses, and both flow-log kinds in every resource group", () => {
    // Act
    const topology = buildTopology({ seed: 1, nics: 1000, subscriptions: 3 });

    // Assess
    const macs = topology.nics.map((nic) => nic.macAddress);
    expect(macs.every((mac) => /^[0-9A-F]{12}$/.test(mac))).toBe(true);
    expect(new Set(macs).size).toBe(1000);
    expect(new Set(topology.nics.map((nic) => nic.privateIp)).size).toBe(1000);
    const kindsByGroup = new Map<string, Set<string>>();
    for (const nic of topology.nics) {
      const key = `${nic.subscriptionId}/${nic.resourceGroup}`;
      kindsByGroup.set(key, (kindsByGroup.get(key) ?? new Set()).add(nic.kind));
    }
    expect(kindsByGroup.size).toBe(6);
    for (const kinds of kindsByGroup.values()) expect([...kinds].sort()).toEqual(["nsg", "vnet"]);
  });

  it("names NSG and flow-log resources as the service writes them", () => {
    // Act
    const [nsgNic, vnetNic] = buildTopology({ seed: 3, nics: 2 }).nics;

    // Assess
    expect(nsgNic?.kind).toBe("nsg");
    expect(nsgNic?.nsgResourceId).toMatch(
      new RegExp(
        [
          "^/SUBSCRIPTIONS/[0-9A-F-]{36}/RESOURCEGROUPS/[A-Z0-9-]+",
          "/PROVIDERS/MICROSOFT\\.NETWORK/NETWORKSECURITYGROUPS/[A-Z0-9-]+$",
        ].join(""),
      ),
    );
    expect(vnetNic?.kind).toBe("vnet");
    expect(vnetNic?.flowLogResourceId).toMatch(
      new RegExp(
        [
          "^/SUBSCRIPTIONS/[0-9A-F-]{36}/RESOURCEGROUPS/NETWORKWATCHERRG",
          "/PROVIDERS/MICROSOFT\\.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_[A-Z0-9]+/FLOWLOGS/[A-Z0-9-]+$",
        ].join(""),
      ),
    );
    expect(vnetNic?.targetResourceId).toMatch(
      new RegExp(
        [
          "^/subscriptions/[0-9a-f-]{36}/resourceGroups/[a-z0-9-]+",
          "/providers/Microsoft\\.Network/virtualNetworks/[a-z0-9-]+$",
        ].join(""),
      ),
    );
  });

  it("rejects a bad NIC count, naming it", () => {
    expect(() => buildTopology({ seed: 1, nics: 0 })).toThrow(/nics must be an integer/);
    expect(() => buildTopology({ seed: 1, nics: 2.5 })).toThrow(/nics must be an integer/);
    expect(() => buildTopology({ seed: 1, nics: 2, subscriptions: 0 })).toThrow(/subscriptions must be an integer/);
  });
});
