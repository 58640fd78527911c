import { describe, expect, it } from "vitest";
import {
  addDropCounts,
  compileEventFilter,
  NO_EVENT_FILTERS,
  validateEventFilters,
  type DropCounts,
} from "../../src/core/eventFilter";
import { flowEvent } from "./anomaly/flowEvents";

const WHERE = "Setting FLOWTAP_EVENT_FILTERS";

describe("validateEventFilters", () => {
  it("accepts every condition and keeps the rules in order", () => {
    // Prepare
    const config = {
      drop: [
        { reason: "denied", decision: "deny" },
        {
          reason: "chatty",
          flowStates: ["continuing"],
          directions: ["outbound"],
          protocols: ["TCP", "17"],
          cidrs: ["10.0.0.0/8"],
          srcCidrs: ["fd00::/8"],
          dstCidrs: ["168.63.129.16"],
          ports: [443, "8000-8100"],
          srcPorts: [0],
          dstPorts: ["53"],
        },
      ],
    };
    // Act
    const valid = validateEventFilters(config, WHERE);
    // Assess
    expect(valid).toEqual(config);
  });

  it.each([
    [[], /FLOWTAP_EVENT_FILTERS must be an object/],
    [{ drop: {} }, /FLOWTAP_EVENT_FILTERS\.drop must be an array/],
    [{ drop: [], keep: [] }, /FLOWTAP_EVENT_FILTERS\.keep is not a known setting/],
    [{ drop: [{ decision: "deny" }] }, /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.reason must be a non-empty string/],
    [{ drop: [{ reason: "all" }] }, /FLOWTAP_EVENT_FILTERS\.drop\[0\] must have at least one condition/],
    [
      { drop: [{ reason: "x", decision: "block" }] },
      /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.decision must be allow or deny/,
    ],
    [
      { drop: [{ reason: "x", flowStates: ["B"] }] },
      /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.flowStates\[0\] must be one of begin, continuing, end, deny/,
    ],
    [{ drop: [{ reason: "x", flowStates: [] }] }, /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.flowStates must not be empty/],
    [
      { drop: [{ reason: "x", cidrs: ["10.0.0.0/8", "10.0.0/8"] }] },
      /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.cidrs\[1\] must be a CIDR block or an address .*got "10\.0\.0\/8"/,
    ],
    [
      { drop: [{ reason: "x", dstPorts: [70000] }] },
      /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.dstPorts\[0\] must be a port 0-65535 or a range "from-to", got 70000/,
    ],
    [
      { drop: [{ reason: "x", ports: ["90-80"] }] },
      /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.ports\[0\] must be a port 0-65535 or a range/,
    ],
    [
      {
        drop: [
          { reason: "x", decision: "deny" },
          { reason: "x", decision: "allow" },
        ],
      },
      /FLOWTAP_EVENT_FILTERS\.drop\[1\]\.reason repeats 'x': reasons must be unique/,
    ],
    [{ drop: [{ reason: "x", port: [1] }] }, /FLOWTAP_EVENT_FILTERS\.drop\[0\]\.port is not a known setting/],
  ])("refuses a bad configuration naming the field (%#)", (config, message) => {
    expect(() => validateEventFilters(config, WHERE)).toThrow(message);
  });
});

describe("compileEventFilter", () => {
  it("drops nothing without rules", () => {
    expect(compileEventFilter(NO_EVENT_FILTERS)).toBeNull();
  });

  it("drops by record type: decision and flow state together", () => {
    // Prepare
    const drop = compileEventFilter(
      validateEventFilters({ drop: [{ reason: "denied-begins", decision: "deny", flowStates: ["begin"] }] }, WHERE),
    )!;
    // Act
    const reasons = [
      flowEvent({ decision: "deny", flowState: "begin" }),
      flowEvent({ decision: "deny", flowState: null }),
      flowEvent({ decision: "allow", flowState: "begin" }),
    ].map(drop);
    // Assess
    expect(reasons).toEqual(["denied-begins", null, null]);
  });

  it("drops by address block on either side or one side, IPv4 and IPv6", () => {
    // Prepare
    const drop = compileEventFilter(
      validateEventFilters(
        {
          drop: [
            { reason: "azure-dns", dstCidrs: ["168.63.129.16/32"] },
            { reason: "lab", cidrs: ["10.9.0.0/16", "fd00::/8"] },
          ],
        },
        WHERE,
      ),
    )!;
    // Act
    const reasons = [
      flowEvent({ srcIp: "10.0.0.4", dstIp: "168.63.129.16" }),
      flowEvent({ srcIp: "168.63.129.16", dstIp: "10.0.0.4" }),
      flowEvent({ srcIp: "203.0.113.9", dstIp: "10.9.3.3" }),
      flowEvent({ srcIp: "fd12::1", dstIp: "2001:db8::1" }),
      flowEvent({ srcIp: "not-an-ip", dstIp: "10.0.0.4" }),
    ].map(drop);
    // Assess: the first rule that matches names the reason.
    expect(reasons).toEqual(["azure-dns", null, "lab", "lab", null]);
  });

  it("drops by port lists and ranges, on either port or one side, and by protocol", () => {
    // Prepare
    const drop = compileEventFilter(
      validateEventFilters(
        {
          drop: [
            { reason: "dns", dstPorts: [53], protocols: ["udp"] },
            { reason: "high", ports: ["8000-8100"] },
          ],
        },
        WHERE,
      ),
    )!;
    // Act
    const reasons = [
      flowEvent({ dstPort: 53, protocol: "UDP" }),
      flowEvent({ dstPort: 53, protocol: "TCP" }),
      flowEvent({ srcPort: 53, dstPort: 40000, protocol: "UDP" }),
      flowEvent({ srcPort: 8100, dstPort: 1 }),
      flowEvent({ srcPort: 7999, dstPort: 8101 }),
    ].map(drop);
    // Assess
    expect(reasons).toEqual(["dns", null, null, "high", null]);
  });
});

describe("addDropCounts", () => {
  it("adds counts by reason, tolerating none", () => {
    const into: DropCounts = { a: 1 };
    addDropCounts(into, { a: 2, b: 3 });
    addDropCounts(into, undefined);
    expect(into).toEqual({ a: 3, b: 3 });
  });
});
