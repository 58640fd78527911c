import { describe, expect, it } from "vitest";
import { eventsOf, flattenFlowLog, FlowLogFlattener, type FlowEvent } from "../../src/core";
import { readFixture, skipAllWithoutFixtures } from "./flowLogFixtures";

skipAllWithoutFixtures();

interface FixtureCase {
  file: string;
  records: number;
  tuples: number;
  /** Each issue message, in order (none for valid files). */
  issues?: RegExp[];
  firstTuple: string;
  lastTuple: string;
}

/** Counts from SOURCES.md; first/last tuples in document order. */
const CASES: FixtureCase[] = [
  {
    file: "nsg-v1/azure-docs-flow-logs-read-md-nsg-tabs-empty-flows.json",
    records: 1,
    tuples: 40,
    firstTuple: "1497646722,10.0.0.4,168.62.32.14,44904,443,T,O,A",
    lastTuple: "1497646780,13.82.225.93,10.0.0.4,1336,80,T,I,A",
  },
  {
    file: "nsg-v1/azure-docs-network-watcher-nsg-flow-logging-overview-md@0076652-v1-invalid.json",
    records: 5,
    tuples: 21,
    issues: [
      /unexpected '"' at byte 3373 outside any record/,
      /records array is not closed: the input ends at byte 6034 without '\]\}'/,
    ],
    firstTuple: "1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D",
    lastTuple: "1487282512,91.224.160.154,10.1.0.4,59046,3389,T,I,A",
  },
  {
    file: "nsg-v1/azure-docs-nsg-flow-logs-overview-md-v1-nested-records.json",
    records: 5,
    tuples: 21,
    firstTuple: "1487282421,192.0.2.95,10.1.0.4,51529,5358,T,I,D",
    lastTuple: "1487282512,192.0.2.154,10.1.0.4,59046,3389,T,I,A",
  },
  {
    file: "nsg-v1/msconnector-sampleJsonInput.json",
    records: 3,
    tuples: 38,
    firstTuple: "1531917335,122.222.24.18,10.0.0.4,61691,3128,T,I,D",
    lastTuple: "1531917510,180.14.239.228,10.0.0.4,54716,3128,T,I,D",
  },
  {
    file: "nsg-v1/msconnector-sampleOfInputV1.json",
    records: 24,
    tuples: 1187,
    firstTuple: "1527644123,10.1.0.5,10.1.1.4,51435,80,T,I,A",
    lastTuple: "1527645548,143.202.73.245,10.1.1.4,54320,8080,T,I,D",
  },
  {
    file: "nsg-v1/msconnector-sampleStage3Input-fragment.json",
    records: 1,
    tuples: 85,
    firstTuple: "1534164982,185.92.73.26,172.17.0.4,65533,3389,T,I,D",
    lastTuple: "1534165014,172.17.0.4,51.141.128.36,42890,443,T,O,A",
  },
  {
    file: "nsg-v1/sumologic-blob_fixtures@b9c098d-empty-flows.json",
    records: 1,
    tuples: 12,
    firstTuple: "1497646722,10.0.0.4,168.62.32.14,44904,443,T,O,A",
    lastTuple: "1497646780,13.82.225.93,10.0.0.4,1336,80,T,I,A",
  },
  {
    file: "nsg-v1/thelovearinze-Network-Optimization-Tool-flowlog.json",
    records: 6,
    tuples: 73,
    firstTuple: "1740171562,193.41.206.142,10.0.0.4,42425,8728,T,I,D",
    lastTuple: "1740171920,185.242.226.38,10.0.0.4,38708,5596,T,I,D",
  },
  {
    file: "nsg-v2/abhishekgangurde-DevReops-PT1H.json",
    records: 15,
    tuples: 2637,
    firstTuple: "1639372365,20.0.0.4,52.239.220.100,50047,443,T,O,A,B,,,,",
    lastTuple: "1639373114,20.114.75.182,20.0.0.4,42561,3389,T,I,A",
  },
  {
    file: "nsg-v2/azure-docs-network-watcher-nsg-flow-logging-overview-md@0076652-v2-truncated.json",
    records: 2,
    tuples: 11,
    issues: [/records array is not closed: the input ends at byte 3312 without '\]\}'/],
    firstTuple: "1542110402,94.102.49.190,10.5.16.4,28746,443,U,I,D,B,,,,",
    lastTuple: "1542110490,176.119.4.30,10.5.16.4,57067,52801,T,I,D,B,,,,",
  },
  {
    file: "nsg-v2/azure-docs-nsg-flow-logs-tutorial-md-single-record.json",
    records: 1,
    tuples: 1,
    firstTuple: "1677455097,10.0.0.4,13.107.21.200,49982,443,T,O,A,C,7,1158,12,8143",
    lastTuple: "1677455097,10.0.0.4,13.107.21.200,49982,443,T,O,A,C,7,1158,12,8143",
  },
  {
    file: "nsg-v2/danifitz-azure-nsg-flow-logs-newrelic-PT1H.json",
    records: 15,
    tuples: 8203,
    firstTuple: "1594238636,10.1.0.4,20.38.107.36,52246,443,T,O,A,B,,,,",
    lastTuple: "1594238678,167.71.222.137,10.1.0.4,52565,23,T,I,D,B,,,,",
  },
  {
    file: "nsg-v2/elastic-nsg-pipeline-test-nsg-log.json",
    records: 1,
    tuples: 1,
    firstTuple: "1542110379,1.128.0.0,1.128.0.1,59932,443,T,O,A,E,1,66,1,66",
    lastTuple: "1542110379,1.128.0.0,1.128.0.1,59932,443,T,O,A,E,1,66,1,66",
  },
  {
    file: "nsg-v2/elastic-nsg-sample_logs-testdata-log.json",
    records: 2,
    tuples: 11,
    firstTuple: "1542110402,94.102.49.190,10.5.16.4,28746,443,U,I,D,B,,,,",
    lastTuple: "1542110490,176.119.4.30,10.5.16.4,57067,52801,T,I,D,B,,,,",
  },
  {
    file: "nsg-v2/msconnector-tests-AzureNSGFlowLogsv1.json",
    records: 1,
    tuples: 8,
    issues: [/^record 0 \(at byte 25\) is not valid JSON \(trailing comma\); parsed without it$/],
    firstTuple: "1578673983,217.111.196.7,51.104.249.164,56141,443,T,I,A,B,,,,",
    lastTuple: "1578673983,10.201.4.6,10.244.2.21,53805,80,T,O,A,E,4,246,2,126",
  },
  {
    file: "nsg-v2/nsgpeek-consolewriter_test.json",
    records: 1,
    tuples: 8,
    firstTuple: "1660039344,10.0.0.4,51.104.229.52,50276,443,T,O,A,E,14,2839,14,5801",
    lastTuple: "1660039358,61.177.173.21,10.0.0.4,56496,22,T,I,A,B,,,,",
  },
  {
    file: "nsg-v2/sumologic-blob_fixtures.json",
    records: 8,
    tuples: 153,
    firstTuple: "1724090346,10.1.0.4,20.98.192.237,35620,443,T,O,A,E,1,74,0,0",
    lastTuple: "1724090812,209.38.19.52,10.1.0.4,56233,22,T,I,A,B,,,,",
  },
  {
    file: "nsg-v2/sumologic-blob_fixtures@239ab98.json",
    records: 1,
    tuples: 120,
    firstTuple: "1719295118,10.0.0.4,20.42.65.89,49867,443,T,O,A,B,,,,",
    lastTuple: "1719295173,101.53.240.140,10.0.0.4,15430,23,T,I,D,B,,,,",
  },
  {
    file: "nsg-v2/sumologic-blob_fixtures@a5bf477-mixed-v1-v2.json",
    records: 18,
    tuples: 56,
    firstTuple: "1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D",
    lastTuple: "1533586335,46.161.27.243,10.1.1.6,42993,7272,T,I,D,B,,,,",
  },
  {
    file: "vnet/azure-docs-flow-logs-read-md-vnet-single-record.json",
    records: 1,
    tuples: 10,
    firstTuple: "1688875131557,45.119.212.87,192.168.0.4,53018,3389,6,I,D,NX,0,0,0,0",
    lastTuple: "1688875147864,194.26.135.247,192.168.0.4,53583,20232,6,I,D,NX,0,0,0,0",
  },
  {
    file: "vnet/azure-docs-vnet-flow-logs-overview-md.json",
    records: 1,
    tuples: 19,
    firstTuple: "1663146003599,10.0.0.6,52.239.184.180,23956,443,6,O,B,NX,0,0,0,0",
    lastTuple: "1663146015545,20.106.221.10,10.0.0.6,50557,31244,6,I,D,NX,0,0,0,0",
  },
  {
    file: "vnet/azure-docs-vnet-flow-logs-tutorial-md-other-version.json",
    records: 1,
    tuples: 1,
    firstTuple: "1754512773,10.0.0.4,13.107.21.200,49982,443,6,O,C,NX,7,1158,12,8143",
    lastTuple: "1754512773,10.0.0.4,13.107.21.200,49982,443,6,O,C,NX,7,1158,12,8143",
  },
  {
    file: "vnet/azure-docs-vnet-flow-logs-tutorial-md@0156831-nsg-style-tuple.json",
    records: 1,
    tuples: 1,
    firstTuple: "1754512773,10.0.0.4,13.107.21.200,49982,443,T,O,A,C,7,1158,12,8143",
    lastTuple: "1754512773,10.0.0.4,13.107.21.200,49982,443,T,O,A,C,7,1158,12,8143",
  },
  {
    file: "vnet/chshin9-CSP451-Milestone3-PT1H.json",
    records: 5,
    tuples: 76,
    firstTuple: "1786653106963,40.87.164.0,10.0.5.4,23456,25800,6,I,B,NX,0,0,0,0",
    lastTuple: "1786653377412,3.147.122.184,10.0.5.4,61234,37810,6,I,D,NX,0,0,0,0",
  },
  {
    file: "vnet/elastic-vnet-pipeline-test-vnet-log.json",
    records: 1,
    tuples: 2,
    firstTuple: "1663146003599,1.128.0.0,175.16.199.0,23956,443,6,O,B,NX,0,0,0,0",
    lastTuple: "1663146003606,216.160.83.56,81.2.69.142,36776,443,6,O,E,NX,22,2217,33,0",
  },
  {
    file: "vnet/jagilber-azure-az-vnet-flow-log-ps1-comment.json",
    records: 1,
    tuples: 7,
    firstTuple: "1675551600689,192.168.0.8,40.79.154.85,58973,443,6,O,E,NX,15,8645,13,9044",
    lastTuple: "1675551618678,107.170.245.18,192.168.0.8,49147,1400,6,I,D,NX,0,0,0,0",
  },
  {
    file: "vnet/sumologic-blob_fixtures_networkinterfaceflowlogs.json",
    records: 4,
    tuples: 61,
    firstTuple: "1735636357995,10.1.0.4,20.10.127.193,56354,443,6,O,E,NX,8,5183,9,6707",
    lastTuple: "1735636521303,162.216.150.179,10.1.0.4,51822,9612,6,I,D,NX,0,0,0,0",
  },
  {
    file: "vnet/sumologic-blob_fixtures_subnetflowlogs.json",
    records: 4,
    tuples: 68,
    firstTuple: "1735636278979,40.87.168.8,10.1.0.4,23456,29544,6,I,E,NX,1,128,0,0",
    lastTuple: "1735636351469,147.185.133.108,10.1.0.4,55432,2232,6,I,D,NX,0,0,0,0",
  },
  {
    file: "vnet/sumologic-blob_fixtures_vnetflowlogs.json",
    records: 8,
    tuples: 166,
    firstTuple: "1733975962447,10.1.0.4,40.119.6.228,123,123,17,O,C,NX,4,360,4,528",
    lastTuple: "1733976201177,194.180.49.220,10.1.0.4,58824,7092,6,I,D,NX,0,0,0,0",
  },
];

