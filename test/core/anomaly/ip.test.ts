import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyIp, isIpInCidr, parseCidr, parseIPv4, parseIPv6 } from "../../../src/core/anomaly/ip";

describe("IP classification", () => {
  it.each([
    ["10.1.2.3"],
    ["172.16.0.1"],
    ["172.31.255.255"],
    ["192.168.1.1"],
    ["100.64.0.1"],
    ["100.127.255.255"],
    ["127.0.0.1"],
    ["169.254.169.254"],
    ["0.0.0.0"],
    ["224.0.0.251"],
    ["255.255.255.255"],
    ["192.0.2.10"],
    ["168.63.129.16"],
    ["::1"],
    ["::"],
    ["fe80::1%eth0"],
    ["fd12:3456:789a::1"],
    ["fc00::1"],
    ["ff02::1"],
    ["2001:db8::1"],
    ["::ffff:10.0.0.1"],
  ])("%s is not public", (address) => {
    // Prepare/Act
    const scope = classifyIp(address);
    // Assess
    expect(scope).toBe("private");
  });

  it.each([
    ["8.8.8.8"],
    ["172.32.0.1"],
    ["100.128.0.1"],
    ["203.0.114.7"],
    ["52.239.1.1"],
    ["2606:4700::1111"],
    ["2a01:111:f400::1"],
    ["::ffff:8.8.4.4"],
  ])("%s is public", (address) => {
    expect(classifyIp(address)).toBe("public");
  });

  it.each([
    ["1.2.3"],
    ["1.2.3.4.5"],
    ["256.1.1.1"],
    ["01.2.3.4"],
    ["1.2.3.-4"],
    ["a.b.c.d"],
    [""],
    ["1::2::3"],
    ["12345::"],
    ["1:2:3:4:5:6:7:8:9"],
    ["::g"],
    ["1.2.3.4/8"],
  ])("%s is not an address", (text) => {
    expect(classifyIp(text)).toBe("invalid");
  });

  it("parses every dotted quad it prints, and nothing else changes it", () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(parseIPv4(address)?.join(".")).toBe(address);
      }),
    );
  });

  it("parses every IPv6 form fast-check generates (compressed, embedded IPv4) to 16 bytes", () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        expect(parseIPv6(address)).toHaveLength(16);
      }),
    );
  });

  it("classifies private ranges as private whatever the host part", () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(255), (a, b, c) => {
        expect(classifyIp(`10.${a}.${b}.${c}`)).toBe("private");
        expect(classifyIp(`192.168.${b}.${c}`)).toBe("private");
        expect(classifyIp(`172.${16 + (a % 16)}.${b}.${c}`)).toBe("private");
      }),
    );
  });

  it("matches addresses against CIDR blocks, v4 and v6", () => {
    // Prepare
    const subnet = parseCidr("10.0.1.0/24")!;
    const v6 = parseCidr("fd00:1::/32")!;
    // Act/Assess
    expect(isIpInCidr("10.0.1.200", subnet)).toBe(true);
    expect(isIpInCidr("10.0.2.1", subnet)).toBe(false);
    expect(isIpInCidr("fd00:1:ffff::5", v6)).toBe(true);
    expect(isIpInCidr("fd00:2::5", v6)).toBe(false);
    expect(isIpInCidr("10.0.1.1", v6)).toBe(false);
    expect(parseCidr("10.0.0.0/33")).toBeNull();
    expect(parseCidr("10.0.0.0/")).toBeNull();
  });
});
