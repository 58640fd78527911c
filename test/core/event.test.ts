import { describe, expect, it } from "vitest";
import { EVENT_SCHEMA_VERSION, eventsOf, flattenFlowLog, toSchema1 } from "../../src/core";
import { readFixture } from "./flowLogFixtures";

/** The keys of each schema, in their JSON order (docs/events.md lists them so). */
const SCHEMA_2_KEYS = [
  "schemaVersion",
  "id",
  "time",
  "recordTime",
  "sourceKind",
  "flowLogVersion",
  "flowLogResourceId",
  "flowLogName",
  "flowLogResourceGroup",
  "flowLogSubscriptionId",
  "targetResourceId",
  "targetType",
  "targetName",
  "targetResourceGroup",
  "targetSubscriptionId",
  "aclId",
  "rule",
  "mac",
  "nicId",
  "vmId",
  "subnetId",
  "vnetId",
  "srcIp",
  "dstIp",
  "srcPort",
  "dstPort",
  "protocol",
  "direction",
  "decision",
  "flowState",
  "encryption",
  "packetsSrcToDst",
  "bytesSrcToDst",
  "packetsDstToSrc",
  "bytesDstToSrc",
  "blob",
];
/** Schema 1 as it was, with `schemaVersion` first; from `srcIp` on as schema 2. */
const SCHEMA_1_KEYS = [
  ...SCHEMA_2_KEYS.slice(0, SCHEMA_2_KEYS.indexOf("flowLogResourceId")),
  "subscriptionId",
  "resourceGroup",
  "nsgName",
  "flowLogName",
  "targetResourceId",
  "aclId",
  "rule",
  "mac",
  ...SCHEMA_2_KEYS.slice(SCHEMA_2_KEYS.indexOf("srcIp")),
];

describe("event schema", () => {
  it("is version 2, carried in every event, with every key in its documented order", () => {
    // Act
    const events = ["nsg-v1/msconnector-sampleJsonInput.json", "vnet/sumologic-blob_fixtures_subnetflowlogs.json"]
      .map((file) => eventsOf(flattenFlowLog(readFixture(file))))
      .flat();
    // Assess
    expect(EVENT_SCHEMA_VERSION).toBe(2);
    for (const event of events) {
      expect(event.schemaVersion).toBe(2);
      expect(Object.keys(event)).toEqual(SCHEMA_2_KEYS);
    }
  });

  it("gives schema 1 the identity it always had: the NSG's for NSG logs, the flow log's for VNet logs", () => {
    // Prepare
    const [nsg] = eventsOf(flattenFlowLog(readFixture("nsg-v2/danifitz-azure-nsg-flow-logs-newrelic-PT1H.json")));
    const [vnet] = eventsOf(flattenFlowLog(readFixture("vnet/sumologic-blob_fixtures_subnetflowlogs.json")));
    // Act
    const v1 = [toSchema1(nsg!), toSchema1(vnet!)];
    // Assess
    expect(v1.map((event) => Object.keys(event))).toEqual([SCHEMA_1_KEYS, SCHEMA_1_KEYS]);
    expect(v1[0]).toMatchObject({
      schemaVersion: 1,
      subscriptionId: "E06458B3-769A-4E38-A880-5B6FC5AB884E",
      resourceGroup: "DANIEL-FITZGERALD-FIAT-AUTO-POC-RESOURCE-GROUP",
      nsgName: "NETWORK-SECURITY-GROUP-2",
      flowLogName: null,
      targetResourceId: nsg!.targetResourceId,
    });
    expect(v1[1]).toMatchObject({
      schemaVersion: 1,
      subscriptionId: "C088DC46-D692-42AD-A4B6-9A542D28AD2A",
      resourceGroup: "NETWORKWATCHERRG",
      nsgName: null,
      flowLogName: "DEFAULT-AZURE-LABS-001-FLOWLOG",
      targetResourceId: vnet!.targetResourceId,
    });
  });
});
