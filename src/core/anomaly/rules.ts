import { configurationError } from "../../errors";
import { parseCidr, type Cidr } from "./ip";
import {
  expectArray,
  expectBoolean,
  expectKnownKeys,
  expectNonEmptyString,
  expectObject,
  expectPositiveInteger,
  expectStringList,
  fail,
  parseJsonSetting,
} from "./validate";

/**
 * Anomaly rules, configured as JSON `{ "rules": [ ... ] }` (an app setting or a file) and
 * validated at start. With no configuration, DEFAULT_RULES apply.
 */

export type RuleKind = "deniedFlood" | "portScan" | "bruteForce" | "egressBytes";
export const RULE_KINDS: readonly RuleKind[] = ["deniedFlood", "portScan", "bruteForce", "egressBytes"];

/** What each kind counts, and the threshold key that names it. */
export const THRESHOLD_KEY = {
  /** Denied inbound flows from one source to the target. */
  deniedFlood: "deniedFlows",
  /** Distinct destination ports on the target reached (allowed or denied) by one source. */
  portScan: "distinctPorts",
  /** Allowed inbound flows from one public source to the rule's sensitive ports. */
  bruteForce: "allowedFlows",
  /** Bytes sent by the target in outbound flows (source-to-destination bytes). */
  egressBytes: "bytes",
} as const satisfies Record<RuleKind, string>;

/** Upper bounds that keep detector state small (see detector.ts). */
export const MAX_WINDOW_IN_MINUTES = 60;
export const MAX_DISTINCT_PORTS_THRESHOLD = 1024;
export const MAX_CAPTURE_DURATION_IN_SECONDS = 18_000;
export const DEFAULT_SENSITIVE_PORTS: readonly number[] = [22, 3389];

/** Azure Monitor-style severity: 0 critical .. 4 verbose. */
export type Severity = 0 | 1 | 2 | 3 | 4;

export interface RuleScope {
  /** NSG names (NSG flow logs), case-insensitive. */
  nsgNames?: string[];
  /** VNet flow log names, case-insensitive. */
  flowLogNames?: string[];
  /** Subnets/CIDRs one of the target's IPs must be in. */
  cidrs?: string[];
  /** Target MACs (any separator/case) or resource ids (case-insensitive). */
  targets?: string[];
}

export interface AnomalyRule {
  id: string;
  kind: RuleKind;
  /** One key, named by THRESHOLD_KEY[kind]; the rule fires when the value reaches it. */
  thresholds: Record<string, number>;
  windowInMinutes: number;
  cooldownInMinutes: number;
  severity: Severity;
  /** bruteForce only: the destination ports that count. */
  ports?: number[];
  scope?: RuleScope;
  /** Request a packet capture when the rule fires (never for historic alerts). */
  capture: boolean;
  captureDurationInSeconds?: number;
  captureMaxSizeInBytes?: number;
}

/** The rules users get with no configuration. */
export const DEFAULT_RULES: readonly AnomalyRule[] = [
  {
    id: "denied-flood",
    kind: "deniedFlood",
    thresholds: { deniedFlows: 100 },
    windowInMinutes: 5,
    cooldownInMinutes: 30,
    severity: 3,
    capture: false,
  },
  {
    id: "port-scan",
    kind: "portScan",
    thresholds: { distinctPorts: 25 },
    windowInMinutes: 5,
    cooldownInMinutes: 30,
    severity: 2,
    capture: false,
  },
  {
    id: "brute-force-ssh-rdp",
    kind: "bruteForce",
    thresholds: { allowedFlows: 20 },
    ports: [...DEFAULT_SENSITIVE_PORTS],
    windowInMinutes: 5,
    cooldownInMinutes: 60,
    severity: 1,
    capture: true,
    captureDurationInSeconds: 300,
  },
  {
    id: "egress-bytes",
    kind: "egressBytes",
    thresholds: { bytes: 1024 ** 3 },
    windowInMinutes: 15,
    cooldownInMinutes: 60,
    severity: 2,
    capture: true,
    captureDurationInSeconds: 300,
  },
];

const RULE_KEYS = [
  "id",
  "kind",
  "thresholds",
  "windowInMinutes",
  "cooldownInMinutes",
  "severity",
  "ports",
  "scope",
  "capture",
  "captureDurationInSeconds",
  "captureMaxSizeInBytes",
] as const;
const SCOPE_KEYS = ["nsgNames", "flowLogNames", "cidrs", "targets"] as const;
const DEFAULT_SEVERITY: Record<RuleKind, Severity> = { deniedFlood: 3, portScan: 2, bruteForce: 1, egressBytes: 2 };

function validateScope(value: unknown, path: string): RuleScope {
  const object = expectObject(value, path);
  expectKnownKeys(object, SCOPE_KEYS, path);
  const scope: RuleScope = {};
  for (const key of SCOPE_KEYS) {
    if (object[key] !== undefined) scope[key] = expectStringList(object[key], `${path}.${key}`);
  }
  scope.cidrs?.forEach((cidr, index) => {
    if (!parseCidr(cidr)) fail(`${path}.cidrs[${index}]`, `must be an IP address or CIDR block (got "${cidr}")`);
  });
  return scope;
}

