/**
 * Cost filters: configured drops of flow events before they are encoded and sent. Each drop rule
 * names the reason it is counted under and lists conditions that must all hold (record type:
 * decision, flow state, direction, protocol; address blocks; ports). A dropped event is never
 * sent but always counted by its reason, so dropped never means lost without a trace.
 */
import { isIpInCidr, parseCidr, type Cidr } from "./anomaly/ip";
import {
  expectArray,
  expectKnownKeys,
  expectNonEmptyString,
  expectObject,
  fail,
  type JsonObject,
} from "./anomaly/validate";
import type { Decision, Direction, FlowEvent, FlowState } from "./event";

/** A port, or an inclusive range written `"from-to"`. */
export type PortSpec = number | string;

export interface DropRuleConfig {
  /** Counted under this name (in run summaries and freshness events); unique among the rules. */
  reason: string;
  decision?: Decision;
  flowStates?: FlowState[];
  directions?: Direction[];
  /** As events name them: `TCP`, `UDP`, `ICMP`, `ICMPv6`, or an IANA number. */
  protocols?: string[];
  /** Either address in one of these blocks. */
  cidrs?: string[];
  srcCidrs?: string[];
  dstCidrs?: string[];
  /** Either port in one of these. */
  ports?: PortSpec[];
  srcPorts?: PortSpec[];
  dstPorts?: PortSpec[];
}

export interface EventFilterConfig {
  /** A tuple matching any rule is dropped, counted under the first one it matches. */
  drop: DropRuleConfig[];
}

export const NO_EVENT_FILTERS: EventFilterConfig = Object.freeze({ drop: [] }) as EventFilterConfig;

/** Dropped events by reason. */
export type DropCounts = Record<string, number>;

const DECISIONS: readonly Decision[] = ["allow", "deny"];
const FLOW_STATES: readonly FlowState[] = ["begin", "continuing", "end", "deny"];
const DIRECTIONS: readonly Direction[] = ["inbound", "outbound"];
const CONDITION_KEYS = [
  "decision",
  "flowStates",
  "directions",
  "protocols",
  "cidrs",
  "srcCidrs",
  "dstCidrs",
  "ports",
  "srcPorts",
  "dstPorts",
] as const;
const CIDR_KEYS = ["cidrs", "srcCidrs", "dstCidrs"] as const;
const PORT_KEYS = ["ports", "srcPorts", "dstPorts"] as const;
const MAX_PORT = 65535;

function expectChoices<T extends string>(value: unknown, choices: readonly T[], path: string): T[] {
  const list = expectArray(value, path);
  if (list.length === 0) fail(path, "must not be empty (leave it out to match any)");
  return list.map((item, index) => {
    if (!choices.includes(item as T)) fail(`${path}[${index}]`, `must be one of ${choices.join(", ")}`);
    return item as T;
  });
}

function expectNonEmptyList(value: unknown, path: string): unknown[] {
  const list = expectArray(value, path);
  if (list.length === 0) fail(path, "must not be empty (leave it out to match any)");
  return list;
}

/** `[from, to]` of a port spec, or what is wrong with it. */
function portRangeOf(spec: unknown): [number, number] | null {
  const isPort = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= MAX_PORT;
  if (typeof spec === "number") return isPort(spec) ? [spec, spec] : null;
  if (typeof spec !== "string") return null;
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec.trim());
  if (!match) return null;
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  return isPort(from) && isPort(to) && from <= to ? [from, to] : null;
}

function validateRule(value: unknown, path: string): DropRuleConfig {
  const object: JsonObject = expectObject(value, path);
  expectKnownKeys(object, ["reason", ...CONDITION_KEYS], path);
  const rule: DropRuleConfig = { reason: expectNonEmptyString(object["reason"], `${path}.reason`) };
  if (!CONDITION_KEYS.some((key) => object[key] !== undefined))
    fail(path, `must have at least one condition (${CONDITION_KEYS.join(", ")}): it would drop everything`);
  if (object["decision"] !== undefined) {
    if (!DECISIONS.includes(object["decision"] as Decision)) fail(`${path}.decision`, "must be allow or deny");
    rule.decision = object["decision"] as Decision;
  }
  if (object["flowStates"] !== undefined)
    rule.flowStates = expectChoices(object["flowStates"], FLOW_STATES, `${path}.flowStates`);
  if (object["directions"] !== undefined)
    rule.directions = expectChoices(object["directions"], DIRECTIONS, `${path}.directions`);
  if (object["protocols"] !== undefined) {
    rule.protocols = expectNonEmptyList(object["protocols"], `${path}.protocols`).map((item, index) =>
      expectNonEmptyString(item, `${path}.protocols[${index}]`),
    );
  }
  for (const key of CIDR_KEYS) {
    if (object[key] === undefined) continue;
    rule[key] = expectNonEmptyList(object[key], `${path}.${key}`).map((item, index) => {
      if (typeof item !== "string" || parseCidr(item.trim()) === null)
        fail(
          `${path}.${key}[${index}]`,
          `must be a CIDR block or an address (10.0.0.0/8, fd00::/8), got ${JSON.stringify(item)}`,
        );
      return item.trim();
    });
  }
  for (const key of PORT_KEYS) {
    if (object[key] === undefined) continue;
    rule[key] = expectNonEmptyList(object[key], `${path}.${key}`).map((item, index) => {
      if (portRangeOf(item) === null)
        fail(`${path}.${key}[${index}]`, `must be a port 0-65535 or a range "from-to", got ${JSON.stringify(item)}`);
      return item as PortSpec;
    });
  }
  return rule;
}