/** What the test expects of an event from the tuple text: time, addresses and ports. */
function expectTupleBasics(event: FlowEvent, tuple: string): void {
  const [timestamp, srcIp, dstIp, srcPort, dstPort] = tuple.split(",");
  const epochMs = timestamp!.length === 13 ? Number(timestamp) : Number(timestamp) * 1000;
  expect(event).toMatchObject({
    time: new Date(epochMs).toISOString(),
    srcIp,
    dstIp,
    srcPort: Number(srcPort),
    dstPort: Number(dstPort),
  });
}

describe("flattening every published sample", () => {
  it.each(CASES)("$file: $records records, $tuples tuples", (fixture) => {
    // Prepare
    const input = readFixture(fixture.file);
    // Act
    const result = flattenFlowLog(input);
    // Assess
    const events = eventsOf(result);
    expect(result.records).toHaveLength(fixture.records);
    expect(events).toHaveLength(fixture.tuples);
    expect(result.issues.map((issue) => issue.message)).toEqual(
      (fixture.issues ?? []).map((pattern) => expect.stringMatching(pattern)),
    );
    expectTupleBasics(events[0]!, fixture.firstTuple);
    expectTupleBasics(events[events.length - 1]!, fixture.lastTuple);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  });

  it.each(CASES.map((fixture) => fixture.file))("%s gives the same events fed in 7-byte chunks", (file) => {
    // Prepare
    const input = readFixture(file);
    const flattener = new FlowLogFlattener();
    const chunked: FlowEvent[] = [];
    // Act
    for (let at = 0; at < input.length; at += 7) chunked.push(...eventsOf(flattener.push(input.subarray(at, at + 7))));
    chunked.push(...eventsOf(flattener.end()));
    // Assess
    expect(chunked).toEqual(eventsOf(flattenFlowLog(input)));
  });
});

