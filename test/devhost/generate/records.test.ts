import { describe, expect, it } from "vitest";
import { parseBlobPath } from "../../../src/core/blobPath";
import {
  blobPathFor,
  buildTopology,
  countTuples,
  generateRecords,
  planBlobs,
  serializeBlob,
  type NsgFlowLogRecord,
  type VnetFlowLogRecord,
} from "../../../devhost/generate";
import { FLOW_LOG_HEAD, FLOW_LOG_TAIL } from "../../../src/core/blocks";
import { blobText, eventsOfBlob } from "./helpers";

const HOUR = "2026-11-22T10:00:00Z";
const HOUR_MS = Date.parse(HOUR);
const topology = buildTopology({ seed: 11, nics: 2 });
const nsgNic = topology.nics[0]!;
const vnetNic = topology.nics[1]!;

const nsgTuples = (record: NsgFlowLogRecord): string[] =>
  record.properties.flows.flatMap((rule) => rule.flows.flatMap((flow) => flow.flowTuples));
const vnetTuples = (record: VnetFlowLogRecord): string[] =>
  record.flowRecords.flows.flatMap((flow) => flow.flowGroups.flatMap((group) => group.flowTuples));
const recordMs = (time: string): number => Date.parse(time.replace(/(\.\d{3})\d+Z$/, "$1Z"));