/** Checks a filter configuration; errors start with the path of what is wrong (`where.drop[1].cidrs[0] ...`). */
export function validateEventFilters(value: unknown, where: string): EventFilterConfig {
  const object = expectObject(value, where);
  expectKnownKeys(object, ["drop"], where);
  const drop = expectArray(object["drop"], `${where}.drop`).map((rule, index) =>
    validateRule(rule, `${where}.drop[${index}]`),
  );
  const seen = new Set<string>();
  drop.forEach((rule, index) => {
    if (seen.has(rule.reason))
      fail(`${where}.drop[${index}].reason`, `repeats '${rule.reason}': reasons must be unique`);
    seen.add(rule.reason);
  });
  return { drop };
}

type Condition = (event: FlowEvent) => boolean;

function inPorts(ranges: ReadonlyArray<[number, number]>): (port: number) => boolean {
  return (port) => ranges.some(([from, to]) => port >= from && port <= to);
}

function inCidrs(blocks: readonly Cidr[]): (ip: string) => boolean {
  return (ip) => blocks.some((block) => isIpInCidr(ip, block));
}

/** The conditions of a rule, cheapest first (record type before addresses). */
function conditionsOf(rule: DropRuleConfig): Condition[] {
  const conditions: Condition[] = [];
  const { decision, flowStates, directions, protocols } = rule;
  if (decision !== undefined) conditions.push((event) => event.decision === decision);
  if (flowStates) conditions.push((event) => event.flowState !== null && flowStates.includes(event.flowState));
  if (directions) conditions.push((event) => directions.includes(event.direction));
  if (protocols) {
    const upper = protocols.map((protocol) => protocol.toUpperCase());
    conditions.push((event) => upper.includes(event.protocol.toUpperCase()));
  }
  const portsIn = (specs?: PortSpec[]) => specs && inPorts(specs.map((spec) => portRangeOf(spec)!));
  const [anyPort, srcPort, dstPort] = [portsIn(rule.ports), portsIn(rule.srcPorts), portsIn(rule.dstPorts)];
  if (anyPort) conditions.push((event) => anyPort(event.srcPort) || anyPort(event.dstPort));
  if (srcPort) conditions.push((event) => srcPort(event.srcPort));
  if (dstPort) conditions.push((event) => dstPort(event.dstPort));
  const blocksIn = (texts?: string[]) => texts && inCidrs(texts.map((text) => parseCidr(text)!));
  const [anyIp, srcIp, dstIp] = [blocksIn(rule.cidrs), blocksIn(rule.srcCidrs), blocksIn(rule.dstCidrs)];
  if (anyIp) conditions.push((event) => anyIp(event.srcIp) || anyIp(event.dstIp));
  if (srcIp) conditions.push((event) => srcIp(event.srcIp));
  if (dstIp) conditions.push((event) => dstIp(event.dstIp));
  return conditions;
}

/** A compiled filter: the reason an event is dropped for, or null to keep it. */
export type EventFilter = (event: FlowEvent) => string | null;

export function compileEventFilter(config: EventFilterConfig): EventFilter | null {
  if (config.drop.length === 0) return null;
  const rules = config.drop.map((rule) => ({ reason: rule.reason, conditions: conditionsOf(rule) }));
  return (event) => {
    for (const rule of rules) if (rule.conditions.every((condition) => condition(event))) return rule.reason;
    return null;
  };
}

/** Adds `more` into `into` (both by reason). */
export function addDropCounts(into: DropCounts, more: Readonly<DropCounts> | undefined): void {
  if (!more) return;
  for (const [reason, count] of Object.entries(more)) into[reason] = (into[reason] ?? 0) + count;
}