function validatePort(value: unknown, path: string): number {
  return expectPositiveInteger(value, path, 65_535);
}

function optional<T>(object: Record<string, unknown>, key: string, validate: (value: unknown) => T): T | undefined {
  return object[key] === undefined ? undefined : validate(object[key]);
}

function validateRule(value: unknown, path: string): AnomalyRule {
  const object = expectObject(value, path);
  expectKnownKeys(object, RULE_KEYS, path);
  const id = expectNonEmptyString(object.id, `${path}.id`);
  const kindText = expectNonEmptyString(object.kind, `${path}.kind`);
  if (!(RULE_KINDS as readonly string[]).includes(kindText))
    fail(`${path}.kind`, `must be one of ${RULE_KINDS.join(", ")} (got "${kindText}")`);
  const kind = kindText as RuleKind;
  const thresholdKey = THRESHOLD_KEY[kind];
  const thresholdsObject = expectObject(object.thresholds, `${path}.thresholds`);
  expectKnownKeys(thresholdsObject, [thresholdKey], `${path}.thresholds`);
  const thresholdMax = kind === "portScan" ? MAX_DISTINCT_PORTS_THRESHOLD : undefined;
  const threshold = expectPositiveInteger(
    thresholdsObject[thresholdKey],
    `${path}.thresholds.${thresholdKey}`,
    thresholdMax,
  );
  const rule: AnomalyRule = {
    id,
    kind,
    thresholds: { [thresholdKey]: threshold },
    windowInMinutes: expectPositiveInteger(object.windowInMinutes, `${path}.windowInMinutes`, MAX_WINDOW_IN_MINUTES),
    cooldownInMinutes: expectPositiveInteger(object.cooldownInMinutes, `${path}.cooldownInMinutes`),
    severity:
      optional(object, "severity", (v) => {
        if (v !== 0 && v !== 1 && v !== 2 && v !== 3 && v !== 4) fail(`${path}.severity`, "must be 0, 1, 2, 3 or 4");
        return v;
      }) ?? DEFAULT_SEVERITY[kind],
    capture: object.capture === undefined ? false : expectBoolean(object.capture, `${path}.capture`),
  };
  if (kind === "bruteForce") {
    const ports = optional(object, "ports", (v) =>
      expectArray(v, `${path}.ports`).map((port, index) => validatePort(port, `${path}.ports[${index}]`)),
    );
    if (ports?.length === 0) fail(`${path}.ports`, "must list at least one port");
    rule.ports = ports ?? [...DEFAULT_SENSITIVE_PORTS];
  } else if (object.ports !== undefined) {
    fail(`${path}.ports`, `applies only to kind bruteForce`);
  }
  const scope = optional(object, "scope", (v) => validateScope(v, `${path}.scope`));
  if (scope) rule.scope = scope;
  const duration = optional(object, "captureDurationInSeconds", (v) =>
    expectPositiveInteger(v, `${path}.captureDurationInSeconds`, MAX_CAPTURE_DURATION_IN_SECONDS),
  );
  if (duration !== undefined) rule.captureDurationInSeconds = duration;
  const maxSize = optional(object, "captureMaxSizeInBytes", (v) =>
    expectPositiveInteger(v, `${path}.captureMaxSizeInBytes`),
  );
  if (maxSize !== undefined) rule.captureMaxSizeInBytes = maxSize;
  return rule;
}

/** Validates parsed rule configuration `{ "rules": [...] }`; throws a Configuration FlowtapError naming the path. */
export function validateRules(value: unknown): AnomalyRule[] {
  const root = expectObject(value, "anomaly rules");
  expectKnownKeys(root, ["rules"], "anomaly rules");
  const rules = expectArray(root.rules, "rules").map((rule, index) => validateRule(rule, `rules[${index}]`));
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    if (seen.has(rule.id)) fail(`rules[${index}].id`, `duplicates an earlier rule id "${rule.id}"`);
    seen.add(rule.id);
  });
  return rules;
}

/**
 * Loads rules from JSON text (app setting value or file contents); empty or missing text gives
 * DEFAULT_RULES. `source` names the setting or file in errors.
 */
export function loadRules(text: string | undefined, source: string): AnomalyRule[] {
  if (text === undefined || text.trim() === "") return DEFAULT_RULES.map((rule) => structuredClone(rule));
  const parsed = parseJsonSetting(text, source);
  try {
    return validateRules(parsed);
  } catch (error) {
    throw configurationError(`${source}: ${(error as Error).message}`, { cause: error });
  }
}

/** The rule's threshold value. */
export function thresholdOf(rule: AnomalyRule): number {
  return rule.thresholds[THRESHOLD_KEY[rule.kind]];
}

/** Union of the sensitive ports of all bruteForce rules: what aggregation must count. */
export function sensitivePortsOf(rules: readonly AnomalyRule[]): number[] {
  const ports = new Set<number>();
  for (const rule of rules) rule.ports?.forEach((port) => ports.add(port));
  return [...ports].sort((a, b) => a - b);
}

/** Parsed CIDRs of a scope (validated at load, so parsing cannot fail here). */
export function scopeCidrs(scope: RuleScope | undefined): Cidr[] | undefined {
  return scope?.cidrs?.map((text) => parseCidr(text) as Cidr);
}