describe("generateRecords", () => {
  it("gives the same bytes for the same seed and different bytes for another seed", () => {
    // Prepare
    const options = { topology, nic: nsgNic, hourIso: HOUR };

    // Act
    const first = blobText(options);
    const again = blobText(options);
    const otherSeed = blobText({ ...options, seed: 12 });

    // Assess
    expect(again).toBe(first);
    expect(otherSeed).not.toBe(first);
  });

  it("gives the same records for a minute range as for those minutes of the whole hour", () => {
    // Prepare
    const whole = [...generateRecords({ topology, nic: vnetNic, hourIso: HOUR })];

    // Act
    const part = [...generateRecords({ topology, nic: vnetNic, hourIso: HOUR, minutes: { first: 20, last: 22 } })];

    // Assess
    expect(part).toEqual(whole.slice(20, 23));
  });

  it("writes NSG v2 records like the service: one a minute, 13-field tuples, B and denies without counters", () => {
    // Act
    const records = [...generateRecords({ topology, nic: nsgNic, hourIso: HOUR })] as NsgFlowLogRecord[];

    // Assess
    expect(records).toHaveLength(60);
    for (const [minute, record] of records.entries()) {
      expect(Object.keys(record)).toEqual([
        "time",
        "systemId",
        "macAddress",
        "category",
        "resourceId",
        "operationName",
        "properties",
      ]);
      expect(record).toMatchObject({
        category: "NetworkSecurityGroupFlowEvent",
        operationName: "NetworkSecurityGroupFlowEvents",
        macAddress: nsgNic.macAddress,
        resourceId: nsgNic.nsgResourceId,
        properties: { Version: 2 },
      });
      expect(record.time).toMatch(/^2026-11-22T10:\d{2}:\d{2}\.\d{7}Z$/);
      const timeMs = recordMs(record.time);
      expect(Math.floor((timeMs - HOUR_MS) / 60_000)).toBe(minute);
      for (const tuple of nsgTuples(record)) {
        const fields = tuple.split(",");
        expect(fields).toHaveLength(13);
        const [ts, , , , , protocol, direction, decision, state] = fields;
        expect(ts).toMatch(/^\d{10}$/);
        // A record holds the minute before its time.
        expect(Number(ts) * 1000).toBeGreaterThanOrEqual(Math.floor(timeMs / 1000) * 1000 - 60_000);
        expect(Number(ts) * 1000).toBeLessThan(timeMs);
        expect(["T", "U"]).toContain(protocol);
        expect(["I", "O"]).toContain(direction);
        expect(["B", "C", "E"]).toContain(state);
        if (state === "B") expect(fields.slice(9)).toEqual(["", "", "", ""]);
        else expect(fields.slice(9).every((n) => /^\d+$/.test(n))).toBe(true);
        if (decision === "D") expect(tuple).toMatch(/,I,D,B,,,,$/);
      }
    }
    const all = records.flatMap(nsgTuples);
    expect(all.some((t) => t.includes(",O,A,E,"))).toBe(true);
    expect(all.some((t) => t.includes(",O,A,C,"))).toBe(true);
    expect(all.some((t) => t.endsWith(",I,D,B,,,,"))).toBe(true);
    expect(all.some((t) => t.includes(",U,O,A,"))).toBe(true);
  });

  it("writes VNet v4 records like the service: 13-digit times, protocol numbers, D for denies, 0 counters", () => {
    // Act
    const records = [...generateRecords({ topology, nic: vnetNic, hourIso: HOUR })] as VnetFlowLogRecord[];

    // Assess
    expect(records).toHaveLength(60);
    for (const record of records) {
      expect(Object.keys(record)).toEqual([
        "time",
        "flowLogGUID",
        "macAddress",
        "category",
        "flowLogResourceID",
        "targetResourceID",
        "flowLogVersion",
        "operationName",
        "flowRecords",
      ]);
      expect(record).toMatchObject({
        category: "FlowLogFlowEvent",
        operationName: "FlowLogFlowEvent",
        flowLogVersion: 4,
        flowLogResourceID: vnetNic.flowLogResourceId,
        targetResourceID: vnetNic.targetResourceId,
      });
      for (const flow of record.flowRecords.flows) {
        const isPlatform = flow.flowGroups.every((group) => group.rule === "PlatformRule");
        expect(flow.aclID).toBe(isPlatform ? "00000000-0000-0000-0000-000000000000" : vnetNic.aclId);
      }
      for (const tuple of vnetTuples(record)) {
        const fields = tuple.split(",");
        expect(fields).toHaveLength(13);
        const [ts, , , , , protocol, direction, state, encryption] = fields;
        expect(ts).toMatch(/^\d{13}$/);
        expect(Number(ts)).toBeLessThan(recordMs(record.time));
        expect(["6", "17"]).toContain(protocol);
        expect(["I", "O"]).toContain(direction);
        expect(["B", "C", "E", "D"]).toContain(state);
        expect(encryption).toBe("NX");
        if (state === "B" || state === "D") expect(fields.slice(9)).toEqual(["0", "0", "0", "0"]);
      }
    }
    const states = new Set(records.flatMap(vnetTuples).map((t) => t.split(",")[7]));
    expect([...states].sort()).toEqual(["B", "C", "D", "E"]);
    const rules = new Set(records.flatMap((r) => r.flowRecords.flows.flatMap((f) => f.flowGroups.map((g) => g.rule))));
    expect(rules).toContain("PlatformRule");
  });

  it("produces exactly tuplesPerMinute benign tuples and splits a busy minute into records with the same time", () => {
    // Act
    const records = [
      ...generateRecords({
        topology,
        nic: nsgNic,
        hourIso: HOUR,
        minutes: { first: 5, last: 6 },
        tuplesPerMinute: 1500,
        maxTuplesPerRecord: 600,
      }),
    ];

    // Assess
    expect(records.map(countTuples)).toEqual([600, 600, 300, 600, 600, 300]);
    expect(new Set(records.slice(0, 3).map((r) => r.time)).size).toBe(1);
    expect(records[3]?.time).not.toBe(records[0]?.time);
  });

  it("cuts a very busy minute into time slices without losing order, count or attack tuples", () => {
    // Prepare
    const attacks = [{ kind: "scan" as const, macAddress: vnetNic.macAddress, startIso: "2026-11-22T10:07:00Z" }];

    // Act
    const records = [
      ...generateRecords({
        topology,
        nic: vnetNic,
        hourIso: HOUR,
        minutes: { first: 7, last: 7 },
        tuplesPerMinute: 120_000,
        attacks,
      }),
    ] as VnetFlowLogRecord[];

    // Assess
    expect(records.map(countTuples).reduce((a, b) => a + b, 0)).toBe(120_000 + 150);
    expect(records.slice(0, -1).every((record) => countTuples(record) === 600)).toBe(true);
    expect(new Set(records.map((r) => r.time)).size).toBe(1);
    const times = records.map((record) => vnetTuples(record).map((t) => Number(t.split(",")[0])));
    for (const [i, recordTimes] of times.entries()) {
      // Rule groups reorder tuples inside a record, but records follow each other in time.
      if (i > 0) expect(Math.min(...recordTimes)).toBeGreaterThanOrEqual(Math.max(...(times[i - 1] as number[])));
    }
    expect(records.flatMap(vnetTuples).filter((t) => t.includes(",45.155.205.233,"))).toHaveLength(150);
  });

  it("keeps default traffic in the range real NICs show (16..40 tuples a minute)", () => {
    // Act
    const counts = [...generateRecords({ topology, nic: vnetNic, hourIso: HOUR })].map(countTuples);

    // Assess
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(16);
    expect(Math.max(...counts)).toBeLessThanOrEqual(41);
  });

  it("is read back by the project's flattener without issues, one event per tuple", () => {
    for (const nic of [nsgNic, vnetNic]) {
      // Prepare
      const options = { topology, nic, hourIso: HOUR };
      const expectedTuples = [...generateRecords(options)].reduce((sum, record) => sum + countTuples(record), 0);

      // Act
      const events = eventsOfBlob(options);

      // Assess
      expect(events).toHaveLength(expectedTuples);
      expect(new Set(events.map((e) => e.mac))).toEqual(new Set([nic.macAddress]));
      expect(new Set(events.map((e) => e.sourceKind))).toEqual(new Set([nic.kind]));
    }
  });

  it("rejects an hour that is not a whole UTC hour and a bad minute range, naming them", () => {
    expect(() => [...generateRecords({ topology, nic: nsgNic, hourIso: "2026-11-22T10:30:00Z" })]).toThrow(
      /hourIso must be a whole UTC hour/,
    );
    expect(() => [...generateRecords({ topology, nic: nsgNic, hourIso: "yesterday" })]).toThrow(/hourIso/);
    expect(() => [
      ...generateRecords({ topology, nic: nsgNic, hourIso: HOUR, minutes: { first: 10, last: 60 } }),
    ]).toThrow(/minutes must be/);
    expect(() => [...generateRecords({ topology, nic: nsgNic, hourIso: HOUR, tuplesPerMinute: -1 })]).toThrow(
      /tuplesPerMinute/,
    );
  });
});

