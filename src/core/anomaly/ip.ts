/**
 * IP address parsing and classification without regular expressions: addresses come from
 * flow tuples (millions per hour), so a character-level parser is both faster and stricter.
 */

/** An address as big-endian bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = readonly number[];

function parseDecimalOctet(text: string): number | null {
  if (text.length === 0 || text.length > 3) return null;
  if (text.length > 1 && text[0] === "0") return null; // leading zeros are ambiguous (octal)
  let value = 0;
  for (const char of text) {
    const digit = char.charCodeAt(0) - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return value <= 255 ? value : null;
}

/** Parses dotted-quad IPv4 (`10.0.0.1`); null if not exactly that. */
export function parseIPv4(text: string): IpBytes | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    const octet = parseDecimalOctet(part);
    if (octet === null) return null;
    bytes.push(octet);
  }
  return bytes;
}

function parseHexGroup(text: string): number | null {
  if (text.length === 0 || text.length > 4) return null;
  const value = Number.parseInt(text, 16);
  for (const char of text) {
    const isHex = (char >= "0" && char <= "9") || (char >= "a" && char <= "f") || (char >= "A" && char <= "F");
    if (!isHex) return null;
  }
  return value;
}

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index];
    if (index === parts.length - 1 && part.includes(".")) {
      const v4 = parseIPv4(part);
      if (!v4) return null;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      const group = parseHexGroup(part);
      if (group === null) return null;
      groups.push(group);
    }
  }
  return groups;
}

/** Parses IPv6 text (compressed `::`, embedded IPv4 tail, `%zone` suffix); null if invalid. */
export function parseIPv6(text: string): IpBytes | null {
  const zoneAt = text.indexOf("%");
  const address = zoneAt >= 0 ? text.slice(0, zoneAt) : text;
  const gapAt = address.indexOf("::");
  let groups: number[] | null;
  if (gapAt < 0) {
    groups = parseGroups(address);
    if (!groups || groups.length !== 8) return null;
  } else {
    if (address.indexOf("::", gapAt + 1) >= 0) return null;
    const head = parseGroups(address.slice(0, gapAt));
    const tail = parseGroups(address.slice(gapAt + 2));
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/** Parses IPv4 or IPv6; null if neither. */
export function parseIp(text: string): IpBytes | null {
  return text.includes(":") ? parseIPv6(text) : parseIPv4(text);
}

function startsWithPrefix(address: IpBytes, prefix: IpBytes, prefixLength: number): boolean {
  if (address.length !== prefix.length) return false;
  for (let bit = 0; bit < prefixLength; bit += 8) {
    const bitsInByte = Math.min(8, prefixLength - bit);
    const mask = (0xff << (8 - bitsInByte)) & 0xff;
    const byteIndex = bit / 8;
    if ((address[byteIndex] & mask) !== (prefix[byteIndex] & mask)) return false;
  }
  return true;
}

/** A parsed CIDR block. */
export interface Cidr {
  prefix: IpBytes;
  prefixLength: number;
}

/** Parses `10.0.0.0/16`, `fd00::/8`, or a bare address (a /32 or /128); null if invalid. */
export function parseCidr(text: string): Cidr | null {
  const slashAt = text.indexOf("/");
  const prefix = parseIp(slashAt >= 0 ? text.slice(0, slashAt) : text);
  if (!prefix) return null;
  const maxLength = prefix.length * 8;
  if (slashAt < 0) return { prefix, prefixLength: maxLength };
  const lengthText = text.slice(slashAt + 1);
  const prefixLength = parseDecimalOctet(lengthText);
  if (prefixLength === null || prefixLength > maxLength) return null;
  return { prefix, prefixLength };
}

/** True when `ip` (text) lies in `cidr`; an unparsable ip is in no block. */
export function isIpInCidr(ip: string, cidr: Cidr): boolean {
  const address = parseIp(ip);
  return address !== null && startsWithPrefix(address, cidr.prefix, cidr.prefixLength);
}

function block(text: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`invalid built-in block ${text}`);
  return cidr;
}

/**
 * IPv4 blocks that are not publicly routable sources: this-network, RFC1918, CGNAT,
 * loopback, link-local, IETF protocol assignments, documentation, benchmarking, multicast,
 * reserved/broadcast, plus Azure's platform address 168.63.129.16 (DHCP, DNS, health probes),
 * which shows up in every flow log and is never an attacker.
 */
const NON_PUBLIC_V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "168.63.129.16/32",
].map(block);

/**
 * IPv6: only global unicast 2000::/3 is public, which already excludes unspecified, loopback,
 * discard-only 100::/64, unique-local fc00::/7 (ULA), link-local fe80::/10 and multicast ff00::/8;
 * inside it, documentation 2001:db8::/32 and benchmarking 2001:2::/48 are not public either.
 */
const NON_PUBLIC_GLOBAL_V6 = ["2001:db8::/32", "2001:2::/48"].map(block);
const GLOBAL_UNICAST_V6 = block("2000::/3");
const IPV4_MAPPED_V6 = block("::ffff:0:0/96");

/** "public" | "private" (not publicly routable) | "invalid" (not an IP address). */
export type IpScope = "public" | "private" | "invalid";

/** Classifies an address; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is classified as its IPv4. */
export function classifyIp(text: string): IpScope {
  const address = parseIp(text);
  if (!address) return "invalid";
  if (address.length === 4) {
    return NON_PUBLIC_V4.some((cidr) => startsWithPrefix(address, cidr.prefix, cidr.prefixLength))
      ? "private"
      : "public";
  }
  if (startsWithPrefix(address, IPV4_MAPPED_V6.prefix, IPV4_MAPPED_V6.prefixLength)) {
    return classifyIp(address.slice(12).join("."));
  }
  if (!startsWithPrefix(address, GLOBAL_UNICAST_V6.prefix, GLOBAL_UNICAST_V6.prefixLength)) return "private";
  return NON_PUBLIC_GLOBAL_V6.some((cidr) => startsWithPrefix(address, cidr.prefix, cidr.prefixLength))
    ? "private"
    : "public";
}

/** True for publicly routable addresses (see `classifyIp`). */
export function isPublicIp(text: string): boolean {
  return classifyIp(text) === "public";
}