describe("field values from the samples", () => {
  it("keeps B counters empty as null and reads ms-free second stamps (danifitz)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("nsg-v2/danifitz-azure-nsg-flow-logs-newrelic-PT1H.json")));
    const begins = events.filter((event) => event.flowState === "begin");
    expect(begins).toHaveLength(5061);
    expect(begins.every((event) => event.packetsSrcToDst === null && event.bytesDstToSrc === null)).toBe(true);
    expect(events[0]).toMatchObject({
      time: "2020-07-08T20:03:56.000Z",
      recordTime: "2020-07-08T20:04:43.4178856Z",
      sourceKind: "nsg",
      flowLogVersion: 2,
      protocol: "TCP",
      direction: "outbound",
      decision: "allow",
      flowState: "begin",
      encryption: null,
      aclId: null,
      flowLogName: null,
    });
  });

  it("chooses the tuple layout per record in a blob that switches from v2 to v1 (227/2410)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("nsg-v2/abhishekgangurde-DevReops-PT1H.json")));
    const v2 = events.filter((event) => event.flowLogVersion === 2);
    const v1 = events.filter((event) => event.flowLogVersion === 1);
    expect([v2.length, v1.length]).toEqual([227, 2410]);
    expect(v1.every((event) => event.flowState === null && event.bytesSrcToDst === null)).toBe(true);
    expect(v2.every((event) => event.flowState !== null)).toBe(true);
  });

  it("maps decision B to deny and keeps the record-level MAC (nsgpeek)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("nsg-v2/nsgpeek-consolewriter_test.json")));
    const oddDecision = events.find(
      (event) =>
        event.dstPort === 443 &&
        event.direction === "outbound" &&
        event.flowState === "begin" &&
        event.decision === "deny",
    );
    expect(oddDecision).toBeDefined();
    expect(events.every((event) => /^[0-9A-F]{12}$/.test(event.mac ?? ""))).toBe(true);
  });

  it("reads millisecond stamps, IANA protocols, encryption and D as deny (VNet docs sample)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("vnet/azure-docs-vnet-flow-logs-overview-md.json")));
    expect(events[0]).toMatchObject({
      time: "2022-09-14T09:00:03.599Z",
      sourceKind: "vnet",
      flowLogVersion: 4,
      protocol: "TCP",
      flowState: "begin",
      decision: "allow",
      encryption: "NX",
      packetsSrcToDst: 0,
      bytesDstToSrc: 0,
      targetType: "vnet",
    });
    expect(events[0]!.aclId).toEqual(expect.any(String));
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ flowState: "deny", decision: "deny", direction: "inbound" });
  });

  it("names the UDP protocol 17 and the VNet target and flow log from the record", () => {
    const events = eventsOf(flattenFlowLog(readFixture("vnet/sumologic-blob_fixtures_vnetflowlogs.json")));
    expect(events[0]).toMatchObject({
      protocol: "UDP",
      srcPort: 123,
      flowState: "continuing",
      packetsSrcToDst: 4,
      bytesSrcToDst: 360,
      packetsDstToSrc: 4,
      bytesDstToSrc: 528,
    });
    expect(events[0]!.targetResourceId).toMatch(/virtualNetworks/i);
    expect(events[0]!.flowLogName).not.toBeNull();
    expect(events[0]!.flowLogSubscriptionId).not.toBeNull();
  });

  it("reads an NSG-style tuple inside a flowLogVersion 4 record, and the flow log from its resourceId with //", () => {
    const [event] = eventsOf(
      flattenFlowLog(readFixture("vnet/azure-docs-vnet-flow-logs-tutorial-md@0156831-nsg-style-tuple.json")),
    );
    expect(event).toMatchObject({
      time: "2025-08-06T20:39:33.000Z",
      sourceKind: "vnet",
      protocol: "TCP",
      decision: "allow",
      flowState: "continuing",
      encryption: null,
      bytesDstToSrc: 8143,
      flowLogSubscriptionId: "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e",
      flowLogResourceGroup: "NETWORKWATCHERRG",
      flowLogName: "MYVNET-MYRESOURCEGROUP-FLOWLOG",
      targetResourceId: null,
      mac: "112233445566",
    });
  });

  it("upper-cases a mixed-case MAC and keeps 33 packets with 0 bytes as given (elastic VNet)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("vnet/elastic-vnet-pipeline-test-vnet-log.json")));
    expect(events.map((event) => event.mac)).toEqual(["0022487BC205", "0022487BC205"]);
    expect(events[1]).toMatchObject({ packetsDstToSrc: 33, bytesDstToSrc: 0, flowState: "end" });
  });

  it("ignores the 28 trailing spaces after a tuple (docs tutorial)", () => {
    const [event] = eventsOf(
      flattenFlowLog(readFixture("nsg-v2/azure-docs-nsg-flow-logs-tutorial-md-single-record.json")),
    );
    expect(event).toMatchObject({ bytesDstToSrc: 8143, mac: "112233445566", targetName: expect.any(String) });
  });

  it("takes NSG names from the record's resourceId when there is no blob path", () => {
    const [event] = eventsOf(flattenFlowLog(readFixture("nsg-v1/msconnector-sampleOfInputV1.json")));
    expect(event).toMatchObject({ targetResourceGroup: "FLOWLOGSV2DEMO", blob: "" });
    expect(event!.targetResourceId).toMatch(/NETWORKSECURITYGROUPS/);
  });

  it("keeps source port 0 (real 2025 v1 data)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("nsg-v1/thelovearinze-Network-Optimization-Tool-flowlog.json")));
    expect(events.filter((event) => event.srcPort === 0)).toHaveLength(5);
  });

  it("keeps B tuples that carry counters (Sumo's edited mixed file)", () => {
    const events = eventsOf(flattenFlowLog(readFixture("nsg-v2/sumologic-blob_fixtures@a5bf477-mixed-v1-v2.json")));
    expect(events.filter((event) => event.flowState === "begin" && event.packetsSrcToDst !== null)).toHaveLength(5);
  });
});