describe("serializeBlob", () => {
  it("streams the service's block layout: head, comma-prefixed records after the first, tail", () => {
    // Prepare
    const records = [...generateRecords({ topology, nic: nsgNic, hourIso: HOUR, minutes: { first: 0, last: 2 } })];

    // Act
    const chunks = [...serializeBlob(records)];

    // Assess
    expect(chunks[0]).toBe(FLOW_LOG_HEAD);
    expect(Buffer.byteLength(FLOW_LOG_HEAD)).toBe(12);
    expect(chunks.at(-1)).toBe(FLOW_LOG_TAIL);
    expect(chunks).toHaveLength(records.length + 2);
    expect(chunks[1]?.startsWith("{")).toBe(true);
    for (const chunk of chunks.slice(2, -1)) expect(chunk.startsWith(",{")).toBe(true);
    expect(JSON.parse(chunks.join(""))).toEqual({ records });
  });

  it("writes an empty blob as a valid document", () => {
    expect(JSON.parse([...serializeBlob([])].join(""))).toEqual({ records: [] });
  });
});

describe("blobPathFor", () => {
  it("names NSG and VNet blobs as the service does, parseable by the project's path parser", () => {
    for (const nic of [nsgNic, vnetNic]) {
      // Act
      const { container, path } = blobPathFor(nic, "2026-11-22T09:00:00Z");
      const parsed = parseBlobPath(`${container}/${path}`);

      // Assess
      expect(parsed).toMatchObject({
        kind: nic.kind,
        container,
        path,
        mac: nic.macAddress,
        hour: "2026-11-22T09:00:00.000Z",
        subscriptionId: nic.subscriptionId.toUpperCase(),
      });
    }
    expect(blobPathFor(nsgNic, HOUR)).toEqual({
      container: "insights-logs-networksecuritygroupflowevent",
      path: `resourceId=${nsgNic.nsgResourceId}/y=2026/m=11/d=22/h=10/m=00/macAddress=${nsgNic.macAddress}/PT1H.json`,
    });
    expect(blobPathFor(vnetNic, HOUR)).toEqual({
      container: "insights-logs-flowlogflowevent",
      path:
        `flowLogResourceID=${vnetNic.flowLogResourceId}/y=2026/m=11/d=22/h=10/m=00/` +
        `macAddress=${vnetNic.macAddress}/PT1H.json`,
    });
  });
});

describe("planBlobs", () => {
  it("lists every NIC's blob hour by hour", () => {
    // Act
    const planned = [...planBlobs(topology, "2026-11-22T23:00:00Z", 2)];

    // Assess
    expect(planned.map((p) => [p.hourIso, p.nic.macAddress])).toEqual([
      ["2026-11-22T23:00:00.000Z", nsgNic.macAddress],
      ["2026-11-22T23:00:00.000Z", vnetNic.macAddress],
      ["2026-11-23T00:00:00.000Z", nsgNic.macAddress],
      ["2026-11-23T00:00:00.000Z", vnetNic.macAddress],
    ]);
    expect(planned[2]).toMatchObject(blobPathFor(nsgNic, "2026-11-23T00:00:00Z"));
    expect(planned[2]?.path).toContain("/y=2026/m=11/d=23/h=00/m=00/");
  });
});
