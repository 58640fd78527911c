import { describe, expect, it } from "vitest";
import { buildBlobPath, eventsOf, flattenFlowLog, hashBlobPath, VNET_ENCRYPTION_VALUES } from "../../src/core";

const NSG_RESOURCE =
  "/SUBSCRIPTIONS/S-REC/RESOURCEGROUPS/RG-REC/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-REC";

function nsgRecord(version: number, tuples: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: "2024-01-01T10:01:00.0000000Z",
    category: "NetworkSecurityGroupFlowEvent",
    resourceId: NSG_RESOURCE,
    ...extra,
    properties: {
      Version: version,
      flows: [{ rule: "UserRule_x", flows: [{ mac: "00-0d-3a-00-00-01", flowTuples: tuples }] }],
    },
  };
}

function vnetRecord(tuples: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: "2024-01-01T10:01:00.0000000Z",
    flowLogVersion: 4,
    macAddress: "6045bdd6dd48",
    flowLogResourceID:
      "/SUBSCRIPTIONS/S-V/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/" +
      "NETWORKWATCHER_EASTUS/FLOWLOGS/FL1",
    targetResourceID: "/subscriptions/s-v/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1",
    ...extra,
    flowRecords: {
      flows: [{ aclID: "acl-1", flowGroups: [{ rule: "DefaultRule_AllowInternetOutBound", flowTuples: tuples }] }],
    },
  };
}

const blob = (...records: unknown[]): string => JSON.stringify({ records });

describe("tuple layouts", () => {
  it("reads an NSG v1 tuple", () => {
    const [event] = eventsOf(flattenFlowLog(blob(nsgRecord(1, ["1700000000,10.0.0.1,10.0.0.2,1000,80,U,O,D"]))));
    expect(event).toMatchObject({
      time: "2023-11-14T22:13:20.000Z",
      sourceKind: "nsg",
      flowLogVersion: 1,
      protocol: "UDP",
      direction: "outbound",
      decision: "deny",
      flowState: null,
      packetsSrcToDst: null,
      mac: "000D3A000001",
      targetSubscriptionId: "S-REC",
      targetResourceGroup: "RG-REC",
      targetName: "NSG-REC",
      targetType: "nsg",
      targetResourceId: NSG_RESOURCE,
      flowLogResourceId: null,
    });
  });

  it("reads a 13-field tuple in a Version 1 record, and an 8-field one in a Version 2 record", () => {
    const events = eventsOf(
      flattenFlowLog(
        blob(
          nsgRecord(1, ["1700000000,10.0.0.1,10.0.0.2,1000,80,T,I,A,E,1,2,3,4"]),
          nsgRecord(2, ["1700000000,10.0.0.1,10.0.0.2,1000,80,T,I,A"]),
        ),
      ),
    );
    expect(events.map((event) => [event.flowState, event.packetsSrcToDst, event.bytesDstToSrc])).toEqual([
      ["end", 1, 4],
      [null, null, null],
    ]);
  });

  it("reads NSG v2 states and keeps empty counters null, zero counters 0", () => {
    const events = eventsOf(
      flattenFlowLog(
        blob(
          nsgRecord(2, [
            "1700000000,a,b,1,2,T,I,A,B,,,,",
            "1700000000,a,b,1,2,T,I,A,C,0,0,0,0",
            "1700000000,a,b,1,2,T,I,X,E,5,6,7,8",
          ]),
        ),
      ),
    );
    expect(
      events.map((event) => [event.flowState, event.decision, event.packetsSrcToDst, event.bytesSrcToDst]),
    ).toEqual([
      ["begin", "allow", null, null],
      ["continuing", "allow", 0, 0],
      ["end", "deny", 5, 6],
    ]);
  });

  it("reads VNet tuples: IANA protocols, IPv6 as is, D as deny, ms and s stamps", () => {
    const events = eventsOf(
      flattenFlowLog(
        blob(
          vnetRecord([
            "1700000000123,2001:db8::1,2001:db8::2,1,2,58,I,D,NX,0,0,0,0",
            "1700000000,10.0.0.1,10.0.0.2,0,0,1,O,B,X,0,0,0,0",
            "1700000000999,10.0.0.1,10.0.0.2,5,6,47,O,E,NX_HW_NOT_SUPPORTED,1,2,3,4",
          ]),
        ),
      ),
    );
    expect(
      events.map((event) => [
        event.time,
        event.srcIp,
        event.protocol,
        event.flowState,
        event.decision,
        event.encryption,
      ]),
    ).toEqual([
      ["2023-11-14T22:13:20.123Z", "2001:db8::1", "ICMPv6", "deny", "deny", "NX"],
      ["2023-11-14T22:13:20.000Z", "10.0.0.1", "ICMP", "begin", "allow", "X"],
      ["2023-11-14T22:13:20.999Z", "10.0.0.1", "47", "end", "allow", "NX_HW_NOT_SUPPORTED"],
    ]);
    expect(events[0]).toMatchObject({
      sourceKind: "vnet",
      aclId: "acl-1",
      mac: "6045BDD6DD48",
      flowLogSubscriptionId: "S-V",
      flowLogResourceGroup: "NETWORKWATCHERRG",
      flowLogName: "FL1",
      targetResourceId: "/subscriptions/s-v/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1",
      targetType: "vnet",
      targetName: "vnet1",
      targetResourceGroup: "rg",
      targetSubscriptionId: "s-v",
    });
  });
});

