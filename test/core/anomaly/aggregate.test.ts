import { describe, expect, it } from "vitest";
import { aggregateFlowEvents, aggregateOptionsFor } from "../../../src/core/anomaly/aggregate";
import { DEFAULT_RULES } from "../../../src/core/anomaly/rules";
import { eventsInMinute, flowEvent, NSG_ID, TARGET_IP, TARGET_MAC } from "./flowEvents";

const options = { sourceId: "blob-a#0-3", sensitivePorts: [22, 3389] };

describe("aggregateFlowEvents", () => {
  it("splits by target and minute, keyed by MAC, else by resource id", () => {
    // Prepare
    const vnetTarget = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/networkInterfaces/NIC1";
    const events = [
      flowEvent({ time: "2026-11-22T12:00:59.999Z" }),
      flowEvent({ time: "2026-11-22T12:01:00.000Z" }),
      flowEvent({ time: "2026-11-22T13:01:30+01:00" }), // non-canonical ISO still lands in its UTC minute
      flowEvent({ mac: null, targetResourceId: vnetTarget, sourceKind: "vnet", nsgName: null, flowLogName: "fl1" }),
      flowEvent({ mac: null, targetResourceId: null }),
    ];
    // Act
    const aggregates = aggregateFlowEvents(events, options);
    // Assess
    expect(aggregates.map((aggregate) => [aggregate.target.key, aggregate.minute])).toEqual([
      [vnetTarget.toLowerCase(), "2026-11-22T12:00:00.000Z"],
      [TARGET_MAC, "2026-11-22T12:00:00.000Z"],
      [TARGET_MAC, "2026-11-22T12:01:00.000Z"],
    ]);
    expect(aggregates[1]).toMatchObject({
      sourceId: "blob-a#0-3",
      localIps: [TARGET_IP],
      nsgNames: ["NSG-WEB"],
      target: { mac: TARGET_MAC, resourceId: NSG_ID },
    });
    expect(aggregates[0].flowLogNames).toEqual(["fl1"]);
  });

  it("counts new denied inbound flows per source, distinct ports, and sensitive allowed public flows", () => {
    // Prepare
    const events = [
      flowEvent({ srcIp: "198.51.99.1", dstPort: 80 }),
      flowEvent({ srcIp: "198.51.99.1", dstPort: 81, flowState: "deny", sourceKind: "vnet", protocol: "UDP" }),
      flowEvent({ srcIp: "198.51.99.1", dstPort: 81, flowState: "end" }), // repeats an open flow
      flowEvent({ srcIp: "198.51.99.2", dstPort: 22, decision: "allow" }),
      flowEvent({ srcIp: "198.51.99.2", dstPort: 22, decision: "allow", flowState: null, flowLogVersion: 1 }),
      flowEvent({ srcIp: "198.51.99.2", dstPort: 22, decision: "allow", flowState: "continuing" }),
      flowEvent({ srcIp: "10.9.9.9", dstPort: 3389, decision: "allow" }), // private: not brute force
      flowEvent({ srcIp: "198.51.99.3", dstPort: 8080, decision: "allow" }), // not a sensitive port
    ];
    // Act
    const [aggregate] = aggregateFlowEvents(events, options);
    // Assess
    expect(aggregate.inbound["198.51.99.1"]).toEqual({
      denied: 2,
      ports: [80, 81],
      sensitive: {},
      protocols: ["TCP", "UDP"],
    });
    expect(aggregate.inbound["198.51.99.2"]).toMatchObject({ denied: 0, ports: [22], sensitive: { 22: 2 } });
    expect(aggregate.inbound["10.9.9.9"].sensitive).toEqual({});
    expect(aggregate.inbound["198.51.99.3"].sensitive).toEqual({});
  });

  it("sums bytes the target sent in outbound flows, per remote", () => {
    // Prepare
    const outbound = {
      direction: "outbound" as const,
      decision: "allow" as const,
      srcIp: TARGET_IP,
      flowState: "continuing" as const,
    };
    const events = [
      flowEvent({ ...outbound, dstIp: "52.1.1.1", dstPort: 443, bytesSrcToDst: 1000, bytesDstToSrc: 99 }),
      flowEvent({ ...outbound, dstIp: "52.1.1.1", dstPort: 443, bytesSrcToDst: 500 }),
      flowEvent({ ...outbound, dstIp: "52.2.2.2", dstPort: 22, bytesSrcToDst: 7 }),
      flowEvent({ ...outbound, dstIp: "52.3.3.3", bytesSrcToDst: null, flowState: "begin" }),
    ];
    // Act
    const [aggregate] = aggregateFlowEvents(events, options);
    // Assess
    expect(aggregate.egress).toEqual({
      bytes: 1507,
      remotes: {
        "52.1.1.1": { bytes: 1500, ports: [443], protocols: ["TCP"] },
        "52.2.2.2": { bytes: 7, ports: [22], protocols: ["TCP"] },
      },
    });
    expect(aggregate.localIps).toEqual([TARGET_IP]);
  });

  it("bounds sources (top-K per measure) and ports per source, and says how many were dropped", () => {
    // Prepare: 300 sources with one denied flow each, plus one scanner with 500 ports
    const crowd = eventsInMinute("2026-11-22T12:00:00.000Z", 300, (index) => ({
      srcIp: `45.9.${index >> 8}.${index & 255}`,
    }));
    const scan = eventsInMinute("2026-11-22T12:00:00.000Z", 500, (index) => ({
      srcIp: "45.1.1.1",
      dstPort: 1000 + index,
      decision: "allow",
      flowState: "begin",
    }));
    // Act
    const [aggregate] = aggregateFlowEvents([...crowd, ...scan], {
      ...options,
      maxSourcesPerMeasure: 20,
      maxPortsPerSource: 30,
    });
    // Assess
    expect(Object.keys(aggregate.inbound).length).toBeLessThanOrEqual(60);
    expect(aggregate.inbound["45.1.1.1"].ports).toHaveLength(30);
    expect(aggregate.droppedSources).toBe(301 - Object.keys(aggregate.inbound).length);
    expect(JSON.stringify(aggregate).length).toBeLessThan(10_000);
  });

  it("derives options from rules: their sensitive ports and enough ports for the largest scan threshold", () => {
    // Prepare
    const rules = [...DEFAULT_RULES, { ...DEFAULT_RULES[1], id: "wide-scan", thresholds: { distinctPorts: 200 } }];
    // Act
    const derived = aggregateOptionsFor(rules, "src");
    // Assess
    expect(derived).toEqual({ sourceId: "src", sensitivePorts: [22, 3389], maxPortsPerSource: 200 });
  });
});
