import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  eventsOf,
  flattenFlowLog,
  MAX_FIELD_BYTES,
  NETWORK_SESSION_COLUMNS,
  oversizedFieldOf,
  toNetworkSessionRow,
  vmNameOf,
  type FlowEvent,
  type LogAnalyticsType,
  type RowValue,
} from "../../../src/core";
import { fixturePath, readFixture, skipAllWithoutFixtures } from "../flowLogFixtures";

const VM_ID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/web-1";
const NIC_ID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/web-1-nic";
const SUBNET_ID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/a";
const enrich = () => ({ nicId: NIC_ID, vmId: VM_ID, subnetId: SUBNET_ID, vnetId: null });

function eventsOfFixture(folder: string, file: string): FlowEvent[] {
  return eventsOf(flattenFlowLog(readFixture(`${folder}/${file}`), { enrich }));
}

function fixtureFiles(folder: string): string[] {
  return readdirSync(fixturePath(folder)).filter((name) => name.endsWith(".json"));
}

const INT32_MAX = 2 ** 31 - 1;

/** Whether a value is what Log Analytics takes for a column of this type (null: empty). */
function fitsType(value: RowValue, type: LogAnalyticsType): boolean {
  if (value === null) return true;
  switch (type) {
    case "string":
      return typeof value === "string";
    case "int":
      return Number.isInteger(value) && Math.abs(value as number) <= INT32_MAX;
    case "long":
      return Number.isSafeInteger(value);
    case "datetime":
      return typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value);
    case "dynamic":
      return typeof value === "object";
    default:
      return false;
  }
}

describe("ASIM Network Session rows from the real flow-log samples", () => {
  skipAllWithoutFixtures();

  for (const folder of ["nsg-v1", "nsg-v2", "vnet"]) {
    it(`${folder}: every row has exactly the declared columns, each of its declared type`, () => {
      // Prepare
      const events = fixtureFiles(folder).flatMap((file) => eventsOfFixture(folder, file));
      expect(events.length).toBeGreaterThan(0);
      // Act
      const rows = events.map(toNetworkSessionRow);
      // Assess
      const names = NETWORK_SESSION_COLUMNS.map((column) => column.name);
      for (const row of rows) {
        expect(Object.keys(row)).toEqual(names);
        const misfits = NETWORK_SESSION_COLUMNS.filter(({ name, type }) => !fitsType(row[name], type));
        expect(misfits.map(({ name }) => `${name}=${JSON.stringify(row[name])}`)).toEqual([]);
        for (const mandatory of ["TimeGenerated", "EventCount", "EventType", "EventResult", "Dvc"] as const)
          expect(row[mandatory]).not.toBeNull();
      }
    });
  }

  it("maps a VNet v4 tuple: addresses, ports, direction, action, bytes each way, rule, identity, encryption", () => {
    // Prepare
    const [event] = eventsOfFixture("vnet", "azure-docs-vnet-flow-logs-overview-md.json");
    expect(event).toBeDefined();
    const e = event as FlowEvent;
    // Act
    const row = toNetworkSessionRow(e);
    // Assess
    const nicSide = e.direction === "outbound" ? "Src" : "Dst";
    const otherSide = nicSide === "Src" ? "Dst" : "Src";
    expect(row).toMatchObject({
      TimeGenerated: e.time,
      SrcIpAddr: e.srcIp,
      DstIpAddr: e.dstIp,
      SrcPortNumber: e.srcPort,
      DstPortNumber: e.dstPort,
      NetworkDirection: e.direction === "outbound" ? "Outbound" : "Inbound",
      DvcAction: e.decision === "allow" ? "Allow" : "Deny",
      SrcBytes: e.bytesSrcToDst,
      DstBytes: e.bytesDstToSrc,
      SrcPackets: e.packetsSrcToDst,
      DstPackets: e.packetsDstToSrc,
      NetworkRuleName: e.rule,
      DvcId: e.targetResourceId,
      EventOriginalUid: e.id,
      EventProductVersion: "4",
      [`${nicSide}DvcId`]: VM_ID,
      [`${nicSide}Hostname`]: "web-1",
      [`${otherSide}DvcId`]: null,
    });
    expect(row[`${nicSide}MacAddr`]).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    expect(row.AdditionalFields).toMatchObject({
      flowtapEventId: e.id,
      encryption: e.encryption,
      flowLogResourceId: e.flowLogResourceId,
      nicId: NIC_ID,
      subnetId: SUBNET_ID,
    });
    expect(e.encryption).not.toBeNull();
    expect(row.AdditionalFields).not.toHaveProperty("vnetId");
  });

  it("leaves the byte and packet columns empty for NSG v1 tuples, which carry no counters", () => {
    // Prepare
    const events = eventsOfFixture("nsg-v1", "msconnector-sampleJsonInput.json");
    // Act
    const rows = events.map(toNetworkSessionRow);
    // Assess
    for (const row of rows) {
      expect([row.SrcBytes, row.DstBytes, row.NetworkBytes, row.NetworkPackets]).toEqual([null, null, null, null]);
      expect(row.EventOriginalSubType).toBeNull();
    }
    const results = rows.map((row) => [row.DvcAction, row.EventResult, row.EventSeverity]);
    expect(results).toEqual(
      events.map((e) => (e.decision === "deny" ? ["Deny", "Failure", "Low"] : ["Allow", "Success", "Informational"])),
    );
  });
});

describe("oversizedFieldOf", () => {
  const row = () => {
    const event = eventsOf(
      flattenFlowLog(
        JSON.stringify({
          records: [
            {
              time: "2024-01-01T00:00:00.000Z",
              properties: {
                Version: 2,
                flows: [
                  {
                    rule: "R",
                    flows: [{ mac: "000D3AF87856", flowTuples: ["1704067200,1.1.1.1,2.2.2.2,1,2,T,I,A,B,,,,"] }],
                  },
                ],
              },
            },
          ],
        }),
      ),
    )[0] as FlowEvent;
    return toNetworkSessionRow(event);
  };

  it("names the column of a value over 64 KB, measuring UTF-8 bytes and dynamic values as JSON", () => {
    // Prepare
    const longRule = { ...row(), NetworkRuleName: "é".repeat(MAX_FIELD_BYTES / 2 + 1) };
    const longExtra = { ...row(), AdditionalFields: { blob: "x".repeat(MAX_FIELD_BYTES) } };
    const atLimit = { ...row(), NetworkRuleName: "x".repeat(MAX_FIELD_BYTES) };
    // Act / Assess
    expect(oversizedFieldOf(longRule)).toEqual({ column: "NetworkRuleName", bytes: MAX_FIELD_BYTES + 2 });
    expect(oversizedFieldOf(longExtra)?.column).toBe("AdditionalFields");
    expect(oversizedFieldOf(atLimit)).toBeNull();
    expect(oversizedFieldOf(row())).toBeNull();
  });
});

describe("vmNameOf", () => {
  it("names scale set instances {set}_{instance} and plain VMs by their name", () => {
    expect(vmNameOf(VM_ID)).toBe("web-1");
    expect(
      vmNameOf(
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/3",
      ),
    ).toBe("ss_3");
  });
});