describe("schema 2 on generated VNet data", () => {
  const STATES = [
    ["B", "begin", "allow"],
    ["C", "continuing", "allow"],
    ["E", "end", "allow"],
    ["D", "deny", "deny"],
  ] as const;

  it("keeps every encryption value and every state with its counters, to the millisecond", () => {
    // Prepare: every encryption value in every state, with distinct counters and milliseconds.
    const cases = VNET_ENCRYPTION_VALUES.flatMap((encryption, e) =>
      STATES.map(([letter, state, decision], s) => ({ encryption, letter, state, decision, n: e * 4 + s })),
    );
    const tuples = cases.map(
      ({ encryption, letter, n }) =>
        `${1700000000000 + n},10.0.0.4,10.0.1.5,${40000 + n},443,6,O,${letter},` +
        `${encryption},${n},${n * 10},${n + 1},${n * 20}`,
    );
    // Act
    const events = eventsOf(flattenFlowLog(blob(vnetRecord(tuples))));
    // Assess
    expect(events.map((event) => [event.time, event.flowState, event.decision, event.encryption])).toEqual(
      cases.map(({ n, state, decision, encryption }) => [
        new Date(1700000000000 + n).toISOString(),
        state,
        decision,
        encryption,
      ]),
    );
    expect(
      events.map((event) => [event.packetsSrcToDst, event.bytesSrcToDst, event.packetsDstToSrc, event.bytesDstToSrc]),
    ).toEqual(cases.map(({ n }) => [n, n * 10, n + 1, n * 20]));
  });

  it("takes the flow log's id from an ARM-form blob path when the record has none", () => {
    // Prepare
    const path = buildBlobPath(
      {
        kind: "vnet",
        subscriptionId: "S-P",
        resourceGroup: "NetworkWatcherRG",
        networkWatcherName: "NetworkWatcher_westus",
        flowLogName: "fl-p",
        year: 2024,
        month: 1,
        day: 1,
        hourOfDay: 0,
        mac: "000D3A000001",
      },
      { vnetLayout: "arm" },
    );
    const record = vnetRecord(["1700000000000,10.0.0.4,10.0.1.5,1,2,6,O,B,NX,0,0,0,0"]);
    delete record["flowLogResourceID"];
    // Act
    const [event] = eventsOf(flattenFlowLog(blob(record), { blobPath: path }));
    // Assess
    expect(event).toMatchObject({
      flowLogResourceId:
        "/SUBSCRIPTIONS/S-P/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK" +
        "/NETWORKWATCHERS/NETWORKWATCHER_WESTUS/FLOWLOGS/FL-P",
      flowLogName: "FL-P",
      flowLogResourceGroup: "NETWORKWATCHERRG",
      flowLogSubscriptionId: "S-P",
    });
  });

  it("fills the enrichment fields from the lookup it is given, per MAC and target", () => {
    // Prepare
    const asked: Array<[string | null, string | null]> = [];
    const enrich = (mac: string | null, targetResourceId: string | null) => {
      asked.push([mac, targetResourceId]);
      return { nicId: `nic-${mac}`, vmId: "vm", subnetId: "subnet", vnetId: "vnet" };
    };
    // Act
    const events = eventsOf(
      flattenFlowLog(
        blob(vnetRecord(["1700000000000,a,b,1,2,6,O,B,NX,0,0,0,0", "1700000000000,a,b,1,2,6,O,E,NX,1,1,1,1"])),
        {
          enrich,
        },
      ),
    );
    // Assess: asked once per flow group, every event filled.
    expect(asked).toEqual([["6045BDD6DD48", events[0]!.targetResourceId]]);
    expect(events.map((event) => [event.nicId, event.vmId, event.subnetId, event.vnetId])).toEqual([
      ["nic-6045BDD6DD48", "vm", "subnet", "vnet"],
      ["nic-6045BDD6DD48", "vm", "subnet", "vnet"],
    ]);
  });
});