describe("schema 2 identity from the samples: the flow log apart from its target", () => {
  const SUB = "C088DC46-D692-42AD-A4B6-9A542D28AD2A";
  const flowLogId = (name: string): string =>
    `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK` +
    `/NETWORKWATCHERS/NETWORKWATCHER_WESTUS/FLOWLOGS/${name}`;
  const target =
    "/subscriptions/c088dc46-d692-42ad-a4b6-9a542d28ad2a/resourceGroups/azure-labs-001/providers/Microsoft.Network";

  it.each([
    [
      "vnetflowlogs",
      "vnet",
      "labsvm1-vnet",
      `${target}/virtualNetworks/labsvm1-vnet`,
      "LABSVM1-VNET-AZURE-LABS-001-FLOWLOG",
    ],
    [
      "subnetflowlogs",
      "subnet",
      "default",
      `${target}/virtualNetworks/labsvm1-vnet/subnets/default`,
      "DEFAULT-AZURE-LABS-001-FLOWLOG",
    ],
    [
      "networkinterfaceflowlogs",
      "nic",
      "labsvm1519",
      `${target}/networkInterfaces/labsvm1519`,
      "LABSVM1519-AZURE-LABS-001-FLOWLOG",
    ],
  ])("VNet flow log on a %s: target type %s named %s", (file, targetType, targetName, targetId, flowLogName) => {
    // Act
    const events = eventsOf(flattenFlowLog(readFixture(`vnet/sumologic-blob_fixtures_${file}.json`)));
    // Assess: every event carries both identities, the target's group not the flow log's.
    const identities = new Set(
      events.map((event) =>
        JSON.stringify([
          event.flowLogResourceId,
          event.flowLogName,
          event.flowLogResourceGroup,
          event.flowLogSubscriptionId,
          event.targetResourceId,
          event.targetType,
          event.targetName,
          event.targetResourceGroup,
          event.targetSubscriptionId,
        ]),
      ),
    );
    expect([...identities].map((identity) => JSON.parse(identity) as unknown)).toEqual([
      [
        flowLogId(flowLogName),
        flowLogName,
        "NETWORKWATCHERRG",
        SUB,
        targetId,
        targetType,
        targetName,
        "azure-labs-001",
        SUB.toLowerCase(),
      ],
    ]);
    expect(events.every((event) => event.schemaVersion === 2 && event.mac === "000D3A359573")).toBe(true);
    expect(events.every((event) => event.nicId === null && event.vmId === null)).toBe(true);
  });

  it("keeps VNet states with their counters, millisecond times and the encryption value exactly (VNet sample)", () => {
    // Prepare
    const input = readFixture("vnet/sumologic-blob_fixtures_vnetflowlogs.json");
    const tuples = (JSON.parse(input.toString("utf8")) as { records: VnetRecordText[] }).records.flatMap((record) =>
      record.flowRecords.flows.flatMap((flow) => flow.flowGroups.flatMap((group) => group.flowTuples)),
    );
    // Act
    const events = eventsOf(flattenFlowLog(input));
    // Assess: each event gives back its tuple's fields.
    expect(events.map(tupleOfEvent)).toEqual(tuples);
    expect(new Set(events.map((event) => event.flowState))).toEqual(new Set(["begin", "continuing", "end", "deny"]));
  });

  it("names the NSG as the target of NSG v1 and v2 records, with no flow log identity", () => {
    // Act
    const [v1] = eventsOf(flattenFlowLog(readFixture("nsg-v1/msconnector-sampleJsonInput.json")));
    const [v2] = eventsOf(flattenFlowLog(readFixture("nsg-v2/elastic-nsg-pipeline-test-nsg-log.json")));
    // Assess
    expect(v1).toMatchObject({
      flowLogVersion: 1,
      flowLogResourceId: null,
      flowLogName: null,
      flowLogResourceGroup: null,
      flowLogSubscriptionId: null,
      targetType: "nsg",
      targetName: "WADVM-NSG",
      targetResourceGroup: "WADRG",
      targetSubscriptionId: "743F6ED6-83A8-46F0-822D-EA93B953952D",
      flowState: null,
      encryption: null,
    });
    expect(v1!.targetResourceId).toMatch(/\/NETWORKSECURITYGROUPS\/WADVM-NSG$/);
    expect(v2).toMatchObject({ flowLogVersion: 2, flowLogResourceId: null, targetType: "nsg", encryption: null });
    expect(v2!.targetName).toEqual(expect.any(String));
  });
});

interface VnetRecordText {
  flowRecords: { flows: Array<{ flowGroups: Array<{ flowTuples: string[] }> }> };
}

const STATE_LETTERS = { begin: "B", continuing: "C", end: "E", deny: "D" } as const;
const PROTOCOL_NUMBERS: Record<string, string> = { TCP: "6", UDP: "17", ICMP: "1", ICMPv6: "58" };

/** The VNet tuple text an event came from (millisecond stamp, IANA protocol, state letter, counters). */
function tupleOfEvent(event: FlowEvent): string {
  return [
    Date.parse(event.time),
    event.srcIp,
    event.dstIp,
    event.srcPort,
    event.dstPort,
    PROTOCOL_NUMBERS[event.protocol] ?? event.protocol,
    event.direction === "inbound" ? "I" : "O",
    STATE_LETTERS[event.flowState!],
    event.encryption,
    event.packetsSrcToDst,
    event.bytesSrcToDst,
    event.packetsDstToSrc,
    event.bytesDstToSrc,
  ].join(",");
}