describe("blob path and ids", () => {
  const path = buildBlobPath({
    kind: "nsg",
    subscriptionId: "S-PATH",
    resourceGroup: "RG-PATH",
    nsgName: "NSG-PATH",
    year: 2024,
    month: 1,
    day: 1,
    hourOfDay: 10,
    mac: "AABBCCDDEEFF",
  });

  it("takes names and MAC from the blob path over the record, and sets blob container-relative", () => {
    const record = nsgRecord(2, ["1700000000,a,b,1,2,T,I,A,B,,,,"]);
    delete (record["properties"] as { flows: Array<{ flows: Array<{ mac?: string }> }> }).flows[0]!.flows[0]!.mac;
    const [event] = eventsOf(
      flattenFlowLog(blob(record), { blobPath: `insights-logs-networksecuritygroupflowevent/${path}` }),
    );
    expect(event).toMatchObject({
      targetSubscriptionId: "S-PATH",
      targetResourceGroup: "RG-PATH",
      targetName: "NSG-PATH",
      mac: "AABBCCDDEEFF",
      blob: path,
    });
    expect(event!.id).toBe(`${hashBlobPath(path)}-0-0`);
  });

  it("keeps an unparsable blob path as given", () => {
    const [event] = eventsOf(
      flattenFlowLog(blob(nsgRecord(1, ["1700000000,a,b,1,2,T,I,A"])), { blobPath: "some/file.json" }),
    );
    expect(event!.blob).toBe("some/file.json");
  });

  it("numbers tuples within a record across rules and flows, and records across the blob", () => {
    const record = nsgRecord(1, ["1700000000,a,b,1,2,T,I,A", "1700000001,a,b,1,2,T,I,A"]);
    (record["properties"] as { flows: unknown[] }).flows.push({
      rule: "r2",
      flows: [{ mac: "x", flowTuples: ["1700000002,a,b,1,2,T,I,A"] }],
    });
    const events = eventsOf(flattenFlowLog(blob(record, record), { blobPath: path }));
    expect(events.map((event) => event.id.split("-").slice(1).join("-"))).toEqual([
      "0-0",
      "0-1",
      "0-2",
      "1-0",
      "1-1",
      "1-2",
    ]);
  });

  it("parses a byte range of record blocks to the same events and ids as the whole blob", () => {
    // Prepare: the committed blocks of a PT1H.json: head, one block per record (`,` before all but the first), tail.
    const records = [0, 1, 2, 3, 4].map((minute) =>
      JSON.stringify(
        nsgRecord(2, [`17000000${minute}0,a,b,1,2,T,I,A,E,1,2,3,4`, `17000000${minute}1,a,b,1,2,T,I,A,B,,,,`]),
      ),
    );
    const blocks = ['{"records":[', records[0]!, ...records.slice(1).map((record) => `,${record}`), "]}"];
    const whole = flattenFlowLog(blocks.join(""), { blobPath: path });
    // Act: blocks 3..5 hold records 2..4 (record index = block index - 1).
    const rangeStart = blocks.slice(0, 3).join("").length;
    const range = flattenFlowLog(blocks.slice(3, 6).join(""), {
      blobPath: path,
      firstRecordIndex: 2,
      startOffsetInBytes: rangeStart,
    });
    // Assess
    expect(range.issues).toEqual([]);
    expect(range.records).toEqual(whole.records.slice(2));
  });

  it("parses a block range that starts with the head block and has no tail yet, without an issue", () => {
    const records = [0, 1].map((minute) => JSON.stringify(nsgRecord(1, [`17000000${minute}0,a,b,1,2,T,I,A`])));
    const growingBlob = `{"records":[${records[0]},${records[1]}`;
    const range = flattenFlowLog(growingBlob, { blobPath: path, isBlockRange: true });
    expect(range.issues).toEqual([]);
    expect(range.records.map((record) => [record.recordIndex, record.events.length])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(flattenFlowLog(growingBlob).issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/not closed/),
    ]);
  });
});

describe("bad records and tuples", () => {
  const issuesOf = (...records: unknown[]) => flattenFlowLog(blob(...records)).issues.map((issue) => issue.message);

  it.each([
    ["7 fields", "1700000000,a,b,1,2,T,I", /tuple 1: expected 8 or 13 comma-separated fields, got 7/],
    ["14 fields", "1700000000,a,b,1,2,T,I,A,B,,,,,", /got more than 13/],
    ["a bad time", "17x0000000,a,b,1,2,T,I,A", /field 0 \(time\) is not an epoch number/],
    ["a far future time", "99999999999999999,a,b,1,2,T,I,A", /after the year 9999/],
    ["an empty IP", "1700000000,,b,1,2,T,I,A", /IP address field is empty/],
    ["a bad port", "1700000000,a,b,x,2,T,I,A", /port field is not a number/],
    ["an empty protocol", "1700000000,a,b,1,2,,I,A", /protocol\) is empty/],
    ["a bad direction", "1700000000,a,b,1,2,T,X,A", /direction\) is 'X', not I or O/],
    ["a bad state", "1700000000,a,b,1,2,T,I,A,Q,1,2,3,4", /field 8 \(state\) is not B, C, E or D/],
    ["a bad counter", "1700000000,a,b,1,2,T,I,A,E,1,x,3,4", /counter field \(9-12\) is neither empty nor a number/],
    ["a non-string tuple", 17, /tuple 1: is not a string: 17/],
  ])("reports a tuple with %s by record and tuple, and keeps the others", (_what, bad, message) => {
    const result = flattenFlowLog(
      blob(
        nsgRecord(2, ["1700000000,a,b,1,2,T,I,A,B,,,,"]),
        nsgRecord(2, ["1700000000,a,b,1,2,T,I,A,B,,,,", bad, "1700000000,a,b,1,2,T,I,A,B,,,,"]),
      ),
    );
    expect(result.issues).toEqual([
      { message: expect.stringMatching(message), recordIndex: 1, tupleIndex: 1, byteOffset: expect.any(Number) },
    ]);
    expect(result.issues[0]!.message).toMatch(/^record 1, tuple 1: /);
    expect(eventsOf(result).map((event) => event.id.split("-").slice(1).join("-"))).toEqual(["0-0", "1-0", "1-2"]);
  });

  it("reports a VNet tuple with a bad state", () => {
    expect(issuesOf(vnetRecord(["1700000000,a,b,1,2,6,I,Q,NX,0,0,0,0"]))).toEqual([
      expect.stringMatching(/field 7 \(state\)/),
    ]);
  });

  it.each([
    [
      "an unknown NSG version",
      nsgRecord(3, []),
      /^record 0 \(at byte 12\) has unsupported NSG properties.Version 3 \(supported: 1, 2\)$/,
    ],
    ["an unknown VNet version", vnetRecord([], { flowLogVersion: 5 }), /unsupported VNet flowLogVersion 5/],
    ["an unknown shape", { time: "t", something: 1 }, /has an unknown shape/],
    ["a record without time", { properties: { Version: 1, flows: [] } }, /has no 'time' string/],
    ["a non-record between records", 42, /^unexpected '4' at byte 12 outside any record/],
  ])("reports %s by record position and flattens the next record", (_what, bad, message) => {
    const result = flattenFlowLog(blob(bad, nsgRecord(1, ["1700000000,a,b,1,2,T,I,A"])));
    expect(result.issues.map((issue) => issue.message)).toEqual([expect.stringMatching(message)]);
    expect(eventsOf(result)).toHaveLength(1);
  });

  it("reports structural problems inside a record and keeps what is usable", () => {
    const record = nsgRecord(1, ["1700000000,a,b,1,2,T,I,A"]);
    const flows = (record["properties"] as { flows: unknown[] }).flows;
    flows.push(
      7,
      { flows: [{ flowTuples: ["1700000000,a,b,1,2,T,I,A"] }] },
      { rule: "r", flows: {} },
      { rule: "r", flows: [{ flowTuples: "x" }] },
    );
    const result = flattenFlowLog(blob(record));
    expect(result.issues.map((issue) => issue.message)).toEqual([
      "record 0 (at byte 12) has a non-object at 'properties.flows[1]'",
      `record 0 (at byte 12) has no 'rule' string at 'properties.flows[2]' (its tuples get rule "")`,
      "record 0 (at byte 12) has no 'properties.flows[3].flows' array",
      "record 0 (at byte 12) has no 'properties.flows[4].flows[0].flowTuples' array",
    ]);
    expect(eventsOf(result).map((event) => event.rule)).toEqual(["UserRule_x", ""]);
  });

  it("accepts rules with empty flows arrays", () => {
    const record = nsgRecord(1, []);
    expect(flattenFlowLog(blob(record))).toEqual({
      records: [{ recordIndex: 0, byteOffset: 12, events: [] }],
      issues: [],
    });
  });
});
